//! `Timed<F>`: the future wrapper that times only its polls.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::classify::{Classify, ErrOutput, NoErrors};
use crate::poll::run::{Begin, PollScope, Run};
use crate::poll::scheduled;
use crate::state::timer::{RunTimer, Timer};

pin_project! {
    /// A future that times each of its polls and, when it returns `Ready`,
    /// records the run's busy time (the sum of its poll times) as one sample.
    ///
    /// Made by [`TimedExt::timed`] or [`Timer::time`]. Dropped before
    /// `Ready`, the run counts as cancelled; a poll that panics counts it as
    /// panicked. Time between polls (waiting on I/O, a timer, a lock) is
    /// never counted as busy; it is the run's idle time. `C` decides which
    /// outputs count as errors ([`Classify`]; none by default).
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
    pub struct Timed<F, C = NoErrors> {
        #[pin]
        body: Body<F>,
        classify: PhantomData<fn() -> C>,
    }
}

pin_project! {
    /// The timed future and its run. Its own `Drop`, so that `Timed`
    /// needs none and can be taken apart (`classify`): a run dropped
    /// unfinished counts what dropping `inner` allocates (fields drop
    /// after this, `inner` first, then the run, which ends there).
    struct Body<F> {
        #[pin]
        inner: F,
        timed: TimedRun,
    }

    impl<F> PinnedDrop for Body<F> {
        fn drop(this: Pin<&mut Self>) {
            this.project().timed.run.dropping();
        }
    }
}

/// The run of a [`Timed`] and the timer it records into. Dropped before the
/// run completes, it counts the run as cancelled: its own `Drop`, so that
/// `Timed` needs none and can be taken apart safely.
pub(crate) struct TimedRun {
    pub(crate) timer: RunTimer,
    pub(crate) run: Run,
}

impl Drop for TimedRun {
    // Inline: a recorded run's drop is one compare.
    #[inline]
    fn drop(&mut self) {
        self.run.end(self.timer.core());
    }
}

impl<F> Timed<F> {
    #[inline(always)]
    pub(crate) fn new(inner: F, timer: RunTimer) -> Self {
        Timed {
            body: Body {
                inner,
                timed: TimedRun {
                    timer,
                    run: Run::new(),
                },
            },
            classify: PhantomData,
        }
    }
}

impl<F, C> Timed<F, C> {
    /// Classifies outputs with `C2` instead: which completed runs count as
    /// [errors](crate::Stats::errors). A run already under way (an `Unpin`
    /// future polled before) carries on: its polls so far still count.
    ///
    /// ```
    /// use perf_timer::{ErrOutput, TimedExt as _};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let out: Result<(), &str> = async { Err("no") }.timed("x").classify::<ErrOutput>().await;
    /// assert!(out.is_err());
    /// # }
    /// ```
    pub fn classify<C2>(self) -> Timed<F, C2> {
        Timed {
            body: self.body,
            classify: PhantomData,
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
        &self.body.timed.timer
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
        let timed = &self.body.timed;
        timed.run.busy(timed.timer.clock())
    }
}

impl<F, C> std::fmt::Debug for Timed<F, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timed")
            .field("timer", &self.body.timed.timer.name())
            .field("busy", &self.busy())
            .finish_non_exhaustive()
    }
}

impl<F: Future, C: Classify<F::Output>> Future for Timed<F, C> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let body = self.project().body.project();
        body.timed.poll(body.inner, cx, C::is_error)
    }
}

impl TimedRun {
    /// One poll of the run, `poll` doing the polling: timed, and with
    /// `SAMPLE` for scheduling delay if the run is sampled. The clock
    /// reading at its end, `None` when the poll was not timed (timing is
    /// off for this run). The one routine every timed poll goes through: a
    /// future's, a stream item's, a response's and its body's.
    #[inline(always)]
    pub(crate) fn poll_timed<const SAMPLE: bool, T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> (Poll<T>, Option<u64>) {
        let TimedRun { timer, run } = self;
        let core = timer.core();
        match run.begin_poll::<SAMPLE>(core) {
            Begin::Timed => {
                let scope = PollScope::enter(run, core);
                let output = poll(cx);
                let end = scope.exit(output.is_pending());
                (output, Some(end))
            }
            Begin::Untimed => (poll(cx), None),
            Begin::Sampled => {
                let (output, end) = scheduled::poll_sampled(poll, cx, run, timer);
                (output, Some(end))
            }
        }
    }

    /// One poll of `inner`, the future this run times, recorded once
    /// `Ready`, `is_error` deciding whether its output counts as an error.
    #[inline(always)]
    pub(crate) fn poll<F: Future>(
        &mut self,
        inner: Pin<&mut F>,
        cx: &mut Context<'_>,
        is_error: impl FnOnce(&F::Output) -> bool,
    ) -> Poll<F::Output> {
        let (output, end) = self.poll_timed::<true, _>(cx, |cx| inner.poll(cx));
        if let (Poll::Ready(out), Some(end)) = (&output, end) {
            self.run.complete(self.timer.core(), end, is_error(out));
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
    /// under `name`. The name is looked up once, here, in a small cache of
    /// this thread's, by the name's address (a string literal's does not
    /// change) and then its bytes: a name seen before on this thread costs
    /// about what a [`Timer`] handle does; a new one costs a map lookup.
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
    #[inline]
    fn timed(self, name: &str) -> Timed<Self> {
        Timed::new(self, crate::registry::cached::global_timer(name))
    }

    /// Like [`timed`](TimedExt::timed), and runs that end in `Err` are also
    /// counted as [errors](crate::Stats::errors) (they stay samples: their
    /// busy time was spent). `#[timed]` on a function returning `Result`
    /// (async or sync) counts `Err` the same way; `#[timed(errors = false)]`
    /// counts none.
    ///
    /// ```
    /// use perf_timer::TimedExt as _;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let out: Result<u8, String> = async { Err("refused".to_owned()) }
    ///     .timed_result("connect")
    ///     .await;
    /// assert!(out.is_err());
    /// let stats = perf_timer::global().stats("connect").unwrap();
    /// assert_eq!((stats.count(), stats.errors()), (1, 1));
    /// # }
    /// ```
    fn timed_result<T, E>(self, name: &str) -> Timed<Self, ErrOutput>
    where
        Self: Future<Output = Result<T, E>>,
    {
        self.timed(name).classify()
    }
}

impl<F: Future> TimedExt for F {}
