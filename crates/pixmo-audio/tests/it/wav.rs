//! A minimal WAV writer (RIFF `fmt ` + `data`), so tests can make any rate, width and length.

/// Sample encodings the writer supports.
#[derive(Clone, Copy)]
pub enum Encoding {
    Pcm16,
    Pcm24,
    Float32,
}

/// A WAV file of `frames` frames; `sample(frame, channel)` gives each sample in -1..=1
/// (integers are clamped, so values past full scale clip as a real recorder would).
pub fn wav(
    rate: u32,
    channels: u16,
    encoding: Encoding,
    frames: usize,
    sample: impl Fn(usize, usize) -> f64,
) -> Vec<u8> {
    let (format, bytes) = match encoding {
        Encoding::Pcm16 => (1u16, 2u16),
        Encoding::Pcm24 => (1, 3),
        Encoding::Float32 => (3, 4),
    };
    let mut data = Vec::with_capacity(frames * usize::from(channels * bytes));
    for frame in 0..frames {
        for channel in 0..usize::from(channels) {
            let x = sample(frame, channel);
            match encoding {
                Encoding::Pcm16 => {
                    let v = (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
                    data.extend_from_slice(&v.to_le_bytes());
                }
                Encoding::Pcm24 => {
                    let v = (x * 8_388_608.0).round().clamp(-8_388_608.0, 8_388_607.0) as i32;
                    data.extend_from_slice(&v.to_le_bytes()[..3]);
                }
                Encoding::Float32 => data.extend_from_slice(&(x as f32).to_le_bytes()),
            }
        }
    }
    let mut out = Vec::with_capacity(data.len() + 44);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&format.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(channels * bytes)).to_le_bytes());
    out.extend_from_slice(&(channels * bytes).to_le_bytes());
    out.extend_from_slice(&(bytes * 8).to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

/// `amplitude * sin(2 pi freq t)`.
pub fn sine(rate: u32, freq: f64, amplitude: f64) -> impl Fn(usize, usize) -> f64 {
    move |frame, _| {
        amplitude * (2.0 * std::f64::consts::PI * freq * frame as f64 / f64::from(rate)).sin()
    }
}

/// Amplitude of the `freq` Hz component of 16 kHz `samples` (one Goertzel bin).
pub fn tone_amplitude(samples: &[f32], freq: f64) -> f64 {
    let omega = 2.0 * std::f64::consts::PI * freq / 16_000.0;
    let (mut re, mut im) = (0.0, 0.0);
    for (i, &x) in samples.iter().enumerate() {
        re += f64::from(x) * (omega * i as f64).cos();
        im -= f64::from(x) * (omega * i as f64).sin();
    }
    2.0 * (re * re + im * im).sqrt() / samples.len() as f64
}

/// A committed fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}
