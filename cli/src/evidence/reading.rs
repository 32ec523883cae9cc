//! One run's figure with its own uncertainty, read from the run's
//! histogram: how far the figure of the whole process could be from what
//! its samples show (see the parent module for how a verdict uses it).

use perf_timer::Distribution;
use statrs::distribution::{ContinuousCDF as _, Normal};

use super::CONFIDENCE;

/// One run's figure (ns) and the interval its true value lies in, at
/// [`CONFIDENCE`], as far as the run's own samples and the histogram's
/// resolution tell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// The figure as the run reports it.
    pub value: f64,
    /// The interval's low end (≤ `value`).
    pub low: f64,
    /// The interval's high end (≥ `value`).
    pub high: f64,
}

impl Reading {
    /// A sum exact to the nanosecond (a poll total): ±1 ns.
    pub fn exact(value: f64) -> Reading {
        Reading {
            value,
            low: value - 1.0,
            high: value + 1.0,
        }
    }

    /// The `q` quantile of `busy`, with its order-statistic interval: the
    /// values at the ranks between which the quantile of the process lies
    /// with [`CONFIDENCE`] (binomial ranks n·q ± z·√(n·q·(1 − q)), clamped
    /// to the run's least and greatest values), reaching at least a clock
    /// step either side of the figure where one value holds those ranks
    /// (see [`clock_step`]), and the histogram's precision. `None` without
    /// samples.
    pub fn quantile(busy: &Distribution, q: f64) -> Option<Reading> {
        let n = busy.count();
        if n == 0 {
            return None;
        }
        let at = |rank: u64| value_at_rank(busy, rank);
        let value = busy.quantile(q).as_nanos() as f64;
        let (low_rank, high_rank) = ranks(n, q);
        let (mut low, mut high) = (at(low_rank), at(high_rank));
        if low == value || high == value {
            // One value holds the ranks on one side: each reading there is
            // the duration to within a clock step.
            if let Some(step) = clock_step(busy, n, q, value) {
                low = low.min(value - step);
                high = high.max(value + step);
            }
        }
        Some(Reading { value, low, high }.within_precision(busy))
    }

    /// The mean of `busy`, with its normal interval mean ± z·sd/√n (the
    /// sd from the histogram) and the histogram's precision. `None`
    /// without samples.
    pub fn mean(busy: &Distribution) -> Option<Reading> {
        let n = busy.count();
        if n == 0 {
            return None;
        }
        let value = busy.mean().as_nanos() as f64;
        let half = z() * busy.stdev().as_nanos() as f64 / (n as f64).sqrt();
        Some(
            Reading {
                value,
                low: value - half,
                high: value + half,
            }
            .within_precision(busy),
        )
    }

    /// Widened to the histogram's relative precision either side (3
    /// significant figures: 0.1 %), never below 1 ns.
    fn within_precision(self, busy: &Distribution) -> Reading {
        let precision = 10_f64.powi(-i32::from(busy.significant_figures()));
        Reading {
            value: self.value,
            low: self.low.min(self.value * (1.0 - precision)).max(0.0),
            high: self.high.max(self.value * (1.0 + precision)),
        }
    }

    /// How far below and above its value the interval reaches, on the log
    /// scale (values below 1 ns count as 1 ns, as in the judgement).
    pub(super) fn log_reach(&self) -> (f64, f64) {
        let (low, value, high) = (ln(self.low), ln(self.value), ln(self.high));
        (value - low, high - value)
    }
}

/// ln of a duration in ns, 1 ns at least (never a log of 0).
pub(super) fn ln(ns: f64) -> f64 {
    ns.max(1.0).ln()
}

/// The two-sided normal quantile of [`CONFIDENCE`] (2.576 for 99 %).
pub(super) fn z() -> f64 {
    Normal::standard().inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0)
}

/// The ranks (from 1) between which the `q` quantile of the process lies
/// with [`CONFIDENCE`], for `n` samples: the normal approximation of the
/// binomial, n·q ± z·√(n·q·(1 − q)), rounded outwards and clamped to
/// 1..=n.
pub(super) fn ranks(n: u64, q: f64) -> (u64, u64) {
    let centre = n as f64 * q;
    let reach = z() * (centre * (1.0 - q)).sqrt();
    let low = (centre - reach).floor().max(1.0) as u64;
    let high = ((centre + reach).ceil() as u64).clamp(1, n);
    (low.min(n), high)
}

/// The value (ns) of the `rank`-th smallest sample, 1 ≤ rank ≤ n: the
/// quantile (rank − ½)/n, which [`Distribution::quantile`] reads at
/// exactly that rank.
fn value_at_rank(busy: &Distribution, rank: u64) -> f64 {
    let q = (rank as f64 - 0.5) / busy.count() as f64;
    busy.quantile(q).as_nanos() as f64
}

/// The clock's step around `value` (the `q` quantile), where the run's
/// readings show one: the smaller gap from `value` to the next different
/// value read below or above it, when `value` is a whole number of such
/// gaps (readings on a clock of 30 ns steps: 30, 60, 90). `None` when
/// every sample reads `value`, or the gap is no clock step (a mass of
/// identical readings beside others far away). Binary searches over
/// ranks, a few quantile reads each.
fn clock_step(busy: &Distribution, n: u64, q: f64, value: f64) -> Option<f64> {
    let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
    let at = |r: u64| value_at_rank(busy, r);
    // The first rank that reads `value`, and the last.
    let (mut lo, mut hi) = (1, rank);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if at(mid) < value {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let first = lo;
    let (mut lo, mut hi) = (rank, n);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if at(mid) > value {
            hi = mid - 1;
        } else {
            lo = mid;
        }
    }
    let last = lo;
    let below = (first > 1).then(|| value - at(first - 1));
    let above = (last < n).then(|| at(last + 1) - value);
    let step = match (below, above) {
        (Some(b), Some(a)) => b.min(a),
        (one, other) => one.or(other)?,
    };
    (step > 0.0 && value % step == 0.0).then_some(step)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A run's busy times: `(ns, how many)` each.
    fn run(values: &[(u64, u64)]) -> Distribution {
        let registry = perf_timer::Registry::new();
        let timer = registry.timer("t");
        for &(ns, times) in values {
            for _ in 0..times {
                timer.record(Duration::from_nanos(ns));
            }
        }
        registry.stats("t").unwrap().busy().clone()
    }

    #[test]
    fn the_ranks_are_the_binomial_interval() {
        // 2,000 samples, the median: 1,000 ± 2.576·√500 = ±57.6.
        assert_eq!(ranks(2_000, 0.5), (942, 1_058));
        // p99 of 2,000: 1,980 ± 2.576·√19.8 = ±11.5.
        assert_eq!(ranks(2_000, 0.99), (1_968, 1_992));
        // Five samples cannot place a median at 99 %: the extremes.
        assert_eq!(ranks(5, 0.5), (1, 5));
        assert!((z() - 2.575_829).abs() < 1e-6);
    }

    /// `count` calls spread evenly over `from`…`to` ns.
    fn mode(from: u64, to: u64, count: u64) -> Vec<(u64, u64)> {
        (0..count)
            .map(|i| (from + (to - from) * i / count, 1))
            .collect()
    }

    #[test]
    fn a_median_between_two_modes_spans_both() {
        // Half the calls ~10 µs, half ~100 µs: the median sits on one
        // mode or the other by a few calls, and its interval says so.
        let mut calls = mode(10_000, 10_200, 1_000);
        calls.extend(mode(99_000, 100_600, 1_000));
        let r = Reading::quantile(&run(&calls), 0.5).unwrap();
        assert!((10_190.0..10_210.0).contains(&r.value), "{r:?}");
        assert!((10_170.0..r.value).contains(&r.low), "{r:?}");
        assert!((99_000.0..99_300.0).contains(&r.high), "{r:?}");
    }

    #[test]
    fn a_unimodal_median_is_tight() {
        // 1,000 calls each of 1,000 … 1,999 ns: the median 1,500, its
        // ranks 942…1,058 of 2,000: values 1,471…1,529 (values below 2,048
        // ns are exact).
        let values: Vec<(u64, u64)> = (1_000..2_000).map(|v| (v, 2)).collect();
        let r = Reading::quantile(&run(&values), 0.5).unwrap();
        assert_eq!((r.low, r.value, r.high), (1_470.0, 1_499.0, 1_528.0));
    }

    #[test]
    fn values_on_a_clock_grid_reach_the_next_step() {
        // Every reading a multiple of 30 ns, most of them 60: the median is
        // 60 ns at every rank near it, yet located only within a step.
        let r = Reading::quantile(&run(&[(30, 100), (60, 1_800), (90, 100)]), 0.5).unwrap();
        assert_eq!((r.low, r.value, r.high), (30.0, 60.0, 90.0));
        // With no value below, the step above counts both ways.
        let r = Reading::quantile(&run(&[(30, 1_900), (60, 100)]), 0.5).unwrap();
        assert_eq!((r.low, r.value, r.high), (0.0, 30.0, 60.0));
        // Every sample the same value: the histogram's precision, 0.1 %.
        let r = Reading::quantile(&run(&[(60, 2_000)]), 0.5).unwrap();
        assert!((r.low - 59.94).abs() < 1e-9 && (r.high - 60.06).abs() < 1e-9);
    }

    #[test]
    fn a_quantile_held_by_one_value_beside_fine_readings_stays_tight() {
        // 60 of 2,000 calls take exactly 20 µs, the rest 1,003–1,099 ns:
        // the p99 is 20 µs at every rank near it, and the gap to 1,099 ns
        // is no clock step (20,015 is no multiple of it).
        let mut calls: Vec<(u64, u64)> = (60..2_000).map(|i| (1_000 + i / 20, 1)).collect();
        calls.push((20_000, 60));
        let r = Reading::quantile(&run(&calls), 0.99).unwrap();
        assert_eq!(r.value, 20_015.0, "the bucket's highest value");
        assert!(r.low > 19_994.0 && r.high < 20_036.0, "{r:?}");
    }

    #[test]
    fn a_mean_has_its_standard_error() {
        // 1,000 and 3,000 ns alike: mean 2,000, sd 1,000 (histogram's
        // estimate, within its precision), n = 400: ±2.576·1000/20.
        let r = Reading::mean(&run(&[(1_000, 200), (3_000, 200)])).unwrap();
        assert_eq!(r.value, 2_000.0);
        let half = r.high - r.value;
        assert!((half - 128.8).abs() < 1.0, "{r:?}");
        assert!((r.value - r.low - half).abs() < 1e-9);
    }
}
