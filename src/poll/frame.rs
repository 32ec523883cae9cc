//! The task perf counter: which timed future is the outermost one being
//! polled on this thread, and its busy time before this poll; and the
//! innermost one's timer, where `add_bytes` counts.
//!
//! The frame lives in a thread-local only for the length of one poll: it is
//! set when the outermost timed future enters `poll` and cleared when it
//! leaves (or unwinds), so a task that moves to another worker thread carries
//! all its state in the future itself.

use std::cell::Cell;
use std::time::Duration;

use crate::clock::{ticks_between, Clock};
use crate::state::timer::TimerCore;

#[derive(Clone, Copy)]
struct Frame {
    /// Null when no timed future is being polled on this thread.
    clock: *const Clock,
    busy_before: u64,
    poll_start: u64,
    /// Nanoseconds of timed polls nested inside the innermost timed poll in
    /// progress, for its self time.
    nested: u64,
    /// The timer of the innermost timed run being polled: where bytes added
    /// now go. Only compared and handed back here, never read.
    innermost: *const TimerCore,
}

impl Frame {
    const NONE: Frame = Frame {
        clock: std::ptr::null(),
        busy_before: 0,
        poll_start: 0,
        nested: 0,
        innermost: std::ptr::null(),
    };
}

thread_local! {
    static TASK: Cell<Frame> = const { Cell::new(Frame::NONE) };
}

/// What a timed poll must hand back to [`leave`] or [`unwind`].
#[derive(Clone, Copy)]
pub(crate) struct Entered {
    outermost: bool,
    /// The enclosing poll's nested time, set aside while this poll runs.
    saved_nested: u64,
    /// The enclosing poll's timer, back once this poll ends.
    saved_innermost: *const TimerCore,
}

/// Enters a timed poll starting at `poll_start`. The outermost one on this
/// thread becomes the task's frame; inner ones start their own nested count.
#[inline(always)]
pub(crate) fn enter(
    clock: &Clock,
    timer: *const TimerCore,
    busy_before: u64,
    poll_start: u64,
) -> Entered {
    TASK.with(|task| {
        let mut frame = task.get();
        if frame.clock.is_null() {
            task.set(Frame {
                clock,
                busy_before,
                poll_start,
                nested: 0,
                innermost: timer,
            });
            Entered {
                outermost: true,
                saved_nested: 0,
                saved_innermost: std::ptr::null(),
            }
        } else {
            let saved_nested = std::mem::take(&mut frame.nested);
            let saved_innermost = std::mem::replace(&mut frame.innermost, timer);
            task.set(frame);
            Entered {
                outermost: false,
                saved_nested,
                saved_innermost,
            }
        }
    })
}

/// Leaves a timed poll that took `poll_nanos`; returns the nanoseconds of
/// timed polls nested inside it, and counts this poll as nested time of the
/// enclosing one.
#[inline(always)]
pub(crate) fn leave(entered: Entered, poll_nanos: impl FnOnce() -> u64) -> u64 {
    TASK.with(|task| {
        let mut frame = task.get();
        let nested = frame.nested;
        if entered.outermost {
            task.set(Frame::NONE);
        } else {
            frame.nested = entered.saved_nested + poll_nanos();
            frame.innermost = entered.saved_innermost;
            task.set(frame);
        }
        nested
    })
}

/// The timer of the innermost timed run being polled on this thread, as
/// handed to [`enter`]; null outside a timed poll.
pub(crate) fn innermost_timer() -> *const TimerCore {
    TASK.with(Cell::get).innermost
}

/// The outermost timed poll in progress on this thread, named by the
/// reading at its start; `None` outside any.
pub(crate) fn current_poll() -> Option<u64> {
    let frame = TASK.with(Cell::get);
    (!frame.clock.is_null()).then_some(frame.poll_start)
}

/// A timed sync section of `nanos` that began inside `poll` (from
/// [`current_poll`]) has ended: if that poll is still the one in progress,
/// the section is time nested inside it, so that the enclosing run's self
/// time leaves it out. A section held across an `.await` ends in another
/// poll and is not counted.
pub(crate) fn section_ended(poll: u64, nanos: u64) {
    TASK.with(|task| {
        let mut frame = task.get();
        if !frame.clock.is_null() && frame.poll_start == poll {
            frame.nested = frame.nested.saturating_add(nanos);
            task.set(frame);
        }
    })
}

/// A timed poll is unwinding: put the frame back as it was before it.
pub(crate) fn unwind(entered: Entered) {
    TASK.with(|task| {
        if entered.outermost {
            task.set(Frame::NONE);
        } else {
            let mut frame = task.get();
            frame.nested = entered.saved_nested;
            frame.innermost = entered.saved_innermost;
            task.set(frame);
        }
    })
}

/// The busy time so far of the current task: the outermost timed future
/// being polled on this thread, including the poll in progress.
///
/// `None` outside any timed future, and while its registry is switched off.
/// Like `time.perf_counter()` for wall time, only differences between two
/// readings mean anything; unlike it, time the task spends waiting (on I/O,
/// a timer, a lock, or for a worker thread) does not count.
///
/// ```
/// use perf_timer::{task_perf_counter, TimedExt as _};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// assert_eq!(task_perf_counter(), None);
/// async {
///     let t0 = task_perf_counter().unwrap();
///     let _ = (0..10_000).fold(0_u64, |a, b| a.wrapping_mul(31) ^ b);
///     tokio::time::sleep(std::time::Duration::from_millis(50)).await;
///     let cpu = task_perf_counter().unwrap() - t0; // the fold, not the 50 ms sleep
///     assert!(cpu < std::time::Duration::from_millis(50));
/// }
/// .timed("example")
/// .await;
/// # }
/// ```
pub fn task_perf_counter() -> Option<Duration> {
    let frame = TASK.with(Cell::get);
    if frame.clock.is_null() {
        return None;
    }
    // SAFETY: a non-null frame is set only between `enter` and `leave` (or
    // the unwind of) one poll of a timed future that holds its timer, and so
    // the clock, alive for that whole poll; this call runs inside that poll.
    let clock = unsafe { &*frame.clock };
    let now = clock.raw();
    let ticks = frame.busy_before + ticks_between(frame.poll_start, now);
    Some(Duration::from_nanos(clock.ticks_to_nanos(ticks)))
}
