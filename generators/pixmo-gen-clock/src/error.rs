//! Render errors. Bad inputs are the caller's mistake; an SVG parse failure is a bug here.

use crate::time::ClockTime;

/// Why a render failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("Image size `{size}` is out of range ({min}..={max})", min = crate::MIN_SIZE, max = crate::MAX_SIZE)]
    InvalidSize { size: u32 },
    #[error("Invalid time `{time}` (hour 0..=23, minute and second 0..=59)")]
    InvalidTime { time: ClockTime },
    #[error("Invalid face spec: {reason}")]
    InvalidFace { reason: String },
    #[error("Invalid scene spec: {reason}")]
    InvalidScene { reason: String },
    #[error("Failed to parse the generated SVG: {message} (likely a bug in pixmo-gen-clock)")]
    Svg { message: String },
}
