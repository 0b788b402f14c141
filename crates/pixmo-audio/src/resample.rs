//! Resampling to 16 kHz with rubato's synchronous FFT resampler.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::TARGET_SAMPLE_RATE;

/// The resampler, as recorded in provenance (version pinned in `Cargo.toml`).
pub const RESAMPLER: &str = "rubato 5.1.0 Fft (BlackmanHarris2 window, 1024-frame chunks)";

/// Frames per chunk of the FFT resampler.
const CHUNK: usize = 1024;

/// Resamples mono `samples` at `rate` Hz to [`TARGET_SAMPLE_RATE`]. The resampler's delay is
/// trimmed, so sample `i` of the output is at time `i / 16000` s of the input; the output
/// has `ceil(len * 16000 / rate)` samples. At 16 kHz already, the samples are returned as
/// they are.
///
/// # Errors
/// A message when rubato refuses the rate (0 Hz) or fails; the caller turns it into an
/// `unreadable` rejection.
pub fn resample_to_16k(samples: &[f32], rate: u32) -> Result<Vec<f32>, String> {
    if rate == TARGET_SAMPLE_RATE || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let mut resampler = Fft::<f32>::new(
        rate as usize,
        TARGET_SAMPLE_RATE as usize,
        CHUNK,
        1,
        FixedSync::Both,
    )
    .map_err(|error| format!("cannot resample from {rate} Hz: {error}"))?;
    let input = InterleavedSlice::new(samples, 1, samples.len())
        .map_err(|error| format!("cannot wrap {} samples: {error}", samples.len()))?;
    let output = resampler
        .process_all(&input, samples.len(), None)
        .map_err(|error| format!("resampling from {rate} Hz failed: {error}"))?;
    Ok(output.take_data())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Amplitude of the `freq` Hz component of `samples` at `rate` (one Goertzel bin).
    pub(crate) fn tone_amplitude(samples: &[f32], rate: u32, freq: f64) -> f64 {
        let omega = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &x) in samples.iter().enumerate() {
            let phase = omega * i as f64;
            re += f64::from(x) * phase.cos();
            im -= f64::from(x) * phase.sin();
        }
        2.0 * (re * re + im * im).sqrt() / samples.len() as f64
    }

    fn tone(rate: u32, freq: f64, seconds: f64) -> Vec<f32> {
        let n = (f64::from(rate) * seconds) as usize;
        (0..n)
            .map(|i| {
                (0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                    as f32
            })
            .collect()
    }

    #[test]
    fn tones_keep_their_frequency_length_and_level() {
        for rate in [8_000, 11_025, 22_050, 44_100, 48_000] {
            let input = tone(rate, 440.0, 1.0);
            let output = resample_to_16k(&input, rate).unwrap();
            let expected = (input.len() as u64 * 16_000).div_ceil(u64::from(rate));
            assert!(
                output.len().abs_diff(expected as usize) <= 1,
                "{rate} Hz: {} samples, expected {expected}",
                output.len()
            );
            // Away from the edges, the 440 Hz tone is there at its level and nothing else is.
            let middle = &output[1_600..14_400];
            let at_440 = tone_amplitude(middle, 16_000, 440.0);
            let at_1000 = tone_amplitude(middle, 16_000, 1_000.0);
            assert!((at_440 - 0.5).abs() < 0.01, "{rate} Hz: {at_440}");
            assert!(at_1000 < 0.005, "{rate} Hz: {at_1000}");
        }
    }

    #[test]
    fn content_above_8_khz_is_removed_not_aliased() {
        // 10 kHz cannot exist at 16 kHz; aliasing would fold it to 6 kHz.
        let output = resample_to_16k(&tone(44_100, 10_000.0, 1.0), 44_100).unwrap();
        let middle = &output[1_600..14_400];
        assert!(tone_amplitude(middle, 16_000, 6_000.0) < 0.005);
        let rms = (middle.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / middle.len() as f64)
            .sqrt();
        assert!(rms < 0.01, "{rms}");
    }

    #[test]
    fn sixteen_khz_is_passed_through_and_zero_hz_is_an_error() {
        let input = tone(16_000, 300.0, 0.1);
        assert_eq!(resample_to_16k(&input, 16_000).unwrap(), input);
        assert!(resample_to_16k(&input, 0).unwrap_err().contains("0 Hz"));
    }
}
