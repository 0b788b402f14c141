//! The 80 mel filters whisper.cpp reads from the model file.
//!
//! Whisper's `mel_filters.npz` is `librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)`:
//! Slaney's mel scale (linear below 1 kHz, logarithmic above) and Slaney's area
//! normalisation, stored as `f32`. This recomputes it the way librosa does (f64 arithmetic,
//! weights rounded to f32 before the normalisation is applied, as librosa's in-place product
//! does), with `libm` so that the bytes, and so the converted file's pinned SHA-256, are the
//! same on every machine.

/// Sample rate whisper works at.
const SAMPLE_RATE: f64 = 16_000.0;
/// Whisper's FFT size (25 ms at 16 kHz).
pub const N_FFT: usize = 400;
/// Frequency bins of one FFT frame.
pub const N_BINS: usize = N_FFT / 2 + 1;

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1_000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    libm::log(6.4) / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + libm::log(hz / MIN_LOG_HZ) / log_step()
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * libm::exp(log_step() * (mel - MIN_LOG_MEL))
    } else {
        F_SP * mel
    }
}

/// numpy's `linspace(start, stop, num)` (endpoint included, last value exact).
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let step = (stop - start) / (num - 1) as f64;
    (0..num)
        .map(|i| {
            if i == num - 1 {
                stop
            } else {
                start + i as f64 * step
            }
        })
        .collect()
}

/// `n_mels` filters of [`N_BINS`] weights each, row-major (`filters[m * N_BINS + k]`).
#[must_use]
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    // numpy's `rfftfreq(n_fft, 1 / sr)`: k / (n_fft * (1 / sr)).
    let bin_width = 1.0 / (N_FFT as f64 * (1.0 / SAMPLE_RATE));
    let fft_freqs: Vec<f64> = (0..N_BINS).map(|k| k as f64 * bin_width).collect();
    let mel_points = linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2.0), n_mels + 2);
    let hz: Vec<f64> = mel_points.into_iter().map(mel_to_hz).collect();
    let mut filters = vec![0f32; n_mels * N_BINS];
    for m in 0..n_mels {
        let (lower_width, upper_width) = (hz[m + 1] - hz[m], hz[m + 2] - hz[m + 1]);
        let norm = 2.0 / (hz[m + 2] - hz[m]);
        for (k, &freq) in fft_freqs.iter().enumerate() {
            let lower = -(hz[m] - freq) / lower_width;
            let upper = (hz[m + 2] - freq) / upper_width;
            let weight = f64::from(0f64.max(lower.min(upper)) as f32);
            filters[m * N_BINS + k] = (weight * norm) as f32;
        }
    }
    filters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_triangles_with_slaney_areas() {
        let filters = mel_filters(80);
        assert_eq!(filters.len(), 80 * 201);
        for m in 0..80 {
            let row = &filters[m * N_BINS..(m + 1) * N_BINS];
            assert!(row.iter().all(|w| *w >= 0.0));
            // One rise and one fall: non-zero weights form a single run.
            let nonzero: Vec<usize> = (0..N_BINS).filter(|&k| row[k] > 0.0).collect();
            assert!(!nonzero.is_empty(), "filter {m} is empty");
            assert_eq!(nonzero.len(), nonzero[nonzero.len() - 1] - nonzero[0] + 1);
        }
        // Values of `mel_80` in whisper's `assets/mel_filters.npz` (PyPI openai-whisper
        // 20250625), spot-checked across the linear and the logarithmic part.
        let expected = [
            (0, 1, 0.024_862_595),
            (1, 2, 0.022_871_772),
            (1, 3, 0.0),
            (10, 10, 0.019_908_218),
            (10, 11, 0.004_954_375),
            (40, 41, 0.0),
            (40, 43, 0.014_735_566),
            (60, 93, 0.006_591_093),
            (60, 96, 0.000_797_849_15),
            (79, 199, 0.000_448_759),
            (79, 200, 0.0),
        ];
        for (m, k, value) in expected {
            let got = filters[m * N_BINS + k];
            assert!(
                (got - value).abs() < 1e-8,
                "filter {m} bin {k}: {got} vs {value}"
            );
        }
    }

    #[test]
    fn the_mel_scale_is_linear_then_logarithmic() {
        assert!((hz_to_mel(1_000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        for hz in [0.0, 300.0, 999.0, 1_000.0, 4_000.0, 8_000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9, "{hz}");
        }
    }
}
