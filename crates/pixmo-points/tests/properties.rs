//! Round trips of the writers through the parser, and the parser on hostile text.

use pixmo_points::{
    Format, Percent, coords_tag, counting_answer, extract_points, parse_tags, point_tag,
    sorted_for_text,
};
use proptest::prelude::*;

fn percent() -> impl Strategy<Value = Percent> {
    // Any real value in range, not only one-decimal ones: the writer rounds.
    (0.0..=100.0f64, 0.0..=100.0f64).prop_map(|(x, y)| Percent::new(x, y).unwrap())
}

fn text() -> impl Strategy<Value = String> {
    // Printable text including markup characters, quotes, non-ASCII and spaces.
    proptest::collection::vec(
        prop_oneof![
            Just('<'),
            Just('>'),
            Just('"'),
            Just('\''),
            Just(' '),
            Just('='),
            Just('é'),
            Just('猫'),
            proptest::char::range('a', 'z'),
            proptest::char::range('0', '9'),
        ],
        0..20,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// Fragments of markup that hostile text is stitched from.
const FRAGMENTS: &[&str] = &[
    "<point",
    "<points",
    "</point>",
    "</points>",
    " ",
    "x",
    "y",
    "x1",
    "y12",
    "=",
    "\"",
    "'",
    "10.5",
    "100",
    "1000",
    "-3",
    ".",
    "1e9",
    ">",
    "/>",
    "<",
    "alt=",
    "coords=\"",
    "1 1 123 456",
    ";",
    "é",
    "日本",
    "\n",
];

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..40)
            .prop_map(|parts| parts.concat()),
    ]
}

fn xy(points: &[Percent]) -> Vec<(u16, u16)> {
    points.iter().map(|p| p.tenths()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn v1_markup_reads_back(points in proptest::collection::vec(percent(), 1..50),
                            label in text(), alt in text()) {
        let tag = point_tag(&points, &label, &alt).unwrap();
        let tags = parse_tags(&tag);
        prop_assert_eq!(tags.len(), 1, "{}", tag);
        let read = &tags[0];
        prop_assert_eq!(read.format, Format::MolmoV1);
        prop_assert_eq!(xy(&read.points), xy(&sorted_for_text(&points)));
        prop_assert_eq!(read.points.len(), points.len());
        let cleaned = pixmo_points::write::clean_label(&label);
        prop_assert_eq!(read.label.as_str(), cleaned.trim());
        prop_assert_eq!(read.alt.clone(), Some(pixmo_points::write::clean_alt(&alt)));
        prop_assert!(read.closed);
        prop_assert_eq!(read.dropped, 0);
    }

    #[test]
    fn molmo2_markup_reads_back(points in proptest::collection::vec(percent(), 1..50),
                                label in text(), image in 1u32..5) {
        let tag = coords_tag(&points, &label, &label, image).unwrap();
        let tags = parse_tags(&tag);
        prop_assert_eq!(tags.len(), 1, "{}", tag);
        prop_assert_eq!(tags[0].format, Format::Molmo2);
        prop_assert_eq!(xy(&tags[0].points), xy(&sorted_for_text(&points)));
        prop_assert!(tags[0].images.iter().all(|&i| i == image));
        prop_assert_eq!(tags[0].dropped, 0);
    }

    #[test]
    fn counting_sentence_reads_back(points in proptest::collection::vec(percent(), 0..50),
                                    label in text()) {
        let answer = counting_answer(&points, &label);
        let suffix = format!(" shows a total of {}.", points.len());
        prop_assert!(points.is_empty() || answer.ends_with(&suffix), "{}", answer);
        prop_assert_eq!(xy(&extract_points(&answer)), xy(&sorted_for_text(&points)));
    }

    /// A model's answer cut off anywhere yields a prefix of the full answer's points.
    #[test]
    fn cut_off_answers_give_a_prefix_of_the_points(
        points in proptest::collection::vec(percent(), 1..20),
        molmo2 in any::<bool>(),
        cut in 0.0..1.0f64,
    ) {
        let full = if molmo2 {
            coords_tag(&points, "a b", "a b", 1).unwrap()
        } else {
            counting_answer(&points, "a b")
        };
        let all = xy(&extract_points(&full));
        let mut at = (full.len() as f64 * cut) as usize;
        while !full.is_char_boundary(at) {
            at -= 1;
        }
        let some = xy(&extract_points(&full[..at]));
        prop_assert!(all.starts_with(&some), "{} -> {:?}", &full[..at], some);
    }

    #[test]
    fn hostile_text_never_panics_and_keeps_points_in_range(text in hostile()) {
        for tag in parse_tags(&text) {
            for p in &tag.points {
                prop_assert!((0.0..=100.0).contains(&p.x()) && (0.0..=100.0).contains(&p.y()));
            }
            prop_assert!(tag.images.is_empty() || tag.images.len() == tag.points.len());
        }
    }
}

/// The parser's work stays linear: a megabyte of tag openings parses quickly.
#[test]
fn a_megabyte_of_tag_openings() {
    let text = "<points x1=\"1\" ".repeat(70_000);
    let tags = parse_tags(&text);
    assert_eq!(tags.len(), 70_000);
    assert!(tags.iter().all(|t| t.points.is_empty() && t.dropped == 1));
}
