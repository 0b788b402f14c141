//! Number words as counts are read from answers and captions (Molmo reads `three` as well as
//! `3`): one table for the evaluations, the trainer and the caption checks.

/// `zero` … `twenty`, at their values.
pub const NUMBER_WORDS: [&str; 21] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

/// The value of a lower-case number word (`"seven"` → 7), or `None`.
#[must_use]
pub fn number_word_value(word: &str) -> Option<u64> {
    NUMBER_WORDS
        .iter()
        .position(|w| *w == word)
        .and_then(|n| u64::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_have_their_values() {
        assert_eq!(number_word_value("zero"), Some(0));
        assert_eq!(number_word_value("seven"), Some(7));
        assert_eq!(number_word_value("twenty"), Some(20));
        assert_eq!(number_word_value("Seven"), None);
        assert_eq!(number_word_value("twentyone"), None);
    }
}
