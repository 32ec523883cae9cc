//! `CountingAllocator`: a global allocator that counts, per thread, the
//! allocations it passes on, for the allocations per run of every timer.

use std::alloc::{GlobalAlloc, Layout};

use super::thread;

/// A global allocator that counts each thread's allocations and their
/// bytes, then passes them on to `A`: installed, every timer counts the
/// allocations of its runs ([`Stats::allocations`](crate::Stats::allocations)).
///
/// A timed poll reads the thread's counters when it starts and when it
/// ends, and adds the difference to its run: so a run is counted exactly
/// wherever its polls run (tasks move between worker threads), and what
/// other tasks allocate on the same worker between its polls never counts
/// for it. Nested timed runs count for the runs they are nested in, and
/// for their self allocations
/// ([`Allocations::self_count`](crate::Allocations::self_count)) only the
/// innermost. A sync section ([`Timer::start`](crate::Timer::start), a
/// sync `#[timed]` fn) counts what its thread allocates until it ends.
/// A run dropped before `Ready` (cancelled) counts what dropping its
/// future allocates, too.
///
/// **What counts.** `alloc` and `alloc_zeroed`: one allocation of the
/// requested size. `realloc`: one allocation of the growth (new size less
/// the old; nothing when it shrinks), so that a `Vec` grown by pushes to
/// 1 KiB counts 1 KiB of bytes however many times it grew, and each
/// growth as one allocation. `dealloc`: nothing (bytes are allocated
/// bytes, not memory held). A failed allocation (null) counts nothing.
///
/// **Cost.** A thread-local add per allocation, and with it installed,
/// two reads of it per timed poll. Without it, a timed poll pays one
/// static load and a branch, and `Stats::allocations` is `None`.
///
/// ```
/// #[global_allocator]
/// static ALLOC: perf_timer::CountingAllocator<std::alloc::System> =
///     perf_timer::CountingAllocator::new(std::alloc::System);
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use perf_timer::TimedExt as _;
///
/// let registry = perf_timer::Registry::new();
/// registry
///     .timer("parse")
///     .time(async { std::hint::black_box(vec![0_u8; 100]) })
///     .await;
/// let stats = registry.stats("parse").unwrap();
/// let allocations = stats.allocations().unwrap();
/// assert_eq!((allocations.count(), allocations.bytes()), (1, 100));
/// # }
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAllocator<A> {
    inner: A,
}

impl<A: GlobalAlloc> CountingAllocator<A> {
    /// Counts the allocations passed on to `inner`, usually
    /// `std::alloc::System` or another crate's allocator.
    ///
    /// ```
    /// #[global_allocator]
    /// static ALLOC: perf_timer::CountingAllocator<std::alloc::System> =
    ///     perf_timer::CountingAllocator::new(std::alloc::System);
    /// # fn main() {}
    /// ```
    pub const fn new(inner: A) -> Self {
        CountingAllocator { inner }
    }

    /// The allocator it passes allocations on to.
    ///
    /// ```
    /// let counting = perf_timer::CountingAllocator::new(std::alloc::System);
    /// let _system: &std::alloc::System = counting.inner();
    /// ```
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

// SAFETY: every call is passed on to `inner` with the caller's arguments
// unchanged, and its result returned unchanged; counting touches only
// const-initialized thread-local integers (no allocation, no panic, no
// destructor), so `A`'s guarantees are this allocator's.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            thread::count(layout.size() as u64);
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            thread::count(layout.size() as u64);
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            thread::count(new_size.saturating_sub(layout.size()) as u64);
        }
        new
    }
}
