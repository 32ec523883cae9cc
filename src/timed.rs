//! `Timed<F>`: the future wrapper that times only its polls.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::run::{PollScope, Run};
use crate::Timer;

pin_project! {
    /// A future that times each of its polls and, when it returns `Ready`,
    /// records the run's busy time (the sum of its poll times) as one sample.
    ///
    /// Made by [`TimedExt::timed`] or [`Timer::time`]. Dropped before
    /// `Ready`, the run counts as cancelled; a poll that panics counts it as
    /// panicked. Time between polls (waiting on I/O, a timer, a lock) is
    /// never counted.
    ///
    /// ```
    /// use perf_timer::{Registry, Timed};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = Registry::new();
    /// let timed: Timed<_> = registry.timer("answer").time(async { 42 });
    /// assert_eq!(timed.await, 42);
    /// assert_eq!(registry.stats("answer").unwrap().count(), 1);
    /// # }
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timed<F> {
        #[pin]
        inner: F,
        timer: Timer,
        run: Run,
    }

    impl<F> PinnedDrop for Timed<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.run.end(this.timer.core());
        }
    }
}

impl<F> Timed<F> {
    pub(crate) fn new(inner: F, timer: Timer) -> Self {
        Timed {
            inner,
            timer,
            run: Run::new(),
        }
    }

    /// The timer this future records into.
    ///
    /// ```
    /// use perf_timer::TimedExt as _;
    ///
    /// let fut = async {}.timed("load");
    /// assert_eq!(fut.timer().name(), "load");
    /// ```
    pub fn timer(&self) -> &Timer {
        &self.timer
    }

    /// Busy time of this run so far (polls finished so far).
    ///
    /// ```
    /// use perf_timer::TimedExt as _;
    ///
    /// let fut = async {}.timed("load");
    /// assert_eq!(fut.busy(), std::time::Duration::ZERO);
    /// ```
    pub fn busy(&self) -> Duration {
        self.run.busy(self.timer.clock())
    }
}

impl<F: Future> Future for Timed<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let core = this.timer.core();
        if !this.run.begin_poll(core) {
            return this.inner.poll(cx);
        }
        let scope = PollScope::enter(this.run, core.clock());
        let output = this.inner.poll(cx);
        scope.exit();
        if output.is_ready() {
            this.run.complete(core);
        }
        output
    }
}

/// Times any future: `.timed("name")` records its runs in the global registry.
///
/// ```
/// use perf_timer::TimedExt as _;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let body = async { "hello" }.timed("fetch").await;
/// assert_eq!(body, "hello");
/// assert_eq!(perf_timer::global().stats("fetch").unwrap().count(), 1);
/// # }
/// ```
pub trait TimedExt: Future + Sized {
    /// Wraps this future in a [`Timed`] recording into the global registry
    /// under `name`. The name is looked up once, here; on a hot path, keep a
    /// [`Timer`] and use [`Timer::time`] instead.
    ///
    /// ```
    /// use perf_timer::TimedExt as _;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let n = async { 1 + 1 }.timed("sum").await;
    /// assert_eq!(n, 2);
    /// # }
    /// ```
    fn timed(self, name: &str) -> Timed<Self> {
        crate::global().timer(name).time(self)
    }
}

impl<F: Future> TimedExt for F {}
