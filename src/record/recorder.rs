//! The concurrent core of a timer: one histogram of atomic counters per
//! stripe, a thread always recording into the same stripe.
//!
//! Recording is two relaxed `fetch_add`s (the counter and the stripe's
//! total) and never blocks; a reader sums the stripes into an
//! `hdrhistogram::Histogram` without stopping writers. Stripes are a fixed
//! number per timer, so memory does not grow with the number of threads that
//! record, and counts recorded by a thread that has exited stay in its stripe.
//!
//! A stripe's counters are allocated a chunk (half an HdrHistogram bucket,
//! 8 KiB at 3 significant figures) at a time, on the first value that falls
//! in it: a timer whose runs span a few octaves holds a few chunks, not the
//! 270 KiB of the full 1 ns..1 h range.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use hdrhistogram::Histogram;

use super::layout::Layout;
use super::lazy::LazySlice;
use super::sync::AtomicU64;

/// Most stripes a timer can have, whatever the settings.
const MAX_STRIPES: usize = 64;

/// Most stripes a timer gets by default: past this, the memory of one more
/// histogram per timer buys little, as few threads record into one timer at
/// the same instant.
const DEFAULT_MAX_STRIPES: usize = 16;

/// The counters of one chunk.
type Chunk = LazySlice<AtomicU64>;

/// A histogram's counters and its exact total, on a cache line of its own.
#[repr(align(128))]
struct Stripe {
    /// The chunk table (`layout.chunks()` entries), allocated on the
    /// stripe's first record; each chunk (`layout.chunk_len()` counters) on
    /// the first value that falls in it.
    chunks: LazySlice<Chunk>,
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
            stripes: (0..stripes)
                .map(|_| Stripe {
                    chunks: LazySlice::new(),
                    total_nanos: AtomicU64::new(0),
                })
                .collect(),
            clamped: AtomicU64::new(0),
        }
    }

    /// Records one run of `nanos` into this thread's stripe. Lock-free;
    /// never blocks, never panics.
    #[inline]
    pub(crate) fn record(&self, nanos: u64) {
        self.record_in(thread_stripe(), nanos);
    }

    /// Records one run of `nanos` into stripe `stripe` (masked).
    #[inline]
    pub(crate) fn record_in(&self, stripe: usize, nanos: u64) {
        let value = if nanos > self.layout.highest {
            self.clamped.fetch_add(1, Relaxed);
            self.layout.highest
        } else {
            nanos
        };
        let stripe = &self.stripes[stripe & self.stripe_mask];
        let chunks = stripe
            .chunks
            .get_or_init(self.layout.chunks(), LazySlice::new);
        let (chunk, offset) = self.layout.chunk_of(self.layout.index(value));
        // `value <= highest`, so both lookups succeed; `get` keeps the hot
        // path free of panics all the same.
        if let Some(chunk) = chunks.get(chunk) {
            let chunk_len = self.layout.chunk_len();
            let counts = chunk.get_or_init(chunk_len, || AtomicU64::new(0));
            if let Some(count) = counts.get(offset) {
                // Relaxed everywhere: each counter only ever grows and is
                // read on its own; no reader needs one ordered against another.
                count.fetch_add(1, Relaxed);
            }
        }
        stripe.total_nanos.fetch_add(nanos, Relaxed);
    }

    /// Sums the stripes. Writers keep recording meanwhile; a run recorded
    /// during the read may or may not be included, never half of it counted twice.
    pub(crate) fn read(&self) -> Recorded {
        let mut total_nanos = 0_u64;
        // (counter index, count) of every non-zero counter of every stripe.
        let mut counts: Vec<(usize, u64)> = Vec::new();
        for stripe in self.stripes.iter() {
            total_nanos = total_nanos.wrapping_add(stripe.total_nanos.load(Relaxed));
            let Some(chunks) = stripe.chunks.get(self.layout.chunks()) else {
                continue;
            };
            for (chunk, counters) in chunks.iter().enumerate() {
                let Some(counters) = counters.get(self.layout.chunk_len()) else {
                    continue;
                };
                let first = chunk * self.layout.chunk_len();
                counts.extend(
                    (counters.iter().enumerate())
                        .map(|(offset, count)| (first + offset, count.load(Relaxed)))
                        .filter(|&(_, count)| count > 0),
                );
            }
        }
        let max_index = counts.iter().map(|&(index, _)| index).max();
        let max_value = max_index.map_or(0, |index| self.layout.value(index));
        let mut histogram = self.layout.histogram_up_to(max_value);
        for (index, count) in counts {
            histogram.saturating_record_n(self.layout.value(index), count);
        }
        Recorded {
            histogram,
            total_nanos,
            clamped: self.clamped.load(Relaxed),
        }
    }

    /// Bytes this recorder has allocated so far (chunks are allocated on first use).
    pub(crate) fn reserved_bytes(&self) -> usize {
        let chunk = self.layout.chunk_len() * std::mem::size_of::<AtomicU64>();
        let table = self.layout.chunks() * std::mem::size_of::<Chunk>();
        let used: usize = (self.stripes.iter())
            .filter_map(|s| s.chunks.get(self.layout.chunks()))
            .map(|chunks| {
                let allocated = chunks.iter().filter_map(|c| c.get(self.layout.chunk_len()));
                table + allocated.count() * chunk
            })
            .sum();
        std::mem::size_of::<Self>() + self.stripes.len() * std::mem::size_of::<Stripe>() + used
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let (chunks, chunk_len) = (self.layout.chunks(), self.layout.chunk_len());
        for stripe in self.stripes.iter_mut() {
            if let Some(table) = stripe.chunks.get_mut(chunks) {
                for chunk in table {
                    chunk.free(chunk_len);
                }
            }
            stripe.chunks.free(chunks);
        }
    }
}

/// How many stripes a new timer gets: twice the cores (rounded up to a power
/// of two, at most 16), so that the few threads that run at once rarely
/// share one.
pub(crate) fn default_stripes() -> usize {
    std::thread::available_parallelism()
        .map_or(4, |n| n.get() * 2)
        .clamp(2, DEFAULT_MAX_STRIPES)
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

#[cfg(all(test, not(loom)))]
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
    fn memory_grows_only_with_the_chunks_values_fall_in() {
        let recorder = recorder();
        let before = recorder.reserved_bytes();
        let table = recorder.layout.chunks() * std::mem::size_of::<Chunk>();
        let chunk = recorder.layout.chunk_len() * 8;
        for _ in 0..1000 {
            recorder.record(10);
        }
        assert_eq!(recorder.reserved_bytes() - before, table + chunk);
        for v in 3000..3500 {
            recorder.record(v); // one more chunk: 2048..4095
        }
        assert_eq!(recorder.reserved_bytes() - before, table + 2 * chunk);
    }
}

/// Every interleaving of two threads recording into one stripe (racing to
/// allocate its chunk table and chunks) while a third reads.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    #[test]
    fn loom_no_sample_is_lost_or_counted_twice() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.check(|| {
            // One counter per chunk, so that the model stays small.
            let layout = Layout::new(1, 1000, 0).unwrap();
            let recorder = Arc::new(Recorder::new(layout, 2));
            let writers: Vec<_> = [(1, 16), (4, 300)]
                .into_iter()
                .map(|(a, b)| {
                    let recorder = recorder.clone();
                    loom::thread::spawn(move || {
                        recorder.record_in(0, a);
                        recorder.record_in(0, b);
                    })
                })
                .collect();
            // A read during the writes sees a consistent subset.
            let during = recorder.read();
            assert!(during.histogram.len() <= 4);
            for writer in writers {
                writer.join().unwrap();
            }
            let after = recorder.read();
            assert_eq!(after.histogram.len(), 4);
            assert_eq!(after.total_nanos, 1 + 16 + 4 + 300);
            for v in [1, 4, 16, 300] {
                assert_eq!(after.histogram.count_at(v), 1, "value {v}");
            }
            assert!(during.histogram.len() <= after.histogram.len());
        });
    }
}
