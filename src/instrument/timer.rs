//! The ways in of `Timer`, the handle to one named timer: what it wraps
//! and records (its type, state and read side are in `state/timer.rs`).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use futures_core::Stream;

use super::guard::TimerGuard;
use super::stream::TimedItems;
use super::timed::Timed;
use crate::clock::saturating_nanos;
use crate::record::RunSample;
use crate::registry::global;
use crate::state::timer::{RunTimer, Timer};

impl Timer {
    /// Wraps `future` so that its polls are timed and each run is recorded here.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let timer = perf_timer::Registry::new().timer("parse");
    /// let n = timer.time(async { 7 }).await;
    /// assert_eq!((n, timer.stats().count()), (7, 1));
    /// # }
    /// ```
    #[inline]
    pub fn time<F: Future>(&self, future: F) -> Timed<F> {
        Timed::new(future, RunTimer::new(self))
    }

    /// Records one run of `busy` by hand. Durations past the registry's
    /// highest trackable value are recorded as that value and counted as
    /// [clamped](crate::Stats::clamped). Nothing is recorded while the registry is
    /// switched off.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let timer = perf_timer::Registry::new().timer("rpc");
    /// timer.record(Duration::from_micros(250));
    /// assert_eq!(timer.stats().total(), Duration::from_micros(250));
    /// ```
    pub fn record(&self, busy: Duration) {
        if self.core.is_enabled() {
            let nanos = saturating_nanos(busy);
            self.core.record_run(&RunSample::single(nanos), false);
        }
    }

    /// Starts timing a synchronous section; the guard records its wall time
    /// when dropped (or counts a panic, if dropped while unwinding).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("parse");
    /// {
    ///     let _guard = timer.start();
    ///     let _words = "a b c".split(' ').count();
    /// }
    /// assert_eq!(timer.stats().count(), 1);
    /// ```
    #[inline]
    pub fn start(&self) -> TimerGuard<'_> {
        TimerGuard::new(self)
    }

    /// Spawns `future` on the current tokio runtime, timed by this timer.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let timer = perf_timer::Registry::new().timer("worker");
    /// let out = timer.spawn(async { 5 }).await.unwrap();
    /// assert_eq!((out, timer.stats().count()), (5, 1));
    /// # }
    /// ```
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(self.time(future))
    }

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
            core.record_run(&RunSample::single(saturating_nanos(busy)), false);
            core.add_bytes(bytes);
        }
    }
    /// Wraps `stream` so that each item is timed as one run recorded here
    /// (see [`TimedItems`]).
    ///
    /// ```
    /// use tokio_stream::StreamExt as _;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let timer = perf_timer::Registry::new().timer("pages");
    /// let pages = timer.time_items(tokio_stream::iter(["p1", "p2"]));
    /// assert_eq!(pages.fold(0, |n, _| n + 1).await, 2);
    /// assert_eq!(timer.stats().count(), 2);
    /// # }
    /// ```
    pub fn time_items<S: Stream>(&self, stream: S) -> TimedItems<S> {
        TimedItems::new(stream, RunTimer::new(self))
    }
    /// The timer `name` of the [global registry](global), made on first
    /// use: the same handle as `perf_timer::global().timer(name)`. For a
    /// registry of your own, use [`Registry::timer`](crate::Registry::timer). Keep the handle where
    /// runs are frequent: resolving a name is a map lookup.
    ///
    /// ```
    /// let timer = perf_timer::Timer::new("db.query");
    /// timer.record(std::time::Duration::from_micros(40));
    /// assert_eq!(perf_timer::global().stats("db.query").unwrap().count(), 1);
    /// ```
    pub fn new(name: &str) -> Timer {
        global().timer(name)
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer").field("name", &self.name()).finish()
    }
}
