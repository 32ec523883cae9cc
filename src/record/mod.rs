//! The record side (hot path): per-timer stripes and the histogram store
//! they drain into.

mod buckets;
mod delays;
mod layout;
mod lazy_box;
mod lock;
mod recorder;
mod sharded;
mod sync;
mod totals;

pub(crate) use delays::Delays;
pub(crate) use layout::{allocated_bytes, Layout};
pub(crate) use recorder::{default_stripes, Reading, Recorder, MAX_STRIPES};
pub(crate) use sharded::{Sharded, FIBONACCI, SHARDS};
pub(crate) use totals::{AllocationSample, End, Event, Flushed, RunSample, Totals};
