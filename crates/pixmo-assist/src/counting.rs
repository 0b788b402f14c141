//! The counting-question flag (PIXMO_DATA.md §7).
//!
//! Many AskModelAnything questions ask "how many ...?" and were answered without points;
//! trained on them as they were, Molmo stopped pointing when counting. Molmo's fix is to
//! detect such questions with a deliberately broad rule and prefix them with a "no
//! pointing" instruction. This is pixmo's rule, written after the behaviour Molmo's detector
//! documents (high recall; a false positive only adds a harmless prefix):
//!
//! A question is a counting question unless it starts with "approximately", and it
//! contains, as whole words, case-insensitively, one of:
//! 1. `how many` (or `howmany`) followed by a word that is not a measure: units of time,
//!    length, area, volume, weight, money, speed, power, data and temperature (`hours`,
//!    `square feet`, `kilometers`, `dollars`, `mph`, `watts`, `degrees`...; metric units
//!    only bare or with a metric prefix, so `thermometers` count), comparisons (`more`,
//!    `fewer`, `less`), `likes` and `ways`;
//! 2. `count` or `tally` followed by `all`, `every`, `each` or `the`, not preceded by
//!    `do not`;
//! 3. `what`, `what's`, `what is/was/were`, `state(s)`, `indicate(s)`, `tell me` or `say`,
//!    then optionally `the` and `exact`/`precise`, then `count`, `total`, `number`, `num`,
//!    `amount`, `total count`, `total number` or `total amount`, then `of` and a word that is
//!    neither a measure nor `money` nor `the` ("the number of the player" is not a count);
//! 4. a fill-in blank counted out: `there are ___` or `a total of ___` (3 or more underscores).

/// Whether `question` asks for a count (see the module documentation for the rule).
#[must_use]
pub fn is_counting_question(question: &str) -> bool {
    let lower = question.to_lowercase();
    let words = words(&lower);
    if words.first().is_some_and(|w| *w == "approximately") {
        return false;
    }
    (0..words.len())
        .any(|i| how_many_at(&words, i) || count_all_at(&words, i) || number_of_at(&words, i))
        || blank_count(&lower)
}

/// Words: runs of letters, digits and apostrophes (`what's` stays one word).
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .collect()
}

fn how_many_at(words: &[&str], i: usize) -> bool {
    let next = match words[i] {
        "howmany" => i + 1,
        "how" if words.get(i + 1) == Some(&"many") => i + 2,
        _ => return false,
    };
    next < words.len() && !is_measure(&words[next..])
}

fn count_all_at(words: &[&str], i: usize) -> bool {
    matches!(words[i], "count" | "tally")
        && matches!(words.get(i + 1), Some(&("all" | "every" | "each" | "the")))
        && !(i >= 2 && words[i - 2] == "do" && words[i - 1] == "not")
}

fn number_of_at(words: &[&str], i: usize) -> bool {
    // The trigger and where the rest starts.
    let after = match (words[i], words.get(i + 1).copied()) {
        ("what", Some("is" | "was" | "were")) | ("tell", Some("me")) => i + 2,
        (
            "what" | "what's" | "what’s" | "state" | "states" | "indicate" | "indicates" | "say",
            _,
        ) => i + 1,
        _ => return false,
    };
    let mut j = after;
    if words.get(j) == Some(&"the") {
        j += 1;
    }
    if matches!(words.get(j), Some(&("exact" | "precise"))) {
        j += 1;
    }
    match words.get(j) {
        Some(&"total") if matches!(words.get(j + 1), Some(&("count" | "number" | "amount"))) => {
            j += 2;
        }
        Some(&("count" | "total" | "number" | "num" | "amount")) => j += 1,
        _ => return false,
    }
    if words.get(j) != Some(&"of") {
        return false;
    }
    let rest = &words[j + 1..];
    !rest.is_empty() && !matches!(rest[0], "money" | "the") && !is_measure(rest)
}

/// Whether `words` starts with a measure rather than countable things.
fn is_measure(words: &[&str]) -> bool {
    const SINGLE: &[&str] = &[
        "years",
        "months",
        "weeks",
        "days",
        "hours",
        "minutes",
        "acres",
        "leagues",
        "fathoms",
        "hectares",
        "inches",
        "ft",
        "miles",
        "yards",
        "dollars",
        "cents",
        "pounds",
        "euros",
        "mph",
        "kph",
        "more",
        "fewer",
        "less",
        "likes",
        "cubic",
        "gallons",
        "quarts",
        "pints",
        "weight",
        "tons",
        "ounces",
        "ways",
        "degrees",
        "calories",
        "hertz",
        "horsepower",
        "psi",
        "atmospheres",
    ];
    // Metric units, bare or with a metric prefix (`kilometers`, `milliseconds`), so that
    // `thermometers` and `diagrams` stay countable.
    const METRIC: &[&str] = &[
        "seconds", "meters", "metres", "liters", "litres", "grams", "bytes", "watts",
    ];
    const PREFIXES: &[&str] = &[
        "", "tera", "giga", "mega", "kilo", "hecto", "deca", "deka", "deci", "centi", "milli",
        "micro", "nano", "pico",
    ];
    let Some(&first) = words.first() else {
        return false;
    };
    let second = words.get(1).copied().unwrap_or("");
    SINGLE.contains(&first)
        || METRIC.iter().any(|unit| {
            first
                .strip_suffix(unit)
                .is_some_and(|prefix| PREFIXES.contains(&prefix))
        })
        || (matches!(first, "square" | "sq") && (second == "feet" || is_measure(&words[1..])))
        || (first == "different" && second == "ways")
        || (first == "nautical" && second == "miles")
        || (first == "fluid" && second == "ounces")
        || (first == "passing" && second == "yards")
}

fn blank_count(lower: &str) -> bool {
    ["there are ", "a total of "].iter().any(|lead| {
        lower.match_indices(lead).any(|(at, _)| {
            let blanks = lower[at + lead.len()..]
                .chars()
                .take_while(|&c| c == '_')
                .count();
            blanks >= 3
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_questions_are_flagged() {
        for q in [
            "How many cats are on the sofa?",
            "how many times does he smile?",
            "Tell me, how many cats?",
            "HOW MANY THERMOMETERS ARE THERE?",
            "Howmany chairs?",
            "Count all the cats",
            "Count the cats?",
            "Please tally every vote shown.",
            "What is the exact number of performers in the photo?",
            "What's the number of dogs?",
            "What number of zebras are standing in front of the fence?",
            "What is the number of elephants inside the enclosure?",
            "What amount of children are sitting in front of the TV?",
            "What is the total number of bottles on the shelf?",
            "Tell me the count of red cars",
            "The receipt lists a total of ___ items.",
            "There are ____ birds on the wire.",
            "How many cup are shown?",
            "How many square tiles are cracked?",
            "How many diagrams are on the page?",
        ] {
            assert!(is_counting_question(q), "{q}");
        }
    }

    #[test]
    fn other_questions_are_not() {
        for q in [
            "What is the number of degrees in the circle?",
            "What amount of money was spent?",
            "What is the maximum number of shoes present?",
            "What is the number written on top of the green bananas?",
            "What number is on the yellow train?",
            "What country is likely hosting this vehicle?",
            "Approximately how many people live in this city?",
            "How many watts does a night lamp use?",
            "How many miles are there?",
            "How many square feet is the room?",
            "How many more apples than pears are there?",
            "How many kilometers is the route?",
            "How many different ways can this be read?",
            "What is one change that would increase the number of frogs?",
            "Do not count the cars, just describe them.",
            "What is the number of the player who scored?",
            "Is this an account statement?",
            "Which counter is open?",
            "how many",
            "",
        ] {
            assert!(!is_counting_question(q), "{q}");
        }
    }
}
