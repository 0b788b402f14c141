//! OCR quality: character error rate against text known exactly (rendered documents).

/// Character error rate: the edit distance (insertions, deletions, substitutions of
/// Unicode scalar values) from `reference` to `hypothesis`, divided by the reference length.
/// Runs of whitespace count as one space and both ends are trimmed, so layout (line breaks,
/// column gaps) is not counted as an error. 0 is perfect; it can exceed 1 when the
/// hypothesis is much longer. An empty reference gives 0 for an empty hypothesis, else 1.
#[must_use]
pub fn character_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let reference = normalized(reference);
    let hypothesis = normalized(hypothesis);
    if reference.is_empty() {
        return if hypothesis.is_empty() { 0.0 } else { 1.0 };
    }
    edit_distance(&reference, &hypothesis) as f64 / reference.len() as f64
}

fn normalized(text: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars());
    }
    out
}

/// Levenshtein distance in O(len(a) * len(b)) time and O(len(b)) memory.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        assert_eq!(character_error_rate("kitten", "sitting"), 3.0 / 6.0);
        assert_eq!(character_error_rate("abc", "abc"), 0.0);
        assert_eq!(
            character_error_rate("Total 4.20\nEUR", "  Total 4.20 EUR "),
            0.0
        );
        assert_eq!(character_error_rate("ab", ""), 1.0);
        assert_eq!(character_error_rate("", ""), 0.0);
        assert_eq!(character_error_rate("", "x"), 1.0);
        assert_eq!(character_error_rate("a", "abcd"), 3.0);
        assert_eq!(character_error_rate("façade", "facade"), 1.0 / 6.0);
    }
}
