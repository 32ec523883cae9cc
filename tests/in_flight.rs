//! Work that has not finished: busy time reaches `poll_total` while a run is
//! in flight, and stays there when the run is cancelled, panics or is cut by
//! a timeout; `in_flight` counts the runs under way.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::{runtime, *};
use perf_timer::{MockClock, Registry};

/// A run in flight hands over its busy time in whole units of 2^16 clock
/// ticks (nanoseconds, for the mock clock): steps of 100 units are flushed
/// exactly.
const STEP: Duration = Duration::from_nanos(100 << 16);

/// Never ready: each poll moves the mock clock by `step` and wakes itself.
fn forever(mock: &MockClock, step: Duration) -> impl Future<Output = ()> + Unpin {
    let mock = mock.clone();
    std::future::poll_fn(move |cx| {
        mock.advance(step);
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}

#[test]
fn a_run_in_flight_shows_its_busy_time_and_keeps_it_when_cancelled() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("job");
    let mut job = timer.time(forever(&mock, ms(3)));
    for polls in 1..=10_u64 {
        let _ = poll_once(Pin::new(&mut job));
        let stats = timer.stats();
        let truth = ms(3 * polls);
        assert_eq!(stats.count(), 0);
        assert!(stats.poll_total() <= truth, "{polls}: {stats:?}");
        assert!(
            truth - stats.poll_total() < ms(10),
            "lags by less than 10 ms: {:?} of {truth:?}",
            stats.poll_total()
        );
        // In flight from its first flush, 10 ms after its first poll.
        assert_eq!(stats.in_flight(), u64::from(polls >= 4), "{polls}");
    }
    drop(job);
    let stats = timer.stats();
    assert_eq!(
        (stats.count(), stats.cancelled(), stats.in_flight()),
        (0, 1, 0)
    );
    assert_eq!(stats.poll_total(), ms(30));
    assert_eq!(stats.abandoned_busy(), ms(30));
    assert_eq!(stats.total(), Duration::ZERO);
}

#[test]
fn a_completed_run_counts_its_busy_time_once() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("job");
    let steps = [ms(4); 9];
    poll_to_end(timer.time(Steps::new(&mock, &steps)));
    timer.record(ms(1));
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.in_flight()), (2, 0));
    assert_eq!(stats.total(), ms(37));
    assert_eq!(stats.poll_total(), ms(37));
    assert_eq!(stats.abandoned_busy(), Duration::ZERO);
}

#[test]
fn a_run_that_moves_threads_leaves_no_run_in_flight_behind() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("job");
    let mut steps = [ms(6); 8].to_vec();
    steps.push(ms(1));
    let mut job = Box::pin(timer.time(Steps::new(&mock, &steps)));
    // Flushes from one thread, settles from others.
    for _ in 0..4 {
        std::thread::scope(|s| {
            s.spawn(|| {
                let _ = poll_once(job.as_mut());
                let _ = poll_once(job.as_mut());
            });
        });
        assert_eq!(timer.stats().in_flight(), 1);
    }
    std::thread::spawn(move || {
        assert!(job
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready())
    })
    .join()
    .unwrap();
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.in_flight()), (1, 0));
    assert_eq!(stats.poll_total(), ms(49));
    assert_eq!(stats.total(), ms(49));
}

#[test]
fn a_window_counts_only_the_busy_time_spent_in_it() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("job");
    let mut intervals = registry.intervals();
    let steps = [STEP, STEP, STEP, STEP, ms(1)];
    let mut job = Box::pin(timer.time(Steps::new(&mock, &steps)));
    for _ in 0..2 {
        let _ = poll_once(Pin::new(&mut job));
    }
    let first = intervals.next().unwrap();
    let stats = first.get("job").unwrap();
    assert_eq!((stats.count(), stats.in_flight()), (0, 1));
    assert_eq!(stats.poll_total(), STEP * 2);
    while job
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending()
    {}
    let second = intervals.next().unwrap();
    let stats = second.get("job").unwrap();
    assert_eq!((stats.count(), stats.in_flight()), (1, 0));
    assert_eq!(stats.total(), STEP * 4 + ms(1));
    assert_eq!(
        stats.poll_total(),
        STEP * 2 + ms(1),
        "less the two steps of the first window"
    );
}

#[test]
fn panicked_runs_and_ended_streams_keep_their_busy_time() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("job");
    let m = mock.clone();
    let mut boom = Box::pin(timer.time(std::future::poll_fn(move |_| -> Poll<()> {
        m.advance(ms(2));
        panic!("boom")
    })));
    let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = boom.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    }));
    assert!(polled.is_err());
    drop(boom);
    let stats = timer.stats();
    assert_eq!((stats.panicked(), stats.in_flight()), (1, 0));
    assert_eq!(stats.abandoned_busy(), ms(2));

    // Two items of 3 ms, then 5 ms of polls that find the end: not a run,
    // but polls all the same.
    let items = registry.timer("items");
    let m = mock.clone();
    let mut left = 3;
    let stream = futures::stream::poll_fn(move |_| {
        left -= 1;
        if left == 0 {
            m.advance(ms(5));
            Poll::Ready(None)
        } else {
            m.advance(ms(3));
            Poll::Ready(Some(()))
        }
    });
    let collected = poll_to_end(futures::StreamExt::count(items.time_items(stream)));
    assert_eq!(collected, 2);
    let stats = items.stats();
    assert_eq!((stats.count(), stats.total()), (2, ms(6)));
    assert_eq!(stats.poll_total(), ms(11));
}

#[test]
fn switching_off_mid_run_keeps_the_time_measured_so_far() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("job");
    let mut job = timer.time(forever(&mock, ms(7)));
    let _ = poll_once(Pin::new(&mut job));
    let _ = poll_once(Pin::new(&mut job));
    assert_eq!(timer.stats().in_flight(), 1);
    registry.set_enabled(false);
    let _ = poll_once(Pin::new(&mut job));
    registry.set_enabled(true);
    let stats = timer.stats();
    assert_eq!((stats.in_flight(), stats.cancelled()), (0, 0));
    assert_eq!(stats.poll_total(), ms(14));
    drop(job);
    assert_eq!(timer.stats().cancelled(), 0, "no longer timed: not a run");
}

#[test]
fn the_report_and_exports_show_work_in_flight() {
    let (clock, mock) = perf_timer::Clock::mock();
    let registry = Registry::builder()
        .clock(clock)
        .slow_poll_threshold(Duration::from_secs(1))
        .build()
        .unwrap();
    let timer = registry.timer("bg");
    let mut job = timer.time(forever(&mock, STEP));
    for _ in 0..4 {
        let _ = poll_once(Pin::new(&mut job));
    }
    let report = registry.report().to_string();
    assert_eq!(
        report,
        "timer \"bg\": 0 runs, 1 in flight, poll total 26.2 ms\n"
    );
    let mut text = String::new();
    perf_timer::export::write_prometheus(&mut text, &registry.snapshot(), "app").unwrap();
    assert!(
        text.contains("app_poll_seconds_total{timer=\"bg\"} 0.0262144\n"),
        "{text}"
    );
    assert!(text.contains("app_in_flight{timer=\"bg\"} 1\n"), "{text}");
    let json = serde_json::to_value(registry.stats("bg").unwrap()).unwrap();
    assert_eq!(json["poll_total_ns"], 26_214_400);
    assert_eq!(json["in_flight"], 1);
}

#[test]
fn a_long_cpu_bound_task_is_seen_mid_flight_then_aborted() {
    let registry = Registry::new();
    let timer = registry.timer("crunch");
    let rt = runtime(1);
    // The task's own busy time so far, after each step.
    let seen = Arc::new(AtomicU64::new(0));
    let task = {
        let seen = seen.clone();
        rt.spawn(timer.time(async move {
            loop {
                spin(ms(1));
                let busy = perf_timer::task_perf_counter().unwrap();
                seen.store(busy.as_nanos() as u64, Relaxed);
                tokio::task::yield_now().await;
            }
        }))
    };
    while seen.load(Relaxed) < ms(60).as_nanos() as u64 {
        std::thread::sleep(ms(5));
    }
    let before = Duration::from_nanos(seen.load(Relaxed));
    let stats = timer.stats();
    let after = Duration::from_nanos(seen.load(Relaxed));
    assert_eq!((stats.count(), stats.in_flight()), (0, 1));
    // At most one poll (about 1 ms) past the last counter reading, and
    // less than 10 ms of busy time behind the first.
    assert!(
        stats.poll_total() <= after + ms(5),
        "{:?} > {after:?}",
        stats.poll_total()
    );
    assert!(
        stats.poll_total() + ms(10) >= before,
        "{:?} lags {before:?}",
        stats.poll_total()
    );
    let mid = stats.poll_total();
    task.abort();
    let _ = rt.block_on(task);
    let stats = timer.stats();
    assert_eq!(
        (stats.count(), stats.cancelled(), stats.in_flight()),
        (0, 1, 0)
    );
    assert!(stats.poll_total() >= mid);
    assert_eq!(stats.abandoned_busy(), stats.poll_total());
}

#[test]
fn a_run_cut_by_a_timeout_keeps_its_busy_time() {
    let registry = Registry::new();
    let timer = registry.timer("slow");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let job = timer.time(async {
        loop {
            spin(ms(2));
            tokio::task::yield_now().await;
        }
    });
    let out = rt.block_on(async { tokio::time::timeout(ms(40), job).await });
    assert!(out.is_err());
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.cancelled()), (0, 1));
    // About 40 ms of spinning; a loaded machine may run it for less.
    assert!(stats.poll_total() >= ms(10), "{:?}", stats.poll_total());
    assert_eq!(stats.abandoned_busy(), stats.poll_total());
}
