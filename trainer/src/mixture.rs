//! The fine-tuning mixture: groups with fixed rates, datasets inside a group weighted by
//! sqrt(size) (an override size replaces the true one), a deterministic draw per slot and
//! per-dataset epoch shuffles, and a small state that resumes mid-epoch.

use std::collections::HashMap;

use pixmo_annotation_schema::Dataset;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// One dataset in a group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Dataset name.
    pub name: String,
    /// Number of examples.
    pub size: usize,
    /// Size used for the rate instead of `size` (manual down-weighting).
    pub size_override: Option<usize>,
}

/// A group with a fixed share of the mixture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixtureGroup {
    /// Group name.
    pub name: String,
    /// Share of all draws.
    pub rate: f64,
    /// Datasets.
    pub members: Vec<Member>,
}

/// Per-dataset sampling rates: `group_rate · sqrt(size) / Σ_group sqrt(size)`, with group
/// rates renormalised over the groups that have data.
#[must_use]
pub fn rates(groups: &[MixtureGroup]) -> Vec<(String, f64)> {
    let live: Vec<&MixtureGroup> = groups
        .iter()
        .filter(|g| g.members.iter().any(|m| m.size > 0))
        .collect();
    let total_rate: f64 = live.iter().map(|g| g.rate).sum();
    let mut out = Vec::new();
    for g in live {
        #[allow(clippy::cast_precision_loss)]
        let weight = |m: &Member| {
            if m.size == 0 {
                0.0
            } else {
                (m.size_override.unwrap_or(m.size) as f64).sqrt()
            }
        };
        let sum: f64 = g.members.iter().map(weight).sum();
        for m in &g.members {
            out.push((m.name.clone(), g.rate / total_rate * weight(m) / sum));
        }
    }
    out
}

/// Molmo's `3.2-synthetic` groups restricted to the datasets pixmo builds: demo (0.15:
/// ask-model-anything, cap capped at 50k, cap-qa, point explanations), aux (0.50: docs and
/// clocks, where Molmo has its academic datasets) and pointing (0.35: points, count).
#[must_use]
pub fn pixmo_groups(sizes: &[(Dataset, usize)]) -> Vec<MixtureGroup> {
    let member = |d: Dataset, cap: Option<usize>| {
        let size = sizes.iter().find(|(x, _)| *x == d).map_or(0, |(_, n)| *n);
        Member {
            name: d.name().to_string(),
            size,
            size_override: cap.map(|c| c.min(size)),
        }
    };
    vec![
        MixtureGroup {
            name: "demo".into(),
            rate: 0.15,
            members: vec![
                member(Dataset::AskModelAnything, None),
                member(Dataset::Cap, Some(50_000)),
                member(Dataset::CapQa, None),
                member(Dataset::PointExplanations, None),
            ],
        },
        MixtureGroup {
            name: "aux".into(),
            rate: 0.50,
            members: vec![member(Dataset::Docs, None), member(Dataset::Clocks, None)],
        },
        MixtureGroup {
            name: "pointing".into(),
            rate: 0.35,
            members: vec![member(Dataset::Points, None), member(Dataset::Count, None)],
        },
    ]
}

/// Where a sampler is; saved in checkpoints.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplerState {
    /// Draws so far.
    pub drawn: u64,
    /// Per dataset: (epoch, position in that epoch's order).
    pub cursors: Vec<(u64, usize)>,
    /// Per dataset, in the same order: its name and number of examples, what the cursors are
    /// positions in (empty in checkpoints written before it was recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data: Vec<(String, usize)>,
    /// Per dataset, in the same order: the hex SHA-256 of its examples' digests in load order
    /// ([`crate::data::Example::digest`]), so that a position is not resumed in other rows of
    /// the same size (empty where not recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digests: Vec<String>,
}

/// Deterministic mixture sampler.
#[derive(Clone, Debug)]
pub struct Sampler {
    cumulative: Vec<f64>,
    sizes: Vec<usize>,
    seed: u64,
    state: SamplerState,
    orders: HashMap<(usize, u64), Vec<usize>>,
}

impl Sampler {
    /// A sampler over `(name, rate)` with the datasets' sizes, in the same order.
    ///
    /// # Panics
    /// When `rates` and `sizes` differ in length.
    #[must_use]
    pub fn new(rates: &[(String, f64)], sizes: &[usize], seed: u64) -> Sampler {
        assert_eq!(rates.len(), sizes.len(), "one size per dataset");
        let total: f64 = rates.iter().map(|r| r.1).sum();
        let mut acc = 0.0;
        let cumulative = rates
            .iter()
            .map(|r| {
                acc += r.1 / total;
                acc
            })
            .collect();
        let data: Vec<(String, usize)> = rates
            .iter()
            .map(|r| r.0.clone())
            .zip(sizes.iter().copied())
            .collect();
        Sampler {
            cumulative,
            sizes: sizes.to_vec(),
            seed,
            state: SamplerState {
                drawn: 0,
                cursors: vec![(0, 0); sizes.len()],
                data,
                digests: Vec::new(),
            },
            orders: HashMap::new(),
        }
    }

    /// The sampler with the datasets' digests (hex, one per dataset in order): recorded in its
    /// state and compared on [`Sampler::restore`].
    ///
    /// # Panics
    /// When there is not one digest per dataset.
    #[must_use]
    pub fn with_digests(mut self, digests: Vec<String>) -> Sampler {
        assert_eq!(digests.len(), self.sizes.len(), "one digest per dataset");
        self.state.digests = digests;
        self
    }

    /// Dataset names in sampler order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.state.data.iter().map(|d| d.0.as_str())
    }

    /// The current state.
    #[must_use]
    pub fn state(&self) -> &SamplerState {
        &self.state
    }

    /// Continues from a saved state.
    ///
    /// # Errors
    /// When the state is a position in other data: other datasets, or other numbers of
    /// examples (the epochs' orders depend on them), or other examples (where both record
    /// digests), or (in states that do not record the data) another number of datasets or a
    /// position past a dataset's end.
    pub fn restore(&mut self, state: SamplerState) -> std::result::Result<(), String> {
        // The state's data and digests are always this sampler's own (set at construction,
        // kept on restore).
        let mine = &self.state.data;
        let my_digests = &self.state.digests;
        let describe = |data: &[(String, usize)]| {
            data.iter()
                .map(|(name, n)| format!("{name} ({n} examples)"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !state.data.is_empty() && state.data != *mine {
            return Err(format!(
                "its data position is in {}, but this run selects {}: resume with the data it \
                 was trained on (the same --data, --datasets, --split and --limit)",
                describe(&state.data),
                describe(mine)
            ));
        }
        if !state.digests.is_empty() && !my_digests.is_empty() && state.digests != *my_digests {
            let changed: Vec<String> = mine
                .iter()
                .zip(state.digests.iter().zip(my_digests))
                .filter(|(_, (then, now))| then != now)
                .map(|((name, _), (then, now))| {
                    format!("{name} (digest {} then, {} now)", short(then), short(now))
                })
                .collect();
            return Err(format!(
                "its data position is in other examples of {}: the same datasets and numbers \
                 of examples, but other ids, images, annotations or order; resume with the \
                 data it was trained on (shards rebuilt since, even with the same count, are \
                 other data)",
                changed.join(", ")
            ));
        }
        let fits = state.cursors.len() == self.sizes.len()
            && state
                .cursors
                .iter()
                .zip(&self.sizes)
                .all(|(c, &n)| c.1 < n.max(1));
        if !fits {
            return Err(format!(
                "its data position ({} datasets) does not fit this run's data, {}: resume with \
                 the data it was trained on (the same --data, --datasets, --split and --limit)",
                state.cursors.len(),
                describe(mine)
            ));
        }
        self.state = SamplerState {
            data: std::mem::take(&mut self.state.data),
            digests: std::mem::take(&mut self.state.digests),
            ..state
        };
        Ok(())
    }

    /// The next (dataset index, example index).
    pub fn next_example(&mut self) -> (usize, usize) {
        let mut rng = Rng::derive(self.seed, self.state.drawn);
        self.state.drawn += 1;
        let u = rng.unit();
        let mut d = self
            .cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.cumulative.len() - 1);
        while self.sizes[d] == 0 {
            d = (d + 1) % self.sizes.len();
        }
        let (epoch, pos) = self.state.cursors[d];
        let seed = self.seed;
        let size = self.sizes[d];
        let order = self.orders.entry((d, epoch)).or_insert_with(|| {
            let mut order: Vec<usize> = (0..size).collect();
            Rng::derive(seed.wrapping_add(epoch.wrapping_mul(1771)), d as u64).shuffle(&mut order);
            order
        });
        let example = order[pos];
        self.state.cursors[d] = if pos + 1 == size {
            self.orders.remove(&(d, epoch));
            (epoch + 1, 0)
        } else {
            (epoch, pos + 1)
        };
        (d, example)
    }
}

/// The first 12 hex digits of a digest.
fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_follow_group_shares_and_sqrt_sizes() {
        let groups = pixmo_groups(&[
            (Dataset::Cap, 700_000),
            (Dataset::AskModelAnything, 40_000),
            (Dataset::Docs, 250_000),
            (Dataset::Clocks, 10_000),
            (Dataset::Points, 90_000),
            (Dataset::Count, 40_000),
        ]);
        let r: HashMap<String, f64> = rates(&groups).into_iter().collect();
        let sum: f64 = r.values().sum();
        assert!((sum - 1.0).abs() < 1e-12);
        // Demo group: cap counts as 50k against ask-model-anything's 40k.
        let demo = 50_000f64.sqrt() + 40_000f64.sqrt();
        assert!((r["cap"] - 0.15 * 50_000f64.sqrt() / demo).abs() < 1e-12);
        assert!((r["docs"] + r["clocks"] - 0.5).abs() < 1e-12);
        assert!((r["docs"] / r["clocks"] - 5.0).abs() < 1e-9);
        assert!((r["points"] + r["count"] - 0.35).abs() < 1e-12);
        assert_eq!(r["cap_qa"], 0.0);
    }

    #[test]
    fn sampling_is_deterministic_covers_epochs_and_resumes() {
        let rates = vec![("a".to_string(), 0.7), ("b".to_string(), 0.3)];
        let sizes = [5, 3];
        let mut s = Sampler::new(&rates, &sizes, 11);
        let first: Vec<(usize, usize)> = (0..40).map(|_| s.next_example()).collect();
        let mut again = Sampler::new(&rates, &sizes, 11);
        assert_eq!(
            first,
            (0..40).map(|_| again.next_example()).collect::<Vec<_>>()
        );
        // Each full epoch of `a` visits each example once.
        let a: Vec<usize> = first
            .iter()
            .filter(|x| x.0 == 0)
            .map(|x| x.1)
            .take(5)
            .collect();
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2, 3, 4]);
        // Resume mid-epoch from a saved state.
        let mut head = Sampler::new(&rates, &sizes, 11);
        for _ in 0..17 {
            head.next_example();
        }
        let mut resumed = Sampler::new(&rates, &sizes, 11);
        resumed.restore(head.state().clone()).unwrap();
        let tail: Vec<(usize, usize)> = (0..23).map(|_| resumed.next_example()).collect();
        assert_eq!(tail, first[17..]);
        // A position in other data is refused, not drawn from (or panicked on).
        let mut fewer = Sampler::new(&rates, &[sizes[0], 2], 11);
        let refused = fewer.restore(head.state().clone()).unwrap_err();
        assert!(refused.contains("b (2 examples)"), "{refused}");
        let mut unrecorded = head.state().clone();
        unrecorded.data.clear();
        let mut one = Sampler::new(&rates[..1], &sizes[..1], 11);
        assert!(one.restore(unrecorded.clone()).is_err());
        let mut short = Sampler::new(&rates, &[sizes[0], 1], 11);
        unrecorded.cursors[1].1 = 1;
        assert!(short.restore(unrecorded.clone()).is_err());
        let mut same = Sampler::new(&rates, &sizes, 11);
        same.restore(unrecorded).unwrap();
        // Other rows of the same sizes are refused where both sides record digests, naming
        // the datasets whose rows changed; the same rows resume.
        let hexes = |b: &str| vec!["a".repeat(64), b.repeat(64)];
        let mut digested = Sampler::new(&rates, &sizes, 11).with_digests(hexes("b"));
        for _ in 0..17 {
            digested.next_example();
        }
        let saved = digested.state().clone();
        assert_eq!(saved.digests, hexes("b"));
        let mut rebuilt = Sampler::new(&rates, &sizes, 11).with_digests(hexes("c"));
        let refused = rebuilt.restore(saved.clone()).unwrap_err();
        assert!(
            refused.contains("other examples of b (digest bbbbbbbbbbbb then, cccccccccccc now)"),
            "{refused}"
        );
        let mut again = Sampler::new(&rates, &sizes, 11).with_digests(hexes("b"));
        again.restore(saved.clone()).unwrap();
        assert_eq!(again.next_example(), first[17]);
        // A checkpoint written before digests were recorded resumes on its names and sizes.
        let mut older = saved;
        older.digests.clear();
        rebuilt.restore(older).unwrap();
        assert_eq!(rebuilt.state().digests, hexes("c"));
        let b_share = first.iter().filter(|x| x.0 == 1).count();
        assert!((5..20).contains(&b_share), "{b_share}");
    }
}
