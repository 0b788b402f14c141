//! Writers of Molmo's point markup and counting sentences (PIXMO_DATA.md §3.4, §3.7).
//!
//! Molmo escapes nothing; a `"` inside `alt` or a `<`/`>` in a label would make its own
//! output unreadable. These writers replace `"` in `alt` with `'` and `<`, `>` in `alt` and
//! the label with spaces ([`clean_alt`], [`clean_label`]), so whatever they write the
//! parser reads back.

use crate::coords::Percent;

/// The answer to a pointing question with no match.
pub const NONE_SENTENCE: &str = "There are none.";

/// `alt` as the writers print it: `"` becomes `'`, `<` and `>` become spaces.
#[must_use]
pub fn clean_alt(alt: &str) -> String {
    alt.chars()
        .map(|c| match c {
            '"' => '\'',
            '<' | '>' => ' ',
            c => c,
        })
        .collect()
}

/// A label as the writers print it: `<` and `>` become spaces.
#[must_use]
pub fn clean_label(label: &str) -> String {
    label
        .chars()
        .map(|c| if matches!(c, '<' | '>') { ' ' } else { c })
        .collect()
}

/// The points in Molmo's order: rounded to one decimal, then left to right and, for equal
/// printed `x`, top to bottom (Molmo's key `x*10000 + y` taken on the printed values).
#[must_use]
pub fn sorted_for_text(points: &[Percent]) -> Vec<Percent> {
    let mut sorted: Vec<Percent> = points.iter().map(|p| p.rounded()).collect();
    sorted.sort_by_key(|p| p.tenths());
    sorted
}

fn tenths_text(t: u16) -> String {
    format!("{}.{}", t / 10, t % 10)
}

/// Molmo v1 markup: `<point x="12.3" y="45.6" alt="…">label</point>` for one point,
/// `<points x1="…" y1="…" x2="…" … alt="…">label</points>` for several, coordinates in
/// percent with one decimal, sorted by [`sorted_for_text`]. `None` for no points (the
/// answer is then [`NONE_SENTENCE`]).
#[must_use]
pub fn point_tag(points: &[Percent], label: &str, alt: &str) -> Option<String> {
    let (label, alt) = (clean_label(label), clean_alt(alt));
    match sorted_for_text(points).as_slice() {
        [] => None,
        [p] => {
            let (x, y) = p.tenths();
            Some(format!(
                "<point x=\"{}\" y=\"{}\" alt=\"{alt}\">{label}</point>",
                tenths_text(x),
                tenths_text(y)
            ))
        }
        many => {
            let mut coords = String::new();
            for (i, p) in many.iter().enumerate() {
                let (x, y) = p.tenths();
                let n = i + 1;
                coords.push_str(&format!(
                    "x{n}=\"{}\" y{n}=\"{}\" ",
                    tenths_text(x),
                    tenths_text(y)
                ));
            }
            Some(format!("<points {coords}alt=\"{alt}\">{label}</points>"))
        }
    }
}

/// Molmo2 markup for one image: `<points alt="…" coords="I 1 xxx yyy 2 xxx yyy">label</points>`,
/// where `I` is the image's index (1 for a single image), then per point its id (from 1)
/// and its position on the 0–1000 grid, zero-padded to three digits; points sorted as in
/// [`sorted_for_text`]. `None` for no points.
#[must_use]
pub fn coords_tag(points: &[Percent], label: &str, alt: &str, image: u32) -> Option<String> {
    if points.is_empty() {
        return None;
    }
    let (label, alt) = (clean_label(label), clean_alt(alt));
    let mut coords = image.to_string();
    for (i, p) in sorted_for_text(points).iter().enumerate() {
        let g = p.to_grid();
        coords.push_str(&format!(" {} {:03} {:03}", i + 1, g.x(), g.y()));
    }
    Some(format!(
        "<points alt=\"{alt}\" coords=\"{coords}\">{label}</points>"
    ))
}

/// Molmo's `pointing` answer: the point markup with `alt` equal to the label, or
/// [`NONE_SENTENCE`] for no points.
#[must_use]
pub fn pointing_answer(points: &[Percent], label: &str) -> String {
    point_tag(points, label, label).unwrap_or_else(|| NONE_SENTENCE.to_string())
}

/// Molmo's `point_count` answer: `Counting the <points …>label</points> shows a total of
/// N.`, or [`NONE_SENTENCE`] for no points.
#[must_use]
pub fn counting_answer(points: &[Percent], label: &str) -> String {
    match point_tag(points, label, label) {
        Some(tag) => format!("Counting the {tag} shows a total of {}.", points.len()),
        None => NONE_SENTENCE.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pc(x: f64, y: f64) -> Percent {
        Percent::new(x, y).unwrap()
    }

    #[test]
    fn v1_markup_is_sorted_left_to_right_with_one_decimal() {
        let points = [pc(50.0, 10.24), pc(10.5, 90.0), pc(10.5, 20.3)];
        assert_eq!(
            point_tag(&points, "dog", "dog").unwrap(),
            "<points x1=\"10.5\" y1=\"20.3\" x2=\"10.5\" y2=\"90.0\" x3=\"50.0\" y3=\"10.2\" \
             alt=\"dog\">dog</points>"
        );
        assert_eq!(
            point_tag(&[pc(3.0, 4.04)], "cat", "a cat").unwrap(),
            "<point x=\"3.0\" y=\"4.0\" alt=\"a cat\">cat</point>"
        );
        assert_eq!(point_tag(&[], "cat", "cat"), None);
        assert_eq!(pointing_answer(&[], "cat"), "There are none.");
    }

    #[test]
    fn counting_sentence_names_the_total() {
        assert_eq!(
            counting_answer(&[pc(1.0, 9.0), pc(0.5, 2.0)], "cups"),
            "Counting the <points x1=\"0.5\" y1=\"2.0\" x2=\"1.0\" y2=\"9.0\" alt=\"cups\">cups\
             </points> shows a total of 2."
        );
        assert_eq!(counting_answer(&[], "cups"), "There are none.");
    }

    #[test]
    fn molmo2_coords_are_zero_padded_on_the_grid() {
        assert_eq!(
            coords_tag(&[pc(23.4, 56.7), pc(12.3, 0.5)], "mug", "mug", 1).unwrap(),
            "<points alt=\"mug\" coords=\"1 1 123 005 2 234 567\">mug</points>"
        );
        assert_eq!(
            coords_tag(&[pc(100.0, 0.0)], "x", "x", 2).unwrap(),
            "<points alt=\"x\" coords=\"2 1 1000 000\">x</points>"
        );
    }

    #[test]
    fn markup_characters_in_labels_are_neutralised() {
        assert_eq!(
            point_tag(&[pc(1.0, 1.0)], "a<b>", "say \"hi\"").unwrap(),
            "<point x=\"1.0\" y=\"1.0\" alt=\"say 'hi'\">a b </point>"
        );
    }
}
