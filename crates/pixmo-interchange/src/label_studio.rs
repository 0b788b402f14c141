//! Label Studio: tasks with pre-filled keypoints out, the JSON export back in.
//!
//! Formats as Label Studio documents them (docs/source/guide/predictions.md, "Import
//! pre-annotated data"; docs/source/includes/task_format.md, "Label Studio JSON format of
//! annotated tasks"; tags KeyPointLabels and Choices):
//!
//! - a task is `{"data": {"image": ...}, "predictions": [{"model_version", "score",
//!   "result": [...]}]}`; a keypoint result is `{"id", "type": "keypointlabels",
//!   "from_name", "to_name", "original_width", "original_height", "image_rotation",
//!   "value": {"x", "y", "width", "keypointlabels": [label]}}` with `x`, `y` in percent of
//!   the original size;
//! - the JSON export is an array of tasks, each with `annotations`: `{"id", "result": [...],
//!   "was_cancelled", "completed_by", "created_at", "updated_at", "lead_time", ...}`; a
//!   choices result has `"type": "choices"` and `"value": {"choices": [...]}`.
//!
//! pixmo adds `pixmo_image_id` and `pixmo_label` to each task's `data` (Label Studio keeps
//! `data` as imported), which is how the export is joined back to the candidates.

use serde_json::{Value, json};

use pixmo_points::{ImageSize, Pixel};

use crate::candidate::{Candidate, check_candidates};
use crate::error::{Error, Result};
use crate::import::{Import, RejectKind, RowDraft};
use crate::verdict::{Tool, Verdict, VerdictOptions, Word, decide};

/// Names and settings of the Label Studio project.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelStudioOptions {
    /// `name` of the KeyPointLabels control (`from_name` of keypoint results).
    pub points_control: String,
    /// `name` of the Image object (`to_name` of every result).
    pub image_object: String,
    /// `name` of the Choices control holding the verdict.
    pub verdict_control: String,
    /// `model_version` of the predictions (the detector's name).
    pub model_version: String,
    /// Drawn size of a keypoint, percent of the image width.
    pub point_width: f64,
    /// How verdicts are read.
    pub verdict: VerdictOptions,
}

impl Default for LabelStudioOptions {
    fn default() -> Self {
        Self {
            points_control: "points".into(),
            image_object: "image".into(),
            verdict_control: "verdict".into(),
            model_version: "pixmo-candidates".into(),
            point_width: 0.6,
            verdict: VerdictOptions::default(),
        }
    }
}

const TOOL: &str = "Label Studio";

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// The labeling config of a verification project for `labels` (an Image, KeyPointLabels
/// with one Label per label, and a single-choice verdict).
#[must_use]
pub fn labeling_config(labels: &[&str], options: &LabelStudioOptions) -> String {
    let mut out = String::from("<View>\n");
    out.push_str(&format!(
        "  <Image name=\"{}\" value=\"$image\" zoom=\"true\"/>\n",
        escape(&options.image_object)
    ));
    out.push_str(&format!(
        "  <KeyPointLabels name=\"{}\" toName=\"{}\">\n",
        escape(&options.points_control),
        escape(&options.image_object)
    ));
    for label in labels {
        out.push_str(&format!("    <Label value=\"{}\"/>\n", escape(label)));
    }
    out.push_str("  </KeyPointLabels>\n");
    out.push_str(&format!(
        "  <Choices name=\"{}\" toName=\"{}\" choice=\"single\" showInline=\"true\">\n",
        escape(&options.verdict_control),
        escape(&options.image_object)
    ));
    for word in options.verdict.accept.iter().chain(&options.verdict.reject) {
        out.push_str(&format!("    <Choice value=\"{}\"/>\n", escape(word)));
    }
    out.push_str("  </Choices>\n</View>\n");
    out
}

/// The tasks file (a JSON array, one task per candidate, candidate points as predictions).
///
/// # Errors
/// [`Error::Candidate`] for an invalid or repeated candidate.
pub fn write_tasks(candidates: &[Candidate], options: &LabelStudioOptions) -> Result<String> {
    check_candidates(candidates)?;
    let tasks: Vec<Value> = candidates
        .iter()
        .map(|c| {
            let (w, h) = (f64::from(c.size.width()), f64::from(c.size.height()));
            let result: Vec<Value> = c
                .points
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    json!({
                        "id": format!("pixmo-{}", i + 1),
                        "type": "keypointlabels",
                        "from_name": options.points_control,
                        "to_name": options.image_object,
                        "original_width": c.size.width(),
                        "original_height": c.size.height(),
                        "image_rotation": 0,
                        "value": {
                            "x": p.x() / w * 100.0,
                            "y": p.y() / h * 100.0,
                            "width": options.point_width,
                            "keypointlabels": [c.label],
                        },
                    })
                })
                .collect();
            json!({
                "data": {
                    "image": c.image,
                    "pixmo_image_id": c.image_id,
                    "pixmo_label": c.label,
                },
                "predictions": [{
                    "model_version": options.model_version,
                    "score": 1.0,
                    "result": result,
                }],
            })
        })
        .collect();
    Ok(serde_json::to_string_pretty(&tasks).expect("tasks serialize"))
}

fn invalid(at: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Invalid {
        tool: TOOL,
        at: at.into(),
        message: message.into(),
    }
}

/// An id as text (Label Studio writes numbers; some exports strings).
fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Reads Label Studio's JSON export: one verdict per annotation of each task exported by
/// [`write_tasks`] for `candidates`. Tasks without annotations give none.
///
/// # Errors
/// [`Error::Json`] when the file is not JSON, [`Error::Invalid`] naming the task,
/// annotation and result for anything else.
pub fn read_export(
    json: &[u8],
    candidates: &[Candidate],
    options: &LabelStudioOptions,
) -> Result<Vec<Verdict>> {
    let root: Value = serde_json::from_slice(json).map_err(|source| Error::Json { source })?;
    let Value::Array(tasks) = root else {
        return Err(invalid("top level", "expected an array of tasks"));
    };
    let mut verdicts = Vec::new();
    for (index, task) in tasks.iter().enumerate() {
        let task_id = id_text(task.get("id")).unwrap_or_else(|| format!("#{}", index + 1));
        let at = format!("task {task_id}");
        let image_id = task
            .pointer("/data/pixmo_image_id")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                invalid(
                    &at,
                    "`data.pixmo_image_id` is missing (not a task pixmo exported)",
                )
            })?;
        let candidate = candidates
            .iter()
            .find(|c| c.image_id == image_id)
            .ok_or_else(|| {
                invalid(
                    &at,
                    format!("image id `{image_id}` is not among the candidates"),
                )
            })?;
        let annotations = match task.get("annotations") {
            None | Some(Value::Null) => continue,
            Some(Value::Array(a)) => a,
            Some(_) => return Err(invalid(&at, "`annotations` is not an array")),
        };
        for (k, annotation) in annotations.iter().enumerate() {
            let annotation_id =
                id_text(annotation.get("id")).unwrap_or_else(|| format!("#{}", k + 1));
            let at = format!("task {task_id}, annotation {annotation_id}");
            verdicts.push(read_annotation(
                &at, &task_id, annotation, candidate, options,
            )?);
        }
    }
    Ok(verdicts)
}

fn read_annotation(
    at: &str,
    task_id: &str,
    annotation: &Value,
    candidate: &Candidate,
    options: &LabelStudioOptions,
) -> Result<Verdict> {
    let cancelled = match annotation.get("was_cancelled") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(invalid(
                at,
                format!("`was_cancelled` is `{other}`, not true or false"),
            ));
        }
    };
    let results = match annotation.get("result") {
        Some(Value::Array(r)) => r.as_slice(),
        None | Some(Value::Null) if cancelled => &[],
        _ => return Err(invalid(at, "`result` is missing or not an array")),
    };
    let mut points = Vec::new();
    let mut word: Option<(Word, String)> = None;
    for (r, result) in results.iter().enumerate() {
        let result_id = id_text(result.get("id")).unwrap_or_else(|| format!("#{}", r + 1));
        let at = format!("{at}, result `{result_id}`");
        match result.get("type").and_then(Value::as_str) {
            Some("keypointlabels") => points.push(read_point(&at, result, candidate)?),
            Some("choices") => {
                let from = result.get("from_name").and_then(Value::as_str);
                if from.is_some_and(|f| f != options.verdict_control) {
                    return Err(invalid(
                        &at,
                        format!(
                            "choices from `{}`, expected the verdict control `{}`",
                            from.unwrap_or_default(),
                            options.verdict_control
                        ),
                    ));
                }
                let chosen = result
                    .pointer("/value/choices")
                    .and_then(Value::as_array)
                    .map(|c| c.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                    .unwrap_or_default();
                let [one] = chosen.as_slice() else {
                    return Err(invalid(
                        &at,
                        format!("expected one verdict choice, found {chosen:?}"),
                    ));
                };
                let meaning = options.verdict.word(one).ok_or_else(|| {
                    invalid(
                        &at,
                        format!("verdict `{one}` is none of {}", options.verdict.words()),
                    )
                })?;
                if let Some((earlier, text)) = &word
                    && *earlier != meaning
                {
                    return Err(invalid(
                        &at,
                        format!("verdict `{one}` contradicts the earlier `{text}`"),
                    ));
                }
                word = Some((meaning, (*one).to_string()));
            }
            Some(other) => {
                return Err(invalid(
                    &at,
                    format!("unexpected result type `{other}` (only keypointlabels and choices)"),
                ));
            }
            None => return Err(invalid(&at, "the result has no `type`")),
        }
    }
    let outcome = decide(
        candidate,
        word.map(|(w, _)| w),
        cancelled,
        points,
        &options.verdict,
    );
    let annotator = match annotation.get("completed_by") {
        // The user id, not the e-mail: rows carry pseudonyms.
        Some(Value::Object(user)) => id_text(user.get("id")).or_else(|| {
            user.get("email")
                .and_then(Value::as_str)
                .map(str::to_string)
        }),
        other => id_text(other),
    };
    let time = ["updated_at", "created_at"]
        .iter()
        .find_map(|k| annotation.get(*k).and_then(Value::as_str))
        .map(str::to_string);
    Ok(Verdict {
        tool: Tool::LabelStudio,
        task: task_id.to_string(),
        image_id: candidate.image_id.clone(),
        label: candidate.label.clone(),
        decision: outcome.decision,
        points: outcome.points,
        accepted: outcome.accepted,
        removed: outcome.removed,
        added: outcome.added,
        annotator,
        time,
        lead_time_s: annotation.get("lead_time").and_then(Value::as_f64),
    })
}

fn read_point(at: &str, result: &Value, candidate: &Candidate) -> Result<Pixel> {
    let size = candidate.size;
    for (key, want) in [
        ("original_width", size.width()),
        ("original_height", size.height()),
    ] {
        if let Some(v) = result.get(key)
            && v.as_u64() != Some(u64::from(want))
        {
            return Err(invalid(
                at,
                format!(
                    "`{key}` is {v}, but the image is {}x{}",
                    size.width(),
                    size.height()
                ),
            ));
        }
    }
    let labels: Vec<&str> = result
        .pointer("/value/keypointlabels")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if labels.is_empty() {
        return Err(invalid(at, "the keypoint has no label"));
    }
    if let Some(other) = labels.iter().find(|l| l.trim() != candidate.label.trim()) {
        return Err(invalid(
            at,
            format!(
                "keypoint label `{other}` is not the task's label `{}`",
                candidate.label
            ),
        ));
    }
    let coordinate = |axis: &str| -> Result<f64> {
        let v = result.pointer(&format!("/value/{axis}"));
        v.and_then(Value::as_f64)
            .filter(|p| p.is_finite() && (0.0..=100.0).contains(p))
            .ok_or_else(|| {
                invalid(
                    at,
                    format!(
                        "`value.{axis}` is {}, not a percentage in 0-100",
                        v.map_or("missing".to_string(), Value::to_string)
                    ),
                )
            })
    };
    let (x, y) = (coordinate("x")?, coordinate("y")?);
    Pixel::new(
        x / 100.0 * f64::from(size.width()),
        y / 100.0 * f64::from(size.height()),
        size,
    )
    .map_err(|e| invalid(at, e.to_string()))
}

/// Result types that carry no geometry and are ignored by [`import_points`].
const NON_SPATIAL: [&str; 8] = [
    "choices", "textarea", "rating", "number", "datetime", "taxonomy", "pairwise", "relation",
];

/// Reads any Label Studio JSON export's keypoints into rows: one per task, annotation and
/// keypoint label, in pixels of `original_width` x `original_height`. Skipped annotations,
/// other shapes, empty labels, points outside the image and repeated points become rejects;
/// choices and text results are ignored.
///
/// # Errors
/// [`Error::Json`] when the file is not JSON, [`Error::Invalid`] when it is not an array of
/// tasks.
pub fn import_points(json: &[u8]) -> Result<Import> {
    let root: Value = serde_json::from_slice(json).map_err(|source| Error::Json { source })?;
    let Value::Array(tasks) = root else {
        return Err(invalid("top level", "expected an array of tasks"));
    };
    let mut import = Import::default();
    for (index, task) in tasks.iter().enumerate() {
        let task_id = id_text(task.get("id")).unwrap_or_else(|| format!("#{}", index + 1));
        let at = format!("task {task_id}");
        let Some(image) = task.pointer("/data/image").and_then(Value::as_str) else {
            import.reject(
                &at,
                "",
                RejectKind::Malformed,
                "the task has no `data.image`",
            );
            continue;
        };
        let annotations = match task.get("annotations") {
            Some(Value::Array(a)) => a.as_slice(),
            None | Some(Value::Null) => &[],
            Some(_) => {
                import.reject(
                    &at,
                    image,
                    RejectKind::Malformed,
                    "`annotations` is not an array",
                );
                continue;
            }
        };
        for (k, annotation) in annotations.iter().enumerate() {
            let annotation_id =
                id_text(annotation.get("id")).unwrap_or_else(|| format!("#{}", k + 1));
            let at = format!("task {task_id}, annotation {annotation_id}");
            import_annotation(&mut import, &at, image, annotation);
        }
    }
    Ok(import)
}

fn import_annotation(import: &mut Import, at: &str, image: &str, annotation: &Value) {
    if annotation.get("was_cancelled").and_then(Value::as_bool) == Some(true) {
        import.reject(
            at,
            image,
            RejectKind::Cancelled,
            "the annotation was skipped",
        );
        return;
    }
    let Some(results) = annotation.get("result").and_then(Value::as_array) else {
        import.reject(
            at,
            image,
            RejectKind::Malformed,
            "`result` is missing or not an array",
        );
        return;
    };
    let annotator = match annotation.get("completed_by") {
        // The user id, not the e-mail: rows carry pseudonyms.
        Some(Value::Object(user)) => id_text(user.get("id")).or_else(|| {
            user.get("email")
                .and_then(Value::as_str)
                .map(str::to_string)
        }),
        other => id_text(other),
    };
    let mut size: Option<ImageSize> = None;
    let mut groups: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for (r, result) in results.iter().enumerate() {
        let result_id = id_text(result.get("id")).unwrap_or_else(|| format!("#{}", r + 1));
        let result_at = format!("{at}, result `{result_id}`");
        let kind = result
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if NON_SPATIAL.contains(&kind) {
            continue;
        }
        if kind != "keypointlabels" {
            let reason = format!("result type `{kind}` is not keypointlabels");
            import.reject(&result_at, image, RejectKind::UnsupportedShape, reason);
            continue;
        }
        let dimension = |key: &str| {
            result
                .get(key)
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok())
        };
        let this_size = match (dimension("original_width"), dimension("original_height")) {
            (Some(w), Some(h)) => ImageSize::new(w, h).ok(),
            _ => None,
        };
        let Some(this_size) = this_size else {
            let reason = "`original_width` and `original_height` are missing or not pixel counts";
            import.reject(&result_at, image, RejectKind::BadImageSize, reason);
            continue;
        };
        if size.is_some_and(|s| s != this_size) {
            let reason = "the results of one annotation disagree on the image size";
            import.reject(&result_at, image, RejectKind::BadImageSize, reason);
            continue;
        }
        size = Some(this_size);
        let percent = |axis: &str| {
            result
                .pointer(&format!("/value/{axis}"))
                .and_then(Value::as_f64)
                .unwrap_or(f64::NAN)
        };
        let point = (
            percent("x") / 100.0 * f64::from(this_size.width()),
            percent("y") / 100.0 * f64::from(this_size.height()),
        );
        let labels: Vec<String> = result
            .pointer("/value/keypointlabels")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let labels = if labels.is_empty() {
            vec![String::new()]
        } else {
            labels
        };
        for label in labels {
            match groups.iter_mut().find(|g| g.0 == label) {
                Some(group) => group.1.push(point),
                None => groups.push((label, vec![point])),
            }
        }
    }
    if let Some(size) = size {
        for (label, points) in groups {
            import.add(RowDraft {
                at: format!("{at}, label `{label}`"),
                image: image.to_string(),
                size,
                label,
                points,
                annotator: annotator.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pixmo_points::ImageSize;

    #[test]
    fn labeling_config_escapes_labels() {
        let config = labeling_config(&["cup", "R&D \"mugs\""], &LabelStudioOptions::default());
        assert!(config.contains("<KeyPointLabels name=\"points\" toName=\"image\">"));
        assert!(config.contains("<Label value=\"R&amp;D &quot;mugs&quot;\"/>"));
        assert!(config.contains("<Choice value=\"correct\"/>"));
        assert!(config.contains("<Choice value=\"wrong\"/>"));
    }

    #[test]
    fn tasks_hold_percent_of_the_original_size() {
        let size = ImageSize::new(200, 100).unwrap();
        let c = Candidate {
            image_id: "img-1".into(),
            image: "/data/local-files/?d=count/img-1.jpg".into(),
            size,
            label: "cup".into(),
            points: vec![Pixel::new(50.0, 25.0, size).unwrap()],
        };
        let text = write_tasks(&[c], &LabelStudioOptions::default()).unwrap();
        let tasks: Value = serde_json::from_str(&text).unwrap();
        let r = &tasks[0]["predictions"][0]["result"][0];
        assert_eq!(r["value"]["x"], 25.0);
        assert_eq!(r["value"]["y"], 25.0);
        assert_eq!(r["original_width"], 200);
        assert_eq!(r["value"]["keypointlabels"][0], "cup");
        assert_eq!(tasks[0]["data"]["pixmo_image_id"], "img-1");
    }
}
