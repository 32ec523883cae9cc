//! The least a recorder of busy-time percentiles can do per run, as a
//! floor for `run_cost`: the clock read at each poll's start and end, the
//! poll times summed, and at the end one tick-to-nanosecond conversion,
//! one counter index (the log-linear layout of a 3-digit histogram) and
//! one counter, a count and a sum added, in this thread's memory. No
//! wall time, no outcome, no slowest runs, no nesting, no reader, no
//! bound on memory beyond the layout's: what perf-timer's own figures are
//! compared with. Not a bench of its own: included with `mod`.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

/// The default layout of perf-timer's histograms (3 significant digits:
/// 2,048 counters per power of two, 1,024 new in each after the first),
/// its index computed as `Layout::index` does. The clock is the TSC
/// even under callgrind, as for the two-reads row.
const SUB_BUCKET_HALF_MAGNITUDE: u32 = 10;
const SUB_BUCKET_MASK: u64 = 2047;
const LEADING_ZERO_BASE: u32 = 53;
/// Up to 2^32 ns (4.3 s); longer runs counted there.
const HIGHEST: u64 = (1 << 32) - 1;
const LEN: usize = 23 << SUB_BUCKET_HALF_MAGNITUDE;

struct Counts {
    counts: Box<[u64]>,
    count: u64,
    sum: u64,
}

thread_local! {
    static COUNTS: RefCell<Counts> = RefCell::new(Counts {
        counts: vec![0; LEN].into_boxed_slice(),
        count: 0,
        sum: 0,
    });
}

/// The TSC, as perf-timer reads it. `run_cost` makes it before counting
/// anything: quanta's first clock calibrates.
pub fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

#[inline(always)]
fn index(value: u64) -> usize {
    let bucket = LEADING_ZERO_BASE - (value | SUB_BUCKET_MASK).leading_zeros();
    let sub_bucket = (value >> bucket) as usize;
    ((bucket as usize + 1) << SUB_BUCKET_HALF_MAGNITUDE) + sub_bucket
        - (1 << SUB_BUCKET_HALF_MAGNITUDE)
}

/// Counts one run of `ticks`.
#[inline(always)]
fn record(clock: &quanta::Clock, ticks: u64) {
    let nanos = clock.delta_as_nanos(0, ticks).min(HIGHEST);
    COUNTS.with(|counts| {
        let mut counts = counts.borrow_mut();
        counts.counts[index(nanos)] += 1;
        counts.count += 1;
        counts.sum += nanos;
    });
}

/// A sync section, timed the least way.
#[inline(always)]
pub fn section<T>(f: impl FnOnce() -> T) -> T {
    let clock = clock();
    let start = clock.raw();
    let out = f();
    record(clock, clock.raw().wrapping_sub(start));
    out
}

/// A future whose polls are timed the least way: its run counted once
/// `Ready`.
pub struct Least<F> {
    inner: F,
    busy: u64,
}

pub fn time<F: Future>(inner: F) -> Least<F> {
    Least { inner, busy: 0 }
}

impl<F: Future> Future for Least<F> {
    type Output = F::Output;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is never moved out of the pinned `Least`.
        let this = unsafe { self.get_unchecked_mut() };
        let clock = clock();
        let start = clock.raw();
        // SAFETY: as above.
        let output = unsafe { Pin::new_unchecked(&mut this.inner) }.poll(cx);
        this.busy = this.busy.wrapping_add(clock.raw().wrapping_sub(start));
        if output.is_ready() {
            record(clock, this.busy);
        }
        output
    }
}
