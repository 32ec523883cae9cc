//! The concurrent core of a timer: stripes that writers lock in turn, each
//! with its own counters, and one shared store they drain into when the
//! timer's memory budget says so.
//!
//! **Recording.** A thread tries its own stripe's one-byte lock (a stripe
//! per group of threads, so it is almost always free and its cache lines
//! already local) and adds the run to the stripe's [`Totals`] and to its
//! busy and wall [`Buckets`]. Threads recording into one timer at once
//! touch different memory. A writer that finds the lock taken tries the
//! next stripe: it never waits for another writer nor for a reader, unless
//! every stripe is taken at the same instant.
//!
//! **Memory.** Stripes are allocated on first use (256 bytes each). Their
//! counters grow with the spread of the values, not their number; all
//! stripes' counters together stay within [`PRIVATE_BUDGET`]: a stripe whose
//! growth would pass it moves its counts into the shared store and starts
//! again empty. The store holds at most one dense histogram of each kind, so
//! a timer's memory is bounded whatever the values and the threads.
//!
//! **Reading.** A reader holds the store (so nothing drains meanwhile) and
//! locks each stripe in turn. A run lives in one stripe (its totals and its
//! counts, the counts perhaps drained into the store) and does not move
//! while the reader looks, so a read counts each run completely or not at
//! all: its totals are the sums of exactly the samples its histograms count.

use std::cell::Cell;
use std::sync::atomic::Ordering::Relaxed;

use super::buckets::Buckets;
use super::layout::{allocated_bytes, Layout};
use super::lazy_box::LazyBox;
use super::lock::TryLock;
use super::sync::{spin, AtomicUsize};
use super::totals::{Event, RunSample, Totals};

/// Most stripes a timer can have.
pub(crate) const MAX_STRIPES: usize = 64;

/// Most stripes a timer gets by default: past this, one more stripe buys
/// little, as few threads record into one timer at the same instant.
const DEFAULT_MAX_STRIPES: usize = 16;

/// Heap bytes all the stripes of one timer may hold in counters. With the
/// store (at most two dense histograms: 140 KiB at the default range and
/// precision while no chunk of 256 counters has passed 65,535 runs in one
/// counter) and 64 stripes' headers (16 KiB), a timer stays under 256 KiB.
const PRIVATE_BUDGET: usize = 88 * 1024;

/// Runs a stripe counts before its histograms turn dense (if the budget
/// has room): a hot timer's counts are then a slot and a counter away
/// instead of a binary search among its distinct values, for a few KiB.
const DENSE_AFTER: u64 = 4096;

/// One thread group's share of a timer, on cache lines of its own.
#[repr(align(128))]
struct Stripe(TryLock<Counters>);

/// A set of counters: a stripe's, or the store's (whose totals stay empty).
struct Counters {
    totals: Totals,
    busy: Buckets,
    wall: Buckets,
    /// Bytes each run allocated (in [`allocated_bytes`]'s layout): empty,
    /// and no memory, unless a counting allocator is installed.
    allocated: Buckets,
}

impl Counters {
    fn new() -> Self {
        Counters {
            totals: Totals::default(),
            busy: Buckets::new(),
            wall: Buckets::new(),
            allocated: Buckets::new(),
        }
    }

    fn heap_bytes(&self) -> usize {
        self.busy.heap_bytes() + self.wall.heap_bytes() + self.allocated.heap_bytes()
    }
}

/// One run's counter indexes: busy and wall time, and bytes allocated
/// when counted.
#[derive(Clone, Copy)]
struct Values {
    busy: u32,
    wall: u32,
    allocated: Option<u32>,
}

/// Recorded runs and events of one timer.
pub(crate) struct Recorder {
    layout: Layout,
    /// `stripe_mask + 1` stripes, each allocated on first use.
    stripes: Box<[LazyBox<Stripe>]>,
    /// The number of stripes less one; a power of two less one, so a mask
    /// picks a stripe.
    stripe_mask: usize,
    /// Counts drained from the stripes.
    store: TryLock<Counters>,
    /// Heap bytes the stripes' counters hold, against [`PRIVATE_BUDGET`].
    private_bytes: AtomicUsize,
}

/// What a reader took from a recorder: the totals, and the non-zero
/// counters of each histogram as (counter index, count), by index.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reading {
    pub(crate) totals: Totals,
    pub(crate) busy: Vec<(u32, u64)>,
    pub(crate) wall: Vec<(u32, u64)>,
    /// Bytes allocated per run, in [`allocated_bytes`]'s layout.
    pub(crate) allocated: Vec<(u32, u64)>,
    /// Whether allocations were counted (a counting allocator is
    /// installed, or a saved run has them).
    pub(crate) allocations_counted: bool,
    /// Scheduling delays, kept by the timer apart from the stripes (they
    /// are not part of a consistent read).
    pub(crate) scheduled: Vec<(u32, u64)>,
    pub(crate) scheduled_nanos: u64,
}

impl Recorder {
    /// `stripes` must be 1 to [`MAX_STRIPES`] (the builder checks); it is
    /// rounded up to a power of two.
    pub(crate) fn new(layout: Layout, stripes: usize) -> Self {
        let stripes = stripes.clamp(1, MAX_STRIPES).next_power_of_two();
        Recorder {
            layout,
            stripes: (0..stripes).map(|_| LazyBox::new()).collect(),
            stripe_mask: stripes - 1,
            store: TryLock::new(Counters::new()),
            private_bytes: AtomicUsize::new(0),
        }
    }

    /// Records one run of `nanos` (a sync section or a manual sample).
    #[cfg(test)]
    pub(crate) fn record(&self, nanos: u64) {
        self.record_run(&RunSample::single(nanos), false);
    }

    /// Records one completed run. Never panics; never waits for another
    /// thread unless every stripe is taken at this instant.
    /// A run past the histogram's range is counted at its highest value,
    /// in the histograms and in every sum over the samples alike (see
    /// [`RunSample::clamped_to`]), so that no mean exceeds its maximum.
    #[inline]
    pub(crate) fn record_run(&self, run: &RunSample, is_error: bool) {
        let highest = self.layout.highest;
        if run.busy > highest || run.wall > highest {
            return self.record_clamped(*run, is_error);
        }
        self.record_in_range(run, is_error, None);
    }

    /// Records a run of one poll of `nanos`, nothing nested, nothing
    /// flushed, no allocations counted (a sync section): as
    /// [`record_run`](Recorder::record_run) of [`RunSample::single`], with
    /// one counter index for its equal busy and wall time and no sums of
    /// zero.
    #[inline(always)]
    pub(crate) fn record_single(&self, nanos: u64, is_error: bool) {
        if nanos > self.layout.highest {
            return self.record_clamped(RunSample::single(nanos), is_error);
        }
        let index = self.layout.index(nanos) as u32;
        self.update(
            #[inline(always)]
            move |counters| {
                let counted = self.count_times(counters, index, index);
                if counted {
                    counters.totals.add_single(nanos, is_error);
                }
                counted
            },
        );
    }

    /// A run past the range: out of line, so that the common run is not
    /// copied into the clamped one's place.
    #[cold]
    #[inline(never)]
    fn record_clamped(&self, run: RunSample, is_error: bool) {
        let (run, beyond) = run.clamped_to(self.layout.highest);
        self.record_in_range(&run, is_error, beyond);
    }

    /// Records a run within the range; `beyond`: the busy nanoseconds cut
    /// off, if it was clamped.
    #[inline(always)]
    fn record_in_range(&self, run: &RunSample, is_error: bool, beyond: Option<u64>) {
        let busy = self.layout.index(run.busy) as u32;
        let wall = self.layout.index(run.wall) as u32;
        if let Some(allocations) = &run.allocations {
            let layout = allocated_bytes();
            let allocated = layout.index(allocations.bytes.min(layout.highest)) as u32;
            let values = Values {
                busy,
                wall,
                allocated: Some(allocated),
            };
            return self.record_with_allocated(*run, is_error, beyond, values, allocated);
        }
        // Inlined as it was before allocations were counted, which made
        // the callers large enough for the inliner to leave it out. The
        // closure holds a copy of the run, not its address, which would
        // keep it in memory (the closure also goes to `update_probing`).
        let run = *run;
        self.update(
            #[inline(always)]
            move |counters| {
                let counted = self.count_times(counters, busy, wall);
                if counted {
                    counters.totals.add_run(&run, is_error, beyond);
                }
                counted
            },
        );
    }

    /// [`record_in_range`](Recorder::record_in_range) of a run whose
    /// allocations were counted: out of line, one instance.
    #[inline(never)]
    fn record_with_allocated(
        &self,
        run: RunSample,
        is_error: bool,
        beyond: Option<u64>,
        values: Values,
        allocated: u32,
    ) {
        self.update(move |counters| {
            let counted = self.count_with_allocated(counters, values, allocated);
            if counted {
                counters.totals.add_run(&run, is_error, beyond);
                if let Some(allocations) = &run.allocations {
                    counters.totals.add_allocations(allocations);
                }
            }
            counted
        });
    }

    /// Counts one run's busy and wall time in a stripe's histograms,
    /// within the budget: `false` (nothing counted) if there was no room
    /// and the store was busy.
    #[inline(always)]
    fn count_times(&self, counters: &mut Counters, busy: u32, wall: u32) -> bool {
        // Under loom, every run drains what the stripe holds: the race that
        // matters (counts moving to the store while a reader looks).
        if cfg!(perf_timer_loom) {
            let values = Values {
                busy,
                wall,
                allocated: None,
            };
            return self.drain_and_count(counters, values);
        }
        // Most runs add one to two counters that exist: nothing grows, so
        // the budget is not even read.
        let busy_counted = counters.busy.try_add(busy, 1);
        let wall_counted = counters.wall.try_add(wall, 1);
        if !(busy_counted & wall_counted) {
            return self.count_new(counters, busy, wall, busy_counted, wall_counted);
        }
        if counters.totals.count % DENSE_AFTER == DENSE_AFTER - 1 {
            self.densify(counters);
        }
        true
    }

    /// [`count_times`](Recorder::count_times) where a counter is new (or
    /// needs to widen): those already counted are taken back, and both
    /// counted within the budget.
    #[cold]
    #[inline(never)]
    fn count_new(
        &self,
        counters: &mut Counters,
        busy: u32,
        wall: u32,
        busy_counted: bool,
        wall_counted: bool,
    ) -> bool {
        // New counters allocate: the library's, in no run's count.
        let _unseen = crate::alloc::thread::unseen();
        let values = Values {
            busy,
            wall,
            allocated: None,
        };
        if busy_counted {
            counters.busy.remove_one(busy);
        }
        if wall_counted {
            counters.wall.remove_one(wall);
        }
        let len = self.layout.len();
        let room = PRIVATE_BUDGET.saturating_sub(self.private_bytes.load(Relaxed));
        let Ok(busy_grown) = counters.busy.add(len, busy, 1, room) else {
            return self.drain_and_count(counters, values);
        };
        let Ok(wall_grown) = counters
            .wall
            .add(len, wall, 1, room.saturating_sub(busy_grown))
        else {
            counters.busy.remove_one(busy);
            self.account(busy_grown);
            return self.drain_and_count(counters, values);
        };
        if busy_grown + wall_grown > 0 {
            self.account(busy_grown + wall_grown);
        }
        if counters.totals.count % DENSE_AFTER == DENSE_AFTER - 1 {
            self.densify(counters);
        }
        true
    }

    /// [`count_times`](Recorder::count_times) and the bytes the run
    /// allocated, in the same stripe.
    #[inline(always)]
    fn count_with_allocated(
        &self,
        counters: &mut Counters,
        values: Values,
        allocated: u32,
    ) -> bool {
        if !self.count_times(counters, values.busy, values.wall) {
            return false;
        }
        let room = PRIVATE_BUDGET.saturating_sub(self.private_bytes.load(Relaxed));
        match (counters.allocated).add(allocated_bytes().len(), allocated, 1, room) {
            Ok(grown) => {
                if grown > 0 {
                    self.account(grown);
                }
                true
            }
            Err(_) => {
                // No room: as for busy and wall time, all three into a
                // drained stripe.
                counters.busy.remove_one(values.busy);
                counters.wall.remove_one(values.wall);
                self.drain_and_count(counters, values)
            }
        }
    }

    /// A stripe that has counted many runs: its histograms turn dense,
    /// within the budget.
    #[cold]
    #[inline(never)]
    fn densify(&self, counters: &mut Counters) {
        let _unseen = crate::alloc::thread::unseen();
        let len = self.layout.len();
        for buckets in [&mut counters.busy, &mut counters.wall] {
            let room = PRIVATE_BUDGET.saturating_sub(self.private_bytes.load(Relaxed));
            if let Ok(grown) = buckets.densify(len, room) {
                self.account(grown);
            }
        }
    }

    /// The stripes' counters grew by `grown` bytes.
    #[cold]
    #[inline(never)]
    fn account(&self, grown: usize) {
        self.private_bytes.fetch_add(grown, Relaxed);
    }

    /// No room in the budget: empty this stripe into the store, then count
    /// here. `false` if the store is busy.
    #[cold]
    #[inline(never)]
    fn drain_and_count(&self, counters: &mut Counters, values: Values) -> bool {
        let Some(mut store) = self.store.try_lock() else {
            return false;
        };
        let len = self.layout.len();
        let allocated_len = allocated_bytes().len();
        let freed = counters.heap_bytes();
        store.with(|store| {
            store.busy.absorb(len, &counters.busy);
            store.wall.absorb(len, &counters.wall);
            store.allocated.absorb(allocated_len, &counters.allocated);
        });
        drop(store);
        counters.busy = Buckets::new();
        counters.wall = Buckets::new();
        counters.allocated = Buckets::new();
        self.private_bytes.fetch_sub(freed, Relaxed);
        // From empty, the first growth is a few pairs: let it through even
        // if other stripes hold the whole budget, so that this always ends.
        let mut grown = counters
            .busy
            .add(len, values.busy, 1, usize::MAX)
            .unwrap_or(0)
            + counters
                .wall
                .add(len, values.wall, 1, usize::MAX)
                .unwrap_or(0);
        if let Some(allocated) = values.allocated {
            grown += (counters.allocated)
                .add(allocated_len, allocated, 1, usize::MAX)
                .unwrap_or(0);
        }
        self.account(grown);
        true
    }

    /// Counts an event that is not a completed run.
    pub(crate) fn count(&self, event: Event) {
        // The longest poll is read beside the samples: kept within their
        // range too.
        let event = match event {
            Event::SlowPoll(nanos) => Event::SlowPoll(nanos.min(self.layout.highest)),
            event => event,
        };
        // A first stripe allocates: `update_probing` keeps it the
        // library's, in no run's count.
        self.update(move |counters| {
            counters.totals.add_event(event);
            true
        });
    }

    /// Runs `f` on the first free stripe, from this thread's own, for which
    /// it succeeds.
    #[inline(always)]
    fn update(&self, mut f: impl FnMut(&mut Counters) -> bool) {
        let home = thread_stripe() & self.stripe_mask;
        // Almost always: this thread's own stripe, allocated and free.
        if let Some(Stripe(stripe)) = self.stripes.get(home).and_then(LazyBox::get) {
            if let Some(mut counters) = stripe.try_lock() {
                if counters.with(&mut f) {
                    return;
                }
            }
        }
        self.update_probing(home, f);
    }

    /// [`update`](Recorder::update) past this thread's own stripe: not yet
    /// allocated, taken, or out of room with the store busy.
    #[cold]
    #[inline(never)]
    fn update_probing(&self, home: usize, mut f: impl FnMut(&mut Counters) -> bool) {
        // A first stripe allocates, and so may counting in it: the
        // library's, in no run's count, whoever records.
        let _unseen = crate::alloc::thread::unseen();
        loop {
            for probe in 0..=self.stripe_mask {
                let Some(stripe) = self.stripes.get((home + probe) & self.stripe_mask) else {
                    continue;
                };
                let Stripe(stripe) = stripe.get_or_init(Stripe::new);
                if let Some(mut counters) = stripe.try_lock() {
                    if counters.with(&mut f) {
                        return;
                    }
                }
            }
            // Every stripe taken at this instant (each is held for
            // nanoseconds, or by a reader for the time of a copy), or out of
            // room while the store is busy.
            spin();
        }
    }

    /// Everything recorded so far, consistent (see the module docs).
    /// Writers go on recording meanwhile.
    pub(crate) fn read(&self) -> Reading {
        let mut reading = Reading::default();
        let mut store = self.store.lock();
        store.with(|store| {
            store.busy.collect(&mut reading.busy);
            store.wall.collect(&mut reading.wall);
            store.allocated.collect(&mut reading.allocated);
        });
        // Each source's pairs come sorted: where each begins, to merge.
        let (mut busy_runs, mut wall_runs, mut allocated_runs) = (vec![0], vec![0], vec![0]);
        for stripe in self.allocated_stripes() {
            stripe.0.lock().with(|counters| {
                busy_runs.push(reading.busy.len());
                wall_runs.push(reading.wall.len());
                allocated_runs.push(reading.allocated.len());
                reading.totals.merge(&counters.totals);
                counters.busy.collect(&mut reading.busy);
                counters.wall.collect(&mut reading.wall);
                counters.allocated.collect(&mut reading.allocated);
            });
        }
        drop(store);
        combine(&mut reading.busy, busy_runs);
        combine(&mut reading.wall, wall_runs);
        combine(&mut reading.allocated, allocated_runs);
        reading.allocations_counted = crate::alloc::thread::installed();
        reading
    }

    /// The counters alone, without the histograms: a lock of each stripe
    /// and no copy. Every sample counts in them (a run, a cancellation, a
    /// slow poll), so that equal totals mean an unchanged reading.
    #[cfg(all(feature = "axum", feature = "save"))]
    pub(crate) fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for stripe in self.allocated_stripes() {
            stripe
                .0
                .lock()
                .with(|counters| totals.merge(&counters.totals));
        }
        totals
    }

    fn allocated_stripes(&self) -> impl Iterator<Item = &Stripe> {
        self.stripes.iter().filter_map(LazyBox::get)
    }

    /// Bytes this recorder holds: itself, its stripes and its counters.
    pub(crate) fn reserved_bytes(&self) -> usize {
        let table = std::mem::size_of_val(&*self.stripes);
        let stripes = self.allocated_stripes().count() * std::mem::size_of::<Stripe>();
        let store = self.store.lock().with(|store| store.heap_bytes());
        let private = (self.allocated_stripes())
            .map(|s| s.0.lock().with(|counters| counters.heap_bytes()))
            .sum::<usize>();
        std::mem::size_of::<Self>() + table + stripes + store + private
    }
}

impl Stripe {
    fn new() -> Self {
        Stripe(TryLock::new(Counters::new()))
    }
}

/// Merges runs of (counter index, count) pairs, each sorted by index and
/// beginning at `starts`, into one sorted run, adding up the counts of an
/// index found in several: pairwise, O(n log runs), where sorting them
/// all was O(n log n) and most of a snapshot's time.
fn combine(counts: &mut Vec<(u32, u64)>, mut starts: Vec<usize>) {
    starts.retain(|&s| s < counts.len());
    starts.dedup();
    if starts.len() <= 1 {
        return;
    }
    starts.push(counts.len());
    let mut merged = Vec::with_capacity(counts.len());
    while starts.len() > 2 {
        merged.clear();
        let mut next = vec![0];
        for pair in starts.windows(3).step_by(2) {
            merge_two(
                &counts[pair[0]..pair[1]],
                &counts[pair[1]..pair[2]],
                &mut merged,
            );
            next.push(merged.len());
        }
        if starts.len().is_multiple_of(2) {
            // An odd number of runs: the last one waits for the next round.
            let last = starts[starts.len() - 2];
            merged.extend_from_slice(&counts[last..]);
            next.push(merged.len());
        }
        std::mem::swap(counts, &mut merged);
        starts = next;
    }
}

/// Appends `a` and `b` (each sorted by index, each index once) merged.
fn merge_two(a: &[(u32, u64)], b: &[(u32, u64)], into: &mut Vec<(u32, u64)>) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                into.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                into.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                into.push((a[i].0, a[i].1.saturating_add(b[j].1)));
                i += 1;
                j += 1;
            }
        }
    }
    into.extend_from_slice(&a[i..]);
    into.extend_from_slice(&b[j..]);
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
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
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

    #[test]
    fn combining_sorted_runs_adds_repeats_and_keeps_the_order() {
        for runs in 1..=6_u32 {
            let mut counts = Vec::new();
            let mut starts = Vec::new();
            let mut expected = std::collections::BTreeMap::<u32, u64>::new();
            for r in 0..runs {
                starts.push(counts.len());
                for i in (r..200).step_by(1 + r as usize) {
                    counts.push((i * 3, u64::from(r) + 1));
                    *expected.entry(i * 3).or_default() += u64::from(r) + 1;
                }
            }
            starts.push(counts.len()); // an empty last run
            combine(&mut counts, starts);
            let expected: Vec<(u32, u64)> = expected.into_iter().collect();
            assert_eq!(counts, expected, "{runs} runs");
        }
    }

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
        assert_eq!(
            recorder
                .layout
                .histogram_of(read.busy.last().map(|b| b.0), read.busy.iter().copied()),
            reference
        );
        assert_eq!(read.busy, read.wall);
        let sum: u64 = (0..4_u64)
            .flat_map(|t| (t * 10_000)..(t * 10_000 + 10_003))
            .sum();
        assert_eq!((read.totals.count, read.totals.busy_nanos), (40_012, sum));
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
        // Counted at the clamp in the sums too; the rest still polled.
        assert_eq!(read.totals.busy_nanos, 1_000_000);
        assert_eq!(read.totals.clamped_nanos, 4_000_000);
        assert_eq!(read.totals.poll_nanos(), 5_000_000);
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
            flushed: Default::default(),
            allocations: None,
        };
        recorder.record_run(&run, true);
        recorder.record(50);
        recorder.count(Event::Cancelled {
            busy: 5,
            flushed: Default::default(),
        });
        recorder.count(Event::SlowPoll(70));
        let totals = recorder.read().totals;
        assert_eq!((totals.count, totals.errors), (2, 1));
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
                &RunSample {
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
    fn a_stripe_of_many_runs_counts_densely_and_reads_the_same() {
        let recorder = recorder();
        let mut reference = recorder.layout.empty_histogram();
        for i in 0..3 * DENSE_AFTER {
            let v = 20 + i % 16;
            recorder.record(v);
            reference.record(v).unwrap();
        }
        let stripes: Vec<&Stripe> = recorder.allocated_stripes().collect();
        assert_eq!(stripes.len(), 1);
        stripes[0].0.lock().with(|c| {
            assert!(matches!(c.busy, Buckets::Dense(_)));
            assert!(matches!(c.wall, Buckets::Dense(_)));
        });
        let read = recorder.read();
        let histogram = (recorder.layout)
            .histogram_of(read.busy.last().map(|b| b.0), read.busy.iter().copied());
        assert_eq!(histogram, reference);
        assert_eq!(read.busy, read.wall);
        assert_eq!(read.totals.count, 3 * DENSE_AFTER);
        // A few KiB: the dense slots and one chunk, for each histogram.
        assert!(
            recorder.reserved_bytes() <= 8 * 1024,
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
                            &RunSample {
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
                        recorder.record_run(&run, false);
                    }
                });
            }
            let mut last = 0;
            for _ in 0..2_000 {
                let read = recorder.read();
                let t = read.totals;
                assert_eq!(count(&read.busy), t.count);
                assert_eq!(count(&read.wall), t.count);
                assert_eq!(t.busy_nanos, 1_000 * t.count);
                assert_eq!(t.idle_nanos, 2_000 * t.count);
                assert_eq!(t.polls, 2 * t.count);
                assert!(t.count >= last);
                last = t.count;
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
        // One preemption covers the races that matter here: both writers
        // on one stripe, a drain (every run drains under loom) moving the
        // stripe's counts to the store while the reader looks, the reader
        // between the store and the stripe. (Releasing the store before
        // the stripes are read fails this model.) Two run for over ten minutes.
        builder.preemption_bound = Some(1);
        // The readers' and full writers' spin loops add branches.
        builder.max_branches = 100_000;
        builder.check(|| {
            // Tiny histograms, one stripe: both writers share it.
            let layout = Layout::new(1, 300, 0).unwrap();
            let recorder = Arc::new(Recorder::new(layout, 1));
            // A run already in the stripe, for the writers' drains to move
            // while the reader looks.
            recorder.record(16);
            let writers: Vec<_> = [16, 300]
                .into_iter()
                .map(|value| {
                    let recorder = recorder.clone();
                    loom::thread::spawn(move || recorder.record(value))
                })
                .collect();
            let consistent = |read: &Reading| {
                let at = |v: u64| {
                    let i = layout.index(v) as u32;
                    read.busy.iter().find(|c| c.0 == i).map_or(0, |c| c.1)
                };
                let (small, large) = (at(16), at(300));
                assert_eq!(read.totals.count, small + large);
                assert_eq!(read.totals.busy_nanos, 16 * small + 300 * large);
                assert_eq!(read.busy, read.wall);
                read.totals.count
            };
            let during = consistent(&recorder.read());
            for writer in writers {
                writer.join().unwrap();
            }
            let after = recorder.read();
            assert_eq!(consistent(&after), 3);
            assert!((1..=3).contains(&during));
        });
    }
}
