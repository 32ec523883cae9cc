//! The evidence for a count a run (allocations per completed run): how
//! the mean count of two sides' process runs compares.
//!
//! # Why a difference of means, not a log ratio
//!
//! Busy time is judged on the log of each run's figure, as a ratio (see
//! the parent module). A count can be 0, a timer whose runs allocate
//! nothing, and the log of 0 does not exist: read as 1 (as a duration
//! below 1 ns is), 0 → 1 a run is no change and 0 → 10 is +900 %. So a
//! count is judged on the difference of the two sides' mean counts,
//! d = new − base, in counts a run, with the process run as the unit as
//! for time (one count per run: its allocations per completed run). The
//! change shown is d over the base mean in percent; from a base of 0,
//! which has no percent, it is `new`, with d itself.
//!
//! # The limit: the threshold, and at least half a count
//!
//! A change is beyond the threshold when d is beyond `threshold` % of the
//! base mean or beyond half a count a run ([`HALF_A_COUNT`]), whichever is
//! larger: counts are compared to the nearest count a run. So 0 → 0 is no
//! change, which no percent of 0 could say; 0 → 1 is a change; and a
//! change of less than half a count a run (0 → 0.4: four runs in ten
//! allocate once) is never a regression, whatever percentage of a small
//! base it is.
//!
//! # The noise: the spread between runs, floored
//!
//! Welch's [`CONFIDENCE`] interval on d, with each side's variance between
//! runs floored at σ₀² with σ₀ = ½ / z: one run's count is taken to vary by
//! up to half a count at [`CONFIDENCE`] even where the runs show no spread
//! at all. An allocation count is nearly deterministic, often the same in
//! every run, but a few runs need not show another run's rare extra
//! allocation (a map that grows in one process and not in another, a value
//! built lazily, the runtime's own lists); the floor stands for it, so zero
//! spread never gives a zero-width interval.
//!
//! The floor is the spread of *one* run, so it enters the mean of k runs
//! as any spread does, as σ₀ / √k: such variation is independent between
//! processes. Shrinking it as 1/k would need each run's error to be a
//! fixed rounding that cancels, which nothing guarantees. A floored side's
//! variance is assumed, not estimated, so it adds no doubt of its own to
//! the degrees of freedom (its term leaves the Welch–Satterthwaite sum, and
//! two floored sides use the normal quantile): with no spread the margin is
//! ½·√(2/k) a run, so 10 against 10 is ±4.1 % with three runs a side and
//! ±2.0 % with twelve, and a steady 10 → 11 is regressed at 5 % from three
//! runs a side (0.59 > 0.5). Counts that do vary between runs get Welch's
//! interval at their own spread.
//!
//! Calls are those of time: regressed when the whole interval lies above
//! the limit, improved below minus it, no change within ±limit,
//! inconclusive otherwise. Inconclusive says how many runs a side would
//! tell: the fewest whose interval, at the same means and each side's
//! (floored) spread, makes the call, so that saving that many runs a side
//! of the same counts does tell. Where even [`MOST_RUNS`] would not, the
//! change sits too near the limit for more runs to tell (the floor alone
//! needs more than 1 / (2·room²) runs a side, room being the distance in
//! counts a run between |d| and the limit).
//!
//! # One run a side
//!
//! As for time, only a change beyond [`SINGLE_RUN_FACTOR`] (2×) is called,
//! and it must hold between the ends of both counts' half a count: 2 → 10
//! is regressed (9.5 > 2 × 2.5), 2 → 5 is not (4.5 < 2 × 2.5), nor is
//! 0 → 1 (0.5 < 2 × 0.5), and 0 → 10 is (9.5 > 2 × 0.5). What is not
//! called says the fewest runs a side that would tell if their counts
//! varied by no more than the floor (one run shows no spread): 2 → 3 needs
//! 3 (½·√(2/3) = 0.41 < 0.5 of room), more where the counts turn out to
//! vary.

use super::{
    mean, reading, settled, t_quantile, variance, Call, Doubt, CONFIDENCE, MOST_RUNS,
    SINGLE_RUN_FACTOR,
};

/// How far one run's count may be from the process's, at [`CONFIDENCE`],
/// and the least change a run that is ever beyond the threshold.
pub const HALF_A_COUNT: f64 = 0.5;

/// The change of a count a run from base to new, and the call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountJudgement {
    /// The base side's count a run: the mean over its process runs.
    pub base: f64,
    /// The new side's count a run.
    pub new: f64,
    /// The [`CONFIDENCE`] interval of new − base, in counts a run; `None`
    /// with one run a side.
    pub interval: Option<(f64, f64)>,
    /// The change, in counts a run, within which the counts are the same:
    /// the threshold's share of the base, [`HALF_A_COUNT`] at least.
    pub limit: f64,
    /// The larger standard deviation between one side's runs, as seen (0
    /// where every run counts the same).
    pub between: f64,
    /// What it says.
    pub call: Call,
}

impl CountJudgement {
    /// new − base, in counts a run.
    pub fn difference(&self) -> f64 {
        self.new - self.base
    }

    /// The change in percent of the base: infinite from a base of 0 to
    /// more, 0 from 0 to 0.
    pub fn percent(&self) -> f64 {
        if self.base > 0.0 {
            self.difference() / self.base * 100.0
        } else if self.new > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    }

    /// The interval in percent of the base, its low end at −100 % at
    /// least (no count falls below 0, nor its change below −100 %);
    /// `None` with one run a side or from a base of 0.
    pub fn interval_percent(&self) -> Option<(f64, f64)> {
        let (lo, hi) = self.interval?;
        (self.base > 0.0).then(|| {
            let percent = |v: f64| v / self.base * 100.0;
            (percent(lo).max(-100.0), percent(hi))
        })
    }

    /// Whether the runs' counts differ by more than the floor of their
    /// spread: the spread seen, not the floor, is then the noise.
    pub fn runs_differ(&self) -> bool {
        self.between > HALF_A_COUNT / reading::z()
    }

    /// Whether the limit is the threshold's share of the base rather than
    /// [`HALF_A_COUNT`].
    pub fn limit_is_threshold(&self, threshold_percent: f64) -> bool {
        self.base * threshold_percent / 100.0 >= HALF_A_COUNT
    }
}

/// Compares two sides' per-run counts (each with at least one run)
/// against `threshold_percent`.
pub fn judge_counts(base: &[f64], new: &[f64], threshold_percent: f64) -> CountJudgement {
    assert!(!base.is_empty() && !new.is_empty(), "a side without runs");
    let (mb, mn) = (mean(base), mean(new));
    let d = mn - mb;
    let limit = (threshold_percent / 100.0 * mb).max(HALF_A_COUNT);
    let between = variance(base).max(variance(new)).sqrt();
    let judgement = |interval, call| CountJudgement {
        base: mb,
        new: mn,
        interval,
        limit,
        between,
        call,
    };
    // The distance the margin must shrink to: to clear the limit (when
    // the change is beyond it) or to fit within it (when not).
    let room = (d.abs() - limit).abs();
    let Some(noise) = Noise::of(base, new) else {
        let factor = SINGLE_RUN_FACTOR.max(1.0 + threshold_percent / 100.0);
        let low = |v: f64| (v - HALF_A_COUNT).max(0.0);
        let high = |v: f64| v + HALF_A_COUNT;
        let call = if low(mn) > factor * high(mb) {
            Call::Larger
        } else if factor * high(mn) < low(mb) {
            Call::Smaller
        } else {
            // No spread seen: the runs that would tell were their counts
            // to vary by no more than the floor, the fewest there can be.
            Call::Inconclusive(Doubt::OneRunASide {
                needed: Noise::floored(1).runs_for(room),
            })
        };
        return judgement(None, call);
    };
    let margin = noise.margin();
    let (lo, hi) = (d - margin, d + margin);
    let call = settled(lo, hi, limit).unwrap_or_else(|| {
        Call::Inconclusive(Doubt::TooFewRuns {
            needed: noise.runs_for(room),
        })
    });
    judgement(Some((lo, hi)), call)
}

/// One side's variance between runs: seen in its runs (or in the other
/// side's, for a side of one run), or the floor where that is below it.
#[derive(Debug, Clone, Copy)]
struct SideVariance {
    /// One run's variance, floored.
    variance: f64,
    /// Whether it was estimated from runs, not the floor assumed: only
    /// then does it add doubt of its own (degrees of freedom).
    estimated: bool,
}

/// The noise of the difference of two sides' mean counts, from each
/// side's variance and runs.
struct Noise {
    base: SideVariance,
    new: SideVariance,
    /// Runs on each side, and the degrees of freedom of each side's
    /// estimate (of the side it was read from).
    runs: (usize, usize),
    df: (f64, f64),
}

impl Noise {
    /// `None` with one run a side. A side of one run borrows the other
    /// side's variance.
    fn of(base: &[f64], new: &[f64]) -> Option<Noise> {
        if base.len() == 1 && new.len() == 1 {
            return None;
        }
        let floor = (HALF_A_COUNT / reading::z()).powi(2);
        // A side's variance, and the degrees of freedom of its estimate.
        let side = |own: &[f64], other: &[f64]| {
            let from = if own.len() > 1 { own } else { other };
            let v = variance(from);
            let variance = SideVariance {
                variance: v.max(floor),
                estimated: v > floor,
            };
            (variance, from.len() as f64 - 1.0)
        };
        let ((b, df_b), (n, df_n)) = (side(base, new), side(new, base));
        Some(Noise {
            base: b,
            new: n,
            runs: (base.len(), new.len()),
            df: (df_b, df_n),
        })
    }

    /// `runs` a side whose counts vary by no more than the floor.
    fn floored(runs: usize) -> Noise {
        let floor = SideVariance {
            variance: (HALF_A_COUNT / reading::z()).powi(2),
            estimated: false,
        };
        Noise {
            base: floor,
            new: floor,
            runs: (runs, runs),
            df: (runs as f64 - 1.0, runs as f64 - 1.0),
        }
    }

    /// The same variances with `k` runs a side, each estimated from them.
    fn with_runs(&self, k: usize) -> Noise {
        Noise {
            runs: (k, k),
            df: (k as f64 - 1.0, k as f64 - 1.0),
            ..*self
        }
    }

    /// Welch's margin at [`CONFIDENCE`]. A floored side's variance is
    /// assumed, not estimated, so it adds no doubt of its own to the
    /// degrees of freedom (its term leaves the Welch–Satterthwaite sum):
    /// two floored sides use the normal quantile.
    fn margin(&self) -> f64 {
        let vb = self.base.variance / self.runs.0 as f64;
        let vn = self.new.variance / self.runs.1 as f64;
        let se2 = vb + vn;
        let doubt = |side: SideVariance, v: f64, df: f64| match side.estimated {
            true => v * v / df,
            false => 0.0,
        };
        let doubt = doubt(self.base, vb, self.df.0) + doubt(self.new, vn, self.df.1);
        let df = if doubt > 0.0 {
            se2 * se2 / doubt
        } else {
            f64::INFINITY
        };
        quantile(df) * se2.sqrt()
    }

    /// The fewest runs a side, more than either side has now, whose margin
    /// at the same variances (each side's own) is below `room`: the same
    /// means and spreads from that many runs a side make the call.
    fn runs_for(&self, room: f64) -> Option<usize> {
        let most = self.runs.0.max(self.runs.1);
        (most + 1..=MOST_RUNS).find(|&k| self.with_runs(k).margin() < room)
    }
}

/// The two-sided [`CONFIDENCE`] quantile of Student's t, or of the normal
/// with infinite degrees of freedom.
fn quantile(df: f64) -> f64 {
    if df.is_finite() {
        t_quantile(1.0 - (1.0 - CONFIDENCE) / 2.0, df)
    } else {
        reading::z()
    }
}

/// Synthetic per-run counts with known answers: counts the same in every
/// run (the usual case), counts of 0, counts that vary, and changes near
/// the limit.
#[cfg(test)]
mod tests {
    use super::*;

    fn judge(base: &[f64], new: &[f64]) -> CountJudgement {
        judge_counts(base, new, 5.0)
    }

    /// The margin of k runs a side without spread: ½·√(2/k).
    fn floor_margin(k: f64) -> f64 {
        HALF_A_COUNT * (2.0 / k).sqrt()
    }

    fn assert_interval(j: &CountJudgement, lo: f64, hi: f64) {
        let (l, h) = j.interval.unwrap();
        assert!((l - lo).abs() < 1e-9 && (h - hi).abs() < 1e-9, "{j:?}");
    }

    #[test]
    fn no_allocations_on_either_side_is_no_change() {
        let j = judge(&[0.0; 3], &[0.0; 3]);
        assert_eq!(j.call, Call::Same);
        assert_eq!(j.percent(), 0.0);
        assert_interval(&j, -floor_margin(3.0), floor_margin(3.0));
        assert_eq!(j.interval_percent(), None, "no percent of 0");
    }

    #[test]
    fn one_allocation_a_run_from_none_is_a_regression() {
        // 1 − ½·√(2/5) = 0.68 > ½.
        let j = judge(&[0.0; 5], &[1.0; 5]);
        assert_eq!(j.call, Call::Larger);
        assert_eq!(j.percent(), f64::INFINITY);
        assert_interval(&j, 1.0 - floor_margin(5.0), 1.0 + floor_margin(5.0));
        // Fewer: improved.
        assert_eq!(judge(&[1.0; 5], &[0.0; 5]).call, Call::Smaller);
        // 0.9 a run, two runs a side: 0.9 − ½ = 0.4 is above the limit
        // of ½ by less than the margin; ½·√(2/4) = 0.35 < 0.4 tells.
        assert_eq!(
            judge(&[0.0; 2], &[0.9; 2]).call,
            Call::Inconclusive(Doubt::TooFewRuns { needed: Some(4) })
        );
        assert_eq!(judge(&[0.0; 4], &[0.9; 4]).call, Call::Larger);
    }

    #[test]
    fn ten_allocations_from_none_are_new_not_nine_hundred_percent() {
        let j = judge(&[0.0; 3], &[10.0; 3]);
        assert_eq!(j.call, Call::Larger);
        assert_eq!((j.base, j.new, j.difference()), (0.0, 10.0, 10.0));
        assert!(j.percent().is_infinite());
        // One run a side: 9.5 against ½, beyond 2×.
        let j = judge(&[0.0], &[10.0]);
        assert_eq!((j.call, j.interval), (Call::Larger, None));
        assert!(j.percent().is_infinite());
    }

    #[test]
    fn a_steady_one_more_on_ten_is_a_regression_given_the_runs() {
        // +10 % at a threshold of 5 %: the limit is ½ either way.
        let j = judge(&[10.0; 12], &[11.0; 12]);
        assert_eq!(j.call, Call::Larger);
        assert!((j.percent() - 10.0).abs() < 1e-9);
        assert_interval(&j, 1.0 - floor_margin(12.0), 1.0 + floor_margin(12.0));
        // Three runs a side: 1 − ½·√(2/3) = 0.59 > ½.
        assert_eq!(judge(&[10.0; 3], &[11.0; 3]).call, Call::Larger);
    }

    #[test]
    fn the_same_count_is_no_change_in_an_interval_narrowing_with_the_runs() {
        let widths: Vec<f64> = [3, 12, 48]
            .iter()
            .map(|&k| {
                let j = judge(&vec![10.0; k], &vec![10.0; k]);
                assert_eq!(j.call, Call::Same, "{k} runs: {j:?}");
                let (lo, hi) = j.interval_percent().unwrap();
                assert!((lo + hi).abs() < 1e-9, "{j:?}");
                hi
            })
            .collect();
        // ±4.08 %, ±2.04 %, ±1.02 %: as 1/√k.
        assert!((widths[0] - 100.0 * floor_margin(3.0) / 10.0).abs() < 1e-9);
        assert!((widths[0] / widths[1] - 2.0).abs() < 1e-9, "{widths:?}");
        assert!((widths[1] / widths[2] - 2.0).abs() < 1e-9, "{widths:?}");
    }

    #[test]
    fn one_more_in_a_thousand_is_no_change() {
        let j = judge(&[1_000.0; 3], &[1_001.0; 3]);
        assert_eq!(j.call, Call::Same);
        assert_eq!(j.limit, 50.0);
        assert!((j.percent() - 0.1).abs() < 1e-9);
    }

    #[test]
    fn less_than_half_a_count_a_run_is_never_a_regression() {
        // 1.0 → 1.3 a run (+30 %): within ½ however many runs, though
        // few runs cannot yet place it there: ½·√(2/k) < 0.2 from 13.
        let five = judge(&[1.0; 5], &[1.3; 5]);
        assert_eq!(
            five.call,
            Call::Inconclusive(Doubt::TooFewRuns { needed: Some(13) })
        );
        assert_eq!(judge(&[1.0; 13], &[1.3; 13]).call, Call::Same);
        assert_eq!(judge(&[1.0; 100], &[1.4; 100]).call, Call::Same);
    }

    #[test]
    fn a_change_on_the_limit_says_more_runs_cannot_tell() {
        // 10 → 10.5 at 5 %: the change is the limit itself.
        let j = judge(&[10.0; 3], &[10.5; 3]);
        assert_eq!(
            j.call,
            Call::Inconclusive(Doubt::TooFewRuns { needed: None })
        );
        // 0.06 from it: the floor alone needs 1 / (2·0.06²) = 139 runs.
        let j = judge(&[10.0; 3], &[10.56; 3]);
        assert_eq!(
            j.call,
            Call::Inconclusive(Doubt::TooFewRuns { needed: None })
        );
        // 0.1 from it: 1 / (2·0.1²) = 50, and 51 runs tell.
        let j = judge(&[10.0; 3], &[10.6; 3]);
        assert_eq!(
            j.call,
            Call::Inconclusive(Doubt::TooFewRuns { needed: Some(51) })
        );
        assert_eq!(judge(&[10.0; 51], &[10.6; 51]).call, Call::Larger);
    }

    #[test]
    fn counts_that_vary_between_runs_need_the_runs_to_tell() {
        // ±10 % between runs and a 10 % rise: Welch's interval at the
        // runs' own spread (sd 100 and 110, df 3.97).
        let j = judge(&[900.0, 1_000.0, 1_100.0], &[990.0, 1_100.0, 1_210.0]);
        assert!((j.between - 110.0).abs() < 1e-9, "{j:?}");
        let (lo, hi) = j.interval.unwrap();
        assert!(lo < -200.0 && hi > 400.0, "{j:?}");
        match j.call {
            Call::Inconclusive(Doubt::TooFewRuns { needed: Some(k) }) => {
                assert!((50..=80).contains(&k), "{j:?}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_threshold_rules_where_it_exceeds_half_a_count() {
        // 120 → 132 (+10 %): the limit is 6; called from two runs a side.
        let j = judge(&[120.0; 2], &[132.0; 2]);
        assert_eq!((j.call, j.limit), (Call::Larger, 6.0));
        assert!(j.limit_is_threshold(5.0));
        assert_eq!(judge(&[132.0; 2], &[120.0; 2]).call, Call::Smaller);
        assert_eq!(judge(&[120.0; 3], &[121.0; 3]).call, Call::Same);
        assert!(!judge(&[2.0; 3], &[3.0; 3]).limit_is_threshold(5.0));
    }

    #[test]
    fn one_run_a_side_is_called_only_beyond_the_single_run_factor() {
        let one = |b: f64, n: f64| judge(&[b], &[n]);
        // Two runs a side of the same counts would tell: ½·√(2/2) < 45.
        assert_eq!(
            one(100.0, 150.0).call,
            Call::Inconclusive(Doubt::OneRunASide { needed: Some(2) })
        );
        assert_eq!(one(100.0, 250.0).call, Call::Larger);
        assert_eq!(one(250.0, 100.0).call, Call::Smaller);
        assert_eq!(one(2.0, 10.0).call, Call::Larger);
        // Beyond 2× but not between the ends of half a count: 4.5 < 2·2.5.
        let needs = |k| Call::Inconclusive(Doubt::OneRunASide { needed: Some(k) });
        assert_eq!(one(2.0, 5.0).call, needs(2));
        // Half an allocation of room: ½·√(2/2) is not below it, ½·√(2/3) is.
        assert_eq!(one(0.0, 1.0).call, needs(3));
        assert_eq!(one(0.0, 0.0).call, needs(3));
        assert_eq!(one(2.0, 3.0).call, needs(3));
        // On the limit itself: no count of runs tells.
        assert_eq!(
            one(10.0, 10.5).call,
            Call::Inconclusive(Doubt::OneRunASide { needed: None })
        );
        // A threshold beyond 2× rules.
        assert_eq!(
            judge_counts(&[100.0], &[250.0], 200.0).call,
            Call::Inconclusive(Doubt::OneRunASide { needed: Some(2) })
        );
        assert_eq!(one(100.0, 250.0).interval, None);
    }

    #[test]
    fn one_run_on_one_side_borrows_the_other_sides_spread() {
        // Both sides' spread the floor: margin z·σ₀·√(1/3 + 1) = ½·√(4/3).
        let j = judge(&[10.0; 3], &[10.0]);
        let m = HALF_A_COUNT * (4.0_f64 / 3.0).sqrt();
        assert_interval(&j, -m, m);
        // 0.58 > ½: not yet within; four runs a side would be (0.35).
        assert_eq!(
            j.call,
            Call::Inconclusive(Doubt::TooFewRuns { needed: Some(4) })
        );
    }

    /// `k` counts of mean `mean` and sample standard deviation `sd`
    /// (evenly spaced about the mean).
    fn counts(k: usize, mean: f64, sd: f64) -> Vec<f64> {
        let offsets: Vec<f64> = (0..k).map(|i| i as f64 - (k as f64 - 1.0) / 2.0).collect();
        let scale = match variance(&offsets) {
            0.0 => 0.0,
            v => sd / v.sqrt(),
        };
        offsets.iter().map(|o| mean + o * scale).collect()
    }

    /// The runs a side an inconclusive judgement asks for.
    fn needed(j: &CountJudgement) -> Option<usize> {
        match j.call {
            Call::Inconclusive(Doubt::TooFewRuns { needed } | Doubt::OneRunASide { needed }) => {
                needed
            }
            _ => None,
        }
    }

    #[test]
    fn the_runs_advised_make_the_call_from_the_same_means_and_spreads() {
        let cases: [(Vec<f64>, Vec<f64>); 10] = [
            // +1.0 a run in every run, two runs a side: [+0.5, +1.5].
            (vec![0.0; 2], vec![1.0; 2]),
            (vec![10.0; 3], vec![10.6; 3]),
            (vec![1.0; 5], vec![1.3; 5]),
            (vec![900.0, 1_000.0, 1_100.0], vec![990.0, 1_100.0, 1_210.0]),
            // One side varies, the other does not: unequal spreads, where
            // the degrees of freedom are fewer than equal sides' 2k − 2.
            (vec![900.0, 1_000.0, 1_100.0], vec![1_080.0; 3]),
            (vec![5.0, 9.0, 13.0], vec![20.0, 20.0]),
            // A side of one run borrows the other's spread.
            (vec![10.0; 3], vec![10.0]),
            (vec![900.0, 1_000.0, 1_100.0], vec![1_200.0]),
            // One run a side: the least spread there can be.
            (vec![2.0], vec![3.0]),
            (vec![0.0], vec![0.0]),
        ];
        for (base, new) in cases {
            let j = judge(&base, &new);
            let k = needed(&j).unwrap_or_else(|| panic!("{base:?} {new:?}: {j:?}"));
            // Each side's spread as the judgement saw it: a side of one run
            // has the other's.
            let sd = |own: &[f64], other: &[f64]| match own.len() {
                1 => variance(other).sqrt(),
                _ => variance(own).sqrt(),
            };
            let side = |own: &[f64], other: &[f64], k| counts(k, mean(own), sd(own, other));
            let again = judge(&side(&base, &new, k), &side(&new, &base, k));
            assert!(
                !matches!(again.call, Call::Inconclusive(_)),
                "{base:?} {new:?}: {k} runs a side advised, still {again:?}"
            );
        }
    }
}
