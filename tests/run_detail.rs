//! Per-run detail on a mock clock: wall and idle time, polls, the longest
//! poll, and self time when timed futures nest.

mod common;

use std::pin::pin;

use common::*;

#[test]
fn wall_idle_polls_and_longest_poll_of_a_run() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("steps");
    let mut fut = pin!(timer.time(Steps::new(&mock, &[us(10), us(40), us(5)])));
    assert!(poll_once(fut.as_mut()).is_pending());
    mock.advance(us(1000));
    assert!(poll_once(fut.as_mut()).is_pending());
    mock.advance(us(2000));
    assert!(poll_once(fut.as_mut()).is_ready());

    let stats = timer.stats();
    assert_eq!(stats.total(), us(55));
    assert_eq!(stats.wall().total(), us(3055));
    assert_eq!(stats.idle().total(), us(3000));
    assert_eq!(stats.wall().mean(), us(3055));
    assert_eq!(stats.polls(), 3);
    assert_eq!(stats.polls_per_run(), 3.0);
    assert_eq!(stats.longest_poll(), Some(us(40)));
    assert_eq!(stats.self_time().total(), us(55), "nothing nested");
    assert_eq!(stats.wall().quantile(1.0).as_micros(), 3055);
}

#[test]
fn self_time_excludes_nested_timed_futures() {
    let (registry, mock) = mock_registry();
    let m = mock.clone();
    let (inner, middle) = (registry.timer("inner"), registry.timer("middle"));
    let mut fut = pin!(registry.timer("outer").time(async move {
        work(&m, us(10)).await; // outer's own
        middle
            .time(async {
                work(&m, us(4)).await; // middle's own
                inner.time(work(&m, us(6))).await;
                yield_once().await;
                work(&m, us(1)).await; // middle's own, second poll
            })
            .await;
        work(&m, us(2)).await; // outer's own
    }));
    assert!(poll_once(fut.as_mut()).is_pending());
    mock.advance(us(100));
    assert!(poll_once(fut.as_mut()).is_ready());

    let get = |name: &str| registry.stats(name).unwrap();
    assert_eq!(
        (get("inner").total(), get("inner").self_time().total()),
        (us(6), us(6))
    );
    assert_eq!(
        (get("middle").total(), get("middle").self_time().total()),
        (us(11), us(5))
    );
    assert_eq!(
        (get("outer").total(), get("outer").self_time().total()),
        (us(23), us(12))
    );
    let report = registry.report().to_string();
    assert!(
        report.contains("timer \"outer\": 23.0 µs in 1 run, idle 100 µs, self 12.0 µs\n"),
        "{report}"
    );
    assert!(
        report.contains("timer \"inner\": 6.00 µs in 1 run\n"),
        "{report}"
    );
}

#[test]
fn the_detail_shows_every_figure() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("fetch");
    for _ in 0..2 {
        let mut fut = pin!(timer.time(Steps::new(&mock, &[us(20), us(60)])));
        assert!(poll_once(fut.as_mut()).is_pending());
        mock.advance(us(920));
        assert!(poll_once(fut.as_mut()).is_ready());
    }
    {
        let mut cancelled = pin!(timer.time(Steps::new(&mock, &[us(1), us(1)])));
        assert!(poll_once(cancelled.as_mut()).is_pending());
    }
    let detail = timer.stats().detail().to_string();
    assert_eq!(
        detail,
        "timer \"fetch\"\n\
         \x20 runs   2 completed, 1 cancelled, 0 panicked, 0 errors, 0 clamped, 0 in flight\n\
         \x20 busy   avg 80.0 µs ± 0.0 µs, min 80.0 µs, 50% ≤ 80.1 µs, 90% ≤ 80.1 µs, 99% ≤ 80.1 µs, max 80.1 µs, total 160 µs\n\
         \x20 wall   avg 1.00 ms ± 0.00 ms, min 1.00 ms, 50% ≤ 1.00 ms, 90% ≤ 1.00 ms, 99% ≤ 1.00 ms, max 1.00 ms, total 2.00 ms\n\
         \x20 idle   avg 920 µs, total 1.84 ms\n\
         \x20 self   avg 80.0 µs, total 160 µs\n\
         \x20 polls  4, 2.00 per run, longest 60.0 µs, 2 slow, 0 blocked, total 161 µs\n"
    );
    let line = registry.report().to_string();
    assert_eq!(
        line,
        "timer \"fetch\": avg 80.0 µs ± 0.0 µs, 50% ≤ 80.1 µs, 90% ≤ 80.1 µs, 99% ≤ 80.1 µs, \
         max 80.1 µs in 2 runs, idle avg 920 µs, 1 cancelled, 2 slow polls, poll total 161 µs\n"
    );
}
