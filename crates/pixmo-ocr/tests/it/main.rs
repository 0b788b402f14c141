//! pixmo-ocr against the real tesseract (Debian `tesseract-ocr` + `tesseract-ocr-eng`,
//! installed by `crates/pixmo-ocr/ci-setup.sh`): text rendered in the test with resvg and the
//! clock generator's bundled Liberation Sans, whose ink boxes are measured from the pixels.
//! Skipped with a message when tesseract is absent, failed when `CI` is set.

use std::sync::{Arc, OnceLock};

use pixmo_ocr::{BoundingBox, Error, OcrEngine, Tesseract, TesseractConfig, character_error_rate};

const FONT: &[u8] =
    include_bytes!("../../../../generators/pixmo-gen-clock/fonts/LiberationSans-Regular.ttf");

/// The engine, or `None` (with a printed reason) when tesseract is not installed.
fn engine() -> Option<Tesseract> {
    match Tesseract::new(TesseractConfig::default()) {
        Ok(engine) => Some(engine),
        Err(error @ (Error::NotInstalled { .. } | Error::LanguageMissing { .. })) => {
            if std::env::var_os("CI").is_some() {
                panic!("{error} (required when `CI` is set)");
            }
            eprintln!("skipping: {error}");
            None
        }
        Err(error) => panic!("{error}"),
    }
}

fn options() -> &'static resvg::usvg::Options<'static> {
    static OPTIONS: OnceLock<resvg::usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        resvg::usvg::Options {
            font_family: "Liberation Sans".to_owned(),
            fontdb: Arc::new(db),
            ..resvg::usvg::Options::default()
        }
    })
}

/// A word drawn at a position: (text, x, baseline y, font size).
type Placed = (&'static str, u32, u32, u32);

const WIDTH: u32 = 900;
const HEIGHT: u32 = 320;

fn svg_sized(words: &[Placed], width: u32, height: u32) -> String {
    let mut body = String::new();
    for (text, x, y, size) in words {
        body.push_str(&format!(
            "<text x=\"{x}\" y=\"{y}\" font-family=\"Liberation Sans\" font-size=\"{size}\" fill=\"#111\">{text}</text>"
        ));
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>{body}</svg>"
    )
}

fn render(words: &[Placed]) -> resvg::tiny_skia::Pixmap {
    render_sized(words, WIDTH, HEIGHT)
}

fn render_sized(words: &[Placed], width: u32, height: u32) -> resvg::tiny_skia::Pixmap {
    let tree = resvg::usvg::Tree::from_str(&svg_sized(words, width, height), options()).unwrap();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(width, height).unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    pixmap
}

fn png(pixmap: &resvg::tiny_skia::Pixmap) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(pixmap.data()).unwrap();
    writer.finish().unwrap();
    out
}

/// The box of the dark pixels of one word rendered alone.
fn ink_box(word: Placed) -> BoundingBox {
    let pixmap = render(&[word]);
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (i, px) in pixmap.pixels().iter().enumerate() {
        if px.red() < 128 {
            let (x, y) = (i as u32 % WIDTH, i as u32 / WIDTH);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    assert!(x0 <= x1, "word {word:?} left no ink");
    BoundingBox {
        left: x0,
        top: y0,
        width: x1 - x0 + 1,
        height: y1 - y0 + 1,
    }
}

const PAGE: [Placed; 7] = [
    ("INVOICE", 40, 70, 44),
    ("Bergen", 40, 150, 32),
    ("Harbour", 175, 150, 32),
    ("Supplies", 330, 150, 32),
    ("Total", 40, 250, 36),
    ("1234.50", 160, 250, 36),
    ("NOK", 320, 250, 36),
];

#[test]
fn known_words_come_back_where_they_were_drawn() {
    let Some(engine) = engine() else { return };
    let image = png(&render(&PAGE));
    let result = engine.ocr(&image).unwrap();
    assert_eq!((result.width, result.height), (WIDTH, HEIGHT));
    for word in PAGE {
        let expected = ink_box(word);
        let found = result
            .words
            .iter()
            .find(|w| w.text == word.0)
            .unwrap_or_else(|| panic!("`{}` not recognised in {:?}", word.0, result.text));
        assert!(
            found.bbox.iou(expected) > 0.7,
            "`{}`: box {:?}, ink {:?}",
            word.0,
            found.bbox,
            expected
        );
        assert!(found.confidence > 60.0, "{found:?}");
    }
    assert!(
        result.text.contains("Bergen Harbour Supplies"),
        "{}",
        result.text
    );
    assert!(result.text.contains("Total 1234.50 NOK"), "{}", result.text);
    // Lines hold their words left to right.
    let line = &result.lines[result
        .words
        .iter()
        .find(|w| w.text == "Harbour")
        .unwrap()
        .line];
    assert_eq!(line.text, "Bergen Harbour Supplies");

    // Same image, same result (tesseract is deterministic with one thread).
    let again = engine.ocr(&image).unwrap();
    assert_eq!(again.words, result.words);
}

#[test]
fn identity_names_version_and_hashes_the_language_data() {
    let Some(engine) = engine() else { return };
    let identity = engine.identity();
    assert_eq!(identity.engine, "tesseract");
    assert!(
        identity
            .version
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit()),
        "{identity:?}"
    );
    assert_eq!(identity.languages.len(), 1);
    assert_eq!(identity.languages[0].language, "eng");
    assert_eq!(identity.languages[0].sha256.len(), 64);
    assert!(identity.languages[0].bytes > 1_000_000, "{identity:?}");
    let model = identity.to_model_use("ama.ocr");
    assert_eq!(model.kind, "ocr");
    assert!(model.name.starts_with("tesseract "), "{}", model.name);
    assert!(model.parameters.unwrap().contains("\"psm\":3"));
}

#[test]
fn hostile_or_broken_inputs_are_typed_errors() {
    let Some(engine) = engine() else { return };
    assert!(matches!(engine.ocr(&[]), Err(Error::EmptyImage)));
    let junk = engine.ocr(b"this is not an image at all").unwrap_err();
    assert!(matches!(junk, Error::UnreadableImage { .. }), "{junk:?}");
    // A cut PNG.
    let image = png(&render(&PAGE[..1]));
    let cut = engine.ocr(&image[..image.len() / 3]);
    assert!(cut.is_err() || cut.unwrap().words.len() <= 1);

    let small = Tesseract::new(TesseractConfig {
        max_image_bytes: 100,
        ..TesseractConfig::default()
    })
    .unwrap();
    assert!(matches!(
        small.ocr(&image),
        Err(Error::ImageTooLarge { limit: 100, .. })
    ));
    // A PNG header declaring 60000x60000 pixels (a decompression bomb) never reaches the
    // decoder.
    let mut bomb = image.clone();
    bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    assert!(matches!(
        engine.ocr(&bomb),
        Err(Error::TooManyPixels {
            width: 60_000,
            height: 60_000,
            ..
        })
    ));
    let capped = Tesseract::new(TesseractConfig {
        max_output_bytes: 64,
        ..TesseractConfig::default()
    })
    .unwrap();
    assert!(matches!(
        capped.ocr(&image),
        Err(Error::OutputTooLarge { limit: 64 })
    ));
    let hurried = Tesseract::new(TesseractConfig {
        timeout_ms: 1,
        ..TesseractConfig::default()
    })
    .unwrap();
    assert!(matches!(
        hurried.ocr(&png(&render(&PAGE))),
        Err(Error::Timeout { .. })
    ));
}

#[test]
fn a_missing_language_is_named() {
    let Some(_) = engine() else { return };
    let error = Tesseract::new(TesseractConfig {
        languages: "eng+xyz".into(),
        ..TesseractConfig::default()
    })
    .unwrap_err();
    assert!(matches!(error, Error::LanguageMissing { ref language, .. } if language == "xyz"));
    assert!(error.to_string().contains("tesseract-ocr-xyz"), "{error}");
}

/// A short document whose text is known exactly.
const DOCUMENT: [&str; 5] = [
    "Harbour Supplies Ltd, Bryggen 14, 5003 Bergen",
    "Invoice 2026-0412 issued on 3 December 2026",
    "12 boxes of rope (40 m) at 18.50 = 222.00",
    "VAT 25% 55.50; total due 277.50 NOK",
    "Pay within 14 days to account 1503.22.98765",
];

#[test]
fn character_error_rate_by_font_size() {
    let Some(engine) = engine() else { return };
    let reference = DOCUMENT.join("\n");
    let mut report = Vec::new();
    for size in [10u32, 14, 20, 32] {
        let line_height = size * 3 / 2;
        let width = size * 30 + 80;
        let height = line_height * (DOCUMENT.len() as u32 + 1) + 40;
        let lines: Vec<Placed> = DOCUMENT
            .iter()
            .enumerate()
            .map(|(i, text)| (*text, 40, 40 + line_height * (i as u32 + 1), size))
            .collect();
        let image = png(&render_sized(&lines, width, height));
        let result = engine.ocr(&image).unwrap();
        let cer = character_error_rate(&reference, &result.text);
        eprintln!("font {size:>2} px: CER {cer:.4} ({} ms)", result.elapsed_ms);
        report.push((size, cer));
    }
    for (size, cer) in report {
        let limit = if size >= 14 { 0.02 } else { 0.15 };
        assert!(cer <= limit, "CER {cer} at {size} px is above {limit}");
    }
}
