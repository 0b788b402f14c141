//! Reading point markup back from text, written by us or by a model.
//!
//! A model's output is untrusted text: tags may be truncated, quotes missing, spaces extra,
//! values out of range or garbage. [`parse_tags`] reads what can be read and counts what
//! it dropped; it never fails and never panics, and its work is linear in the text.
//!
//! What it accepts:
//! - a tag starts at `<point` or `<points` (any case) followed by a space, `>`, `/` or the
//!   end of the text;
//! - attributes `x`, `y` (one point) and `xN`, `yN` (point `N`), their values quoted with
//!   `"` or `'`, or unquoted, with spaces anywhere around `=` and inside the quotes; a
//!   value cut off by the end of the text is dropped (`12` may have been `12.5`);
//! - Molmo2's `coords="I 1 xxx yyy 2 xxx yyy"` (image index, then id and 0–1000 grid
//!   position per point; groups for several images separated by `;`);
//! - `alt` and the body up to the next `<` as the label; `closed` says whether the closing
//!   `</point…>` followed.
//!
//! Molmo's extractor rejects values above 100; so does this one (and negative values).
//! A point needs both coordinates: an `x3` without `y3` is dropped.

use crate::coords::{Grid1000, Percent};

/// Which markup a tag used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Molmo v1: `x`/`y` or `xN`/`yN` attributes in percent.
    MolmoV1,
    /// Molmo2: a `coords` attribute on the 0–1000 grid.
    Molmo2,
}

/// One `<point>`/`<points>` tag read from text.
#[derive(Clone, Debug, PartialEq)]
pub struct PointTag {
    /// The markup the tag used.
    pub format: Format,
    /// The points kept, in the order the tag lists them.
    pub points: Vec<Percent>,
    /// For Molmo2 tags the image index of each point (same length as `points`); empty for
    /// Molmo v1 tags.
    pub images: Vec<u32>,
    /// The `alt` attribute, if present.
    pub alt: Option<String>,
    /// The tag's body, trimmed (empty when the tag was cut off before it).
    pub label: String,
    /// Whether the closing `</point>`/`</points>` followed the body.
    pub closed: bool,
    /// Coordinates seen but not kept: unparsable, out of range, unpaired or cut off.
    pub dropped: usize,
}

/// Every point of every tag in `text`, in order.
#[must_use]
pub fn extract_points(text: &str) -> Vec<Percent> {
    parse_tags(text)
        .into_iter()
        .flat_map(|tag| tag.points)
        .collect()
}

/// Every point tag in `text`. Never fails: what cannot be read is skipped and counted in
/// [`PointTag::dropped`].
#[must_use]
pub fn parse_tags(text: &str) -> Vec<PointTag> {
    let mut cursor = Cursor { text, pos: 0 };
    let mut tags = Vec::new();
    while let Some(offset) = text[cursor.pos..].find('<') {
        cursor.pos += offset + 1;
        let name_len = if cursor.starts_with_ci("points") {
            6
        } else if cursor.starts_with_ci("point") {
            5
        } else {
            continue;
        };
        let after = cursor.pos + name_len;
        let boundary = cursor.byte_at(after);
        if !matches!(boundary, None | Some(b'>' | b'/')) && !boundary.is_some_and(is_space) {
            continue;
        }
        cursor.pos = after;
        tags.push(cursor.read_tag());
    }
    tags
}

fn is_space(b: u8) -> bool {
    b.is_ascii_whitespace()
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// A value read for a coordinate attribute.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Number {
    Value(f64),
    Invalid,
    /// The text ended inside the value.
    CutOff,
}

/// A coordinate key: `x`/`y` is point 0, `xN`/`yN` point `N`.
fn coordinate_key(name: &str) -> Option<(char, u32)> {
    let mut chars = name.chars();
    let axis = chars.next()?.to_ascii_lowercase();
    if axis != 'x' && axis != 'y' {
        return None;
    }
    let rest = chars.as_str();
    if rest.is_empty() {
        return Some((axis, 0));
    }
    if rest.bytes().all(|b| b.is_ascii_digit()) {
        return rest.parse().ok().map(|n| (axis, n));
    }
    None
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn byte_at(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    fn peek(&self) -> Option<u8> {
        self.byte_at(self.pos)
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
    }

    fn starts_with_ci(&self, prefix: &str) -> bool {
        self.text.as_bytes()[self.pos..]
            .get(..prefix.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(prefix.as_bytes()))
    }

    /// Reads a tag's attributes and body; the cursor is just past `<point`/`<points`.
    fn read_tag(&mut self) -> PointTag {
        let mut xy: Vec<(u32, Option<Number>, Option<Number>)> = Vec::new();
        let mut tag = PointTag {
            format: Format::MolmoV1,
            points: Vec::new(),
            images: Vec::new(),
            alt: None,
            label: String::new(),
            closed: false,
            dropped: 0,
        };
        let mut has_body = false;
        loop {
            self.skip_spaces();
            match self.peek() {
                None | Some(b'<') => break,
                Some(b'>') => {
                    self.pos += 1;
                    has_body = true;
                    break;
                }
                Some(b'/') if self.byte_at(self.pos + 1) == Some(b'>') => {
                    self.pos += 2;
                    tag.closed = true;
                    break;
                }
                Some(b) if is_name_byte(b) => {}
                Some(_) => {
                    self.pos += 1;
                    continue;
                }
            }
            let start = self.pos;
            while self.peek().is_some_and(is_name_byte) {
                self.pos += 1;
            }
            let name = &self.text[start..self.pos];
            self.skip_spaces();
            if self.peek() != Some(b'=') {
                continue;
            }
            self.pos += 1;
            self.skip_spaces();
            if let Some((axis, index)) = coordinate_key(name) {
                let value = self.read_number();
                let slot = match xy.iter().position(|e| e.0 == index) {
                    Some(i) => i,
                    None => {
                        xy.push((index, None, None));
                        xy.len() - 1
                    }
                };
                let entry = if axis == 'x' {
                    &mut xy[slot].1
                } else {
                    &mut xy[slot].2
                };
                if entry.is_some() {
                    tag.dropped += 1;
                } else {
                    *entry = Some(value);
                }
            } else if name.eq_ignore_ascii_case("coords") {
                let (value, cut_off) = self.read_text();
                tag.format = Format::Molmo2;
                read_coords(value, cut_off, &mut tag);
            } else if name.eq_ignore_ascii_case("alt") {
                let (value, _) = self.read_text();
                tag.alt.get_or_insert_with(|| value.to_string());
            } else {
                self.read_text();
            }
        }
        for (_, x, y) in xy {
            match (x, y) {
                (Some(Number::Value(x)), Some(Number::Value(y))) => match Percent::new(x, y) {
                    Ok(p) => tag.points.push(p),
                    Err(_) => tag.dropped += 1,
                },
                _ => tag.dropped += 1,
            }
        }
        if has_body {
            let rest = &self.text[self.pos..];
            let end = rest.find('<').unwrap_or(rest.len());
            tag.label = rest[..end].trim().to_string();
            self.pos += end;
            if self.starts_with_ci("</point") {
                tag.closed = true;
                let close = &self.text[self.pos..];
                self.pos += close.find('>').map_or(close.len(), |i| i + 1);
            }
        }
        tag
    }

    /// A number value, quoted or not.
    fn read_number(&mut self) -> Number {
        let quote = self.peek().filter(|b| matches!(b, b'"' | b'\''));
        if quote.is_some() {
            self.pos += 1;
        }
        self.skip_spaces();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+'))
        {
            self.pos += 1;
        }
        let token = &self.text[start..self.pos];
        self.skip_spaces();
        let Some(next) = self.peek() else {
            return Number::CutOff;
        };
        if quote == Some(next) {
            self.pos += 1;
        }
        match token.parse::<f64>() {
            Ok(v) if v.is_finite() => Number::Value(v),
            _ => Number::Invalid,
        }
    }

    /// A text value: up to the matching quote (or, without one, the next `>`), or unquoted
    /// up to a space or `>`. Also says whether the text ended inside it.
    fn read_text(&mut self) -> (&str, bool) {
        let rest = &self.text[self.pos..];
        match rest.as_bytes().first() {
            Some(&q) if q == b'"' || q == b'\'' => {
                let body = &rest[1..];
                if let Some(end) = body.find(char::from(q)) {
                    self.pos += end + 2;
                    (&body[..end], false)
                } else {
                    let end = body.find('>').unwrap_or(body.len());
                    self.pos += end + 1;
                    (&body[..end], end == body.len())
                }
            }
            _ => {
                let end = rest
                    .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '<')
                    .unwrap_or(rest.len());
                self.pos += end;
                (&rest[..end], end == rest.len())
            }
        }
    }
}

/// Molmo2 `coords`: groups separated by `;`, each `image id x y id x y …` on the grid.
fn read_coords(value: &str, cut_off: bool, tag: &mut PointTag) {
    let groups: Vec<&str> = value.split(';').collect();
    let last_group = groups.len() - 1;
    for (g, group) in groups.into_iter().enumerate() {
        let mut tokens: Vec<&str> = group.split_whitespace().collect();
        let last_token_cut = cut_off && g == last_group && !group.ends_with(char::is_whitespace);
        if last_token_cut && tokens.pop().is_some() {
            // The last number may have been cut short: it does not count.
            tag.dropped += 1;
        }
        let Some((image, triples)) = tokens.split_first() else {
            continue;
        };
        let Ok(image) = image.parse::<u32>() else {
            tag.dropped += triples.len() / 3 + 1;
            continue;
        };
        for triple in triples.chunks(3) {
            let point = match triple {
                [_, x, y] => match (x.parse::<u16>(), y.parse::<u16>()) {
                    (Ok(x), Ok(y)) => Grid1000::new(x, y).ok(),
                    _ => None,
                },
                _ => None,
            };
            match point {
                Some(p) => {
                    tag.points.push(p.to_percent());
                    tag.images.push(image);
                }
                None => tag.dropped += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xy(points: &[Percent]) -> Vec<(f64, f64)> {
        points.iter().map(|p| (p.x(), p.y())).collect()
    }

    #[test]
    fn molmo_v1_tags_and_their_labels() {
        let tags = parse_tags(
            "Counting the <points x1=\"10.5\" y1=\"20.3\" x2=\"50.0\" y2=\"10.2\" alt=\"dogs\">dogs\
             </points> shows a total of 2. And <point x=\"3.0\" y=\"4.0\" alt=\"a cat\">cat</point>",
        );
        assert_eq!(tags.len(), 2);
        assert_eq!(xy(&tags[0].points), [(10.5, 20.3), (50.0, 10.2)]);
        assert_eq!(tags[0].alt.as_deref(), Some("dogs"));
        assert_eq!(tags[0].label, "dogs");
        assert!(tags[0].closed);
        assert_eq!(tags[0].dropped, 0);
        assert_eq!(xy(&tags[1].points), [(3.0, 4.0)]);
        assert_eq!(tags[1].label, "cat");
    }

    #[test]
    fn model_output_with_missing_quotes_and_extra_spaces() {
        let points = extract_points("<points x1=10.5 y1 = \" 20 \" x2='30' y2=40.0 >a</points>");
        assert_eq!(xy(&points), [(10.5, 20.0), (30.0, 40.0)]);
        let points = extract_points("<point x=\"10.5 y=\"20.5\" alt=\"x\">x</point>");
        assert_eq!(xy(&points), [(10.5, 20.5)]);
        let points = extract_points("<POINT X=\"1\" Y=\"2\">a</POINT>");
        assert_eq!(xy(&points), [(1.0, 2.0)]);
    }

    #[test]
    fn truncated_tags_keep_only_what_was_complete() {
        let tags = parse_tags("<points x1=\"10.5\" y1=\"20.3\" x2=\"50.0\" y2=\"10");
        assert_eq!(xy(&tags[0].points), [(10.5, 20.3)]);
        assert_eq!(tags[0].dropped, 1);
        assert!(!tags[0].closed);
        let tags = parse_tags("<points x1=\"10.5\" y1=\"20.3\" x2=\"50.0\"");
        assert_eq!(xy(&tags[0].points), [(10.5, 20.3)]);
        assert_eq!(tags[0].dropped, 1);
        let tags = parse_tags("<point x=\"1\" y=\"2\" alt=\"do");
        assert_eq!(xy(&tags[0].points), [(1.0, 2.0)]);
        assert_eq!(tags[0].alt.as_deref(), Some("do"));
        let tags = parse_tags("<point x=\"1\" y=\"2\">a do");
        assert_eq!(tags[0].label, "a do");
        assert!(!tags[0].closed);
        assert!(parse_tags("<point").iter().all(|t| t.points.is_empty()));
    }

    #[test]
    fn out_of_range_and_garbage_values_are_dropped() {
        let tags = parse_tags(
            "<points x1=\"101\" y1=\"2\" x2=\"-1\" y2=\"2\" x3=\"1.2.3\" y3=\"4\" x4=\"5\" y4=\"6\">",
        );
        assert_eq!(xy(&tags[0].points), [(5.0, 6.0)]);
        assert_eq!(tags[0].dropped, 3);
        assert!(extract_points("<pointer x=\"1\" y=\"2\">").is_empty());
        assert!(extract_points("x=\"1\" y=\"2\" <<<>>> </point>").is_empty());
    }

    #[test]
    fn molmo2_coords_read_back_on_the_grid() {
        let tags = parse_tags("<points alt=\"mug\" coords=\"1 1 123 005 2 234 567\">mug</points>");
        assert_eq!(tags[0].format, Format::Molmo2);
        assert_eq!(xy(&tags[0].points), [(12.3, 0.5), (23.4, 56.7)]);
        assert_eq!(tags[0].images, [1, 1]);
        let tags = parse_tags("<points coords=\"1 1 100 200;2 1 300 400 2 1001 5\">");
        assert_eq!(xy(&tags[0].points), [(10.0, 20.0), (30.0, 40.0)]);
        assert_eq!(tags[0].images, [1, 2]);
        assert_eq!(tags[0].dropped, 1);
        let tags = parse_tags("<points coords=\"1 1 100 200 2 300 40");
        assert_eq!(xy(&tags[0].points), [(10.0, 20.0)]);
    }

    #[test]
    fn non_ascii_text_around_and_inside_tags() {
        let tags = parse_tags("ü<point x=\"1\" y=\"2\" alt=\"日本\">猫</point>é<point x=ü");
        assert_eq!(tags[0].label, "猫");
        assert_eq!(tags[0].alt.as_deref(), Some("日本"));
        assert_eq!(tags[1].points, []);
    }
}
