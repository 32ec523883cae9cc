//! The state of one run, kept inside the timed future, and the scope of one
//! timed poll. This is the per-poll hot path: two clock reads, a
//! thread-local check, and arithmetic on the future's own fields.

use std::time::Duration;

use crate::clock::{ticks_between, Clock};
use crate::task;
use crate::timer::TimerCore;

/// Busy time and outcome of one run.
#[derive(Debug)]
pub(crate) struct Run {
    /// Sum of poll times so far, in clock ticks.
    busy: u64,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not polled yet: not a run.
    Idle,
    /// Polled, not finished.
    Running,
    /// Its registry was switched off during the run: not recorded, since
    /// part of its busy time went unmeasured.
    Untimed,
    /// A poll panicked.
    Panicked,
    /// Returned `Ready` and was recorded.
    Done,
}

impl Run {
    pub(crate) const fn new() -> Self {
        Run {
            busy: 0,
            state: State::Idle,
        }
    }

    /// Whether the poll about to start is timed.
    #[inline(always)]
    pub(crate) fn begin_poll(&mut self, core: &TimerCore) -> bool {
        match self.state {
            State::Idle | State::Running => {
                if core.is_enabled() {
                    self.state = State::Running;
                    true
                } else {
                    self.state = State::Untimed;
                    false
                }
            }
            State::Untimed | State::Panicked | State::Done => false,
        }
    }

    /// The run returned `Ready`: record it, once.
    #[inline]
    pub(crate) fn complete(&mut self, core: &TimerCore) {
        self.state = State::Done;
        core.record_ticks(self.busy);
    }

    /// The future is being dropped: count a run that did not complete.
    pub(crate) fn end(&mut self, core: &TimerCore) {
        match self.state {
            State::Running => core.count_cancelled(),
            State::Panicked => core.count_panicked(),
            State::Idle | State::Untimed | State::Done => {}
        }
    }

    /// Busy time so far.
    pub(crate) fn busy(&self, clock: &Clock) -> Duration {
        Duration::from_nanos(clock.ticks_to_nanos(self.busy))
    }
}

/// One timed poll: reads the clock on entry and on exit, and holds the task
/// perf counter's frame while the inner future runs.
pub(crate) struct PollScope<'a> {
    run: &'a mut Run,
    clock: &'a Clock,
    start: u64,
    outermost: bool,
    returned: bool,
}

impl<'a> PollScope<'a> {
    #[inline(always)]
    pub(crate) fn enter(run: &'a mut Run, clock: &'a Clock) -> Self {
        let start = clock.raw();
        let outermost = task::enter(clock, run.busy, start);
        PollScope {
            run,
            clock,
            start,
            outermost,
            returned: false,
        }
    }

    /// The inner poll returned: add its time to the run.
    #[inline(always)]
    pub(crate) fn exit(mut self) {
        let end = self.clock.raw();
        self.run.busy = self.run.busy.wrapping_add(ticks_between(self.start, end));
        self.returned = true;
    }
}

impl Drop for PollScope<'_> {
    /// Leaves no frame behind on this thread, whether the inner poll returned
    /// or unwound; an unwind marks the run as panicked.
    #[inline(always)]
    fn drop(&mut self) {
        if self.outermost {
            task::leave();
        }
        if !self.returned {
            self.run.state = State::Panicked;
        }
    }
}
