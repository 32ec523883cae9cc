//! Exact busy-time accounting on a mock clock: only time inside `poll` counts.

mod common;

use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use common::*;
use perf_timer::TimedExt as _;

#[test]
fn only_time_inside_polls_is_counted() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("steps");
    let mut fut = pin!(timer.time(Steps::new(&mock, &[us(10), us(20), us(30)])));

    assert_eq!(poll_once(fut.as_mut()), Poll::Pending);
    mock.advance(Duration::from_millis(5)); // waiting: excluded
    assert_eq!(poll_once(fut.as_mut()), Poll::Pending);
    assert_eq!(fut.busy(), us(30));
    mock.advance(Duration::from_secs(1)); // waiting: excluded
    assert_eq!(poll_once(fut.as_mut()), Poll::Ready(()));

    let stats = registry.stats("steps").unwrap();
    assert_eq!(stats.count(), 1);
    assert_eq!(stats.total(), us(60));
    assert_eq!(stats.cancelled(), 0);
}

#[test]
fn every_completed_run_is_one_sample() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("runs");
    for n in 1..=5 {
        let mut fut = pin!(timer.time(Steps::new(&mock, &[us(n), us(n)])));
        while poll_once(fut.as_mut()).is_pending() {
            mock.advance(us(1000));
        }
    }
    let stats = timer.stats();
    assert_eq!(stats.count(), 5);
    assert_eq!(stats.total(), us(2 + 4 + 6 + 8 + 10));
    assert_eq!(stats.min(), us(2));
    assert_eq!(stats.max().as_micros(), 10); // the top of its bucket
}

#[test]
fn nested_timers_are_inclusive() {
    let (registry, mock) = mock_registry();
    let inner = registry.timer("inner");
    let outer = registry.timer("outer");
    let m = mock.clone();
    let mut fut = pin!(outer.time(async move {
        work(&m, us(10)).await;
        inner
            .time(async {
                work(&m, us(5)).await;
                yield_once().await;
                work(&m, us(7)).await;
            })
            .await;
        work(&m, us(3)).await;
    }));
    assert!(poll_once(fut.as_mut()).is_pending());
    mock.advance(us(500));
    assert!(poll_once(fut.as_mut()).is_ready());

    assert_eq!(registry.stats("inner").unwrap().total(), us(12));
    assert_eq!(registry.stats("outer").unwrap().total(), us(25));
}

#[test]
fn a_clock_going_backwards_counts_as_zero() {
    let (registry, mock) = mock_registry();
    mock.advance(Duration::from_secs(1));
    let m = mock.clone();
    let mut fut = pin!(registry.timer("back").time(async move {
        m.rewind(us(40));
        yield_once().await;
        m.advance(us(9));
    }));
    assert!(poll_once(fut.as_mut()).is_pending());
    assert!(poll_once(fut.as_mut()).is_ready());
    let stats = registry.stats("back").unwrap();
    assert_eq!(stats.count(), 1);
    assert_eq!(stats.total(), us(9));
}

#[test]
fn sync_sections_and_manual_samples() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("sync");
    {
        let _guard = timer.start();
        mock.advance(us(42));
    }
    let guard = timer.start();
    mock.advance(us(8));
    assert_eq!(guard.stop(), us(8));
    timer.record(us(100));
    let stats = timer.stats();
    assert_eq!(stats.count(), 3);
    assert_eq!(stats.total(), us(150));
}

#[test]
fn switched_off_records_nothing_and_runs_in_flight_are_dropped() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("x");

    registry.set_enabled(false);
    let made_while_off = registry.timer("made while off");
    made_while_off.record(us(5));
    assert_eq!(made_while_off.stats().count(), 0);
    let mut off = pin!(timer.time(Steps::new(&mock, &[us(1), us(1)])));
    while poll_once(off.as_mut()).is_pending() {}
    timer.record(us(5));
    drop(timer.start());
    assert_eq!(timer.stats().count(), 0);

    // On at the first poll, off at the second: not a whole run, so neither a
    // sample nor a cancellation.
    registry.set_enabled(true);
    let mut straddling = pin!(timer.time(Steps::new(&mock, &[us(1), us(1)])));
    assert!(poll_once(straddling.as_mut()).is_pending());
    registry.set_enabled(false);
    assert!(poll_once(straddling.as_mut()).is_ready());
    registry.set_enabled(true);
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.cancelled()), (0, 0));

    // On again: recorded as usual.
    let mut on = pin!(timer.time(Steps::new(&mock, &[us(4)])));
    assert!(poll_once(on.as_mut()).is_ready());
    assert_eq!(timer.stats().total(), us(4));
}

#[test]
fn timed_uses_the_global_registry() {
    let mut fut = pin!(async { 3 }.timed("global busy_time test"));
    assert_eq!(poll_once(fut.as_mut()), Poll::Ready(3));
    let stats = perf_timer::global().stats("global busy_time test").unwrap();
    assert_eq!(stats.count(), 1);
}

#[test]
fn size_overhead_of_the_wrapper() {
    let (registry, _mock) = mock_registry();
    let fut = registry.timer("size").time(std::future::ready(0_u64));
    let overhead = std::mem::size_of_val(&fut) - std::mem::size_of_val(&std::future::ready(0_u64));
    // A `Timer` pointer and the run: busy, first poll, nested time (8 bytes
    // each), polls with the state, the longest poll, what was flushed and
    // when the next flush is due (4 bytes each); and its allocations
    // (bytes and nested bytes, 8 each; count and nested count, 4 each).
    assert!(overhead <= 72, "Timed adds {overhead} bytes");
}

#[test]
fn a_run_past_the_highest_value_is_clamped_not_lost() {
    let (clock, mock) = perf_timer::Clock::mock();
    let registry = perf_timer::Registry::builder()
        .clock(clock)
        .highest(Duration::from_secs(3600))
        .build()
        .unwrap();
    let timer = registry.timer("batch");
    let two_hours = Duration::from_secs(7200);
    let mut fut = pin!(timer.time(Steps::new(&mock, &[two_hours])));
    assert!(poll_once(fut.as_mut()).is_ready());
    let mut zero = pin!(timer.time(Steps::new(&mock, &[Duration::ZERO])));
    assert!(poll_once(zero.as_mut()).is_ready());

    let stats = timer.stats();
    assert_eq!((stats.count(), stats.clamped()), (2, 1));
    // Counted at the clamp in the total too, so that the mean stays
    // within the maximum; the poll total keeps every poll's time.
    assert_eq!(stats.total(), Duration::from_secs(3600));
    assert!(stats.mean() <= stats.max());
    assert_eq!(stats.poll_total(), two_hours);
    assert_eq!(stats.min(), Duration::ZERO);
    // Recorded as the highest trackable value, to the histogram's precision.
    assert!(
        (3600..3604).contains(&stats.max().as_secs()),
        "{:?}",
        stats.max()
    );
}

#[test]
fn a_sync_section_inside_a_timed_poll_is_nested_time_of_its_run() {
    let (registry, mock) = mock_registry();
    let outer = registry.timer("handler");
    let section = registry.timer("parse");
    let held = registry.timer("held across await");
    let m = mock.clone();
    let mut fut = pin!(outer.time(async {
        m.advance(us(10));
        {
            let _guard = section.start();
            m.advance(us(30));
        }
        // Held across an await (a misuse): it ends in another poll, so it
        // is not taken out of the handler's self time.
        let guard = held.start();
        yield_once().await;
        m.advance(us(5));
        drop(guard);
    }));
    assert!(poll_once(fut.as_mut()).is_pending());
    assert!(poll_once(fut.as_mut()).is_ready());
    let handler = registry.stats("handler").unwrap();
    assert_eq!(handler.total(), us(45));
    assert_eq!(
        handler.self_time().total(),
        us(15),
        "45 µs less the 30 µs section"
    );
    #[cfg(unix)]
    assert_eq!(
        registry.process().unwrap().self_busy(),
        us(15 + 30 + 5),
        "each microsecond counted once, but the held guard's twice"
    );
}

#[test]
fn handles_cross_threads_and_catch_unwind_whatever_the_features() {
    fn handle<T: Send + Sync + Clone + std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
    handle::<perf_timer::Timer>();
    handle::<perf_timer::Registry>();
    handle::<perf_timer::Stats>();
    handle::<perf_timer::Snapshot>();
}

#[test]
fn a_run_ready_at_its_first_poll_counts_as_the_sync_section_of_its_length() {
    let (registry, mock) = mock_registry();
    let (future, section) = (registry.timer("future"), registry.timer("section"));
    // The last one polls past the flush interval: it is counted in flight
    // while it runs, then settled once.
    for length in [us(3), us(70), us(1_000), ms(25)] {
        poll_to_end(future.time(Steps::new(&mock, &[length])));
        let guard = section.start();
        mock.advance(length);
        drop(guard);
    }
    let (f, s) = (future.stats(), section.stats());
    let figures = |s: &perf_timer::Stats| {
        (
            (
                s.count(),
                s.polls(),
                s.in_flight(),
                s.total(),
                s.poll_total(),
            ),
            (s.min(), s.max(), s.mean(), s.longest_poll()),
            (s.idle().total(), s.self_time().total(), s.wall().max()),
            (s.slowest().iter())
                .map(|r| (r.wall(), r.busy()))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(figures(&f), figures(&s));
    assert_eq!(f.total(), us(3 + 70 + 1_000 + 25_000));
    assert_eq!(
        (f.idle().total(), f.longest_poll()),
        (Duration::ZERO, Some(ms(25)))
    );
    assert_eq!(f.slowest()[0].wall(), ms(25));
}
