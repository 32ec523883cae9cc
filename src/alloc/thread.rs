//! This thread's allocation counters, and the scopes (a timed poll, a sync
//! section) that read them.
//!
//! The allocator only ever adds to `count` and `bytes`. A scope reads them
//! on entry and on exit: the difference is what the scope allocated,
//! nested scopes included. For the scope's *self* allocations, every scope
//! that ends adds its own self allocations to `claimed`: the growth of
//! `claimed` between a scope's entry and exit is then exactly what scopes
//! nested in it allocated (each nested allocation claimed once, by the
//! innermost scope it happened in), with no stack to keep.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// Set by the counting allocator on its first allocation.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Counters of one thread; all wrapping, only differences mean anything.
struct Counters {
    count: Cell<u64>,
    bytes: Cell<u64>,
    claimed_count: Cell<u64>,
    claimed_bytes: Cell<u64>,
}

thread_local! {
    // Const-initialized `Cell`s of plain integers: no lazy initialization
    // and no destructor, so the allocator can use them at any time, during
    // the thread's teardown too, without allocating or recursing.
    static COUNTERS: Counters = const {
        Counters {
            count: Cell::new(0),
            bytes: Cell::new(0),
            claimed_count: Cell::new(0),
            claimed_bytes: Cell::new(0),
        }
    };
}

/// Whether a [`CountingAllocator`](crate::CountingAllocator) has allocated
/// in this process: then it is the global allocator (in practice, it
/// allocates before `main`).
#[inline(always)]
pub(crate) fn installed() -> bool {
    INSTALLED.load(Relaxed)
}

/// Counts one allocation of `bytes` on this thread. Never panics, never
/// allocates.
#[inline(always)]
pub(crate) fn count(bytes: u64) {
    // A load first: the store happens once, not on every allocation to a
    // line every thread reads.
    if !INSTALLED.load(Relaxed) {
        INSTALLED.store(true, Relaxed);
    }
    add(bytes);
}

#[inline(always)]
fn add(bytes: u64) {
    // `try_with`: after the thread-local is gone (no destructor, so on no
    // platform this crate knows), the allocation is not counted.
    let _ = COUNTERS.try_with(|c| {
        c.count.set(c.count.get().wrapping_add(1));
        c.bytes.set(c.bytes.get().wrapping_add(bytes));
    });
}

/// Allocations and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Allocated {
    pub(crate) count: u64,
    pub(crate) bytes: u64,
}

impl Allocated {
    #[inline(always)]
    pub(crate) fn wrapping_sub(self, other: Allocated) -> Allocated {
        Allocated {
            count: self.count.wrapping_sub(other.count),
            bytes: self.bytes.wrapping_sub(other.bytes),
        }
    }
}

/// The thread's counters at a scope's entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    allocated: Allocated,
    claimed: Allocated,
    /// Where this thread's counters live: a scope that ends on another
    /// thread (a guard moved across threads) is told apart by it.
    thread: usize,
}

/// What a scope allocated: in all, and in scopes nested inside it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Scoped {
    pub(crate) all: Allocated,
    pub(crate) nested: Allocated,
}

/// Enters a scope: the counters now. `None` when no counting allocator is
/// installed (one static load) or the thread's counters are gone.
#[inline(always)]
pub(crate) fn enter() -> Option<Mark> {
    if !installed() {
        return None;
    }
    read()
}

#[inline(always)]
fn read() -> Option<Mark> {
    COUNTERS
        .try_with(|c| Mark {
            allocated: Allocated {
                count: c.count.get(),
                bytes: c.bytes.get(),
            },
            claimed: Allocated {
                count: c.claimed_count.get(),
                bytes: c.claimed_bytes.get(),
            },
            thread: address(c),
        })
        .ok()
}

/// Leaves the scope entered at `mark`: what it allocated, and the part
/// nested scopes did. Its self allocations are claimed, so that an
/// enclosing scope counts them as nested. Ended on another thread than it
/// began, it counts nothing (`None`).
#[inline(always)]
pub(crate) fn leave(mark: Mark) -> Option<Scoped> {
    COUNTERS
        .try_with(|c| {
            if address(c) != mark.thread {
                return None;
            }
            let all = Allocated {
                count: c.count.get(),
                bytes: c.bytes.get(),
            }
            .wrapping_sub(mark.allocated);
            let claimed_count = c.claimed_count.get();
            let claimed_bytes = c.claimed_bytes.get();
            let nested = Allocated {
                count: claimed_count,
                bytes: claimed_bytes,
            }
            .wrapping_sub(mark.claimed);
            // Self = all − nested; claimed grows by it, so by `all` since
            // the mark.
            c.claimed_count
                .set(mark.claimed.count.wrapping_add(all.count));
            c.claimed_bytes
                .set(mark.claimed.bytes.wrapping_add(all.bytes));
            Some(Scoped { all, nested })
        })
        .ok()
        .flatten()
}

/// This thread's allocations so far (wrapping): `None` when no counting
/// allocator is installed or the thread's counters are gone.
#[inline]
pub(crate) fn allocated_now() -> Option<Allocated> {
    if !installed() {
        return None;
    }
    COUNTERS
        .try_with(|c| Allocated {
            count: c.count.get(),
            bytes: c.bytes.get(),
        })
        .ok()
}

/// While held, what this thread allocates counts in no scope: the
/// library's own bookkeeping (a run's recording, a timer's first lookup).
/// Dropped, it puts the thread's counters back as they were when it was
/// made: only differences between two readings of one thread mean
/// anything, and the bookkeeping runs whole between them, so no scope can
/// tell. A guard, not a closure, so that the recording it spans is
/// compiled as before; without a counting allocator it holds nothing.
pub(crate) struct Unseen(Option<Allocated>);

/// See [`Unseen`].
#[inline(always)]
pub(crate) fn unseen() -> Unseen {
    Unseen(allocated_now())
}

impl Drop for Unseen {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(before) = self.0 {
            restore(before);
        }
    }
}

#[cold]
#[inline(never)]
fn restore(before: Allocated) {
    let _ = COUNTERS.try_with(|c| {
        c.count.set(before.count);
        c.bytes.set(before.bytes);
    });
}

/// A thread's counters' address: the same for the life of the thread, and
/// unique among the threads alive.
#[inline(always)]
fn address(counters: &Counters) -> usize {
    counters as *const Counters as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scoped(f: impl FnOnce()) -> Scoped {
        let mark = read().unwrap();
        f();
        leave(mark).unwrap()
    }

    #[test]
    fn nested_scopes_are_claimed_once_at_every_depth() {
        std::thread::spawn(|| {
            let outer = scoped(|| {
                add(1);
                let middle = scoped(|| {
                    add(10);
                    let inner = scoped(|| add(100));
                    assert_eq!(
                        inner.all,
                        Allocated {
                            count: 1,
                            bytes: 100
                        }
                    );
                    assert_eq!(inner.nested, Allocated::default());
                    add(1_000);
                });
                assert_eq!(
                    middle.all,
                    Allocated {
                        count: 3,
                        bytes: 1_110
                    }
                );
                assert_eq!(
                    middle.nested,
                    Allocated {
                        count: 1,
                        bytes: 100
                    }
                );
                let sibling = scoped(|| add(5));
                assert_eq!(sibling.nested, Allocated::default());
            });
            assert_eq!(
                outer.all,
                Allocated {
                    count: 5,
                    bytes: 1_116
                }
            );
            // Both children, with the grandchild once.
            assert_eq!(
                outer.nested,
                Allocated {
                    count: 4,
                    bytes: 1_115
                }
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_scope_ended_on_another_thread_counts_nothing() {
        let mark = read().unwrap();
        let moved = std::thread::spawn(move || {
            add(8);
            leave(mark)
        });
        assert_eq!(moved.join().unwrap(), None);
    }
}
