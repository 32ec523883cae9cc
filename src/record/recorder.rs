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

/// One HdrHistogram's counters, allocated a chunk at a time: the chunk
/// table (`layout.chunks()` entries) on the first value, each chunk
/// (`layout.chunk_len()` counters) on the first value that falls in it.
struct Counts {
    chunks: LazySlice<Chunk>,
}

impl Counts {
    fn new() -> Self {
        Counts {
            chunks: LazySlice::new(),
        }
    }

    /// Counts one `value`, which must be at most `layout.highest`.
    #[inline(always)]
    fn add(&self, layout: &Layout, value: u64) {
        let chunks = self.chunks.get_or_init(layout.chunks(), LazySlice::new);
        let (chunk, offset) = layout.chunk_of(layout.index(value));
        // `value <= highest`, so both lookups succeed; `get` keeps the hot
        // path free of panics all the same.
        if let Some(chunk) = chunks.get(chunk) {
            let counts = chunk.get_or_init(layout.chunk_len(), || AtomicU64::new(0));
            if let Some(count) = counts.get(offset) {
                // Relaxed everywhere: each counter only ever grows and is
                // read on its own; no reader needs one ordered against another.
                count.fetch_add(1, Relaxed);
            }
        }
    }

    /// Appends (counter index, count) of every non-zero counter.
    fn collect(&self, layout: &Layout, into: &mut Vec<(usize, u64)>) {
        let Some(chunks) = self.chunks.get(layout.chunks()) else {
            return;
        };
        for (chunk, counters) in chunks.iter().enumerate() {
            let Some(counters) = counters.get(layout.chunk_len()) else {
                continue;
            };
            let first = chunk * layout.chunk_len();
            into.extend(
                (counters.iter().enumerate())
                    .map(|(offset, count)| (first + offset, count.load(Relaxed)))
                    .filter(|&(_, count)| count > 0),
            );
        }
    }

    fn reserved_bytes(&self, layout: &Layout) -> usize {
        let Some(chunks) = self.chunks.get(layout.chunks()) else {
            return 0;
        };
        let allocated = chunks
            .iter()
            .filter_map(|c| c.get(layout.chunk_len()))
            .count();
        layout.chunks() * std::mem::size_of::<Chunk>()
            + allocated * layout.chunk_len() * std::mem::size_of::<AtomicU64>()
    }

    fn free(&mut self, layout: &Layout) {
        if let Some(table) = self.chunks.get_mut(layout.chunks()) {
            for chunk in table {
                chunk.free(layout.chunk_len());
            }
        }
        self.chunks.free(layout.chunks());
    }
}

/// One completed run, in nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RunSample {
    /// Sum of the poll times.
    pub(crate) busy: u64,
    /// First poll to `Ready`; at least `busy`.
    pub(crate) wall: u64,
    /// Polls in the run (a sync section or a manual sample counts as one).
    pub(crate) polls: u64,
    /// The longest single poll.
    pub(crate) longest_poll: u64,
    /// Busy time of timed futures nested inside this run's polls.
    pub(crate) nested: u64,
}

impl RunSample {
    /// A run of one poll of `busy`, nothing nested: a sync section or a
    /// manual sample.
    pub(crate) fn single(busy: u64) -> Self {
        RunSample {
            busy,
            wall: busy,
            polls: 1,
            longest_poll: busy,
            nested: 0,
        }
    }
}

/// One thread group's share of a timer, on cache lines of its own.
#[repr(align(128))]
struct Stripe {
    busy: Counts,
    wall: Counts,
    /// Exact sums, in nanoseconds (before clamping).
    busy_nanos: AtomicU64,
    idle_nanos: AtomicU64,
    nested_nanos: AtomicU64,
    /// Polls beyond the first of each run: most runs add nothing here.
    extra_polls: AtomicU64,
    longest_poll: AtomicU64,
}

impl Stripe {
    fn new() -> Self {
        Stripe {
            busy: Counts::new(),
            wall: Counts::new(),
            busy_nanos: AtomicU64::new(0),
            idle_nanos: AtomicU64::new(0),
            nested_nanos: AtomicU64::new(0),
            extra_polls: AtomicU64::new(0),
            longest_poll: AtomicU64::new(0),
        }
    }
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
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) busy: Histogram<u64>,
    pub(crate) wall: Histogram<u64>,
    pub(crate) busy_nanos: u64,
    pub(crate) idle_nanos: u64,
    pub(crate) nested_nanos: u64,
    pub(crate) polls: u64,
    pub(crate) longest_poll: u64,
    pub(crate) clamped: u64,
}

impl Recorder {
    pub(crate) fn new(layout: Layout, stripes: usize) -> Self {
        let stripes = stripes.clamp(1, MAX_STRIPES).next_power_of_two();
        Recorder {
            layout,
            stripe_mask: stripes - 1,
            stripes: (0..stripes).map(|_| Stripe::new()).collect(),
            clamped: AtomicU64::new(0),
        }
    }

    /// Records one run of `nanos` (a sync section or a manual sample).
    #[cfg(test)]
    pub(crate) fn record(&self, nanos: u64) {
        self.record_run(RunSample::single(nanos));
    }

    /// Records one run into this thread's stripe. Lock-free; never blocks,
    /// never panics.
    #[inline]
    pub(crate) fn record_run(&self, run: RunSample) {
        self.record_in(thread_stripe(), run);
    }

    /// Records one run into stripe `stripe` (masked).
    #[inline]
    pub(crate) fn record_in(&self, stripe: usize, run: RunSample) {
        let highest = self.layout.highest;
        if run.wall > highest || run.busy > highest {
            self.clamped.fetch_add(1, Relaxed);
        }
        let stripe = &self.stripes[stripe & self.stripe_mask];
        stripe.busy.add(&self.layout, run.busy.min(highest));
        stripe.wall.add(&self.layout, run.wall.min(highest));
        stripe.busy_nanos.fetch_add(run.busy, Relaxed);
        // The rest is skipped when zero, as it is for sync sections, manual
        // samples and single-poll runs: fewer atomic adds per run.
        let idle = run.wall.saturating_sub(run.busy);
        if idle > 0 {
            stripe.idle_nanos.fetch_add(idle, Relaxed);
        }
        if run.nested > 0 {
            stripe.nested_nanos.fetch_add(run.nested, Relaxed);
        }
        if run.polls > 1 {
            stripe.extra_polls.fetch_add(run.polls - 1, Relaxed);
        }
        if run.longest_poll > stripe.longest_poll.load(Relaxed) {
            stripe.longest_poll.fetch_max(run.longest_poll, Relaxed);
        }
    }

    /// Sums the stripes. Writers keep recording meanwhile; a run recorded
    /// during the read may or may not be included, never half of it counted twice.
    pub(crate) fn read(&self) -> Recorded {
        let mut busy = Vec::new();
        let mut wall = Vec::new();
        let mut sums = [0_u64; 4];
        let mut longest_poll = 0;
        for stripe in self.stripes.iter() {
            for (sum, atomic) in sums.iter_mut().zip([
                &stripe.busy_nanos,
                &stripe.idle_nanos,
                &stripe.nested_nanos,
                &stripe.extra_polls,
            ]) {
                *sum = sum.wrapping_add(atomic.load(Relaxed));
            }
            longest_poll = longest_poll.max(stripe.longest_poll.load(Relaxed));
            stripe.busy.collect(&self.layout, &mut busy);
            stripe.wall.collect(&self.layout, &mut wall);
        }
        let [busy_nanos, idle_nanos, nested_nanos, extra_polls] = sums;
        let busy = self.histogram(busy);
        Recorded {
            polls: busy.len() + extra_polls,
            busy,
            wall: self.histogram(wall),
            busy_nanos,
            idle_nanos,
            nested_nanos,
            longest_poll,
            clamped: self.clamped.load(Relaxed),
        }
    }

    /// An HdrHistogram of the given (counter index, count) pairs.
    fn histogram(&self, counts: Vec<(usize, u64)>) -> Histogram<u64> {
        let max_index = counts.iter().map(|&(index, _)| index).max();
        let max_value = max_index.map_or(0, |index| self.layout.value(index));
        let mut histogram = self.layout.histogram_up_to(max_value);
        for (index, count) in counts {
            histogram.saturating_record_n(self.layout.value(index), count);
        }
        histogram
    }

    /// Bytes this recorder has allocated so far (chunks are allocated on first use).
    pub(crate) fn reserved_bytes(&self) -> usize {
        let used: usize = (self.stripes.iter())
            .map(|s| s.busy.reserved_bytes(&self.layout) + s.wall.reserved_bytes(&self.layout))
            .sum();
        std::mem::size_of::<Self>() + self.stripes.len() * std::mem::size_of::<Stripe>() + used
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        for stripe in self.stripes.iter_mut() {
            stripe.busy.free(&self.layout);
            stripe.wall.free(&self.layout);
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

#[cfg(all(test, not(perf_timer_loom)))]
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
        assert_eq!(read.busy, reference);
        assert_eq!(read.busy_nanos, (0..40_000).sum::<u64>());
        assert_eq!(read.clamped, 0);
    }

    #[test]
    fn values_above_the_range_are_clamped_and_counted() {
        let recorder = recorder();
        recorder.record(5_000_000);
        recorder.record(0);
        let read = recorder.read();
        assert_eq!(read.busy.len(), 2);
        assert_eq!(read.clamped, 1);
        assert!(read.busy.equivalent(read.busy.max(), 1_000_000));
        assert_eq!(read.busy_nanos, 5_000_000);
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
        // Both histograms, busy and wall, hold the value.
        assert_eq!(recorder.reserved_bytes() - before, 2 * (table + chunk));
        for v in 3000..3500 {
            recorder.record(v); // one more chunk: 2048..4095
        }
        assert_eq!(recorder.reserved_bytes() - before, 2 * (table + 2 * chunk));
    }

    #[test]
    fn run_details_add_up() {
        let recorder = recorder();
        recorder.record_run(RunSample {
            busy: 100,
            wall: 1_000,
            polls: 4,
            longest_poll: 60,
            nested: 30,
        });
        recorder.record_run(RunSample::single(50));
        let read = recorder.read();
        assert_eq!((read.busy.len(), read.wall.len()), (2, 2));
        assert_eq!(read.busy_nanos, 150);
        assert_eq!(read.idle_nanos, 900);
        assert_eq!(read.nested_nanos, 30);
        assert_eq!(read.polls, 5);
        assert_eq!(read.longest_poll, 60);
        assert_eq!(read.wall.max(), 1_000);
    }
}

/// Every interleaving of two threads recording into one stripe (racing to
/// allocate its chunk table and chunks) while a third reads.
#[cfg(all(test, perf_timer_loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    #[test]
    fn loom_no_sample_is_lost_or_counted_twice() {
        let mut builder = loom::model::Builder::new();
        // Two preemptions cover the races that matter here: both writers
        // allocating the chunk table, both allocating a chunk, and the
        // reader between them; more makes the model run for minutes.
        builder.preemption_bound = Some(2);
        builder.check(|| {
            // One counter per chunk and one stripe: a small model.
            let layout = Layout::new(1, 300, 0).unwrap();
            let recorder = Arc::new(Recorder::new(layout, 1));
            let writers: Vec<_> = [16, 300]
                .into_iter()
                .map(|value| {
                    let recorder = recorder.clone();
                    loom::thread::spawn(move || recorder.record_in(0, RunSample::single(value)))
                })
                .collect();
            // A read during the writes sees a consistent subset.
            let during = recorder.read();
            assert!(during.busy.len() <= 2);
            for writer in writers {
                writer.join().unwrap();
            }
            let after = recorder.read();
            assert_eq!((after.busy.len(), after.wall.len()), (2, 2));
            assert_eq!(after.busy_nanos, 16 + 300);
            for v in [16, 300] {
                assert_eq!(after.busy.count_at(v), 1, "value {v}");
            }
            assert!(during.busy.len() <= after.busy.len());
        });
    }
}
