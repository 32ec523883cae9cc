//! The concurrent core of a timer: one histogram of atomic counters per
//! stripe, a thread always recording into the same stripe.
//!
//! Recording is two relaxed `fetch_add`s (the bucket and the stripe's total)
//! and never blocks; a reader sums the stripes into an `hdrhistogram::Histogram`
//! without stopping writers. Stripes are a fixed number per timer, so memory
//! does not grow with the number of threads that record, and counts recorded
//! by a thread that has exited stay in its stripe.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::OnceLock;

use hdrhistogram::Histogram;

use super::layout::Layout;

/// Most stripes a timer has, whatever the core count.
const MAX_STRIPES: usize = 64;

/// A histogram's counters and its exact total, on a cache line of its own.
#[repr(align(128))]
#[derive(Default)]
struct Stripe {
    /// Allocated zeroed on the stripe's first record: the OS maps pages as
    /// they are touched, so a timer costs memory in proportion to the
    /// value ranges it sees, not to its full range.
    counts: OnceLock<Box<[AtomicU64]>>,
    /// Exact sum of the recorded nanoseconds (before clamping).
    total_nanos: AtomicU64,
}

/// Recorded runs of one timer.
pub(crate) struct Recorder {
    layout: Layout,
    stripes: Box<[Stripe]>,
    /// `stripes.len() - 1`; the length is a power of two, so a mask picks a stripe.
    stripe_mask: usize,
    /// Runs longer than the layout's highest value, recorded as the highest.
    clamped: AtomicU64,
}

/// What a reader took from a recorder.
pub(crate) struct Recorded {
    pub(crate) histogram: Histogram<u64>,
    pub(crate) total_nanos: u64,
    pub(crate) clamped: u64,
}

impl Recorder {
    pub(crate) fn new(layout: Layout, stripes: usize) -> Self {
        let stripes = stripes.clamp(1, MAX_STRIPES).next_power_of_two();
        Recorder {
            layout,
            stripe_mask: stripes - 1,
            stripes: (0..stripes).map(|_| Stripe::default()).collect(),
            clamped: AtomicU64::new(0),
        }
    }

    /// Records one run of `nanos`. Lock-free; never panics.
    #[inline]
    pub(crate) fn record(&self, nanos: u64) {
        let value = if nanos > self.layout.highest {
            self.clamped.fetch_add(1, Relaxed);
            self.layout.highest
        } else {
            nanos
        };
        let stripe = &self.stripes[thread_stripe() & self.stripe_mask];
        let counts = stripe
            .counts
            .get_or_init(|| zeroed_counts(self.layout.len()));
        // Relaxed everywhere: each counter only ever grows and is read on its
        // own; no reader needs one counter ordered against another.
        if let Some(count) = counts.get(self.layout.index(value)) {
            count.fetch_add(1, Relaxed);
        }
        stripe.total_nanos.fetch_add(nanos, Relaxed);
    }

    /// Sums the stripes. Writers keep recording meanwhile; a run recorded
    /// during the read may or may not be included, never half of it counted twice.
    pub(crate) fn read(&self) -> Recorded {
        let mut histogram = self.layout.empty_histogram();
        let mut total_nanos = 0_u64;
        for stripe in self.stripes.iter() {
            total_nanos = total_nanos.wrapping_add(stripe.total_nanos.load(Relaxed));
            let Some(counts) = stripe.counts.get() else {
                continue;
            };
            for (index, count) in counts.iter().enumerate() {
                let count = count.load(Relaxed);
                if count > 0 {
                    histogram.saturating_record_n(self.layout.value(index), count);
                }
            }
        }
        Recorded {
            histogram,
            total_nanos,
            clamped: self.clamped.load(Relaxed),
        }
    }

    /// Bytes this recorder has reserved so far (stripes allocated on first use).
    pub(crate) fn reserved_bytes(&self) -> usize {
        let counters = self.layout.len() * std::mem::size_of::<AtomicU64>();
        std::mem::size_of::<Self>()
            + self.stripes.len() * std::mem::size_of::<Stripe>()
            + self
                .stripes
                .iter()
                .filter(|s| s.counts.get().is_some())
                .count()
                * counters
    }
}

fn zeroed_counts(len: usize) -> Box<[AtomicU64]> {
    // SAFETY: an all-zero bit pattern is a valid AtomicU64 holding 0.
    // `new_zeroed_slice` asks the allocator for zeroed memory, which for a
    // large slice is fresh pages the OS maps on first touch.
    unsafe { Box::<[AtomicU64]>::new_zeroed_slice(len).assume_init() }
}

/// How many stripes a new timer gets: twice the cores (rounded up to a power
/// of two), so that the few threads that run at once rarely share one.
pub(crate) fn default_stripes() -> usize {
    std::thread::available_parallelism()
        .map_or(4, |n| n.get() * 2)
        .clamp(2, MAX_STRIPES)
}

/// This thread's stripe number, handed out round-robin on first use.
#[inline(always)]
fn thread_stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    STRIPE.with(|stripe| {
        let mut n = stripe.get();
        if n == usize::MAX {
            n = NEXT.fetch_add(1, Relaxed) % MAX_STRIPES;
            stripe.set(n);
        }
        n
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder() -> Recorder {
        Recorder::new(Layout::new(1, 1_000_000, 3).unwrap(), 4)
    }

    #[test]
    fn read_equals_one_histogram_of_the_same_values() {
        let recorder = recorder();
        let mut reference = recorder.layout.empty_histogram();
        std::thread::scope(|s| {
            for t in 0..4_u64 {
                let recorder = &recorder;
                s.spawn(move || {
                    for v in (t * 10_000)..(t * 10_000 + 10_000) {
                        recorder.record(v);
                    }
                });
            }
        });
        for v in 0..40_000 {
            reference.record(v).unwrap();
        }
        let read = recorder.read();
        assert_eq!(read.histogram, reference);
        assert_eq!(read.total_nanos, (0..40_000).sum::<u64>());
        assert_eq!(read.clamped, 0);
    }

    #[test]
    fn values_above_the_range_are_clamped_and_counted() {
        let recorder = recorder();
        recorder.record(5_000_000);
        recorder.record(0);
        let read = recorder.read();
        assert_eq!(read.histogram.len(), 2);
        assert_eq!(read.clamped, 1);
        assert!(read.histogram.equivalent(read.histogram.max(), 1_000_000));
        assert_eq!(read.total_nanos, 5_000_000);
    }

    #[test]
    fn memory_is_reserved_only_for_stripes_that_recorded() {
        let recorder = recorder();
        let before = recorder.reserved_bytes();
        for _ in 0..1000 {
            recorder.record(10);
        }
        let one_stripe = recorder.reserved_bytes() - before;
        assert_eq!(one_stripe, recorder.layout.len() * 8);
    }
}
