//! What makes a clip usable, and the reasons one is not.

use serde::{Deserialize, Serialize};

/// The checks every clip passes. Deserialises from a stage config (`deny_unknown_fields`; a
/// missing field takes its default).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AudioLimits {
    /// Shortest clip accepted, in seconds (PixMo's spoken descriptions run 60–90 s).
    pub min_seconds: f64,
    /// Longest clip accepted, in seconds; decoding stops as soon as a clip passes it.
    pub max_seconds: f64,
    /// Largest file read, in bytes.
    pub max_bytes: u64,
    /// A clip whose RMS level after downmixing is below this many dBFS is silent.
    pub silence_dbfs: f64,
    /// A clip is clipped when more than this fraction of its samples lie in runs of
    /// [`CLIP_RUN`](Self::CLIP_RUN) or more consecutive samples at or above
    /// [`CLIP_LEVEL`](Self::CLIP_LEVEL) of full scale (in any channel).
    pub max_clipped_fraction: f64,
}

impl AudioLimits {
    /// Magnitude, relative to full scale, at which a sample counts as clipped.
    pub const CLIP_LEVEL: f32 = 0.99;
    /// Consecutive samples at [`CLIP_LEVEL`](Self::CLIP_LEVEL) that make a clipped run (a
    /// single loud peak is not clipping; a flattened top is).
    pub const CLIP_RUN: usize = 3;

    /// Checks that the limits make sense.
    ///
    /// # Errors
    /// A message naming the bad field.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.min_seconds.is_finite() && self.min_seconds >= 0.0) {
            return Err(format!(
                "`min_seconds` must be a number >= 0, not {}",
                self.min_seconds
            ));
        }
        if !(self.max_seconds.is_finite() && self.max_seconds > self.min_seconds) {
            return Err(format!(
                "`max_seconds` ({}) must be finite and above `min_seconds` ({})",
                self.max_seconds, self.min_seconds
            ));
        }
        if self.max_seconds > 4.0 * 3600.0 {
            return Err(format!(
                "`max_seconds` ({}) is above 4 hours; split such recordings",
                self.max_seconds
            ));
        }
        if self.max_bytes == 0 {
            return Err("`max_bytes` must be above 0".into());
        }
        if !(self.silence_dbfs.is_finite() && self.silence_dbfs <= 0.0) {
            return Err(format!(
                "`silence_dbfs` must be a level <= 0 dBFS, not {}",
                self.silence_dbfs
            ));
        }
        if !(0.0..=1.0).contains(&self.max_clipped_fraction) {
            return Err(format!(
                "`max_clipped_fraction` must lie in 0..=1, not {}",
                self.max_clipped_fraction
            ));
        }
        Ok(())
    }
}

impl Default for AudioLimits {
    fn default() -> Self {
        Self {
            min_seconds: 1.0,
            max_seconds: 300.0,
            max_bytes: 256 << 20,
            silence_dbfs: -50.0,
            max_clipped_fraction: 0.001,
        }
    }
}

/// Why a clip was not used. [`kind`](Self::kind) is the rejection kind recorded in the
/// rejects table; the message says why.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AudioRejection {
    /// Not audio this crate decodes: unknown or wrong container, unsupported codec, corrupt
    /// or truncated data, a file over `max_bytes`.
    #[error("Unreadable audio: {reason}")]
    Unreadable {
        /// What failed.
        reason: String,
    },
    /// A readable file that holds no samples.
    #[error("The recording holds no audio samples")]
    Empty,
    /// Shorter than [`AudioLimits::min_seconds`].
    #[error("The recording lasts {seconds:.2} s, shorter than the minimum of {min_seconds} s")]
    TooShort {
        /// Its duration.
        seconds: f64,
        /// The limit.
        min_seconds: f64,
    },
    /// Longer than [`AudioLimits::max_seconds`] (decoding stopped there).
    #[error("The recording lasts more than {max_seconds} s (the maximum); decoding stopped there")]
    TooLong {
        /// The limit.
        max_seconds: f64,
    },
    /// Quieter than [`AudioLimits::silence_dbfs`].
    #[error("The recording is silent: RMS level {rms_dbfs:.1} dBFS, below {threshold_dbfs} dBFS")]
    Silent {
        /// Its RMS level (`-inf` for digital silence).
        rms_dbfs: f64,
        /// The limit.
        threshold_dbfs: f64,
    },
    /// More clipped samples than [`AudioLimits::max_clipped_fraction`] allows.
    #[error(
        "The recording is clipped: {:.3} % of its samples sit at full scale in runs, above the limit of {:.3} %",
        fraction * 100.0,
        max_fraction * 100.0
    )]
    Clipped {
        /// Fraction of samples in clipped runs.
        fraction: f64,
        /// The limit.
        max_fraction: f64,
    },
}

impl AudioRejection {
    /// The stable rejection kind: `unreadable`, `empty`, `too_short`, `too_long`, `silent` or
    /// `clipped`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unreadable { .. } => "unreadable",
            Self::Empty => "empty",
            Self::TooShort { .. } => "too_short",
            Self::TooLong { .. } => "too_long",
            Self::Silent { .. } => "silent",
            Self::Clipped { .. } => "clipped",
        }
    }

    pub(crate) fn unreadable(reason: impl Into<String>) -> Self {
        Self::Unreadable {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_values_are_named() {
        assert_eq!(AudioLimits::default().validate(), Ok(()));
        let bad = |edit: fn(&mut AudioLimits)| {
            let mut limits = AudioLimits::default();
            edit(&mut limits);
            limits.validate().unwrap_err()
        };
        assert!(bad(|l| l.min_seconds = -1.0).contains("`min_seconds`"));
        assert!(bad(|l| l.max_seconds = 0.5).contains("`max_seconds`"));
        assert!(bad(|l| l.max_seconds = f64::NAN).contains("`max_seconds`"));
        assert!(bad(|l| l.max_seconds = 1e9).contains("4 hours"));
        assert!(bad(|l| l.max_bytes = 0).contains("`max_bytes`"));
        assert!(bad(|l| l.silence_dbfs = 3.0).contains("`silence_dbfs`"));
        assert!(bad(|l| l.max_clipped_fraction = 2.0).contains("`max_clipped_fraction`"));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let error = serde_json::from_str::<AudioLimits>(r#"{"max_secs": 3}"#).unwrap_err();
        assert!(
            error.to_string().contains("unknown field `max_secs`"),
            "{error}"
        );
        let limits: AudioLimits = serde_json::from_str(r#"{"max_seconds": 90}"#).unwrap();
        assert_eq!(limits.max_seconds, 90.0);
        assert_eq!(limits.min_seconds, 1.0);
    }
}
