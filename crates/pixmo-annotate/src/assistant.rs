//! The LLM behind AskModelAnything and Point-Explanations: a small trait so tests and other
//! backends can stand in, and [`LlmAssistant`], the real one over `pixmo-llm`'s
//! [`LlmClient`]. Point-Explanations go through `pixmo-assist`'s `explain` module (its
//! prompts, its reading of the answer's citations and its send-backs).
//!
//! The model sees only text: the question, the image's OCR text and its caption (and, for
//! Point-Explanations, the marked points as numbers with their labels). It never sees the
//! image, so rows stay VLM-free.

use std::sync::Arc;
use std::time::Instant;

use pixmo_assist::{Draft, Explained, OcrText, PointGroup, Turn as AssistTurn};
use pixmo_llm::{ChatRequest, LlmClient, LlmProvenance, Message, PromptTemplate, SamplingParams};

use crate::error::{Error, Result};
use crate::store::{Turn, TurnKind};

/// One answer from the assistant, with what produced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The answer text.
    pub text: String,
    /// Model, prompt template and parameters.
    pub provenance: LlmProvenance,
    /// Wall time of the call in milliseconds.
    pub elapsed_ms: u64,
}

/// Boxed future of an assistant call.
pub type ReplyFuture<'a> = pixmo_llm::BoxFuture<'a, Result<Reply>>;

/// Boxed future of a Point-Explanations call.
pub type ExplainFuture<'a> = pixmo_llm::BoxFuture<'a, Result<Explained>>;

/// What a Point-Explanations call is given.
#[derive(Clone, Copy, Debug)]
pub struct ExplainRequest<'a> {
    /// The question.
    pub question: &'a str,
    /// OCR text (may be empty).
    pub ocr_text: &'a str,
    /// Caption (may be empty).
    pub caption: &'a str,
    /// The marked places, numbered from 1 in the prompt.
    pub groups: &'a [PointGroup],
    /// Earlier answers and the feedback on each (automatic send-backs included), oldest
    /// first, ending with the answer `feedback` is about; empty for a first draft.
    pub history: &'a [AssistTurn],
    /// What to fix in the last answer of `history`; `None` for a first draft.
    pub feedback: Option<&'a str>,
}

impl Reply {
    /// A `pixmo-assist` draft as a reply.
    #[must_use]
    pub fn from_draft(draft: &Draft) -> Reply {
        Reply {
            text: draft.text.clone(),
            provenance: draft.provenance.clone(),
            elapsed_ms: draft.elapsed_ms,
        }
    }
}

/// Drafts and revises answers to annotators' questions.
pub trait Assistant: Send + Sync {
    /// A first answer to `question` from the image's OCR text and caption (either may be
    /// empty).
    fn draft<'a>(
        &'a self,
        question: &'a str,
        ocr_text: &'a str,
        caption: &'a str,
    ) -> ReplyFuture<'a>;

    /// A new answer after the annotator's `feedback`; `history` is the trail so far
    /// (question, drafts, feedback, revisions).
    fn revise<'a>(
        &'a self,
        context: &'a DraftContext,
        history: &'a [Turn],
        feedback: &'a str,
    ) -> ReplyFuture<'a>;

    /// A Point-Explanations answer citing `request.groups` (a first draft, or a revision
    /// when `request.feedback` is set), read into the released layout or sent back.
    /// Assistants that cannot do this refuse.
    fn explain<'a>(&'a self, request: ExplainRequest<'a>) -> ExplainFuture<'a> {
        let _ = request;
        Box::pin(async {
            Err(Error::Invalid(
                "This server's assistant cannot write point explanations".into(),
            ))
        })
    }
}

/// What the model is told about the image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DraftContext {
    /// The question.
    pub question: String,
    /// OCR text (may be empty).
    pub ocr_text: String,
    /// Caption (may be empty).
    pub caption: String,
}

const SYSTEM: &str = "You answer questions about an image you cannot see. You are given text \
read from the image by OCR and a caption written by a person. Answer the question helpfully \
and concisely; say so when the text and caption do not tell.";

const DRAFT: &str = "Question: {{question}}\n\nText in the image (OCR):\n{{ocr}}\n\nCaption:\n{{caption}}\n\nAnswer the question.";

const REVISE: &str = "The annotator says your last answer needs changes:\n{{feedback}}\n\nWrite the whole answer again with those changes.";

/// The real assistant: prompt templates rendered and sent through an [`LlmClient`].
pub struct LlmAssistant {
    client: Arc<dyn LlmClient>,
    params: SamplingParams,
    draft: PromptTemplate,
    revise: PromptTemplate,
}

impl std::fmt::Debug for LlmAssistant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmAssistant")
            .field("model", self.client.identity())
            .finish_non_exhaustive()
    }
}

impl LlmAssistant {
    /// An assistant over `client` with `params` (greedy, seed 0 by default).
    ///
    /// # Errors
    /// Only if the built-in templates failed to parse (a bug).
    pub fn new(client: Arc<dyn LlmClient>, params: SamplingParams) -> Result<LlmAssistant> {
        let template = |id: &str, text: &str| {
            PromptTemplate::new(id, text).map_err(|e| Error::Assistant(Box::new(e)))
        };
        Ok(LlmAssistant {
            client,
            params,
            draft: template("annotate.ama.draft.v1", DRAFT)?,
            revise: template("annotate.ama.revise.v1", REVISE)?,
        })
    }

    async fn call(&self, template: &PromptTemplate, messages: Vec<Message>) -> Result<Reply> {
        let request = ChatRequest::new(messages).with_params(self.params.clone());
        let provenance = LlmProvenance::new(self.client.identity(), template, &request);
        let start = Instant::now();
        let response = self
            .client
            .chat(request)
            .await
            .map_err(|e| Error::Assistant(Box::new(e)))?;
        Ok(Reply {
            text: response.text.trim().to_string(),
            provenance,
            elapsed_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    fn first_message(&self, context: &DraftContext) -> Result<String> {
        let or_none = |s: &str| {
            if s.trim().is_empty() {
                "(none)".to_string()
            } else {
                s.to_string()
            }
        };
        self.draft
            .render(&[
                ("question", context.question.as_str()),
                ("ocr", or_none(&context.ocr_text).as_str()),
                ("caption", or_none(&context.caption).as_str()),
            ])
            .map_err(|e| Error::Assistant(Box::new(e)))
    }
}

impl Assistant for LlmAssistant {
    fn draft<'a>(
        &'a self,
        question: &'a str,
        ocr_text: &'a str,
        caption: &'a str,
    ) -> ReplyFuture<'a> {
        Box::pin(async move {
            let context = DraftContext {
                question: question.to_string(),
                ocr_text: ocr_text.to_string(),
                caption: caption.to_string(),
            };
            let user = self.first_message(&context)?;
            self.call(
                &self.draft,
                vec![Message::system(SYSTEM), Message::user(user)],
            )
            .await
        })
    }

    fn revise<'a>(
        &'a self,
        context: &'a DraftContext,
        history: &'a [Turn],
        feedback: &'a str,
    ) -> ReplyFuture<'a> {
        Box::pin(async move {
            let mut messages = vec![
                Message::system(SYSTEM),
                Message::user(self.first_message(context)?),
            ];
            for turn in history {
                match turn.kind {
                    TurnKind::Draft | TurnKind::Revision => {
                        messages.push(Message::assistant(turn.text.clone()));
                    }
                    TurnKind::Feedback => {
                        let text = self
                            .revise
                            .render(&[("feedback", turn.text.as_str())])
                            .map_err(|e| Error::Assistant(Box::new(e)))?;
                        messages.push(Message::user(text));
                    }
                    TurnKind::Question | TurnKind::Accept | TurnKind::SendBack => {}
                }
            }
            let last = self
                .revise
                .render(&[("feedback", feedback)])
                .map_err(|e| Error::Assistant(Box::new(e)))?;
            if messages.last().map(|m| &m.content) != Some(&last) {
                messages.push(Message::user(last));
            }
            self.call(&self.revise, messages).await
        })
    }

    fn explain<'a>(&'a self, request: ExplainRequest<'a>) -> ExplainFuture<'a> {
        Box::pin(async move {
            let ocr = OcrText::new(request.ocr_text);
            let caption = Some(request.caption).filter(|c| !c.trim().is_empty());
            let client = self.client.as_ref();
            let result = match request.feedback {
                None => {
                    pixmo_assist::explain(client, request.question, &ocr, caption, request.groups)
                        .await
                }
                Some(feedback) => {
                    pixmo_assist::revise_explanation(
                        client,
                        request.question,
                        &ocr,
                        caption,
                        request.groups,
                        request.history,
                        feedback,
                    )
                    .await
                }
            };
            result.map_err(|e| match e {
                // The request's own faults read as refusals, not as a failing model.
                pixmo_assist::Error::EmptyQuestion
                | pixmo_assist::Error::EmptyFeedback
                | pixmo_assist::Error::History(_)
                | pixmo_assist::Error::NoPoints(_) => Error::Invalid(e.to_string()),
                other => Error::Assistant(Box::new(other)),
            })
        })
    }
}
