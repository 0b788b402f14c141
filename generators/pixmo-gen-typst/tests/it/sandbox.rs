//! The sandbox: no files, no packages, bounded time and size, typed errors with diagnostics.

use std::time::Duration;

use pixmo_gen_typst::{Error, FontFamily, RenderOptions, render_typst};

fn small() -> RenderOptions {
    RenderOptions {
        pixel_per_pt: 1.0,
        ..RenderOptions::default()
    }
}

fn compile_error(source: &str) -> String {
    match render_typst(source, &small()) {
        Err(Error::Compile { diagnostics }) => diagnostics,
        other => panic!("expected a compile error for {source:?}, got {other:?}"),
    }
}

#[test]
fn renders_text_and_reports_it() {
    let doc = render_typst(
        "#set page(width: 200pt, height: 100pt)\nHello *typst* world",
        &small(),
    )
    .unwrap();
    assert_eq!((doc.image.width, doc.image.height), (200, 100));
    assert!(doc.shows("Hello typst world"), "{:?}", doc.text_lines());
    assert!(
        !doc.image
            .data
            .chunks_exact(4)
            .all(|p| p == [255, 255, 255, 255]),
        "nothing drawn"
    );
    assert!(doc.image.is_opaque());
}

#[test]
fn files_and_packages_are_denied() {
    for source in [
        "#read(\"/etc/passwd\")",
        "#read(\"main.typ\" + \"x\")",
        "#image(\"logo.png\")",
        "#json(\"data.json\")",
        "#include \"other.typ\"",
        "#import \"@preview/cetz:0.3.0\": canvas",
        "#let p = plugin(\"evil.wasm\")",
    ] {
        let diagnostics = compile_error(source);
        assert!(
            diagnostics.contains("main.typ:1:"),
            "{source}: {diagnostics}"
        );
        assert!(diagnostics.starts_with("error:"), "{diagnostics}");
    }
}

#[test]
fn the_wall_clock_is_not_available() {
    let diagnostics = compile_error("#datetime.today().display()");
    assert!(diagnostics.contains("error"), "{diagnostics}");
}

#[test]
fn syntax_errors_carry_location_and_source_line() {
    let diagnostics = compile_error("= Title\n\n#let x = (1, 2\nBody");
    assert!(diagnostics.contains("main.typ:3:"), "{diagnostics}");
    assert!(diagnostics.contains("| #let x = (1, 2"), "{diagnostics}");
    let diagnostics = compile_error("#text(fnt: \"x\")[a]");
    assert!(diagnostics.contains("fnt"), "{diagnostics}");
}

#[test]
fn long_loops_time_out() {
    let options = RenderOptions {
        timeout: Duration::from_millis(10),
        ..small()
    };
    // 250 000 loop iterations: well past 10 ms (about a second in a debug build).
    let source = "#let n = 0\n#for i in range(500) { for j in range(500) { n += 1 } }\n#n";
    match render_typst(source, &options) {
        Err(Error::Timeout { millis }) => assert_eq!(millis, 10),
        other => panic!("expected a timeout, got {other:?}"),
    }
    // No process-wide state: the abandoned render does not stop the next one.
    assert!(render_typst("x", &small()).is_ok());
}

#[test]
fn hidden_text_is_not_counted_as_drawn() {
    let options = RenderOptions {
        check_visibility: true,
        ..small()
    };
    let source = r##"#set page(width: 300pt, height: 200pt, margin: 10pt, fill: white)
#set text(font: "Roboto", size: 12pt)
Shown text

#text(fill: white)[Whiteonwhite]

#text(fill: rgb(0, 0, 0, 0))[Transparentink]

#text(fill: rgb("#fdfdfd"))[Faintgrey]

#box[Coveredword #place(top + left, dx: -2pt, dy: -4pt, rect(width: 120pt, height: 20pt, fill: red))]

#hide[Hiddenword]
"##;
    let doc = render_typst(source, &options).unwrap();
    let shown = doc.layout_text();
    assert!(shown.contains("Shown text"), "{shown}");
    for word in [
        "Whiteonwhite",
        "Transparentink",
        "Faintgrey",
        "Coveredword",
        "Hiddenword",
    ] {
        assert!(!shown.contains(word), "{word} counted as drawn: {shown}");
    }
    let hidden: Vec<&str> = doc.hidden.iter().map(|h| h.text.as_str()).collect();
    for word in ["Whiteonwhite", "Transparentink", "Faintgrey", "Coveredword"] {
        assert!(
            hidden.iter().any(|h| h.contains(word)),
            "{word}: {hidden:?}"
        );
    }
    assert!(doc.hidden.iter().all(|h| h.reason.contains("not visible")));
    // Without the check, the scan of laid-out text counts them.
    let unchecked = render_typst(source, &small()).unwrap();
    assert!(unchecked.layout_text().contains("Whiteonwhite"));
    assert!(unchecked.hidden.is_empty());
}

#[test]
fn size_limits_apply_before_work() {
    let options = RenderOptions {
        max_source_bytes: 100,
        ..small()
    };
    assert!(matches!(
        render_typst(&"a".repeat(101), &options),
        Err(Error::TooLarge {
            what: "source bytes",
            ..
        })
    ));
    assert!(matches!(
        render_typst("#set page(width: 9000pt, height: 100pt)\nx", &small()),
        Err(Error::TooLarge {
            what: "page side pixels",
            ..
        })
    ));
    let options = RenderOptions {
        max_pixels: 10_000,
        ..small()
    };
    assert!(matches!(
        render_typst("#set page(width: 200pt, height: 200pt)\nx", &options),
        Err(Error::TooLarge {
            what: "page pixels",
            ..
        })
    ));
}

#[test]
fn extra_pages_are_rejected_unless_allowed() {
    let source = "#set page(width: 100pt, height: 100pt)\nOne\n#pagebreak()\nTwo";
    assert!(matches!(
        render_typst(source, &small()),
        Err(Error::MultiplePages { pages: 2 })
    ));
    let options = RenderOptions {
        allow_multiple_pages: true,
        ..small()
    };
    let doc = render_typst(source, &options).unwrap();
    assert_eq!(doc.page_count, 2);
    assert!(
        doc.shows("One") && !doc.shows("Two"),
        "only the first page is rendered"
    );
}

#[test]
fn clipped_text_is_detected() {
    // Pushed off the right edge of the page.
    let off_page =
        "#set page(width: 100pt, height: 60pt, margin: 5pt)\n#place(dx: 70pt)[Overflowing words]";
    match render_typst(off_page, &small()) {
        Err(Error::Clipped { details }) => assert!(details.contains("Overflowing"), "{details}"),
        other => panic!("expected clipping, got {other:?}"),
    }
    // Cut by a clipping box: on the right, and (a box as tall as the cap height) the
    // descender of the "g".
    let boxed = "#set page(width: 200pt, height: 60pt)\n#box(width: 30pt, height: 12pt, clip: true)[A much longer line]";
    assert!(matches!(
        render_typst(boxed, &small()),
        Err(Error::Clipped { .. })
    ));
    let descender =
        "#set page(width: 200pt, height: 60pt)\n#box(width: 150pt, clip: true)[A much longer line]";
    match render_typst(descender, &small()) {
        Err(Error::Clipped { details }) => assert!(details.contains("by 2."), "{details}"),
        other => panic!("expected the descender to be clipped, got {other:?}"),
    }
    // The same text fits once the box is wide enough, and the check can be turned off.
    let fits = "#set page(width: 200pt, height: 60pt)\n#box(width: 150pt, height: 20pt, clip: true)[A much longer line]";
    render_typst(fits, &small()).unwrap();
    let lenient = RenderOptions {
        reject_clipped_text: false,
        ..small()
    };
    render_typst(off_page, &lenient).unwrap();
}

#[test]
fn every_bundled_family_is_used_without_fallback() {
    for family in FontFamily::BODY.into_iter().chain([FontFamily::Script]) {
        let source = format!(
            "#set page(width: 200pt, height: 60pt)\n#set text(font: \"{}\", fallback: false)\nInvoice 1,234.50 *Total*",
            family.typst_name()
        );
        let doc = render_typst(&source, &small()).unwrap_or_else(|e| panic!("{family:?}: {e}"));
        assert!(doc.warnings.is_empty(), "{family:?}: {:?}", doc.warnings);
        assert!(
            doc.shows("Invoice 1,234.50 Total"),
            "{family:?}: {:?}",
            doc.text_lines()
        );
    }
    // An unknown family is a warning (typst falls back), not a host font.
    let doc = render_typst(
        "#set page(width: 100pt, height: 40pt)\n#set text(font: \"Arial\")\nx",
        &small(),
    )
    .unwrap();
    assert!(
        doc.warnings.iter().any(|w| w.contains("Arial")),
        "{:?}",
        doc.warnings
    );
}
