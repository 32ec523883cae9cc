//! `Delays`: a histogram of durations recorded now and then, off the poll
//! path (scheduling delays of sampled runs): one `Buckets` behind a mutex,
//! allocated on the first value. Not part of a timer's consistent read.

use std::sync::Mutex;

use super::buckets::Buckets;
use super::layout::Layout;

#[derive(Default)]
pub(crate) struct Delays {
    counts: Mutex<Option<Box<Counts>>>,
}

#[derive(Default)]
struct Counts {
    buckets: Buckets,
    /// Their exact sum, each as counted (at most the highest value).
    nanos: u64,
}

impl Delays {
    /// Counts one delay of `nanos`, at most `layout.highest` (a longer one
    /// counts as that, in the sum as in the histogram).
    pub(crate) fn record(&self, layout: &Layout, nanos: u64) {
        let nanos = nanos.min(layout.highest);
        let index = layout.index(nanos) as u32;
        let mut counts = crate::poison::lock(&self.counts);
        let counts = counts.get_or_insert_with(Box::default);
        // No budget: one histogram at most, like a recorder's shared store.
        let _ = counts.buckets.add(layout.len(), index, 1, usize::MAX);
        counts.nanos = counts.nanos.saturating_add(nanos);
    }

    /// The delays so far: (bucket, count) pairs and their sum.
    pub(crate) fn read(&self) -> (Vec<(u32, u64)>, u64) {
        let counts = crate::poison::lock(&self.counts);
        let mut pairs = Vec::new();
        let Some(counts) = counts.as_ref() else {
            return (pairs, 0);
        };
        counts.buckets.collect(&mut pairs);
        (pairs, counts.nanos)
    }
}
