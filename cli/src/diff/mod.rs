//! `perf-timer diff`: every timer of two sides compared run by run, with a
//! verdict whose unit of evidence is the process run (see `evidence.rs`).
//!
//! Files: this one gathers each timer's figures and decides its verdict;
//! `text.rs`, `markdown.rs` and `json.rs` present one [`Diff`].

mod html;
mod json;
mod markdown;
mod text;

use std::collections::BTreeSet;
use std::time::Duration;

use perf_timer::{ReportDuration, Stats};

use crate::error::CliError;
use crate::evidence::{self, Call, CountJudgement, Doubt, Judgement, Reading};
use crate::figure::By;
use crate::judging::Judging;
use crate::load::Side;

/// What a timer did between the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Slower beyond the threshold with confidence, or ending badly more
    /// often beyond noise.
    Regressed,
    /// Faster beyond the threshold, with confidence.
    Improved,
    /// Within the threshold, with confidence.
    NoChange,
    /// The runs cannot tell; the row's reason says why.
    Inconclusive,
    /// Active only in the new side.
    Added,
    /// Active only in the base side: no activity at all in the new one.
    Removed,
}

impl Verdict {
    /// Every verdict, in the order summaries list them.
    pub const ALL: [Verdict; 6] = [
        Verdict::Regressed,
        Verdict::Improved,
        Verdict::Inconclusive,
        Verdict::NoChange,
        Verdict::Added,
        Verdict::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::NoChange => "no change",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Added => "added",
            Verdict::Removed => "removed",
        }
    }
}

/// A way a run can end without a normal sample (errors are samples too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Cancelled,
    Panicked,
    Errors,
}

impl Outcome {
    const ALL: [Outcome; 3] = [Outcome::Cancelled, Outcome::Panicked, Outcome::Errors];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Cancelled => "cancelled",
            Outcome::Panicked => "panicked",
            Outcome::Errors => "errors",
        }
    }

    fn count(self, stats: &Stats) -> u64 {
        match self {
            Outcome::Cancelled => stats.cancelled(),
            Outcome::Panicked => stats.panicked(),
            Outcome::Errors => stats.errors(),
        }
    }
}

/// One timer's figures on one side.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Process runs (lines of the file) in which the timer did anything.
    pub runs: usize,
    /// Completed runs of the timer (samples), all process runs together.
    pub samples: u64,
    /// Cancelled, panicked and error counts, all process runs together.
    pub outcomes: [u64; 3],
    /// Runs still in flight when each process saved, summed.
    pub in_flight: u64,
    /// Busy time of runs that ended without a sample, summed.
    pub abandoned: Duration,
    /// Every poll's time, summed over the process runs.
    pub poll_total: Duration,
    pub bytes_per_run: Option<f64>,
    /// Busy time of the typical run, in ns: each figure the table shows
    /// ([`Diff::shown`]) as the geometric mean over the process runs of
    /// each run's own figure (what verdicts compare), then the max of all
    /// runs; empty without samples. `None` where a run lacks the figure.
    pub busy: Vec<Option<f64>>,
    /// Per process run with samples: its busy time by the figure compared
    /// ([`By`]), in ns, with the interval its own samples allow.
    pub run_readings: Vec<Reading>,
    /// Per figure of [`busy`](Figures::busy) but the max: each process
    /// run's reading of it; `None` where a run lacks the figure.
    shown_readings: Vec<Option<Vec<Reading>>>,
    /// Per process run: its poll total, in ns.
    pub run_poll_totals: Vec<f64>,
    /// Per process run: (bad, ended) for each [`Outcome`].
    run_outcomes: Vec<[(u64, u64); 3]>,
    /// Per process run with counted allocations: its allocations per
    /// completed run.
    pub run_allocations: Vec<f64>,
    /// Allocations per completed run, the mean over the process runs (what
    /// the verdict compares; a count can be 0, which a geometric mean
    /// cannot hold); `None` without counted allocations.
    pub allocations_per_run: Option<f64>,
}

impl Figures {
    /// `shown`: the figures the table shows, `by` among them.
    fn of(name: &str, side: &Side, shown: &[By], by: By) -> Option<Figures> {
        let runs = side.per_run.get(name)?;
        let merged = side.snapshot.get(name)?;
        let mut figures = Figures {
            runs: runs.len(),
            run_readings: runs.iter().filter_map(|r| r.value).collect(),
            run_poll_totals: runs.iter().map(|r| r.poll_total_ns).collect(),
            run_outcomes: runs.iter().map(|r| r.outcomes).collect(),
            run_allocations: runs.iter().filter_map(|r| r.allocations).collect(),
            ..Figures::default()
        };
        let counted = figures.run_allocations.len();
        figures.allocations_per_run =
            (counted > 0).then(|| figures.run_allocations.iter().sum::<f64>() / counted as f64);
        figures.samples = merged.count();
        figures.outcomes = Outcome::ALL.map(|o| o.count(merged));
        figures.in_flight = merged.in_flight();
        figures.abandoned = merged.abandoned_busy();
        figures.poll_total = merged.poll_total();
        figures.bytes_per_run = merged.bytes_per_run();
        if merged.count() > 0 {
            let with_samples: Vec<_> = runs.iter().filter(|r| r.value.is_some()).collect();
            for &figure in shown {
                let each = with_samples.iter().map(|r| {
                    if figure == by {
                        return r.value;
                    }
                    match figure {
                        By::Mean => r.mean,
                        By::Quantile(q) => (r.quantiles.iter())
                            .find(|(rq, _)| *rq == q)
                            .map(|&(_, reading)| reading),
                    }
                });
                let each: Option<Vec<Reading>> = each.collect();
                figures.busy.push(
                    each.as_ref()
                        .and_then(|e| evidence::typical(e.iter().map(|r| r.value))),
                );
                figures.shown_readings.push(each);
            }
            figures.busy.push(Some(merged.max().as_nanos() as f64));
        }
        Some(figures)
    }

    /// Per process run with samples: its busy time by the figure
    /// compared, in ns.
    pub fn run_values(&self) -> Vec<f64> {
        self.run_readings.iter().map(|r| r.value).collect()
    }

    /// The `i`-th figure of [`busy`](Figures::busy), to the nanosecond.
    pub fn busy_duration(&self, i: usize) -> Option<Duration> {
        let ns = self.busy.get(i).copied().flatten()?;
        Some(Duration::from_nanos(ns.round() as u64))
    }

    /// The spread between process runs' busy times by the figure compared
    /// (coefficient of variation); `None` below two runs with samples.
    pub fn spread(&self) -> Option<f64> {
        evidence::spread(&self.run_values())
    }
}

/// What the busy-time judgement compares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Basis {
    /// Each process run's busy time by one figure.
    Run(By),
    /// Each process run's poll total, when a side has no completed run.
    PollTotal,
}

impl Basis {
    pub fn name(self) -> String {
        match self {
            Basis::Run(by) => by.name(),
            Basis::PollTotal => "poll total".to_owned(),
        }
    }
}

/// One timer's comparison.
#[derive(Debug)]
pub struct Row {
    pub name: String,
    pub base: Option<Figures>,
    pub new: Option<Figures>,
    /// The busy-time judgement and what it compared.
    pub busy: Option<(Basis, Judgement)>,
    /// Outcomes that got more frequent beyond noise: kind, base, new.
    pub worse: Vec<(Outcome, u64, u64)>,
    pub verdict: Verdict,
    /// With no change in the figure judged: the other quantiles shown
    /// that moved beyond the threshold, judged as the verdict's figure
    /// is, with their change in percent.
    pub also_moved: Vec<(By, f64)>,
    /// Allocations per run, judged run by run on the difference of mean
    /// counts, where both sides counted them.
    pub allocations: Option<CountJudgement>,
}

/// The comparison of two sides.
pub struct Diff<'a> {
    pub base: &'a Side,
    pub new: &'a Side,
    pub threshold: f64,
    /// The figure of each run compared.
    pub by: By,
    /// The figures of busy time the table shows, before the max: the
    /// mean, the base side's report quantiles, and `by` where it is not
    /// among them.
    pub shown: Vec<By>,
    /// Settings that differ between the sides, one sentence each.
    pub notes: Vec<String>,
    pub rows: Vec<Row>,
}

/// The clocks a side's runs were timed with (unknown ones left out).
fn clocks(side: &Side) -> BTreeSet<&str> {
    side.infos
        .iter()
        .filter_map(|info| info.clock.as_deref())
        .collect()
}

/// Compares every timer of either side (only `timers`, when given). Runs
/// timed with different clocks are an error unless `judging` allows mixed clocks.
pub fn diff<'a>(
    base: &'a Side,
    new: &'a Side,
    judging: Judging,
    timers: Option<&BTreeSet<String>>,
) -> Result<Diff<'a>, CliError> {
    let Judging {
        threshold,
        by,
        allow_mixed_clocks: mixed_clocks,
    } = judging;
    let (clocks_base, clocks_new) = (clocks(base), clocks(new));
    let mut notes = Vec::new();
    if clocks_base.len() > 1 || clocks_new.len() > 1 || clocks_base != clocks_new {
        let mixed = clocks_base.union(&clocks_new).count() > 1;
        if mixed && !mixed_clocks {
            return Err(CliError::MixedClocks {
                base: base.path.clone(),
                base_clocks: clocks_base.iter().map(|c| c.to_string()).collect(),
                new: new.path.clone(),
                new_clocks: clocks_new.iter().map(|c| c.to_string()).collect(),
            });
        }
        if mixed {
            notes.push(format!(
                "clocks differ (base {}, new {}): compared as asked with --allow-mixed-clocks",
                join(&clocks_base),
                join(&clocks_new)
            ));
        }
    }
    let (layout_base, layout_new) = (layouts(base), layouts(new));
    if layout_base != layout_new {
        notes.push(format!(
            "histogram precision differs (base {}, new {}): each side's quantiles are exact to its own",
            join(&layout_base),
            join(&layout_new)
        ));
    }
    if base.snapshot.quantiles() != new.snapshot.quantiles() {
        notes.push("report quantiles differ: the base side's are compared".to_owned());
    }

    let mut shown = vec![By::Mean];
    shown.extend(base.snapshot.quantiles().iter().map(|&q| By::Quantile(q)));
    if !shown.contains(&by) {
        shown.push(by);
        shown[1..].sort_by(|a, b| match (a, b) {
            (By::Quantile(a), By::Quantile(b)) => a.total_cmp(b),
            _ => std::cmp::Ordering::Equal,
        });
    }
    let mut names: BTreeSet<&str> = base.snapshot.iter().map(Stats::name).collect();
    names.extend(new.snapshot.iter().map(Stats::name));
    let rows = names
        .into_iter()
        .filter(|name| timers.is_none_or(|t| t.contains(*name)))
        .filter_map(|name| {
            let b = Figures::of(name, base, &shown, by);
            let n = Figures::of(name, new, &shown, by);
            compare(name, b, n, threshold, by, &shown)
        })
        .collect();
    Ok(Diff {
        base,
        new,
        threshold,
        by,
        shown,
        notes,
        rows,
    })
}

fn join(set: &BTreeSet<impl AsRef<str> + Ord>) -> String {
    if set.is_empty() {
        return "unknown".to_owned();
    }
    set.iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The histogram precisions of a side's timers with samples, e.g. `3
/// significant digits` (their ranges grow with the values held, so only
/// the precision tells settings apart).
fn layouts(side: &Side) -> BTreeSet<String> {
    side.snapshot
        .iter()
        .filter(|s| s.count() > 0)
        .map(|s| format!("{} significant digits", s.busy().significant_figures()))
        .collect()
}

/// A timer without activity on either side is left out.
fn compare(
    name: &str,
    base: Option<Figures>,
    new: Option<Figures>,
    threshold: f64,
    by: By,
    shown: &[By],
) -> Option<Row> {
    let verdict = match (&base, &new) {
        (None, None) => return None,
        (None, Some(_)) => Verdict::Added,
        (Some(_), None) => Verdict::Removed,
        (Some(_), Some(_)) => Verdict::Inconclusive,
    };
    let mut row = Row {
        name: name.to_owned(),
        base,
        new,
        busy: None,
        worse: Vec::new(),
        verdict,
        also_moved: Vec::new(),
        allocations: None,
    };
    let (Some(b), Some(n)) = (&row.base, &row.new) else {
        return Some(row);
    };
    row.busy = if !b.run_readings.is_empty() && !n.run_readings.is_empty() {
        let judgement = evidence::judge(&b.run_readings, &n.run_readings, threshold);
        Some((Basis::Run(by), judgement))
    } else if b.poll_total > Duration::ZERO && n.poll_total > Duration::ZERO {
        let exact = |f: &Figures| {
            f.run_poll_totals
                .iter()
                .map(|&v| Reading::exact(v))
                .collect::<Vec<_>>()
        };
        let judgement = evidence::judge(&exact(b), &exact(n), threshold);
        Some((Basis::PollTotal, judgement))
    } else {
        None
    };
    for (i, outcome) in Outcome::ALL.into_iter().enumerate() {
        let per_run = |f: &Figures| f.run_outcomes.iter().map(|o| o[i]).collect::<Vec<_>>();
        if evidence::outcome_worse(&per_run(b), &per_run(n), threshold) {
            row.worse.push((outcome, b.outcomes[i], n.outcomes[i]));
        }
    }
    if !b.run_allocations.is_empty() && !n.run_allocations.is_empty() {
        row.allocations = Some(evidence::judge_counts(
            &b.run_allocations,
            &n.run_allocations,
            threshold,
        ));
    }
    let allocations = row.allocations.map(|j| j.call);
    row.verdict = match row.busy.map(|(_, j)| j.call) {
        _ if !row.worse.is_empty() => Verdict::Regressed,
        // More allocations a run is a regression as more busy time is.
        _ if allocations == Some(Call::Larger) => Verdict::Regressed,
        Some(Call::Larger) => Verdict::Regressed,
        Some(Call::Smaller) => Verdict::Improved,
        // Fewer allocations at the same busy time: improved.
        Some(Call::Same) if allocations == Some(Call::Smaller) => Verdict::Improved,
        // "No change" says both are within: not while allocations cannot tell.
        Some(Call::Same) if matches!(allocations, Some(Call::Inconclusive(_))) => {
            Verdict::Inconclusive
        }
        Some(Call::Same) => Verdict::NoChange,
        Some(Call::Inconclusive(_)) | None => Verdict::Inconclusive,
    };
    // Another quantile shown that moved beyond the threshold, judged as
    // the verdict's figure is: said beside a "no change".
    if row.verdict == Verdict::NoChange && matches!(row.busy, Some((Basis::Run(_), _))) {
        for (i, &figure) in shown.iter().enumerate() {
            let readings = |f: &Figures| f.shown_readings.get(i).cloned().flatten();
            if let (By::Quantile(_), Some(x), Some(y)) = (figure, readings(b), readings(n)) {
                let j = evidence::judge(&x, &y, threshold);
                if figure != by && matches!(j.call, Call::Larger | Call::Smaller) {
                    row.also_moved.push((figure, j.percent()));
                }
            }
        }
    }
    Some(row)
}

impl Row {
    /// Why the verdict, in words: the change with its interval and what
    /// decided it; empty for added and removed timers.
    pub fn reason(&self, threshold: f64) -> String {
        let mut parts: Vec<String> = self
            .worse
            .iter()
            .map(|(o, b, n)| format!("{} {b} → {n}", o.as_str()))
            .collect();
        if let Some((basis, j)) = self.busy {
            let change = format!("{} {}", basis.name(), change_text(&j));
            parts.push(match j.call {
                Call::Larger | Call::Smaller if j.interval.is_none() => format!(
                    "{change}, beyond {}× with one run a side",
                    evidence::SINGLE_RUN_FACTOR
                ),
                Call::Larger | Call::Smaller => format!("{change}, beyond ±{threshold}%"),
                Call::Same => format!("{change}, within ±{threshold}%"),
                Call::Inconclusive(Doubt::OneRunASide { .. }) => format!(
                    "{change}: one run a side gives no estimate of run-to-run noise; save 3 or more runs a side"
                ),
                Call::Inconclusive(Doubt::TooFewRuns { needed }) => {
                    // The spread of what was compared: each run's busy
                    // time by the figure, or its poll total.
                    let spread = |f: &Figures| match basis {
                        Basis::Run(_) => f.spread(),
                        Basis::PollTotal => evidence::spread(&f.run_poll_totals),
                    };
                    let spread = (self.base.iter().chain(self.new.iter()))
                        .filter_map(spread)
                        .fold(0.0_f64, f64::max);
                    let tell = match needed {
                        Some(k) => format!("about {k} runs a side would tell"),
                        None => format!(
                            "more than {} runs a side would be needed; raise --threshold",
                            evidence::MOST_RUNS
                        ),
                    };
                    let compared = match basis {
                        Basis::Run(_) => String::new(),
                        Basis::PollTotal => format!(
                            "no completed run on {}, so each run's poll total is compared; ",
                            self.sides_without_completed_runs()
                        ),
                    };
                    format!(
                        "{change} straddles ±{threshold}%: {compared}runs too few for the spread between runs (±{:.1}%); {tell}",
                        spread * 100.0
                    )
                }
                Call::Inconclusive(Doubt::RunsUncertain { widest: (low, high) }) => format!(
                    "{change}: the {} of single runs is uncertain: its interval spans {}–{}; \
                     more runs cannot tell: record more calls a run, or judge another figure (--by)",
                    basis.name(),
                    duration_ns(low),
                    duration_ns(high)
                ),
            });
            if !self.also_moved.is_empty() {
                let moved: Vec<String> = (self.also_moved.iter())
                    .map(|(figure, percent)| format!("{} {}", figure.name(), signed(*percent)))
                    .collect();
                let flags: Vec<String> = (self.also_moved.iter())
                    .map(|(figure, _)| format!("--by {}", figure.name()))
                    .collect();
                let it = if flags.len() == 1 { "it" } else { "them" };
                parts.push(format!(
                    "but {} moved beyond ±{threshold}% (judge {it} with {})",
                    moved.join(", "),
                    flags.join(" or ")
                ));
            }
        } else if self.base.is_some() && self.new.is_some() && self.worse.is_empty() {
            parts.push("no completed run or busy time on one side to compare".to_owned());
        }
        if let Some(j) = self.allocations {
            parts.push(allocations_reason(&j, threshold));
        }
        parts.join("; ")
    }
}

impl Diff<'_> {
    /// Whether either side of any timer counted allocations: the tables
    /// then have an allocations-per-run column.
    pub fn shows_allocations(&self) -> bool {
        (self.rows.iter()).any(|r| {
            r.allocations_per_run(&r.base)
                .or(r.allocations_per_run(&r.new))
                .is_some()
        })
    }
}

impl Row {
    fn allocations_per_run(&self, side: &Option<Figures>) -> Option<f64> {
        side.as_ref().and_then(|f| f.allocations_per_run)
    }

    /// The allocations-per-run cell, `2.0 → 3.0 (+50.0%)`, and the value
    /// it sorts by: the change as the verdict judged it (mean counts; a
    /// count new from none sorts first).
    pub fn allocations_cell(&self) -> (String, f64) {
        let change = self.allocations.map_or(0.0, |j| j.percent());
        match (
            self.allocations_per_run(&self.base),
            self.allocations_per_run(&self.new),
        ) {
            (Some(b), Some(n)) => (
                format!("{b:.1} → {n:.1} ({})", signed(change)),
                change.min(1e12),
            ),
            (Some(a), None) | (None, Some(a)) => (format!("{a:.1}"), 0.0),
            (None, None) => ("-".to_owned(), 0.0),
        }
    }

    /// Which sides have no completed run: `the base side`, `the new
    /// side` or `either side`.
    fn sides_without_completed_runs(&self) -> &'static str {
        let none = |f: &Option<Figures>| f.as_ref().is_none_or(|f| f.run_readings.is_empty());
        match (none(&self.base), none(&self.new)) {
            (true, false) => "the base side",
            (false, true) => "the new side",
            _ => "either side",
        }
    }
}

/// The allocations judgement in words.
fn allocations_reason(j: &CountJudgement, threshold: f64) -> String {
    let change = format!("allocs/run {}", count_change_text(j));
    let limit = if j.limit_is_threshold(threshold) {
        format!("±{threshold}%")
    } else {
        format!("±{} allocation a run", evidence::HALF_A_COUNT)
    };
    match j.call {
        Call::Larger | Call::Smaller if j.interval.is_none() => format!(
            "{change}, beyond {}× with one run a side",
            evidence::SINGLE_RUN_FACTOR
        ),
        Call::Larger | Call::Smaller => format!("{change}, beyond {limit}"),
        Call::Same => format!("{change}, within {limit}"),
        Call::Inconclusive(Doubt::OneRunASide { needed }) => {
            let factor = evidence::SINGLE_RUN_FACTOR;
            let why = if j.new > j.base * factor || j.new * factor < j.base {
                "too few allocations a run to tell from one run a side (each run's count is \
                 known to half an allocation)"
            } else {
                "one run a side"
            };
            match needed {
                Some(k) => format!(
                    "{change}: {why}; at least {k} runs a side would tell (more if their counts \
                     differ)"
                ),
                None => format!(
                    "{change}: {why}; more runs cannot tell, the change is too near the limit \
                     {limit} (more than {} runs a side would be needed)",
                    evidence::MOST_RUNS
                ),
            }
        }
        Call::Inconclusive(Doubt::TooFewRuns { needed: Some(k) }) => {
            let why = if j.runs_differ() {
                format!("the runs' counts differ (±{:.1} a run)", j.between)
            } else {
                "each run's count is taken to vary by up to half an allocation".to_owned()
            };
            format!("{change} straddles {limit}: {why}; about {k} runs a side would tell")
        }
        Call::Inconclusive(Doubt::TooFewRuns { needed: None } | Doubt::RunsUncertain { .. }) => {
            format!(
                "{change} straddles {limit}: more runs cannot tell, the change is too near the \
                 limit for its noise (more than {} runs a side would be needed)",
                evidence::MOST_RUNS
            )
        }
    }
}

/// A count's change: as [`change_text`] where the base is 1 a run or
/// more (the interval's low end at −100 % at least). Below 1 a run the
/// interval is in counts a run, after the change in percent: half an
/// allocation of noise on a base of 0.08 a run would read ±400 %. From a
/// base of 0, which has no percent, the change is `new` where there are
/// some now, and only the difference where there are none.
fn count_change_text(j: &CountJudgement) -> String {
    if j.base >= 1.0 {
        return match j.interval_percent() {
            Some((lo, hi)) => format!("{} [{}, {}]", signed(j.percent()), signed(lo), signed(hi)),
            None => signed(j.percent()),
        };
    }
    let difference = match j.interval {
        Some((lo, hi)) => format!("{:+.1} a run [{lo:+.1}, {hi:+.1}]", j.difference()),
        None => format!("{:+.1} a run", j.difference()),
    };
    if j.base > 0.0 || j.new > 0.0 {
        format!("{}, {difference}", signed(j.percent()))
    } else {
        difference
    }
}

/// `+21.3% [+17.9%, +24.8%]`, or without an interval `+21.3%`.
pub fn change_text(j: &Judgement) -> String {
    match j.interval_percent() {
        Some((lo, hi)) => format!("{} [{}, {}]", signed(j.percent()), signed(lo), signed(hi)),
        None => signed(j.percent()),
    }
}

/// The change from `base` to `new`, in percent.
pub fn percent(base: Duration, new: Duration) -> f64 {
    if base.is_zero() {
        return if new.is_zero() { 0.0 } else { f64::INFINITY };
    }
    (new.as_secs_f64() / base.as_secs_f64() - 1.0) * 100.0
}

pub fn signed(percent: f64) -> String {
    if percent.is_infinite() {
        return "new".into();
    }
    // The high end of an interval from one or two runs can be vast.
    if percent.abs() >= 1e6 {
        return format!("{percent:+.1e}%");
    }
    format!("{percent:+.1}%")
}

impl Diff<'_> {
    /// Whether any timer regressed: the exit status is 1 then.
    pub fn regressed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Regressed)
    }

    /// How many timers got each verdict, in [`Verdict::ALL`] order.
    pub fn counts(&self) -> Vec<(Verdict, usize)> {
        Verdict::ALL
            .iter()
            .map(|&v| (v, self.rows.iter().filter(|r| r.verdict == v).count()))
            .collect()
    }

    /// `2 regressed, 0 improved, 1 inconclusive, 14 no change` (added and
    /// removed only when there are some).
    pub fn summary(&self) -> String {
        self.counts()
            .into_iter()
            .filter(|&(v, n)| n > 0 || !matches!(v, Verdict::Added | Verdict::Removed))
            .map(|(v, n)| format!("{n} {}", v.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The labels of the busy figures: `mean`, `p50`, …, `max`.
    pub fn figure_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.shown.iter().map(|by| by.name()).collect();
        names.push("max".to_owned());
        names
    }

    /// The heading lines: the two sides and the rule.
    pub fn heading(&self) -> Vec<String> {
        let mut lines = vec![
            format!("base: {}", self.base.describe()),
            format!("new:  {}", self.new.describe()),
            format!(
                "verdicts from each process run's {} busy time: a {:.0}% interval for the change \
                 (Welch's t on its log, run by run, at least as wide as each run's own uncertainty \
                 from its samples); regressed or improved when it lies beyond ±{}%, \
                 no change when within, else inconclusive; one run a side is called only beyond {}×; \
                 more cancelled, panicked or error runs beyond noise is a regression, and so are \
                 more allocations a run (counted runs only: Welch's t on the difference of mean \
                 counts, each run's count taken to vary by up to half an allocation; the limit is \
                 the larger of ±{}% of the base and half an allocation a run, so a change of less \
                 than half an allocation a run is none); \
                 figures are the typical run's (geometric mean over runs), max the largest of all",
                self.by.name(),
                evidence::CONFIDENCE * 100.0,
                self.threshold,
                evidence::SINGLE_RUN_FACTOR,
                self.threshold
            ),
        ];
        lines.extend(self.notes.iter().cloned());
        lines
    }
}

pub fn duration(d: Duration) -> String {
    ReportDuration(d).to_string()
}

/// A duration in ns (a figure of the typical run) as the report writes it.
pub fn duration_ns(ns: f64) -> String {
    duration(Duration::from_nanos(ns.max(0.0).round() as u64))
}

/// The allocation reasons on synthetic per-run counts.
#[cfg(test)]
mod tests {
    use super::*;

    fn reason(base: &[f64], new: &[f64]) -> String {
        allocations_reason(&evidence::judge_counts(base, new, 5.0), 5.0)
    }

    #[test]
    fn a_count_falls_no_lower_than_minus_a_hundred_percent() {
        // 1 → 0 a run, three runs a side: −1 ± 0.41 a run.
        let text = reason(&[1.0; 3], &[0.0; 3]);
        assert!(
            text.starts_with("allocs/run -100.0% [-100.0%, -59.2%]"),
            "{text}"
        );
    }

    #[test]
    fn below_one_a_run_the_interval_is_in_counts_a_run() {
        // 1 run in 12 allocates once: ±0.41 a run is ±490 % of the base.
        let base = [1.0 / 12.0; 3];
        let text = reason(&base, &base);
        assert!(
            text.starts_with("allocs/run +0.0%, +0.0 a run [-0.4, +0.4], within ±0.5"),
            "{text}"
        );
        let text = reason(&base, &[0.0; 3]);
        assert!(
            text.starts_with("allocs/run -100.0%, -0.1 a run [-0.5, +0.3]"),
            "{text}"
        );
        // From none, as before.
        let text = reason(&[0.0; 5], &[1.0; 5]);
        assert!(
            text.starts_with("allocs/run new, +1.0 a run [+0.7, +1.3]"),
            "{text}"
        );
    }

    #[test]
    fn one_run_a_side_says_the_runs_that_would_tell() {
        let text = reason(&[2.0], &[3.0]);
        assert!(
            text.ends_with(
                "one run a side; at least 3 runs a side would tell (more if their counts differ)"
            ),
            "{text}"
        );
        let text = reason(&[10.0], &[10.5]);
        assert!(text.contains("more runs cannot tell"), "{text}");
        // The limit here is the threshold's: 5 % of 300 is 15 a run.
        let text = reason(&[300.0], &[315.0]);
        assert!(text.contains("too near the limit ±5%"), "{text}");
    }
}
