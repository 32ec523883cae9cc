//! The read model as users meet it: reads that agree with themselves while
//! threads record, sums that never wrap, settings that cannot make broken
//! output, and labels and figures printed as written.

mod common;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use common::*;
use perf_timer::export::write_prometheus;
use perf_timer::{ConfigError, Registry};

#[test]
fn every_read_agrees_with_itself_while_two_threads_record() {
    let registry = Registry::builder().stripes(2).build().unwrap();
    let timer = registry.timer("x");
    let done = AtomicBool::new(false);
    let mut torn = Vec::new();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                // At least one run each, however late the thread starts on
                // a loaded machine.
                timer.record(us(1));
                if done.load(Relaxed) {
                    break;
                }
            });
        }
        // The reads overlap the recording: start once a thread records.
        while registry.stats("x").unwrap().count() == 0 {
            std::thread::yield_now();
        }
        let mut last = 0;
        for _ in 0..400 {
            let stats = registry.stats("x").unwrap();
            let n = stats.count();
            let expect = us(1) * n as u32;
            if stats.total() != expect
                || stats.wall().total() != expect
                || stats.wall().count() != n
                || stats.polls() != n
                || stats.busy().histogram().len() != n
            {
                torn.push((n, stats.total(), stats.wall().total(), stats.polls()));
            }
            assert!(n >= last, "counts only grow: {n} after {last}");
            last = n;
        }
        done.store(true, Relaxed);
    });
    assert!(
        torn.is_empty(),
        "{} torn reads: {:?}",
        torn.len(),
        &torn[..1]
    );
    assert!(registry.stats("x").unwrap().count() > 0);
}

#[test]
fn totals_saturate_instead_of_wrapping() {
    let registry = Registry::new();
    let timer = registry.timer("huge");
    timer.record(Duration::MAX);
    timer.record(Duration::from_nanos(1));
    let stats = registry.stats("huge").unwrap();
    assert_eq!(stats.count(), 2);
    // The samples count at the clamp (1 h by default); the poll total
    // counts every poll whole, and saturates.
    assert_eq!(
        stats.total(),
        Duration::from_secs(3600) + Duration::from_nanos(1)
    );
    assert!(stats.mean() <= stats.max());
    assert_eq!(stats.poll_total(), Duration::from_nanos(u64::MAX));
    assert_eq!(stats.clamped(), 1);
    let report = registry.report().to_string();
    assert!(!report.contains("avg 0.00 ns"), "{report}");
}

#[test]
fn quantile_lists_that_would_print_twice_are_errors() {
    let twice = Registry::builder().quantiles([0.5, 0.9, 0.5]).build();
    assert_eq!(twice.unwrap_err(), ConfigError::DuplicateQuantile(0.5));
    let zeros = Registry::builder().quantiles([0.0, -0.0]).build();
    assert_eq!(zeros.unwrap_err(), ConfigError::DuplicateQuantile(0.0));
    let nan = Registry::builder()
        .quantiles([f64::NAN])
        .build()
        .unwrap_err();
    assert!(matches!(nan, ConfigError::QuantileOutOfRange(q) if q.is_nan()));
    let err = Registry::builder().quantiles([1.0 + 1e-9]).build();
    assert!(matches!(
        err.unwrap_err(),
        ConfigError::QuantileOutOfRange(_)
    ));
    // A lone -0.0 is 0.0: it labels itself "0%", not "-0%".
    let registry = Registry::builder().quantiles([-0.0]).build().unwrap();
    registry.timer("z").record(us(3));
    registry.timer("z").record(us(5));
    let report = registry.report().to_string();
    assert!(report.contains(", 0% ≤ 3.00 µs"), "{report}");
}

#[test]
fn labels_keep_every_digit_of_the_quantile() {
    let registry = Registry::builder()
        .quantiles([0.9999999, 1e-7, 0.5, 0.999])
        .build()
        .unwrap();
    let timer = registry.timer("q");
    for v in 1..=100 {
        timer.record(us(v));
    }
    let report = registry.report().to_string();
    for label in ["99.99999% ≤", "0.00001% ≤", "50% ≤", "99.9% ≤"] {
        assert!(report.contains(label), "{label} in {report}");
    }
    assert!(!report.contains("100%"), "{report}");
    assert!(!report.contains(" 0% "), "{report}");

    let mut text = String::new();
    write_prometheus(&mut text, &registry.snapshot(), "app").unwrap();
    let mut series: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("quantile=\""))
        .map(|l| l.rsplit_once(' ').unwrap().0)
        .collect();
    let all = series.len();
    assert!(all >= 4, "{text}");
    series.sort_unstable();
    series.dedup();
    assert_eq!(series.len(), all, "one series per quantile: {text}");
}

#[test]
fn stripes_outside_one_to_sixty_four_are_errors() {
    for bad in [0, 65, usize::MAX] {
        let err = Registry::builder().stripes(bad).build().unwrap_err();
        assert_eq!(err, ConfigError::Stripes(bad));
        assert!(err.to_string().contains("1 to 64"), "{err}");
    }
    for good in [1, 3, 64] {
        assert!(Registry::builder().stripes(good).build().is_ok());
    }
}

#[test]
fn the_deviation_prints_three_significant_figures_in_its_own_unit() {
    let registry = Registry::new();
    let timer = registry.timer("tail");
    for _ in 0..10_000 {
        timer.record(us(1));
    }
    timer.record(Duration::from_secs(3600));
    let report = registry.report().to_string();
    let stdev = registry.stats("tail").unwrap().stdev().as_secs_f64();
    assert!((stdev - 36.0).abs() < 0.05, "{stdev}");
    assert!(report.contains("± 36.0 s,"), "{report}");

    let registry = Registry::new();
    let timer = registry.timer("spread");
    for v in [100, 400, 700, 1000] {
        timer.record(us(v));
    }
    // The deviation of 100..1000 µs in steps of 300: 335 µs.
    let report = registry.report().to_string();
    assert!(report.contains("± 335 µs,"), "{report}");
}
