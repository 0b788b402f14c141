//! Data parallelism inside one node with burn's collective operations (`burn::collective`).
//!
//! One model replica per device. Peer 0 is the [`Trainer`](crate::train::Trainer) itself, on
//! the calling thread; peers 1..N run in threads of their own. Every step the trainer draws the
//! step's global batch exactly as a single process does (same sampler, same micro-batches) and
//! hands micro-batch `j` to peer `j mod N`. Each peer computes its share of the gradients with
//! the *global* loss-weight divisor, the peers sum them with an all-reduce, and every peer then
//! clips and takes the same AdamW step, so the replicas stay identical without a broadcast.
//! The gradients of a step therefore do not depend on N (up to the order of float additions).
//!
//! The all-reduce runs over every parameter in module order (a zero tensor where a peer's
//! micro-batches gave a parameter no gradient), after an all-reduce of which parameters have a
//! gradient anywhere: every peer calls the same operations in the same order, and a parameter
//! that no peer touched gets no gradient, as in a single process.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use burn::collective::{
    CollectiveConfig, CollectiveError, PeerId, ReduceOperation, all_reduce, finish_collective,
    register,
};
use burn::module::{ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{TensorData, TensorPrimitive};

use crate::batch::{Packed, collate};
use crate::config::VisionGeometry;
use crate::error::{Error, Result};
use crate::model::Molmo;
use crate::optim::{GroupGrads, MolmoOptimizer, apply, split_unscale_and_clip};
use crate::train::{TrainConfig, step_gradients_over};

/// The loss of one peer's share of a step (its micro-batches, divided by the loss weight of
/// the whole step, so the peers' losses add up to the step's).
#[derive(Clone, Copy, Debug)]
pub struct PeerStep {
    /// Loss.
    pub loss: f64,
    /// Cross-entropy part of it.
    pub ce: f64,
}

/// One peer's replica: its model, optimiser state and device.
struct Replica<B: AutodiffBackend> {
    /// The model (identical on every peer between steps).
    model: Molmo<B>,
    /// AdamW state (identical on every peer).
    optimizer: MolmoOptimizer<B>,
    /// Where it computes.
    device: B::Device,
}

/// The collective settings for `peers` devices on one node: burn's local tree all-reduce.
#[must_use]
pub fn collective_config(peers: usize) -> CollectiveConfig {
    CollectiveConfig::default().with_num_devices(peers)
}

fn collective_error(what: &str, e: &CollectiveError) -> Error {
    Error::Config(format!("data parallelism: {what} failed: {e:?}"))
}

/// Sums one peer's gradients with every other peer's (see the module docs for the order).
///
/// # Errors
/// When a collective operation fails.
pub fn all_reduce_gradients<B: AutodiffBackend>(
    peer: PeerId,
    model: &Molmo<B>,
    mut grads: GradientsParams,
    device: &B::Device,
) -> Result<GradientsParams> {
    let inner = device.clone();
    let mut presence = Presence::<B> {
        grads: &grads,
        present: Vec::new(),
        _b: std::marker::PhantomData,
    };
    model.visit(&mut presence);
    let present = presence.present;
    let n = present.len();
    let local = Tensor::<B::InnerBackend, 1>::from_data(TensorData::new(present, [n]), &inner);
    let counts =
        all_reduce::<B::InnerBackend>(peer, local.into_primitive().tensor(), ReduceOperation::Sum)
            .map_err(|e| collective_error("all-reduce of the gradient mask", &e))?;
    let counts: Vec<f32> =
        Tensor::<B::InnerBackend, 1>::from_primitive(TensorPrimitive::Float(counts))
            .into_data()
            .convert::<f32>()
            .to_vec()
            .unwrap_or_default();
    let mut sum = Sum::<B> {
        peer,
        grads: &mut grads,
        counts: &counts,
        at: 0,
        device: inner,
        error: None,
    };
    model.visit(&mut sum);
    match sum.error {
        Some(e) => Err(e),
        None => Ok(grads),
    }
}

/// Lists, in module order, whether each float parameter has a gradient here (1) or not (0).
struct Presence<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    present: Vec<f32>,
    _b: std::marker::PhantomData<B>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Presence<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let has = self.grads.get::<B::InnerBackend, D>(param.id).is_some();
        self.present.push(if has { 1.0 } else { 0.0 });
    }
}

/// All-reduces, in module order, the gradient of every parameter that some peer has.
struct Sum<'a, B: AutodiffBackend> {
    peer: PeerId,
    grads: &'a mut GradientsParams,
    counts: &'a [f32],
    at: usize,
    device: B::Device,
    error: Option<Error>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Sum<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let count = self.counts.get(self.at).copied().unwrap_or(0.0);
        self.at += 1;
        if self.error.is_some() || count <= 0.0 {
            return;
        }
        let id: ParamId = param.id;
        let local = self
            .grads
            .remove::<B::InnerBackend, D>(id)
            .unwrap_or_else(|| Tensor::zeros(param.val().shape(), &self.device));
        match all_reduce::<B::InnerBackend>(
            self.peer,
            local.into_primitive().tensor(),
            ReduceOperation::Sum,
        ) {
            Ok(t) => self.grads.register(
                id,
                Tensor::<B::InnerBackend, D>::from_primitive(TensorPrimitive::Float(t)),
            ),
            Err(e) => self.error = Some(collective_error("gradient all-reduce", &e)),
        }
    }
}

/// Sum of the loss weights of micro-batches (the divisor a single process uses for them).
#[must_use]
pub fn weight_sum(micro_batches: &[Vec<Packed>]) -> f32 {
    micro_batches
        .iter()
        .map(|mb| mb.iter().flat_map(|p| p.weights.iter()).sum::<f32>())
        .sum()
}

/// One peer's share of a step up to the optimiser: gradients of `micro_batches` over the
/// global `divisor` (of the loss times `loss_scale`), summed over the peers, split into
/// groups, unscaled and clipped.
///
/// # Errors
/// When a collective operation fails.
pub fn peer_gradients<B: AutodiffBackend>(
    peer: PeerId,
    model: &Molmo<B>,
    device: &B::Device,
    micro_batches: &[Vec<Packed>],
    (divisor, loss_scale): (f32, f64),
    train: &TrainConfig,
    vision: &VisionGeometry,
) -> Result<(Vec<GroupGrads>, PeerStep)> {
    let batches: Vec<_> = micro_batches
        .iter()
        .map(|mb| collate::<B>(mb, vision, device))
        .collect();
    let (loss, ce, grads) = step_gradients_over(model, &batches, train, true, divisor, loss_scale);
    let grads = all_reduce_gradients(peer, model, grads, device)?;
    let groups = split_unscale_and_clip(model, grads, train.max_grad_norm, loss_scale);
    Ok((groups, PeerStep { loss, ce }))
}

enum Job {
    Step {
        step: u64,
        micro_batches: Vec<Vec<Packed>>,
        divisor: f32,
        loss_scale: f64,
    },
}

struct Worker {
    jobs: Option<Sender<Job>>,
    done: Receiver<Result<PeerStep>>,
    handle: Option<JoinHandle<()>>,
}

/// Peers 1..N of a data-parallel run (peer 0 is the trainer's own replica).
pub struct Peers {
    workers: Vec<Worker>,
    /// Unregisters peer 0 from the collective (set once registered).
    finish_own: Option<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Peers({} + 1)", self.workers.len())
    }
}

impl Peers {
    /// Starts one thread per extra device with a copy of `model` and `optimizer` moved to
    /// it, and registers all `devices.len() + 1` peers (the caller is peer 0; its
    /// registration returns once every peer has registered).
    ///
    /// # Errors
    /// When a thread cannot be started or registration fails.
    pub fn start<B: AutodiffBackend>(
        model: &Molmo<B>,
        optimizer: &MolmoOptimizer<B>,
        own_device: &B::Device,
        devices: &[B::Device],
        train: &TrainConfig,
        vision: &VisionGeometry,
    ) -> Result<Peers> {
        let n = devices.len() + 1;
        let config = collective_config(n);
        let mut workers = Vec::with_capacity(devices.len());
        for (k, device) in devices.iter().enumerate() {
            let peer = PeerId::from(u32::try_from(k + 1).unwrap_or(u32::MAX));
            let mut replica = Replica {
                model: model.clone().fork(device),
                optimizer: crate::optim::adamw_with::<B>(train.moments),
                device: device.clone(),
            };
            replica.optimizer = replica.optimizer.load_record(optimizer.to_record());
            let (jobs_tx, jobs) = channel::<Job>();
            let (done, done_rx) = channel::<Result<PeerStep>>();
            let (train, vision, config) = (train.clone(), vision.clone(), config.clone());
            let handle = std::thread::Builder::new()
                .name(format!("pixmo-peer-{}", k + 1))
                .spawn(move || peer_loop(peer, replica, &config, &train, &vision, &jobs, &done))
                .map_err(|e| Error::Config(format!("cannot start a peer thread: {e}")))?;
            workers.push(Worker {
                jobs: Some(jobs_tx),
                done: done_rx,
                handle: Some(handle),
            });
        }
        // Dropped on an error here, the peers' channels close and their threads return.
        let mut peers = Peers {
            workers,
            finish_own: None,
        };
        register::<B::InnerBackend>(PeerId::from(0u32), own_device.clone(), config)
            .map_err(|e| collective_error("registration", &e))?;
        peers.finish_own = Some(Box::new(|| {
            let _ = finish_collective::<B::InnerBackend>(PeerId::from(0u32));
        }));
        Ok(peers)
    }

    /// Number of peers, the caller included.
    #[must_use]
    pub fn len(&self) -> usize {
        self.workers.len() + 1
    }

    /// Never empty: the caller is a peer.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Hands micro-batch `j` of a step to peer `j mod N` (peers 1..N get theirs now) and
    /// returns peer 0's share, to be run by the caller before [`Peers::collect`]. Every peer
    /// runs its share under peer 0's loss scale.
    pub fn dispatch(
        &self,
        step: u64,
        micro_batches: Vec<Vec<Packed>>,
        divisor: f32,
        loss_scale: f64,
    ) -> Vec<Vec<Packed>> {
        let n = self.len();
        let mut shares: Vec<Vec<Vec<Packed>>> = (0..n).map(|_| Vec::new()).collect();
        for (j, mb) in micro_batches.into_iter().enumerate() {
            shares[j % n].push(mb);
        }
        let mut shares = shares.into_iter();
        let own = shares.next().unwrap_or_default();
        for (worker, share) in self.workers.iter().zip(shares) {
            if let Some(jobs) = &worker.jobs {
                // A peer that has stopped answers `collect` with an error.
                let _ = jobs.send(Job::Step {
                    step,
                    micro_batches: share,
                    divisor,
                    loss_scale,
                });
            }
        }
        own
    }

    /// The other peers' results of the step dispatched last.
    ///
    /// # Errors
    /// When a peer failed or stopped.
    pub fn collect(&self) -> Result<Vec<PeerStep>> {
        self.workers
            .iter()
            .enumerate()
            .map(|(k, w)| {
                w.done.recv().map_err(|_| {
                    Error::Config(format!("data parallelism: peer {} stopped", k + 1))
                })?
            })
            .collect()
    }
}

impl Drop for Peers {
    /// Ends the collective: closes the peers' job channels (each peer unregisters and its
    /// thread returns), unregisters peer 0 and joins the threads.
    fn drop(&mut self) {
        for w in &mut self.workers {
            w.jobs = None;
        }
        // Unregistered (peer 0's registration failed), peers may wait in theirs forever:
        // their threads are left detached rather than joined.
        let Some(finish) = self.finish_own.take() else {
            return;
        };
        finish();
        for w in &mut self.workers {
            if let Some(h) = w.handle.take() {
                let _ = h.join();
            }
        }
    }
}

fn peer_loop<B: AutodiffBackend>(
    peer: PeerId,
    mut replica: Replica<B>,
    config: &CollectiveConfig,
    train: &TrainConfig,
    vision: &VisionGeometry,
    jobs: &Receiver<Job>,
    done: &Sender<Result<PeerStep>>,
) {
    if let Err(e) = register::<B::InnerBackend>(peer, replica.device.clone(), config.clone()) {
        let _ = done.send(Err(collective_error("registration", &e)));
        return;
    }
    while let Ok(Job::Step {
        step,
        micro_batches,
        divisor,
        loss_scale,
    }) = jobs.recv()
    {
        let out = peer_gradients(
            peer,
            &replica.model,
            &replica.device,
            &micro_batches,
            (divisor, loss_scale),
            train,
            vision,
        )
        .map(|(groups, report)| {
            let model = replica.model.clone();
            // A step with non-finite gradients is skipped here as on peer 0.
            (replica.model, _) =
                apply(&mut replica.optimizer, model, groups, &train.schedule, step);
            report
        });
        let failed = out.is_err();
        if done.send(out).is_err() || failed {
            break;
        }
    }
    let _ = finish_collective::<B::InnerBackend>(peer);
}

/// The step's loss from every peer's share.
#[must_use]
pub fn combine(own: PeerStep, others: &[PeerStep]) -> PeerStep {
    others.iter().fold(own, |t, o| PeerStep {
        loss: t.loss + o.loss,
        ce: t.ce + o.ce,
    })
}
