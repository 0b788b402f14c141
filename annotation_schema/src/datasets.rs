//! The seven PixMo datasets (plus point explanations): row types and Arrow schemas.
//!
//! Dataset-specific columns come first, named as in the released Hugging Face datasets;
//! [`crate::common::common_fields`] follow.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{
    ImageData, PixelPoint, Point, PointUnit, Provenance, common_fields, list_field, opt_str_field,
    pixel_points_field, point_metadata, point_type, points_field, str_field, str_list_field,
};

/// A PixMo dataset pixmo can build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dataset {
    /// PixMo-Cap: dense captions from spoken descriptions.
    Cap,
    /// PixMo-AskModelAnything: human questions, LLM answers accepted by the human.
    AskModelAnything,
    /// PixMo-Points: referring expressions with every instance pointed at.
    Points,
    /// PixMo-Point-Explanations: answers that cite points.
    PointExplanations,
    /// PixMo-CapQA: LLM questions written from captions.
    CapQa,
    /// PixMo-Docs: charts, tables, documents and diagrams rendered from code.
    Docs,
    /// PixMo-Clocks: rendered watch faces with exact times.
    Clocks,
    /// PixMo-Count: detector-based counts with points.
    Count,
}

/// What a dataset's shards look like.
#[derive(Clone, Debug)]
pub struct DatasetSchema {
    /// The dataset.
    pub dataset: Dataset,
    /// Column holding the unique row id.
    pub id_column: &'static str,
    /// Arrow schema of the shards, with field metadata and schema metadata
    /// (`pixmo.schema_version`, `pixmo.dataset`, `huggingface`).
    pub schema: SchemaRef,
    /// Whether several rows may show the same image by design (PixMo-Points,
    /// AskModelAnything, Point-Explanations and CapQA have many rows per image).
    pub rows_share_images: bool,
}

impl Dataset {
    /// Every dataset, in a fixed order.
    pub const ALL: [Dataset; 8] = [
        Dataset::Cap,
        Dataset::AskModelAnything,
        Dataset::Points,
        Dataset::PointExplanations,
        Dataset::CapQa,
        Dataset::Docs,
        Dataset::Clocks,
        Dataset::Count,
    ];

    /// The dataset's short name, used in paths and stage kinds (`clocks`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Cap => "cap",
            Dataset::AskModelAnything => "ask_model_anything",
            Dataset::Points => "points",
            Dataset::PointExplanations => "point_explanations",
            Dataset::CapQa => "cap_qa",
            Dataset::Docs => "docs",
            Dataset::Clocks => "clocks",
            Dataset::Count => "count",
        }
    }

    /// Looks a dataset up by its short name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Dataset> {
        Dataset::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The unit of this dataset's `points` column (PIXMO_DATA.md §3.5): percent for
    /// PixMo-Points and Point-Explanations, pixels for PixMo-Count; `None` without one.
    #[must_use]
    pub fn point_unit(self) -> Option<PointUnit> {
        match self {
            Dataset::Points | Dataset::PointExplanations => Some(PointUnit::Percent),
            Dataset::Count => Some(PointUnit::Pixels),
            _ => None,
        }
    }

    /// The id column and Arrow schema of this dataset's shards.
    #[must_use]
    pub fn schema(self) -> DatasetSchema {
        let (id_column, own) = own_fields(self);
        let mut fields = own;
        fields.extend(common_fields());
        let features = hf_features(&fields);
        let metadata = HashMap::from([
            (
                "pixmo.schema_version".to_string(),
                crate::SCHEMA_VERSION.to_string(),
            ),
            ("pixmo.dataset".to_string(), self.name().to_string()),
            (
                "huggingface".to_string(),
                serde_json::json!({ "info": { "features": features } }).to_string(),
            ),
        ]);
        DatasetSchema {
            dataset: self,
            rows_share_images: matches!(
                self,
                Dataset::AskModelAnything
                    | Dataset::Points
                    | Dataset::PointExplanations
                    | Dataset::CapQa
            ),
            id_column,
            schema: Arc::new(Schema::new_with_metadata(fields, metadata)),
        }
    }

    /// JSON Schema of one row of this dataset, generated from the Rust row type.
    #[must_use]
    pub fn json_schema(self) -> serde_json::Value {
        let schema = match self {
            Dataset::Cap => schemars::schema_for!(CapRow),
            Dataset::AskModelAnything => schemars::schema_for!(AskModelAnythingRow),
            Dataset::Points => schemars::schema_for!(PointsRow),
            Dataset::PointExplanations => schemars::schema_for!(PointExplanationsRow),
            Dataset::CapQa => schemars::schema_for!(CapQaRow),
            Dataset::Docs => schemars::schema_for!(DocsRow),
            Dataset::Clocks => schemars::schema_for!(ClocksRow),
            Dataset::Count => schemars::schema_for!(CountRow),
        };
        let mut value = serde_json::to_value(schema).unwrap_or_default();
        if let Some(obj) = value.as_object_mut() {
            obj.insert(
                "x-pixmo-schema-version".into(),
                crate::SCHEMA_VERSION.into(),
            );
        }
        value
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn i32_field(name: &str) -> Field {
    Field::new(name, DataType::Int32, false)
}

fn qa_type(with_explanation: bool) -> DataType {
    let mut fields = vec![str_field("question")];
    if with_explanation {
        fields.push(str_field("explanation"));
    }
    fields.push(str_field("answer"));
    if with_explanation {
        fields.push(str_field("type"));
    }
    DataType::Struct(Fields::from(fields))
}

fn f64_field(name: &str) -> Field {
    Field::new(name, DataType::Float64, false)
}

/// The Arrow type of [`RecordingInfo`].
fn recording_type() -> DataType {
    let segment = DataType::Struct(Fields::from(vec![
        f64_field("start"),
        f64_field("end"),
        str_field("text"),
        f64_field("avg_logprob"),
        f64_field("no_speech_prob"),
    ]));
    DataType::Struct(Fields::from(vec![
        str_field("audio"),
        str_field("audio_sha256"),
        str_field("annotator"),
        str_field("recorded_at"),
        str_field("license"),
        f64_field("duration_seconds"),
        str_field("language"),
        f64_field("avg_logprob"),
        f64_field("no_speech_prob"),
        str_field("model"),
        Field::new("synthetic_speech", DataType::Boolean, false),
        opt_str_field("speech_source"),
        opt_str_field("reference_text"),
        Field::new("reference_words", DataType::UInt32, true),
        Field::new("wer", DataType::Float64, true),
        list_field("segments", segment),
    ]))
}

/// The Arrow type of [`RejectedRecording`].
fn rejected_recording_type() -> DataType {
    DataType::Struct(Fields::from(vec![
        str_field("audio"),
        str_field("annotator"),
        str_field("kind"),
        str_field("message"),
    ]))
}

fn own_fields(dataset: Dataset) -> (&'static str, Vec<Field>) {
    match dataset {
        Dataset::Cap => (
            "id",
            vec![
                str_field("id"),
                opt_str_field("image_url"),
                str_field("caption"),
                str_list_field("transcripts"),
                i32_field("revision"),
                Field::new("synthetic_speech", DataType::Boolean, false),
                list_field("recordings", recording_type()),
                list_field("rejected_recordings", rejected_recording_type()),
            ],
        ),
        Dataset::AskModelAnything => (
            "id",
            vec![
                str_field("id"),
                opt_str_field("image_url"),
                str_field("question"),
                str_field("answer"),
            ],
        ),
        Dataset::Points => (
            "id",
            vec![
                str_field("id"),
                opt_str_field("image_url"),
                points_field("points"),
                i32_field("count"),
                str_field("label"),
                str_field("collection_method"),
            ],
        ),
        Dataset::PointExplanations => (
            "id",
            vec![
                str_field("id"),
                opt_str_field("image_url"),
                str_field("question"),
                opt_str_field("parsed_response"),
                str_list_field("alt_text"),
                str_list_field("inline_text"),
                list_field(
                    "points",
                    DataType::List(Arc::new(Field::new("item", point_type(), true))),
                )
                .with_metadata(point_metadata()),
            ],
        ),
        Dataset::CapQa => (
            "id",
            vec![
                str_field("id"),
                opt_str_field("image_url"),
                str_field("question"),
                str_field("answer"),
                str_list_field("messages"),
                str_field("cap_id"),
            ],
        ),
        Dataset::Docs => (
            "image_id",
            vec![
                str_field("image_id"),
                list_field("questions", qa_type(false)),
                list_field("qa_pairs", qa_type(true)),
                Field::new(
                    "metadata",
                    DataType::Struct(Fields::from(vec![
                        str_field("figure_type"),
                        str_field("persona"),
                        str_field("topic"),
                        str_field("category"),
                        str_field("style"),
                    ])),
                    false,
                ),
                str_field("data"),
                str_field("code"),
            ],
        ),
        Dataset::Clocks => (
            "example_id",
            vec![
                str_field("example_id"),
                str_field("watchface_id"),
                str_field("watchface_name"),
                str_field("watch_time"),
                str_field("time_format"),
                Field::new("shows_seconds", DataType::Boolean, false),
                i32_field("hour_visible"),
                i32_field("minute_visible"),
                i32_field("second_visible"),
                str_field("text"),
                str_field("question"),
                str_field("answer"),
            ],
        ),
        Dataset::Count => (
            "id",
            vec![
                str_field("id"),
                opt_str_field("image_url"),
                i32_field("count"),
                pixel_points_field("points"),
                str_field("label"),
            ],
        ),
    }
}

/// Hugging Face `datasets` feature descriptions for a list of Arrow fields, so that
/// `load_dataset("parquet", ...)` decodes `image` as an `Image` without custom code.
fn hf_features(fields: &[Field]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for field in fields {
        let feature = if field.name() == "image" {
            serde_json::json!({ "_type": "Image" })
        } else {
            hf_feature(field.data_type())
        };
        map.insert(field.name().clone(), feature);
    }
    serde_json::Value::Object(map)
}

fn hf_feature(data_type: &DataType) -> serde_json::Value {
    let value = |dtype: &str| serde_json::json!({ "dtype": dtype, "_type": "Value" });
    match data_type {
        DataType::Utf8 => value("string"),
        DataType::Binary => value("binary"),
        DataType::Boolean => value("bool"),
        DataType::Int32 => value("int32"),
        DataType::Int64 => value("int64"),
        DataType::UInt32 => value("uint32"),
        DataType::UInt64 => value("uint64"),
        DataType::Float64 => value("float64"),
        DataType::Timestamp(_, _) => value("timestamp[us, tz=UTC]"),
        DataType::List(item) => {
            serde_json::json!({ "feature": hf_feature(item.data_type()), "_type": "List" })
        }
        DataType::Struct(fields) => {
            let mut map = serde_json::Map::new();
            for f in fields {
                map.insert(f.name().clone(), hf_feature(f.data_type()));
            }
            serde_json::Value::Object(map)
        }
        other => value(&other.to_string().to_lowercase()),
    }
}

/// A question with its answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QuestionAnswer {
    /// The question.
    pub question: String,
    /// The answer.
    pub answer: String,
}

/// A CoSyn-style QA pair with its explanation and question type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QaPair {
    /// The question.
    pub question: String,
    /// How the answer follows from the data.
    pub explanation: String,
    /// The answer.
    pub answer: String,
    /// Question type (`retrieval`, `arithmetic`, `comparison`, `yes_no`, `count`, `unanswerable`...).
    #[serde(rename = "type")]
    pub qa_type: String,
}

/// Figure metadata of a docs row (CoSyn form).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DocsMetadata {
    /// Figure type, such as `bar chart` or `invoice`.
    pub figure_type: String,
    /// Persona the topic was drawn for.
    pub persona: String,
    /// Topic of the figure.
    pub topic: String,
    /// Category: `charts`, `tables`, `diagrams` or `other` (Molmo's style tag suffix).
    pub category: String,
    /// Molmo style tag, such as `pixmo_docs_charts`.
    pub style: String,
}

macro_rules! row {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: $ty,)*
            /// Embedded image (Hugging Face `Image` layout).
            pub image: ImageData,
            /// Lowercase hex SHA-256 of the image bytes.
            pub image_sha256: String,
            /// Image width in pixels.
            pub width: u32,
            /// Image height in pixels.
            pub height: u32,
            /// Per-row provenance.
            pub provenance: Provenance,
        }
    };
}

row!(
    /// A PixMo-Cap row.
    CapRow {
        /// Unique row id.
        id: String,
        /// Source image URL, when the image came from the web.
        image_url: Option<String>,
        /// Dense caption written by a text-only LLM from the transcripts.
        caption: String,
        /// One or more ASR transcripts of spoken descriptions.
        transcripts: Vec<String>,
        /// 1 for an image's first row; a later row carries recordings that arrived after the
        /// earlier one was committed (with all earlier ones): keep the highest per image.
        revision: i32,
        /// Whether any transcribed recording is synthesised speech, not a person.
        synthetic_speech: bool,
        /// Each transcribed recording, in `transcripts` order.
        recordings: Vec<RecordingInfo>,
        /// Recordings of the image that could not be used, with the reason.
        rejected_recordings: Vec<RejectedRecording>,
    }
);

/// One transcribed recording of a PixMo-Cap row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecordingInfo {
    /// Recording file, relative to the inbox.
    pub audio: String,
    /// SHA-256 of the recording's bytes.
    pub audio_sha256: String,
    /// Pseudonymous annotator id.
    pub annotator: String,
    /// RFC 3339 UTC time of the recording.
    pub recorded_at: String,
    /// Licence of the recording.
    pub license: String,
    /// Length in seconds.
    pub duration_seconds: f64,
    /// Language whisper decoded.
    pub language: String,
    /// Average token log-probability over the transcript.
    pub avg_logprob: f64,
    /// Highest no-speech probability of any window.
    pub no_speech_prob: f64,
    /// ASR model and SHA-256 (`tiny.en@<sha256>`).
    pub model: String,
    /// Synthesised speech (a text-to-speech engine), not a person.
    pub synthetic_speech: bool,
    /// What spoke, for synthetic speech.
    pub speech_source: Option<String>,
    /// What was said, when the inbox knows it (synthetic speech, read-aloud scripts).
    pub reference_text: Option<String>,
    /// Words of `reference_text` after normalisation.
    pub reference_words: Option<u32>,
    /// Word error rate of the transcript against `reference_text` (jiwer's normalisation).
    pub wer: Option<f64>,
    /// Segments with timestamps.
    pub segments: Vec<SegmentInfo>,
}

/// One ASR segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SegmentInfo {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// Text.
    pub text: String,
    /// Average token log-probability.
    pub avg_logprob: f64,
    /// No-speech probability.
    pub no_speech_prob: f64,
}

/// A recording that could not be used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RejectedRecording {
    /// Recording file, relative to the inbox.
    pub audio: String,
    /// Pseudonymous annotator id.
    pub annotator: String,
    /// Reason kind (`unreadable`, `silent`, `too_long`, ...).
    pub kind: String,
    /// Why.
    pub message: String,
}

row!(
    /// A PixMo-AskModelAnything row.
    AskModelAnythingRow {
        /// Unique row id.
        id: String,
        /// Source image URL.
        image_url: Option<String>,
        /// The annotator's question.
        question: String,
        /// The accepted answer.
        answer: String,
    }
);

row!(
    /// A PixMo-Points row.
    PointsRow {
        /// Unique row id.
        id: String,
        /// Source image URL.
        image_url: Option<String>,
        /// Every instance of `label`, in percent (0–100, one decimal).
        points: Vec<Point>,
        /// Number of points.
        count: i32,
        /// Referring expression.
        label: String,
        /// `pointing` or `counting`.
        collection_method: String,
    }
);

row!(
    /// A PixMo-Point-Explanations row.
    PointExplanationsRow {
        /// Unique row id.
        id: String,
        /// Source image URL.
        image_url: Option<String>,
        /// The question.
        question: String,
        /// Answer text with `<|POINT|>` placeholders.
        parsed_response: Option<String>,
        /// `alt` text of each point group.
        alt_text: Vec<String>,
        /// Inline text of each point group.
        inline_text: Vec<String>,
        /// Points of each group, in percent.
        points: Vec<Vec<Point>>,
    }
);

row!(
    /// A PixMo-CapQA row.
    CapQaRow {
        /// Unique row id.
        id: String,
        /// Source image URL.
        image_url: Option<String>,
        /// Question (multi-turn dialogues in `[USER] ... [ASSISTANT] ...` form).
        question: String,
        /// Final answer.
        answer: String,
        /// Dialogue turns, alternating user and assistant.
        messages: Vec<String>,
        /// The PixMo-Cap row whose caption the dialogue was written from.
        cap_id: String,
    }
);

row!(
    /// A PixMo-Docs row, carrying both the PixMo-Docs and the CoSyn form.
    DocsRow {
        /// Unique image id.
        image_id: String,
        /// PixMo-Docs form: question and answer.
        questions: Vec<QuestionAnswer>,
        /// CoSyn form: question, explanation, answer and type.
        qa_pairs: Vec<QaPair>,
        /// Figure type, persona, topic, category and style tag.
        metadata: DocsMetadata,
        /// The data the figure was rendered from (JSON).
        data: String,
        /// The code that rendered the figure.
        code: String,
    }
);

row!(
    /// A PixMo-Clocks row.
    ClocksRow {
        /// Unique example id.
        example_id: String,
        /// Stable id of the watch face design.
        watchface_id: String,
        /// Human-readable watch face description.
        watchface_name: String,
        /// Time the watch shows, `HH:MM:SS`, 24-hour.
        watch_time: String,
        /// Format of the labelled time: `h:mm` or `h:mm:ss` (12-hour, analog faces carry no AM/PM).
        time_format: String,
        /// Whether the face has a seconds hand.
        shows_seconds: bool,
        /// 1 when the hour hand is visible, else 0.
        hour_visible: i32,
        /// 1 when the minute hand is visible, else 0.
        minute_visible: i32,
        /// 1 when a seconds hand is visible, else 0.
        second_visible: i32,
        /// The labelled time as Molmo's clock evaluator parses it (`H:MM[:SS]`).
        text: String,
        /// A question about the time.
        question: String,
        /// The answer in Molmo's clock convention.
        answer: String,
    }
);

row!(
    /// A PixMo-Count row.
    CountRow {
        /// Unique row id.
        id: String,
        /// Source image URL.
        image_url: Option<String>,
        /// Number of objects.
        count: i32,
        /// Object centres in pixels of this row's image (x from the left edge in 0–width, y
        /// from the top edge in 0–height, one decimal), as PixMo-Count stores them.
        points: Vec<PixelPoint>,
        /// Object class.
        label: String,
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The Arrow schema and the JSON Schema of the Rust row type list the same columns.
    #[test]
    fn arrow_and_json_schemas_agree() {
        for dataset in Dataset::ALL {
            let json = dataset.json_schema();
            let props = json["properties"].as_object().expect("properties");
            let mut json_names: Vec<&str> = props.keys().map(String::as_str).collect();
            json_names.sort_unstable();
            let arrow = dataset.schema().schema;
            let mut arrow_names: Vec<&str> =
                arrow.fields().iter().map(|f| f.name().as_str()).collect();
            arrow_names.sort_unstable();
            assert_eq!(json_names, arrow_names, "{dataset}");
        }
    }

    #[test]
    fn id_column_exists_and_points_carry_their_unit() {
        for dataset in Dataset::ALL {
            let s = dataset.schema();
            assert!(s.schema.field_with_name(s.id_column).is_ok(), "{dataset}");
            let unit = s
                .schema
                .field_with_name("points")
                .ok()
                .map(|f| f.metadata()["unit"].clone());
            assert_eq!(
                unit.as_deref(),
                dataset.point_unit().map(PointUnit::as_str),
                "{dataset}"
            );
            assert_eq!(Dataset::from_name(dataset.name()), Some(dataset));
        }
        // PIXMO_DATA.md §3.5: PixMo-Points in percent, PixMo-Count in pixels.
        assert_eq!(Dataset::Points.point_unit(), Some(PointUnit::Percent));
        assert_eq!(Dataset::Count.point_unit(), Some(PointUnit::Pixels));
        let count = Dataset::Count.schema().schema;
        let meta = count.field_with_name("points").unwrap().metadata();
        assert_eq!(meta["unit"], "pixels");
        assert_eq!(meta["range"], "0-width, 0-height");
    }

    #[test]
    fn units_map_to_the_unit_square_through_the_image_size() {
        // The centre of a 640 x 480 image, in each unit.
        assert_eq!(
            PointUnit::Pixels.to_unit_square(320.0, 240.0, 640, 480),
            (0.5, 0.5)
        );
        assert_eq!(
            PointUnit::Percent.to_unit_square(50.0, 50.0, 640, 480),
            (0.5, 0.5)
        );
        assert_eq!(PointUnit::from_metadata("pixels"), Some(PointUnit::Pixels));
        assert_eq!(PointUnit::from_metadata("px"), None);
        let p = PixelPoint::rounded(300.04, 460.96, 448, 448);
        assert_eq!((p.x, p.y), (300.0, 448.0), "kept inside the image");
        let q = p.to_percent(448, 448);
        assert_eq!((q.x, q.y), (67.0, 100.0));
    }

    #[test]
    fn point_from_pixels_rounds_to_one_decimal() {
        let p = Point::from_pixels(33.3, 200.0, 448, 448);
        assert!((p.x - 7.4).abs() < 1e-9, "{p:?}");
        assert!((p.y - 44.6).abs() < 1e-9, "{p:?}");
    }

    /// The checked-in JSON Schema files are what the Rust types generate.
    /// `PIXMO_UPDATE_SCHEMAS=1 cargo test -p pixmo-annotation-schema` rewrites them.
    #[test]
    fn checked_in_json_schemas_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("json");
        let update = std::env::var_os("PIXMO_UPDATE_SCHEMAS").is_some();
        for dataset in Dataset::ALL {
            let path = dir.join(format!("{}.schema.json", dataset.name()));
            let want = serde_json::to_string_pretty(&dataset.json_schema()).unwrap() + "\n";
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &want).unwrap();
                continue;
            }
            let have = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                have == want,
                "{} is stale: run `PIXMO_UPDATE_SCHEMAS=1 cargo test -p pixmo-annotation-schema`",
                path.display()
            );
        }
    }
}
