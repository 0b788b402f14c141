//! The plug-in API: a pipeline crate declares everything about its dataset in one
//! [`PipelineInfo`], and the CLI, the card and the bench read that.
//!
//! A pipeline crate (`pipelines/pixmo-<name>`) exports `pub fn info() -> PipelineInfo`; the
//! one list of pipelines is `crates/pixmo-cli/src/registry.rs`. Nothing in the engine
//! (`pixmo-dag`, `pixmo-shards`, `pixmo-build`, `pixmo-audit`, `pixmo-card`) names a dataset:
//!
//! ```
//! use pixmo_pipeline::{About, NoExtension, PipelineInfo, Spec};
//!
//! // In a crate: `Spec::new("pipeline.toml", include_str!("../pipeline.toml"))`.
//! const SPECS: &[Spec] = &[Spec::new("pipeline.toml", "name = \"count\"\ndataset = \"count\"\n")];
//!
//! pub fn info() -> PipelineInfo {
//!     PipelineInfo {
//!         name: "count",
//!         about: About::new("PixMo-Count", "Object counts with a point per object."),
//!         specs: SPECS,
//!         released_size: Some(36_916),
//!         reference_count: 500,
//!         register: |_registry| {},
//!         card: || Box::new(NoExtension),
//!         source: None,
//!     }
//! }
//! assert_eq!(info().default_spec(), info().specs[0].text);
//! ```

use std::path::{Path, PathBuf};

pub use pixmo_card::{About, CardExtension, NoExtension};
use pixmo_dag::StageRegistry;

/// A pipeline spec shipped with a pipeline crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// File name in the crate (`pipeline.toml`, `pipeline-llm.toml`).
    pub file: &'static str,
    /// The TOML (`include_str!`).
    pub text: &'static str,
}

impl Spec {
    /// A spec from its file name and text.
    #[must_use]
    pub const fn new(file: &'static str, text: &'static str) -> Spec {
        Spec { file, text }
    }
}

/// Everything about one dataset's pipeline, declared beside it.
#[derive(Clone, Copy)]
pub struct PipelineInfo {
    /// Dataset name: `pixmo build <name>`, the output folder and the annotation schema's
    /// dataset (`clocks`).
    pub name: &'static str,
    /// The card's prose (pretty name, summary, how the images were made, limitations,
    /// licence).
    pub about: About,
    /// Specs shipped with the crate; the first is what `pixmo build <name>` runs.
    pub specs: &'static [Spec],
    /// Rows (or images) of the released dataset this rebuilds, for `pixmo bench`'s
    /// estimate; `None` when there is no released counterpart.
    pub released_size: Option<u64>,
    /// Records of the reference build whose card is committed in `data_cards/`
    /// (`pixmo card --reference` builds the default spec at this count; CI rebuilds it to
    /// check the card is current, so keep it small enough for a debug build in CI).
    pub reference_count: u64,
    /// Registers the crate's stage kinds (`<name>.*`).
    pub register: fn(&mut StageRegistry),
    /// A fresh card extension (statistics, plots, paragraphs, limitations) for one card.
    pub card: fn() -> Box<dyn CardExtension>,
    /// For a dataset built from collected inputs (an inbox of recordings, another dataset's
    /// shards): opens them as the build's record source. `None`: records are generated from
    /// the seed and `--count` says how many.
    pub source: Option<SourceFn>,
}

/// What a pipeline's source is opened with.
#[derive(Debug)]
pub struct SourceRequest<'a> {
    /// The inputs the user named (`--inbox DIR`, `--from DIR`).
    pub path: &'a Path,
    /// The dataset folder being built (`<out>/<dataset>`), where a source keeps its ledger.
    pub dataset_root: &'a Path,
    /// The spec's split fractions.
    pub splits: &'a std::collections::BTreeMap<String, f64>,
    /// The spec's stages: a source whose records depend on settings (PixMo-Count's
    /// thresholds decide which images go to the balanced val/test splits) reads them from
    /// its own stage's config, so they stay in the spec and its config hash.
    pub stages: &'a [pixmo_dag::spec::StageSpec],
    /// Whether new inputs may be taken now (a single build, or the seal step before an
    /// array); workers of an array only read what was taken.
    pub take_new: bool,
    /// Now, µs since the epoch (recorded when inputs are taken).
    pub now_us: i64,
}

/// An opened record source and a line for the user about what it took.
#[derive(Debug)]
pub struct OpenedSource {
    /// The source.
    pub source: std::sync::Arc<dyn pixmo_dag::RecordSource>,
    /// What happened (`sealed batch 3: 120 recordings, 2 skipped (duplicate_recording)`).
    pub report: String,
}

/// Opens a pipeline's record source.
pub type SourceFn = fn(&SourceRequest<'_>) -> Result<OpenedSource, String>;

impl std::fmt::Debug for PipelineInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineInfo")
            .field("name", &self.name)
            .field("pretty_name", &self.about.pretty_name)
            .field(
                "specs",
                &self.specs.iter().map(|s| s.file).collect::<Vec<_>>(),
            )
            .field("released_size", &self.released_size)
            .field("reference_count", &self.reference_count)
            .finish_non_exhaustive()
    }
}

impl PipelineInfo {
    /// The spec `pixmo build <name>` runs (the first of [`PipelineInfo::specs`]; empty when
    /// the crate ships none).
    #[must_use]
    pub fn default_spec(&self) -> &'static str {
        self.specs.first().map_or("", |s| s.text)
    }

    /// Writes the data card of the dataset at `dataset_root` with this pipeline's prose and
    /// card extension (see [`pixmo_card::write_card`]).
    ///
    /// # Errors
    /// As [`pixmo_card::write_card`].
    pub fn write_card(&self, dataset_root: &Path, cards_dir: &Path) -> pixmo_card::Result<PathBuf> {
        let mut extension = (self.card)();
        pixmo_card::write_card(dataset_root, cards_dir, &self.about, extension.as_mut())
    }
}

/// The prose of a dataset no registered pipeline declares.
const UNREGISTERED: About = About::new(
    "Unregistered pixmo dataset",
    "No pipeline registered with this build of pixmo declares this dataset, so its card has \
     no dataset-specific prose.",
);

/// A list of pipelines: the CLI's registry is one `&[fn() -> PipelineInfo]`.
#[derive(Clone, Copy, Debug)]
pub struct Pipelines(pub &'static [fn() -> PipelineInfo]);

impl Pipelines {
    /// Every pipeline, in list order.
    #[must_use]
    pub fn all(&self) -> Vec<PipelineInfo> {
        self.0.iter().map(|info| info()).collect()
    }

    /// The pipeline of dataset `name`.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<PipelineInfo> {
        // `cap-qa` names `cap_qa`: dataset names use `_`, command lines often `-`.
        let name = name.replace('-', "_");
        self.all().into_iter().find(|p| p.name == name)
    }

    /// Dataset names, in list order.
    #[must_use]
    pub fn names(&self) -> Vec<&'static str> {
        self.all().iter().map(|p| p.name).collect()
    }

    /// Registers every pipeline's stages into `registry` (which may already hold the
    /// engine's dataset-agnostic stages).
    pub fn register(&self, registry: &mut StageRegistry) {
        for pipeline in self.all() {
            (pipeline.register)(registry);
        }
    }

    /// Writes the card of the dataset at `dataset_root` with its pipeline's prose and
    /// extension; a dataset without a registered pipeline gets the generic card.
    ///
    /// # Errors
    /// As [`pixmo_card::write_card`].
    pub fn write_card(&self, dataset_root: &Path, cards_dir: &Path) -> pixmo_card::Result<PathBuf> {
        let name = pixmo_card::dataset_name(dataset_root)?;
        match self.find(&name) {
            Some(pipeline) => pipeline.write_card(dataset_root, cards_dir),
            None => {
                pixmo_card::write_card(dataset_root, cards_dir, &UNREGISTERED, &mut NoExtension)
            }
        }
    }
}
