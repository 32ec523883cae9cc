//! The atomics and cells the recorder is built on: std's, or loom's when the
//! recorder is model-checked (`RUSTFLAGS="--cfg perf_timer_loom"`; a cfg of
//! our own, since `--cfg loom` also puts tokio in its loom mode, in which
//! the dev-dependencies do not build).

#[cfg(perf_timer_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize};
#[cfg(not(perf_timer_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize};

/// A cell whose owner serializes access; loom's checks every access.
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(
    #[cfg(perf_timer_loom)] loom::cell::UnsafeCell<T>,
    #[cfg(not(perf_timer_loom))] std::cell::UnsafeCell<T>,
);

impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        #[cfg(perf_timer_loom)]
        return UnsafeCell(loom::cell::UnsafeCell::new(value));
        #[cfg(not(perf_timer_loom))]
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Runs `f` on the value.
    ///
    /// # Safety
    ///
    /// No other access to the value may happen during the call.
    #[inline(always)]
    pub(crate) unsafe fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(perf_timer_loom)]
        // SAFETY: passed on to the caller.
        return self.0.with_mut(|p| f(unsafe { &mut *p }));
        #[cfg(not(perf_timer_loom))]
        // SAFETY: passed on to the caller.
        f(unsafe { &mut *self.0.get() })
    }
}

/// One turn of a wait for a lock another thread holds for a few
/// nanoseconds, or longer if the OS descheduled it.
#[inline]
pub(crate) fn spin() {
    #[cfg(perf_timer_loom)]
    loom::thread::yield_now();
    #[cfg(not(perf_timer_loom))]
    std::thread::yield_now();
}
