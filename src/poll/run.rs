//! The state of one run, kept inside the timed future, and the scope of one
//! timed poll. This is the per-poll hot path: two clock reads (and with the
//! CPU clock, a wall read), a thread-local, and arithmetic on the future's
//! own fields.

use std::time::Duration;

use crate::alloc::thread::{self as allocations, Mark};
use crate::clock::{ticks_between, Clock};
use crate::poll::allocations::RunAllocations;
use crate::poll::frame::{self, Entered};
use crate::poll::parts::PartsBox;
use crate::poll::wake_marks;
use crate::record::{AllocationSample, End};
use crate::state::timer::{RunTicks, TimerCore, FLUSH_SHIFT};

/// Busy time, wall time, polls, allocations and outcome of one run: 64
/// bytes.
#[derive(Debug)]
pub(crate) struct Run {
    /// Sum of poll times so far, in clock ticks.
    busy: u64,
    /// Wall reading at the start of the first poll.
    first_poll: u64,
    /// Where its nested time and idle time went, per timed child: none
    /// until a timed child (or sync section) runs inside one of its
    /// polls. Their busy time is the run's nested time.
    parts: PartsBox,
    /// Polls so far (low bits), whether the run counts in flight, and the
    /// run's state (top bits), in one word to keep the wrapper small.
    polls_state: u32,
    /// The longest poll so far, in ticks, saturating at `u32::MAX` (about a
    /// second of TSC): half the room of a `u64`. Polls that long are slow
    /// polls, whose exact length the timer keeps on the slow path.
    longest_poll: u32,
    /// Busy time already flushed to the timer, in units of
    /// 2^[`FLUSH_SHIFT`] ticks (2^48 ticks in all, over a day of TSC; past
    /// that, the rest waits for the run's end). Half the room of a `u64`.
    flushed: u32,
    /// When the next poll's end flushes: wall time since the first poll, in
    /// units of 2^[`FLUSH_SHIFT`] ticks, compared wrapping. One compare per
    /// poll, a flush at most every [`FLUSH_EVERY`](crate::state::timer::FLUSH_EVERY) of wall time.
    next_flush: u32,
    /// What its polls allocated, with a counting allocator installed.
    allocations: RunAllocations,
}

// The wrapper stays small: a run's parts are one pointer, null for a run
// with no timed child; its allocation marks 24 bytes.
const _: () = assert!(std::mem::size_of::<Run>() == 64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
enum State {
    /// Not polled yet: not a run.
    Idle = 0,
    /// Polled, not finished.
    Running = 1,
    /// Polled, not finished, and sampled for scheduling delay.
    Sampled = 2,
    /// Its registry was switched off during the run: not recorded, since
    /// part of its busy time went unmeasured.
    Untimed = 3,
    /// A poll panicked.
    Panicked = 4,
    /// Returned `Ready` and was recorded.
    Done = 5,
    /// Dropped before `Ready`, its future being dropped: what that
    /// allocates counts for it.
    Cancelling = 6,
}

/// How the poll about to start is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Begin {
    /// Not timed.
    Untimed,
    /// Timed.
    Timed,
    /// Timed, with its scheduling delay (see `crate::poll::scheduled`).
    Sampled,
}

const STATE_SHIFT: u32 = 29;
/// Set once the run has flushed, counting it in flight.
const IN_FLIGHT: u32 = 1 << 28;
const POLLS_MASK: u32 = IN_FLIGHT - 1;
const STATE_MASK: u32 = !((1 << STATE_SHIFT) - 1);

impl Run {
    pub(crate) const fn new() -> Self {
        Run {
            busy: 0,
            first_poll: 0,
            parts: PartsBox::NONE,
            flushed: 0,
            next_flush: 0,
            polls_state: 0,
            longest_poll: 0,
            allocations: RunAllocations::new(),
        }
    }

    #[inline(always)]
    fn in_flight(&self) -> bool {
        self.polls_state & IN_FLIGHT != 0
    }

    /// Whether the run has left nothing in its timer yet (no busy time
    /// flushed in flight, no scheduling delay: polled at most once), so
    /// that it may still be recorded into another timer whole.
    #[cfg(feature = "tower")]
    pub(crate) fn is_unrecorded(&self) -> bool {
        !self.in_flight() && self.polls() <= 1
    }

    /// Busy ticks flushed so far.
    fn flushed_ticks(&self) -> u64 {
        u64::from(self.flushed) << FLUSH_SHIFT
    }

    /// Units of wall time since the first poll, at wall reading `now`.
    #[inline(always)]
    fn since_first_poll(&self, now: u64) -> u32 {
        // Truncating: the flush deadline is compared wrapping.
        (now.wrapping_sub(self.first_poll) >> FLUSH_SHIFT) as u32
    }

    /// Whether a poll ending at wall reading `now` flushes.
    #[inline(always)]
    fn flush_due(&self, now: u64) -> bool {
        // Wrapping: right while polls come less than 2^31 units apart
        // (13 hours of TSC); a later poll may flush late, never wrongly.
        (self.since_first_poll(now).wrapping_sub(self.next_flush) as i32) >= 0
    }

    /// Hands the busy time since the last flush to the timer, counting the
    /// run in flight from its first flush; the next one is due
    /// [`FLUSH_EVERY`](crate::state::timer::FLUSH_EVERY) after `now` (a wall reading).
    #[cold]
    #[inline(never)]
    fn flush(&mut self, core: &TimerCore, now: u64) {
        self.next_flush = self.since_first_poll(now).wrapping_add(core.flush_units());
        let units = u32::try_from(self.busy >> FLUSH_SHIFT).unwrap_or(u32::MAX);
        let to = u64::from(units) << FLUSH_SHIFT;
        if core.flush(self.flushed_ticks(), to, !self.in_flight()) {
            self.flushed = units;
            self.polls_state |= IN_FLIGHT;
        }
    }

    /// A run that ends without a sample: its busy time and what it flushed.
    /// A cancelled or panicked run's parts still count in their paths.
    fn end_without_sample(&mut self, core: &TimerCore, end: End) {
        core.end_run(end, self.busy, self.flushed_ticks(), self.in_flight());
        if !self.parts.is_none() {
            if end != End::Untimed {
                core.record_parts(self.parts.get());
            }
            self.parts.release();
        }
    }

    #[inline(always)]
    fn state(&self) -> State {
        match self.polls_state >> STATE_SHIFT {
            0 => State::Idle,
            1 => State::Running,
            2 => State::Sampled,
            3 => State::Untimed,
            4 => State::Panicked,
            5 => State::Done,
            _ => State::Cancelling,
        }
    }

    #[inline(always)]
    fn set_state(&mut self, state: State) {
        self.polls_state = (self.polls_state & !STATE_MASK) | ((state as u32) << STATE_SHIFT);
    }

    #[inline(always)]
    fn polls(&self) -> u32 {
        self.polls_state & POLLS_MASK
    }

    /// How the poll about to start is timed. `SAMPLE`: whether the run may
    /// be sampled for scheduling delay (a future's may; a stream item's not).
    #[inline(always)]
    pub(crate) fn begin_poll<const SAMPLE: bool>(&mut self, core: &TimerCore) -> Begin {
        // Most polls are of a running run of an enabled timer, or of one
        // that will not be timed again: one compare each.
        let state = self.polls_state >> STATE_SHIFT;
        if state == State::Running as u32 {
            if core.is_enabled() {
                return Begin::Timed;
            }
        } else if state >= State::Untimed as u32 {
            return Begin::Untimed;
        } else if state == State::Idle as u32
            && (!SAMPLE || core.scheduling_every() == 0)
            && core.is_enabled()
        {
            // A run's first poll, not sampled for scheduling delay (the
            // default): it starts running.
            self.set_state(State::Running);
            return Begin::Timed;
        }
        self.begin_poll_slow::<SAMPLE>(core)
    }

    #[cold]
    fn begin_poll_slow<const SAMPLE: bool>(&mut self, core: &TimerCore) -> Begin {
        let state = self.state();
        match state {
            State::Idle | State::Running | State::Sampled => {
                if core.is_enabled() {
                    if state == State::Idle {
                        let every = core.scheduling_every();
                        let sampled = SAMPLE && every > 0 && wake_marks::sample_this_run(every);
                        self.set_state(if sampled {
                            State::Sampled
                        } else {
                            State::Running
                        });
                    }
                    if self.state() == State::Sampled {
                        Begin::Sampled
                    } else {
                        Begin::Timed
                    }
                } else {
                    // Switched off mid-run: what it spent so far still
                    // counts in `poll_total`, not as a sample.
                    if state != State::Idle {
                        self.end_without_sample(core, End::Untimed);
                    }
                    self.leave(State::Untimed);
                    Begin::Untimed
                }
            }
            State::Untimed | State::Panicked | State::Done | State::Cancelling => Begin::Untimed,
        }
    }

    /// The run is about to move (a response's run carried on by its
    /// body): its scheduling-delay mark, keyed by where it lives, goes, and
    /// it carries on as a plain timed run.
    #[cfg(feature = "tower")]
    pub(crate) fn unsample(&mut self) {
        if self.state() == State::Sampled {
            wake_marks::forget(self.key());
            self.set_state(State::Running);
        }
    }

    /// Where this run lives while polled: the key of its scheduling-delay
    /// mark.
    pub(crate) fn key(&self) -> usize {
        self as *const Run as usize
    }

    /// Moves to a state the run does not leave, dropping its
    /// scheduling-delay mark if it had one.
    #[inline(always)]
    fn leave(&mut self, state: State) {
        if self.polls_state >> STATE_SHIFT == State::Sampled as u32 {
            self.forget_mark();
        }
        self.set_state(state);
    }

    #[cold]
    #[inline(never)]
    fn forget_mark(&self) {
        wake_marks::forget(self.key());
    }

    /// The run returned `Ready` at clock reading `end`: record it, once.
    /// Inline, to choose between the out-of-line ways of recording it, so
    /// that each has its own registers and a call is all the others pay.
    #[inline(always)]
    pub(crate) fn complete(&mut self, core: &TimerCore, end: u64, is_error: bool) {
        // With a counting allocator, out of line: without, the completion
        // compiles as if allocations did not exist (`None` all the way).
        if allocations::installed() {
            return self.complete_counted(core, end, is_error);
        }
        if self.is_one_poll(end) {
            return self.complete_one_poll(core, is_error);
        }
        self.complete_polls(core, end, is_error);
    }

    /// A completed run of one poll (see [`is_one_poll`](Run::is_one_poll)):
    /// its busy, wall and longest poll are one value, so one conversion
    /// and one counter index, as a sync section's.
    #[inline(never)]
    fn complete_one_poll(&mut self, core: &TimerCore, is_error: bool) {
        self.leave(State::Done);
        let nanos = core.clock().ticks_to_nanos(self.busy);
        core.record_one_poll(nanos, is_error);
    }

    /// Any other completed run (more polls, parts, flushed).
    #[inline(never)]
    fn complete_polls(&mut self, core: &TimerCore, end: u64, is_error: bool) {
        self.leave(State::Done);
        core.record_ticks(self.ticks(end, None), is_error, self.parts.get());
        if !self.parts.is_none() {
            self.release_parts(core);
        }
    }

    /// Whether the run, ending at wall reading `end`, was one poll whose
    /// time is also its wall time and its longest poll, with nothing
    /// nested and nothing flushed: what [`RunSample::single`] describes.
    /// (Not with the CPU clock, whose wall readings are another clock's,
    /// nor for a poll past 32 bits of ticks, whose longest poll saturates.)
    ///
    /// [`RunSample::single`]: crate::record::RunSample
    #[inline(always)]
    fn is_one_poll(&self, end: u64) -> bool {
        // One poll and not in flight (so nothing flushed) in one compare.
        (self.polls_state & (POLLS_MASK | IN_FLIGHT)) == 1
            && self.parts.is_none()
            && ticks_between(self.first_poll, end) == self.busy
            && u64::from(self.longest_poll) == self.busy
    }

    /// [`complete`](Run::complete) with the run's allocations.
    #[inline(never)]
    fn complete_counted(&mut self, core: &TimerCore, end: u64, is_error: bool) {
        self.leave(State::Done);
        let allocations = self.allocations.sample();
        core.record_ticks(self.ticks(end, allocations), is_error, self.parts.get());
        if !self.parts.is_none() {
            self.release_parts(core);
        }
    }

    #[inline(always)]
    fn ticks(&self, end: u64, allocations: Option<AllocationSample>) -> RunTicks {
        RunTicks {
            busy: self.busy,
            flushed: self.flushed_ticks(),
            in_flight: self.in_flight(),
            first_poll: self.first_poll,
            end,
            polls: u64::from(self.polls()),
            longest_poll: u64::from(self.longest_poll),
            allocations,
        }
    }

    /// A completed run had parts: they count in their paths, and their
    /// buffer goes back to this thread's free list.
    #[cold]
    #[inline(never)]
    fn release_parts(&mut self, core: &TimerCore) {
        core.record_parts(self.parts.get());
        self.parts.release();
    }

    /// The future is being dropped: count a run that did not complete,
    /// keeping its busy time.
    #[inline(always)]
    pub(crate) fn end(&mut self, core: &TimerCore) {
        // Most runs end recorded: one compare.
        if self.polls_state >> STATE_SHIFT == State::Done as u32 {
            return;
        }
        self.end_unfinished(core);
    }

    #[cold]
    #[inline(never)]
    fn end_unfinished(&mut self, core: &TimerCore) {
        let (end, allocated) = match self.state() {
            State::Running | State::Sampled => (End::Cancelled, self.allocations.so_far()),
            State::Cancelling => (End::Cancelled, self.allocations.end_drop()),
            State::Panicked => (End::Panicked, self.allocations.so_far()),
            State::Idle | State::Untimed | State::Done => return,
        };
        self.leave(State::Done);
        if matches!(end, End::Cancelled) && self.polls() > 0 {
            frame::cancelled(core);
        }
        self.end_without_sample(core, end);
        if allocations::installed() {
            core.abandoned_allocations(allocated);
        }
    }

    /// The future of this run is about to be dropped, the run with it
    /// (at [`end`](Run::end)): if it did not finish, what the drop
    /// allocates counts for it. Nothing without a counting allocator.
    #[inline(always)]
    pub(crate) fn dropping(&mut self) {
        // Most runs are dropped recorded: one compare, as in `end`.
        if self.polls_state >> STATE_SHIFT != State::Done as u32 {
            self.dropping_unfinished();
        }
    }

    #[cold]
    #[inline(never)]
    fn dropping_unfinished(&mut self) {
        if matches!(self.state(), State::Running | State::Sampled) && self.allocations.begin_drop()
        {
            self.leave(State::Cancelling);
        }
    }

    /// A stream yielded an item (recorded by `complete`, or untimed): the
    /// next poll starts the next item's run.
    #[inline]
    pub(crate) fn next_item(&mut self) {
        self.parts.release();
        *self = Run::new();
    }

    /// A stream ended: the polls that reached the end are not a run, and
    /// none follows.
    pub(crate) fn stream_ended(&mut self, core: &TimerCore) {
        if self.state() == State::Running {
            self.end_without_sample(core, End::Untimed);
            self.set_state(State::Done);
        }
    }

    /// A poll timed from outside a future, from raw clock reading `start`
    /// to `end`: a span's outermost enter to its exit (the tracing layer),
    /// a task's poll (tokio's task hooks). Counted, and flushed while in
    /// flight, by the same rule as a future's polls; no frame on the
    /// thread, no sampling. `slow_polls`: whether a poll past the
    /// threshold counts (and warns) as a slow poll, as a task's does; a
    /// span's enter does not (a long sync span is not a stalled executor).
    #[cfg(any(feature = "tracing", all(feature = "tokio-unstable", tokio_unstable)))]
    pub(crate) fn add_poll(&mut self, core: &TimerCore, start: u64, end: u64, slow_polls: bool) {
        if !matches!(self.begin_poll::<false>(core), Begin::Timed) {
            return;
        }
        let clock = core.clock();
        if self.polls() == 0 {
            self.first_poll = clock.wall_at(start);
            self.next_flush = core.flush_units();
        }
        let poll = ticks_between(start, end);
        self.busy = self.busy.wrapping_add(poll);
        if self.polls() < POLLS_MASK {
            self.polls_state += 1;
        }
        if poll > u64::from(self.longest_poll) {
            self.longest_poll = u32::try_from(poll).unwrap_or(u32::MAX);
        }
        if slow_polls && poll > core.slow_poll_ticks() {
            core.slow_poll(poll);
        }
        let end = clock.wall_at(end);
        if self.flush_due(end) {
            self.flush(core, end);
        }
    }

    /// The span closed or the task ended: one completed run, now, if it was
    /// polled and timed (switched off mid-run, its time was already kept
    /// in `poll_total`).
    #[cfg(any(feature = "tracing", all(feature = "tokio-unstable", tokio_unstable)))]
    pub(crate) fn finish(&mut self, core: &TimerCore) {
        if self.state() != State::Running {
            return;
        }
        if core.is_enabled() {
            // Its polls were timed from outside (a span, a task hook),
            // without reading the allocation counters: none are claimed.
            self.leave(State::Done);
            let end = core.clock().wall_now();
            core.record_ticks(self.ticks(end, None), false, self.parts.get());
            if !self.parts.is_none() {
                self.release_parts(core);
            }
        } else {
            // Switched off before it ended: its time counts, not a sample.
            self.end_without_sample(core, End::Untimed);
            self.leave(State::Done);
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
    /// What only some timers read at a poll's start: `None` for the
    /// others, one branch on entry and none more on exit.
    extras: Option<Extras>,
    returned: bool,
}

/// Readings some timers take at each poll's start.
#[derive(Clone, Copy)]
struct Extras {
    /// When this poll is sampled for blocking, the other clock's reading at
    /// its start (the thread's CPU time, or with the CPU clock, wall time).
    other_start: Option<u64>,
    /// The thread's allocation counters at its start, with a counting
    /// allocator installed.
    allocations: Option<Mark>,
}

impl<'a> PollScope<'a> {
    #[inline(always)]
    pub(crate) fn enter(run: &'a mut Run, core: &'a TimerCore) -> Self {
        let start = core.clock().raw();
        if run.polls() == 0 {
            run.first_poll = core.clock().wall_at(start);
            run.next_flush = core.flush_units();
        }
        let parts = run.parts.lend();
        let entered = frame::enter(core.clock(), core, run.busy, start, parts);
        // Blocking detection or a counting allocator: one flag of the timer,
        // on the line the poll reads anyway.
        let extras = core.has_poll_extras().then(|| Extras {
            other_start: core.sample_other(),
            allocations: allocations::enter(),
        });
        PollScope {
            extras,
            run,
            core,
            start,
            entered,
            returned: false,
        }
    }

    /// The inner poll returned (`pending`: `Pending`): add its time to the
    /// run, and flush it to the timer if one is due. Returns the wall
    /// reading at the end of the poll.
    #[inline(always)]
    pub(crate) fn exit(mut self, pending: bool) -> u64 {
        let clock = self.core.clock();
        let end = clock.raw();
        let poll = ticks_between(self.start, end);
        let first = self.run.polls() == 0;
        let parts = frame::leave(self.entered, || clock.ticks_to_nanos(poll), pending, first);
        self.returned = true;
        let run = &mut *self.run;
        run.busy = run.busy.wrapping_add(poll);
        if run.polls() < POLLS_MASK {
            run.polls_state += 1;
        }
        if poll > u64::from(run.longest_poll) {
            run.longest_poll = u32::try_from(poll).unwrap_or(u32::MAX);
        }
        let end = clock.wall_at(end);
        if !parts.is_null() {
            run.parts.keep(parts);
            // SAFETY: the run's own, handed back by the frame.
            unsafe { (*parts).last_end = end };
        }
        // One branch for everything rare: a slow poll, a poll sampled for
        // blocking, a flush, allocations to count.
        let core = self.core;
        if (poll > core.slow_poll_ticks()) | self.extras.is_some() | run.flush_due(end) {
            after_poll(run, core, poll, end, self.extras);
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
            unwound(self.run, self.core, self.start, self.entered);
        }
    }
}

// The two cold paths of a poll take plain values, never the `PollScope`:
// a reference to it would keep it in memory, and copying it costs the
// common poll a store-forwarding stall (8 ns here).

/// The rare work after a poll of `poll` ticks ending at wall reading `end`:
/// a slow poll, a poll sampled for blocking, a flush.
/// With a counting allocator, every poll comes here: what it allocated,
/// from the thread's counters at its start (in `extras`).
#[cold]
#[inline(never)]
fn after_poll(run: &mut Run, core: &TimerCore, poll: u64, end: u64, extras: Option<Extras>) {
    let Extras {
        other_start,
        allocations,
    } = extras.unwrap_or(Extras {
        other_start: None,
        allocations: None,
    });
    if let Some(mark) = allocations {
        run.allocations.add_poll(mark);
    }
    if poll > core.slow_poll_ticks() {
        core.slow_poll(poll);
    }
    if let Some(other_start) = other_start {
        core.check_blocked(poll, other_start);
    }
    if run.flush_due(end) {
        run.flush(core, end);
    }
}

/// The inner poll that started at `start` panicked.
#[cold]
#[inline(never)]
fn unwound(run: &mut Run, core: &TimerCore, start: u64, entered: Entered) {
    // The panicking poll's time was spent too: `poll_total` keeps it.
    let poll = ticks_between(start, core.clock().raw());
    let first = run.polls() == 0;
    let nanos = core.clock().ticks_to_nanos(poll);
    run.parts.keep(frame::unwind(entered, nanos, first));
    run.busy = run.busy.wrapping_add(poll);
    run.leave(State::Panicked);
}
