//! COCO keypoints: `person_keypoints`-style files as PixMo-Points rows.
//!
//! The format (cocodataset.org "Data format", keypoint detection): an object with
//! `images` (`id`, `file_name`, `width`, `height`), `categories` (`id`, `name`,
//! `keypoints`: the names of the K keypoints) and `annotations` (`id`, `image_id`,
//! `category_id`, `keypoints`: `[x1, y1, v1, ..., xK, yK, vK]` in pixels, where `v` is 0 for
//! not labelled, 1 for labelled but not visible, 2 for visible).
//!
//! Rows: one per image and label, holding every instance's point. A category with one
//! keypoint gives the label of the category (`cup`); with several, one label per keypoint
//! (`person left eye`, underscores read as spaces). Keypoints with `v` = 0 are not points.

use serde_json::Value;

use pixmo_points::ImageSize;

use crate::error::{Error, Result};
use crate::import::{Import, RejectKind, RowDraft};

fn invalid(at: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Invalid {
        tool: "COCO",
        at: at.into(),
        message: message.into(),
    }
}

struct Image {
    id: i64,
    file_name: String,
    size: std::result::Result<ImageSize, String>,
}

/// One image's points for one label, while reading.
struct Group {
    image: usize,
    label: String,
    at: String,
    points: Vec<(f64, f64)>,
}

struct Category {
    id: i64,
    name: String,
    keypoints: Vec<String>,
}

/// Reads a COCO keypoints file into rows and rejects (see the module documentation).
///
/// # Errors
/// [`Error::Json`] when the file is not JSON, [`Error::Invalid`] when it lacks the
/// `images`, `annotations` or `categories` arrays.
pub fn import_keypoints(json: &[u8]) -> Result<Import> {
    let root: Value = serde_json::from_slice(json).map_err(|source| Error::Json { source })?;
    let array = |key: &str| -> Result<&Vec<Value>> {
        root.get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("top level", format!("`{key}` is missing or not an array")))
    };
    let (raw_images, raw_annotations, raw_categories) = (
        array("images")?,
        array("annotations")?,
        array("categories")?,
    );
    let mut import = Import::default();

    let mut images: Vec<Image> = Vec::new();
    for (i, image) in raw_images.iter().enumerate() {
        let at = format!("images[{i}]");
        let file_name = image
            .get("file_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let Some(id) = image.get("id").and_then(Value::as_i64) else {
            import.reject(
                &at,
                &file_name,
                RejectKind::Malformed,
                "the image has no integer `id`",
            );
            continue;
        };
        if images.iter().any(|known| known.id == id) {
            let reason = format!("image id {id} appears twice");
            import.reject(&at, &file_name, RejectKind::Malformed, reason);
            continue;
        }
        let dimension = |key: &str| {
            image
                .get(key)
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok())
        };
        let size = match (dimension("width"), dimension("height")) {
            (Some(w), Some(h)) => ImageSize::new(w, h).map_err(|e| e.to_string()),
            _ => Err("`width` and `height` are missing or not pixel counts".to_string()),
        };
        images.push(Image {
            id,
            file_name,
            size,
        });
    }

    let mut categories: Vec<Category> = Vec::new();
    for (i, category) in raw_categories.iter().enumerate() {
        let (Some(id), Some(name)) = (
            category.get("id").and_then(Value::as_i64),
            category.get("name").and_then(Value::as_str),
        ) else {
            let reason = "the category needs an integer `id` and a `name`";
            import.reject(
                &format!("categories[{i}]"),
                "",
                RejectKind::Malformed,
                reason,
            );
            continue;
        };
        let keypoints = category
            .get("keypoints")
            .and_then(Value::as_array)
            .map(|k| {
                k.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        categories.push(Category {
            id,
            name: name.to_string(),
            keypoints,
        });
    }

    // Points per (image, label), in order of first appearance.
    let mut groups: Vec<Group> = Vec::new();
    for (i, annotation) in raw_annotations.iter().enumerate() {
        let at = match annotation.get("id").and_then(Value::as_i64) {
            Some(id) => format!("annotation {id}"),
            None => format!("annotations[{i}]"),
        };
        let image_id = annotation.get("image_id").and_then(Value::as_i64);
        let Some(image_index) = image_id.and_then(|id| images.iter().position(|m| m.id == id))
        else {
            let reason = match image_id {
                Some(id) => format!("`image_id` {id} names no image"),
                None => "`image_id` is missing or not an integer".to_string(),
            };
            import.reject(&at, "", RejectKind::Malformed, reason);
            continue;
        };
        let image = &images[image_index];
        if let Err(reason) = &image.size {
            import.reject(
                &at,
                &image.file_name,
                RejectKind::BadImageSize,
                reason.clone(),
            );
            continue;
        }
        let category_id = annotation.get("category_id").and_then(Value::as_i64);
        let Some(category) = category_id.and_then(|id| categories.iter().find(|c| c.id == id))
        else {
            let reason = match category_id {
                Some(id) => format!("`category_id` {id} names no category"),
                None => "`category_id` is missing or not an integer".to_string(),
            };
            import.reject(&at, &image.file_name, RejectKind::Malformed, reason);
            continue;
        };
        let values: Option<Vec<f64>> = annotation
            .get("keypoints")
            .and_then(Value::as_array)
            .map(|k| k.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect());
        let Some(values) = values.filter(|v| v.len() % 3 == 0) else {
            let reason = "`keypoints` is not a list of x, y, v triples";
            import.reject(&at, &image.file_name, RejectKind::Malformed, reason);
            continue;
        };
        let count = values.len() / 3;
        if !category.keypoints.is_empty() && category.keypoints.len() != count {
            let reason = format!(
                "{count} keypoints, but category `{}` names {}",
                category.name,
                category.keypoints.len()
            );
            import.reject(&at, &image.file_name, RejectKind::Malformed, reason);
            continue;
        }
        for (k, triple) in values.chunks_exact(3).enumerate() {
            if triple[2] == 0.0 {
                continue;
            }
            let label = if count == 1 {
                category.name.clone()
            } else {
                let part = category
                    .keypoints
                    .get(k)
                    .map_or_else(|| format!("keypoint {}", k + 1), |n| n.replace('_', " "));
                format!("{} {part}", category.name)
            };
            let point = (triple[0], triple[1]);
            match groups
                .iter_mut()
                .find(|g| g.image == image_index && g.label == label)
            {
                Some(group) => group.points.push(point),
                None => groups.push(Group {
                    image: image_index,
                    label,
                    at: at.clone(),
                    points: vec![point],
                }),
            }
        }
    }
    for Group {
        image: image_index,
        label,
        at: first_at,
        points,
    } in groups
    {
        let image = &images[image_index];
        let Ok(size) = image.size else { continue };
        import.add(RowDraft {
            at: format!(
                "image {} `{}`, label `{label}` (from {first_at})",
                image.id, image.file_name
            ),
            image: image.file_name.clone(),
            size,
            label,
            points,
            annotator: None,
        });
    }
    Ok(import)
}
