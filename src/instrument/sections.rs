//! The sync section open innermost on this thread. A section that ends
//! inside another is that one's nested time (its self time leaves it out)
//! and, in a timed poll, a child of its path: not a second part of the
//! enclosing run beside the section that holds it.
//!
//! The thread keeps only the innermost open section; each guard keeps the
//! one it opened inside, and puts it back when it ends. Nothing here is a
//! pointer: a guard leaked (`mem::forget`) leaves a stale section that can
//! only mis-nest later sections of the same poll.

use std::cell::Cell;

use crate::state::timer::TimerCore;

/// An open section, as the thread and the guard inside it keep it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Open {
    /// Which section (its timer's address and start reading); 0: none.
    id: u64,
    /// The timed poll it began in (`u64::MAX`: none).
    poll: u64,
    /// Nanoseconds of the sections that ended inside it.
    nested: u64,
    /// Its nesting path, if it began in a timed poll.
    path: u32,
}

const NONE: Open = Open {
    id: 0,
    poll: 0,
    nested: 0,
    path: 0,
};

impl Default for Open {
    fn default() -> Self {
        NONE
    }
}

thread_local! {
    static INNERMOST: Cell<Open> = const { Cell::new(NONE) };
}

#[inline(always)]
fn id(timer: &TimerCore, start: u64) -> u64 {
    (start ^ (timer as *const TimerCore as u64).rotate_left(32)) | 1
}

#[inline(always)]
fn key(poll: Option<u64>) -> u64 {
    poll.unwrap_or(u64::MAX)
}

/// A section of `timer` began at raw reading `start` in `poll`, at
/// nesting path `path`: the section it began inside, for [`end`].
#[inline(always)]
pub(crate) fn begin(timer: &TimerCore, start: u64, poll: Option<u64>, path: u32) -> Open {
    INNERMOST.with(|innermost| {
        innermost.replace(Open {
            id: id(timer, start),
            poll: key(poll),
            nested: 0,
            path,
        })
    })
}

/// The path of the innermost section open in `poll`, if any: the parent
/// of a section that begins there.
#[inline]
pub(crate) fn innermost_path(poll: u64) -> Option<u32> {
    let open = INNERMOST.with(Cell::get);
    (open.id != 0 && open.poll == poll && open.path != 0).then_some(open.path)
}

/// How a section ended among the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Ended {
    /// Nanoseconds of the sections that ended inside it.
    pub(crate) nested: u64,
    /// Whether it ended inside another section of the same poll (or of
    /// none), which then holds its time.
    pub(crate) in_section: bool,
}

/// The section of `timer` begun at `start` ends after `nanos`: the
/// section it began inside (`enclosing`, from [`begin`]) is the innermost
/// again, holding its time. A section that is not the innermost (guards
/// dropped out of order, or on another thread) leaves the others as they
/// are and ended inside nothing known.
#[inline(always)]
pub(crate) fn end(timer: &TimerCore, start: u64, nanos: u64, enclosing: Open) -> Ended {
    INNERMOST.with(|innermost| {
        let own = innermost.get();
        if own.id != id(timer, start) {
            return Ended::default();
        }
        let mut holder = enclosing;
        let in_section = holder.id != 0 && holder.poll == own.poll;
        if in_section {
            holder.nested = holder.nested.saturating_add(nanos);
        }
        innermost.set(holder);
        Ended {
            nested: own.nested.min(nanos),
            in_section,
        }
    })
}
