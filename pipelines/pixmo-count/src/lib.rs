//! PixMo-Count and PixMo-Points' pointing data from code, end to end.
//!
//! Stages: `count.scene` (a `pixmo-gen-count` scene of N targets among clutter, rendered
//! with its scene graph) -> `count.label` (the category, or a referring expression, and the
//! exact point of every instance it names), plus the generic `image.validate` and
//! `image.encode`. Two datasets share them: [`info`] (`pixmo build count`, `pipeline.toml`)
//! and [`points_info`] (`pixmo build points`, `points.toml`). [`detections_info`]
//! (`pixmo build count-detections --from DIR`, `count-detections.toml`) makes `count` rows
//! from any detector's COCO-format results: [`detections`] applies PixMo-Count's rule,
//! [`inputs`] reads the folder, draws the balanced splits and reads human verdicts, and
//! [`tasks`] writes the val/test candidates as Label Studio and CVAT tasks.

pub mod card;
pub mod detections;
pub mod inputs;
pub mod sample;
pub mod stages;
pub mod tasks;

use pixmo_pipeline::{About, OpenedSource, PipelineInfo, SourceRequest, Spec};

/// The default PixMo-Count spec.
pub const COUNT_SPEC: &str = include_str!("../pipeline.toml");
/// The default PixMo-Points spec.
pub const POINTS_SPEC: &str = include_str!("../points.toml");

/// PixMo-Count's shipped specs.
pub const COUNT_SPECS: &[Spec] = &[Spec::new("pipeline.toml", COUNT_SPEC)];
/// PixMo-Points' shipped specs.
pub const POINTS_SPECS: &[Spec] = &[Spec::new("points.toml", POINTS_SPEC)];
/// The default spec of PixMo-Count from a detector's output.
pub const DETECTIONS_SPEC: &str = include_str!("../count-detections.toml");
/// Its shipped specs.
pub const DETECTIONS_SPECS: &[Spec] = &[Spec::new("count-detections.toml", DETECTIONS_SPEC)];

const HOW_MADE: &str = "Every image is a scene rendered from a seed by pixmo-gen-count (17 \
    object categories in 12 named colours, sizes, poses, clutter, occlusion, patterned \
    backgrounds and lighting), and every point is the generator's own, checked to lie on a \
    visible pixel of its instance";

const LIMITATIONS: &[&str] = &[
    "Scenes are flat synthetic drawings of simple objects, not photographs: they teach the \
     output format and counting by pointing, not open-world recognition.",
    "Every instance shows at least 60 % of its pixels (the generator's occlusion rule); \
     heavier occlusion does not occur.",
];

/// PixMo-Count's card prose.
pub const COUNT_ABOUT: About = About {
    how_made: HOW_MADE,
    limitations: LIMITATIONS,
    ..About::new(
        "PixMo-Count",
        "Counting data in PixMo-Count's layout (`count`, `points`, `label`) made from code: \
         each image shows 0-10 objects of one category among clutter, and the row names the \
         category, the count and the centre point of every instance (in pixels of the image, \
         one decimal, as PixMo-Count stores them; divide by `width` and `height` for \
         Molmo's percent). \
         Val and test hold every count from 2 to 10 equally often, as PixMo-Count's \
         human-verified sets do.",
    )
};

/// PixMo-Points' card prose.
pub const POINTS_ABOUT: About = About {
    how_made: HOW_MADE,
    limitations: LIMITATIONS,
    ..About::new(
        "PixMo-Points",
        "Pointing data in PixMo-Points' layout (`points`, `count`, `label`, \
         `collection_method`) made from code: a referring expression that follows from the \
         scene graph (`red stars`, `the largest mug`, `stars left of the red ring`, or \
         something that is not there) with the point of every instance it names; up to 40 targets per image, 15 % \"not \
         present\" rows.",
    )
};

/// PixMo-Count from code.
#[must_use]
pub fn info() -> PipelineInfo {
    PipelineInfo {
        name: "count",
        about: COUNT_ABOUT,
        specs: COUNT_SPECS,
        // PixMo-Count released 36,916 train + 540 val + 540 test.
        released_size: Some(37_996),
        reference_count: 500,
        register,
        card: card::extension,
        source: None,
    }
}

/// PixMo-Points' pointing rows from code.
#[must_use]
pub fn points_info() -> PipelineInfo {
    PipelineInfo {
        name: "points",
        about: POINTS_ABOUT,
        specs: POINTS_SPECS,
        // PixMo-Points released 2,376,222 rows.
        released_size: Some(2_376_222),
        reference_count: 500,
        register,
        card: card::extension,
        source: None,
    }
}

/// PixMo-Count's rows from a detector's output (`--from DIR`); writes dataset `count`.
#[must_use]
pub fn detections_info() -> PipelineInfo {
    PipelineInfo {
        name: "count_detections",
        about: DETECTIONS_ABOUT,
        specs: DETECTIONS_SPECS,
        released_size: Some(37_996),
        // Built from collected inputs, not from `--count`: no reference build.
        reference_count: 0,
        register,
        card: card::extension,
        source: Some(open_detections),
    }
}

/// The card prose of a count dataset made from detections.
pub const DETECTIONS_ABOUT: About = About {
    how_made: "A detector ran over the images; per image the category with the most \
        detections scoring at least the spec's threshold was kept, with a point at the centre \
        of each of its boxes, when the count fell in the spec's range (PixMo-Count's rule). \
        Val and test hold the same number of images of every count; candidates people checked \
        in Label Studio or CVAT carry a `verification` source in provenance",
    limitations: &[
        "Points are box centres from a detector, not clicks: an unverified row is only as \
         right as the detector.",
    ],
    ..About::new(
        "PixMo-Count (detector)",
        "Counting data in PixMo-Count's layout (`count`, `points`, `label`) from a \
         detector's COCO-format results: the points are box centres in pixels of the image \
         (one decimal, as PixMo-Count stores them), and the detector is named in every \
         row's provenance.",
    )
};

/// Opens `--from DIR` (see [`inputs`]) as the build's records.
///
/// # Errors
/// A message for a missing or malformed input, a spec without `count.detections`, or
/// inputs that changed since the dataset folder was first built.
pub fn open_detections(request: &SourceRequest<'_>) -> Result<OpenedSource, String> {
    let open = inputs::OpenRequest {
        from: request.path,
        splits: request.splits,
        stages: request.stages,
    };
    let (read, assignment, verdicts) = inputs::assign(&open).map_err(|e| e.to_string())?;
    let mut digests = read.digests.clone();
    for file in &verdicts {
        digests.insert(file.name.clone(), file.sha256.clone());
    }
    inputs::check_ledger(
        request.path,
        request.dataset_root,
        &digests,
        request.take_new,
    )
    .map_err(|e| e.to_string())?;
    let counts: Vec<String> = assignment
        .records
        .iter()
        .map(|(split, list)| format!("{split} {}", list.len()))
        .collect();
    let verdict_count: usize = verdicts.iter().map(|f| f.verdicts.len()).sum();
    let by_split = assignment.counts_by_split();
    let per_count: Vec<String> = by_split
        .iter()
        .map(|(split, per)| {
            let cells: Vec<String> = per.iter().map(|(c, n)| format!("{c}:{n}")).collect();
            if cells.is_empty() {
                format!("{split} none")
            } else {
                format!("{split} {}", cells.join(" "))
            }
        })
        .collect();
    let mut report = format!(
        "count-detections: {} images, {} candidates, {} rejections, {verdict_count} verdicts from {} files; records: {}; rows per count (count:rows): {}",
        read.images.len(),
        read.candidates.len(),
        read.rejections.len(),
        verdicts.len(),
        counts.join(", "),
        per_count.join("; ")
    );
    let config = inputs::stage_config(request.stages).map_err(|e| e.to_string())?;
    let balance = card::Balance {
        splits: config.balanced_splits.clone(),
        counts: i32::try_from(config.balanced_min_count).unwrap_or(i32::MAX)
            ..=i32::try_from(config.balanced_max_count).unwrap_or(i32::MAX),
        per_count: u64::from(config.per_count),
    };
    if let Some(note) = card::balance_note(&by_split, Some(&balance)) {
        report.push('\n');
        report.push_str(&note);
    }
    Ok(OpenedSource {
        report,
        source: std::sync::Arc::new(inputs::DetectionsSource::new(
            format!("detections {}", request.path.display()),
            &assignment,
        )),
    })
}

/// Registers the stages (the three datasets share them).
pub fn register(registry: &mut pixmo_dag::StageRegistry) {
    registry.register::<stages::scene::SceneConfig>();
    registry.register::<stages::label::LabelConfig>();
    registry.register::<stages::detections::DetectionsConfig>();
    registry.register::<stages::image::ImageConfig>();
}
