//! What the PixMo-Docs data card says beyond the generic card: its prose, and how this copy
//! was made (procedural or LLM-written), read from the rows' recorded models.

use pixmo_card::{About, CardContext, CardExtension, LLM_TEXT_LIMITATION};

/// The card's prose.
pub const ABOUT: About = About {
    limitations: &["Figures are rendered, not scanned or photographed."],
    ..About::new(
        "PixMo-Docs",
        "PixMo-Docs holds charts, tables, documents and diagrams rendered from \
         code (written by an LLM in the original), with questions answered from the \
         underlying data and code.",
    )
};

/// The docs card: a paragraph on the mode this copy was built in, and the LLM limitation
/// unless no LLM was used. The generic per-column statistics stay on.
#[derive(Clone, Copy, Debug, Default)]
pub struct DocsCard;

/// A fresh extension, for [`crate::info`].
pub fn extension() -> Box<dyn CardExtension> {
    Box::new(DocsCard)
}

impl CardExtension for DocsCard {
    fn summary_notes(&self, card: &CardContext<'_>) -> Vec<String> {
        match card.llm_used {
            Some(true) => vec![
                "In this copy a text-only LLM wrote the data, the rendering code and the \
                 questions (see the models below)."
                    .into(),
            ],
            Some(false) => vec![
                "This copy was built in procedural mode: no LLM was used. Personas, topics and \
                 data come from seeded banks, the rendering code from parameterised templates, \
                 and every answer is computed from the data."
                    .into(),
            ],
            None => Vec::new(),
        }
    }

    fn limitations(&self, card: &CardContext<'_>) -> Vec<String> {
        if card.llm_used == Some(false) {
            Vec::new()
        } else {
            vec![LLM_TEXT_LIMITATION.into()]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_paragraph_and_llm_limitation_follow_the_recorded_models() {
        let card = |llm_used| CardContext {
            dataset: "docs",
            rows: 3,
            llm_used,
        };
        let procedural = card(Some(false));
        assert!(DocsCard.summary_notes(&procedural)[0].contains("procedural mode"));
        assert!(DocsCard.limitations(&procedural).is_empty());
        let llm = card(Some(true));
        assert!(DocsCard.summary_notes(&llm)[0].contains("a text-only LLM wrote"));
        assert_eq!(DocsCard.limitations(&llm), [LLM_TEXT_LIMITATION]);
        assert!(DocsCard.summary_notes(&card(None)).is_empty());
    }
}
