//! Audio for PixMo-Cap: one recording in, 16 kHz mono samples or a reason out.
//!
//! [`decode`] reads WAV, FLAC, MP3 and Ogg Vorbis with symphonia (pure Rust), downmixes every
//! channel to one, resamples to [`TARGET_SAMPLE_RATE`] with rubato's FFT resampler, and checks
//! the clip against [`AudioLimits`]. A clip that cannot be used is an [`AudioRejection`] with a
//! stable [`kind`](AudioRejection::kind) (`unreadable`, `empty`, `too_short`, `too_long`,
//! `silent`, `clipped`) and a message that says why, never a panic: corrupt, truncated or
//! foreign bytes are `unreadable`.
//!
//! Nothing is read without a bound: at most [`AudioLimits::max_bytes`] bytes of a file, and
//! decoding stops as soon as the clip passes [`AudioLimits::max_seconds`].
//!
//! ```no_run
//! let limits = pixmo_audio::AudioLimits::default();
//! let bytes = std::fs::read("clip.ogg").unwrap();
//! match pixmo_audio::decode(&bytes, Some("ogg"), &limits) {
//!     Ok(clip) => println!("{} s at 16 kHz, sha256 {}", clip.info.duration_seconds, clip.info.sha256),
//!     Err(rejection) => println!("{}: {rejection}", rejection.kind()),
//! }
//! ```

mod decode;
mod limits;
mod resample;

pub use decode::{AudioInfo, Clip, DECODER, decode, decode_file};
pub use limits::{AudioLimits, AudioRejection};
pub use resample::{RESAMPLER, resample_to_16k};

/// The sample rate every clip is resampled to (what whisper expects).
pub const TARGET_SAMPLE_RATE: u32 = 16_000;
