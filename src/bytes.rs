//! Bytes and throughput: how much data a run handled, so that the report
//! can say `4.10 KB/run, 12.3 MB/s busy`. Bytes count when they are added,
//! on the cold path (the timer's stripe, as a run in flight's flush does).

use std::time::Duration;

use crate::clock::saturating_nanos;
use crate::record::RunSample;
use crate::task;
use crate::Timer;

/// Adds `n` bytes to the innermost timed run being polled on this thread:
/// the run of the [`Timed`](crate::Timed) future (or `#[timed]` async fn,
/// or stream item) whose poll is calling this. Outside a timed poll it does
/// nothing. [`Stats::bytes`](crate::Stats::bytes) and the report then give
/// bytes per run and per busy second.
///
/// ```
/// use perf_timer::TimedExt as _;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// async {
///     let body = vec![0_u8; 4096]; // a request's body, say
///     perf_timer::add_bytes(body.len() as u64);
/// }
/// .timed("upload")
/// .await;
/// assert_eq!(perf_timer::global().stats("upload").unwrap().bytes(), 4096);
/// perf_timer::add_bytes(10); // outside a timed poll: nothing
/// # }
/// ```
pub fn add_bytes(n: u64) {
    let timer = task::innermost_timer();
    if timer.is_null() {
        return;
    }
    // SAFETY: a non-null timer is set only for the length of one poll of a
    // timed future, which holds that timer alive; this call runs inside it.
    let core = unsafe { &*timer };
    core.add_bytes(n);
}

impl Timer {
    /// Records one completed run of `busy` that handled `bytes`, as
    /// [`record`](Timer::record) does.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let timer = perf_timer::Registry::new().timer("encode");
    /// timer.record_with_bytes(Duration::from_millis(2), 8_000);
    /// let stats = timer.stats();
    /// assert_eq!((stats.count(), stats.bytes()), (1, 8_000));
    /// assert_eq!(stats.bytes_per_busy_second(), Some(4_000_000.0));
    /// ```
    pub fn record_with_bytes(&self, busy: Duration, bytes: u64) {
        let core = self.core();
        if core.is_enabled() {
            core.record_run(RunSample::single(saturating_nanos(busy)), false);
            core.add_bytes(bytes);
        }
    }
}
