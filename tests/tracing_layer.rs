//! `PerfTimerLayer`: spans' busy time, on a mock clock.
//!
//! One test in this binary: tracing caches per call site whether anyone
//! listens, which tests on other threads could disturb.

mod common;

use std::pin::pin;
use std::time::Duration;

use common::*;
use perf_timer::PerfTimerLayer;
use tracing::Instrument as _;
use tracing_subscriber::prelude::*;

#[tracing::instrument(skip(mock))]
async fn handler(mock: perf_timer::MockClock, n: u64) {
    mock.advance(us(n));
    yield_once().await;
    mock.advance(us(n));
}

#[test]
fn spans_are_timed_by_their_time_entered() {
    let (registry, mock) = mock_registry();
    let subscriber = tracing_subscriber::registry().with(PerfTimerLayer::new(&registry));
    tracing::subscriber::with_default(subscriber, || {
        // A future under a span: entered once per poll, waiting excluded.
        {
            let span = tracing::info_span!("fetch");
            let mut fut = pin!(Steps::new(&mock, &[us(10), us(20)]).instrument(span));
            assert!(poll_once(fut.as_mut()).is_pending());
            mock.advance(Duration::from_millis(1));
            assert!(poll_once(fut.as_mut()).is_ready());
        } // the span closes here: one run
        let fetch = registry.stats("fetch").unwrap();
        assert_eq!(fetch.count(), 1);
        assert_eq!(fetch.total(), us(30));
        assert_eq!(fetch.wall().total(), us(1030));
        // Two polls, and `Instrumented` enters the span once more to drop the future.
        assert_eq!(fetch.polls(), 3);
        assert_eq!(fetch.longest_poll(), Some(us(20)));

        // Entered again while entered: counted once.
        let span = tracing::info_span!("reentrant");
        span.in_scope(|| {
            mock.advance(us(5));
            span.in_scope(|| mock.advance(us(3)));
        });
        drop(span);
        let reentrant = registry.stats("reentrant").unwrap();
        assert_eq!(
            (reentrant.count(), reentrant.total(), reentrant.polls()),
            (1, us(8), 1)
        );

        // #[tracing::instrument] on an async fn: one run per call.
        for n in [1, 2, 3] {
            let mut fut = pin!(handler(mock.clone(), n));
            while poll_once(fut.as_mut()).is_pending() {
                mock.advance(us(500));
            }
        }
        let handler = registry.stats("handler").unwrap();
        assert_eq!(handler.count(), 3);
        assert_eq!(handler.total(), us(2 * (1 + 2 + 3)));
        assert_eq!(handler.idle().total(), us(3 * 500));

        // A span never entered is not a run.
        drop(tracing::info_span!("never entered"));
        assert_eq!(registry.stats("never entered").unwrap().count(), 0);

        // A long-lived span shows in flight, with its time entered so far.
        let step = Duration::from_nanos(100 << 16); // flushed whole
        let span = tracing::info_span!("connection");
        for _ in 0..3 {
            span.in_scope(|| mock.advance(step));
        }
        let connection = registry.stats("connection").unwrap();
        assert_eq!((connection.count(), connection.in_flight()), (0, 1));
        assert_eq!(connection.poll_total(), step * 2);
        drop(span);
        let connection = registry.stats("connection").unwrap();
        assert_eq!((connection.count(), connection.in_flight()), (1, 0));
        assert_eq!(connection.poll_total(), step * 3);

        // Closed while timing is off: not a sample, its time still spent.
        let span = tracing::info_span!("closed while off");
        span.in_scope(|| mock.advance(us(7)));
        registry.set_enabled(false);
        drop(span);
        registry.set_enabled(true);
        let closed = registry.stats("closed while off").unwrap();
        assert_eq!((closed.count(), closed.poll_total()), (0, us(7)));
    });
}
