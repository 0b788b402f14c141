//! Molmo's optimiser recipe: AdamW (β 0.9/0.95, ε 1e-6, no weight decay), three parameter
//! groups (connector, ViT, LLM) each with its own peak LR and linear warmup from 0, cosine
//! decay to 10% of the peak, and gradient-norm clipping computed and applied per group.

use burn::module::{ModuleVisitor, Param, ParamId};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{
    AdamW, AdamWConfig, AdamWState, GradientsParams, LearningRate, Optimizer, SimpleOptimizer,
};
use burn::prelude::*;
use burn::tensor::DType;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::Stage;
use crate::model::Molmo;
use crate::model::mixed::Compute;

/// The three parameter groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Pooling, projector, pad embeddings, new-token embeddings.
    Connector,
    /// Vision encoder.
    Vit,
    /// Language model.
    Llm,
}

impl Group {
    /// All groups in a fixed order.
    pub const ALL: [Group; 3] = [Group::Connector, Group::Vit, Group::Llm];

    /// Name in metrics.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Group::Connector => "connector",
            Group::Vit => "vit",
            Group::Llm => "llm",
        }
    }
}

/// Peak LR and warmup of one group.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSchedule {
    /// Peak learning rate.
    pub peak_lr: f64,
    /// Linear warmup steps from 0.
    pub warmup: u64,
}

/// Learning-rate schedules of the three groups.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Connector group.
    pub connector: GroupSchedule,
    /// ViT group.
    pub vit: GroupSchedule,
    /// LLM group.
    pub llm: GroupSchedule,
    /// Total optimiser steps (the end of the cosine).
    pub total_steps: u64,
    /// Final LR as a fraction of the peak (0.1).
    pub alpha_f: f64,
}

impl Schedule {
    /// The recipe's schedule for a stage over `total_steps`.
    #[must_use]
    pub fn recipe(stage: Stage, total_steps: u64) -> Schedule {
        let g = |peak_lr, warmup| GroupSchedule { peak_lr, warmup };
        match stage {
            Stage::Pretrain => Schedule {
                connector: g(2e-4, 200),
                vit: g(6e-6, 2000),
                llm: g(2e-5, 2000),
                total_steps,
                alpha_f: 0.1,
            },
            Stage::Finetune => Schedule {
                connector: g(5e-6, 200),
                vit: g(5e-6, 200),
                llm: g(1e-5, 200),
                total_steps,
                alpha_f: 0.1,
            },
        }
    }

    /// The schedule of one group.
    #[must_use]
    pub fn group(&self, group: Group) -> GroupSchedule {
        match group {
            Group::Connector => self.connector,
            Group::Vit => self.vit,
            Group::Llm => self.llm,
        }
    }

    /// Refuses a schedule that cannot train: a peak LR that is negative or not finite, or
    /// every group frozen (such a run would only evaluate).
    ///
    /// # Errors
    /// [`Error::Config`] with the reason.
    pub fn validate(&self) -> Result<()> {
        for group in Group::ALL {
            let lr = self.group(group).peak_lr;
            if !lr.is_finite() || lr < 0.0 {
                return Err(Error::Config(format!(
                    "the {} peak LR is {lr}: it must be finite and not negative",
                    group.name()
                )));
            }
        }
        if Group::ALL.iter().all(|&g| self.frozen(g)) {
            return Err(Error::Config(
                "every parameter group has peak LR 0, so nothing would train (score a checkpoint \
                 with `pixmo-train eval` instead)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Whether `group` is frozen: its peak LR is zero, so its LR is zero at every step.
    #[must_use]
    pub fn frozen(&self, group: Group) -> bool {
        self.group(group).peak_lr == 0.0
    }

    /// LR of `group` at optimiser step `step` (0-based): `peak·step/warmup` during warmup,
    /// then `floor + (peak − floor)·(1 + cos(π·t/T))/2` with `floor = alpha_f·peak`,
    /// `t = step − warmup`, `T = total − warmup` (Molmo's `CosWithWarmup`).
    #[must_use]
    pub fn lr(&self, group: Group, step: u64) -> f64 {
        let GroupSchedule { peak_lr, warmup } = self.group(group);
        #[allow(clippy::cast_precision_loss)]
        if step < warmup {
            return peak_lr * step as f64 / warmup as f64;
        }
        let floor = peak_lr * self.alpha_f;
        let span = self.total_steps.saturating_sub(warmup).max(1);
        #[allow(clippy::cast_precision_loss)]
        let t = (step - warmup).min(span) as f64 / span as f64;
        floor + (peak_lr - floor) * (1.0 + (std::f64::consts::PI * t).cos()) / 2.0
    }
}

/// AdamW with Molmo's settings.
pub type MolmoOptimizer<B> = OptimizerAdaptor<MolmoAdamW, Molmo<B>, B>;

/// burn's AdamW whose two moments may be kept in a narrower dtype between steps
/// (`--moments bf16`: 4 bytes a parameter instead of 8 with f32 moments). Each step widens
/// them to the parameter's dtype, runs AdamW there, and narrows the new moments again; without
/// a moments dtype it is burn's AdamW unchanged. The state is AdamW's, so checkpoints are read
/// and written as before.
#[derive(Clone)]
pub struct MolmoAdamW {
    adamw: AdamW,
    moments: Option<Compute>,
}

impl<B: Backend> SimpleOptimizer<B> for MolmoAdamW {
    type State<const D: usize> = AdamWState<B, D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<B, D>,
        grad: Tensor<B, D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<B, D>, Option<Self::State<D>>) {
        let Some(moments) = self.moments else {
            return self.adamw.step(lr, tensor, grad, state);
        };
        let cast = |mut s: AdamWState<B, D>, dtype: DType| {
            s.momentum.moment_1 = s.momentum.moment_1.cast(dtype);
            s.momentum.moment_2 = s.momentum.moment_2.cast(dtype);
            s
        };
        let wide = tensor.dtype();
        let state = state.map(|s| cast(s, wide));
        let (tensor, state) = self.adamw.step(lr, tensor, grad, state);
        let narrow = DType::from(moments.dtype());
        (tensor, state.map(|s| cast(s, narrow)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &B::Device) -> Self::State<D> {
        <AdamW as SimpleOptimizer<B>>::to_device(state, device)
    }
}

/// AdamW (0.9, 0.95, ε 1e-6, weight decay 0), its moments in the parameters' dtype.
#[must_use]
pub fn adamw<B: AutodiffBackend>() -> MolmoOptimizer<B> {
    adamw_with(None)
}

/// AdamW (0.9, 0.95, ε 1e-6, weight decay 0), its moments kept in `moments` between steps
/// (`None`: in the parameters' dtype).
#[must_use]
pub fn adamw_with<B: AutodiffBackend>(moments: Option<Compute>) -> MolmoOptimizer<B> {
    let adamw = AdamWConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.95)
        .with_epsilon(1e-6)
        .with_weight_decay(0.0)
        .build();
    OptimizerAdaptor::from(MolmoAdamW { adamw, moments })
}

/// Moves the gradients of one module's parameters into a new set, divided by `loss_scale`
/// first (before squaring: the squares of scaled gradients overflow long before they do),
/// summing their squares.
struct Split<'a, B: AutodiffBackend> {
    from: &'a mut GradientsParams,
    to: GradientsParams,
    loss_scale: f64,
    sum_sq: Option<Tensor<B::InnerBackend, 1>>,
    params: usize,
    with_grad: usize,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Split<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.params += 1;
        if let Some(g) = self.from.remove::<B::InnerBackend, D>(param.id) {
            self.with_grad += 1;
            #[allow(clippy::float_cmp)]
            let g = if self.loss_scale == 1.0 {
                g
            } else {
                g * (1.0 / self.loss_scale)
            };
            let sq = g.clone().powf_scalar(2.0).sum();
            self.sum_sq = Some(match self.sum_sq.take() {
                Some(acc) => acc + sq,
                None => sq,
            });
            self.to.register(param.id, g);
        }
    }
}

/// Scales every gradient of a module's parameters.
struct Scale<'a, B: AutodiffBackend> {
    grads: &'a mut GradientsParams,
    factor: f64,
    _b: std::marker::PhantomData<B>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Scale<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let id: ParamId = param.id;
        if let Some(g) = self.grads.remove::<B::InnerBackend, D>(id) {
            self.grads.register(id, g * self.factor);
        }
    }
}

/// Gradients of one group after clipping.
pub struct GroupGrads {
    /// The group.
    pub group: Group,
    /// Its gradients.
    pub grads: GradientsParams,
    /// Global L2 norm before clipping.
    pub norm: f64,
    /// Parameters in the group and how many got a gradient.
    pub params: (usize, usize),
}

/// Per group (in [`Group::ALL`] order): the gradient norm before clipping, and (parameters,
/// parameters with a gradient).
#[must_use]
pub fn group_summary(groups: &[GroupGrads]) -> ([f64; 3], [(usize, usize); 3]) {
    let mut norm = [0.0; 3];
    let mut params = [(0, 0); 3];
    for (i, g) in groups.iter().enumerate().take(3) {
        norm[i] = g.norm;
        params[i] = g.params;
    }
    (norm, params)
}

/// Splits step gradients into the three groups and clips each to `max_norm` (no clipping
/// when `max_norm` is not positive).
pub fn split_and_clip<B: AutodiffBackend>(
    model: &Molmo<B>,
    grads: GradientsParams,
    max_norm: f64,
) -> Vec<GroupGrads> {
    split_unscale_and_clip(model, grads, max_norm, 1.0)
}

/// [`split_and_clip`] of gradients of a loss multiplied by `loss_scale`: the gradients are
/// divided by it first, so the norms, the clipping and the optimiser see the true ones.
pub fn split_unscale_and_clip<B: AutodiffBackend>(
    model: &Molmo<B>,
    mut grads: GradientsParams,
    max_norm: f64,
    loss_scale: f64,
) -> Vec<GroupGrads> {
    Group::ALL
        .into_iter()
        .map(|group| {
            let mut split = Split::<B> {
                from: &mut grads,
                to: GradientsParams::new(),
                loss_scale,
                sum_sq: None,
                params: 0,
                with_grad: 0,
            };
            match group {
                Group::Connector => model.connector.visit(&mut split),
                Group::Vit => model.vit.visit(&mut split),
                Group::Llm => model.llm.visit(&mut split),
            }
            let norm = split
                .sum_sq
                .take()
                .map_or(0.0, |t| t.into_scalar().elem::<f64>().sqrt());
            let (params, with_grad) = (split.params, split.with_grad);
            let mut out = split.to;
            if max_norm > 0.0 && norm > max_norm && norm.is_finite() {
                let mut scale = Scale::<B> {
                    grads: &mut out,
                    factor: max_norm / (norm + 1e-6),
                    _b: std::marker::PhantomData,
                };
                match group {
                    Group::Connector => model.connector.visit(&mut scale),
                    Group::Vit => model.vit.visit(&mut scale),
                    Group::Llm => model.llm.visit(&mut scale),
                }
            }
            GroupGrads {
                group,
                grads: out,
                norm,
                params: (params, with_grad),
            }
        })
        .collect()
}

/// One optimiser step: each group with its own LR at `step`, and `true`; or, when a group's
/// gradient norm is not finite (a NaN or an infinity among its gradients, or a norm past
/// f32's range), no step at all: the model and the optimiser state stay as they were, and
/// `false`. Every data-parallel peer decides alike (the norms are of the summed gradients).
pub fn apply<B: AutodiffBackend>(
    optimizer: &mut MolmoOptimizer<B>,
    mut model: Molmo<B>,
    groups: Vec<GroupGrads>,
    schedule: &Schedule,
    step: u64,
) -> (Molmo<B>, bool) {
    if groups.iter().any(|g| !g.norm.is_finite()) {
        return (model, false);
    }
    for g in groups {
        model = optimizer.step(schedule.lr(g.group, step), model, g.grads);
    }
    (model, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 + 1e-9 * b.abs()
    }

    #[test]
    fn a_schedule_that_cannot_train_is_refused() {
        let mut s = Schedule::recipe(Stage::Finetune, 100);
        assert!(s.validate().is_ok());
        s.vit.peak_lr = 0.0;
        s.connector.peak_lr = 0.0;
        assert!(s.validate().is_ok(), "one group still trains");
        s.llm.peak_lr = 0.0;
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("nothing would train"), "{e}");
        for bad in [-1e-4, f64::NAN, f64::INFINITY] {
            let mut s = Schedule::recipe(Stage::Finetune, 100);
            s.connector.peak_lr = bad;
            let e = s.validate().unwrap_err().to_string();
            assert!(e.contains("connector peak LR"), "{e}");
        }
    }

    #[test]
    fn pretraining_schedule_matches_the_recipe() {
        let s = Schedule::recipe(Stage::Pretrain, 22_200);
        assert_eq!(s.lr(Group::Connector, 0), 0.0);
        assert!(close(s.lr(Group::Connector, 100), 1e-4));
        assert!(close(s.lr(Group::Connector, 200), 2e-4));
        assert!(close(s.lr(Group::Vit, 1000), 3e-6));
        assert!(close(s.lr(Group::Vit, 2000), 6e-6));
        assert!(close(s.lr(Group::Llm, 2000), 2e-5));
        assert!(close(s.lr(Group::Llm, 22_200), 2e-6));
        assert!(close(s.lr(Group::Connector, 22_200), 2e-5));
        // Halfway through the cosine: floor + (peak − floor)/2.
        let mid = 2000 + (22_200 - 2000) / 2;
        assert!(close(s.lr(Group::Vit, mid), 6e-7 + (6e-6 - 6e-7) / 2.0));
        // Decreasing after warmup, never below 10%.
        let mut last = f64::MAX;
        for step in (2000..30_000).step_by(500) {
            let lr = s.lr(Group::Llm, step);
            assert!(lr <= last && lr >= 2e-6 - 1e-18);
            last = lr;
        }
    }

    #[test]
    fn finetuning_schedule_matches_the_recipe() {
        let s = Schedule::recipe(Stage::Finetune, 30_000);
        for (g, peak) in [
            (Group::Connector, 5e-6),
            (Group::Vit, 5e-6),
            (Group::Llm, 1e-5),
        ] {
            assert!(close(s.lr(g, 100), peak / 2.0));
            assert!(close(s.lr(g, 200), peak));
            assert!(close(s.lr(g, 30_000), peak / 10.0));
        }
    }
}
