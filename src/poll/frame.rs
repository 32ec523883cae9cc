//! The task perf counter: which timed future is the outermost one being
//! polled on this thread, and its busy time before this poll; and the
//! innermost one's timer, where `add_bytes` counts.
//!
//! The frame lives in a thread-local only for the length of one poll: it is
//! set when the outermost timed future enters `poll` and cleared when it
//! leaves (or unwinds), so a task that moves to another worker thread carries
//! all its state in the future itself.
//!
//! The frame also carries the innermost run's parts, lent by the run for
//! its poll, and its nesting path: a nested timed poll adds its time to its
//! part of the enclosing run when it leaves, and, returning `Pending`,
//! marks that part as the one the enclosing run is parked in; the gap
//! until the enclosing run's next poll goes to it when that poll starts.

use std::cell::Cell;
use std::time::Duration;

use crate::clock::{ticks_between, Clock};
use crate::poll::parts::{self, Parts, NO_PART};
use crate::state::paths::{self, Paths, NO_PATH};
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
    /// The innermost run's parts, lent by the run for its poll; null until
    /// a timed child or section needs them.
    parts: *mut Parts,
    /// The innermost run's nesting path; [`NO_PATH`] for an outermost run
    /// until a child needs it.
    path: u32,
    /// The outermost run's registry's paths, once a child needs them.
    table: *const Paths,
}

impl Frame {
    const NONE: Frame = Frame {
        clock: std::ptr::null(),
        busy_before: 0,
        poll_start: 0,
        nested: 0,
        innermost: std::ptr::null(),
        parts: std::ptr::null_mut(),
        path: NO_PATH,
        table: std::ptr::null(),
    };
}

thread_local! {
    static TASK: Cell<Frame> = const { Cell::new(Frame::NONE) };
}

/// What a timed poll must hand back to [`leave`] or [`unwind`].
#[derive(Clone, Copy)]
pub(crate) struct Entered {
    outermost: bool,
    /// This run's part in the enclosing run's parts.
    slot: u8,
    /// The enclosing poll's nested time, set aside while this poll runs.
    saved_nested: u64,
    /// The enclosing poll's timer, back once this poll ends.
    saved_innermost: *const TimerCore,
    /// The enclosing run's parts and path, back once this poll ends.
    saved_parts: *mut Parts,
    saved_path: u32,
}

/// Enters a timed poll starting at `poll_start`, its run lending `parts`
/// (null if it has none yet) for the poll. The outermost one on this
/// thread becomes the task's frame; inner ones start their own nested
/// count, and their time goes to their part of the enclosing run.
#[inline(always)]
pub(crate) fn enter(
    clock: &Clock,
    timer: *const TimerCore,
    busy_before: u64,
    poll_start: u64,
    parts: *mut Parts,
) -> Entered {
    // The outermost poll writes the fields it sets, one by one, through
    // the cell's pointer: no copy of the whole frame on the hot path.
    let frame = TASK.with(Cell::as_ptr);
    // SAFETY: this thread's frame, alive as long as the thread (a const
    // thread-local with no destructor); no reference to it is held
    // across this block (the cold paths copy it in and out).
    let outermost = unsafe {
        if (*frame).clock.is_null() {
            (*frame).clock = clock;
            (*frame).busy_before = busy_before;
            (*frame).poll_start = poll_start;
            (*frame).nested = 0;
            (*frame).innermost = timer;
            (*frame).parts = parts;
            // `path` and `table` are already clear: see `leave`.
            true
        } else {
            false
        }
    };
    if outermost {
        if !parts.is_null() {
            resume(clock, timer, poll_start, parts, true);
        }
        Entered {
            outermost: true,
            slot: NO_PART,
            saved_nested: 0,
            saved_innermost: std::ptr::null(),
            saved_parts: std::ptr::null_mut(),
            saved_path: NO_PATH,
        }
    } else {
        // SAFETY: as above; `enter_nested` holds the only reference.
        enter_nested(unsafe { &mut *frame }, clock, timer, poll_start, parts)
    }
}

#[inline(always)]
fn set(frame: Frame) {
    TASK.with(|task| task.set(frame));
}

/// A timed poll inside another's: finds (or makes) its part of the
/// enclosing run, which gives its path.
#[inline(never)]
fn enter_nested(
    frame: &mut Frame,
    clock: &Clock,
    timer: *const TimerCore,
    poll_start: u64,
    parts: *mut Parts,
) -> Entered {
    let table = enclosing_parts(frame);
    // SAFETY: the enclosing run's parts, lent to the frame for its poll,
    // which is in progress; `timer` is held by the run being polled.
    let enclosing = unsafe { &mut *frame.parts };
    let parent = frame.path;
    // SAFETY: held by the run being polled, for the whole poll.
    let child = unsafe { &*timer };
    let slot = enclosing.slot_of(timer, || paths::resolve(table, parent, child));
    let entered = Entered {
        outermost: false,
        slot,
        saved_nested: frame.nested,
        saved_innermost: frame.innermost,
        saved_parts: frame.parts,
        saved_path: frame.path,
    };
    frame.nested = 0;
    frame.innermost = timer;
    frame.parts = parts;
    let shared = &enclosing.slots[usize::from(slot)];
    frame.path = if shared.timer.is_null() {
        // Past the named parts: its own path all the same, for its
        // children's, from the cache.
        paths::resolve(table, parent, child)
    } else {
        shared.path
    };
    if !parts.is_null() {
        resume(clock, timer, poll_start, parts, false);
    }
    entered
}

/// The innermost run's parts, taken from the free list if it has none
/// yet, with its path and the outermost run's table of paths resolved.
fn enclosing_parts(frame: &mut Frame) -> &'static Paths {
    if frame.table.is_null() {
        // No child resolved a path yet in this outermost poll: the
        // innermost run is the outermost one.
        // SAFETY: held by the run being polled.
        frame.table = unsafe { &*(&*frame.innermost).settings.paths };
    }
    // SAFETY: the outermost run's timer, which it holds for its poll,
    // holds the table; the reference does not leave this poll.
    let table: &'static Paths = unsafe { &*frame.table };
    if frame.parts.is_null() {
        frame.parts = parts::take();
    }
    // SAFETY: lent to the frame for the innermost run's poll.
    let own = unsafe { &mut *frame.parts };
    if frame.path == NO_PATH {
        // SAFETY: held by the run being polled.
        frame.path = paths::resolve(table, NO_PATH, unsafe { &*frame.innermost });
    }
    if own.path == NO_PATH {
        own.path = frame.path;
        own.table = table.uid();
        // SAFETY: held by the run being polled.
        let innermost = unsafe { &*frame.innermost };
        if !std::ptr::eq(table, &*innermost.settings.paths) {
            own.foreign = Some(held(table));
        }
    }
    table
}

/// The table of paths `table`, held: it is an outermost run's timer's
/// (`enclosing_parts`), alive for that run's poll.
#[cold]
fn held(table: &Paths) -> std::sync::Arc<Paths> {
    let table: *const Paths = table;
    // SAFETY: `table` is the contents of the `Arc` in the outermost
    // timer's settings (`&*settings.paths`), which is alive: one more
    // strong count, given to the `Arc` made from it.
    unsafe {
        std::sync::Arc::increment_strong_count(table);
        std::sync::Arc::from_raw(table)
    }
}

/// A run with parts starts a poll at raw reading `poll_start`: the wall
/// time since its last poll ended goes to the child it was parked in (and,
/// for an outermost run, to the deepest path pending below it).
#[cold]
#[inline(never)]
fn resume(
    clock: &Clock,
    timer: *const TimerCore,
    poll_start: u64,
    parts: *mut Parts,
    outermost: bool,
) {
    // SAFETY: lent to the frame by the run being polled.
    let own = unsafe { &mut *parts };
    if outermost && own.path != NO_PATH {
        let mut frame = TASK.with(Cell::get);
        frame.path = own.path;
        // SAFETY: held by the run being polled.
        frame.table = unsafe { &*(&*timer).settings.paths };
        set(frame);
    }
    if own.parked_in != NO_PART {
        let gap = ticks_between(own.last_end, clock.wall_at(poll_start));
        let slot = &mut own.slots[usize::from(own.parked_in)];
        slot.idle = slot.idle.wrapping_add(gap);
        if outermost && own.deep != NO_PATH && !own.park_deep(own.deep, gap) {
            // SAFETY: held by the run being polled.
            let table = unsafe { &(&*timer).settings.paths };
            if own.table == table.uid() {
                table.add_parked(own.deep, clock.ticks_to_nanos(gap));
            }
        }
    }
    // Still parked in it until it returns `Ready` or is dropped, or another
    // child returns `Pending`: a poll that polls no child (a
    // `FuturesUnordered` that woke itself) leaves it pending all the same.
}

/// Leaves a timed poll that took `poll_nanos`, `pending` if it returned
/// `Pending`, `first` if it was its run's first; hands back the run's
/// parts (perhaps taken during the poll), and counts this poll as nested
/// time of the enclosing one, in its part.
#[inline(always)]
pub(crate) fn leave(
    entered: Entered,
    poll_nanos: impl FnOnce() -> u64,
    pending: bool,
    first: bool,
) -> *mut Parts {
    if entered.outermost {
        let frame = TASK.with(Cell::as_ptr);
        // SAFETY: as in `enter`. Clearing `clock` ends the frame; the other
        // fields are set anew by the next outermost poll, except the path
        // and table, cleared here when a child set them.
        unsafe {
            let parts = (*frame).parts;
            (*frame).clock = std::ptr::null();
            if !(*frame).table.is_null() {
                (*frame).path = NO_PATH;
                (*frame).table = std::ptr::null();
            }
            parts
        }
    } else {
        // SAFETY: as in `enter`; `leave_nested` holds the only reference.
        leave_nested(
            unsafe { &mut *TASK.with(Cell::as_ptr) },
            entered,
            poll_nanos(),
            pending,
            first,
        )
    }
}

#[inline(never)]
fn leave_nested(
    frame: &mut Frame,
    entered: Entered,
    poll: u64,
    pending: bool,
    first: bool,
) -> *mut Parts {
    let own = frame.parts;
    // The deepest timed path pending below the enclosing run, if this
    // child is the one pending: below this child, or this child.
    // SAFETY: this run's parts, lent to the frame for its poll.
    let deep = match unsafe { own.as_ref() } {
        Some(p) if p.deep != NO_PATH => p.deep,
        _ => frame.path,
    };
    let own_nested = frame.nested;
    let own_path = frame.path;
    frame.nested = entered.saved_nested.wrapping_add(poll);
    frame.innermost = entered.saved_innermost;
    frame.parts = entered.saved_parts;
    frame.path = entered.saved_path;
    // SAFETY: the enclosing run's parts, made by `enter_nested`, lent to
    // the frame for its poll, which is in progress.
    let enclosing = unsafe { &mut *frame.parts };
    let slot = &mut enclosing.slots[usize::from(entered.slot)];
    slot.busy = slot.busy.wrapping_add(poll);
    let self_busy = poll.saturating_sub(own_nested);
    if slot.timer.is_null() {
        count_in_path(frame.table, own_path, u64::from(first), self_busy);
    } else {
        slot.self_busy = slot.self_busy.wrapping_add(self_busy);
    }
    if first {
        slot.runs = slot.runs.saturating_add(1);
    }
    if pending {
        enclosing.parked_in = entered.slot;
        enclosing.deep = deep;
    } else if enclosing.parked_in == entered.slot {
        // Ready (or unwound): pending no more.
        enclosing.parked_in = NO_PART;
        enclosing.deep = NO_PATH;
    }
    own
}

/// Counts `runs` runs and `self_busy` nanoseconds of self time in `path`
/// at once, where a run's part would count them when the run ends: a
/// child past a run's named parts (it shares the run's `(other)` part),
/// or a section inside a section (the outer one is the run's part). So
/// the paths under a root still sum to its busy total.
#[cold]
#[inline(never)]
fn count_in_path(table: *const Paths, path: u32, runs: u64, self_busy: u64) {
    // SAFETY: set by `enclosing_parts` from the outermost run's timer,
    // which holds the table for its poll, in progress.
    if let Some(table) = unsafe { table.as_ref() } {
        let _unseen = crate::alloc::thread::unseen();
        table.add_counts(path, runs, self_busy, 0);
    }
}

/// A run of `timer` ended unfinished (cancelled). Dropped inside the poll
/// of the run it is a part of (a `timeout` that elapsed, a `select!` that
/// another branch won), that run is no longer parked in it: the next gap
/// goes where the next `Pending` puts it, or to idle in no timed child.
#[cold]
pub(crate) fn cancelled(timer: *const TimerCore) {
    let _ = TASK.try_with(|task| {
        let frame = task.get();
        if frame.clock.is_null() || frame.parts.is_null() {
            return;
        }
        // SAFETY: the innermost run's parts, lent to the frame for its
        // poll, which is in progress (the cancelled run is dropped in it).
        let own = unsafe { &mut *frame.parts };
        let parked = own.slots.get(usize::from(own.parked_in));
        if parked.is_some_and(|slot| std::ptr::eq(slot.timer, timer)) {
            own.parked_in = NO_PART;
            own.deep = NO_PATH;
        }
    });
}

/// The timer of the innermost timed run being polled on this thread, as
/// handed to [`enter`]; null outside a timed poll.
pub(crate) fn innermost_timer() -> *const TimerCore {
    let frame = TASK.with(Cell::get);
    if frame.clock.is_null() {
        return std::ptr::null();
    }
    frame.innermost
}

/// The outermost timed poll in progress on this thread, named by the
/// reading at its start; `None` outside any.
#[inline]
pub(crate) fn current_poll() -> Option<u64> {
    // Two fields read in place: no copy of the whole frame.
    let frame = TASK.with(Cell::as_ptr);
    // SAFETY: this thread's frame, alive as long as the thread (see
    // `enter`); read, and no reference to it kept.
    unsafe { (!(*frame).clock.is_null()).then_some((*frame).poll_start) }
}

/// A timed sync section of `timer` begins inside `poll` (from
/// [`current_poll`]), inside the open section at `parent` if any: its
/// nesting path, resolved now, while its timer is surely alive.
#[cold]
#[inline(never)]
pub(crate) fn section_begins(poll: u64, parent: Option<u32>, timer: &TimerCore) -> u32 {
    TASK.with(|task| {
        let mut frame = task.get();
        if frame.clock.is_null() || frame.poll_start != poll {
            return NO_PATH;
        }
        let table = enclosing_parts(&mut frame);
        task.set(frame);
        let _unseen = crate::alloc::thread::unseen();
        paths::resolve(table, parent.unwrap_or(frame.path), timer)
    })
}

/// A timed sync section of `nanos` of `timer` that began inside `poll`
/// at `path` has ended, with `nested` nanoseconds of sections that ended
/// inside it: if that poll is still the one in progress, the section is
/// time nested inside it, so that the enclosing run's self time leaves it
/// out, and one of its parts. A section held across an `.await` ends in
/// another poll and is not counted.
#[cold]
pub(crate) fn section_ended(poll: u64, nanos: u64, nested: u64, path: u32, timer: &TimerCore) {
    TASK.with(|task| {
        let mut frame = task.get();
        if frame.clock.is_null() || frame.poll_start != poll || path == NO_PATH {
            return;
        }
        frame.nested = frame.nested.saturating_add(nanos);
        enclosing_parts(&mut frame);
        task.set(frame);
        let frame = task.get();
        // SAFETY: the innermost run's parts, lent to the frame for its
        // poll, which is in progress.
        let own = unsafe { &mut *frame.parts };
        let at = own.slot_of(timer, || path);
        let slot = &mut own.slots[usize::from(at)];
        slot.busy = slot.busy.wrapping_add(nanos);
        let self_busy = nanos.saturating_sub(nested);
        if slot.timer.is_null() {
            count_in_path(frame.table, path, 1, self_busy);
        } else {
            slot.self_busy = slot.self_busy.wrapping_add(self_busy);
        }
        slot.runs = slot.runs.saturating_add(1);
    })
}

/// A timed sync section that began at `path` inside `poll` ended inside
/// another section of that poll, with `self_busy` nanoseconds of its own:
/// a run of its path (the section that holds it counts its time in the
/// run's part).
#[cold]
pub(crate) fn section_ended_in_section(poll: u64, path: u32, self_busy: u64) {
    let frame = TASK.with(Cell::get);
    if frame.clock.is_null() || frame.poll_start != poll || path == NO_PATH {
        return;
    }
    count_in_path(frame.table, path, 1, self_busy);
}

/// A timed poll is unwinding after `poll_nanos` (its run's first poll if
/// `first`): put the frame back as it was before it, count the poll in
/// the enclosing run's part as a returned one would be (its time was
/// spent in the child, not in the enclosing run's own code), and hand
/// back the run's parts.
pub(crate) fn unwind(entered: Entered, poll_nanos: u64, first: bool) -> *mut Parts {
    if entered.outermost {
        return TASK.with(|task| {
            let own = task.get().parts;
            task.set(Frame::NONE);
            own
        });
    }
    // SAFETY: as in `enter`; `leave_nested` holds the only reference.
    leave_nested(
        unsafe { &mut *TASK.with(Cell::as_ptr) },
        entered,
        poll_nanos,
        false,
        first,
    )
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
