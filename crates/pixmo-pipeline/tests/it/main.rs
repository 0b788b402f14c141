//! The plug-in property: a pipeline declared only through [`PipelineInfo`] (stages, spec,
//! released size, card prose, statistics and plots) is planned and gets its data card with
//! no edit to `pixmo-dag`, `pixmo-shards`, `pixmo-audit` or `pixmo-card`. The pipeline here
//! lives in this test; a real one is a crate under `pipelines/` plus one line in
//! `crates/pixmo-cli/src/registry.rs`.

// The tiny dataset writer of pixmo-card's tests (rows of any schema through pixmo-shards).
#[path = "../../../pixmo-card/tests/it/fixture.rs"]
#[allow(dead_code)]
mod fixture;

use std::path::Path;
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int32Type;
use pixmo_annotation_schema::Dataset;
use pixmo_dag::registry::{ConfigError, StageConfig};
use pixmo_dag::{
    ColumnDef, ColumnType, PipelineSpec, Plan, Record, Reject, Stage, StageContext, StageRegistry,
    Value,
};
use pixmo_pipeline::{About, CardExtension, PipelineInfo, Pipelines, Spec};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// `toy.count`: writes `count` = record index modulo `modulo`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountConfig {
    /// Counts cycle through `0..modulo`.
    #[serde(default = "default_modulo")]
    modulo: u64,
}

fn default_modulo() -> u64 {
    4
}

impl StageConfig for CountConfig {
    const KIND: &'static str = "toy.count";
    const SUMMARY: &'static str = "Counts from the record index";

    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        if self.modulo == 0 {
            return Err("`modulo` must be at least 1".into());
        }
        Ok(Arc::new(self.clone()))
    }
}

impl Stage for CountConfig {
    fn version(&self) -> &'static str {
        "1"
    }

    fn inputs(&self) -> Vec<ColumnDef> {
        Vec::new()
    }

    fn outputs(&self) -> Vec<ColumnDef> {
        vec![ColumnDef::new("count", ColumnType::U64)]
    }

    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let count = record.key.record_index % self.modulo;
        record.set("count", Value::U64(count));
        Ok(())
    }
}

const SPECS: &[Spec] = &[Spec::new(
    "pipeline.toml",
    "name = \"count\"\ndataset = \"count\"\n[[stages]]\nname = \"count\"\nkind = \"toy.count\"\n",
)];

/// The card's statistics: a histogram of `count`.
#[derive(Default)]
struct CountCard {
    histogram: [u64; 8],
}

impl CardExtension for CountCard {
    fn columns(&self) -> Vec<&'static str> {
        vec!["count"]
    }

    fn add_batch(&mut self, batch: &RecordBatch, path: &Path) -> pixmo_card::Result<()> {
        let counts = pixmo_card::column(batch, "count", path)?
            .as_primitive_opt::<Int32Type>()
            .ok_or_else(|| pixmo_card::wrong(path, "count", "a 32-bit integer"))?;
        for n in counts.iter().flatten() {
            self.histogram[usize::try_from(n).unwrap_or(7).min(7)] += 1;
        }
        Ok(())
    }

    fn statistics(&self, _card: &pixmo_card::CardContext<'_>) -> String {
        format!(
            "### Counts\n\nRows per count: {:?}\n\n",
            &self.histogram[..4]
        )
    }

    fn plots(&self) -> Vec<pixmo_card::Plot> {
        vec![pixmo_card::Plot {
            file: "counts.png".into(),
            caption: "Rows per count".into(),
            chart: pixmo_card::BarChart {
                title: "Rows per count".into(),
                x_label: "count".into(),
                y_label: "rows".into(),
                labels: (0..4).map(|n| n.to_string()).collect(),
                values: self.histogram[..4].to_vec(),
                label_every: 1,
            },
        }]
    }

    fn limitations(&self, _card: &pixmo_card::CardContext<'_>) -> Vec<String> {
        vec!["Counts come from record indices.".into()]
    }
}

/// Everything about the toy pipeline, as a pipeline crate's `info()` declares it.
fn info() -> PipelineInfo {
    PipelineInfo {
        name: "count",
        about: About {
            how_made: "Every image is a test pattern",
            ..About::new("PixMo-Count (toy)", "A toy counting dataset.")
        },
        specs: SPECS,
        released_size: Some(36_916),
        reference_count: 100,
        register: |registry| registry.register::<CountConfig>(),
        card: || Box::new(CountCard::default()),
        source: None,
    }
}

/// The registry a CLI would hold: one line per pipeline.
const PIPELINES: Pipelines = Pipelines(&[info]);

#[test]
fn a_pipeline_declared_once_plans_and_gets_its_card() {
    // Stages and the default spec come from the declaration.
    let mut registry = StageRegistry::new();
    PIPELINES.register(&mut registry);
    assert!(registry.get("toy.count").is_some());
    let pipeline = PIPELINES.find("count").unwrap();
    assert_eq!(PIPELINES.names(), ["count"]);
    assert_eq!(pipeline.released_size, Some(36_916));
    let spec = PipelineSpec::parse(pipeline.default_spec(), Path::new("<built-in count>")).unwrap();
    let plan = Plan::build(spec, &registry, 1).unwrap();
    assert_eq!(plan.stages[0].kind, "toy.count");
    // A bad config is a typed error from the pipeline's own stage.
    let bad = PipelineSpec::parse(
        &format!("{}[stages.config]\nmodulo = 0\n", pipeline.default_spec()),
        Path::new("bad.toml"),
    )
    .unwrap();
    let err = Plan::build(bad, &registry, 1).unwrap_err();
    assert!(
        matches!(&err, pixmo_dag::Error::StageConfig { error, .. } if error.field() == Some("modulo")),
        "{err:?}"
    );

    // The card: generic sections plus the pipeline's prose, statistics, plot and limitation.
    let f = fixture::build_dataset(Dataset::Count, |_, record, row| {
        let obj = row.as_object_mut().unwrap();
        let id = obj["example_id"].clone();
        obj.retain(|k, _| {
            matches!(
                k.as_str(),
                "image" | "image_sha256" | "width" | "height" | "provenance"
            )
        });
        obj.insert("id".into(), id);
        obj.insert("image_url".into(), serde_json::Value::Null);
        obj.insert("count".into(), json!(record % 4));
        obj.insert("points".into(), json!([]));
        obj.insert("label".into(), json!("cat"));
    });
    let root = f.out.join("count");
    let cards = f.out.join("cards");
    let path = PIPELINES.write_card(&root, &cards).unwrap();
    assert_eq!(path, cards.join("count.md"));
    let card = std::fs::read_to_string(&path).unwrap();
    for needle in [
        "pretty_name: PixMo-Count (toy) (pixmo rebuild)",
        "A toy counting dataset.",
        "Every image is a test pattern, and **no vision-language model saw any image**",
        "### Counts\n\nRows per count: [",
        "### Columns",
        "(count/counts.png)",
        "- Counts come from record indices.",
    ] {
        assert!(card.contains(needle), "missing {needle:?} in\n{card}");
    }
    assert!(cards.join("count/counts.png").is_file());

    // A dataset no pipeline declares still gets the generic card.
    let none = Pipelines(&[]);
    let generic = std::fs::read_to_string(none.write_card(&root, &cards).unwrap()).unwrap();
    assert!(generic.contains("Unregistered pixmo dataset") && !generic.contains("### Counts"));
    assert!(!cards.join("count/counts.png").exists());
}
