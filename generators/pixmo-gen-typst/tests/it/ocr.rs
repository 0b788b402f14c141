//! OCR quality on the documents this crate renders, whose text is known exactly: pixmo-ocr's
//! tesseract (Debian `tesseract-ocr` + `tesseract-ocr-eng`, `crates/pixmo-ocr/ci-setup.sh`)
//! against the laid-out text, at 2 px/pt (144 dpi). The figures over every kind and several
//! scales come from `examples/ocr_cer` (`crates/pixmo-ocr/BENCH.md`), which shares the scoring
//! code. Skipped with a message when tesseract is absent, failed when `CI` is set.

// The example reads fields this test does not.
#[allow(dead_code)]
#[path = "../../examples/ocr_cer/page.rs"]
mod page;

use pixmo_gen_typst::DocKind;
use pixmo_ocr::{Error, Tesseract, TesseractConfig, character_error_rate};

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

#[test]
fn tesseract_reads_typst_pages_at_144_dpi() {
    let Some(engine) = engine() else { return };
    // A letter (running text), an invoice (tables, totals) and a two-column résumé, whose
    // columns tesseract reads one after the other.
    let pages = [
        (DocKind::Letter, 0),
        (DocKind::Invoice, 0),
        (DocKind::Resume, 0),
    ];
    let mut scores = Vec::new();
    for (kind, seed) in pages {
        let score = page::score_page(&engine, kind, seed, 2.0).unwrap();
        eprintln!(
            "{} seed {seed}: {} chars, CER {:.4} (engine order {:.4}), {} ms",
            kind.name(),
            score.reference_chars,
            score.cer,
            score.cer_engine_order,
            score.ocr_ms
        );
        // The reference is the page's text, not an empty or truncated extraction.
        assert!(score.reference_chars > 250, "{}", score.reference);
        assert!(
            score.cer <= 0.05,
            "{} seed {seed}: CER {} above 5 %\nreference:\n{}\nrecognised:\n{}",
            kind.name(),
            score.cer,
            score.reference,
            score.recognised
        );
        scores.push(score);
    }
    // The rate tells pages apart: one page's recognised text against another's reference is
    // far off, so a reference taken from the wrong document (or none) cannot pass.
    let crossed = character_error_rate(&scores[0].reference, &scores[1].recognised);
    assert!(crossed > 0.5, "crossed CER {crossed}");
    // Regrouping by position matters for the résumé's two columns.
    assert!(
        scores[2].cer < scores[2].cer_engine_order,
        "{} vs {}",
        scores[2].cer,
        scores[2].cer_engine_order
    );
}

#[test]
fn leader_fill_is_not_reference_text() {
    assert_eq!(
        page::without_leaders("Lamb shank . . . . . . . €16.95"),
        "Lamb shank €16.95"
    );
    assert_eq!(page::without_leaders("Soup ........ 4.50"), "Soup 4.50");
    // Short runs and dashes inside text stay.
    assert_eq!(page::without_leaders("12:00 - 21:00 ·"), "12:00 - 21:00 ·");
    assert_eq!(page::without_leaders("Note ..."), "Note ...");
    assert_eq!(page::without_leaders("a . b"), "a . b");
    assert_eq!(page::summary(&[0.3, 0.1, 0.2, 0.4]), (0.25, 0.25, 0.4));
}
