//! AskModelAnything: a draft answer from question + OCR text + caption, and revisions from
//! the annotator's feedback.
//!
//! The conversation sent to the model is: the system message, the question with the OCR
//! text and caption, then each earlier answer and the feedback on it, so a revision sees
//! the whole trail.

use std::time::Instant;

use pixmo_llm::{
    ChatRequest, FinishReason, LlmClient, LlmProvenance, Message, ModelIdentity, PromptTemplate,
    SamplingParams,
};
use serde::{Deserialize, Serialize};

use crate::context::{OcrText, caption_for_prompt};
use crate::error::{Error, Result};
use crate::prompts::prompts;

/// One turn of the annotation conversation after the question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "text")]
pub enum Turn {
    /// An answer the model gave.
    Answer(String),
    /// What the annotator said was wrong with the answer before it.
    Feedback(String),
}

/// One answer of the model, with what produced it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// The answer, trimmed.
    pub text: String,
    /// The model that wrote it.
    pub model: ModelIdentity,
    /// Id of the template of the last message sent (the question or the feedback).
    pub prompt_template_id: String,
    /// SHA-256 of that template's text.
    pub prompt_template_sha256: String,
    /// The shard schema's provenance of the call.
    pub provenance: LlmProvenance,
    /// Wall-clock time of the call, in milliseconds (near 0 for a cached reply).
    pub elapsed_ms: u64,
    /// Whether the reply came from the response cache.
    pub cached: bool,
    /// Whether generation stopped at the token limit (the answer may be cut short).
    pub truncated: bool,
}

/// Sampling of every call: greedy, fixed seed, room for a long answer.
pub(crate) fn params() -> SamplingParams {
    SamplingParams {
        max_tokens: 1024,
        seed: Some(0),
        temperature: 0.0,
        top_p: None,
        ..pixmo_llm::SamplingParams::default()
    }
}

/// Drafts the first answer to `question` from the OCR text and caption only.
///
/// # Errors
/// [`Error::EmptyQuestion`], [`Error::EmptyReply`], or the LLM layer's error.
pub async fn draft(
    client: &dyn LlmClient,
    question: &str,
    ocr: &OcrText,
    caption: Option<&str>,
) -> Result<Draft> {
    let p = prompts();
    let messages = opening(&p.ama_system, &p.ama_question, question, ocr, caption, None)?;
    ask(client, &p.ama_question, messages).await
}

/// Revises the last answer of `history` following `feedback`.
///
/// `history` is every turn after the question, oldest first: answers and feedback
/// alternating, starting and ending with an answer (the one `feedback` is about).
///
/// # Errors
/// [`Error::History`] for a malformed history, [`Error::EmptyFeedback`], and those of
/// [`draft`].
pub async fn revise(
    client: &dyn LlmClient,
    question: &str,
    ocr: &OcrText,
    caption: Option<&str>,
    history: &[Turn],
    feedback: &str,
) -> Result<Draft> {
    let p = prompts();
    let mut messages = opening(&p.ama_system, &p.ama_question, question, ocr, caption, None)?;
    continue_with(&mut messages, history, feedback)?;
    ask(client, &p.feedback, messages).await
}

/// System message and first user message.
pub(crate) fn opening(
    system: &PromptTemplate,
    template: &PromptTemplate,
    question: &str,
    ocr: &OcrText,
    caption: Option<&str>,
    groups: Option<&str>,
) -> Result<Vec<Message>> {
    let question = question.trim();
    if question.is_empty() {
        return Err(Error::EmptyQuestion);
    }
    let ocr = ocr.for_prompt();
    let caption = caption_for_prompt(caption);
    let mut variables = vec![
        ("question", question),
        ("ocr", ocr.as_str()),
        ("caption", caption.as_str()),
    ];
    if let Some(groups) = groups {
        variables.push(("groups", groups));
    }
    Ok(vec![
        Message::system(system.render(&[])?),
        Message::user(template.render(&variables)?),
    ])
}

/// Appends the history and the new feedback.
pub(crate) fn continue_with(
    messages: &mut Vec<Message>,
    history: &[Turn],
    feedback: &str,
) -> Result<()> {
    let feedback = feedback.trim();
    if feedback.is_empty() {
        return Err(Error::EmptyFeedback);
    }
    if history.is_empty() {
        return Err(Error::History(
            "there is no answer to revise (the history is empty)".into(),
        ));
    }
    let template = &prompts().feedback;
    for (i, turn) in history.iter().enumerate() {
        let want_answer = i.is_multiple_of(2);
        match (turn, want_answer) {
            (Turn::Answer(text), true) => messages.push(Message::assistant(text.clone())),
            (Turn::Feedback(text), false) => {
                messages.push(Message::user(template.render(&[("feedback", text)])?));
            }
            (Turn::Answer(_), false) => {
                return Err(Error::History(format!(
                    "turn {} is an answer but should be feedback (answers and feedback alternate)",
                    i + 1
                )));
            }
            (Turn::Feedback(_), true) => {
                return Err(Error::History(format!(
                    "turn {} is feedback but should be an answer (the history starts with an answer and alternates)",
                    i + 1
                )));
            }
        }
    }
    if history.len().is_multiple_of(2) {
        return Err(Error::History(
            "the history ends with feedback; it must end with the answer being revised".into(),
        ));
    }
    messages.push(Message::user(template.render(&[("feedback", feedback)])?));
    Ok(())
}

/// Sends `messages` and wraps the reply as a [`Draft`].
pub(crate) async fn ask(
    client: &dyn LlmClient,
    template: &PromptTemplate,
    messages: Vec<Message>,
) -> Result<Draft> {
    let request = ChatRequest::new(messages).with_params(params());
    let provenance = LlmProvenance::new(client.identity(), template, &request);
    let started = Instant::now();
    let response = client.chat(request).await?;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let text = response.text.trim().to_string();
    if text.is_empty() {
        return Err(Error::EmptyReply {
            model: client.identity().name.clone(),
        });
    }
    Ok(Draft {
        text,
        model: client.identity().clone(),
        prompt_template_id: template.id().to_string(),
        prompt_template_sha256: template.sha256().to_string(),
        provenance,
        elapsed_ms,
        cached: response.cached,
        truncated: response.finish_reason == FinishReason::Length,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history_error(history: &[Turn]) -> String {
        let mut messages = Vec::new();
        continue_with(&mut messages, history, "too vague")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn histories_must_alternate_from_an_answer_to_an_answer() {
        let a = |s: &str| Turn::Answer(s.into());
        let f = |s: &str| Turn::Feedback(s.into());
        assert!(history_error(&[]).contains("no answer to revise"));
        assert!(history_error(&[f("x")]).contains("turn 1 is feedback"));
        assert!(history_error(&[a("x"), a("y")]).contains("turn 2 is an answer"));
        assert!(history_error(&[a("x"), f("y")]).contains("ends with feedback"));

        let mut messages = Vec::new();
        continue_with(
            &mut messages,
            &[a("one"), f("wrong"), a("two")],
            "still wrong",
        )
        .unwrap();
        let roles: Vec<&str> = messages.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["assistant", "user", "assistant", "user"]);
        assert!(
            messages[1]
                .content
                .contains("<feedback>\nwrong\n</feedback>")
        );
        assert!(messages[3].content.contains("still wrong"));

        let mut messages = Vec::new();
        let empty = continue_with(&mut messages, &[a("one")], "  ").unwrap_err();
        assert!(matches!(empty, Error::EmptyFeedback));
    }

    #[test]
    fn turns_serialize_with_their_kind() {
        let json = serde_json::to_string(&Turn::Feedback("no".into())).unwrap();
        assert_eq!(json, r#"{"kind":"feedback","text":"no"}"#);
    }
}
