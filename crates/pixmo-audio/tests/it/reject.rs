//! Every way a recording can be unusable is a rejection with its kind and reason.

use pixmo_audio::{AudioLimits, AudioRejection, decode, decode_file};

use crate::wav::{Encoding, fixture, sine, wav};

fn rejected(bytes: &[u8], extension: Option<&str>, limits: &AudioLimits) -> AudioRejection {
    match decode(bytes, extension, limits) {
        Ok(clip) => panic!("accepted: {:?}", clip.info),
        Err(rejection) => rejection,
    }
}

fn default_rejection(bytes: &[u8]) -> AudioRejection {
    rejected(bytes, Some("wav"), &AudioLimits::default())
}

#[test]
fn silence_and_near_silence_are_silent() {
    let zeros = wav(16_000, 1, Encoding::Pcm16, 32_000, |_, _| 0.0);
    let rejection = default_rejection(&zeros);
    assert_eq!(rejection.kind(), "silent");
    assert_eq!(
        rejection.to_string(),
        "The recording is silent: RMS level -inf dBFS, below -50 dBFS"
    );
    // A -60 dBFS hum is silence too; at -40 dBFS it is a (quiet) recording.
    let hum = wav(
        16_000,
        1,
        Encoding::Pcm16,
        32_000,
        sine(16_000, 100.0, 0.001 * 2f64.sqrt()),
    );
    assert!(
        matches!(default_rejection(&hum), AudioRejection::Silent { rms_dbfs, .. } if (rms_dbfs + 60.0).abs() < 0.5)
    );
    let quiet = wav(
        16_000,
        1,
        Encoding::Pcm16,
        32_000,
        sine(16_000, 100.0, 0.01 * 2f64.sqrt()),
    );
    assert!(decode(&quiet, None, &AudioLimits::default()).is_ok());
}

#[test]
fn hard_clipping_is_clipped_and_loud_clean_audio_is_not() {
    // A sine driven to 3x full scale: its tops are flattened at the converter's limit.
    let clipped = wav(44_100, 2, Encoding::Pcm16, 88_200, sine(44_100, 200.0, 3.0));
    match default_rejection(&clipped) {
        AudioRejection::Clipped {
            fraction,
            max_fraction,
        } => {
            assert!(fraction > 0.5, "{fraction}");
            assert_eq!(max_fraction, 0.001);
        }
        other => panic!("{other:?}"),
    }
    // The same in 24-bit and in float files.
    for encoding in [Encoding::Pcm24, Encoding::Float32] {
        let bytes = wav(48_000, 1, encoding, 96_000, |frame, _| {
            (2.0 * (2.0 * std::f64::consts::PI * 150.0 * frame as f64 / 48_000.0).sin())
                .clamp(-1.0, 1.0)
        });
        assert_eq!(default_rejection(&bytes).kind(), "clipped");
    }
    // Loud but clean: peaks at 0.95, and one isolated full-scale click.
    let loud = wav(44_100, 1, Encoding::Pcm16, 88_200, |frame, channel| {
        if frame == 1_000 {
            1.0
        } else {
            sine(44_100, 200.0, 0.95)(frame, channel)
        }
    });
    let clip = decode(&loud, None, &AudioLimits::default()).unwrap();
    assert_eq!(clip.info.clipped_fraction, 0.0);
    assert!(clip.info.peak > 0.999);
}

#[test]
fn durations_outside_the_limits_are_too_short_or_too_long() {
    let half_second = wav(16_000, 1, Encoding::Pcm16, 8_000, sine(16_000, 300.0, 0.3));
    let rejection = default_rejection(&half_second);
    assert_eq!(rejection.kind(), "too_short");
    assert_eq!(
        rejection.to_string(),
        "The recording lasts 0.50 s, shorter than the minimum of 1 s"
    );
    // Ten minutes, where five are allowed: decoding stops at the limit.
    let ten_minutes = wav(
        8_000,
        1,
        Encoding::Pcm16,
        8_000 * 600,
        sine(8_000, 300.0, 0.3),
    );
    let rejection = default_rejection(&ten_minutes);
    assert_eq!(rejection.kind(), "too_long");
    assert_eq!(
        rejection.to_string(),
        "The recording lasts more than 300 s (the maximum); decoding stopped there"
    );
    // The limits are configurable.
    let limits = AudioLimits {
        min_seconds: 0.25,
        max_seconds: 0.4,
        ..AudioLimits::default()
    };
    assert_eq!(rejected(&half_second, None, &limits).kind(), "too_long");
    let limits = AudioLimits {
        min_seconds: 0.25,
        ..AudioLimits::default()
    };
    assert!(decode(&half_second, None, &limits).is_ok());
}

#[test]
fn a_file_without_samples_is_empty() {
    let empty = wav(16_000, 1, Encoding::Pcm16, 0, |_, _| 0.0);
    let rejection = default_rejection(&empty);
    assert_eq!(rejection, AudioRejection::Empty);
    assert_eq!(rejection.kind(), "empty");
}

#[test]
fn foreign_and_garbage_bytes_are_unreadable() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let mut noise = vec![0u8; 50_000];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for byte in &mut noise {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    for (what, bytes) in [
        ("no bytes", &b""[..]),
        ("a PNG", &png[..]),
        (
            "text",
            &b"This is not audio, just a text file named clip.wav\n"[..],
        ),
        ("random bytes", &noise[..]),
    ] {
        let rejection = default_rejection(bytes);
        assert_eq!(rejection.kind(), "unreadable", "{what}: {rejection}");
    }
    assert_eq!(
        default_rejection(b"").to_string(),
        "Unreadable audio: the file is empty (0 bytes)"
    );
    assert!(
        default_rejection(png)
            .to_string()
            .starts_with("Unreadable audio: not a WAV, FLAC, MP3 or Ogg Vorbis file")
    );
}

#[test]
fn truncated_files_are_unreadable() {
    let tone = wav(16_000, 1, Encoding::Pcm16, 48_000, sine(16_000, 300.0, 0.3));
    let limits = AudioLimits {
        min_seconds: 0.1,
        ..AudioLimits::default()
    };
    let mut cases = vec![("wav".to_string(), tone)];
    for name in [
        "tones_stereo_11k.flac",
        "speech_park.mp3",
        "speech_dog.ogg",
        "speech_kitchen.ogg",
    ] {
        cases.push((name.to_string(), fixture(name)));
    }
    for (name, bytes) in cases {
        for keep in [0.3, 0.5, 0.9] {
            let cut = &bytes[..(bytes.len() as f64 * keep) as usize];
            let extension = name.rsplit('.').next();
            let rejection = rejected(cut, extension, &limits);
            assert_eq!(
                rejection.kind(),
                "unreadable",
                "{name} cut at {keep}: {rejection}"
            );
            assert!(
                rejection.to_string().contains("truncated"),
                "{name} cut at {keep}: {rejection}"
            );
        }
    }
}

#[test]
fn corrupt_data_is_a_rejection_not_a_panic() {
    // Overwrite a stretch in the middle of each compressed fixture with garbage.
    for name in [
        "tones_stereo_11k.flac",
        "speech_park.mp3",
        "speech_dog.ogg",
        "tone440_48k.mp3",
    ] {
        let mut bytes = fixture(name);
        let at = bytes.len() / 2;
        for (i, byte) in bytes[at..at + 200].iter_mut().enumerate() {
            *byte = (i as u8).wrapping_mul(37) ^ 0x5a;
        }
        let extension = name.rsplit('.').next();
        let limits = AudioLimits {
            min_seconds: 0.1,
            ..AudioLimits::default()
        };
        if let Err(rejection) = decode(&bytes, extension, &limits) {
            assert_eq!(rejection.kind(), "unreadable", "{name}: {rejection}");
        }
    }
}

#[test]
fn files_over_max_bytes_are_refused_unread() {
    let tone = wav(16_000, 1, Encoding::Pcm16, 32_000, sine(16_000, 300.0, 0.3));
    let limits = AudioLimits {
        max_bytes: tone.len() as u64 - 1,
        ..AudioLimits::default()
    };
    let rejection = rejected(&tone, None, &limits);
    assert_eq!(rejection.kind(), "unreadable");
    assert!(
        rejection.to_string().contains("larger than `max_bytes`"),
        "{rejection}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.wav");
    std::fs::write(&path, &tone).unwrap();
    assert_eq!(
        decode_file(&path, &limits).unwrap_err().kind(),
        "unreadable"
    );
    let missing = decode_file(&dir.path().join("missing.wav"), &limits).unwrap_err();
    assert!(missing.to_string().contains("cannot read"), "{missing}");
    limits.validate().unwrap();
    let exact = AudioLimits {
        max_bytes: tone.len() as u64,
        ..AudioLimits::default()
    };
    assert!(decode_file(&path, &exact).is_ok());
}
