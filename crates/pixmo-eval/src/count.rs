//! Counting answers, scored as Molmo's `PointCountEval` does: exact and within one.

/// The count an answer gives, or `None` when it gives none. In order:
/// 1. `a total of N` (the last one): Molmo's counting sentence;
/// 2. otherwise the last integer, number word (`zero` … `twenty`) or `none` (0) in the text
///    outside markup: text inside `<…>` is skipped, so the coordinates of a point tag are
///    never read as a count (`<points x1="20.5" …>` alone gives no count).
#[must_use]
pub fn parse_count(answer: &str) -> Option<u64> {
    let text = without_markup(answer).to_lowercase();
    if let Some(at) = text.rfind("a total of") {
        let digits: String = text[at + "a total of".len()..]
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(n) = digits.parse() {
            return Some(n);
        }
    }
    let mut last = None;
    for token in text.split(|c: char| !c.is_alphanumeric()) {
        if token.is_empty() {
            continue;
        }
        if token.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = token.parse() {
                last = Some(n);
            }
        } else if token == "none" {
            last = Some(0);
        } else if let Some(n) = pixmo_points::number_word_value(token) {
            last = Some(n);
        }
    }
    last
}

/// The text with everything from a `<` to the next `>` (or the end) removed.
fn without_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for c in text.chars() {
        match c {
            '<' => inside = true,
            '>' if inside => {
                inside = false;
                out.push(' ');
            }
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// Scores of one counting answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CountScore {
    /// The answer gave a count.
    pub valid: bool,
    /// The count is the gold count.
    pub exact: bool,
    /// The count is within one of the gold count.
    pub close: bool,
}

/// Scores an answer against the gold count.
#[must_use]
pub fn score_count(answer: &str, gold: u64) -> CountScore {
    match parse_count(answer) {
        Some(n) => CountScore {
            valid: true,
            exact: n == gold,
            close: n.abs_diff(gold) <= 1,
        },
        None => CountScore::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn molmo_counting_sentences_and_plain_answers() {
        let sentence = "Counting the <points x1=\"10.5\" y1=\"20.3\" x2=\"50.0\" y2=\"10.2\" \
                        alt=\"cups\">cups</points> shows a total of 12.";
        assert_eq!(parse_count(sentence), Some(12));
        assert_eq!(parse_count("There are none."), Some(0));
        assert_eq!(parse_count("none"), Some(0));
        assert_eq!(parse_count("I see three dogs"), Some(3));
        assert_eq!(parse_count("2 cats and 5 dogs"), Some(5), "the last number");
        assert_eq!(parse_count("A total of 7"), Some(7));
        assert_eq!(parse_count("??"), None);
        assert_eq!(parse_count(""), None);
    }

    #[test]
    fn coordinates_inside_markup_are_not_counts() {
        assert_eq!(
            parse_count("<points x1=\"20.5\" y1=\"30.1\">cups</points>"),
            None
        );
        assert_eq!(parse_count("<points x1=\"20.5\" y1=\"30"), None, "cut off");
        assert_eq!(
            parse_count("<point x=\"1.0\" y=\"2.0\">cup</point> so 4"),
            Some(4)
        );
        assert_eq!(parse_count("99999999999999999999999 or 3"), Some(3));
    }

    #[test]
    fn exact_and_within_one() {
        let s = score_count("a total of 4.", 5);
        assert!(s.valid && !s.exact && s.close);
        assert!(score_count("a total of 5.", 5).exact);
        assert!(!score_count("a total of 7.", 5).close);
        assert_eq!(score_count("nothing", 0), CountScore::default());
        assert!(score_count("There are none.", 1).close);
    }
}
