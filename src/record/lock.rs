//! `TryLock`: a one-byte lock for data held a few nanoseconds at a time.
//!
//! Writers only ever *try* it and go elsewhere when it is taken, so a
//! recording thread never waits for another one; readers, on the cold path,
//! wait with [`spin`](super::sync::spin).

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::sync::{spin, AtomicBool, UnsafeCell};

/// `T` behind a lock that is tried, not waited for, on the record path.
#[derive(Debug)]
pub(crate) struct TryLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a `Locked` guard, and at most one
// guard exists at a time (the compare-and-swap in `try_lock`), so sharing a
// `TryLock` shares a `T` between threads one at a time: `T: Send` suffices.
unsafe impl<T: Send> Sync for TryLock<T> {}

// A panic cannot leave the value half-updated for the next holder: the
// recorder's locked sections call no user code and do nothing that panics.
// So a `Timer` stays usable across `catch_unwind`, as with atomics.
impl<T> std::panic::RefUnwindSafe for TryLock<T> {}

impl<T> TryLock<T> {
    pub(crate) fn new(value: T) -> Self {
        TryLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, if no one else holds it.
    #[inline(always)]
    pub(crate) fn try_lock(&self) -> Option<Locked<'_, T>> {
        // Acquire: what the previous holder wrote (before its release in
        // `Locked::drop`) is visible to us.
        self.locked
            .compare_exchange(false, true, Acquire, Relaxed)
            .ok()
            .map(|_| Locked { lock: self })
    }

    /// The value, waiting for it if needed: for readers only.
    pub(crate) fn lock(&self) -> Locked<'_, T> {
        loop {
            if let Some(locked) = self.try_lock() {
                return locked;
            }
            spin();
        }
    }
}

/// Exclusive access to a [`TryLock`]'s value; unlocks when dropped. No
/// `Deref`: every access goes through [`Locked::with`], one closure, which
/// is what loom can check.
pub(crate) struct Locked<'a, T> {
    lock: &'a TryLock<T>,
}

impl<T> Locked<'_, T> {
    /// Runs `f` on the value.
    #[inline(always)]
    pub(crate) fn with<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: this guard is the only one (see `try_lock`), and `&mut
        // self` keeps it from lending the value twice.
        unsafe { self.lock.value.with_mut(f) }
    }
}

impl<T> Drop for Locked<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // Release: our writes happen before the next holder's acquire.
        self.lock.locked.store(false, Release);
    }
}
