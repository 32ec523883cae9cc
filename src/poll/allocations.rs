//! What one run allocated, kept inside the timed future beside its busy
//! time, from the thread counters each of its timed polls reads (see
//! `crate::alloc::thread`).

use crate::alloc::thread::{self, Allocated, Mark};
use crate::record::AllocationSample;

/// A run's allocations so far: 24 bytes of the run. Counts saturate at
/// `u32::MAX` per run; bytes are exact.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunAllocations {
    bytes: u64,
    /// Bytes of timed runs nested in this run's polls; while the run's
    /// future is being dropped unfinished, the thread's bytes when that
    /// began.
    nested_bytes: u64,
    count: u32,
    /// Allocations of nested timed runs; while dropping, the thread's
    /// count when that began (its low 32 bits).
    nested_count: u32,
}

impl RunAllocations {
    pub(crate) const fn new() -> Self {
        RunAllocations {
            bytes: 0,
            nested_bytes: 0,
            count: 0,
            nested_count: 0,
        }
    }

    /// A timed poll entered at `mark` has returned: add what it allocated.
    #[inline(always)]
    pub(crate) fn add_poll(&mut self, mark: Mark) {
        if let Some(scoped) = thread::leave(mark) {
            self.count = self.count.saturating_add(saturate(scoped.all.count));
            self.bytes = self.bytes.saturating_add(scoped.all.bytes);
            self.nested_count = (self.nested_count).saturating_add(saturate(scoped.nested.count));
            self.nested_bytes = self.nested_bytes.saturating_add(scoped.nested.bytes);
        }
    }

    /// The completed run's allocations, `None` without a counting
    /// allocator.
    #[inline]
    pub(crate) fn sample(&self) -> Option<AllocationSample> {
        thread::installed().then_some(AllocationSample {
            count: u64::from(self.count),
            bytes: self.bytes,
            nested_count: u64::from(self.nested_count),
            nested_bytes: self.nested_bytes,
        })
    }

    /// The unfinished run's future is about to be dropped: keep the
    /// thread's counters now, in the nested fields (an unfinished run
    /// reports no self allocations). `false` without a counting allocator.
    pub(crate) fn begin_drop(&mut self) -> bool {
        let Some(now) = thread::allocated_now() else {
            return false;
        };
        // Truncating: only the difference mod 2^32 is used.
        self.nested_count = now.count as u32;
        self.nested_bytes = now.bytes;
        true
    }

    /// The future has been dropped, after [`begin_drop`](Self::begin_drop):
    /// what the run allocated, dropping its future included.
    pub(crate) fn end_drop(&self) -> Allocated {
        let dropping = thread::allocated_now().map_or(Allocated::default(), |now| Allocated {
            count: u64::from((now.count as u32).wrapping_sub(self.nested_count)),
            bytes: now.bytes.wrapping_sub(self.nested_bytes),
        });
        Allocated {
            count: u64::from(self.count).saturating_add(dropping.count),
            bytes: self.bytes.saturating_add(dropping.bytes),
        }
    }

    /// What the unfinished run allocated in its polls.
    pub(crate) fn so_far(&self) -> Allocated {
        Allocated {
            count: u64::from(self.count),
            bytes: self.bytes,
        }
    }
}

#[inline(always)]
fn saturate(count: u64) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}
