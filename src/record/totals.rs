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
    /// A poll timed on both clocks: `wall` and `cpu` nanoseconds, and
    /// whether that made it a blocked poll.
    Sampled { wall: u64, cpu: u64, blocked: bool },
}

/// Every counter of a timer. Sums saturate at `u64::MAX` (584 years of
/// nanoseconds) instead of wrapping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    /// Completed runs: the samples.
    pub(crate) runs: u64,
    /// Exact sums over the samples, in nanoseconds (before clamping).
    pub(crate) busy_nanos: u64,
    pub(crate) idle_nanos: u64,
    pub(crate) nested_nanos: u64,
    /// Polls of the samples.
    pub(crate) polls: u64,
    /// Samples whose output was an error.
    pub(crate) errors: u64,
    /// Samples past the histogram range, recorded as its highest value.
    pub(crate) clamped: u64,
    /// The longest poll of any sample or slow poll.
    pub(crate) longest_poll: u64,
    pub(crate) cancelled: u64,
    pub(crate) panicked: u64,
    pub(crate) slow_polls: u64,
    pub(crate) blocked_polls: u64,
    /// Busy time of runs that ended without a sample: cancelled, panicked,
    /// or no longer timed.
    pub(crate) abandoned_nanos: u64,
    /// Runs in flight, and the busy time they have flushed: gauges. A run
    /// adds on one stripe and settles on another, so these wrap instead of
    /// saturating, and only their sum over the stripes is meaningful.
    pub(crate) in_flight: u64,
    pub(crate) in_flight_nanos: u64,
    /// Polls sampled on both clocks (for blocking), and their time on each.
    pub(crate) sampled_polls: u64,
    pub(crate) sampled_wall_nanos: u64,
    pub(crate) sampled_cpu_nanos: u64,
    pub(crate) bytes: u64,
}

impl Totals {
    /// Counts one completed run.
    #[inline(always)]
    pub(crate) fn add_run(&mut self, run: &RunSample, is_error: bool, clamped: bool) {
        self.runs = self.runs.saturating_add(1);
        self.busy_nanos = self.busy_nanos.saturating_add(run.busy);
        self.idle_nanos = (self.idle_nanos).saturating_add(run.wall.saturating_sub(run.busy));
        self.nested_nanos = self.nested_nanos.saturating_add(run.nested);
        self.polls = self.polls.saturating_add(run.polls);
        self.errors += u64::from(is_error);
        self.clamped += u64::from(clamped);
        self.longest_poll = self.longest_poll.max(run.longest_poll);
        self.settle(run.flushed);
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

    /// Adds `other`'s counts to these.
    pub(crate) fn merge(&mut self, other: &Totals) {
        let add = |a: &mut u64, b: u64| *a = a.saturating_add(b);
        add(&mut self.runs, other.runs);
        add(&mut self.busy_nanos, other.busy_nanos);
        add(&mut self.idle_nanos, other.idle_nanos);
        add(&mut self.nested_nanos, other.nested_nanos);
        add(&mut self.polls, other.polls);
        add(&mut self.errors, other.errors);
        add(&mut self.clamped, other.clamped);
        add(&mut self.cancelled, other.cancelled);
        add(&mut self.panicked, other.panicked);
        add(&mut self.slow_polls, other.slow_polls);
        add(&mut self.blocked_polls, other.blocked_polls);
        add(&mut self.abandoned_nanos, other.abandoned_nanos);
        add(&mut self.sampled_polls, other.sampled_polls);
        add(&mut self.sampled_wall_nanos, other.sampled_wall_nanos);
        add(&mut self.sampled_cpu_nanos, other.sampled_cpu_nanos);
        add(&mut self.bytes, other.bytes);
        self.in_flight = self.in_flight.wrapping_add(other.in_flight);
        self.in_flight_nanos = self.in_flight_nanos.wrapping_add(other.in_flight_nanos);
        self.longest_poll = self.longest_poll.max(other.longest_poll);
    }

    /// What was counted between `earlier` (of the same timer) and these.
    /// The longest poll is not a sum: it stays the longest since the start.
    pub(crate) fn since(&self, earlier: &Totals) -> Totals {
        let sub = |now: u64, then: u64| now.saturating_sub(then);
        Totals {
            runs: sub(self.runs, earlier.runs),
            busy_nanos: sub(self.busy_nanos, earlier.busy_nanos),
            idle_nanos: sub(self.idle_nanos, earlier.idle_nanos),
            nested_nanos: sub(self.nested_nanos, earlier.nested_nanos),
            polls: sub(self.polls, earlier.polls),
            errors: sub(self.errors, earlier.errors),
            clamped: sub(self.clamped, earlier.clamped),
            longest_poll: self.longest_poll,
            cancelled: sub(self.cancelled, earlier.cancelled),
            panicked: sub(self.panicked, earlier.panicked),
            slow_polls: sub(self.slow_polls, earlier.slow_polls),
            blocked_polls: sub(self.blocked_polls, earlier.blocked_polls),
            abandoned_nanos: sub(self.abandoned_nanos, earlier.abandoned_nanos),
            // A gauge: how many are in flight now.
            in_flight: self.in_flight,
            // Wrapping: runs in flight then may have settled since, making
            // this difference negative; `poll_nanos` adds it back.
            in_flight_nanos: self.in_flight_nanos.wrapping_sub(earlier.in_flight_nanos),
            sampled_polls: sub(self.sampled_polls, earlier.sampled_polls),
            sampled_wall_nanos: sub(self.sampled_wall_nanos, earlier.sampled_wall_nanos),
            sampled_cpu_nanos: sub(self.sampled_cpu_nanos, earlier.sampled_cpu_nanos),
            bytes: sub(self.bytes, earlier.bytes),
        }
    }

    /// Every poll's time: the samples', the abandoned runs', and what the
    /// runs in flight have flushed.
    pub(crate) fn poll_nanos(&self) -> u64 {
        self.busy_nanos
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
        totals.add_run(&RunSample::single(u64::MAX), false, true);
        totals.add_run(&RunSample::single(1), false, false);
        assert_eq!(
            (totals.runs, totals.busy_nanos, totals.clamped),
            (2, u64::MAX, 1)
        );
        assert_eq!(totals.wall_nanos(), u64::MAX);
        let mut merged = totals;
        merged.merge(&totals);
        assert_eq!(merged.busy_nanos, u64::MAX);
        assert_eq!(merged.since(&totals).runs, 2);
    }
}
