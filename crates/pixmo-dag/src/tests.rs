//! Engine tests with toy stages: plan checks and execution semantics.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::exec::{ExecStats, Outcome};
use crate::registry::{ConfigError, StageConfig};
use crate::{
    ColumnDef, ColumnType, PipelineSpec, Plan, Record, Reject, Stage, StageContext, StageRegistry,
    Value, WorkUnit, execute,
};

/// Writes `n: u64` = record index and `draw: u64` from the stage seed.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NumberConfig {}
struct Number;
impl StageConfig for NumberConfig {
    const KIND: &'static str = "test.number";
    const SUMMARY: &'static str = "index and a seeded draw";
    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        Ok(Arc::new(Number))
    }
}
impl Stage for Number {
    fn version(&self) -> &'static str {
        "1"
    }
    fn inputs(&self) -> Vec<ColumnDef> {
        Vec::new()
    }
    fn outputs(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("n", ColumnType::U64),
            ColumnDef::new("draw", ColumnType::U64),
        ]
    }
    fn process(&self, record: &mut Record, cx: &StageContext) -> Result<(), Reject> {
        // Uneven work so that completion order differs from record order.
        let spin = (record.key.record_index * 7919) % 5000;
        let mut acc = 0u64;
        for i in 0..spin * 50 {
            acc = acc.wrapping_add(i ^ acc.rotate_left(3));
        }
        std::hint::black_box(acc);
        record.set("n", Value::U64(record.key.record_index));
        record.set("draw", Value::U64(cx.rng().next_u64()));
        Ok(())
    }
}

/// Reads `n`; rejects multiples of `reject_every`, panics on `panic_at`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckConfig {
    #[serde(default)]
    reject_every: u64,
    panic_at: Option<u64>,
    #[serde(default = "u64_type")]
    input_type: String,
}
fn u64_type() -> String {
    "u64".into()
}
struct Check(CheckConfig);
impl StageConfig for CheckConfig {
    const KIND: &'static str = "test.check";
    const SUMMARY: &'static str = "rejects some records";
    fn build(&self) -> Result<Arc<dyn Stage>, ConfigError> {
        if self.reject_every == 1 {
            return Err("`reject_every` = 1 would reject everything".into());
        }
        Ok(Arc::new(Check(CheckConfig {
            reject_every: self.reject_every,
            panic_at: self.panic_at,
            input_type: self.input_type.clone(),
        })))
    }
}
impl Stage for Check {
    fn version(&self) -> &'static str {
        "1"
    }
    fn inputs(&self) -> Vec<ColumnDef> {
        let ty = if self.0.input_type == "str" {
            ColumnType::Str
        } else {
            ColumnType::U64
        };
        vec![ColumnDef::new("n", ty)]
    }
    fn outputs(&self) -> Vec<ColumnDef> {
        vec![ColumnDef::new("checked", ColumnType::Bool)]
    }
    fn process(&self, record: &mut Record, _cx: &StageContext) -> Result<(), Reject> {
        let Some(Value::U64(n)) = record.get("n") else {
            return Err(Reject::new("missing_input", "no n"));
        };
        let n = *n;
        assert!(self.0.panic_at != Some(n), "boom at {n}");
        if self.0.reject_every > 0 && n % self.0.reject_every == 0 {
            return Err(Reject::new("divisible", format!("{n} is divisible")));
        }
        record.set("checked", Value::Bool(true));
        Ok(())
    }
}

fn registry() -> StageRegistry {
    let mut r = StageRegistry::new();
    r.register::<NumberConfig>();
    r.register::<CheckConfig>();
    r
}

fn plan(toml: &str) -> crate::Result<Plan> {
    let spec = PipelineSpec::parse(toml, Path::new("test.toml"))?;
    Plan::build(spec, &registry(), 2)
}

const HEAD: &str = "name = 't'\ndataset = 'clocks'\n";

#[test]
fn unknown_kind_suggests_the_nearest() {
    let err = plan(&format!("{HEAD}[[stages]]\nname='a'\nkind='test.numbr'\n")).unwrap_err();
    assert!(
        err.to_string().contains("did you mean `test.number`?"),
        "{err}"
    );
    assert!(
        matches!(&err, Error::UnknownKind { suggestion: Some(s), .. } if s == "test.number"),
        "{err:?}"
    );
}

#[test]
fn cycles_are_named() {
    let err = plan(&format!(
        "{HEAD}[[stages]]\nname='a'\nkind='test.number'\nafter=['b']\n[[stages]]\nname='b'\nkind='test.check'\nafter=['a']\n"
    ))
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("cycle") && msg.contains("`a`") && msg.contains("`b`"),
        "{msg}"
    );
    assert!(
        matches!(&err, Error::Cycle { cycle, .. } if cycle.len() == 3),
        "{err:?}"
    );
}

#[test]
fn missing_and_mistyped_columns_are_caught() {
    let err = plan(&format!("{HEAD}[[stages]]\nname='c'\nkind='test.check'\n")).unwrap_err();
    assert!(
        err.to_string()
            .contains("reads column `n` (u64), which no upstream stage writes"),
        "{err}"
    );
    assert!(
        matches!(&err, Error::MissingColumn { column, .. } if column == "n"),
        "{err:?}"
    );
    let err = plan(&format!(
        "{HEAD}[[stages]]\nname='a'\nkind='test.number'\n[[stages]]\nname='c'\nkind='test.check'\n[stages.config]\ninput_type='str'\n"
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("as str, but upstream stage `a` writes it as u64"),
        "{err}"
    );
    assert!(matches!(err, Error::ColumnType { .. }), "{err:?}");
    // A column written by a stage that is not an ancestor does not count.
    let err = plan(&format!(
        "{HEAD}[[stages]]\nname='a'\nkind='test.number'\n[[stages]]\nname='c'\nkind='test.check'\nafter=[]\n"
    ))
    .unwrap_err();
    assert!(
        err.to_string().contains("no upstream stage writes"),
        "{err}"
    );
}

#[test]
fn bad_stage_configs_and_references_are_rejected() {
    let err = plan(&format!(
        "{HEAD}[[stages]]\nname='a'\nkind='test.number'\n[stages.config]\ncolour=1\n"
    ))
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `colour`"), "{err}");
    assert!(
        matches!(
            &err,
            Error::StageConfig {
                error: ConfigError::Shape { .. },
                ..
            }
        ),
        "{err:?}"
    );
    let err = plan(&format!(
        "{HEAD}[[stages]]\nname='a'\nkind='test.number'\n[[stages]]\nname='c'\nkind='test.check'\n[stages.config]\nreject_every=1\n"
    ))
    .unwrap_err();
    assert!(err.to_string().contains("would reject everything"), "{err}");
    match &err {
        Error::StageConfig {
            error: error @ ConfigError::Value { .. },
            ..
        } => assert_eq!(error.field(), Some("reject_every")),
        other => panic!("{other:?}"),
    }
    let err = plan(&format!(
        "{HEAD}[[stages]]\nname='a'\nkind='test.number'\n[[stages]]\nname='c'\nkind='test.check'\nafter=['aa']\n"
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown stage `aa`; did you mean `a`?"),
        "{err}"
    );
    assert!(matches!(err, Error::UnknownDependency { .. }), "{err:?}");
    let err = plan(&format!(
        "{HEAD}[[stages]]\nname='a'\nkind='test.number'\n[[stages]]\nname='a'\nkind='test.number'\n"
    ))
    .unwrap_err();
    assert!(err.to_string().contains("used twice"), "{err}");
    assert!(matches!(err, Error::DuplicateStage { .. }), "{err:?}");
    let err = plan(&format!(
        "{HEAD}[splits]\ntrain=1.5\n[[stages]]\nname='a'\nkind='test.number'\n"
    ))
    .unwrap_err();
    assert!(
        matches!(&err, Error::BadSplit { split, .. } if split == "train"),
        "{err:?}"
    );
    let err = plan(&format!("{HEAD}stages = []\n")).unwrap_err();
    assert!(matches!(err, Error::NoStages { .. }), "{err:?}");
}

#[test]
fn config_hash_ignores_key_order_and_output_but_not_configs() {
    let a = plan(&format!("{HEAD}[output]\nrows_per_shard=5\n[[stages]]\nname='a'\nkind='test.number'\n[[stages]]\nname='c'\nkind='test.check'\n[stages.config]\nreject_every=3\npanic_at=9\n")).unwrap();
    let b = plan(&format!("{HEAD}[[stages]]\nname='a'\nkind='test.number'\n[[stages]]\nname='c'\nkind='test.check'\n[stages.config]\npanic_at=9\nreject_every=3\n")).unwrap();
    let c = plan(&format!("{HEAD}[[stages]]\nname='a'\nkind='test.number'\n[[stages]]\nname='c'\nkind='test.check'\n[stages.config]\npanic_at=9\nreject_every=4\n")).unwrap();
    assert_eq!(a.config_hash, b.config_hash);
    assert_ne!(a.config_hash, c.config_hash);
    assert!(a.describe().contains("test.check"));
    assert!(a.to_dot().contains("\"a\" -> \"c\""));
}

async fn run(plan: Arc<Plan>, start: u64, end: u64) -> (Vec<(u64, u64)>, Vec<crate::Rejection>) {
    let unit = WorkUnit {
        run_seed: 7,
        dataset: "clocks".into(),
        split: "train".into(),
        start,
        end,
    };
    let stats = Arc::new(ExecStats::for_plan(&plan));
    let (mut rx, handle) = execute(plan, unit, stats, 4);
    let mut rows = Vec::new();
    let mut rejects = Vec::new();
    while let Some(o) = rx.recv().await {
        match o {
            Outcome::Row(r) => {
                let (Some(Value::U64(n)), Some(Value::U64(d))) = (r.get("n"), r.get("draw")) else {
                    panic!("missing columns");
                };
                assert_eq!(r.stages.len(), 2);
                rows.push((*n, *d));
            }
            Outcome::Rejected(r) => rejects.push(r),
        }
    }
    handle.await.unwrap().unwrap();
    (rows, rejects)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_keep_order_rejects_and_panics_are_data_and_seeds_ignore_layout() {
    let p = Arc::new(
        plan(&format!(
            "{HEAD}[[stages]]\nname='a'\nkind='test.number'\nconcurrency=4\n[[stages]]\nname='c'\nkind='test.check'\nconcurrency=3\n[stages.config]\nreject_every=10\npanic_at=33\n"
        ))
        .unwrap(),
    );
    let (rows, rejects) = run(Arc::clone(&p), 0, 100).await;
    let indices: Vec<u64> = rows.iter().map(|r| r.0).collect();
    let mut sorted = indices.clone();
    sorted.sort_unstable();
    assert_eq!(indices, sorted, "records come out in order");
    assert_eq!(rows.len(), 100 - 10 - 1);
    assert_eq!(rejects.len(), 11);
    let panic = rejects
        .iter()
        .find(|r| r.kind == "panic")
        .expect("the panic is a rejection");
    assert_eq!(panic.record_index, 33);
    assert!(panic.message.contains("boom at 33"), "{}", panic.message);
    assert!(
        rejects
            .iter()
            .filter(|r| r.kind == "divisible")
            .all(|r| r.record_index % 10 == 0)
    );
    // Two halves give the same rows as the whole: seeds depend on the record, not the layout.
    let (first, _) = run(Arc::clone(&p), 0, 50).await;
    let (second, _) = run(Arc::clone(&p), 50, 100).await;
    let halves: Vec<(u64, u64)> = first.into_iter().chain(second).collect();
    assert_eq!(halves, rows);
}

/// `per_core` multiplies the cores when `concurrency` is 0, is refused at 0 and next to a
/// fixed `concurrency`, and leaves the rows unchanged (records still leave in order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_core_sets_records_in_flight_without_changing_rows() {
    let spec = |extra: &str| {
        format!(
            "{HEAD}[[stages]]\nname='a'\nkind='test.number'\n{extra}\n[[stages]]\nname='c'\nkind='test.check'\n[stages.config]\nreject_every=10\n"
        )
    };
    let one = plan(&spec("")).unwrap();
    let three = plan(&spec("per_core = 3")).unwrap();
    assert_eq!(one.stages[0].concurrency, 2);
    assert_eq!(three.stages[0].concurrency, 6);
    assert_eq!(three.stages[1].concurrency, 2);
    // In-flight records are a matter of speed, not of content: same plan hash, same rows.
    assert_eq!(one.config_hash, three.config_hash);
    let (rows_one, rejects_one) = run(Arc::new(one), 0, 60).await;
    let (rows_three, rejects_three) = run(Arc::new(three), 0, 60).await;
    assert_eq!(rows_one, rows_three);
    assert_eq!(rejects_one.len(), rejects_three.len());
    for (extra, want) in [
        ("per_core = 0", "`per_core` must be at least 1"),
        (
            "concurrency = 4\nper_core = 2",
            "`per_core` applies only with `concurrency = 0`",
        ),
    ] {
        let err = plan(&spec(extra)).unwrap_err().to_string();
        assert!(err.contains(want) && err.contains("stage `a`"), "{err}");
    }
}
