//! The evidence behind a verdict: how one figure of the process runs of two
//! sides compares, with the spread between runs of one side as the noise.
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
//!   Welch–Satterthwaite degrees of freedom), and is a closed formula: the
//!   same files always get the same verdict.
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
//! The threshold is symmetric on the log scale: 5 % means 1.05× slower or
//! 1.05× faster.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doubt {
    /// One run on each side: no estimate of run-to-run noise.
    OneRunASide,
    /// The interval straddles the threshold. `needed`: about how many runs
    /// a side would tell at the spread seen (`None`: more than [`MOST_RUNS`]).
    TooFewRuns {
        /// Runs a side that would make the interval clear the threshold.
        needed: Option<usize>,
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

/// Compares one figure's per-run values (each > 0; smaller values count as
/// 1) of two sides, each with at least one run, against `threshold_percent`.
pub fn judge(base: &[f64], new: &[f64], threshold_percent: f64) -> Judgement {
    assert!(!base.is_empty() && !new.is_empty(), "a side without runs");
    let logs = |side: &[f64]| side.iter().map(|v| v.max(1.0).ln()).collect::<Vec<_>>();
    let (b, n) = (logs(base), logs(new));
    let d = mean(&n) - mean(&b);
    let limit = (1.0 + threshold_percent / 100.0).ln();
    let ratio = d.exp();
    let Some(spread) = Spread::of(&b, &n) else {
        let factor = SINGLE_RUN_FACTOR.ln();
        let call = if d > factor.max(limit) {
            Call::Larger
        } else if d < -factor.max(limit) {
            Call::Smaller
        } else {
            Call::Inconclusive(Doubt::OneRunASide)
        };
        return Judgement {
            ratio,
            interval: None,
            call,
        };
    };
    let margin = spread.margin();
    let (lo, hi) = (d - margin, d + margin);
    let call = if lo > limit {
        Call::Larger
    } else if hi < -limit {
        Call::Smaller
    } else if lo >= -limit && hi <= limit {
        Call::Same
    } else {
        // The distance the margin must shrink to: to clear the threshold
        // (when the estimate is beyond it) or to fit within it (when not).
        let room = (d.abs() - limit).abs();
        Call::Inconclusive(Doubt::TooFewRuns {
            needed: spread.runs_for(room),
        })
    };
    Judgement {
        ratio,
        interval: Some((lo.exp(), hi.exp())),
        call,
    }
}

/// The noise of the difference of two sides' mean logs.
struct Spread {
    /// Its standard error.
    se: f64,
    /// Welch–Satterthwaite degrees of freedom.
    df: f64,
    /// One run's standard deviation (the larger side's), for
    /// [`Spread::runs_for`].
    sd: f64,
    /// Runs on the larger side: more runs a side are needed than this.
    most: usize,
}

impl Spread {
    /// `None` with one run a side. With one run on one side only, the
    /// other side's variance stands for both.
    fn of(b: &[f64], n: &[f64]) -> Option<Spread> {
        let (kb, kn) = (b.len() as f64, n.len() as f64);
        match (b.len(), n.len()) {
            (1, 1) => None,
            (1, _) | (_, 1) => {
                let (var, df) = if b.len() > 1 {
                    (variance(b), kb - 1.0)
                } else {
                    (variance(n), kn - 1.0)
                };
                Some(Spread {
                    se: (var * (1.0 / kb + 1.0 / kn)).sqrt(),
                    df,
                    sd: var.sqrt(),
                    most: b.len().max(n.len()),
                })
            }
            _ => {
                let (vb, vn) = (variance(b) / kb, variance(n) / kn);
                let se2 = vb + vn;
                // Both sides without spread: the difference is exact.
                let df = if se2 == 0.0 {
                    kb + kn - 2.0
                } else {
                    se2 * se2 / (vb * vb / (kb - 1.0) + vn * vn / (kn - 1.0))
                };
                Some(Spread {
                    se: se2.sqrt(),
                    df,
                    sd: variance(b).max(variance(n)).sqrt(),
                    most: b.len().max(n.len()),
                })
            }
        }
    }

    fn margin(&self) -> f64 {
        if self.se == 0.0 {
            return 0.0;
        }
        t_quantile(1.0 - (1.0 - CONFIDENCE) / 2.0, self.df) * self.se
    }

    /// The fewest runs a side, more than either side has now, whose margin
    /// is below `room` at the larger spread seen (equal sides).
    fn runs_for(&self, room: f64) -> Option<usize> {
        (self.most + 1..=MOST_RUNS).find(|&k| {
            let k = k as f64;
            let margin = t_quantile(1.0 - (1.0 - CONFIDENCE) / 2.0, 2.0 * k - 2.0)
                * self.sd
                * (2.0 / k).sqrt();
            margin < room
        })
    }
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
/// by bisection on [`t_cdf`]: exact to 1e-9, deterministic.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    debug_assert!(p > 0.5 && p < 1.0 && df > 0.0);
    let (mut lo, mut hi) = (0.0_f64, 1.0e7_f64);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-10 {
            break;
        }
    }
    (lo + hi) / 2.0
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom:
/// 1 − ½·I_x(df/2, ½) with x = df / (df + t²), for t ≥ 0.
fn t_cdf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    let tail = 0.5 * incomplete_beta(x, df / 2.0, 0.5);
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The regularized incomplete beta function I_x(a, b), by its continued
/// fraction (Numerical Recipes, `betai`/`betacf`).
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: about 15 digits).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        sum += g / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
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
            (0.995, 8.0, 3.355),
            (0.995, 18.0, 2.878),
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
        let j = judge(&base, &new, 5.0);
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
        assert_eq!(judge(&base, &new, 25.0).call, Call::Same);
    }

    #[test]
    fn a_doubling_at_ten_percent_noise_is_a_regression_and_its_inverse_an_improvement() {
        let base = runs(50_000.0, &NOISE_5);
        let new = runs(100_000.0, &NOISE_5);
        let j = judge(&base, &new, 5.0);
        assert_eq!(j.call, Call::Larger);
        assert!((j.ratio - 2.0).abs() < 1e-9);
        let (lo, hi) = j.interval.unwrap();
        // ln 2 ± 0.2122.
        assert!((lo - (2f64.ln() - 0.2122).exp()).abs() < 1e-3, "{lo}");
        assert!((hi - (2f64.ln() + 0.2122).exp()).abs() < 1e-3, "{hi}");
        assert_eq!(judge(&new, &base, 5.0).call, Call::Smaller);
    }

    #[test]
    fn twenty_percent_at_ten_percent_noise_needs_more_runs() {
        let base = runs(50_000.0, &NOISE_5);
        let new = runs(60_000.0, &NOISE_5);
        // ln 1.2 = 0.182 minus margin 0.212 is below the threshold: not yet.
        let j = judge(&base, &new, 5.0);
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
            judge(&runs(50_000.0, &ten), &runs(60_000.0, &ten), 5.0).call,
            Call::Larger
        );
    }

    #[test]
    fn the_runs_suggested_are_always_more_than_there_are() {
        // Three runs a side, one side steady: Welch's interval is wider
        // than equal sides would give, and the suggestion never says 3.
        let base = runs(50_000.0, &NOISE_5[1..4]);
        let new = [50_500.0; 3];
        let j = judge(&base, &new, 5.0);
        match j.call {
            Call::Inconclusive(Doubt::TooFewRuns { needed: Some(k) }) => assert!(k > 3, "{j:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_run_a_side_calls_only_what_noise_cannot_explain() {
        let j = judge(&[50_000.0], &[80_000.0], 5.0);
        assert_eq!(j.call, Call::Inconclusive(Doubt::OneRunASide));
        assert_eq!(j.interval, None);
        assert_eq!(judge(&[50_000.0], &[120_000.0], 5.0).call, Call::Larger);
        assert_eq!(judge(&[50_000.0], &[20_000.0], 5.0).call, Call::Smaller);
        // A threshold beyond 2× rules.
        assert_eq!(
            judge(&[50_000.0], &[120_000.0], 200.0).call,
            Call::Inconclusive(Doubt::OneRunASide)
        );
    }

    #[test]
    fn one_run_on_one_side_borrows_the_other_sides_spread() {
        let base = runs(50_000.0, &NOISE_5);
        // se = 0.1·√(1/5 + 1) = 0.1095, df 4, t 4.604: margin 0.504.
        let j = judge(&base, &[50_000.0 * 1.3], 5.0);
        let (lo, hi) = j.interval.unwrap();
        assert!((hi.ln() - lo.ln() - 2.0 * 0.504).abs() < 2e-3, "{j:?}");
        assert!(matches!(j.call, Call::Inconclusive(_)));
        assert_eq!(judge(&base, &[50_000.0 * 2.5], 5.0).call, Call::Larger);
    }

    #[test]
    fn runs_without_spread_are_exact() {
        let j = judge(&[1_000.0, 1_000.0], &[1_000.0, 1_000.0, 1_000.0], 5.0);
        assert_eq!(j.call, Call::Same);
        let j = judge(&[1_000.0, 1_000.0], &[1_100.0, 1_100.0], 5.0);
        assert_eq!(j.call, Call::Larger);
        let (lo, hi) = j.interval.unwrap();
        assert!(lo == hi && (lo - 1.1).abs() < 1e-12, "{j:?}");
        // Zeros count as 1 ns, never a log of 0.
        assert_eq!(judge(&[0.0, 0.0], &[0.0, 0.0], 5.0).call, Call::Same);
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
