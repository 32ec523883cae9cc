//! Bytes and throughput: how much data a run handled, so that the report
//! can say `4.10 KB/run, 12.3 MB/s busy`. Bytes count when they are added,
//! on the cold path (the timer's stripe, as a run in flight's flush does).

use crate::poll::frame;

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
    let timer = frame::innermost_timer();
    if timer.is_null() {
        return;
    }
    // SAFETY: a non-null timer is set only for the length of one poll of a
    // timed future, which holds that timer alive; this call runs inside it.
    let core = unsafe { &*timer };
    core.add_bytes(n);
}
