//! The epoch loop every trainer runs: train an epoch, validate, keep the best epoch's model,
//! report, stop early when validation has not improved for `patience` epochs.
//!
//! Each model brings only its [`Trainer`]: its batches and optimiser steps for one epoch, and
//! its validation. The loop is written by hand rather than taken from Burn's `train` crate (its
//! `Learner`): each model steps its own seeded batches (β warm-up, an epoch-sized slice of a
//! long shuffle, in-batch triplets under a cosine learning rate) and has to give the same
//! weights for the same seed and data as it always did, while the `Learner` brings its own data
//! loaders, metrics and checkpoints — more machinery than these few lines, and another order of
//! random draws.

use std::time::{Duration, Instant};

use super::ModelError;

/// Largest allocation the C allocator still serves from its heap (glibc's maximum).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 32 << 20;

/// Asks the C allocator to keep the memory a training step frees for the next step.
///
/// A training step allocates and frees tensors of hundreds of kilobytes to megabytes. By
/// default glibc maps the largest afresh each time and gives freed memory back to the
/// system, so every step pays for page faults on new pages: training the loop model spent
/// about 9 % of its time in the kernel (58 million faults). Kept memory is reused instead,
/// which takes a tenth or more off the training time. It changes where the tensors live,
/// never their values, so a model trains to the same weights. Other platforms' allocators
/// are left as they are.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets allocator parameters; it is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
    }
}

/// How long to train and when to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Most epochs.
    pub epochs: usize,
    /// Stop after this many counted epochs without a better validation.
    pub patience: usize,
    /// Epochs before this one (1-based) are neither kept as the best nor counted towards
    /// `patience` (a warm-up; 0 counts every epoch).
    pub first_counted: usize,
}

/// What the loop knows at the end of an epoch (each trainer turns it into its own report).
#[derive(Debug, Clone, PartialEq)]
pub struct EpochEnd<V> {
    /// 1-based epoch.
    pub epoch: usize,
    /// Most epochs.
    pub epochs: usize,
    /// Mean training loss of the epoch.
    pub train_loss: f64,
    /// What validation measured.
    pub valid: V,
    /// Time since training began.
    pub elapsed: Duration,
    /// Whether this epoch is the best so far (and its model kept).
    pub improved: bool,
}

/// One model's side of training.
pub trait Trainer {
    /// The module being trained (on the autodiff device).
    type Training;
    /// The module without autodiff: what validation measures and the best epoch keeps.
    type Model;
    /// What validation measures.
    type Valid: Clone;

    /// Trains one epoch (1-based): the trainer's batches, steps and progress. Returns the
    /// module after it and the epoch's mean training loss.
    fn train_epoch(&mut self, model: Self::Training, epoch: usize) -> (Self::Training, f64);

    /// The module without autodiff, and its validation.
    fn validate(&mut self, model: &Self::Training) -> (Self::Model, Self::Valid);

    /// Whether validation `new` beats `best`.
    fn better(new: &Self::Valid, best: &Self::Valid) -> bool;
}

/// What [`run`] gives back.
#[derive(Debug)]
pub struct Outcome<M, V, R> {
    /// The model of the best epoch (the last epoch's when none was counted).
    pub model: M,
    /// That epoch (1-based).
    pub best_epoch: usize,
    /// Its validation.
    pub best_valid: V,
    /// Every epoch's report.
    pub history: Vec<R>,
    /// Time since training began.
    pub elapsed: Duration,
}

/// Trains `model` with `trainer` under `schedule` (training `began` then). Each epoch's
/// [`EpochEnd`] goes through `report` (which may read the trainer, e.g. for a β) into the
/// history and to `on_epoch`, with the model when the epoch is the best so far.
pub fn run<T: Trainer, R>(
    trainer: &mut T,
    mut model: T::Training,
    schedule: &Schedule,
    began: Instant,
    mut report: impl FnMut(&T, &EpochEnd<T::Valid>) -> R,
    mut on_epoch: impl FnMut(&R, Option<&T::Model>),
) -> Result<Outcome<T::Model, T::Valid, R>, ModelError> {
    // The best epoch's model, valid and number; the latest epoch's until one is counted.
    let mut kept: Option<(T::Model, T::Valid, usize)> = None;
    let mut have_best = false;
    let mut history = Vec::new();
    let mut since_best = 0;
    for epoch in 1..=schedule.epochs {
        let train_loss;
        (model, train_loss) = trainer.train_epoch(model, epoch);
        let (valid_model, valid) = trainer.validate(&model);
        let counted = epoch >= schedule.first_counted;
        let improved = counted
            && kept
                .as_ref()
                .filter(|_| have_best)
                .is_none_or(|(_, best, _)| T::better(&valid, best));
        if improved {
            since_best = 0;
        } else if counted {
            since_best += 1;
        }
        let end = EpochEnd {
            epoch,
            epochs: schedule.epochs,
            train_loss,
            valid: valid.clone(),
            elapsed: began.elapsed(),
            improved,
        };
        let r = report(trainer, &end);
        on_epoch(&r, improved.then_some(&valid_model));
        history.push(r);
        if improved || !have_best {
            kept = Some((valid_model, valid, epoch));
            have_best |= improved;
        }
        if since_best >= schedule.patience {
            break;
        }
    }
    let (model, best_valid, best_epoch) =
        kept.ok_or_else(|| ModelError::Config("epochs must be at least 1".into()))?;
    Ok(Outcome {
        model,
        best_epoch,
        best_valid,
        history,
        elapsed: began.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trainer whose "model" is the epoch number and whose validation is a fixed list.
    struct Scripted(Vec<f64>);

    impl Trainer for Scripted {
        type Training = usize;
        type Model = usize;
        type Valid = f64;

        fn train_epoch(&mut self, _: usize, epoch: usize) -> (usize, f64) {
            (epoch, 0.0)
        }

        fn validate(&mut self, model: &usize) -> (usize, f64) {
            (*model, self.0[*model - 1])
        }

        fn better(new: &f64, best: &f64) -> bool {
            new < best
        }
    }

    fn run_scripted(losses: &[f64], schedule: Schedule) -> Outcome<usize, f64, bool> {
        let mut trainer = Scripted(losses.to_vec());
        run(
            &mut trainer,
            0,
            &schedule,
            Instant::now(),
            |_, end| end.improved,
            |_, _| {},
        )
        .unwrap()
    }

    #[test]
    fn keeps_the_best_epoch_and_stops_after_patience() {
        let out = run_scripted(
            &[5.0, 3.0, 4.0, 2.0, 2.5, 2.6, 1.0],
            Schedule {
                epochs: 7,
                patience: 2,
                first_counted: 0,
            },
        );
        assert_eq!((out.best_epoch, out.model, out.best_valid), (4, 4, 2.0));
        assert_eq!(out.history, [true, true, false, true, false, false]);
    }

    #[test]
    fn warm_up_epochs_are_not_kept_and_the_last_stands_in_when_none_counts() {
        let out = run_scripted(
            &[1.0, 2.0, 3.0, 4.0],
            Schedule {
                epochs: 4,
                patience: 1,
                first_counted: 3,
            },
        );
        assert_eq!(out.history, [false, false, true, false]);
        assert_eq!((out.best_epoch, out.best_valid), (3, 3.0));
        let early = run_scripted(
            &[1.0, 2.0],
            Schedule {
                epochs: 2,
                patience: 1,
                first_counted: 5,
            },
        );
        assert_eq!((early.best_epoch, early.best_valid), (2, 2.0));
    }
}
