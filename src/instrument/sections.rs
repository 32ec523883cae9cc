//! The sync sections open on this thread, innermost last. A section that
//! ends inside another is that one's nested time (its self time leaves it
//! out) and, in a timed poll, a child of its path: not a second part of
//! the enclosing run beside the section that holds it.

use std::cell::Cell;

use crate::state::paths::NO_PATH;
use crate::state::timer::TimerCore;

/// Sections open at once that are tracked; deeper ones count as if the
/// deepest tracked one held nothing.
const DEPTH: usize = 16;

/// One open section.
#[derive(Clone, Copy)]
struct Open {
    timer: *const TimerCore,
    /// Its raw start reading: with `timer`, which section it is.
    start: u64,
    /// The timed poll it began in (`u64::MAX`: none).
    poll: u64,
    /// Nanoseconds of the sections that ended inside it.
    nested: u64,
    /// Its nesting path, resolved when it began in a timed poll (its
    /// timer is never read again: only compared).
    path: u32,
}

const CLOSED: Open = Open {
    timer: std::ptr::null(),
    start: 0,
    poll: 0,
    nested: 0,
    path: NO_PATH,
};

struct Stack {
    open: [Cell<Open>; DEPTH],
    len: Cell<usize>,
}

thread_local! {
    static STACK: Stack = const {
        Stack {
            open: [const { Cell::new(CLOSED) }; DEPTH],
            len: Cell::new(0),
        }
    };
}

/// A timed poll's key, or none.
#[inline(always)]
fn key(poll: Option<u64>) -> u64 {
    poll.unwrap_or(u64::MAX)
}

/// A section of `timer` began at raw reading `start` in `poll`, at
/// nesting path `path` (`NO_PATH` outside a timed poll).
#[inline]
pub(crate) fn begin(timer: &TimerCore, start: u64, poll: Option<u64>, path: u32) {
    let _ = STACK.try_with(|stack| {
        let len = stack.len.get();
        if len < DEPTH {
            stack.open[len].set(Open {
                timer,
                start,
                poll: key(poll),
                nested: 0,
                path,
            });
            stack.len.set(len + 1);
        }
    });
}

/// The path of the innermost section open in `poll`, if any: the parent
/// of a section that begins there.
#[inline]
pub(crate) fn innermost_path(poll: u64) -> Option<u32> {
    STACK
        .try_with(|stack| {
            let top = stack.len.get().checked_sub(1)?;
            let open = stack.open[top].get();
            (open.poll == poll && open.path != NO_PATH).then_some(open.path)
        })
        .ok()
        .flatten()
}

/// How a section ended among the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ended {
    /// Nanoseconds of the sections that ended inside it.
    pub(crate) nested: u64,
    /// Whether it ended inside another section of the same poll (or of
    /// none), which then holds its time.
    pub(crate) in_section: bool,
    /// Its path, as it began (`NO_PATH` if none).
    pub(crate) path: u32,
}

impl Default for Ended {
    fn default() -> Self {
        Ended {
            nested: 0,
            in_section: false,
            path: NO_PATH,
        }
    }
}

/// The section of `timer` begun at `start` in `poll` ends after `nanos`:
/// taken off this thread's open sections, its time given to the one it
/// ended inside, if any. A section not found (begun on another thread,
/// or past [`DEPTH`]) ended inside nothing known.
#[inline]
pub(crate) fn end(timer: &TimerCore, start: u64, poll: Option<u64>, nanos: u64) -> Ended {
    STACK
        .try_with(|stack| {
            let len = stack.len.get();
            let top = len.checked_sub(1)?;
            let mine = |o: &Open| std::ptr::eq(o.timer, timer) && o.start == start;
            let at = if mine(&stack.open[top].get()) {
                top
            } else {
                // Guards dropped out of order: the others stay open.
                (0..top).rev().find(|&i| mine(&stack.open[i].get()))?
            };
            let own = stack.open[at].get();
            for i in at..top {
                stack.open[i].set(stack.open[i + 1].get());
            }
            stack.len.set(top);
            let in_section = at > 0 && {
                let holder = &stack.open[at - 1];
                let mut open = holder.get();
                let same = open.poll == key(poll);
                if same {
                    open.nested = open.nested.saturating_add(nanos);
                    holder.set(open);
                }
                same
            };
            Some(Ended {
                nested: own.nested.min(nanos),
                in_section,
                path: own.path,
            })
        })
        .ok()
        .flatten()
        .unwrap_or_default()
}
