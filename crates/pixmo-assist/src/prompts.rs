//! The prompt templates, named and hashed (their id and SHA-256 go into provenance).
//!
//! Every prompt tells the model what it is given: the annotator's question, the text an OCR
//! model read from the image and a caption, and that it cannot see the image.

use std::sync::OnceLock;

use pixmo_llm::PromptTemplate;

/// The templates of this crate.
#[derive(Clone, Debug)]
pub struct Prompts {
    /// System message of AskModelAnything.
    pub ama_system: PromptTemplate,
    /// First user message of AskModelAnything: question, OCR text, caption.
    pub ama_question: PromptTemplate,
    /// The annotator's feedback on a draft (AskModelAnything and Point-Explanations).
    pub feedback: PromptTemplate,
    /// System message of Point-Explanations.
    pub explain_system: PromptTemplate,
    /// First user message of Point-Explanations: question, OCR, caption, point groups.
    pub explain_question: PromptTemplate,
}

const AMA_SYSTEM: &str = "You answer questions about an image that you cannot see. You are given only text: the person's question, the text that an OCR model (not a vision model) read from the image, and a caption describing the image. Answer from that text alone, as helpfully and precisely as it allows. Do not say that you were given OCR text or a caption; answer as if describing the image. If the text does not settle the answer, say what can be told and what cannot.";

const AMA_QUESTION: &str = "Question: {{question}}\n\nText the OCR model read from the image:\n<ocr>\n{{ocr}}\n</ocr>\n\nCaption of the image:\n<caption>\n{{caption}}\n</caption>\n\nWrite the answer only.";

const FEEDBACK: &str = "The person says the answer is not right yet:\n<feedback>\n{{feedback}}\n</feedback>\nWrite the whole answer again, fixing that. Keep everything else that was right. Write the answer only.";

const EXPLAIN_SYSTEM: &str = "You answer questions about an image that you cannot see. You are given only text: the person's question, the text that an OCR model (not a vision model) read from the image, a caption describing the image, and numbered groups of places the person marked in the image, each with a label and its points (x and y in percent of the image width and height, from the top-left corner). Your answer must refer to the marked places: wrap the words that refer to a marked group in a tag naming its number, like <point group=\"2\">the two red mugs</point>. Cite at least one group. Never cite a group number that is not listed, and never write coordinates yourself.";

const EXPLAIN_QUESTION: &str = "Question: {{question}}\n\nText the OCR model read from the image:\n<ocr>\n{{ocr}}\n</ocr>\n\nCaption of the image:\n<caption>\n{{caption}}\n</caption>\n\nPlaces the person marked:\n{{groups}}\n\nWrite the answer only, citing the marked places with <point group=\"N\">...</point> tags.";

/// The templates (parsed once).
///
/// # Panics
/// Never: the texts are fixed and parse (a unit test checks).
#[must_use]
pub fn prompts() -> &'static Prompts {
    static PROMPTS: OnceLock<Prompts> = OnceLock::new();
    PROMPTS.get_or_init(|| {
        let t =
            |id: &str, text: &str| PromptTemplate::new(id, text).expect("built-in template parses");
        Prompts {
            ama_system: t("assist.ama.system.v1", AMA_SYSTEM),
            ama_question: t("assist.ama.question.v1", AMA_QUESTION),
            feedback: t("assist.feedback.v1", FEEDBACK),
            explain_system: t("assist.explain.system.v1", EXPLAIN_SYSTEM),
            explain_question: t("assist.explain.question.v1", EXPLAIN_QUESTION),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_and_name_their_inputs() {
        let p = prompts();
        assert_eq!(
            p.ama_question.variables().into_iter().collect::<Vec<_>>(),
            ["caption", "ocr", "question"]
        );
        assert_eq!(
            p.explain_question
                .variables()
                .into_iter()
                .collect::<Vec<_>>(),
            ["caption", "groups", "ocr", "question"]
        );
        assert!(p.ama_system.variables().is_empty());
        for system in [&p.ama_system, &p.explain_system] {
            assert!(system.text().contains("cannot see"));
            assert!(system.text().contains("OCR model (not a vision model)"));
            assert!(system.text().contains("caption"));
        }
    }
}
