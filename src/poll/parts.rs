//! Where one run's wall time went: per direct timed child, its busy time
//! and the time the run was parked in it (see `frame`, which fills them
//! during the run's own polls).
//!
//! A run with no timed child never has a buffer. The first child (or
//! timed sync section) inside one of its polls takes one from this
//! thread's free list; the run gives it back when it ends, to the list
//! of whichever thread it ends on. No allocation per run once a thread's
//! list holds a few.

use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::Arc;

use crate::state::paths::{Paths, OTHER_PATH};
use crate::state::timer::TimerCore;

/// Most parts a run keeps by name; the children past them share the last
/// one, named [`OTHER_PART`].
pub(crate) const MAX_PARTS: usize = 8;

/// The name of the part that holds the children past [`MAX_PARTS`].
pub(crate) const OTHER_PART: &str = "(other)";

/// No part: nothing pending.
pub(crate) const NO_PART: u8 = u8::MAX;

/// One direct timed child of a run, by timer.
#[derive(Clone, Copy)]
pub(crate) struct Slot {
    /// The child's timer: compared only, never read (it may be gone by
    /// the time the run ends). Null for the shared last slot.
    pub(crate) timer: *const TimerCore,
    /// The child's nesting path (see `state::paths`).
    pub(crate) path: u32,
    /// Runs of it that started in this run.
    pub(crate) runs: u32,
    /// Nanoseconds of its polls, its own nested children included.
    pub(crate) busy: u64,
    /// The same less its nested children: its self time.
    pub(crate) self_busy: u64,
    /// Wall ticks this run was parked while the child was the one pending.
    pub(crate) idle: u64,
}

/// Deepest paths an outermost run was parked in, kept in the run; more
/// go to their path's counters at once.
pub(crate) const DEEP_SLOTS: usize = 4;

/// The parts of one run.
pub(crate) struct Parts {
    pub(crate) len: u8,
    /// The slot of the child whose `Pending` came last: the one the run
    /// is parked in until that child returns `Ready` or is dropped, or
    /// another child returns `Pending`.
    pub(crate) parked_in: u8,
    /// The run's own path, once known (0: not yet).
    pub(crate) path: u32,
    /// The unique id of the table its paths are in (0: none yet).
    pub(crate) table: u64,
    /// That table, held, when it is not the run's own registry's: a run
    /// nested in a run of another registry has its paths there.
    pub(crate) foreign: Option<Arc<Paths>>,
    /// The deepest timed path pending below this run, with `parked_in`
    /// (0: none).
    pub(crate) deep: u32,
    /// Wall reading at the end of the run's latest poll.
    pub(crate) last_end: u64,
    pub(crate) slots: [Slot; MAX_PARTS],
    /// For an outermost run: wall ticks parked per deepest pending path.
    pub(crate) deep_parked: [(u32, u64); DEEP_SLOTS],
    /// The next buffer on a free list.
    next: Option<NonNull<Parts>>,
}

impl Parts {
    fn new() -> Self {
        Parts {
            len: 0,
            parked_in: NO_PART,
            path: 0,
            table: 0,
            foreign: None,
            deep: 0,
            last_end: 0,
            slots: [Slot {
                timer: std::ptr::null(),
                path: 0,
                runs: 0,
                busy: 0,
                self_busy: 0,
                idle: 0,
            }; MAX_PARTS],
            deep_parked: [(0, 0); DEEP_SLOTS],
            next: None,
        }
    }

    fn reset(&mut self) {
        self.len = 0;
        self.parked_in = NO_PART;
        self.path = 0;
        self.table = 0;
        self.foreign = None;
        self.deep = 0;
        self.deep_parked = [(0, 0); DEEP_SLOTS];
    }

    /// The slot of the child timed by `timer`, made if new with the path
    /// `path()` gives; the last slot is shared once they are all taken.
    #[inline]
    pub(crate) fn slot_of(&mut self, timer: *const TimerCore, path: impl FnOnce() -> u32) -> u8 {
        let len = usize::from(self.len);
        if let Some(at) = self.slots[..len].iter().position(|s| s.timer == timer) {
            return at as u8;
        }
        self.add_slot(timer, path)
    }

    #[cold]
    fn add_slot(&mut self, timer: *const TimerCore, path: impl FnOnce() -> u32) -> u8 {
        let len = usize::from(self.len);
        if len < MAX_PARTS - 1 {
            self.slots[len] = Slot {
                timer,
                path: path(),
                runs: 0,
                busy: 0,
                self_busy: 0,
                idle: 0,
            };
            self.len += 1;
            return len as u8;
        }
        let last = MAX_PARTS - 1;
        if len == last {
            // The shared slot: no timer matches it, so every further
            // child lands here; each counts in its own path all the same
            // (`frame::past_the_parts`).
            self.slots[last] = Slot {
                timer: std::ptr::null(),
                path: OTHER_PATH,
                runs: 0,
                busy: 0,
                self_busy: 0,
                idle: 0,
            };
            self.len += 1;
        }
        last as u8
    }

    /// The table its paths are in: `own` (the run's registry's), or the
    /// one of the registry it ran nested in; `None` if it has no path.
    pub(crate) fn paths<'a>(&'a self, own: &'a Arc<Paths>) -> Option<&'a Arc<Paths>> {
        if self.table == own.uid() {
            Some(own)
        } else {
            self.foreign.as_ref().filter(|f| f.uid() == self.table)
        }
    }

    /// The slots in use.
    pub(crate) fn slots(&self) -> &[Slot] {
        &self.slots[..usize::from(self.len)]
    }

    /// Nanoseconds of all children's polls: the run's nested time.
    pub(crate) fn nested(&self) -> u64 {
        self.slots().iter().fold(0, |a, s| a.wrapping_add(s.busy))
    }

    /// An outermost run was parked `ticks` at its deepest pending path
    /// `path`; `false` if there was no room to keep it.
    pub(crate) fn park_deep(&mut self, path: u32, ticks: u64) -> bool {
        for entry in &mut self.deep_parked {
            if entry.0 == path || entry.0 == 0 {
                *entry = (path, entry.1 + ticks);
                return true;
            }
        }
        false
    }
}

/// A run's hold on its parts, if it has any: one pointer, owned. No
/// `Drop`, to keep a run's drop a compare: every way a run ends gives
/// its parts back ([`PartsBox::release`]); a path that forgot would only
/// leave one buffer to the allocator's keeping, never a dangling one.
#[derive(Debug, Default)]
pub(crate) struct PartsBox(Option<NonNull<Parts>>);

// SAFETY: the buffer is owned by one run at a time (moved, never shared);
// it is only reached from the thread polling or ending that run.
unsafe impl Send for PartsBox {}
// SAFETY: `&PartsBox` gives no access to the buffer.
unsafe impl Sync for PartsBox {}

impl PartsBox {
    pub(crate) const NONE: PartsBox = PartsBox(None);

    #[inline(always)]
    pub(crate) fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// The buffer, to lend to the frame for one poll (null if none). It
    /// stays this box's: a poll only ever adds one ([`PartsBox::keep`]).
    #[inline(always)]
    pub(crate) fn lend(&self) -> *mut Parts {
        self.0.map_or(std::ptr::null_mut(), NonNull::as_ptr)
    }

    /// Keeps what the frame hands back after the poll: the buffer lent,
    /// or one taken during the poll; null (none) changes nothing.
    #[inline(always)]
    pub(crate) fn keep(&mut self, parts: *mut Parts) {
        if let Some(parts) = NonNull::new(parts) {
            self.0 = Some(parts);
        }
    }

    /// The buffer, to read.
    pub(crate) fn get(&self) -> Option<&Parts> {
        // SAFETY: owned by this box, alive until `release`.
        self.0.map(|p| unsafe { &*p.as_ptr() })
    }

    /// Gives the buffer back to this thread's free list.
    #[inline(always)]
    pub(crate) fn release(&mut self) {
        if let Some(parts) = self.0.take() {
            give_back(parts);
        }
    }
}

/// Buffers a thread keeps for later runs.
const KEPT: usize = 32;

struct FreeList {
    head: Cell<Option<NonNull<Parts>>>,
    len: Cell<usize>,
}

impl Drop for FreeList {
    fn drop(&mut self) {
        let mut next = self.head.take();
        while let Some(parts) = next {
            // SAFETY: every buffer on the list came from `Box::into_raw`
            // and is on no other list.
            let parts = unsafe { Box::from_raw(parts.as_ptr()) };
            next = parts.next;
        }
    }
}

thread_local! {
    static FREE: FreeList = const {
        FreeList { head: Cell::new(None), len: Cell::new(0) }
    };
}

/// An empty buffer: this thread's last given back, or a new one.
#[cold]
#[inline(never)]
pub(crate) fn take() -> *mut Parts {
    // A buffer is the library's: what it allocates counts for no run.
    let _unseen = crate::alloc::thread::unseen();
    let reused = FREE
        .try_with(|free| {
            let head = free.head.get()?;
            // SAFETY: a buffer on the list is owned by the list.
            let parts = unsafe { &mut *head.as_ptr() };
            free.head.set(parts.next.take());
            free.len.set(free.len.get() - 1);
            Some(head)
        })
        .ok()
        .flatten();
    let parts = reused.unwrap_or_else(|| {
        // SAFETY: `Box::into_raw` never gives null.
        unsafe { NonNull::new_unchecked(Box::into_raw(Box::new(Parts::new()))) }
    });
    // SAFETY: owned by the caller from now on.
    unsafe { (*parts.as_ptr()).reset() };
    parts.as_ptr()
}

#[cold]
fn give_back(parts: NonNull<Parts>) {
    // A kept buffer holds no registry's table.
    // SAFETY: owned by the caller.
    if let Some(foreign) = unsafe { (*parts.as_ptr()).foreign.take() } {
        let _unseen = crate::alloc::thread::unseen();
        drop(foreign);
    }
    let kept = FREE.try_with(|free| {
        if free.len.get() >= KEPT {
            return false;
        }
        // SAFETY: the caller owned it; the list owns it now.
        unsafe { (*parts.as_ptr()).next = free.head.get() };
        free.head.set(Some(parts));
        free.len.set(free.len.get() + 1);
        true
    });
    if kept != Ok(true) {
        // SAFETY: from `Box::into_raw` in `take`, owned by the caller.
        drop(unsafe { Box::from_raw(parts.as_ptr()) });
    }
}
