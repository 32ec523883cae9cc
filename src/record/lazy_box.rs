//! `LazyBox`: a value allocated by whichever thread needs it first, without
//! a lock.
//!
//! Racing threads each allocate; one compare-and-swap publishes the winner
//! and the others free theirs. Nobody waits, so the record path never
//! blocks, not even on a stripe's first run.

use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::Ordering::{AcqRel, Acquire};

use super::sync::AtomicPtr;

/// A `T` on the heap, allocated on first use; owns it as a `Box<T>` would.
pub(crate) struct LazyBox<T> {
    /// Null, or a pointer from `Box::into_raw`, published once and freed
    /// only by `drop`.
    ptr: AtomicPtr<T>,
    /// Owns a `T`: `Send`/`Sync` and drop check as for `Box<T>` shared
    /// between threads (the raw pointer alone would make it neither).
    owns: PhantomData<Box<T>>,
}

// SAFETY: a `LazyBox<T>` hands out `&T` to any thread (`get`) and moves the
// `T` with it, like an `Arc<T>`: both need `T: Send + Sync`.
unsafe impl<T: Send + Sync> Sync for LazyBox<T> {}
// SAFETY: as above: sending the box sends the `T` it owns.
unsafe impl<T: Send + Sync> Send for LazyBox<T> {}

impl<T> LazyBox<T> {
    pub(crate) fn new() -> Self {
        LazyBox {
            ptr: AtomicPtr::new(ptr::null_mut()),
            owns: PhantomData,
        }
    }

    /// The value, if some thread has allocated it.
    #[inline(always)]
    pub(crate) fn get(&self) -> Option<&T> {
        // Acquire: pairs with the release of the publishing CAS, so the
        // value's initialization is visible.
        let p = self.ptr.load(Acquire);
        // SAFETY: a non-null pointer came from `Box::into_raw` in `init` and
        // is freed only in `drop`, which `&self` rules out for `'_`.
        unsafe { p.as_ref() }
    }

    /// The value, allocating it with `init` if no thread has yet.
    #[inline(always)]
    pub(crate) fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
        match self.get() {
            Some(value) => value,
            None => self.init(init),
        }
    }

    #[cold]
    #[inline(never)]
    fn init(&self, init: impl FnOnce() -> T) -> &T {
        let fresh = Box::into_raw(Box::new(init()));
        let p = match (self.ptr).compare_exchange(ptr::null_mut(), fresh, AcqRel, Acquire) {
            Ok(_) => fresh,
            Err(winner) => {
                // SAFETY: `fresh` is ours alone: it lost the race, so it was
                // never published.
                drop(unsafe { Box::from_raw(fresh) });
                winner
            }
        };
        // SAFETY: `p` is the published pointer, valid until `drop` (see `get`).
        unsafe { &*p }
    }
}

impl<T> Drop for LazyBox<T> {
    fn drop(&mut self) {
        let p = self.ptr.swap(ptr::null_mut(), Acquire);
        if !p.is_null() {
            // SAFETY: `&mut self`: no reference from `get` is alive, and the
            // pointer came from `Box::into_raw`; the swap frees it once.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

#[cfg(all(test, not(perf_timer_loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    #[test]
    fn racing_initializers_publish_one_value_and_free_the_rest() {
        static LIVE: AtomicUsize = AtomicUsize::new(0);
        struct Counted(u64);
        impl Drop for Counted {
            fn drop(&mut self) {
                LIVE.fetch_sub(1, Relaxed);
            }
        }
        let lazy = LazyBox::<Counted>::new();
        assert!(lazy.get().is_none());
        let seen: Vec<usize> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let value = lazy.get_or_init(|| {
                            LIVE.fetch_add(1, Relaxed);
                            Counted(7)
                        });
                        assert_eq!(value.0, 7);
                        value as *const Counted as usize
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "one value for all");
        assert_eq!(LIVE.load(Relaxed), 1, "the losers were freed");
        drop(lazy);
        assert_eq!(LIVE.load(Relaxed), 0, "the winner is freed on drop");
    }
}
