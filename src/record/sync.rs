//! The atomics the recorder is built on: std's, or loom's when the
//! recorder is model-checked (`RUSTFLAGS="--cfg perf_timer_loom"`; a cfg of
//! our own, since `--cfg loom` also puts tokio in its loom mode, in which
//! the dev-dependencies do not build).

#[cfg(perf_timer_loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicU64};
#[cfg(not(perf_timer_loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicU64};
