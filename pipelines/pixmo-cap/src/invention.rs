//! The guard against invention: the details of a caption that a reader can check against
//! the speakers' words, and those that no transcript contains.
//!
//! A caption written from transcripts may only state what the speakers said. Four kinds of
//! detail are checked word by word (the rest is covered by the content-word share in
//! [`crate::stages::caption::support`]):
//! - **numbers**: digit runs (`3`, `1,200`, `2.5`) and the number words `two` … `twenty`,
//!   compared by value, so `three` in a transcript supports `3` in the caption. `one` is not
//!   checked as a word (it is mostly a pronoun: "one of the cups"), but `1` is;
//! - **colours**: a fixed list of colour words, with `gray`/`grey` and `-ish` forms
//!   (`reddish`) read as their base colour;
//! - **names**: capitalised words that do not start a sentence (`Paris`, `Coca-Cola`), and
//!   all-capital words of two or more letters (`NASA`), compared case-insensitively;
//! - **quoted text**: anything between double quotes (straight or curly) must occur, as the
//!   same sequence of words, in one transcript.
//!
//! Names at the start of a sentence are not recognised as names; that is the price of not
//! running a named-entity model.

use std::collections::BTreeSet;

/// What kind of detail was invented.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A number no transcript states.
    Number,
    /// A colour no transcript names.
    Colour,
    /// A name no transcript says.
    Name,
    /// Quoted text no transcript contains.
    Quote,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Number => "number",
            Kind::Colour => "colour",
            Kind::Name => "name",
            Kind::Quote => "quote",
        }
    }
}

/// One detail of the caption that no transcript supports, as written in the caption.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Invented {
    /// Its kind.
    pub kind: Kind,
    /// The caption's words.
    pub text: String,
}

impl std::fmt::Display for Invented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} \"{}\"", self.kind.label(), self.text)
    }
}

const COLOURS: &[&str] = &[
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "violet",
    "pink",
    "brown",
    "black",
    "white",
    "gray",
    "silver",
    "gold",
    "golden",
    "beige",
    "tan",
    "navy",
    "teal",
    "turquoise",
    "maroon",
    "cyan",
    "magenta",
    "crimson",
    "scarlet",
    "indigo",
    "lavender",
    "olive",
    "ivory",
    "khaki",
    "burgundy",
    "amber",
    "bronze",
    "copper",
    "cream",
];

/// The base colour a word names (`grey` → `gray`, `reddish` → `red`), if any.
fn colour(word: &str) -> Option<&'static str> {
    let word = match word {
        "grey" | "greyish" | "grayish" => "gray",
        "reddish" => "red",
        "bluish" | "blueish" => "blue",
        "greenish" => "green",
        "yellowish" => "yellow",
        "brownish" => "brown",
        "pinkish" => "pink",
        "purplish" => "purple",
        "orangish" | "orangey" => "orange",
        "blackish" => "black",
        "whitish" => "white",
        w => w,
    };
    COLOURS.iter().copied().find(|c| *c == word)
}

/// Words: runs of letters, digits and inner `'`, `-`, `.` or `,` between digits.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || "()[]{}\"\u{201c}\u{201d};:!?/".contains(c))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The value of a number token (`1,200` → 1200, `2.5` → 2.5, `seven` → 7), as a canonical
/// string; `None` for other words and for `one`/`zero` as words.
fn number(word: &str) -> Option<String> {
    let lower = word.to_lowercase();
    if lower
        .chars()
        .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
        && lower.chars().any(|c| c.is_ascii_digit())
    {
        let plain: String = lower.chars().filter(|c| *c != ',').collect();
        return match plain.parse::<f64>() {
            Ok(v) if v.is_finite() => Some(format!("{v}")),
            _ => Some(plain),
        };
    }
    match lower.as_str() {
        "one" | "zero" => None,
        w => pixmo_points::number_word_value(w).map(|n| n.to_string()),
    }
}

/// Every number value a text states, number words `one` and `zero` included (a transcript
/// saying "one" supports a caption's `1`).
fn stated_numbers(text: &str) -> BTreeSet<String> {
    words(text)
        .into_iter()
        .filter_map(|w| {
            number(w).or_else(|| {
                pixmo_points::number_word_value(&w.to_lowercase()).map(|n| n.to_string())
            })
        })
        .collect()
}

/// Lower-case words with non-alphanumerics removed, for sequence matching.
fn normalised(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The quoted passages of a text (between straight or curly double quotes).
fn quotes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for c in text.chars() {
        match (c, current.as_mut()) {
            ('"' | '\u{201c}', None) => current = Some(String::new()),
            ('"' | '\u{201d}', Some(_)) => {
                if let Some(q) = current.take()
                    && !q.trim().is_empty()
                {
                    out.push(q.trim().to_string());
                }
            }
            (c, Some(q)) => q.push(c),
            _ => {}
        }
    }
    out
}

/// Sentences: split after `.`, `!`, `?` or `:` followed by white space or the end (so `2.5`
/// and `e.g.x` stay whole).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let ends = matches!(c, '.' | '!' | '?' | ':')
            && chars.peek().is_none_or(|(_, next)| next.is_whitespace());
        if ends {
            let end = i + c.len_utf8();
            out.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn is_name(word: &str, sentence_start: bool) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    let acronym = letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase());
    if acronym {
        return true;
    }
    first.is_uppercase() && !sentence_start && word != "I" && !word.starts_with("I'")
}

/// The details of `caption` that no transcript supports, in caption order, each once.
#[must_use]
pub fn invented_details(caption: &str, transcripts: &[String]) -> Vec<Invented> {
    let heard: String = transcripts.join("\n");
    let heard_numbers = stated_numbers(&heard);
    let heard_words: BTreeSet<String> = normalised(&heard).into_iter().collect();
    let heard_colours: BTreeSet<&str> = heard_words.iter().filter_map(|w| colour(w)).collect();
    let heard_sequences: Vec<Vec<String>> = transcripts.iter().map(|t| normalised(t)).collect();

    let mut found = Vec::new();
    let mut push = |kind: Kind, text: &str| {
        let item = Invented {
            kind,
            text: text.to_string(),
        };
        if !found.contains(&item) {
            found.push(item);
        }
    };

    let quoted = quotes(caption);
    for quote in &quoted {
        let wanted = normalised(quote);
        let present = !wanted.is_empty()
            && heard_sequences
                .iter()
                .any(|seq| seq.windows(wanted.len()).any(|w| w == wanted.as_slice()));
        if !present && !wanted.is_empty() {
            push(Kind::Quote, quote);
        }
    }
    // Words inside quotes are judged as quotes, not as names.
    let mut outside = String::new();
    let mut inside = false;
    for c in caption.chars() {
        match c {
            '"' | '\u{201c}' | '\u{201d}' => {
                inside = !inside;
                outside.push(' ');
            }
            c if !inside => outside.push(c),
            _ => {}
        }
    }

    for sentence in sentences(&outside) {
        for (i, word) in words(sentence).into_iter().enumerate() {
            if let Some(value) = number(word)
                && !heard_numbers.contains(&value)
            {
                push(Kind::Number, word);
                continue;
            }
            let lower = word.to_lowercase();
            for part in lower.split('-') {
                if let Some(c) = colour(part)
                    && !heard_colours.contains(c)
                {
                    push(Kind::Colour, word);
                }
            }
            if is_name(word, i == 0) && !word.chars().all(|c| c.is_ascii_digit()) {
                let known = normalised(word).iter().all(|w| heard_words.contains(w));
                if !known {
                    push(Kind::Name, word);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heard(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| (*t).to_string()).collect()
    }

    fn invented(caption: &str, transcripts: &[&str]) -> Vec<String> {
        invented_details(caption, &heard(transcripts))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_faithful_caption_invents_nothing() {
        let t = [
            "um so there are three uh grey cats on a a sofa and a sign that says open daily",
            "a poster from Paris with 12 stars, it's kind of reddish",
        ];
        assert_eq!(
            invented(
                "Three gray cats rest on a sofa beside a sign reading \u{201c}Open daily\u{201d}. \
                 A reddish poster from Paris shows 12 stars, and one cat looks up.",
                &t
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn numbers_colours_names_and_quotes_not_heard_are_named() {
        let t = ["two cats on a red sofa near a sign"];
        assert_eq!(
            invented(
                "Two cats sit on a red sofa near a blue sign from IKEA in Stockholm that says \
                 \"Welcome home\", with 5 cushions and seven books.",
                &t
            ),
            vec![
                "quote \"Welcome home\"",
                "colour \"blue\"",
                "name \"IKEA\"",
                "name \"Stockholm\"",
                "number \"5\"",
                "number \"seven\"",
            ]
        );
    }

    #[test]
    fn numbers_compare_by_value_and_one_is_a_pronoun() {
        let t = ["there are twelve eggs and one thousand two hundred grains, about 2.50 metres"];
        assert!(invented("Twelve eggs, 2.5 metres long.", &t).is_empty());
        assert_eq!(
            invented("One of the 12 eggs and 1 spoon.", &["twelve eggs"]),
            ["number \"1\""]
        );
        assert_eq!(
            invented("A 1,200 page book.", &["a 1200 page book"]),
            Vec::<String>::new()
        );
        assert_eq!(
            invented("A 1,300 page book.", &["a 1200 page book"]),
            ["number \"1,300\""]
        );
    }

    #[test]
    fn sentence_starts_are_not_names_but_hyphenated_colours_are_checked() {
        let t = ["a dog on grass"];
        assert!(invented("Dogs play. The dog is on grass.", &t).is_empty());
        assert_eq!(
            invented("A dog on blue-green grass.", &t),
            ["colour \"blue-green\""]
        );
        assert_eq!(invented("A dog on grass: Fido.", &t), Vec::<String>::new());
        assert_eq!(
            invented("A dog named Fido on grass.", &t),
            ["name \"Fido\""]
        );
    }
}
