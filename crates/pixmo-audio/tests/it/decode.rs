//! Every supported format decodes to 16 kHz mono with its content intact.

use pixmo_audio::{AudioLimits, Clip, RESAMPLER, decode, decode_file};

use crate::wav::{Encoding, fixture, sine, tone_amplitude, wav};

/// The tone fixtures last 0.5 s.
fn short_ok() -> AudioLimits {
    AudioLimits {
        min_seconds: 0.1,
        ..AudioLimits::default()
    }
}

fn decoded(name: &str) -> Clip {
    let extension = name.rsplit('.').next();
    decode(&fixture(name), extension, &short_ok()).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// The central part of a clip, away from encoder and resampler edges.
fn middle(clip: &Clip) -> &[f32] {
    let n = clip.samples.len();
    &clip.samples[n / 5..n - n / 5]
}

#[test]
fn mp3_and_vorbis_tones_keep_pitch_and_level() {
    // `peak`: the largest sample SoX (libmad, libvorbis) decodes from the same file
    // (`sox FILE -n stat`), an independent decoder's reading.
    for (name, container, codec, peak) in [
        ("tone440_48k.mp3", "mp3", "mp3", 0.488_526),
        ("tone440_48k.ogg", "ogg", "vorbis", 0.531_860),
    ] {
        let clip = decoded(name);
        let info = &clip.info;
        assert_eq!(
            (info.container.as_str(), info.codec.as_str()),
            (container, codec),
            "{name}"
        );
        assert_eq!(
            (info.source_sample_rate, info.source_channels),
            (48_000, 1),
            "{name}"
        );
        assert_eq!(info.resampler, RESAMPLER);
        // SoX asked for 0.5 s; an MP3 decoder's output is off by up to a few 1152-sample
        // frames at the edges (encoder delay, padding, the bit reservoir's first frames).
        assert!(
            (0.45..0.56).contains(&info.duration_seconds),
            "{name}: {}",
            info.duration_seconds
        );
        let expected_len = (info.source_frames * 16_000).div_ceil(48_000) as usize;
        assert!(clip.samples.len().abs_diff(expected_len) <= 1, "{name}");
        assert!(
            (info.peak - peak).abs() < 0.005,
            "{name}: peak {} vs {peak}",
            info.peak
        );
        // `gain -6` on a full-scale sine: amplitude 0.501, give or take the lossy codec.
        let at_440 = tone_amplitude(middle(&clip), 440.0);
        assert!((at_440 - 0.501).abs() < 0.035, "{name}: {at_440}");
        assert!(tone_amplitude(middle(&clip), 1_000.0) < 0.01, "{name}");
    }
}

#[test]
fn stereo_flac_is_averaged_to_one_channel() {
    let clip = decoded("tones_stereo_11k.flac");
    let info = &clip.info;
    assert_eq!(
        (info.container.as_str(), info.codec.as_str()),
        ("flac", "flac")
    );
    assert_eq!(
        (
            info.source_sample_rate,
            info.source_channels,
            info.source_frames
        ),
        (11_025, 2, 5_512)
    );
    // 440 Hz in the left channel, 1 kHz in the right, each at 0.501: half of each remains.
    for freq in [440.0, 1_000.0] {
        let amplitude = tone_amplitude(middle(&clip), freq);
        assert!((amplitude - 0.2505).abs() < 0.01, "{freq} Hz: {amplitude}");
    }
    assert!(tone_amplitude(middle(&clip), 700.0) < 0.01);
}

#[test]
fn wav_encodings_rates_and_channel_counts() {
    for (rate, channels, encoding) in [
        (16_000, 1, Encoding::Pcm16),
        (44_100, 2, Encoding::Pcm16),
        (48_000, 1, Encoding::Pcm24),
        (22_050, 2, Encoding::Float32),
        (8_000, 6, Encoding::Pcm16),
    ] {
        let frames = rate as usize * 3 / 2;
        let bytes = wav(rate, channels, encoding, frames, sine(rate, 300.0, 0.4));
        let clip = decode(&bytes, Some("wav"), &AudioLimits::default()).unwrap();
        let info = &clip.info;
        assert_eq!(info.container, "wave");
        assert_eq!(
            (info.source_sample_rate, info.source_channels),
            (rate, u32::from(channels))
        );
        assert_eq!(info.source_frames, frames as u64);
        assert!((info.duration_seconds - 1.5).abs() < 1e-9);
        assert_eq!(clip.samples.len(), 24_000, "{rate} Hz");
        let amplitude = tone_amplitude(middle(&clip), 300.0);
        assert!(
            (amplitude - 0.4).abs() < 0.005,
            "{rate} Hz x{channels}: {amplitude}"
        );
        // A -8 dBFS sine has an RMS level of 20 log10(0.4 / sqrt 2) = -11.0 dBFS.
        assert!((info.rms_dbfs + 11.0).abs() < 0.2, "{}", info.rms_dbfs);
        assert_eq!(info.clipped_fraction, 0.0);
        assert!((info.peak - 0.4).abs() < 0.001);
        let expected_resampler = if rate == 16_000 { "none" } else { RESAMPLER };
        assert_eq!(info.resampler, expected_resampler);
        assert_eq!(info.bytes, bytes.len() as u64);
        assert_eq!(info.sha256.len(), 64);
    }
}

#[test]
fn speech_decodes_at_its_length_and_level() {
    for (name, seconds) in [
        ("speech_dog.ogg", 3.78),
        ("speech_park.mp3", 4.42),
        ("speech_kitchen.ogg", 4.02),
    ] {
        let clip = decoded(name);
        assert_eq!(clip.info.source_sample_rate, 22_050, "{name}");
        assert!(
            (clip.info.duration_seconds - seconds).abs() < 0.06,
            "{name}: {}",
            clip.info.duration_seconds
        );
        assert!(
            (-30.0..-10.0).contains(&clip.info.rms_dbfs),
            "{name}: {}",
            clip.info.rms_dbfs
        );
        assert!(clip.info.clipped_fraction < 0.001, "{name}");
    }
}

#[test]
fn the_bytes_decide_the_format_not_the_extension() {
    let ogg = fixture("tone440_48k.ogg");
    let clip = decode(&ogg, Some("mp3"), &short_ok()).unwrap();
    assert_eq!(clip.info.codec, "vorbis");
    let clip = decode(&ogg, None, &short_ok()).unwrap();
    assert_eq!(clip.info.codec, "vorbis");
}

#[test]
fn decoding_is_deterministic_and_files_decode_like_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("speech.ogg");
    std::fs::write(&path, fixture("speech_dog.ogg")).unwrap();
    let from_file = decode_file(&path, &AudioLimits::default()).unwrap();
    let from_bytes = decode(
        &fixture("speech_dog.ogg"),
        Some("ogg"),
        &AudioLimits::default(),
    )
    .unwrap();
    assert_eq!(from_file, from_bytes);
    let again = decode(
        &fixture("speech_dog.ogg"),
        Some("ogg"),
        &AudioLimits::default(),
    )
    .unwrap();
    assert_eq!(again.samples, from_bytes.samples);
}
