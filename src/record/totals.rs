//! `Totals`: every counter of one timer, as plain numbers. Stripes keep one
//! each; a read sums them into one; a window is one `since`.

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
    /// What the run has already flushed while in flight: its busy time so
    /// far, and whether it was counted in flight.
    pub(crate) flushed: Flushed,
    /// What the run allocated, when a counting allocator is installed.
    pub(crate) allocations: Option<AllocationSample>,
}

/// What one completed run allocated (see `crate::CountingAllocator`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AllocationSample {
    /// Allocations, nested timed runs' included.
    pub(crate) count: u64,
    pub(crate) bytes: u64,
    /// The part of those made by timed runs nested in this run's polls.
    pub(crate) nested_count: u64,
    pub(crate) nested_bytes: u64,
}

/// A run's busy time so far and its place among the runs in flight, as
/// flushed to its timer while the run goes on. Settled when the run ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flushed {
    /// Nanoseconds of busy time flushed so far.
    pub(crate) busy: u64,
    /// Whether the run has been counted in flight.
    pub(crate) in_flight: bool,
}

impl RunSample {
    /// This run counted at `highest` (the histogram's highest trackable
    /// value) where it lies beyond: busy and wall time, and with them its
    /// longest poll and nested time, which are parts of its busy time. The
    /// busy nanoseconds cut off come back beside it (`None` if nothing
    /// was), for the poll total, which counts every poll's real time.
    #[cold]
    #[inline(never)]
    pub(crate) fn clamped_to(self, highest: u64) -> (RunSample, Option<u64>) {
        let busy = self.busy.min(highest);
        let clamped = RunSample {
            busy,
            wall: self.wall.min(highest),
            longest_poll: self.longest_poll.min(busy),
            nested: self.nested.min(busy),
            ..self
        };
        (clamped, Some(self.busy - busy))
    }

    /// A run of one poll of `busy`, nothing nested: a sync section or a
    /// manual sample.
    pub(crate) fn single(busy: u64) -> Self {
        RunSample {
            busy,
            wall: busy,
            polls: 1,
            longest_poll: busy,
            nested: 0,
            flushed: Flushed::default(),
            allocations: None,
        }
    }
}

/// How a run ended without a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// Dropped before `Ready`.
    Cancelled,
    /// A poll panicked.
    Panicked,
    /// No longer timed: the registry was switched off, or a stream ended
    /// between items.
    Untimed,
}

/// Something counted that is not a completed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// A run dropped before `Ready`, after `busy` nanoseconds of polls.
    Cancelled { busy: u64, flushed: Flushed },
    /// A run ended by a panic, after `busy` nanoseconds of polls.
    Panicked { busy: u64, flushed: Flushed },
    /// A run stopped being timed (its registry was switched off) after
    /// `busy` nanoseconds of polls: not a sample, its time still spent.
    Untimed { busy: u64, flushed: Flushed },
    /// A run in flight flushes `busy` more nanoseconds; `first`: its first
    /// flush, from which it counts in flight.
    Flush { busy: u64, first: bool },
    /// A poll past the slow-poll threshold, of this many nanoseconds.
    SlowPoll(u64),
    /// Bytes a run handled (`add_bytes`), counted when added.
    Bytes(u64),
    /// What a run that ended without a sample allocated.
    AbandonedAllocations { count: u64, bytes: u64 },
    /// A poll timed on both clocks: `wall` and `cpu` nanoseconds, and
    /// whether that made it a blocked poll.
    Sampled { wall: u64, cpu: u64, blocked: bool },
}

/// How a counter combines: across stripes and files (`merge`), and over a
/// window (`since`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// A count or a sum: added (saturating), and the difference over a
    /// window.
    Sum,
    /// The largest seen: the larger of two, and since the start over a
    /// window (a maximum has no difference).
    Max,
    /// A level (runs in flight): added wrapping (a run adds on one stripe
    /// and settles on another, so only the sum over stripes means
    /// anything), and the level now over a window.
    Level,
    /// A level's running sum (busy time flushed by runs in flight): added
    /// wrapping, and the wrapping difference over a window (runs in flight
    /// then may have settled since, making it negative; `poll_nanos` adds
    /// it back).
    Flow,
}

impl Rule {
    #[inline(always)]
    fn merge(self, a: u64, b: u64) -> u64 {
        match self {
            Rule::Sum => a.saturating_add(b),
            Rule::Max => a.max(b),
            Rule::Level | Rule::Flow => a.wrapping_add(b),
        }
    }

    fn since(self, now: u64, then: u64) -> u64 {
        match self {
            Rule::Sum => now.saturating_sub(then),
            Rule::Max | Rule::Level => now,
            Rule::Flow => now.wrapping_sub(then),
        }
    }
}

/// Declares [`Totals`] from one list of counters, each with its rule:
/// `merge`, `since` and the saved line's names all come from it, so that
/// no counter is merged, windowed or saved and another not.
macro_rules! totals {
    ($($(#[doc = $doc:literal])* $field:ident: $rule:ident,)*) => {
        /// Every counter of a timer. Sums saturate at `u64::MAX` (584 years
        /// of nanoseconds) instead of wrapping.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub(crate) struct Totals {
            $($(#[doc = $doc])* pub(crate) $field: u64,)*
        }

        impl Totals {
            /// Adds `other`'s counts to these.
            pub(crate) fn merge(&mut self, other: &Totals) {
                $(self.$field = Rule::$rule.merge(self.$field, other.$field);)*
            }

            /// What was counted between `earlier` (of the same timer) and
            /// these.
            pub(crate) fn since(&self, earlier: &Totals) -> Totals {
                Totals {
                    $($field: Rule::$rule.since(self.$field, earlier.$field),)*
                }
            }

            /// Calls `f` with every counter's name and value.
            #[cfg_attr(not(feature = "save"), allow(dead_code))]
            pub(crate) fn each(&self, mut f: impl FnMut(&'static str, u64)) {
                $(f(stringify!($field), self.$field);)*
            }

            /// The counter named `name`, if there is one.
            #[cfg_attr(not(feature = "save"), allow(dead_code))]
            pub(crate) fn named_mut(&mut self, name: &str) -> Option<&mut u64> {
                match name {
                    $(stringify!($field) => Some(&mut self.$field),)*
                    _ => None,
                }
            }

            /// Every counter's name.
            #[cfg(test)]
            pub(crate) const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];
        }
    };
}

totals! {
    /// Completed runs, the samples: `Stats::count`.
    count: Sum,
    /// Exact sums over the samples, in nanoseconds, each sample as the
    /// histograms count it: a sample past the range at the range's
    /// highest value.
    busy_nanos: Sum,
    idle_nanos: Sum,
    nested_nanos: Sum,
    /// Polls of the samples.
    polls: Sum,
    /// Samples whose output was an error.
    errors: Sum,
    /// Samples past the histogram range, recorded as its highest value.
    clamped: Sum,
    /// Busy time of those samples past the range's highest value: in no
    /// sum over the samples, still in the poll total.
    clamped_nanos: Sum,
    /// The longest poll of any sample or slow poll.
    longest_poll: Max,
    cancelled: Sum,
    panicked: Sum,
    slow_polls: Sum,
    blocked_polls: Sum,
    /// Busy time of runs that ended without a sample: cancelled, panicked,
    /// or no longer timed.
    abandoned_nanos: Sum,
    /// Runs in flight, and the busy time they have flushed.
    in_flight: Level,
    in_flight_nanos: Flow,
    /// Polls sampled on both clocks (for blocking), and their time on each.
    sampled_polls: Sum,
    sampled_wall_nanos: Sum,
    sampled_cpu_nanos: Sum,
    bytes: Sum,
    /// Samples that counted their allocations (every one while a
    /// counting allocator is installed), and their allocations: in all,
    /// and those of timed runs nested in them.
    alloc_runs: Sum,
    allocs: Sum,
    alloc_bytes: Sum,
    nested_allocs: Sum,
    nested_alloc_bytes: Sum,
    /// Allocations of runs that ended without a sample.
    abandoned_allocs: Sum,
    abandoned_alloc_bytes: Sum,
}

impl Totals {
    /// Counts one completed run, already within the histogram's range;
    /// `beyond`: it was clamped into it, and this much busy time was cut off.
    #[inline(always)]
    pub(crate) fn add_run(&mut self, run: &RunSample, is_error: bool, beyond: Option<u64>) {
        self.count = self.count.saturating_add(1);
        self.busy_nanos = self.busy_nanos.saturating_add(run.busy);
        self.idle_nanos = (self.idle_nanos).saturating_add(run.wall.saturating_sub(run.busy));
        self.nested_nanos = self.nested_nanos.saturating_add(run.nested);
        self.polls = self.polls.saturating_add(run.polls);
        self.errors += u64::from(is_error);
        if let Some(beyond) = beyond {
            self.clamped += 1;
            self.clamped_nanos = self.clamped_nanos.saturating_add(beyond);
        }
        self.longest_poll = self.longest_poll.max(run.longest_poll);
        self.settle(run.flushed);
    }

    /// Counts one run of one poll of `busy` within the range, nothing
    /// nested, nothing flushed (a sync section): what
    /// [`add_run`](Totals::add_run) counts for [`RunSample::single`], less
    /// the sums it would add zero to.
    #[inline(always)]
    pub(crate) fn add_single(&mut self, busy: u64, is_error: bool) {
        self.count = self.count.saturating_add(1);
        self.busy_nanos = self.busy_nanos.saturating_add(busy);
        self.polls = self.polls.saturating_add(1);
        self.errors += u64::from(is_error);
        self.longest_poll = self.longest_poll.max(busy);
    }

    /// Counts what one completed run, counted by [`add_run`](Totals::add_run)
    /// too, allocated (apart, so that runs without allocations pay
    /// nothing for them).
    #[inline(always)]
    pub(crate) fn add_allocations(&mut self, run: &AllocationSample) {
        self.alloc_runs = self.alloc_runs.saturating_add(1);
        self.allocs = self.allocs.saturating_add(run.count);
        self.alloc_bytes = self.alloc_bytes.saturating_add(run.bytes);
        self.nested_allocs = self.nested_allocs.saturating_add(run.nested_count);
        self.nested_alloc_bytes = (self.nested_alloc_bytes).saturating_add(run.nested_bytes);
    }

    /// These counters without any allocation counter: those of a timer
    /// that counted no allocations.
    pub(crate) fn without_allocations(mut self) -> Totals {
        self.alloc_runs = 0;
        self.allocs = 0;
        self.alloc_bytes = 0;
        self.nested_allocs = 0;
        self.nested_alloc_bytes = 0;
        self.abandoned_allocs = 0;
        self.abandoned_alloc_bytes = 0;
        self
    }

    /// A run that flushed `flushed` has ended: take it out of the runs in
    /// flight, whose busy time now lives in a sum of its own.
    #[inline(always)]
    fn settle(&mut self, flushed: Flushed) {
        self.in_flight_nanos = self.in_flight_nanos.wrapping_sub(flushed.busy);
        self.in_flight = self.in_flight.wrapping_sub(u64::from(flushed.in_flight));
    }

    /// Counts one event.
    pub(crate) fn add_event(&mut self, event: Event) {
        match event {
            Event::Cancelled { busy, flushed } => {
                self.cancelled += 1;
                self.abandon(busy, flushed);
            }
            Event::Panicked { busy, flushed } => {
                self.panicked += 1;
                self.abandon(busy, flushed);
            }
            Event::Untimed { busy, flushed } => self.abandon(busy, flushed),
            Event::Flush { busy, first } => {
                self.in_flight_nanos = self.in_flight_nanos.wrapping_add(busy);
                self.in_flight = self.in_flight.wrapping_add(u64::from(first));
            }
            Event::Sampled { wall, cpu, blocked } => {
                self.sampled_polls += 1;
                self.sampled_wall_nanos = self.sampled_wall_nanos.saturating_add(wall);
                self.sampled_cpu_nanos = self.sampled_cpu_nanos.saturating_add(cpu);
                self.blocked_polls += u64::from(blocked);
            }
            Event::Bytes(n) => self.bytes = self.bytes.saturating_add(n),
            Event::AbandonedAllocations { count, bytes } => {
                self.abandoned_allocs = self.abandoned_allocs.saturating_add(count);
                self.abandoned_alloc_bytes = self.abandoned_alloc_bytes.saturating_add(bytes);
            }
            Event::SlowPoll(nanos) => {
                self.slow_polls += 1;
                self.longest_poll = self.longest_poll.max(nanos);
            }
        }
    }

    fn abandon(&mut self, busy: u64, flushed: Flushed) {
        self.abandoned_nanos = self.abandoned_nanos.saturating_add(busy);
        self.settle(flushed);
    }

    /// Every poll's time: the samples' (clamped ones whole), the abandoned
    /// runs', and what the runs in flight have flushed.
    pub(crate) fn poll_nanos(&self) -> u64 {
        self.busy_nanos
            .saturating_add(self.clamped_nanos)
            .saturating_add(self.abandoned_nanos)
            .wrapping_add(self.in_flight_nanos)
    }

    /// Wall time of the samples: busy plus idle, saturating.
    pub(crate) fn wall_nanos(&self) -> u64 {
        self.busy_nanos.saturating_add(self.idle_nanos)
    }

    /// Self time of the samples: busy minus nested.
    pub(crate) fn self_nanos(&self) -> u64 {
        self.busy_nanos.saturating_sub(self.nested_nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_saturate_instead_of_wrapping() {
        let mut totals = Totals::default();
        totals.add_run(&RunSample::single(u64::MAX - 1), false, None);
        totals.add_run(&RunSample::single(1), false, Some(u64::MAX));
        totals.add_run(&RunSample::single(1), false, Some(1));
        assert_eq!(
            (totals.count, totals.busy_nanos, totals.clamped),
            (3, u64::MAX, 2)
        );
        assert_eq!(totals.clamped_nanos, u64::MAX);
        assert_eq!(totals.poll_nanos(), u64::MAX);
        assert_eq!(totals.wall_nanos(), u64::MAX);
        let mut merged = totals;
        merged.merge(&totals);
        assert_eq!(merged.busy_nanos, u64::MAX);
        assert_eq!(merged.since(&totals).count, 3);
    }

    #[test]
    fn a_single_run_counts_as_the_run_of_one_poll_it_is() {
        let (mut single, mut run) = (Totals::default(), Totals::default());
        for (busy, is_error) in [(7, false), (1_000, true), (3, false), (u64::MAX - 1, true)] {
            single.add_single(busy, is_error);
            run.add_run(&RunSample::single(busy), is_error, None);
            assert_eq!(single, run, "after a run of {busy}");
        }
        // Sums saturate alike.
        assert_eq!(single.busy_nanos, u64::MAX);
        run.in_flight_nanos = 1;
        assert_ne!(single, run, "the comparison sees every counter");
    }

    #[test]
    fn a_clamped_run_counts_at_the_clamp_and_keeps_its_parts_within_it() {
        let run = RunSample {
            busy: 5_000,
            wall: 9_000,
            polls: 3,
            longest_poll: 4_000,
            nested: 4_500,
            flushed: Flushed::default(),
            allocations: None,
        };
        let (clamped, beyond) = run.clamped_to(1_000);
        assert_eq!(beyond, Some(4_000));
        assert_eq!(
            (clamped.busy, clamped.wall, clamped.polls),
            (1_000, 1_000, 3)
        );
        assert_eq!((clamped.longest_poll, clamped.nested), (1_000, 1_000));
        // Only the wall time past the range.
        let (clamped, beyond) = RunSample {
            wall: 1_500,
            ..RunSample::single(800)
        }
        .clamped_to(1_000);
        assert_eq!((clamped.busy, clamped.wall, beyond), (800, 1_000, Some(0)));
        let mut totals = Totals::default();
        totals.add_run(&clamped, false, beyond);
        assert_eq!(
            (totals.clamped, totals.idle_nanos, totals.poll_nanos()),
            (1, 200, 800)
        );
    }

    #[test]
    fn each_rule_merges_and_windows_as_it_says() {
        let a = Totals {
            count: 5,
            longest_poll: 9,
            in_flight: 2,
            in_flight_nanos: 10,
            ..Totals::default()
        };
        let b = Totals {
            count: 3,
            longest_poll: 4,
            in_flight: u64::MAX, // one settled here that began elsewhere
            in_flight_nanos: 30,
            ..Totals::default()
        };
        let mut merged = a;
        merged.merge(&b);
        assert_eq!((merged.count, merged.longest_poll), (8, 9));
        assert_eq!((merged.in_flight, merged.in_flight_nanos), (1, 40));
        let window = a.since(&b);
        assert_eq!((window.count, window.longest_poll), (2, 9));
        assert_eq!(window.in_flight, 2, "a level is what it is now");
        assert_eq!(window.in_flight_nanos, 10_u64.wrapping_sub(30));
        // Every counter has a name, and the names reach every counter.
        let mut all = Totals::default();
        for (i, name) in Totals::NAMES.iter().enumerate() {
            *all.named_mut(name).unwrap() = i as u64 + 1;
        }
        let mut seen = Vec::new();
        all.each(|name, value| seen.push((name, value)));
        assert_eq!(seen.len(), Totals::NAMES.len());
        assert!(seen.iter().all(|&(_, v)| v > 0));
    }

    #[test]
    fn without_allocations_clears_every_allocation_counter_and_no_other() {
        let mut all = Totals::default();
        for name in Totals::NAMES {
            *all.named_mut(name).unwrap() = 7;
        }
        let mut seen = Vec::new();
        all.without_allocations()
            .each(|name, value| seen.push((name, value)));
        for (name, value) in seen {
            // The saved line writes the counters named so only where counted.
            let expected = if name.contains("alloc") { 0 } else { 7 };
            assert_eq!(value, expected, "{name}");
        }
    }
}
