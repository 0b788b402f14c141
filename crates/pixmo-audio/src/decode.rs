//! Decoding with symphonia, downmixing, and the checks of [`AudioLimits`].

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

use crate::TARGET_SAMPLE_RATE;
use crate::limits::{AudioLimits, AudioRejection};
use crate::resample::{RESAMPLER, resample_to_16k};

/// The decoder, as recorded in provenance (version pinned in `Cargo.toml`).
pub const DECODER: &str = "symphonia 0.6.1";

/// Decoded tracks at rates outside this range are refused (no real recording uses them, and
/// odd rates make the FFT resampler's transforms large).
const RATES: std::ops::RangeInclusive<u32> = 4_000..=384_000;

/// A usable recording: 16 kHz mono samples and what was learnt on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Clip {
    /// Mono samples at [`TARGET_SAMPLE_RATE`], nominally in `-1.0..=1.0`.
    pub samples: Vec<f32>,
    /// Where they came from.
    pub info: AudioInfo,
}

/// Facts about a recording, for provenance and data cards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    /// SHA-256 of the file's bytes (hex).
    pub sha256: String,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Container, as symphonia names it (`wave`, `flac`, `mp3`, `ogg`).
    pub container: String,
    /// Codec, as symphonia names it (`pcm_s16le`, `flac`, `mp3`, `vorbis`).
    pub codec: String,
    /// Sample rate of the file.
    pub source_sample_rate: u32,
    /// Channels of the file (downmixed to one by averaging).
    pub source_channels: u32,
    /// Frames decoded from the file.
    pub source_frames: u64,
    /// Duration in seconds (`source_frames / source_sample_rate`).
    pub duration_seconds: f64,
    /// RMS level of the 16 kHz mono signal in dBFS.
    pub rms_dbfs: f64,
    /// Largest absolute sample value of the file, any channel.
    pub peak: f32,
    /// Fraction of the file's samples in clipped runs (see [`AudioLimits::CLIP_LEVEL`]).
    pub clipped_fraction: f64,
    /// [`DECODER`].
    pub decoder: String,
    /// [`RESAMPLER`], or `none` when the file was at 16 kHz already.
    pub resampler: String,
}

/// Reads the file at `path` (at most `limits.max_bytes`) and [`decode`]s it, with its
/// extension as the format hint.
///
/// # Errors
/// An [`AudioRejection`]; a file that cannot be opened or read is `unreadable`.
pub fn decode_file(path: &Path, limits: &AudioLimits) -> Result<Clip, AudioRejection> {
    let unreadable = |error: std::io::Error| {
        AudioRejection::unreadable(format!("cannot read `{}`: {error}", path.display()))
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(limits.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    let extension = path.extension().and_then(|extension| extension.to_str());
    decode(&bytes, extension, limits)
}

/// Decodes one recording: probes the container (`extension`, if given, is only a hint; the
/// bytes decide), decodes the first audio track, averages its channels, resamples to 16 kHz
/// and checks the result against `limits`.
///
/// # Errors
/// An [`AudioRejection`] saying why the clip cannot be used.
pub fn decode(
    bytes: &[u8],
    extension: Option<&str>,
    limits: &AudioLimits,
) -> Result<Clip, AudioRejection> {
    limits.validate().map_err(AudioRejection::unreadable)?;
    if bytes.len() as u64 > limits.max_bytes {
        return Err(AudioRejection::unreadable(format!(
            "the file is larger than `max_bytes` ({} bytes)",
            limits.max_bytes
        )));
    }
    if bytes.is_empty() {
        return Err(AudioRejection::unreadable("the file is empty (0 bytes)"));
    }
    let decoded = decode_mono(bytes, extension, limits)?;
    let rate = decoded.rate;
    let source_frames = decoded.mono.len() as u64;
    if source_frames == 0 {
        return Err(AudioRejection::Empty);
    }
    let duration_seconds = source_frames as f64 / f64::from(rate);
    if duration_seconds < limits.min_seconds {
        return Err(AudioRejection::TooShort {
            seconds: duration_seconds,
            min_seconds: limits.min_seconds,
        });
    }
    let samples = resample_to_16k(&decoded.mono, rate).map_err(AudioRejection::unreadable)?;
    let rms_dbfs = rms_dbfs(&samples);
    if rms_dbfs.is_nan() || rms_dbfs < limits.silence_dbfs {
        return Err(AudioRejection::Silent {
            rms_dbfs,
            threshold_dbfs: limits.silence_dbfs,
        });
    }
    let clipped_fraction = decoded.clipped_samples as f64 / decoded.total_samples as f64;
    if clipped_fraction > limits.max_clipped_fraction {
        return Err(AudioRejection::Clipped {
            fraction: clipped_fraction,
            max_fraction: limits.max_clipped_fraction,
        });
    }
    let info = AudioInfo {
        sha256: hex::encode(Sha256::digest(bytes)),
        bytes: bytes.len() as u64,
        container: decoded.container,
        codec: decoded.codec,
        source_sample_rate: rate,
        source_channels: decoded.channels,
        source_frames,
        duration_seconds,
        rms_dbfs,
        peak: decoded.peak,
        clipped_fraction,
        decoder: DECODER.to_string(),
        resampler: if rate == TARGET_SAMPLE_RATE {
            "none".to_string()
        } else {
            RESAMPLER.to_string()
        },
    };
    Ok(Clip { samples, info })
}

/// RMS level in dBFS (`-inf` for digital silence).
fn rms_dbfs(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return f64::NEG_INFINITY;
    }
    let power = samples.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / samples.len() as f64;
    10.0 * power.log10()
}

/// The file's first audio track, averaged to one channel at its own rate.
struct Decoded {
    mono: Vec<f32>,
    rate: u32,
    channels: u32,
    container: String,
    codec: String,
    peak: f32,
    clipped_samples: u64,
    total_samples: u64,
}

fn describe(error: &SymphoniaError) -> String {
    match error {
        SymphoniaError::IoError(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the data ends early (truncated)".to_string()
        }
        other => other.to_string(),
    }
}

fn decode_mono(
    bytes: &[u8],
    extension: Option<&str>,
    limits: &AudioLimits,
) -> Result<Decoded, AudioRejection> {
    let source = MediaSourceStream::new(
        Box::new(std::io::Cursor::new(bytes)),
        MediaSourceStreamOptions::default(),
    );
    let mut hint = Hint::new();
    if let Some(extension) = extension {
        hint.with_extension(extension);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|error| {
            AudioRejection::unreadable(format!(
                "not a WAV, FLAC, MP3 or Ogg Vorbis file ({})",
                describe(&error)
            ))
        })?;
    let container = format.format_info().short_name.to_string();
    let track = format.default_track(TrackType::Audio).ok_or_else(|| {
        AudioRejection::unreadable(format!("the {container} file has no audio track"))
    })?;
    let track_id = track.id;
    let declared_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|params| params.audio())
        .ok_or_else(|| {
            AudioRejection::unreadable(format!(
                "the {container} audio track has no codec parameters"
            ))
        })?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default().gapless(false))
        .map_err(|error| {
            AudioRejection::unreadable(format!(
                "unsupported codec in the {container} file ({})",
                describe(&error)
            ))
        })?;
    let codec = decoder.codec_info().short_name.to_string();

    let mut rate = params.sample_rate;
    let mut channels = params
        .channels
        .as_ref()
        .map(|channels| channels.count() as u32);
    let mut mono = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut runs: Vec<usize> = Vec::new();
    let mut peak = 0f32;
    let mut clipped_samples = 0u64;
    let mut total_samples = 0u64;
    let mut max_frames = u64::MAX;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(SymphoniaError::ResetRequired) => {
                return Err(AudioRejection::unreadable(format!(
                    "the {container} file chains several streams, which is not supported"
                )));
            }
            Err(error) => {
                return Err(AudioRejection::unreadable(format!(
                    "cannot read the {container} file after {:.2} s: {}",
                    mono.len() as f64 / f64::from(rate.unwrap_or(1)),
                    describe(&error)
                )));
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        let buffer = decoder.decode(&packet).map_err(|error| {
            AudioRejection::unreadable(format!(
                "corrupt {codec} data after {:.2} s: {}",
                mono.len() as f64 / f64::from(rate.unwrap_or(1)),
                describe(&error)
            ))
        })?;
        let spec = buffer.spec();
        let (buffer_rate, buffer_channels) = (spec.rate(), spec.channels().count() as u32);
        if *rate.get_or_insert(buffer_rate) != buffer_rate
            || *channels.get_or_insert(buffer_channels) != buffer_channels
        {
            return Err(AudioRejection::unreadable(format!(
                "the {codec} stream changes its format midway ({buffer_rate} Hz, {buffer_channels} channels)"
            )));
        }
        if !RATES.contains(&buffer_rate) || buffer_channels == 0 {
            return Err(AudioRejection::unreadable(format!(
                "unsupported format: {buffer_rate} Hz, {buffer_channels} channels"
            )));
        }
        if max_frames == u64::MAX {
            // Frames past this are never needed: the clip is too long.
            max_frames = (limits.max_seconds * f64::from(buffer_rate)).floor() as u64;
            runs = vec![0; buffer_channels as usize];
        }
        buffer.copy_to_vec_interleaved(&mut interleaved);
        let width = buffer_channels as usize;
        let scale = 1.0 / buffer_channels as f32;
        for frame in interleaved.chunks_exact(width) {
            let mut sum = 0f32;
            for (channel, &sample) in frame.iter().enumerate() {
                let sample = if sample.is_finite() { sample } else { 0.0 };
                sum += sample;
                let magnitude = sample.abs();
                peak = peak.max(magnitude);
                // Clipping: count a run's samples once it is CLIP_RUN long.
                if magnitude >= AudioLimits::CLIP_LEVEL {
                    runs[channel] += 1;
                    match runs[channel].cmp(&AudioLimits::CLIP_RUN) {
                        std::cmp::Ordering::Equal => {
                            clipped_samples += AudioLimits::CLIP_RUN as u64
                        }
                        std::cmp::Ordering::Greater => clipped_samples += 1,
                        std::cmp::Ordering::Less => {}
                    }
                } else {
                    runs[channel] = 0;
                }
            }
            mono.push(sum * scale);
        }
        total_samples += interleaved.len() as u64;
        if mono.len() as u64 > max_frames {
            return Err(AudioRejection::TooLong {
                max_seconds: limits.max_seconds,
            });
        }
    }
    // A container that declares its length exactly and delivered less was cut short.
    if let Some(declared) = declared_frames {
        let decoded = mono.len() as u64;
        if decoded + declared / 100 < declared {
            return Err(AudioRejection::unreadable(format!(
                "truncated: the {container} file declares {declared} frames, {decoded} could be decoded"
            )));
        }
    }
    // Ogg declares no length, but its last page carries the end-of-stream flag.
    if container == "ogg" && !ogg_ends_cleanly(bytes) {
        return Err(AudioRejection::unreadable(
            "truncated: the Ogg stream does not end with a complete end-of-stream page",
        ));
    }
    // MP3 may declare its length in a Xing/Info tag (symphonia estimates the length of
    // untagged files from their size, which a cut file shrinks too); without one, a cut
    // shows as a last frame whose header promises more bytes than the file has.
    if container == "mp3" {
        let actual = mp3_stream_bytes(bytes);
        if let Some(declared) = mp3_declared_bytes(bytes)
            && actual + declared / 100 < declared
        {
            return Err(AudioRejection::unreadable(format!(
                "truncated: the MP3 stream declares {declared} bytes, the file holds {actual}"
            )));
        }
        if let Some((at, length)) = mp3_cut_frame(bytes, actual) {
            return Err(AudioRejection::unreadable(format!(
                "truncated: the MP3 frame at byte {at} needs {length} bytes, the file ends first"
            )));
        }
    }
    if mono.is_empty() {
        return Err(AudioRejection::Empty);
    }
    let rate = rate.ok_or_else(|| {
        AudioRejection::unreadable(format!("the {container} file gives no sample rate"))
    })?;
    Ok(Decoded {
        mono,
        rate,
        channels: channels.unwrap_or(0),
        container,
        codec,
        peak,
        clipped_samples,
        total_samples,
    })
}

/// Whether `bytes` end with a complete Ogg page that has the end-of-stream flag (RFC 3533:
/// `OggS`, version, header type with bit 2 = end of stream, 20 bytes, segment count, lacing
/// values, then the segments).
fn ogg_ends_cleanly(bytes: &[u8]) -> bool {
    let Some(start) = bytes.windows(4).rposition(|window| window == b"OggS") else {
        return false;
    };
    let page = &bytes[start..];
    if page.len() < 27 || page[5] & 0x04 == 0 {
        return false;
    }
    let segments = usize::from(page[26]);
    let Some(lacing) = page.get(27..27 + segments) else {
        return false;
    };
    let body: usize = lacing.iter().map(|&length| usize::from(length)).sum();
    page.len() == 27 + segments + body
}

/// Length of a leading ID3v2 tag (header, syncsafe size, optional footer), 0 without one.
fn id3v2_length(bytes: &[u8]) -> usize {
    match bytes {
        [b'I', b'D', b'3', _, _, flags, size @ ..] if size.len() >= 4 => {
            let size = size[..4]
                .iter()
                .fold(0usize, |acc, &b| (acc << 7) | usize::from(b & 0x7f));
            10 + size + if flags & 0x10 != 0 { 10 } else { 0 }
        }
        _ => 0,
    }
}

/// Bytes of the MP3 stream: the file without its ID3v2 tag and trailing ID3v1 tag.
fn mp3_stream_bytes(bytes: &[u8]) -> u64 {
    let mut length = bytes.len().saturating_sub(id3v2_length(bytes));
    if bytes.len() >= 128 && bytes[bytes.len() - 128..].starts_with(b"TAG") {
        length = length.saturating_sub(128);
    }
    length as u64
}

/// The stream size in bytes that the first frame's Xing or Info tag declares, if it has one
/// with the bytes field (flags bit 1; the frames field, bit 0, comes first).
fn mp3_declared_bytes(bytes: &[u8]) -> Option<u64> {
    let start = id3v2_length(bytes);
    let frame = bytes.get(start..)?;
    let head = &frame[..frame.len().min(200)];
    let at = head
        .windows(4)
        .position(|window| window == b"Xing" || window == b"Info")?;
    let field = |offset: usize| -> Option<u32> {
        let b = head.get(at + offset..at + offset + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let flags = field(4)?;
    if flags & 0x2 == 0 {
        return None;
    }
    let offset = if flags & 0x1 != 0 { 12 } else { 8 };
    field(offset).map(u64::from)
}

/// The last MP3 frame, as `(offset, length)`, when its header promises more bytes than the
/// stream (`stream_bytes` from the start of the first frame) holds. Walking stops quietly at
/// anything that is not a frame header (a trailing tag, free-format bit rates).
fn mp3_cut_frame(bytes: &[u8], stream_bytes: u64) -> Option<(usize, usize)> {
    let start = id3v2_length(bytes);
    let end = start
        .saturating_add(usize::try_from(stream_bytes).ok()?)
        .min(bytes.len());
    let mut at = start;
    while at + 4 <= end {
        let length = mp3_frame_length(&bytes[at..at + 4])?;
        if at + length > end {
            return Some((at, length));
        }
        at += length;
    }
    None
}

/// Length in bytes of the MPEG audio frame whose 4-byte header is `header`.
fn mp3_frame_length(header: &[u8]) -> Option<usize> {
    const MPEG1: [[u32; 15]; 3] = [
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
    ];
    const MPEG2: [[u32; 15]; 2] = [
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ];
    if header[0] != 0xFF || header[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (header[1] >> 3) & 3; // 0: 2.5, 2: 2, 3: 1
    let layer = (header[1] >> 1) & 3; // 1: III, 2: II, 3: I
    let bitrate_index = usize::from(header[2] >> 4);
    let rate_index = usize::from((header[2] >> 2) & 3);
    let padding = u32::from((header[2] >> 1) & 1);
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    let layer_row = usize::from(3 - layer); // 0: I, 1: II, 2: III
    let kbps = if version == 3 {
        MPEG1[layer_row][bitrate_index]
    } else {
        MPEG2[usize::from(layer_row > 0)][bitrate_index]
    };
    let rate = [44_100, 48_000, 32_000][rate_index]
        >> match version {
            3 => 0,
            2 => 1,
            _ => 2,
        };
    let bits_per_second = kbps * 1000;
    let length = match (layer_row, version) {
        (0, _) => (12 * bits_per_second / rate + padding) * 4,
        (2, 0 | 2) => 72 * bits_per_second / rate + padding,
        _ => 144 * bits_per_second / rate + padding,
    };
    usize::try_from(length).ok()
}
