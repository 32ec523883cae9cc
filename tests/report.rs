//! The report line format of DESIGN.md, end to end through a registry.

mod common;

use std::pin::pin;
use std::time::Duration;

use common::*;
use perf_timer::{Registry, OVERFLOW_TIMER};

fn micros(registry: &Registry, name: &str, values: impl IntoIterator<Item = u64>) {
    let timer = registry.timer(name);
    for v in values {
        timer.record(us(v));
    }
}

#[test]
fn percentiles_of_one_to_a_thousand_microseconds() {
    let registry = Registry::new();
    micros(&registry, "uniform", 1..=1000);
    let stats = registry.stats("uniform").unwrap();
    let within = |got: Duration, want: u64| {
        let (got, want) = (got.as_nanos() as f64, (want * 1000) as f64);
        assert!((got - want).abs() <= want / 1000.0, "{got} vs {want}");
    };
    within(stats.quantile(0.5), 500);
    within(stats.quantile(0.9), 900);
    within(stats.quantile(0.99), 990);
    within(stats.max(), 1000);
    within(stats.min(), 1);
    assert_eq!(stats.mean(), Duration::from_nanos(500_500));
    assert_eq!(stats.total(), us((1..=1000).sum()));
    let quantiles: Vec<Duration> = (0..=100)
        .map(|i| stats.quantile(i as f64 / 100.0))
        .collect();
    assert!(quantiles.windows(2).all(|w| w[0] <= w[1]));

    assert_eq!(
        registry.report().to_string(),
        "timer \"uniform\": avg 501 µs ± 289 µs, 50% ≤ 500 µs, 90% ≤ 900 µs, \
         99% ≤ 990 µs, max 1.00 ms in 1000 runs\n"
    );
}

#[test]
fn lines_are_sorted_by_name_and_idle_timers_print_nothing() {
    let registry = Registry::new();
    micros(&registry, "zeta", [5]);
    micros(&registry, "alpha", [1230]);
    registry.timer("idle");
    assert_eq!(
        registry.report().to_string(),
        "timer \"alpha\": 1.23 ms in 1 run\ntimer \"zeta\": 5.00 µs in 1 run\n"
    );
}

#[test]
fn rollover_at_the_unit_edges() {
    let registry = Registry::new();
    let timer = registry.timer("edge");
    timer.record(Duration::from_nanos(999_960));
    let ns = registry.timer("ns");
    ns.record(Duration::from_nanos(999));
    ns.record(Duration::from_nanos(1000)); // mean 999.5 ns
    let report = registry.report().to_string();
    assert!(
        report.contains("timer \"edge\": 1.00 ms in 1 run"),
        "{report}"
    );
    assert!(report.contains("timer \"ns\": avg 1.00 µs ± "), "{report}");
}

#[test]
fn long_runs_print_in_whole_seconds() {
    let registry = Registry::builder()
        .highest(Duration::from_secs(10_000))
        .build()
        .unwrap();
    registry.timer("batch").record(Duration::from_secs(1234));
    assert_eq!(
        registry.report().to_string(),
        "timer \"batch\": 1234 s in 1 run\n"
    );
}

#[test]
fn cancelled_panicked_and_clamped_are_appended() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("feed");
    for v in [2100, 2050, 3100] {
        timer.record(us(v));
    }
    for _ in 0..3 {
        let mut fut = pin!(timer.time(Steps::new(&mock, &[us(1), us(1)])));
        assert!(poll_once(fut.as_mut()).is_pending());
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _guard = timer.start();
        panic!("section failed");
    }));
    {
        let only_cancelled = registry.timer("gave up");
        let mut fut = pin!(only_cancelled.time(Steps::new(&mock, &[us(1), us(1)])));
        assert!(poll_once(fut.as_mut()).is_pending());
    }

    let report = registry.report().to_string();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 2, "{report}");
    assert!(
        lines[0].starts_with("timer \"feed\": avg 2.42 ms ± "),
        "{report}"
    );
    assert!(
        // The cancelled runs' polls (3 µs) are in the poll total.
        lines[0].ends_with(", max 3.10 ms in 3 runs, 3 cancelled, 1 panicked, poll total 7.25 ms"),
        "{report}"
    );
    assert_eq!(
        lines[1],
        "timer \"gave up\": 0 runs, 1 cancelled, poll total 1.00 µs"
    );
}

#[test]
fn runs_past_the_highest_value_are_clamped_not_lost() {
    let registry = Registry::builder()
        .highest(Duration::from_secs(1))
        .build()
        .unwrap();
    let timer = registry.timer("long");
    timer.record(Duration::from_secs(5));
    timer.record(Duration::ZERO);
    timer.record(Duration::MAX);
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.clamped()), (3, 2));
    assert_eq!(stats.min(), Duration::ZERO);
    // The time past the range is busy time outside the samples.
    let report = registry.report().to_string();
    assert!(
        report.ends_with("in 3 runs, 2 clamped, poll total 18446744074 s\n"),
        "{report}"
    );
}

#[test]
fn a_run_past_the_range_never_makes_the_mean_exceed_the_max() {
    // The default range, 1 h: u64::MAX ns (584 years) is clamped into it.
    let registry = Registry::new();
    let timer = registry.timer("edge");
    for nanos in [0, 1, 2, 1000, u64::MAX] {
        timer.record(Duration::from_nanos(nanos));
    }
    let stats = timer.stats();
    assert_eq!((stats.count(), stats.clamped()), (5, 1));
    for (label, d) in [("busy", stats.busy()), ("wall", stats.wall())] {
        assert!(d.min() <= d.mean() && d.mean() <= d.max(), "{label}: {d:?}");
        assert!(
            d.total().as_nanos() <= u128::from(d.count()) * d.max().as_nanos(),
            "{label}: {d:?}"
        );
    }
    assert_eq!(stats.total(), Duration::from_nanos(3_600_000_001_003));
    assert!(stats.idle().mean() <= stats.wall().max());
    assert!(stats.self_time().total() <= stats.total());
    assert!(stats.longest_poll().unwrap() <= stats.max());
    // Every poll's time, whole (saturated).
    assert_eq!(stats.poll_total(), Duration::from_nanos(u64::MAX));
    assert_eq!(
        registry.report().to_string(),
        "timer \"edge\": avg 720 s ± 1440 s, 50% ≤ 2.00 ns, 90% ≤ 3601 s, \
         99% ≤ 3601 s, max 3601 s in 5 runs, 1 clamped, poll total 18446744074 s\n"
    );
}

#[test]
fn names_are_escaped_so_each_timer_stays_on_one_line() {
    let registry = Registry::new();
    let name = "GET /a\"b\\c\nd\t\u{1b}[31m";
    registry.timer(name).record(us(1));
    registry.timer("").record(us(2));
    registry.timer("ünïcødé ✓").record(us(3));
    let report = registry.report().to_string();
    assert_eq!(report.lines().count(), 3, "{report}");
    assert!(
        report.contains(r#"timer "GET /a\"b\\c\nd\t\u{1b}[31m": 1.00 µs in 1 run"#),
        "{report}"
    );
    assert!(report.contains("timer \"\": 2.00 µs in 1 run"), "{report}");
    assert!(
        report.contains("timer \"ünïcødé ✓\": 3.00 µs in 1 run"),
        "{report}"
    );
}

#[test]
fn custom_quantiles_label_themselves() {
    let registry = Registry::builder()
        .quantiles([0.999, 0.25])
        .build()
        .unwrap();
    micros(&registry, "q", 1..=100);
    let report = registry.report().to_string();
    assert!(
        report.contains(", 99.9% ≤ 100 µs, 25% ≤ 25.0 µs, max"),
        "{report}"
    );
}

#[test]
fn the_exit_report_goes_through_the_callers_function() {
    let registry = Registry::new();
    micros(&registry, "b", [1]);
    micros(&registry, "a", [2]);
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = lines.clone();
    drop(
        registry
            .report_at_exit()
            .log_with(move |line| sink.lock().unwrap().push(line.to_owned())),
    );
    let lines = lines.lock().unwrap();
    assert_eq!(
        lines[..2],
        [
            "timer \"a\": 2.00 µs in 1 run",
            "timer \"b\": 1.00 µs in 1 run"
        ]
    );
    // Then what the process spent, and the share the timers explain.
    #[cfg(unix)]
    assert!(
        lines[2].starts_with("process: ") && lines[2].ends_with("(3.00 µs self busy)"),
        "{lines:?}"
    );
}

#[test]
fn the_overflow_timer_is_reported_like_any_other() {
    let registry = Registry::builder().max_timers(1).build().unwrap();
    registry.timer("a").record(Duration::from_micros(1));
    registry.timer("b").record(Duration::from_micros(2));
    assert_eq!(registry.timer("c").name(), OVERFLOW_TIMER);
    let report = registry.report().to_string();
    assert_eq!(
        report,
        "timer \"(overflow)\": 2.00 µs in 1 run\ntimer \"a\": 1.00 µs in 1 run\n"
    );
}

#[test]
fn a_report_with_nothing_to_show_says_why_in_one_line() {
    let registry = Registry::new();
    registry.timer("unused");
    assert_eq!(
        registry.report().to_string(),
        "perf-timer: nothing was recorded\n"
    );

    registry.set_enabled(false);
    registry.timer("unused").record(Duration::from_micros(5)); // not counted
    let lines: Vec<String> = registry.report().lines().collect();
    assert_eq!(
        lines,
        ["perf-timer: timing is switched off; nothing was recorded"]
    );

    registry.set_enabled(true);
    registry.timer("used").record(Duration::from_micros(5));
    registry.set_enabled(false);
    let lines: Vec<String> = registry.report().lines().collect();
    assert_eq!(
        lines,
        [
            "timer \"used\": 5.00 µs in 1 run",
            "perf-timer: timing is switched off; runs since it was switched off are not counted",
        ]
    );
    registry.set_enabled(true);
    assert_eq!(
        registry.report().to_string(),
        "timer \"used\": 5.00 µs in 1 run\n"
    );
}
