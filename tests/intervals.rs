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
