//! `spawn`: a tokio task whose whole life is timed.

use std::future::Future;

use tokio::task::JoinHandle;

use crate::instrument::timed::TimedExt as _;

/// Spawns `future` on the current tokio runtime, its whole life timed under
/// `name` in the global registry: one run per task, its busy time the sum of
/// its polls. Panics, like `tokio::spawn`, outside a runtime.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handle = perf_timer::spawn("worker", async { 2 + 2 });
/// assert_eq!(handle.await.unwrap(), 4);
/// assert_eq!(perf_timer::global().stats("worker").unwrap().count(), 1);
/// # }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[track_caller]
pub fn spawn<F>(name: &str, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.timed(name))
}
