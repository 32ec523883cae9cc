//! The concurrent core of a timer: stripes that writers lock in turn, and
//! one store of histogram counters that the stripes drain into.
//!
//! **Recording.** A thread tries its own stripe's one-byte lock (a stripe
//! per group of threads, so it is almost always free and its cache line
//! already local), adds the run to the stripe's [`Totals`] and appends its
//! busy and wall values to the stripe's short pending list. Every
//! [`PENDING`] runs the list drains into the shared [`Store`], if no one
//! else holds it. A writer that finds a lock taken, or its stripe full while
//! the store is busy, moves on to the next stripe: it never waits for
//! another writer nor for a reader, unless every stripe is taken at once.
//!
//! **Reading.** A reader holds the store (so nothing drains meanwhile) and
//! locks each stripe in turn. Every run lives wholly in one place, a
//! stripe's totals plus its pending values, its values possibly already in
//! the store, and never moves while the reader looks, so a read counts each
//! run completely or not at all: its totals are the sums of exactly the
//! samples its histograms count.
//!
//! **Memory.** Stripes are allocated on first use (256 bytes each, at most
//! 64); the store's counters grow with the spread of the values, not with
//! their number nor with the threads (see [`Buckets`]).

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use super::buckets::Buckets;
use super::layout::Layout;
use super::lazy::LazySlice;
use super::lock::TryLock;
use super::sync::spin;
use super::totals::{Event, RunSample, Totals};

/// Most stripes a timer can have.
pub(crate) const MAX_STRIPES: usize = 64;

/// Most stripes a timer gets by default: past this, one more stripe buys
/// little, as few threads record into one timer at the same instant.
const DEFAULT_MAX_STRIPES: usize = 16;

/// Runs a stripe holds before draining into the store. Under loom, fewer,
/// so that the model drains.
#[cfg(not(perf_timer_loom))]
const PENDING: usize = 8;
#[cfg(perf_timer_loom)]
const PENDING: usize = 1;

/// One thread group's share of a timer, on cache lines of its own.
#[repr(align(128))]
struct Stripe(TryLock<StripeState>);

struct StripeState {
    totals: Totals,
    /// (busy, wall) of runs counted in `totals` and not yet in the store.
    pending: [(u64, u64); PENDING],
    len: usize,
}

impl StripeState {
    /// Appends one run's values, draining into the store first if full;
    /// `false` if full and the store is busy.
    #[inline(always)]
    fn push(&mut self, values: (u64, u64), store: &TryLock<Store>, layout: &Layout) -> bool {
        if self.len == PENDING {
            let Some(mut store) = store.try_lock() else {
                return false;
            };
            store.with(|store| store.drain(layout, &self.pending));
            self.len = 0;
        }
        // `len < PENDING` here; `get_mut` keeps the path free of panics.
        if let Some(slot) = self.pending.get_mut(self.len) {
            *slot = values;
            self.len += 1;
        }
        true
    }
}

/// The histogram counters of every drained run.
struct Store {
    busy: Buckets,
    wall: Buckets,
}

impl Store {
    #[cold]
    #[inline(never)]
    fn drain(&mut self, layout: &Layout, pending: &[(u64, u64)]) {
        let len = layout.len();
        for &(busy, wall) in pending {
            self.busy.add(len, layout.index(busy) as u32, 1);
            self.wall.add(len, layout.index(wall) as u32, 1);
        }
    }
}

/// Recorded runs and events of one timer.
pub(crate) struct Recorder {
    layout: Layout,
    /// `stripe_mask + 1` stripes, each allocated on first use.
    stripes: LazySlice<LazySlice<Stripe>>,
    /// The number of stripes less one; a power of two less one, so a mask
    /// picks a stripe.
    stripe_mask: usize,
    store: TryLock<Store>,
}

/// What a reader took from a recorder: the totals, and the non-zero
/// counters of each histogram as (counter index, count), by index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reading {
    pub(crate) totals: Totals,
    pub(crate) busy: Vec<(u32, u64)>,
    pub(crate) wall: Vec<(u32, u64)>,
}

impl Recorder {
    /// `stripes` must be 1 to [`MAX_STRIPES`] (the builder checks); it is
    /// rounded up to a power of two.
    pub(crate) fn new(layout: Layout, stripes: usize) -> Self {
        let stripes = stripes.clamp(1, MAX_STRIPES).next_power_of_two();
        Recorder {
            layout,
            stripes: LazySlice::new(),
            stripe_mask: stripes - 1,
            store: TryLock::new(Store {
                busy: Buckets::new(),
                wall: Buckets::new(),
            }),
        }
    }

    /// Records one run of `nanos` (a sync section or a manual sample).
    #[cfg(test)]
    pub(crate) fn record(&self, nanos: u64) {
        self.record_run(RunSample::single(nanos), false);
    }

    /// Records one completed run. Never panics; never waits for another
    /// thread unless every stripe is taken at this instant.
    #[inline]
    pub(crate) fn record_run(&self, run: RunSample, is_error: bool) {
        let highest = self.layout.highest;
        let clamped = run.busy > highest || run.wall > highest;
        let values = (run.busy.min(highest), run.wall.min(highest));
        self.update(|state, store, layout| {
            let pushed = state.push(values, store, layout);
            if pushed {
                state.totals.add_run(&run, is_error, clamped);
            }
            pushed
        });
    }

    /// Counts an event that is not a completed run.
    pub(crate) fn count(&self, event: Event) {
        self.update(|state, _, _| {
            state.totals.add_event(event);
            true
        });
    }

    /// Runs `f` on the first stripe, from this thread's own, that is free
    /// and for which `f` succeeds.
    #[inline(always)]
    fn update(&self, mut f: impl FnMut(&mut StripeState, &TryLock<Store>, &Layout) -> bool) {
        let stripes = self
            .stripes
            .get_or_init(self.stripe_mask + 1, LazySlice::new);
        let home = thread_stripe();
        loop {
            for probe in 0..=self.stripe_mask {
                let Some(stripe) = stripes.get((home + probe) & self.stripe_mask) else {
                    continue;
                };
                let Some(Stripe(stripe)) = stripe.get_or_init(1, Stripe::new).first() else {
                    continue;
                };
                if let Some(mut state) = stripe.try_lock() {
                    if state.with(|state| f(state, &self.store, &self.layout)) {
                        return;
                    }
                }
            }
            // Every stripe taken or full while the store is busy: a reader
            // or a drain holds it for a few microseconds at most.
            spin();
        }
    }

    /// Everything recorded so far, consistent (see the module docs).
    /// Writers go on recording meanwhile.
    pub(crate) fn read(&self) -> Reading {
        let mut reading = Reading::default();
        let mut pending = Vec::new();
        let mut store = self.store.lock();
        store.with(|store| {
            store.busy.collect(&mut reading.busy);
            store.wall.collect(&mut reading.wall);
        });
        for stripe in self.allocated_stripes() {
            stripe.0.lock().with(|state| {
                reading.totals.merge(&state.totals);
                pending.extend_from_slice(&state.pending[..state.len]);
            });
        }
        drop(store);
        let index = |v: u64| self.layout.index(v) as u32;
        add_pending(&mut reading.busy, pending.iter().map(|&(b, _)| index(b)));
        add_pending(&mut reading.wall, pending.iter().map(|&(_, w)| index(w)));
        reading
    }

    fn allocated_stripes(&self) -> impl Iterator<Item = &Stripe> {
        (self.stripes.get(self.stripe_mask + 1).into_iter())
            .flatten()
            .filter_map(|s| s.get(1)?.first())
    }

    /// Bytes this recorder holds: itself, its stripes and its counters.
    pub(crate) fn reserved_bytes(&self) -> usize {
        let table = match self.stripes.get(self.stripe_mask + 1) {
            Some(table) => std::mem::size_of_val(table),
            None => 0,
        };
        let stripes = self.allocated_stripes().count() * std::mem::size_of::<Stripe>();
        let counters = (self.store.lock()).with(|s| s.busy.heap_bytes() + s.wall.heap_bytes());
        std::mem::size_of::<Self>() + table + stripes + counters
    }
}

impl Stripe {
    fn new() -> Self {
        Stripe(TryLock::new(StripeState {
            totals: Totals::default(),
            pending: [(0, 0); PENDING],
            len: 0,
        }))
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let len = self.stripe_mask + 1;
        if let Some(table) = self.stripes.get_mut(len) {
            for stripe in table {
                stripe.free(1);
            }
        }
        self.stripes.free(len);
    }
}

/// Adds one count at each of `indexes` to `counts` (sorted by index).
fn add_pending(counts: &mut Vec<(u32, u64)>, indexes: impl Iterator<Item = u32>) {
    let mut indexes: Vec<u32> = indexes.collect();
    if indexes.is_empty() {
        return;
    }
    indexes.sort_unstable();
    let mut merged = Vec::with_capacity(counts.len() + indexes.len());
    let mut extra = indexes.into_iter().peekable();
    for &(index, count) in counts.iter() {
        while let Some(i) = extra.next_if(|&i| i < index) {
            push_one(&mut merged, i);
        }
        merged.push((index, count));
        while extra.next_if_eq(&index).is_some() {
            if let Some(last) = merged.last_mut() {
                last.1 += 1;
            }
        }
    }
    for i in extra {
        push_one(&mut merged, i);
    }
    *counts = merged;
}

fn push_one(counts: &mut Vec<(u32, u64)>, index: u32) {
    match counts.last_mut() {
        Some(last) if last.0 == index => last.1 += 1,
        _ => counts.push((index, 1)),
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

    fn count(counts: &[(u32, u64)]) -> u64 {
        counts.iter().map(|&(_, n)| n).sum()
    }

    #[test]
    fn read_equals_one_histogram_of_the_same_values() {
        let recorder = recorder();
        let mut reference = recorder.layout.empty_histogram();
        std::thread::scope(|s| {
            for t in 0..4_u64 {
                let recorder = &recorder;
                s.spawn(move || {
                    for v in (t * 10_000)..(t * 10_000 + 10_003) {
                        recorder.record(v);
                    }
                });
            }
        });
        for t in 0..4_u64 {
            for v in (t * 10_000)..(t * 10_000 + 10_003) {
                reference.record(v).unwrap();
            }
        }
        let read = recorder.read();
        assert_eq!(recorder.layout.histogram_of(&read.busy), reference);
        assert_eq!(read.busy, read.wall);
        let sum: u64 = (0..4_u64)
            .flat_map(|t| (t * 10_000)..(t * 10_000 + 10_003))
            .sum();
        assert_eq!((read.totals.runs, read.totals.busy_nanos), (40_012, sum));
    }

    #[test]
    fn values_above_the_range_are_clamped_and_counted() {
        let recorder = recorder();
        recorder.record(5_000_000);
        recorder.record(0);
        let read = recorder.read();
        assert_eq!(count(&read.busy), 2);
        assert_eq!(read.totals.clamped, 1);
        let top = read.busy.last().unwrap().0 as usize;
        assert_eq!(recorder.layout.highest_value(top), 1_000_447);
        assert_eq!(read.totals.busy_nanos, 5_000_000);
    }

    #[test]
    fn run_details_and_events_add_up() {
        let recorder = recorder();
        let run = RunSample {
            busy: 100,
            wall: 1_000,
            polls: 4,
            longest_poll: 60,
            nested: 30,
        };
        recorder.record_run(run, true);
        recorder.record(50);
        recorder.count(Event::Cancelled);
        recorder.count(Event::SlowPoll(70));
        let totals = recorder.read().totals;
        assert_eq!((totals.runs, totals.errors), (2, 1));
        assert_eq!(totals.busy_nanos, 150);
        assert_eq!(totals.idle_nanos, 900);
        assert_eq!(totals.nested_nanos, 30);
        assert_eq!(totals.polls, 5);
        assert_eq!((totals.cancelled, totals.slow_polls), (1, 1));
        assert_eq!(totals.longest_poll, 70);
    }

    #[test]
    fn memory_is_small_when_empty_and_when_sparse() {
        let layout = Layout::new(1, 3_600_000_000_000, 3).unwrap();
        let recorder = Recorder::new(layout, 16);
        assert!(
            recorder.reserved_bytes() <= 1024,
            "{}",
            recorder.reserved_bytes()
        );
        // 50 runs spread over 1 µs..1 ms.
        for i in 0..50_u64 {
            let busy = 1_000 + i * i * 400;
            recorder.record_run(
                RunSample {
                    wall: busy * 3,
                    ..RunSample::single(busy)
                },
                false,
            );
        }
        assert!(
            recorder.reserved_bytes() <= 16 * 1024,
            "{}",
            recorder.reserved_bytes()
        );
    }

    #[test]
    fn memory_stays_bounded_whatever_the_values_and_threads() {
        let layout = Layout::new(1, 3_600_000_000_000, 3).unwrap();
        let recorder = Recorder::new(layout, MAX_STRIPES);
        std::thread::scope(|s| {
            for t in 0..8 {
                let recorder = &recorder;
                s.spawn(move || {
                    // Every counter of both histograms, from every thread.
                    for i in (t..layout.len()).step_by(8) {
                        let v = layout.value(i);
                        recorder.record_run(
                            RunSample {
                                wall: layout.value(layout.len() - 1 - i),
                                ..RunSample::single(v)
                            },
                            false,
                        );
                    }
                });
            }
        });
        let read = recorder.read();
        // Counters past `highest` (the top bucket's upper part) stay empty.
        let reachable = layout.index(layout.highest) + 1;
        assert_eq!((read.busy.len(), read.wall.len()), (reachable, reachable));
        assert!(
            recorder.reserved_bytes() <= 256 * 1024,
            "{}",
            recorder.reserved_bytes()
        );
    }

    #[test]
    fn every_read_is_consistent_while_threads_record() {
        let recorder = recorder();
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    while !done.load(Relaxed) {
                        let run = RunSample {
                            wall: 3_000,
                            polls: 2,
                            ..RunSample::single(1_000)
                        };
                        recorder.record_run(run, false);
                    }
                });
            }
            let mut last = 0;
            for _ in 0..2_000 {
                let read = recorder.read();
                let t = read.totals;
                assert_eq!(count(&read.busy), t.runs);
                assert_eq!(count(&read.wall), t.runs);
                assert_eq!(t.busy_nanos, 1_000 * t.runs);
                assert_eq!(t.idle_nanos, 2_000 * t.runs);
                assert_eq!(t.polls, 2 * t.runs);
                assert!(t.runs >= last);
                last = t.runs;
            }
            done.store(true, Relaxed);
        });
    }
}

/// Every interleaving (to a preemption bound) of two threads recording
/// while a third reads: no run lost, none counted twice, and every read
/// consistent, its totals the sums of exactly the runs its histograms count.
#[cfg(all(test, perf_timer_loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    #[test]
    fn loom_reads_are_consistent_and_no_run_is_lost() {
        let mut builder = loom::model::Builder::new();
        // Two preemptions cover the races that matter: both writers on one
        // stripe, a drain racing the reader for the store, the reader
        // between a stripe's totals and its drain. More runs for minutes.
        builder.preemption_bound = Some(2);
        builder.check(|| {
            // Tiny histograms, one stripe: both writers share it.
            let layout = Layout::new(1, 300, 0).unwrap();
            let recorder = Arc::new(Recorder::new(layout, 1));
            let writers: Vec<_> = [16, 300]
                .into_iter()
                .map(|value| {
                    let recorder = recorder.clone();
                    loom::thread::spawn(move || {
                        recorder.record(value);
                        recorder.record(value);
                    })
                })
                .collect();
            let consistent = |read: &Reading| {
                let at = |v: u64| {
                    let i = layout.index(v) as u32;
                    read.busy.iter().find(|c| c.0 == i).map_or(0, |c| c.1)
                };
                let (small, large) = (at(16), at(300));
                assert_eq!(read.totals.runs, small + large);
                assert_eq!(read.totals.busy_nanos, 16 * small + 300 * large);
                assert_eq!(read.busy, read.wall);
                read.totals.runs
            };
            let during = consistent(&recorder.read());
            for writer in writers {
                writer.join().unwrap();
            }
            let after = recorder.read();
            assert_eq!(consistent(&after), 4);
            assert!(during <= 4);
        });
    }
}
