//! Decodes audio files and prints, per file, what came out and how fast (a JSON line each):
//! `cargo run --release -p pixmo-audio --example decode -- FILE...`.

fn main() {
    let limits = pixmo_audio::AudioLimits {
        max_seconds: 3_600.0,
        max_bytes: 1 << 30,
        ..pixmo_audio::AudioLimits::default()
    };
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) => {
                println!("{{\"file\": {path:?}, \"error\": {:?}}}", error.to_string());
                continue;
            }
        };
        let extension = path.rsplit('.').next();
        let start = std::time::Instant::now();
        let result = pixmo_audio::decode(&bytes, extension, &limits);
        let seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(clip) => println!(
                "{{\"file\": {path:?}, \"codec\": {:?}, \"rate\": {}, \"channels\": {}, \"audio_s\": {:.2}, \"decode_resample_s\": {seconds:.4}, \"x_realtime\": {:.0}}}",
                clip.info.codec,
                clip.info.source_sample_rate,
                clip.info.source_channels,
                clip.info.duration_seconds,
                clip.info.duration_seconds / seconds
            ),
            Err(rejection) => println!(
                "{{\"file\": {path:?}, \"rejected\": {:?}, \"reason\": {:?}}}",
                rejection.kind(),
                rejection.to_string()
            ),
        }
    }
}
