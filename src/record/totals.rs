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

/// Something counted that is not a completed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// A run dropped before `Ready`.
    Cancelled,
    /// A run ended by a panic.
    Panicked,
    /// A poll past the slow-poll threshold, of this many nanoseconds.
    SlowPoll(u64),
    /// A sampled poll found blocked.
    Blocked,
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
    }

    /// Counts one event.
    pub(crate) fn add_event(&mut self, event: Event) {
        match event {
            Event::Cancelled => self.cancelled += 1,
            Event::Panicked => self.panicked += 1,
            Event::Blocked => self.blocked_polls += 1,
            Event::SlowPoll(nanos) => {
                self.slow_polls += 1;
                self.longest_poll = self.longest_poll.max(nanos);
            }
        }
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
        }
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
