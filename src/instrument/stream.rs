//! `TimedItems<S>`: a stream wrapper that times its polls and records one
//! run per item.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use pin_project_lite::pin_project;

use crate::instrument::timed::TimedRun;
use crate::poll::run::Run;
use crate::state::timer::{RunTimer, Timer};

pin_project! {
    /// A stream whose items are timed one by one: each item is one run,
    /// whose busy time is the poll time from the previous item (or the
    /// first poll) up to this item, and whose wall time runs between the
    /// same two points. Waiting between polls (for a message, a timer) is
    /// never busy time.
    ///
    /// The end of the stream is not a run. Dropped between items, nothing
    /// is counted; dropped while producing an item, that run counts as
    /// cancelled; a poll that panics counts it as panicked.
    ///
    /// Made by [`TimedStreamExt::timed_items`] or [`Timer::time_items`].
    /// To time a whole stream as one run instead (a connection's life, say),
    /// time the future that drives it with [`TimedExt::timed`](crate::TimedExt::timed).
    ///
    /// ```
    /// use tokio_stream::StreamExt as _;
    /// use perf_timer::TimedStreamExt as _;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::new();
    /// let items = tokio_stream::iter([1, 2, 3]).map(|n| n * 10);
    /// let timed = registry.timer("items").time_items(items);
    /// assert_eq!(timed.collect::<Vec<_>>().await, [10, 20, 30]);
    /// assert_eq!(registry.stats("items").unwrap().count(), 3);
    /// # }
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct TimedItems<S> {
        #[pin]
        inner: S,
        timed: TimedRun,
    }

    impl<S> PinnedDrop for TimedItems<S> {
        fn drop(this: Pin<&mut Self>) {
            // An item under way counts what dropping the stream allocates.
            this.project().timed.run.dropping();
        }
    }
}

impl<S: Stream> Stream for TimedItems<S> {
    type Item = S::Item;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let mut inner = this.inner;
        let (item, end) = this
            .timed
            .poll_timed::<false, _>(cx, |cx| inner.as_mut().poll_next(cx));
        let TimedRun { timer, run } = this.timed;
        match (&item, end) {
            (Poll::Ready(Some(_)), Some(end)) => {
                run.complete(timer.core(), end, false);
                run.next_item();
            }
            // An item begun while timing was off ends here; the next one
            // may be timed again.
            (Poll::Ready(Some(_)), None) => run.next_item(),
            (Poll::Ready(None), Some(_)) => run.stream_ended(timer.core()),
            _ => {}
        }
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<S> std::fmt::Debug for TimedItems<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimedItems")
            .field("timer", &self.timed.timer.name())
            .finish_non_exhaustive()
    }
}

impl<S> TimedItems<S> {
    /// `stream`, each item a run of `timer`.
    pub(crate) fn new(stream: S, timer: RunTimer) -> Self {
        TimedItems {
            inner: stream,
            timed: TimedRun {
                timer,
                run: Run::new(),
            },
        }
    }

    /// The timer this stream records into.
    ///
    /// ```
    /// use perf_timer::TimedStreamExt as _;
    ///
    /// let items = tokio_stream::iter([1]).timed_items("ticks");
    /// assert_eq!(items.timer().name(), "ticks");
    /// ```
    pub fn timer(&self) -> &Timer {
        &self.timed.timer
    }
}

/// Times each item of any stream: `.timed_items("name")` records one run
/// per item in the global registry.
///
/// ```
/// use tokio_stream::StreamExt as _;
/// use perf_timer::TimedStreamExt as _;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut messages = tokio_stream::iter(["a", "b"]).timed_items("ws.message");
/// while let Some(message) = messages.next().await {
///     let _ = message;
/// }
/// assert_eq!(perf_timer::global().stats("ws.message").unwrap().count(), 2);
/// # }
/// ```
pub trait TimedStreamExt: Stream + Sized {
    /// Wraps this stream in a [`TimedItems`] recording into the global
    /// registry under `name`, looked up once, here.
    ///
    /// ```
    /// use perf_timer::TimedStreamExt as _;
    ///
    /// let items = tokio_stream::iter(0..3).timed_items("numbers");
    /// # drop(items);
    /// ```
    fn timed_items(self, name: &str) -> TimedItems<Self> {
        TimedItems::new(self, crate::registry::cached::global_timer(name))
    }
}

impl<S: Stream> TimedStreamExt for S {}
