//! The record side (hot path): per-timer striped histograms.

mod layout;
mod lazy;
mod recorder;
mod sync;

pub(crate) use layout::Layout;
pub(crate) use recorder::{default_stripes, Recorded, Recorder, RunSample};
