//! Prompt templates: an id, the SHA-256 of the text, and `{{name}}` placeholders.
//!
//! The id and hash go into every generated row's provenance, so a changed prompt is visible
//! in the data. Placeholders are parsed when the template is built: a malformed one fails
//! at plan time, and rendering checks that exactly the template's variables are supplied.

use std::collections::BTreeSet;

use crate::client::sha256_hex;
use crate::error::{Error, Result};

/// A prompt template with named `{{variable}}` placeholders.
///
/// Placeholders are `{{` + optional spaces + an identifier (`[A-Za-z_][A-Za-z0-9_]*`) +
/// optional spaces + `}}`. Any other `{{` is an error; single braces are literal text, so
/// JSON examples need no escaping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptTemplate {
    id: String,
    text: String,
    sha256: String,
    pieces: Vec<Piece>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Variable(String),
}

impl PromptTemplate {
    /// Parses `text` as the template `id`.
    ///
    /// # Errors
    /// [`Error::Template`] when a `{{` does not open a well-formed placeholder.
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Result<Self> {
        let id = id.into();
        let text = text.into();
        let pieces = parse(&text).map_err(|reason| Error::Template {
            id: id.clone(),
            reason,
        })?;
        Ok(Self {
            sha256: sha256_hex(text.as_bytes()),
            id,
            text,
            pieces,
        })
    }

    /// The template id (for example `cap.caption.v1`).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The template text as written.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// SHA-256 of the template text.
    #[must_use]
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The variables the template uses, sorted.
    #[must_use]
    pub fn variables(&self) -> BTreeSet<&str> {
        self.pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Variable(name) => Some(name.as_str()),
                Piece::Text(_) => None,
            })
            .collect()
    }

    /// Fills the placeholders from `(name, value)` pairs.
    ///
    /// # Errors
    /// [`Error::Template`] naming a missing variable, or a supplied one the template lacks.
    pub fn render(&self, variables: &[(&str, &str)]) -> Result<String> {
        let error = |reason: String| Error::Template {
            id: self.id.clone(),
            reason,
        };
        let wanted = self.variables();
        if let Some((name, _)) = variables.iter().find(|(name, _)| !wanted.contains(name)) {
            let known = wanted.iter().copied().collect::<Vec<_>>().join("`, `");
            return Err(error(format!(
                "unknown variable `{name}`; the template uses `{known}`"
            )));
        }
        let mut out = String::with_capacity(self.text.len());
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Variable(name) => {
                    let value = variables
                        .iter()
                        .find(|(supplied, _)| supplied == name)
                        .ok_or_else(|| error(format!("variable `{name}` has no value")))?;
                    out.push_str(value.1);
                }
            }
        }
        Ok(out)
    }
}

fn parse(text: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| {
            format!(
                "`{{{{` at byte {} is never closed",
                text.len() - rest.len() + open
            )
        })?;
        let name = after[..close].trim();
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`{{{{{}}}}}` is not a placeholder (expected `{{{{identifier}}}}`)",
                &after[..close]
            ));
        }
        pieces.push(Piece::Variable(name.to_string()));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_named_variables_and_keeps_single_braces() {
        let template = PromptTemplate::new(
            "test.v1",
            "Describe {{ subject }} as JSON like {\"caption\": \"...\"}. Subject: {{subject}}, {{style}}.",
        )
        .unwrap();
        assert_eq!(
            template.variables().into_iter().collect::<Vec<_>>(),
            ["style", "subject"]
        );
        let text = template
            .render(&[("subject", "a dog"), ("style", "terse")])
            .unwrap();
        assert_eq!(
            text,
            "Describe a dog as JSON like {\"caption\": \"...\"}. Subject: a dog, terse."
        );
    }

    #[test]
    fn hash_is_of_the_text() {
        let template = PromptTemplate::new("t", "abc").unwrap();
        // sha256("abc"), a published test vector.
        assert_eq!(
            template.sha256(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn mistakes_are_reported_with_the_template_id() {
        let unclosed = PromptTemplate::new("t.unclosed", "Hi {{name").unwrap_err();
        assert_eq!(
            unclosed.to_string(),
            "Prompt template `t.unclosed`: `{{` at byte 3 is never closed"
        );
        let bad = PromptTemplate::new("t.bad", "{{ two words }}").unwrap_err();
        assert!(bad.to_string().contains("is not a placeholder"), "{bad}");

        let template = PromptTemplate::new("t.ok", "Hi {{name}}").unwrap();
        let missing = template.render(&[]).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "Prompt template `t.ok`: variable `name` has no value"
        );
        let unknown = template
            .render(&[("name", "Ada"), ("nmae", "typo")])
            .unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "Prompt template `t.ok`: unknown variable `nmae`; the template uses `name`"
        );
    }
}
