//! Properties over generated inputs: striped recording equals one
//! histogram, report durations follow the unit rules, quantiles are monotonic.

use std::time::Duration;

use hdrhistogram::Histogram;
use perf_timer::Registry;
use proptest::prelude::*;

const HIGHEST: u64 = 3_600_000_000_000;

/// The highest duration of the registry that `printed` records into.
const PRINTED_HIGHEST: u64 = u64::MAX / 4;

/// The duration printed in a single-run report line, as (number, unit).
fn printed(nanos: u64) -> (String, String) {
    let registry = Registry::builder()
        .highest(Duration::from_nanos(PRINTED_HIGHEST))
        .build()
        .unwrap();
    registry.timer("x").record(Duration::from_nanos(nanos));
    let line = registry.report().to_string();
    let value = line
        .strip_prefix("timer \"x\": ")
        .and_then(|rest| rest.split_once(" in 1 run"))
        .map(|(value, _)| value)
        .unwrap_or_else(|| panic!("unexpected line {line:?}"));
    let (number, unit) = value.split_once(' ').unwrap();
    (number.to_owned(), unit.to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn striped_recording_equals_recording_into_one_histogram(
        values in prop::collection::vec(0_u64..HIGHEST * 2, 1..400),
        threads in 1_usize..5,
        stripes in 1_usize..9,
    ) {
        let registry = Registry::builder().stripes(stripes).build().unwrap();
        let timer = registry.timer("merged");
        std::thread::scope(|s| {
            for part in values.chunks(values.len().div_ceil(threads)) {
                let timer = timer.clone();
                s.spawn(move || {
                    for &v in part {
                        timer.record(Duration::from_nanos(v));
                    }
                });
            }
        });
        let mut one = Histogram::<u64>::new_with_bounds(1, HIGHEST, 3).unwrap();
        for &v in &values {
            one.record(v.min(HIGHEST)).unwrap();
        }
        let stats = timer.stats();
        prop_assert!(stats.histogram() == &one);
        prop_assert_eq!(stats.count(), values.len() as u64);
        // Each value counted as recorded: a clamped one at the clamp.
        prop_assert_eq!(stats.total(), Duration::from_nanos(values.iter().map(|&v| v.min(HIGHEST)).sum()));
        prop_assert_eq!(stats.poll_total(), Duration::from_nanos(values.iter().sum()));
        prop_assert!(stats.mean() <= stats.max());
        prop_assert_eq!(stats.clamped(), values.iter().filter(|&&v| v > HIGHEST).count() as u64);
    }

    #[test]
    fn report_durations_follow_the_unit_rules(nanos in any::<u64>().prop_map(|n| n >> (n % 64))) {
        let (number, unit) = printed(nanos);
        // A run past the range prints as its top, where it is counted.
        let nanos = nanos.min(PRINTED_HIGHEST);
        let scale = match unit.as_str() {
            "ns" => 1.0,
            "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            other => panic!("unit {other}"),
        };
        let shown: f64 = number.parse().unwrap();
        let digits = number.chars().filter(char::is_ascii_digit).count();
        if unit == "s" && shown >= 1000.0 {
            // 1000 s and more: whole seconds, rounded.
            prop_assert!(!number.contains('.'));
            prop_assert!((shown - nanos as f64 / 1e9).abs() <= 0.5);
        } else {
            // Three significant figures, below 1000 in its unit, and the
            // smallest unit in which the value is at least 1 (or ns).
            prop_assert_eq!(digits, 3, "{} {}", number, unit);
            prop_assert!(shown < 1000.0);
            prop_assert!(unit == "ns" || shown >= 1.0);
            let relative = (shown * scale - nanos as f64).abs() / (nanos as f64).max(1.0);
            prop_assert!(relative <= 0.005 + 1e-9 || nanos < 1, "{} {} for {}", number, unit, nanos);
        }
    }

    #[test]
    fn quantiles_are_monotonic_in_q(
        values in prop::collection::vec(0_u64..10_000_000, 1..300),
        mut qs in prop::collection::vec(0.0_f64..=1.0, 2..20),
    ) {
        let registry = Registry::new();
        let timer = registry.timer("q");
        for &v in &values {
            timer.record(Duration::from_nanos(v));
        }
        let stats = timer.stats();
        qs.sort_by(f64::total_cmp);
        let quantiles: Vec<Duration> = qs.iter().map(|&q| stats.quantile(q)).collect();
        prop_assert!(quantiles.windows(2).all(|w| w[0] <= w[1]), "{:?} at {:?}", quantiles, qs);
        prop_assert!(stats.quantile(0.0) >= stats.min());
        prop_assert!(stats.quantile(1.0) == stats.max());
    }
}
