//! The pipeline spec: the TOML users write and check in.
//!
//! ```toml
//! name = "clocks"
//! dataset = "clocks"
//!
//! [splits]            # fraction of `--count` per split; the largest split takes the remainder
//! train = 0.97
//! val = 0.03
//!
//! [output]            # passed to the shard sink; see pixmo-stages
//! rows_per_shard = 1000
//!
//! [[stages]]
//! name = "sample"
//! kind = "clocks.sample"
//! after = []          # omitted: the stage listed before it
//! concurrency = 0     # 0: `per_core` per core
//! per_core = 1        # records in flight per core when `concurrency` is 0 (default 1)
//! [stages.config]
//! examples_per_face = 5
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A whole pipeline spec.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// Pipeline name (recorded in provenance).
    pub name: String,
    /// Dataset the pipeline builds (`clocks`); selects the shard schema.
    pub dataset: String,
    /// Free text for `pixmo plan`.
    #[serde(default)]
    pub description: String,
    /// Split name -> fraction of the requested count.
    #[serde(default = "default_splits")]
    pub splits: BTreeMap<String, f64>,
    /// Shard sink settings (interpreted by the sink).
    #[serde(default)]
    pub output: toml::Table,
    /// The stages.
    pub stages: Vec<StageSpec>,
}

fn default_splits() -> BTreeMap<String, f64> {
    BTreeMap::from([("train".to_string(), 1.0)])
}

/// One stage of the spec.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// Unique name within the pipeline (also part of every seed this stage draws).
    pub name: String,
    /// Registered kind, such as `clocks.render`.
    pub kind: String,
    /// Stages that must run before this one. Omitted: the previous stage in the list.
    pub after: Option<Vec<String>>,
    /// Records processed at once; 0 means `per_core` per core.
    #[serde(default)]
    pub concurrency: usize,
    /// With `concurrency` 0: records in flight per core (default 1). More than one suits a
    /// stage whose workers wait on each other (a cache one worker fills while another
    /// waits for it), so the cores have other records to work on meanwhile. Output is the
    /// same at any value: records leave the stage in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_core: Option<usize>,
    /// The stage's own configuration.
    #[serde(default = "empty_table")]
    pub config: toml::Value,
}

fn empty_table() -> toml::Value {
    toml::Value::Table(toml::Table::new())
}

impl PipelineSpec {
    /// Parses a spec from TOML text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`Error::MalformedSpec`] with the parser's line and column.
    pub fn parse(text: &str, origin: &Path) -> Result<PipelineSpec> {
        toml::from_str(text).map_err(|e| Error::MalformedSpec {
            path: origin.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', "\n  "),
        })
    }

    /// Record counts per split for a requested total: each split gets `round(count *
    /// fraction)`, the largest split takes the remainder. Counts never shrink as `count` grows.
    #[must_use]
    pub fn split_counts(&self, count: u64) -> Vec<(String, u64)> {
        let largest = self
            .splits
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(name, _)| name.clone());
        let mut out = Vec::new();
        let mut assigned = 0u64;
        for (name, fraction) in &self.splits {
            if Some(name) == largest.as_ref() {
                continue;
            }
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let n = ((count as f64) * fraction).round().max(0.0) as u64;
            let n = n.min(count - assigned);
            assigned += n;
            out.push((name.clone(), n));
        }
        if let Some(name) = largest {
            out.push((name, count - assigned));
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_counts_add_up_and_grow_monotonically() {
        let spec = PipelineSpec::parse(
            "name='c'\ndataset='clocks'\nstages=[]\n[splits]\ntrain=0.97\nval=0.03\n",
            Path::new("t.toml"),
        )
        .unwrap();
        let mut last = (0, 0);
        for count in 0..500 {
            let counts = spec.split_counts(count);
            let train = counts.iter().find(|c| c.0 == "train").unwrap().1;
            let val = counts.iter().find(|c| c.0 == "val").unwrap().1;
            assert_eq!(train + val, count);
            assert!(train >= last.0 && val >= last.1);
            last = (train, val);
        }
        assert_eq!(
            spec.split_counts(1000),
            vec![("train".into(), 970), ("val".into(), 30)]
        );
    }

    #[test]
    fn malformed_toml_names_the_line() {
        let err = PipelineSpec::parse("name = \n", Path::new("bad.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("bad.toml") && msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = PipelineSpec::parse(
            "name='c'\ndataset='clocks'\nstages=[]\nshards=3\n",
            Path::new("t.toml"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `shards`"), "{err}");
    }
}
