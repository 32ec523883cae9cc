//! Bad settings give a clear error from the builder, never a panic.

use std::time::Duration;

use perf_timer::{ConfigError, Registry};

#[test]
fn quantiles_outside_zero_to_one_or_nan_are_rejected() {
    for q in [-0.1, 1.5, f64::INFINITY] {
        let err = Registry::builder().quantiles([0.5, q]).build().unwrap_err();
        assert_eq!(err, ConfigError::QuantileOutOfRange(q));
        assert_eq!(err.to_string(), format!("quantile {q} is outside [0, 1]"));
    }
    let err = Registry::builder()
        .quantiles([f64::NAN])
        .build()
        .unwrap_err();
    assert_eq!(err.to_string(), "quantile NaN is outside [0, 1]");
    assert!(Registry::builder().quantiles([0.0, 1.0]).build().is_ok());
    assert!(Registry::builder().quantiles([]).build().is_ok());
}

#[test]
fn precision_and_range_hdrhistogram_rejects_are_rejected() {
    let err = Registry::builder()
        .significant_figures(6)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::SignificantFigures(6));
    assert!(err.to_string().contains("0 to 5"), "{err}");

    let err = Registry::builder()
        .lowest(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::LowestIsZero);

    let err = Registry::builder()
        .lowest(Duration::from_millis(1))
        .highest(Duration::from_micros(1500))
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::HighestBelowTwiceLowest { .. }));
    assert_eq!(
        err.to_string(),
        "highest trackable duration 1.5ms is less than twice the lowest 1ms"
    );

    let err = Registry::builder()
        .lowest(Duration::from_secs(1 << 30))
        .highest(Duration::MAX)
        .significant_figures(5)
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::LowestTooLarge { .. }), "{err}");
}

#[test]
fn out_of_range_quantile_reads_are_clamped_not_panics() {
    let registry = Registry::new();
    let timer = registry.timer("q");
    timer.record(Duration::from_micros(5));
    timer.record(Duration::from_micros(9));
    let stats = timer.stats();
    assert_eq!(stats.quantile(-3.0), stats.min());
    assert_eq!(stats.quantile(3.0), stats.max());
    assert_eq!(stats.quantile(f64::NAN), stats.min());
    let empty = registry.timer("empty").stats();
    assert_eq!(empty.quantile(0.5), Duration::ZERO);
    assert_eq!(empty.max(), Duration::ZERO);
}

#[test]
fn the_global_registry_can_be_configured_once() {
    let global = Registry::builder()
        .quantiles([0.5, 0.999])
        .build_global()
        .unwrap();
    assert!(std::ptr::eq(global, perf_timer::global()));
    assert_eq!(global.snapshot().quantiles(), [0.5, 0.999]);
    let again = Registry::builder().build_global().unwrap_err();
    assert_eq!(again, perf_timer::GlobalError::AlreadySet);
}

#[test]
fn racing_switches_leave_every_timer_as_the_registry_says() {
    for round in 0..50 {
        let registry = Registry::builder().max_timers(2_000).build().unwrap();
        let timers: Vec<_> = (0..2_000)
            .map(|i| registry.timer(&format!("t{i}")))
            .collect();
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            for on in [true, false] {
                let (registry, start) = (&registry, &start);
                s.spawn(move || {
                    start.wait();
                    registry.set_enabled(on);
                });
            }
        });
        for timer in &timers {
            timer.record(Duration::from_micros(1));
        }
        let expected = u64::from(registry.is_enabled());
        let disagree = timers
            .iter()
            .filter(|t| t.stats().count() != expected)
            .count();
        assert_eq!(disagree, 0, "round {round}: is_enabled() = {expected}");
    }
}
