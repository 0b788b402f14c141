//! Word error rate, for measuring transcripts against known text.
//!
//! # Normalisation
//!
//! Both texts go through [`normalize`] before they are compared. It does exactly this, in
//! this order:
//!
//! 1. lowercases every character (Unicode full lowercase mapping, as Python's `str.lower`);
//! 2. deletes every character whose Unicode general category is punctuation (`Pc`, `Pd`,
//!    `Ps`, `Pe`, `Pi`, `Pf`, `Po`) — deletes, does not replace by a space, so `well-lit`
//!    becomes `welllit` and `don't` becomes `dont`; symbols (`$`, `+`, `%`, category `S*`)
//!    stay;
//! 3. splits on Unicode whitespace (any run of it, leading and trailing ignored).
//!
//! This is jiwer's (3.x, 4.x) `Compose([ToLowerCase(), RemovePunctuation(),
//! RemoveWhiteSpace(replace_by_space=True), RemoveMultipleSpaces(), Strip(),
//! ReduceToListOfListOfWords()])`. Note that jiwer's *bare* default (`wer_default`) does not
//! lowercase or remove punctuation; "as jiwer does" in pixmo means the composition above,
//! which `bench/faster_whisper_bench.py` passes to jiwer so both sides score identically.
//!
//! It does **not** do what whisper's `EnglishTextNormalizer` does: numbers are not spelled
//! out or collapsed (`two` and `2` are different words), British and American spellings
//! are not unified, contractions are not expanded, and fillers (`um`, `uh`) are not dropped.
//! The Unicode tables may be a newer version than the Python that runs jiwer; for English
//! text that makes no difference.
//!
//! # Counting
//!
//! The words are aligned by word-level Levenshtein distance (every substitution, deletion and
//! insertion costs 1). The WER is `(substitutions + deletions + insertions) / reference
//! words`, and can exceed 1 when the hypothesis has many extra words. The total number of
//! errors is the same for every minimal alignment; how it splits into substitutions,
//! deletions and insertions is not unique, and this module prefers, walking back from the
//! end, a match or substitution, then a deletion, then an insertion (jiwer, through
//! rapidfuzz, may pick another split of the same total). [`WordErrors`] are counts, so a
//! corpus WER is the sum of the clips' counts (`+`), as jiwer computes it for lists of
//! sentences — not the mean of per-clip rates.

use std::ops::{Add, AddAssign};

use serde::{Deserialize, Serialize};
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// The words of `text` after normalisation (see the module documentation).
#[must_use]
pub fn normalize(text: &str) -> Vec<String> {
    let cleaned: String = text
        .to_lowercase()
        .chars()
        .filter(|c| c.general_category_group() != GeneralCategoryGroup::Punctuation)
        .collect();
    cleaned.split_whitespace().map(str::to_string).collect()
}

/// The outcome of aligning a hypothesis with a reference, word by word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordErrors {
    /// Words of the reference (after normalisation).
    pub reference_words: usize,
    /// Words of the hypothesis (after normalisation).
    pub hypothesis_words: usize,
    /// Reference words found unchanged.
    pub hits: usize,
    /// Reference words replaced by another word.
    pub substitutions: usize,
    /// Reference words missing from the hypothesis.
    pub deletions: usize,
    /// Hypothesis words with no reference word.
    pub insertions: usize,
}

impl WordErrors {
    /// Substitutions + deletions + insertions.
    #[must_use]
    pub fn errors(&self) -> usize {
        self.substitutions + self.deletions + self.insertions
    }

    /// Word error rate: [`Self::errors`] / [`Self::reference_words`]. With an empty
    /// reference: 0 when the hypothesis is empty too, else infinity (jiwer refuses an empty
    /// reference).
    #[must_use]
    pub fn rate(&self) -> f64 {
        match (self.errors(), self.reference_words) {
            (0, _) => 0.0,
            (_, 0) => f64::INFINITY,
            (errors, words) => errors as f64 / words as f64,
        }
    }
}

impl Add for WordErrors {
    type Output = Self;

    fn add(mut self, other: Self) -> Self {
        self += other;
        self
    }
}

impl AddAssign for WordErrors {
    fn add_assign(&mut self, other: Self) {
        self.reference_words += other.reference_words;
        self.hypothesis_words += other.hypothesis_words;
        self.hits += other.hits;
        self.substitutions += other.substitutions;
        self.deletions += other.deletions;
        self.insertions += other.insertions;
    }
}

impl std::iter::Sum for WordErrors {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), Add::add)
    }
}

/// Normalises both texts and counts the word errors of `hypothesis` against `reference`.
#[must_use]
pub fn word_errors(reference: &str, hypothesis: &str) -> WordErrors {
    align(&normalize(reference), &normalize(hypothesis))
}

/// Word error rate of `hypothesis` against `reference` ([`word_errors`], then
/// [`WordErrors::rate`]).
#[must_use]
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    word_errors(reference, hypothesis).rate()
}

/// Counts the word errors of already normalised word lists.
#[must_use]
pub fn align<S: AsRef<str>>(reference: &[S], hypothesis: &[S]) -> WordErrors {
    let (n, m) = (reference.len(), hypothesis.len());
    // cost[i][j]: edit distance between the first i reference and first j hypothesis words.
    let width = m + 1;
    let mut cost = vec![0usize; (n + 1) * width];
    for i in 0..=n {
        cost[i * width] = i;
    }
    for (j, first_row) in cost.iter_mut().take(width).enumerate() {
        *first_row = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let same = reference[i - 1].as_ref() == hypothesis[j - 1].as_ref();
            let diagonal = cost[(i - 1) * width + j - 1] + usize::from(!same);
            let deletion = cost[(i - 1) * width + j] + 1;
            let insertion = cost[i * width + j - 1] + 1;
            cost[i * width + j] = diagonal.min(deletion).min(insertion);
        }
    }
    let mut counts = WordErrors {
        reference_words: n,
        hypothesis_words: m,
        ..WordErrors::default()
    };
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        let here = cost[i * width + j];
        if i > 0 && j > 0 {
            let same = reference[i - 1].as_ref() == hypothesis[j - 1].as_ref();
            if here == cost[(i - 1) * width + j - 1] + usize::from(!same) {
                if same {
                    counts.hits += 1;
                } else {
                    counts.substitutions += 1;
                }
                i -= 1;
                j -= 1;
                continue;
            }
        }
        if i > 0 && here == cost[(i - 1) * width + j] + 1 {
            counts.deletions += 1;
            i -= 1;
        } else {
            counts.insertions += 1;
            j -= 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(reference: &str, hypothesis: &str) -> (usize, usize, usize, usize) {
        let e = word_errors(reference, hypothesis);
        assert_eq!(
            e.hits + e.substitutions + e.deletions,
            e.reference_words,
            "{e:?}"
        );
        assert_eq!(
            e.hits + e.substitutions + e.insertions,
            e.hypothesis_words,
            "{e:?}"
        );
        (e.hits, e.substitutions, e.deletions, e.insertions)
    }

    #[test]
    fn normalisation_lowercases_deletes_punctuation_and_splits_on_whitespace() {
        assert_eq!(
            normalize("  A Brown dog,\tsitting on a \"red\" couch!\n"),
            ["a", "brown", "dog", "sitting", "on", "a", "red", "couch"]
        );
        // Punctuation is deleted, not replaced by a space; symbols stay.
        assert_eq!(
            normalize("A well-lit room. Don't… It costs $5 + 10%."),
            [
                "a", "welllit", "room", "dont", "it", "costs", "$5", "+", "10"
            ]
        );
        // Numbers are not spelled out; unicode letters are lowercased.
        assert_eq!(normalize("Two 2 ÉCOLE"), ["two", "2", "école"]);
        assert!(normalize(" ... -- ").is_empty());
    }

    #[test]
    fn identical_texts_have_no_errors_whatever_their_case_and_punctuation() {
        assert_eq!(counts("The cat sat.", "the cat sat"), (3, 0, 0, 0));
        assert_eq!(wer("The cat sat.", "THE CAT, SAT!"), 0.0);
    }

    #[test]
    fn a_substitution_a_deletion_and_an_insertion() {
        // the cat sat on the mat / the dog sat on mat: cat->dog, "the" deleted.
        assert_eq!(
            counts("the cat sat on the mat", "the dog sat on mat"),
            (4, 1, 1, 0)
        );
        assert!((wer("the cat sat on the mat", "the dog sat on mat") - 2.0 / 6.0).abs() < 1e-12);
        // One extra word.
        assert_eq!(counts("a red car", "a big red car"), (3, 0, 0, 1));
        assert!((wer("a red car", "a big red car") - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn an_empty_hypothesis_deletes_every_reference_word() {
        assert_eq!(counts("one two three four", ""), (0, 0, 4, 0));
        assert_eq!(wer("one two three four", "  "), 1.0);
    }

    #[test]
    fn insertions_can_push_the_rate_above_one() {
        // 2 reference words, 6 hypothesis words with both matched: 4 insertions -> 2.0.
        assert_eq!(
            counts("red couch", "a red and blue couch too"),
            (2, 0, 0, 4)
        );
        assert_eq!(wer("red couch", "a red and blue couch too"), 2.0);
        // Hallucinated repetition: 3 words, 9 heard, none matching.
        let e = word_errors("dog on couch", "thank you thank you thank you thank you .");
        assert_eq!(e.errors(), 8);
        assert_eq!((e.substitutions, e.insertions), (3, 5));
        assert!((e.rate() - 8.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn an_empty_reference() {
        assert_eq!(wer("", ""), 0.0);
        assert_eq!(wer("!", "..."), 0.0);
        assert_eq!(wer("", "hello"), f64::INFINITY);
        assert_eq!(counts("", "hello there"), (0, 0, 0, 2));
    }

    #[test]
    fn a_corpus_rate_sums_counts_rather_than_averaging_rates() {
        let total: WordErrors = [
            word_errors("a b c d e f g h i j", "a b c d e f g h i j"),
            word_errors("x", "y"),
        ]
        .into_iter()
        .sum();
        assert_eq!((total.reference_words, total.errors()), (11, 1));
        assert!((total.rate() - 1.0 / 11.0).abs() < 1e-12);
    }

    #[test]
    fn transposed_words_cost_two() {
        // Levenshtein, not a bag of words: "on red" vs "red on".
        assert_eq!(word_errors("sat on red", "sat red on").errors(), 2);
        assert_eq!(word_errors("abc", "abc abc abc").insertions, 2);
    }
}
