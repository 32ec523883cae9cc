//! The evidence behind a verdict: how one figure of the process runs of two
//! sides compares, with the spread between runs of one side and each run's
//! own uncertainty as the noise.
//!
//! # Why the process run is the unit
//!
//! Samples of one process share its machine state: clock frequency, cache
//! and memory placement, the neighbours on a shared host. Between two
//! processes of the *same* binary the whole distribution moves (±10–40 % on
//! a 2-core VM), so a test that treats the thousands of samples of two
//! processes as independent (Mann-Whitney U, a t-test on samples, criterion's
//! bootstrap over samples) calls that move significant every time. Kalibera
//! and Jones ("Rigorous Benchmarking in Reasonable Time", ISMM 2013) show
//! that the variation between executions dominates and must be sampled by
//! repeating executions; the summary of each execution is one observation.
//! So a file of k runs gives k observations per timer: one figure of each
//! run's busy time, its median by default (`--by`; `diff/mod.rs` says why
//! not the mean).
//!
//! # Why a t interval on the log of per-run values
//!
//! - **Log scale**: what moves a run is multiplicative (a slower clock makes
//!   every poll slower by the same factor), so the difference of the mean
//!   logs is the log of a ratio, and its interval is an interval on the
//!   ratio of the two sides, as in Kalibera and Jones' ratio intervals and
//!   hyperfine's relative speed.
//! - **Welch's t**: with 3–10 runs a side there are too few distinct
//!   resamples for a bootstrap to mean much, and a rank test over runs
//!   (Google benchmark's `compare.py` runs Mann-Whitney U on repetitions)
//!   cannot reach p < 0.01 below 5 runs a side and says nothing of the size
//!   of a change. Welch's interval uses each side's own spread, gives a size
//!   with a width that honestly grows as runs get fewer (Student's t with
//!   Welch–Satterthwaite degrees of freedom, from `statrs`), and is a closed
//!   formula: the same files always get the same verdict.
//! - **Minimum-effect and equivalence rule**: a change must be *beyond the
//!   threshold with confidence*, not merely non-zero: regressed when the
//!   whole 99 % interval lies above `+threshold`, improved when it lies below
//!   `-threshold`, no change when it lies within `±threshold`, inconclusive
//!   otherwise. When the runs are identical programs the interval centres on
//!   zero, so a false "regressed" needs the lower bound alone to clear the
//!   threshold: under normal noise on the log scale, well under 0.5 % per
//!   timer, however many samples each run holds.
//! - **One run a side** gives no estimate of run-to-run noise. Then only a
//!   change beyond [`SINGLE_RUN_FACTOR`] (2×) either way is called: larger
//!   than the process-to-process moves seen on shared machines. Anything
//!   smaller is inconclusive, saying to save more runs.
//!
//! # Why each run's own uncertainty too
//!
//! The spread between a few runs is itself a guess, and two kinds of timer
//! make it a wrong one:
//!
//! - **Two modes.** Half the calls ~10 µs (a cache hit) and half ~100 µs: a
//!   run's median lands on one mode or the other by a few calls, so per-run
//!   medians are 10 or 100 by chance. One run a side flips by 10×; three a
//!   side all on one mode against all on the other happens 1 time in 32, with
//!   a spread of almost 0 each side, and Welch calls it with confidence.
//! - **A figure on a clock step.** A ~60 ns section read on a clock whose
//!   steps show (every reading a multiple of 30 ns) has a per-run median of
//!   exactly 60 in most runs: a spread of 0, a zero-width interval, and one
//!   base run at 30 ns "regressed +100 % [+100 %, +100 %]".
//!
//! So each run's figure is a [`Reading`]: the value and the interval, at
//! [`CONFIDENCE`], where the process's figure lies as far as the run's own
//! samples tell: for a quantile, the order-statistic (binomial) interval read
//! from the run's histogram; for the mean, its standard error; each reaching
//! at least the histogram's precision (3 significant figures: 0.1 %) and, for
//! a quantile that one value holds, a clock step either side where the
//! readings sit on a clock's grid (the figure a whole number of gaps to the
//! next values read: 30, 60, 90). A verdict must clear both noises:
//!
//! - **Between runs**, Welch's interval as above, with each side's spread
//!   floored by its runs' own resolution (the mean half-width of their
//!   intervals, as a standard deviation: ÷ z): a spread below what the runs
//!   can resolve is not seen, so zero spread never gives a zero-width
//!   interval. A one-run side borrows the other side's spread, floored by its
//!   own resolution.
//! - **Within runs**, the change must hold even at the ends of the runs'
//!   intervals: the mean log of one side's low ends against the other's high
//!   ends (each side's reach combined as √(a² + b²), the sides being separate
//!   processes). This reach does not shrink with more runs: when one
//!   mode decides a run's median, all runs of a side can land on one mode
//!   together (1 in 8 for three runs), so only more samples per run, or
//!   another figure, can tell. A two-mode timer whose median flips is then
//!   `inconclusive`, saying that the figure of single runs is uncertain and
//!   the interval of the widest run; a one-run figure on a clock step
//!   reaches a whole step either side, and 30 ns against 60 ns is
//!   inconclusive.
//!
//! The interval reported is the wider of the two at each end. For a
//! unimodal timer of a few thousand calls a run the within-run reach is a
//! fraction of a percent, and verdicts are those of Welch's interval alone.
//!
//! The threshold is symmetric on the log scale: 5 % means 1.05× slower or
//! 1.05× faster.
//!
//! A count a run (allocations per completed run), which can be 0, is judged
//! on the difference of means instead: see `counts.rs`.

mod counts;
mod reading;

use statrs::distribution::{ContinuousCDF as _, StudentsT};

pub use counts::{judge_counts, CountJudgement, HALF_A_COUNT};
use reading::ln;
pub use reading::Reading;

/// The confidence of the interval a verdict is read from.
pub const CONFIDENCE: f64 = 0.99;

/// With one run a side, only a change beyond this factor either way is
/// called regressed or improved.
pub const SINGLE_RUN_FACTOR: f64 = 2.0;

/// The most runs a side [`Doubt::TooFewRuns`] suggests; beyond it, the
/// change sits too close to the threshold to tell at any practical count.
pub const MOST_RUNS: usize = 100;

/// What the evidence says about one figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Call {
    /// Larger beyond the threshold, with confidence.
    Larger,
    /// Smaller beyond the threshold, with confidence.
    Smaller,
    /// Within the threshold, with confidence.
    Same,
    /// None of these can be told.
    Inconclusive(Doubt),
}

/// Why a figure's comparison is inconclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Doubt {
    /// One run on each side: no estimate of run-to-run noise. `needed`:
    /// for a count a run, the fewest runs a side that would tell were the
    /// runs' counts to vary by no more than its floor (`None` where even
    /// [`MOST_RUNS`] would not); for time, always `None` (no spread known).
    OneRunASide {
        /// Runs a side that would tell at the least spread there can be.
        needed: Option<usize>,
    },
    /// The interval straddles the threshold. `needed`: about how many runs
    /// a side would tell at the spread seen (`None`: more than [`MOST_RUNS`]).
    TooFewRuns {
        /// Runs a side that would make the interval clear the threshold.
        needed: Option<usize>,
    },
    /// The figure of single runs is too uncertain for the change to clear
    /// the threshold, however many runs: `widest` is the interval (low,
    /// high, ns) of the run whose figure is least certain.
    RunsUncertain {
        /// That run's interval, ns.
        widest: (f64, f64),
    },
}

/// The change of one figure from base to new, and the call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    /// new / base, from the mean logs (a geometric-mean ratio).
    pub ratio: f64,
    /// The ratio's [`CONFIDENCE`] interval; `None` with one run a side.
    pub interval: Option<(f64, f64)>,
    /// What it says.
    pub call: Call,
}

impl Judgement {
    /// The change in percent.
    pub fn percent(&self) -> f64 {
        (self.ratio - 1.0) * 100.0
    }

    /// The interval in percent.
    pub fn interval_percent(&self) -> Option<(f64, f64)> {
        self.interval
            .map(|(lo, hi)| ((lo - 1.0) * 100.0, (hi - 1.0) * 100.0))
    }
}

/// The geometric mean of per-run values (ns; values below 1 ns count as
/// 1): the typical run's figure, whose ratio between sides is
/// [`Judgement::ratio`]. `None` without values.
pub fn typical(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (mut sum, mut count) = (0.0, 0_usize);
    for v in values {
        sum += ln(v);
        count += 1;
    }
    (count > 0).then(|| (sum / count as f64).exp())
}

/// Compares one figure's per-run readings of two sides, each with at
/// least one run, against `threshold_percent`.
pub fn judge(base: &[Reading], new: &[Reading], threshold_percent: f64) -> Judgement {
    assert!(!base.is_empty() && !new.is_empty(), "a side without runs");
    let logs = |side: &[Reading]| side.iter().map(|r| ln(r.value)).collect::<Vec<_>>();
    let (b, n) = (logs(base), logs(new));
    let d = mean(&n) - mean(&b);
    let limit = (1.0 + threshold_percent / 100.0).ln();
    let ratio = d.exp();
    let within = Within::of(base, new);
    let Some(spread) = Spread::of(&b, &n, within.resolution_base, within.resolution_new) else {
        let factor = SINGLE_RUN_FACTOR.ln().max(limit);
        let call = if d - within.below > factor {
            Call::Larger
        } else if d + within.above < -factor {
            Call::Smaller
        } else if d.abs() > factor {
            Call::Inconclusive(Doubt::RunsUncertain {
                widest: within.widest,
            })
        } else {
            Call::Inconclusive(Doubt::OneRunASide { needed: None })
        };
        return Judgement {
            ratio,
            interval: None,
            call,
        };
    };
    let margin = spread.margin();
    let (lo, hi) = (d - margin.max(within.below), d + margin.max(within.above));
    let call = if let Some(call) = settled(lo, hi, limit) {
        call
    } else {
        // The distance the margin must shrink to: to clear the threshold
        // (when the estimate is beyond it) or to fit within it (when not).
        let room = (d.abs() - limit).abs();
        let reach = within.below.max(within.above);
        if reach >= room {
            // No count of runs shrinks a run's own uncertainty.
            Call::Inconclusive(Doubt::RunsUncertain {
                widest: within.widest,
            })
        } else {
            Call::Inconclusive(Doubt::TooFewRuns {
                needed: spread.runs_for(room),
            })
        }
    };
    Judgement {
        ratio,
        interval: Some((lo.exp(), hi.exp())),
        call,
    }
}

/// The call an interval `[lo, hi]` of a change makes against ±`limit`:
/// beyond it, within it, or `None` where it straddles an edge.
fn settled(lo: f64, hi: f64, limit: f64) -> Option<Call> {
    if lo > limit {
        Some(Call::Larger)
    } else if hi < -limit {
        Some(Call::Smaller)
    } else if lo >= -limit && hi <= limit {
        Some(Call::Same)
    } else {
        None
    }
}

/// What the runs' own intervals allow, on the log scale.
struct Within {
    /// How much smaller the change could be: new's reach below its values
    /// and base's above, each side's the mean over its runs.
    below: f64,
    /// How much larger the change could be.
    above: f64,
    /// Each side's resolution as a standard deviation of one run's figure:
    /// the mean half-width of its runs' intervals over z.
    resolution_base: f64,
    resolution_new: f64,
    /// The interval (ns) of the run whose interval is widest on the log
    /// scale.
    widest: (f64, f64),
}

impl Within {
    fn of(base: &[Reading], new: &[Reading]) -> Within {
        let reach = |side: &[Reading]| {
            let (below, above) = side
                .iter()
                .map(Reading::log_reach)
                .fold((0.0, 0.0), |(sb, sa), (b, a)| (sb + b, sa + a));
            (below / side.len() as f64, above / side.len() as f64)
        };
        let ((base_below, base_above), (new_below, new_above)) = (reach(base), reach(new));
        let widest = base
            .iter()
            .chain(new)
            .max_by(|x, y| {
                let width = |r: &Reading| ln(r.high) - ln(r.low);
                width(x).total_cmp(&width(y))
            })
            .map_or((0.0, 0.0), |r| (r.low, r.high));
        let z = reading::z();
        Within {
            below: new_below.hypot(base_above),
            above: new_above.hypot(base_below),
            resolution_base: (base_below + base_above) / 2.0 / z,
            resolution_new: (new_below + new_above) / 2.0 / z,
            widest,
        }
    }
}

/// The noise of the difference of two sides' mean logs.
struct Spread {
    /// Its standard error.
    se: f64,
    /// Welch–Satterthwaite degrees of freedom.
    df: f64,
    /// One run's variance on each side (floored, or borrowed by a side of
    /// one run), for [`Spread::runs_for`].
    variances: (f64, f64),
    /// Runs on the larger side: more runs a side are needed than this.
    most: usize,
}

impl Spread {
    /// `None` with one run a side. Each side's variance is floored by its
    /// runs' resolution (`rb`, `rn`: standard deviations on the log
    /// scale); a side of one run borrows the other side's variance.
    fn of(b: &[f64], n: &[f64], rb: f64, rn: f64) -> Option<Spread> {
        let (kb, kn) = (b.len() as f64, n.len() as f64);
        let (var_b, var_n) = match (b.len(), n.len()) {
            (1, 1) => return None,
            (1, _) => (variance(n), variance(n)),
            (_, 1) => (variance(b), variance(b)),
            _ => (variance(b), variance(n)),
        };
        let (var_b, var_n) = (var_b.max(rb * rb), var_n.max(rn * rn));
        let (vb, vn) = (var_b / kb, var_n / kn);
        let se2 = vb + vn;
        let df = if b.len() == 1 {
            kn - 1.0
        } else if n.len() == 1 {
            kb - 1.0
        } else {
            welch_df(vb, kb, vn, kn)
        };
        Some(Spread {
            se: se2.sqrt(),
            df,
            variances: (var_b, var_n),
            most: b.len().max(n.len()),
        })
    }

    fn margin(&self) -> f64 {
        if self.se == 0.0 {
            return 0.0;
        }
        t_quantile(1.0 - (1.0 - CONFIDENCE) / 2.0, self.df) * self.se
    }

    /// The fewest runs a side, more than either side has now, whose margin
    /// at the same variances (each side's own) is below `room`: the same
    /// mean logs and spreads from that many runs a side make the call.
    fn runs_for(&self, room: f64) -> Option<usize> {
        let (var_b, var_n) = self.variances;
        (self.most + 1..=MOST_RUNS).find(|&k| {
            let k = k as f64;
            let (vb, vn) = (var_b / k, var_n / k);
            let spread = Spread {
                se: (vb + vn).sqrt(),
                df: welch_df(vb, k, vn, k),
                ..*self
            };
            spread.margin() < room
        })
    }
}

/// Welch–Satterthwaite degrees of freedom of two sides' variances of the
/// mean `vb`, `vn` from `kb`, `kn` runs (`kb + kn − 2` where both are 0).
fn welch_df(vb: f64, kb: f64, vn: f64, kn: f64) -> f64 {
    let se2 = vb + vn;
    if se2 == 0.0 {
        return kb + kn - 2.0;
    }
    se2 * se2 / (vb * vb / (kb - 1.0) + vn * vn / (kn - 1.0))
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample variance (n − 1); 0 for one value.
fn variance(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (values.len() as f64 - 1.0)
}

/// The spread between runs: the coefficient of variation of per-run values
/// (sample standard deviation over mean); `None` below two runs.
pub fn spread(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values);
    (m > 0.0).then(|| variance(values).sqrt() / m)
}

/// Whether a kind of bad outcome (cancelled, panicked, error) got more
/// frequent beyond noise: `base` and `new` hold, per run, (bad, ended).
///
/// Worse when the new pooled rate exceeds the base rate by more than the
/// threshold (by [`SINGLE_RUN_FACTOR`] with one run a side), a one-sided
/// two-proportion z-test on the pooled counts gives z > 3.09 (p < 0.001),
/// and, with two runs or more a side, every new run's rate is above every
/// base run's rate: run-to-run noise in outcomes (a flaky network) is not
/// taken for a change.
pub fn outcome_worse(base: &[(u64, u64)], new: &[(u64, u64)], threshold_percent: f64) -> bool {
    let total = |side: &[(u64, u64)]| {
        side.iter().fold((0.0, 0.0), |(b, e), &(bad, ended)| {
            (b + bad as f64, e + ended as f64)
        })
    };
    let ((bad_b, ended_b), (bad_n, ended_n)) = (total(base), total(new));
    if ended_b == 0.0 || ended_n == 0.0 {
        return false;
    }
    let (rate_b, rate_n) = (bad_b / ended_b, bad_n / ended_n);
    let one_run = base.len() == 1 && new.len() == 1;
    let factor = if one_run {
        SINGLE_RUN_FACTOR
    } else {
        1.0 + threshold_percent / 100.0
    };
    if rate_n <= rate_b * factor {
        return false;
    }
    let pooled = (bad_b + bad_n) / (ended_b + ended_n);
    let se = (pooled * (1.0 - pooled) * (1.0 / ended_b + 1.0 / ended_n)).sqrt();
    if se == 0.0 || (rate_n - rate_b) / se <= 3.09 {
        return false;
    }
    let rate = |&(bad, ended): &(u64, u64)| (ended > 0).then(|| bad as f64 / ended as f64);
    let most_base = base.iter().filter_map(rate).fold(0.0, f64::max);
    let least_new = new.iter().filter_map(rate).fold(f64::INFINITY, f64::min);
    base.len() < 2 || new.len() < 2 || least_new > most_base
}

/// The `p` quantile of Student's t with `df` degrees of freedom (df > 0),
/// from `statrs`.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    debug_assert!(p > 0.5 && p < 1.0 && df > 0.0);
    StudentsT::new(0.0, 1.0, df)
        .map(|t| t.inverse_cdf(p))
        .unwrap_or(f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_quantiles_match_the_tables() {
        // Two-sided 99 % and 95 % critical values from any t table.
        for (p, df, table) in [
            (0.995, 1.0, 63.657),
            (0.995, 2.0, 9.925),
            (0.995, 4.0, 4.604),
            (0.995, 5.0, 4.032),
            (0.995, 8.0, 3.355),
            (0.995, 18.0, 2.878),
            (0.995, 30.0, 2.750),
            (0.975, 30.0, 2.042),
            (0.995, 1.0e6, 2.576),
        ] {
            let t = t_quantile(p, df);
            assert!(
                (t - table).abs() < 1e-3,
                "t({p}, {df}) = {t}, table {table}"
            );
        }
    }

    /// Per-run figures without uncertainty of their own: Welch's interval
    /// alone.
    fn judge_points(base: &[f64], new: &[f64], threshold: f64) -> Judgement {
        let points = |side: &[f64]| {
            (side.iter())
                .map(|&value| Reading {
                    value,
                    low: value,
                    high: value,
                })
                .collect::<Vec<_>>()
        };
        judge(&points(base), &points(new), threshold)
    }

    /// Per-run values `centre × exp(offset)` for fixed offsets: a known
    /// spread (sample sd of the offsets) and a known mean log.
    fn runs(centre: f64, offsets: &[f64]) -> Vec<f64> {
        offsets.iter().map(|o| centre * o.exp()).collect()
    }

    /// Offsets with mean 0 and sample sd 0.1 (±10 % between runs).
    const NOISE_5: [f64; 5] = [
        -0.126_491_106,
        -0.063_245_553,
        0.0,
        0.063_245_553,
        0.126_491_106,
    ];

    #[test]
    fn no_shift_at_ten_percent_noise_is_never_a_regression() {
        let base = runs(50_000.0, &NOISE_5);
        // The new side's runs in the other order: the same values.
        let new: Vec<f64> = base.iter().rev().copied().collect();
        let j = judge_points(&base, &new, 5.0);
        assert!((j.ratio - 1.0).abs() < 1e-12);
        // se = 0.1·√(2/5) = 0.0632, df = 8, t = 3.355: margin 0.2122.
        let (lo, hi) = j.interval.unwrap();
        assert!(
            (lo.ln() + 0.2122).abs() < 1e-3 && (hi.ln() - 0.2122).abs() < 1e-3,
            "{j:?}"
        );
        // Too wide to say "within 5 %": inconclusive, and at this spread
        // the margin is below ln 1.05 = 0.0488 only from 58 runs a side (scipy: t.ppf(0.995, 114)·0.1·√(2/58) = 0.0486).
        assert_eq!(
            j.call,
            Call::Inconclusive(Doubt::TooFewRuns { needed: Some(58) })
        );
        // A threshold wider than the margin: no change.
        assert_eq!(judge_points(&base, &new, 25.0).call, Call::Same);
    }

    #[test]
    fn a_doubling_at_ten_percent_noise_is_a_regression_and_its_inverse_an_improvement() {
        let base = runs(50_000.0, &NOISE_5);
        let new = runs(100_000.0, &NOISE_5);
        let j = judge_points(&base, &new, 5.0);
        assert_eq!(j.call, Call::Larger);
        assert!((j.ratio - 2.0).abs() < 1e-9);
        let (lo, hi) = j.interval.unwrap();
        // ln 2 ± 0.2122.
        assert!((lo - (2f64.ln() - 0.2122).exp()).abs() < 1e-3, "{lo}");
        assert!((hi - (2f64.ln() + 0.2122).exp()).abs() < 1e-3, "{hi}");
        assert_eq!(judge_points(&new, &base, 5.0).call, Call::Smaller);
    }

    #[test]
    fn twenty_percent_at_ten_percent_noise_needs_more_runs() {
        let base = runs(50_000.0, &NOISE_5);
        let new = runs(60_000.0, &NOISE_5);
        // ln 1.2 = 0.182 minus margin 0.212 is below the threshold: not yet.
        let j = judge_points(&base, &new, 5.0);
        assert!((j.percent() - 20.0).abs() < 1e-9);
        // Room: ln 1.2 − ln 1.05 = 0.1335; at 9 runs t(16) = 2.921 gives a
        // margin of 2.921·0.1·√(2/9) = 0.1377, not yet; at 10 runs t(18) =
        // 2.878 gives 0.1287.
        assert_eq!(
            j.call,
            Call::Inconclusive(Doubt::TooFewRuns { needed: Some(10) })
        );
        // Ten runs a side at the same spread: regressed.
        let ten: Vec<f64> = NOISE_5.iter().chain(NOISE_5.iter()).copied().collect();
        let sd = variance(&ten).sqrt();
        let ten: Vec<f64> = ten.iter().map(|o| o * 0.1 / sd).collect();
        assert_eq!(
            judge_points(&runs(50_000.0, &ten), &runs(60_000.0, &ten), 5.0).call,
            Call::Larger
        );
    }

    #[test]
    fn the_runs_suggested_are_always_more_than_there_are() {
        // Three runs a side, one side steady: Welch's interval is wider
        // than equal sides would give, and the suggestion never says 3.
        let base = runs(50_000.0, &NOISE_5[1..4]);
        let new = [50_500.0; 3];
        let j = judge_points(&base, &new, 5.0);
        match j.call {
            Call::Inconclusive(Doubt::TooFewRuns { needed: Some(k) }) => assert!(k > 3, "{j:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_runs_advised_make_the_call_from_the_same_mean_logs_and_spreads() {
        // (base, new) as offsets on the log scale about 50 µs and a change.
        let cases: [(&[f64], &[f64], f64); 6] = [
            (&NOISE_5, &NOISE_5, 1.2),
            (&NOISE_5, &NOISE_5, 1.0),
            // One side steady: unequal spreads, fewer degrees of freedom
            // than equal sides' 2k − 2. Two runs of sd 0.1 against two
            // steady ones, ×1.65: three a side at equal spreads would be
            // t(4)·0.1·√(2/3) = 0.38 < 0.45 of room, but are
            // t(2)·0.1/√3 = 0.57; four are 0.29.
            (&[-0.070_710_678, 0.070_710_678], &[0.0; 2], 1.65),
            (&NOISE_5[1..4], &[0.0; 3], 1.01),
            (&NOISE_5, &[0.0; 2], 1.25),
            // A side of one run borrows the other's spread.
            (&NOISE_5, &[0.0], 1.3),
        ];
        // `k` values of mean log ln(`centre`) and sample sd `sd` there.
        let side = |k: usize, centre: f64, sd: f64| {
            let offsets: Vec<f64> = (0..k).map(|i| i as f64 - (k as f64 - 1.0) / 2.0).collect();
            let scale = match variance(&offsets) {
                0.0 => 0.0,
                v => sd / v.sqrt(),
            };
            runs(
                centre,
                &offsets.iter().map(|o| o * scale).collect::<Vec<_>>(),
            )
        };
        for (b, n, factor) in cases {
            let (base, new) = (runs(50_000.0, b), runs(50_000.0 * factor, n));
            let j = judge_points(&base, &new, 5.0);
            let Call::Inconclusive(Doubt::TooFewRuns { needed: Some(k) }) = j.call else {
                panic!("{b:?} {n:?} ×{factor}: {j:?}");
            };
            let sd = |own: &[f64], other: &[f64]| match own.len() {
                1 => variance(other).sqrt(),
                _ => variance(own).sqrt(),
            };
            let again = judge_points(
                &side(k, 50_000.0, sd(b, n)),
                &side(k, 50_000.0 * factor, sd(n, b)),
                5.0,
            );
            assert!(
                !matches!(again.call, Call::Inconclusive(_)),
                "{b:?} {n:?} ×{factor}: {k} runs a side advised, still {again:?}"
            );
        }
    }

    #[test]
    fn one_run_a_side_calls_only_what_noise_cannot_explain() {
        let j = judge_points(&[50_000.0], &[80_000.0], 5.0);
        assert_eq!(
            j.call,
            Call::Inconclusive(Doubt::OneRunASide { needed: None })
        );
        assert_eq!(j.interval, None);
        assert_eq!(
            judge_points(&[50_000.0], &[120_000.0], 5.0).call,
            Call::Larger
        );
        assert_eq!(
            judge_points(&[50_000.0], &[20_000.0], 5.0).call,
            Call::Smaller
        );
        // A threshold beyond 2× rules.
        assert_eq!(
            judge_points(&[50_000.0], &[120_000.0], 200.0).call,
            Call::Inconclusive(Doubt::OneRunASide { needed: None })
        );
    }

    #[test]
    fn one_run_on_one_side_borrows_the_other_sides_spread() {
        let base = runs(50_000.0, &NOISE_5);
        // se = 0.1·√(1/5 + 1) = 0.1095, df 4, t 4.604: margin 0.504.
        let j = judge_points(&base, &[50_000.0 * 1.3], 5.0);
        let (lo, hi) = j.interval.unwrap();
        assert!((hi.ln() - lo.ln() - 2.0 * 0.504).abs() < 2e-3, "{j:?}");
        assert!(matches!(j.call, Call::Inconclusive(_)));
        assert_eq!(
            judge_points(&base, &[50_000.0 * 2.5], 5.0).call,
            Call::Larger
        );
    }

    #[test]
    fn points_without_spread_are_exact_but_sums_to_the_nanosecond_are_not() {
        let j = judge_points(&[1_000.0, 1_000.0], &[1_100.0, 1_100.0], 5.0);
        assert_eq!(j.call, Call::Larger);
        assert_eq!(j.interval, Some((j.ratio, j.ratio)));
        // Poll totals, exact to the nanosecond: never a zero width.
        let exact = |v: f64, k: usize| vec![Reading::exact(v); k];
        let j = judge(&exact(1_000.0, 2), &exact(1_100.0, 2), 5.0);
        assert_eq!(j.call, Call::Larger);
        let (lo, hi) = j.interval.unwrap();
        assert!(lo < 1.1 && hi > 1.1, "{j:?}");
        assert_eq!(
            judge(&exact(1_000.0, 2), &exact(1_000.0, 3), 5.0).call,
            Call::Same
        );
        // Zeros count as 1 ns, never a log of 0.
        assert_eq!(judge_points(&[0.0, 0.0], &[0.0, 0.0], 5.0).call, Call::Same);
    }

    /// A run's busy times: `(ns, how many)` each.
    fn run(calls: &[(u64, u64)]) -> perf_timer::Distribution {
        let registry = perf_timer::Registry::new();
        let timer = registry.timer("t");
        for &(ns, times) in calls {
            for _ in 0..times {
                timer.record(std::time::Duration::from_nanos(ns));
            }
        }
        registry.stats("t").unwrap().busy().clone()
    }

    /// Each run's median, read with its own interval.
    fn medians(runs: &[Vec<(u64, u64)>]) -> Vec<Reading> {
        (runs.iter())
            .map(|calls| Reading::quantile(&run(calls), 0.5).unwrap())
            .collect()
    }

    /// 2,000 calls: `fast` of them spread over 10.0–10.2 µs, the rest
    /// over 99.0–100.6 µs. With more than half fast, the median is ~10 µs.
    fn two_modes(fast: u64) -> Vec<(u64, u64)> {
        let slow = 2_000 - fast;
        let fast = (0..fast).map(|i| (10_000 + 200 * i / fast, 1));
        fast.chain((0..slow).map(|i| (99_000 + 1_600 * i / slow, 1)))
            .collect()
    }

    fn assert_runs_uncertain(j: &Judgement, low: f64, high: f64) {
        match j.call {
            Call::Inconclusive(Doubt::RunsUncertain { widest: (lo, hi) }) => assert!(
                (lo - low).abs() <= 0.01 * low.max(1.0) && (hi - high).abs() <= 0.01 * high,
                "widest run {lo}…{hi}, expected about {low}…{high}"
            ),
            other => panic!("{other:?} ({j:?})"),
        }
    }

    #[test]
    fn a_two_mode_timer_whose_median_flips_is_inconclusive() {
        // The same program: each run's median lands on the mode that has
        // a few more calls, here 1,010 of 2,000 fast in base and 990 in
        // new: per-run medians 10.2 µs against 99.0 µs, +870 %.
        let (base, new) = (two_modes(1_010), two_modes(990));
        // One run a side: beyond 2×, but each run's median could be
        // either mode.
        let j = judge(
            &medians(std::slice::from_ref(&base)),
            &medians(std::slice::from_ref(&new)),
            5.0,
        );
        assert!((j.percent() - 870.0).abs() < 5.0, "{j:?}");
        assert_runs_uncertain(&j, 10_190.0, 99_050.0);
        // Three runs a side, every base run fast and every new run slow:
        // no spread within a side, 1 time in 32 for the same program.
        let three = |calls: &Vec<(u64, u64)>| medians(&vec![calls.clone(); 3]);
        let j = judge(&three(&base), &three(&new), 5.0);
        assert_runs_uncertain(&j, 10_190.0, 99_050.0);
        let (lo, hi) = j.interval.unwrap();
        assert!(lo < 1.0 && hi > 10.0, "{j:?}");
        // One against ten, and the other way round.
        let ten = medians(&vec![new.clone(); 10]);
        assert_runs_uncertain(
            &judge(&medians(std::slice::from_ref(&base)), &ten, 5.0),
            10_190.0,
            99_050.0,
        );
        assert_runs_uncertain(&judge(&ten, &medians(&[base]), 5.0), 10_190.0, 99_050.0);
    }

    #[test]
    fn one_run_on_a_clock_step_against_ten_is_inconclusive() {
        // Every reading a multiple of 30 ns. Ten new runs read a median of
        // exactly 60 ns (no spread at all); the one base run, 30 ns. A
        // figure of one or two clock steps is located only within a step
        // either side, and one base run cannot tell run-to-run noise:
        // not "+100 % [+100 %, +100 %]".
        let base = medians(&[vec![(30, 1_500), (60, 400), (90, 100)]]);
        let new = medians(&vec![vec![(30, 100), (60, 1_800), (90, 100)]; 10]);
        assert_eq!((base[0].low, base[0].high), (0.0, 60.0));
        assert_eq!((new[0].low, new[0].high), (30.0, 90.0));
        let j = judge(&base, &new, 5.0);
        assert!((j.percent() - 100.0).abs() < 1e-9, "{j:?}");
        let (lo, hi) = j.interval.unwrap();
        assert!(lo < 1.0 && hi > 2.0, "{j:?}");
        assert_runs_uncertain(&j, 0.0, 60.0);
    }

    #[test]
    fn zero_spread_never_gives_a_zero_width_interval() {
        // Every call of every run the same value, 30 ns in the one base
        // run and 60 ns in ten new ones: no clock step shows, so each
        // figure is known to the histogram's precision (0.1 %), and the
        // spread is floored by it. Such data do say "twice as slow":
        // regressed, with an interval of a few tenths of a percent.
        let base = medians(&[vec![(30, 2_000)]]);
        let new = medians(&vec![vec![(60, 2_000)]; 10]);
        let j = judge(&base, &new, 5.0);
        assert_eq!(j.call, Call::Larger);
        let (lo, hi) = j.interval_percent().unwrap();
        assert!(lo < 100.0 - 0.1 && lo > 99.0, "{j:?}");
        assert!(hi > 100.0 + 0.1 && hi < 101.0, "{j:?}");
        // Equal sides without spread: no change, still not a point.
        let j = judge(&new, &new[..3], 5.0);
        assert_eq!(j.call, Call::Same);
        let (lo, hi) = j.interval_percent().unwrap();
        assert!(lo < 0.0 && hi > 0.0, "{j:?}");
    }

    /// `runs` runs of 2,000 calls spread over 1,000–2,000 ns × `scale`,
    /// each run's scale moved by 1 % steps (a spread between runs).
    fn unimodal(runs: usize, scale: f64) -> Vec<Reading> {
        let runs: Vec<Vec<(u64, u64)>> = (0..runs)
            .map(|r| {
                let run_scale = scale * (1.0 + 0.01 * (r as f64 - 2.0));
                (0..2_000)
                    .map(|i| (((1_000.0 + i as f64 / 2.0) * run_scale) as u64, 1))
                    .collect()
            })
            .collect();
        medians(&runs)
    }

    #[test]
    fn twice_as_slow_at_five_runs_a_side_is_a_regression() {
        let (base, slower) = (unimodal(5, 1.0), unimodal(5, 2.0));
        let j = judge(&base, &slower, 5.0);
        assert_eq!(j.call, Call::Larger);
        assert!((j.ratio - 2.0).abs() < 0.01, "{j:?}");
        assert_eq!(judge(&slower, &base, 5.0).call, Call::Smaller);
    }

    #[test]
    fn identical_sides_are_no_change() {
        let base = unimodal(5, 1.0);
        let j = judge(&base, &base, 5.0);
        assert_eq!(j.call, Call::Same);
        assert_eq!(j.ratio, 1.0);
        // Within: Welch's margin (t(8) · 1.6 % · √(2/5) = 3.3 %) and each
        // run's own reach (±2 % of the median, both sides: 2.8 %).
        let (lo, hi) = j.interval_percent().unwrap();
        assert!(lo < -2.0 && hi > 2.0 && hi < 4.9, "{j:?}");
    }

    #[test]
    fn spread_is_the_coefficient_of_variation() {
        assert_eq!(spread(&[5.0]), None);
        let cv = spread(&[90.0, 100.0, 110.0]).unwrap();
        assert!((cv - 0.1).abs() < 1e-12, "{cv}");
    }

    #[test]
    fn outcomes_worse_beyond_noise_only() {
        // Every run now times out.
        assert!(outcome_worse(&[(0, 2_000); 3], &[(2_000, 2_000); 3], 5.0));
        // 0 → 200 errors of 2,000, one run a side.
        assert!(outcome_worse(&[(0, 2_000)], &[(200, 2_000)], 5.0));
        // A few more of many: within binomial noise.
        assert!(!outcome_worse(&[(3, 2_000)], &[(6, 2_000)], 5.0));
        // Pooled counts differ a lot but one base run was as bad (a flaky
        // dependency on both sides): not a change of the program.
        assert!(!outcome_worse(
            &[(0, 2_000), (150, 2_000), (0, 2_000)],
            &[(100, 2_000), (120, 2_000), (140, 2_000)],
            5.0
        ));
        // Fewer is never worse.
        assert!(!outcome_worse(&[(200, 2_000)], &[(0, 2_000)], 5.0));
    }
}
