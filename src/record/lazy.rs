//! `LazySlice`: a slice allocated by whichever thread needs it first,
//! without a lock.
//!
//! Racing threads each allocate; one compare-and-swap publishes the winner
//! and the others free theirs. Nobody waits, so the record path never
//! blocks, not even the first time a value lands in a new chunk.

use std::ptr;
use std::sync::atomic::Ordering::{AcqRel, Acquire};

use super::sync::AtomicPtr;

/// A slice of a length fixed by its owner, allocated on first use.
///
/// It does not know its length, to stay one word: the owner passes the same
/// `len` on every call and frees it with [`LazySlice::free`].
pub(crate) struct LazySlice<T> {
    ptr: AtomicPtr<T>,
}

impl<T> LazySlice<T> {
    pub(crate) fn new() -> Self {
        LazySlice {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The slice, if some thread has allocated it.
    #[inline(always)]
    pub(crate) fn get(&self, len: usize) -> Option<&[T]> {
        // Acquire: pairs with the release of the publishing CAS, so the
        // initialized elements are visible before the pointer is.
        let p = self.ptr.load(Acquire);
        // SAFETY: a non-null pointer came from `Box<[T]>::into_raw` of a
        // slice of `len` elements (the owner always passes the same `len`)
        // and is freed only by `free`, which takes `&mut self`.
        (!p.is_null()).then(|| unsafe { &*ptr::slice_from_raw_parts(p, len) })
    }

    /// The slice, allocating it with `init` for each element if needed.
    #[inline(always)]
    pub(crate) fn get_or_init(&self, len: usize, init: impl FnMut() -> T) -> &[T] {
        match self.get(len) {
            Some(slice) => slice,
            None => self.init(len, init),
        }
    }

    #[cold]
    #[inline(never)]
    fn init(&self, len: usize, mut init: impl FnMut() -> T) -> &[T] {
        let fresh: Box<[T]> = (0..len).map(|_| init()).collect();
        let fresh = Box::into_raw(fresh) as *mut T;
        let p = match self
            .ptr
            .compare_exchange(ptr::null_mut(), fresh, AcqRel, Acquire)
        {
            Ok(_) => fresh,
            Err(winner) => {
                // SAFETY: `fresh` was never published; it is ours to free.
                drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(fresh, len)) });
                winner
            }
        };
        // SAFETY: as in `get`: `p` is a published slice of `len` elements.
        unsafe { &*ptr::slice_from_raw_parts(p, len) }
    }

    /// Frees the slice, if allocated. `len` must be the one every call used.
    pub(crate) fn free(&mut self, len: usize) {
        let p = self.ptr.swap(ptr::null_mut(), Acquire);
        if !p.is_null() {
            // SAFETY: `p` came from `Box<[T]>::into_raw` with `len`
            // elements, and `&mut self` means no reference to it is alive.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(p, len)) });
        }
    }
}

#[cfg(all(test, not(perf_timer_loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    #[test]
    fn racing_initializers_publish_one_slice_and_free_the_rest() {
        let made = AtomicUsize::new(0);
        let mut lazy = LazySlice::<u64>::new();
        let seen: Vec<usize> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let slice = lazy.get_or_init(4, || {
                            made.fetch_add(1, Relaxed);
                            7
                        });
                        assert_eq!(slice, [7, 7, 7, 7]);
                        slice.as_ptr() as usize
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "one slice for all");
        assert!(made.load(Relaxed) >= 4);
        lazy.free(4);
        assert!(lazy.get(4).is_none());
    }
}
