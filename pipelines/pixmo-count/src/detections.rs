//! PixMo-Count's rule over any detector's output in the COCO results format.
//!
//! Input: detections `[{"image_id", "category_id", "bbox": [x, y, w, h], "score"}]` (what
//! COCO-style detectors write), the images (`id`, `width`, `height`) and the category names.
//! The rule (PIXMO_DATA.md §5): per image, keep the detections scoring at least
//! `score_threshold`, take the category with the most of them (ties: the lower category
//! id), put a point at each of its box centres, and keep the image if the count is within
//! `min_count..=max_count`. [`balanced_sample`] then draws val/test sets with every count
//! equally often (PixMo-Count: 120 images per count from 2 to 10).
//!
//! Bad input is never fatal: each unusable detection or image becomes a [`Rejection`] with
//! a kind and a reason (`bad_detection`, `unknown_image`, `unknown_category`, `box_outside`,
//! `duplicate_image`, `duplicate_detection`, `no_detections`, `count_out_of_range`).

use std::collections::{BTreeMap, BTreeSet};

use pixmo_points::{ImageSize, Percent, Pixel};
use serde_json::Value;

/// The thresholds of the rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CountRule {
    /// Detections scoring below this are ignored.
    pub score_threshold: f64,
    /// Fewest instances an image may keep.
    pub min_count: u32,
    /// Most instances an image may keep.
    pub max_count: u32,
}

/// An image the detections refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    /// COCO image id.
    pub id: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// An image that passed the rule: a counting example.
#[derive(Clone, Debug, PartialEq)]
pub struct CountCandidate {
    /// COCO image id.
    pub image_id: u64,
    /// The category with the most confident detections.
    pub category_id: u64,
    /// Its name.
    pub label: String,
    /// Box centres in percent of the image.
    pub points: Vec<Percent>,
    /// The same box centres in pixels (the detector's own unit).
    pub centres: Vec<Pixel>,
}

/// Something the rule could not use, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The image, when known.
    pub image_id: Option<u64>,
    /// The detection's position in the input, when the rejection is about one.
    pub detection: Option<usize>,
    /// A short stable kind.
    pub kind: &'static str,
    /// What was wrong.
    pub message: String,
}

fn reject(
    image_id: Option<u64>,
    detection: Option<usize>,
    kind: &'static str,
    message: String,
) -> Rejection {
    Rejection {
        image_id,
        detection,
        kind,
        message,
    }
}

/// Applies PixMo-Count's rule. Candidates come sorted by image id; rejections in input
/// order (detections first, then images).
#[must_use]
pub fn apply_rule(
    images: &[ImageInfo],
    categories: &BTreeMap<u64, String>,
    detections: &[Value],
    rule: CountRule,
) -> (Vec<CountCandidate>, Vec<Rejection>) {
    let mut rejections = Vec::new();
    let mut sizes: BTreeMap<u64, ImageSize> = BTreeMap::new();
    let mut bad_images = BTreeSet::new();
    for image in images {
        let size = match ImageSize::new(image.width, image.height) {
            Ok(size) => size,
            Err(e) => {
                rejections.push(reject(Some(image.id), None, "bad_image", e.to_string()));
                bad_images.insert(image.id);
                continue;
            }
        };
        if sizes.insert(image.id, size).is_some() {
            rejections.push(reject(
                Some(image.id),
                None,
                "duplicate_image",
                format!("image id {} is listed twice", image.id),
            ));
            bad_images.insert(image.id);
        }
    }
    // Per image, per category: the confident box centres.
    let mut kept: BTreeMap<u64, BTreeMap<u64, Vec<Pixel>>> = BTreeMap::new();
    // The same box of the same category listed again would be counted twice.
    let mut seen: BTreeMap<(u64, u64, [u64; 4]), usize> = BTreeMap::new();
    for (index, detection) in detections.iter().enumerate() {
        let field = |name: &str| detection.get(name).and_then(Value::as_f64);
        let image_id = detection.get("image_id").and_then(Value::as_u64);
        let category_id = detection.get("category_id").and_then(Value::as_u64);
        let bbox: Option<Vec<f64>> = detection
            .get("bbox")
            .and_then(Value::as_array)
            .and_then(|b| b.iter().map(Value::as_f64).collect());
        let (Some(image_id), Some(category_id), Some(bbox), Some(score)) =
            (image_id, category_id, bbox, field("score"))
        else {
            rejections.push(reject(
                image_id,
                Some(index),
                "bad_detection",
                format!(
                    "detection {index} needs integer `image_id` and `category_id`, `bbox` [x, y, w, h] and a finite numeric `score` (NaN and infinities are not scores): {detection}"
                ),
            ));
            continue;
        };
        let Some(&size) = sizes.get(&image_id) else {
            rejections.push(reject(
                Some(image_id),
                Some(index),
                "unknown_image",
                format!(
                    "detection {index} refers to image {image_id}, which is not in the image list"
                ),
            ));
            continue;
        };
        if !categories.contains_key(&category_id) {
            rejections.push(reject(
                Some(image_id),
                Some(index),
                "unknown_category",
                format!("detection {index} has category {category_id}, which has no name"),
            ));
            continue;
        }
        let [x, y, w, h] = bbox[..] else {
            rejections.push(reject(
                Some(image_id),
                Some(index),
                "bad_detection",
                format!(
                    "detection {index}: `bbox` has {} numbers, not 4",
                    bbox.len()
                ),
            ));
            continue;
        };
        if !(w > 0.0 && h > 0.0) {
            rejections.push(reject(
                Some(image_id),
                Some(index),
                "bad_detection",
                format!("detection {index}: box {bbox:?} has no area"),
            ));
            continue;
        }
        let corner = Pixel::new(x, y, size).and_then(|_| Pixel::new(x + w, y + h, size));
        if let Err(e) = corner {
            rejections.push(reject(
                Some(image_id),
                Some(index),
                "box_outside",
                format!(
                    "detection {index}: box {bbox:?} leaves the {}x{} image ({e})",
                    size.width(),
                    size.height()
                ),
            ));
            continue;
        }
        let key = (image_id, category_id, [x, y, w, h].map(f64::to_bits));
        if let Some(first) = seen.get(&key) {
            rejections.push(reject(
                Some(image_id),
                Some(index),
                "duplicate_detection",
                format!("detection {index} repeats detection {first} (same image, category and box); it is counted once"),
            ));
            continue;
        }
        seen.insert(key, index);
        if score < rule.score_threshold {
            continue;
        }
        if let Ok(point) = Pixel::new(x + w / 2.0, y + h / 2.0, size) {
            kept.entry(image_id)
                .or_default()
                .entry(category_id)
                .or_default()
                .push(point);
        }
    }
    let mut candidates = Vec::new();
    for (&image_id, _) in sizes.iter().filter(|(id, _)| !bad_images.contains(id)) {
        let best = kept.get(&image_id).and_then(|by_category| {
            // Most detections; ties go to the lower category id (iteration order).
            by_category
                .iter()
                .fold(None::<(&u64, &Vec<Pixel>)>, |best, (c, p)| match best {
                    Some((_, bp)) if bp.len() >= p.len() => best,
                    _ => Some((c, p)),
                })
        });
        let Some((&category_id, points)) = best else {
            rejections.push(reject(
                Some(image_id),
                None,
                "no_detections",
                format!(
                    "image {image_id} has no detection scoring {} or more",
                    rule.score_threshold
                ),
            ));
            continue;
        };
        let count = points.len() as u64;
        if !(u64::from(rule.min_count)..=u64::from(rule.max_count)).contains(&count) {
            rejections.push(reject(
                Some(image_id),
                None,
                "count_out_of_range",
                format!(
                    "image {image_id}: {count} confident `{}` detections, outside {}..={}",
                    categories[&category_id], rule.min_count, rule.max_count
                ),
            ));
            continue;
        }
        let size = sizes[&image_id];
        candidates.push(CountCandidate {
            image_id,
            category_id,
            label: categories[&category_id].clone(),
            points: points.iter().map(|p| p.to_percent(size)).collect(),
            centres: points.clone(),
        });
    }
    (candidates, rejections)
}

/// Up to `per_count` candidates for each count in `counts`, chosen by a seeded hash of the
/// image id (the same seed picks the same images); indices into `candidates`, sorted.
#[must_use]
pub fn balanced_sample(
    candidates: &[CountCandidate],
    counts: std::ops::RangeInclusive<usize>,
    per_count: usize,
    seed: u64,
) -> Vec<usize> {
    let key = |image_id: u64| {
        pixmo_core::Rng::new(seed ^ image_id.wrapping_mul(0x9E37_79B9_7F4A_7C15)).next_u64()
    };
    let mut chosen = Vec::new();
    for count in counts {
        let mut these: Vec<usize> = (0..candidates.len())
            .filter(|&i| candidates[i].points.len() == count)
            .collect();
        these.sort_by_key(|&i| (key(candidates[i].image_id), candidates[i].image_id));
        chosen.extend(these.into_iter().take(per_count));
    }
    chosen.sort_unstable();
    chosen
}

/// Parses JSON as detectors write it: Python's `json` writes a NaN score as a bare `NaN` (and
/// infinities as `Infinity`), which is not JSON. Those tokens outside strings read as `null`,
/// so the detection they belong to is rejected (`bad_detection`) instead of the whole file.
///
/// # Errors
/// What `serde_json` says about anything else that is not JSON.
pub fn parse_lenient_json(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut out = Vec::with_capacity(bytes.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        let token = [&b"-Infinity"[..], b"Infinity", b"NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t));
        if let Some(token) = token {
            out.extend_from_slice(b"null");
            i += token.len();
            continue;
        }
        if b == b'"' {
            in_string = true;
        }
        out.push(b);
        i += 1;
    }
    serde_json::from_slice(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RULE: CountRule = CountRule {
        score_threshold: 0.5,
        min_count: 1,
        max_count: 3,
    };

    fn images() -> Vec<ImageInfo> {
        (1..=4)
            .map(|id| ImageInfo {
                id,
                width: 100,
                height: 50,
            })
            .collect()
    }

    fn categories() -> BTreeMap<u64, String> {
        BTreeMap::from([(1, "dog".to_string()), (2, "cat".to_string())])
    }

    fn det(image: u64, category: u64, bbox: [f64; 4], score: f64) -> Value {
        json!({"image_id": image, "category_id": category, "bbox": bbox, "score": score})
    }

    #[test]
    fn the_class_with_most_confident_detections_wins_with_points_at_box_centres() {
        let detections = vec![
            det(1, 1, [0.0, 0.0, 10.0, 10.0], 0.9),
            det(1, 2, [50.0, 10.0, 20.0, 20.0], 0.8),
            det(1, 2, [80.0, 30.0, 10.0, 10.0], 0.7),
            det(1, 1, [20.0, 20.0, 4.0, 4.0], 0.4), // below the threshold
            det(2, 1, [0.0, 0.0, 10.0, 10.0], 0.9),
            det(2, 2, [10.0, 0.0, 10.0, 10.0], 0.9), // a tie: the lower id (dog) wins
            det(3, 1, [0.0, 0.0, 1.0, 1.0], 0.9),
            det(3, 1, [1.0, 0.0, 1.0, 1.0], 0.9),
            det(3, 1, [2.0, 0.0, 1.0, 1.0], 0.9),
            det(3, 1, [3.0, 0.0, 1.0, 1.0], 0.9), // 4 > max_count
        ];
        let (candidates, rejections) = apply_rule(&images(), &categories(), &detections, RULE);
        assert_eq!(candidates.len(), 2);
        assert_eq!(
            (candidates[0].image_id, candidates[0].label.as_str()),
            (1, "cat")
        );
        let xy: Vec<(f64, f64)> = candidates[0]
            .points
            .iter()
            .map(|p| (p.x(), p.y()))
            .collect();
        assert_eq!(xy, [(60.0, 40.0), (85.0, 70.0)]);
        assert_eq!(
            (candidates[1].image_id, candidates[1].label.as_str()),
            (2, "dog")
        );
        let kinds: Vec<(Option<u64>, &str)> =
            rejections.iter().map(|r| (r.image_id, r.kind)).collect();
        assert_eq!(
            kinds,
            [(Some(3), "count_out_of_range"), (Some(4), "no_detections")]
        );
    }

    #[test]
    fn bad_input_is_rejected_with_reasons() {
        let mut images = images();
        images.push(ImageInfo {
            id: 2,
            width: 100,
            height: 50,
        });
        images.push(ImageInfo {
            id: 9,
            width: 0,
            height: 5,
        });
        let detections = vec![
            det(1, 1, [95.0, 0.0, 10.0, 10.0], 0.9),
            det(1, 7, [0.0, 0.0, 10.0, 10.0], 0.9),
            det(8, 1, [0.0, 0.0, 10.0, 10.0], 0.9),
            json!({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": "NaN"}),
            json!({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 0.9}),
            det(1, 1, [5.0, 5.0, 0.0, 3.0], 0.9),
            json!("garbage"),
            det(1, 1, [-1.0, 0.0, 5.0, 5.0], 0.9),
            det(3, 2, [1.0, 1.0, 2.0, 2.0], 0.9),
            det(3, 2, [1.0, 1.0, 2.0, 2.0], 0.8),
        ];
        let (candidates, rejections) = apply_rule(&images, &categories(), &detections, RULE);
        // The repeated box counts once.
        assert_eq!(candidates.len(), 1, "{candidates:?}");
        assert_eq!((candidates[0].image_id, candidates[0].points.len()), (3, 1));
        let kinds: Vec<(Option<usize>, &str)> =
            rejections.iter().map(|r| (r.detection, r.kind)).collect();
        assert_eq!(
            kinds,
            [
                (None, "duplicate_image"),
                (None, "bad_image"),
                (Some(0), "box_outside"),
                (Some(1), "unknown_category"),
                (Some(2), "unknown_image"),
                (Some(3), "bad_detection"),
                (Some(4), "bad_detection"),
                (Some(5), "bad_detection"),
                (Some(6), "bad_detection"),
                (Some(7), "box_outside"),
                (Some(9), "duplicate_detection"),
                (None, "no_detections"),
                (None, "no_detections"),
            ]
        );
        assert!(
            rejections[2].message.contains("leaves the 100x50 image"),
            "{}",
            rejections[2].message
        );
    }

    #[test]
    fn bare_nan_and_infinity_read_as_null_outside_strings_only() {
        let value = parse_lenient_json(
            br#"[{"score": NaN, "a": "NaN \" Infinity"}, {"score": -Infinity}, Infinity]"#,
        )
        .unwrap();
        assert_eq!(
            value,
            json!([{"score": null, "a": "NaN \" Infinity"}, {"score": null}, null])
        );
        assert!(parse_lenient_json(b"[Nope]").is_err());
    }

    #[test]
    fn balanced_sampling_takes_each_count_equally_often_and_is_seeded() {
        let candidates: Vec<CountCandidate> = (0..90u64)
            .map(|i| CountCandidate {
                image_id: i,
                category_id: 1,
                label: "dog".into(),
                points: vec![Percent::new(1.0, 1.0).unwrap(); 1 + (i % 5) as usize],
                centres: Vec::new(),
            })
            .collect();
        let picked = balanced_sample(&candidates, 2..=4, 6, 7);
        assert_eq!(picked.len(), 18);
        for count in 2..=4 {
            assert_eq!(
                picked
                    .iter()
                    .filter(|&&i| candidates[i].points.len() == count)
                    .count(),
                6
            );
        }
        assert_eq!(picked, balanced_sample(&candidates, 2..=4, 6, 7));
        assert_ne!(picked, balanced_sample(&candidates, 2..=4, 6, 8));
    }
}
