//! The state of one run, kept inside the timed future, and the scope of one
//! timed poll. This is the per-poll hot path: two clock reads, a
//! thread-local, and arithmetic on the future's own fields.

use std::time::Duration;

use crate::clock::{ticks_between, Clock};
use crate::task::{self, Entered};
use crate::timer::TimerCore;

/// Busy time, wall time, polls and outcome of one run: 32 bytes.
#[derive(Debug)]
pub(crate) struct Run {
    /// Sum of poll times so far, in clock ticks.
    busy: u64,
    /// Clock reading at the start of the first poll.
    first_poll: u64,
    /// Nanoseconds of timed futures' polls nested inside this run's polls.
    nested: u64,
    /// Polls so far (low bits) and the run's state (top bits), in one word
    /// to keep the wrapper small.
    polls_state: u32,
    /// The longest poll so far, in ticks, saturating at `u32::MAX` (about a
    /// second of TSC): half the room of a `u64`. Polls that long are slow
    /// polls, whose exact length the timer keeps on the slow path.
    longest_poll: u32,
}

/// A completed run in clock ticks, for [`TimerCore::record_ticks`](crate::timer::TimerCore::record_ticks).
pub(crate) struct RunTicks {
    pub(crate) busy: u64,
    pub(crate) first_poll: u64,
    pub(crate) end: u64,
    pub(crate) polls: u64,
    pub(crate) longest_poll: u64,
    pub(crate) nested_nanos: u64,
}

/// A run accumulated from outside a future: a span's enters (the tracing
/// layer) or a task's polls (the task hooks). Plain `u64`s: unlike [`Run`],
/// it does not live inside every timed future, so it need not be small.
#[cfg(any(feature = "tracing", all(feature = "tokio-unstable", tokio_unstable)))]
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Clock reading at the start of the first poll; `None`: never polled,
    /// not a run.
    first_poll: Option<u64>,
    busy: u64,
    polls: u64,
    longest: u64,
}

#[cfg(any(feature = "tracing", all(feature = "tokio-unstable", tokio_unstable)))]
impl Tally {
    /// A poll (or outermost enter) from clock reading `start` to `end`.
    pub(crate) fn add_poll(&mut self, start: u64, end: u64) {
        let poll = ticks_between(start, end);
        self.first_poll.get_or_insert(start);
        self.busy = self.busy.saturating_add(poll);
        self.polls += 1;
        self.longest = self.longest.max(poll);
    }

    /// The run, ended at clock reading `end`; `None` if it was never polled.
    pub(crate) fn ended(&self, end: u64) -> Option<RunTicks> {
        Some(RunTicks {
            busy: self.busy,
            first_poll: self.first_poll?,
            end,
            polls: self.polls,
            longest_poll: self.longest,
            nested_nanos: 0,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
enum State {
    /// Not polled yet: not a run.
    Idle = 0,
    /// Polled, not finished.
    Running = 1,
    /// Its registry was switched off during the run: not recorded, since
    /// part of its busy time went unmeasured.
    Untimed = 2,
    /// A poll panicked.
    Panicked = 3,
    /// Returned `Ready` and was recorded.
    Done = 4,
}

const STATE_SHIFT: u32 = 29;
const POLLS_MASK: u32 = (1 << STATE_SHIFT) - 1;

impl Run {
    pub(crate) const fn new() -> Self {
        Run {
            busy: 0,
            first_poll: 0,
            nested: 0,
            polls_state: 0,
            longest_poll: 0,
        }
    }

    #[inline(always)]
    fn state(&self) -> State {
        match self.polls_state >> STATE_SHIFT {
            0 => State::Idle,
            1 => State::Running,
            2 => State::Untimed,
            3 => State::Panicked,
            _ => State::Done,
        }
    }

    #[inline(always)]
    fn set_state(&mut self, state: State) {
        self.polls_state = (self.polls_state & POLLS_MASK) | ((state as u32) << STATE_SHIFT);
    }

    #[inline(always)]
    fn polls(&self) -> u32 {
        self.polls_state & POLLS_MASK
    }

    /// Whether the poll about to start is timed.
    #[inline(always)]
    pub(crate) fn begin_poll(&mut self, core: &TimerCore) -> bool {
        // Most polls are of a running run of an enabled timer, or of one
        // that will not be timed again: one compare each.
        let state = self.polls_state >> STATE_SHIFT;
        if state == State::Running as u32 {
            if core.is_enabled() {
                return true;
            }
        } else if state >= State::Untimed as u32 {
            return false;
        }
        self.begin_poll_slow(core)
    }

    #[cold]
    fn begin_poll_slow(&mut self, core: &TimerCore) -> bool {
        match self.state() {
            State::Idle | State::Running => {
                if core.is_enabled() {
                    self.set_state(State::Running);
                    true
                } else {
                    self.set_state(State::Untimed);
                    false
                }
            }
            State::Untimed | State::Panicked | State::Done => false,
        }
    }

    /// The run returned `Ready` at clock reading `end`: record it, once.
    #[inline]
    pub(crate) fn complete(&mut self, core: &TimerCore, end: u64, is_error: bool) {
        self.set_state(State::Done);
        let ticks = RunTicks {
            busy: self.busy,
            first_poll: self.first_poll,
            end,
            polls: u64::from(self.polls()),
            longest_poll: u64::from(self.longest_poll),
            nested_nanos: self.nested,
        };
        core.record_ticks(ticks, is_error);
    }

    /// The future is being dropped: count a run that did not complete.
    pub(crate) fn end(&mut self, core: &TimerCore) {
        match self.state() {
            State::Running => core.count_cancelled(),
            State::Panicked => core.count_panicked(),
            State::Idle | State::Untimed | State::Done => {}
        }
    }

    /// A stream yielded an item (recorded by `complete`, or untimed): the
    /// next poll starts the next item's run.
    #[inline]
    pub(crate) fn next_item(&mut self) {
        *self = Run::new();
    }

    /// A stream ended: the polls that reached the end are not a run, and
    /// none follows.
    pub(crate) fn stream_ended(&mut self) {
        if self.state() == State::Running {
            self.set_state(State::Done);
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
    core: &'a TimerCore,
    start: u64,
    entered: Entered,
    /// Thread CPU time at the start, when this poll is sampled for blocking.
    cpu_start: Option<u64>,
    returned: bool,
}

impl<'a> PollScope<'a> {
    #[inline(always)]
    pub(crate) fn enter(run: &'a mut Run, core: &'a TimerCore) -> Self {
        let start = core.clock().raw();
        if run.polls() == 0 {
            run.first_poll = start;
        }
        let entered = task::enter(core.clock(), run.busy, start);
        PollScope {
            cpu_start: core.sample_cpu(),
            run,
            core,
            start,
            entered,
            returned: false,
        }
    }

    /// The inner poll returned: add its time to the run. Returns the clock
    /// reading at the end of the poll.
    #[inline(always)]
    pub(crate) fn exit(mut self) -> u64 {
        let clock = self.core.clock();
        let end = clock.raw();
        let poll = ticks_between(self.start, end);
        let nested = task::leave(self.entered, || clock.ticks_to_nanos(poll));
        self.returned = true;
        let run = &mut *self.run;
        run.busy = run.busy.wrapping_add(poll);
        run.nested = run.nested.wrapping_add(nested);
        if run.polls() < POLLS_MASK {
            run.polls_state += 1;
        }
        if poll > u64::from(run.longest_poll) {
            run.longest_poll = u32::try_from(poll).unwrap_or(u32::MAX);
        }
        if poll > self.core.slow_poll_ticks() {
            self.core.slow_poll(poll);
        }
        if let Some(cpu_start) = self.cpu_start {
            self.core.check_blocked(poll, cpu_start);
        }
        end
    }
}

impl Drop for PollScope<'_> {
    /// Runs only when the inner poll unwinds (`exit` marks a return): leave
    /// no frame behind on this thread, and remember that the run panicked.
    #[inline(always)]
    fn drop(&mut self) {
        if !self.returned {
            task::unwind(self.entered);
            self.run.set_state(State::Panicked);
        }
    }
}
