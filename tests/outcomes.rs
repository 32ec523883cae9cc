//! Cancelled and panicked runs: counted, never recorded as samples, and no
//! thread-local state left behind.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::time::Duration;

use common::*;
use perf_timer::{task_perf_counter, MockClock};

#[test]
fn dropped_before_ready_counts_as_cancelled() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("c");
    {
        let mut fut = pin!(timer.time(Steps::new(&mock, &[us(5), us(5)])));
        assert!(poll_once(fut.as_mut()).is_pending());
    }
    drop(timer.time(async {})); // never polled: not a run at all
    let stats = timer.stats();
    assert_eq!(
        (stats.count(), stats.cancelled(), stats.panicked()),
        (0, 1, 0)
    );
}

#[test]
fn a_panicking_poll_counts_as_panicked_and_leaves_the_thread_clean() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("p");
    let m = mock.clone();
    let mut fut = Box::pin(timer.time(async move {
        m.advance(us(3));
        panic!("poll failed");
    }));
    let caught = catch_unwind(AssertUnwindSafe(|| poll_once(fut.as_mut())));
    assert!(caught.is_err());
    assert_eq!(task_perf_counter(), None);
    drop(fut);
    let stats = timer.stats();
    assert_eq!(
        (stats.count(), stats.cancelled(), stats.panicked()),
        (0, 0, 1)
    );

    // The next timed future on this thread is measured as usual.
    let m = mock.clone();
    let mut next = pin!(timer.time(async move {
        m.advance(us(7));
        task_perf_counter()
    }));
    assert_eq!(
        poll_once(next.as_mut()),
        std::task::Poll::Ready(Some(us(7)))
    );
    assert_eq!(timer.stats().total(), us(7));
}

#[test]
fn a_panic_inside_a_nested_timer_unwinds_both() {
    let (registry, mock) = mock_registry();
    let inner = registry.timer("inner");
    let m = mock.clone();
    let mut fut = Box::pin(registry.timer("outer").time(async move {
        inner
            .time(async {
                m.advance(us(1));
                panic!("inner");
            })
            .await
    }));
    assert!(catch_unwind(AssertUnwindSafe(|| poll_once(fut.as_mut()))).is_err());
    assert_eq!(task_perf_counter(), None);
    drop(fut);
    assert_eq!(registry.stats("outer").unwrap().panicked(), 1);
    assert_eq!(registry.stats("inner").unwrap().panicked(), 1);
}

#[test]
fn a_panicking_sync_section_counts_as_panicked() {
    let (registry, _mock) = mock_registry();
    let timer = registry.timer("s");
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let _guard = timer.start();
        panic!("section failed");
    }));
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.panicked()), (0, 1));
}

/// Runs a timed section in its destructor.
struct TimesOnDrop<'a>(&'a perf_timer::Timer, &'a MockClock);

impl Drop for TimesOnDrop<'_> {
    fn drop(&mut self) {
        let _guard = self.0.start();
        self.1.advance(Duration::from_micros(3));
    }
}

#[perf_timer::timed("cleanup")]
fn cleanup() -> u32 {
    7
}

/// Calls a sync `#[timed]` function in its destructor.
struct CallsOnDrop;

impl Drop for CallsOnDrop {
    fn drop(&mut self) {
        assert_eq!(cleanup(), 7);
    }
}

#[test]
fn a_section_that_starts_and_ends_during_an_unrelated_unwind_is_a_completed_run() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("in drop");
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let _times = TimesOnDrop(&timer, &mock);
        panic!("unrelated");
    }));
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.panicked()), (1, 0));
    assert_eq!(stats.total(), Duration::from_micros(3));

    let before = perf_timer::global()
        .stats("cleanup")
        .map_or(0, |s| s.count());
    let _ = catch_unwind(|| {
        let _calls = CallsOnDrop;
        panic!("unrelated");
    });
    let cleanup = perf_timer::global().stats("cleanup").unwrap();
    assert_eq!((cleanup.count() - before, cleanup.panicked()), (1, 0));
}

#[tokio::test]
async fn tokio_timeout_and_abort_cancel_the_run() {
    let registry = perf_timer::Registry::new();
    let timer = registry.timer("slow");
    let slow = timer.time(tokio::time::sleep(Duration::from_secs(60)));
    assert!(tokio::time::timeout(Duration::from_millis(5), slow)
        .await
        .is_err());

    let handle = timer.spawn(tokio::time::sleep(Duration::from_secs(60)));
    tokio::task::yield_now().await; // let it be polled once
    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());

    assert_eq!(timer.stats().cancelled(), 2);
    assert_eq!(timer.stats().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_task_is_counted_and_the_runtime_keeps_working() {
    let registry = perf_timer::Registry::new();
    let timer = registry.timer("task");
    let err = timer
        .spawn(async { panic!("task failed") })
        .await
        .unwrap_err();
    assert!(err.is_panic());
    for _ in 0..10 {
        timer
            .spawn(async { assert!(task_perf_counter().is_some()) })
            .await
            .unwrap();
    }
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.panicked()), (10, 1));
}

#[test]
fn classifying_a_run_under_way_keeps_its_polls() {
    use std::future::Future as _;
    let (registry, mock) = mock_registry();
    let timer = registry.timer("classified late");
    let mock2 = mock.clone();
    // `Box::pin` makes it `Unpin`: it can be polled, then moved.
    let mut fut = timer.time(Box::pin(async move {
        mock2.advance(us(3));
        yield_once().await;
        mock2.advance(us(2));
        Err::<(), &str>("refused")
    }));
    assert!(poll_once(std::pin::Pin::new(&mut fut)).is_pending());
    let mut fut = fut.classify::<perf_timer::ErrOutput>();
    assert_eq!(fut.busy(), us(3));
    let out = std::pin::Pin::new(&mut fut)
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    assert_eq!(out, std::task::Poll::Ready(Err("refused")));
    drop(fut);
    let stats = timer.stats();
    assert_eq!(
        (stats.count(), stats.errors(), stats.cancelled()),
        (1, 1, 0)
    );
    assert_eq!(stats.total(), us(5));
    assert_eq!(stats.polls(), 2);
}
