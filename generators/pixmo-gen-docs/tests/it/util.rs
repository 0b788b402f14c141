//! Helpers shared by the tests.

use pixmo_gen_docs::{DocSample, FigureKind, GenerateOptions, generate};

/// Small canvases keep debug-mode tests fast.
pub fn small() -> GenerateOptions {
    GenerateOptions {
        min_side: 200,
        max_side: 360,
    }
}

/// `n` samples of `kind` from consecutive seeds.
pub fn samples(kind: FigureKind, n: u64) -> Vec<DocSample> {
    (0..n)
        .map(|seed| generate(kind, seed * 7919 + 13, &small()).unwrap())
        .collect()
}

/// PNG bytes of RGBA pixels.
pub fn png_bytes(width: u32, height: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(rgba).unwrap();
    writer.finish().unwrap();
    out
}

/// Decodes a PNG into RGBA pixels.
pub fn decode_png(bytes: &[u8]) -> Vec<u8> {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    buf
}

/// The text content of every `<text>` element of an SVG document, unescaped.
pub fn svg_texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        rest = &rest[start..];
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let Some(close) = rest.find("</text>") else {
            break;
        };
        out.push(
            rest[open_end + 1..close]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &rest[close + 7..];
    }
    out
}
