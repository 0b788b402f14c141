//! One PixMo-Docs typst page through pixmo-ocr's tesseract, scored against the text typst laid
//! out on it. Shared by the `ocr_cer` example and `tests/it/ocr.rs`.
//!
//! The reference is the page's laid-out text ([`DocSample::text_lines`]: every visible text run,
//! grouped into lines by baseline, top to bottom, left to right), known exactly because typst
//! placed it. Reading order is not what is measured: tesseract reads a two-column layout column
//! by column, typst's lines run across the page. So the recognised lines are regrouped into
//! rows the same way (by their boxes' vertical overlap, left to right) before the character
//! error rate is computed; the rate of tesseract's own reading order is kept too. Leader fill
//! (`. . . .` in menus) is not text and is left out of the reference.

use pixmo_gen_typst::{DocKind, DocSample, GenerateOptions, RenderOptions, generate};
use pixmo_ocr::{OcrEngine, OcrResult, character_error_rate};

/// The score of one page at one scale.
#[derive(Clone, Debug)]
pub struct PageScore {
    /// Document kind.
    pub kind: DocKind,
    /// Generator seed.
    pub seed: u64,
    /// Pixels per typographic point the page was rendered at (1.5 is the pipeline's).
    pub scale: f32,
    /// Body font family (typst name).
    pub font: &'static str,
    /// Page size in pixels.
    pub width: u32,
    /// Page size in pixels.
    pub height: u32,
    /// Characters of the reference text.
    pub reference_chars: usize,
    /// CER with the recognised words regrouped into lines (the headline figure).
    pub cer: f64,
    /// CER of tesseract's text in its own reading order.
    pub cer_engine_order: f64,
    /// Time tesseract took on the page.
    pub ocr_ms: u64,
    /// The reference text (lines joined by newlines).
    pub reference: String,
    /// The recognised text, regrouped into lines.
    pub recognised: String,
}

/// Renders `kind`/`seed` at `scale` pixels per point (only visible text is kept as reference),
/// runs `engine` on its PNG and scores it.
///
/// # Errors
/// A rendering or OCR failure, as text naming the page.
pub fn score_page(
    engine: &dyn OcrEngine,
    kind: DocKind,
    seed: u64,
    scale: f32,
) -> Result<PageScore, String> {
    let name = format!("{} seed {seed} at {scale} px/pt", kind.name());
    let options = GenerateOptions {
        render: RenderOptions {
            pixel_per_pt: scale,
            check_visibility: true,
            ..RenderOptions::default()
        },
    };
    let sample = generate(kind, seed, &options).map_err(|e| format!("{name}: {e}"))?;
    let reference = reference_text(&sample);
    let result = engine
        .ocr(&png(&sample))
        .map_err(|e| format!("{name}: OCR failed: {e}"))?;
    let recognised = lines_by_position(&result).join("\n");
    Ok(PageScore {
        kind,
        seed,
        scale,
        font: sample.style.font.typst_name(),
        width: sample.image.width,
        height: sample.image.height,
        reference_chars: reference.chars().filter(|c| !c.is_whitespace()).count(),
        cer: character_error_rate(&reference, &recognised),
        cer_engine_order: character_error_rate(&reference, &result.text),
        ocr_ms: result.elapsed_ms,
        reference,
        recognised,
    })
}

/// The page's text as typst laid it out: its lines, top to bottom, leader fill removed.
pub fn reference_text(sample: &DocSample) -> String {
    sample
        .text_lines
        .iter()
        .map(|l| without_leaders(l))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Tesseract's lines regrouped into rows across the page: a line joins a row when its box
/// overlaps the vertical span of the row's first line by at least half the smaller height;
/// rows top to bottom, lines left to right (the rule `RenderedDoc::text_lines` applies to
/// typst's runs). Whole lines are the unit, so the words of one line never split over rows.
pub fn lines_by_position(result: &OcrResult) -> Vec<String> {
    let mut lines: Vec<&pixmo_ocr::Line> =
        result.lines.iter().filter(|l| !l.text.is_empty()).collect();
    lines.sort_by_key(|l| (l.bbox.top, l.bbox.left));
    let mut rows: Vec<(pixmo_ocr::BoundingBox, Vec<&pixmo_ocr::Line>)> = Vec::new();
    for line in lines {
        let joins = rows.last().is_some_and(|(first, _)| {
            let overlap = first
                .bottom()
                .min(line.bbox.bottom())
                .saturating_sub(first.top.max(line.bbox.top));
            2 * overlap >= first.height.min(line.bbox.height).max(1)
        });
        match rows.last_mut() {
            Some((_, row)) if joins => row.push(line),
            _ => rows.push((line.bbox, vec![line])),
        }
    }
    rows.into_iter()
        .map(|(_, mut row)| {
            row.sort_by_key(|l| l.bbox.left);
            row.iter()
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Leader fill (`. . . . .` between a menu item and its price, typst's `repeat`) is layout,
/// not text: runs of four or more of the same fill character (`.`, `·`, `_`, `-`), spaced or
/// not, are removed from the reference.
pub fn without_leaders(line: &str) -> String {
    let is_fill = |token: &str| -> Option<char> {
        let mut chars = token.chars();
        let first = chars.next()?;
        (matches!(first, '.' | '·' | '_' | '-') && chars.all(|c| c == first)).then_some(first)
    };
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let mut keep = vec![true; tokens.len()];
    let mut i = 0;
    while i < tokens.len() {
        let Some(fill) = is_fill(tokens[i]) else {
            i += 1;
            continue;
        };
        let mut j = i;
        let mut count = 0;
        while j < tokens.len() && is_fill(tokens[j]) == Some(fill) {
            count += tokens[j].chars().count();
            j += 1;
        }
        if count >= 4 {
            keep[i..j].iter_mut().for_each(|k| *k = false);
        }
        i = j;
    }
    tokens
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(t, _)| *t)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The page as a PNG (what the annotation app hands tesseract).
pub fn png(sample: &DocSample) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, sample.image.width, sample.image.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    // Writing to a Vec fails only on a size mismatch, which `RgbaImage` rules out.
    let mut writer = encoder.write_header().expect("PNG header");
    writer
        .write_image_data(&sample.image.data)
        .expect("PNG data of an RgbaImage");
    drop(writer);
    out
}

/// Mean, median and worst (largest) of `values`; zeros when empty.
pub fn summary(values: &[f64]) -> (f64, f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let mean = sorted.iter().sum::<f64>() / n as f64;
    (mean, median, sorted[n - 1])
}
