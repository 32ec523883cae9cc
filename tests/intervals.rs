//! Intervals: what happened in each window, reported with its rate, with
//! the cumulative totals left alone.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn intervals_report_each_window_and_leave_totals_alone() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("job");
    timer.record(us(999)); // before the intervals start: in neither window
    let mut intervals = registry.intervals();
    for v in 1..=10 {
        timer.record(us(v));
    }
    mock.advance(Duration::from_secs(2));
    let first = intervals.next().unwrap();
    assert_eq!(first.elapsed(), Duration::from_secs(2));
    let job = first.get("job").unwrap();
    assert_eq!(job.count(), 10);
    assert_eq!(first.runs_per_second("job"), Some(5.0));
    assert_eq!(job.max().as_micros(), 10);
    assert_eq!(job.total(), us(55));

    for _ in 0..3 {
        timer.record(us(500));
    }
    mock.advance(Duration::from_millis(500));
    let second = intervals.next().unwrap();
    let job = second.get("job").unwrap();
    assert_eq!(job.count(), 3);
    assert_eq!(second.runs_per_second("job"), Some(6.0));
    assert!(
        job.min() > us(400),
        "only this window's runs: {:?}",
        job.min()
    );
    assert_eq!(
        second.to_string(),
        "timer \"job\": avg 500 µs ± 0 µs, 50% ≤ 500 µs, 90% ≤ 500 µs, 99% ≤ 500 µs, \
         max 500 µs in 3 runs, 6.00 runs/s\n"
    );

    let cumulative = registry.stats("job").unwrap();
    assert_eq!(cumulative.count(), 14);
    assert_eq!(cumulative.total(), us(999 + 55 + 1500));
    mock.advance(Duration::from_secs(1));
    let quiet = intervals.next().unwrap();
    assert_eq!(quiet.get("job").unwrap().count(), 0);
    assert_eq!(
        quiet.to_string(),
        "",
        "a window without runs prints nothing"
    );
}

#[test]
fn an_interval_reports_its_own_longest_poll_or_says_it_is_not_known() {
    let (registry, mock) = mock_registry(); // slow polls from 50 µs
    let timer = registry.timer("job");
    let mut intervals = registry.intervals();
    let longest = |interval: &perf_timer::Interval| interval.get("job").unwrap().longest_poll();
    let run = |polls: &[Duration]| {
        let mut fut = std::pin::pin!(timer.time(Steps::new(&mock, polls)));
        while poll_once(fut.as_mut()).is_pending() {}
    };

    run(&[ms(250), us(10)]);
    assert_eq!(longest(&intervals.next().unwrap()), Some(ms(250)));

    // Nothing ran: not the all-time 250 ms.
    let quiet = intervals.next().unwrap();
    assert_eq!(longest(&quiet), Some(Duration::ZERO));
    let detail = quiet.get("job").unwrap().detail().to_string();
    assert!(
        detail.contains("  polls  0, 0.00 per run, longest 0.00 ns,"),
        "{detail}"
    );

    // Shorter polls than before: the interval's longest is not known.
    run(&[us(20), us(30)]);
    let shorter = intervals.next().unwrap();
    assert_eq!(longest(&shorter), None);
    let detail = shorter.get("job").unwrap().detail().to_string();
    assert!(detail.contains(", longest -, "), "{detail}");

    // A poll longer than any before: exactly the interval's.
    run(&[us(5), ms(300)]);
    assert_eq!(longest(&intervals.next().unwrap()), Some(ms(300)));

    // A slow poll of a run still in flight sets it too.
    let mut unfinished = std::pin::pin!(timer.time(Steps::new(&mock, &[ms(400), us(1)])));
    assert!(poll_once(unfinished.as_mut()).is_pending());
    let slow = intervals.next().unwrap();
    assert_eq!(slow.get("job").unwrap().count(), 0);
    assert_eq!(longest(&slow), Some(ms(400)));

    // Cumulative stats are always known.
    assert_eq!(timer.stats().longest_poll(), Some(ms(400)));
}
