//! The record side (hot path): per-timer striped histograms.

mod layout;
mod recorder;

pub(crate) use layout::Layout;
pub(crate) use recorder::{default_stripes, Recorded, Recorder};
