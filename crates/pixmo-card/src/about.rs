//! What each dataset is, in words, for the card.

use pixmo_annotation_schema::Dataset;

/// Prose about one dataset.
pub(crate) struct About {
    /// Name of the released dataset this rebuilds.
    pub pretty_name: &'static str,
    /// What the dataset is (a paragraph).
    pub summary: &'static str,
    /// Dataset-specific limitations (bullets).
    pub limitations: &'static [&'static str],
}

/// Prose about `dataset`.
pub(crate) fn about(dataset: Dataset) -> About {
    match dataset {
        Dataset::Clocks => About {
            pretty_name: "PixMo-Clocks",
            summary: "PixMo-Clocks teaches a vision-language model to read analog clocks and \
                watches. Every image is a procedurally rendered watch face (an SVG drawn with \
                resvg) showing an exact, known time; the label comes from the same numbers \
                that placed the hands, so it is correct by construction. Rows carry the time \
                (`watch_time`, 24-hour, and `text`/`answer` in Molmo's 12-hour clock \
                convention), which hands are visible, and a question about the time.",
            limitations: &[
                "Faces are synthetic: real photographs add glare, perspective, occlusion and \
                 blur that these renders model only partly.",
                "Analog faces show no AM/PM, so the answer is a 12-hour time; `watch_time` \
                 keeps the 24-hour value that was sampled.",
                "Watch face designs come from a finite set of procedural styles; a model may \
                 overfit to them.",
            ],
        },
        Dataset::Cap => About {
            pretty_name: "PixMo-Cap",
            summary: "PixMo-Cap pairs images with dense captions written by a text-only LLM \
                from transcripts of spoken image descriptions.",
            limitations: &["Captions inherit the speakers' and the ASR model's errors."],
        },
        Dataset::AskModelAnything => About {
            pretty_name: "PixMo-AskModelAnything",
            summary: "PixMo-AskModelAnything holds human questions about images with LLM \
                answers that the annotator accepted or edited.",
            limitations: &["Answers were written by a text-only LLM from image text."],
        },
        Dataset::Points => About {
            pretty_name: "PixMo-Points",
            summary: "PixMo-Points holds referring expressions with a point on every \
                instance, in percent of the image size.",
            limitations: &["Points mark instances, not their extent."],
        },
        Dataset::PointExplanations => About {
            pretty_name: "PixMo-Point-Explanations",
            summary: "PixMo-Point-Explanations holds answers that cite image points inline.",
            limitations: &["Explanations were written by a text-only LLM."],
        },
        Dataset::CapQa => About {
            pretty_name: "PixMo-CapQA",
            summary: "PixMo-CapQA holds questions and answers that a text-only LLM wrote \
                from image captions.",
            limitations: &["Questions can only ask about what the caption says."],
        },
        Dataset::Docs => About {
            pretty_name: "PixMo-Docs",
            summary: "PixMo-Docs holds charts, tables, documents and diagrams rendered from \
                code (written by an LLM in the original), with questions answered from the \
                underlying data and code.",
            limitations: &["Figures are rendered, not scanned or photographed."],
        },
        Dataset::Count => About {
            pretty_name: "PixMo-Count",
            summary: "PixMo-Count holds object counts with a point per object, from an \
                object detector.",
            limitations: &["Counts inherit the detector's misses and false positives."],
        },
    }
}
