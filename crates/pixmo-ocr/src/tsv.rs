//! Tesseract's TSV output read into an [`OcrResult`].
//!
//! The format (tesseract 4 and 5, `tsv` config): a header line, then one row per layout
//! element with 12 tab-separated columns `level page_num block_num par_num line_num
//! word_num left top width height conf text`. Levels: 1 page, 2 block, 3 paragraph, 4 line,
//! 5 word; only words have a confidence (0–100; other levels print -1). Words whose text is
//! blank are dropped, and so are lines and blocks left without words.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::result::{Block, BoundingBox, Line, OcrResult, Word};

const HEADER: [&str; 12] = [
    "level",
    "page_num",
    "block_num",
    "par_num",
    "line_num",
    "word_num",
    "left",
    "top",
    "width",
    "height",
    "conf",
    "text",
];

/// Key of a line: (page, block, paragraph, line).
type LineKey = (u32, u32, u32, u32);

/// Parses tesseract's TSV output (`elapsed_ms` is recorded as given).
///
/// # Errors
/// [`Error::Tsv`] naming the line when the header or a row is malformed.
pub fn parse_tsv(text: &str, elapsed_ms: u64) -> Result<OcrResult> {
    let mut lines_iter = text.lines().enumerate();
    let header_ok = lines_iter
        .next()
        .is_some_and(|(_, h)| h.trim_end_matches('\r').split('\t').eq(HEADER));
    if !header_ok {
        return Err(Error::Tsv {
            line: 1,
            reason: format!("expected the header `{}`", HEADER.join(" ")),
        });
    }

    let (mut width, mut height) = (0, 0);
    // Line boxes by key, and words in order of appearance.
    let mut line_boxes: BTreeMap<LineKey, BoundingBox> = BTreeMap::new();
    let mut raw_words: Vec<(LineKey, String, BoundingBox, f32)> = Vec::new();
    for (index, row) in lines_iter {
        let number = index + 1;
        let row = row.trim_end_matches('\r');
        if row.is_empty() {
            continue;
        }
        let bad = |reason: String| Error::Tsv {
            line: number,
            reason,
        };
        let cols: Vec<&str> = row.splitn(12, '\t').collect();
        if cols.len() < 11 {
            return Err(bad(format!("{} columns, expected 12", cols.len())));
        }
        let int = |i: usize| -> Result<u32> {
            cols[i]
                .parse::<u32>()
                .map_err(|_| bad(format!("`{}` is `{}`, not a count", HEADER[i], cols[i])))
        };
        let level = int(0)?;
        let key = (int(1)?, int(2)?, int(3)?, int(4)?);
        let bbox = BoundingBox {
            left: int(6)?,
            top: int(7)?,
            width: int(8)?,
            height: int(9)?,
        };
        let conf: f32 = cols[10]
            .parse()
            .ok()
            .filter(|c: &f32| c.is_finite())
            .ok_or_else(|| bad(format!("`conf` is `{}`, not a number", cols[10])))?;
        let word = cols.get(11).copied().unwrap_or("");
        match level {
            1 => {
                width = width.max(bbox.right());
                height = height.max(bbox.bottom());
            }
            2 | 3 => {}
            4 => {
                line_boxes.insert(key, bbox);
            }
            5 => {
                let word = word.trim();
                if !word.is_empty() {
                    raw_words.push((key, word.to_string(), bbox, conf.clamp(0.0, 100.0)));
                }
            }
            other => return Err(bad(format!("unknown level {other}"))),
        }
    }

    let mut result = OcrResult {
        width,
        height,
        text: String::new(),
        words: Vec::with_capacity(raw_words.len()),
        lines: Vec::new(),
        blocks: Vec::new(),
        elapsed_ms,
    };
    let mut line_index: BTreeMap<LineKey, usize> = BTreeMap::new();
    let mut block_index: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    let mut paragraph_of_line: Vec<(u32, u32, u32)> = Vec::new();
    for (key, text, bbox, confidence) in raw_words {
        let block_key = (key.0, key.1);
        let block = *block_index.entry(block_key).or_insert_with(|| {
            result.blocks.push(Block {
                text: String::new(),
                bbox,
                lines: Vec::new(),
            });
            result.blocks.len() - 1
        });
        let line = *line_index.entry(key).or_insert_with(|| {
            result.lines.push(Line {
                text: String::new(),
                bbox: line_boxes.get(&key).copied().unwrap_or(bbox),
                confidence: 0.0,
                block,
                words: Vec::new(),
            });
            paragraph_of_line.push((key.0, key.1, key.2));
            result.blocks[block].lines.push(result.lines.len() - 1);
            result.lines.len() - 1
        });
        result.words.push(Word {
            text,
            bbox,
            confidence,
            block,
            line,
        });
        result.lines[line].words.push(result.words.len() - 1);
    }

    for line in &mut result.lines {
        let words: Vec<&Word> = line.words.iter().map(|&i| &result.words[i]).collect();
        line.text = words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        line.confidence = words.iter().map(|w| w.confidence).sum::<f32>() / words.len() as f32;
        line.bbox = words.iter().fold(line.bbox, |b, w| b.union(w.bbox));
    }
    for block in &mut result.blocks {
        let mut text = String::new();
        let mut last_paragraph = None;
        for &l in &block.lines {
            let paragraph = paragraph_of_line[l];
            if !text.is_empty() {
                text.push_str(if last_paragraph == Some(paragraph) {
                    "\n"
                } else {
                    "\n\n"
                });
            }
            text.push_str(&result.lines[l].text);
            last_paragraph = Some(paragraph);
            block.bbox = block.bbox.union(result.lines[l].bbox);
        }
        block.text = text;
    }
    result.text = result
        .blocks
        .iter()
        .map(|b| b.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext
1\t1\t0\t0\t0\t0\t0\t0\t640\t480\t-1\t
2\t1\t1\t0\t0\t0\t36\t92\t200\t40\t-1\t
3\t1\t1\t1\t0\t0\t36\t92\t200\t40\t-1\t
4\t1\t1\t1\t1\t0\t36\t92\t200\t18\t-1\t
5\t1\t1\t1\t1\t1\t36\t92\t60\t18\t96.5\tTotal
5\t1\t1\t1\t1\t2\t100\t92\t50\t18\t91.25\t42.50
4\t1\t1\t1\t2\t0\t36\t114\t80\t18\t-1\t
5\t1\t1\t1\t2\t1\t36\t114\t80\t18\t40\tEUR
5\t1\t1\t1\t2\t2\t120\t114\t5\t18\t95\t 
2\t1\t2\t0\t0\t0\t300\t300\t100\t20\t-1\t
3\t1\t2\t1\t0\t0\t300\t300\t100\t20\t-1\t
4\t1\t2\t1\t1\t0\t300\t300\t100\t20\t-1\t
5\t1\t2\t1\t1\t1\t300\t300\t100\t20\t88\tPaid
";

    #[test]
    fn words_lines_blocks_and_text() {
        let r = parse_tsv(SAMPLE, 7).unwrap();
        assert_eq!((r.width, r.height, r.elapsed_ms), (640, 480, 7));
        let words: Vec<&str> = r.words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(words, ["Total", "42.50", "EUR", "Paid"]);
        assert_eq!(r.words[1].confidence, 91.25);
        assert_eq!(
            r.words[1].bbox,
            BoundingBox {
                left: 100,
                top: 92,
                width: 50,
                height: 18
            }
        );
        assert_eq!(r.lines.len(), 3);
        assert_eq!(r.lines[0].text, "Total 42.50");
        assert_eq!(r.blocks.len(), 2);
        assert_eq!(r.blocks[0].text, "Total 42.50\nEUR");
        assert_eq!(r.text, "Total 42.50\nEUR\n\nPaid");
        assert_eq!(r.text_above(50.0), "Total 42.50\n\nPaid");
        assert_eq!(r.words[3].block, 1);
        assert_eq!(r.words[2].line, 1);
    }

    #[test]
    fn a_header_only_output_has_no_words() {
        let r = parse_tsv(&format!("{}\n", HEADER.join("\t")), 0).unwrap();
        assert!(r.words.is_empty() && r.text.is_empty());
    }

    #[test]
    fn malformed_rows_name_their_line() {
        let e = parse_tsv("hello\n", 0).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("Tesseract TSV line 1: expected the header"),
            "{e}"
        );
        let text = format!(
            "{}\n5\t1\t1\t1\t1\t1\t-3\t0\t1\t1\t90\tx\n",
            HEADER.join("\t")
        );
        let e = parse_tsv(&text, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Tesseract TSV line 2: `left` is `-3`, not a count"
        );
        let text = format!("{}\n5\t1\t1\n", HEADER.join("\t"));
        let e = parse_tsv(&text, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Tesseract TSV line 2: 3 columns, expected 12"
        );
        let text = format!(
            "{}\n5\t1\t1\t1\t1\t1\t0\t0\t1\t1\tNaN\tx\n",
            HEADER.join("\t")
        );
        assert!(parse_tsv(&text, 0).is_err());
    }
}
