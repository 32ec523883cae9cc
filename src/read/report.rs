//! `Report`: one line per timer, the format users read at shutdown.

use std::fmt::{self, Write as _};
use std::time::Duration;

use super::format::{BinaryBytes, Bytes, Deviation, Nanos, PerRun, Percent, Scaled};
use super::Distribution;
use crate::read::{Snapshot, Stats};

/// A printable report: one line per timer, sorted by name, durations at 3
/// significant figures.
///
/// ```text
/// timer "fetch": avg 73.1 µs ± 18.0 µs, 50% ≤ 70.2 µs, 90% ≤ 95.0 µs, 99% ≤ 180 µs, max 321 µs in 292 runs
/// timer "login": 1.23 ms in 1 run
/// timer "poll_feed": avg 2.10 ms ± 0.41 ms, 50% ≤ 2.05 ms, ..., max 3.10 ms in 1000 runs, 3 cancelled
/// ```
///
/// A timer that has seen nothing prints no line. Names are quoted and
/// escaped like Rust string literals, so every timer stays on one line.
/// A timer whose slowest run had timed children
/// ([`Stats::slowest`](crate::Stats::slowest)) gets a second line, indented,
/// saying where that run's time went:
///
/// ```text
/// timer "GET /users/{id}": avg 4.10 ms ± 9.80 ms, ..., max 120 ms in 292 runs, idle avg 3.20 ms, self avg 310 µs
///   slowest 120 ms: parked 98.1 ms in db::query, 15.0 ms in cache::get; busy 6.20 ms (serialize 4.00 ms)
/// ```
///
/// ```
/// use std::time::Duration;
///
/// let registry = perf_timer::Registry::new();
/// registry.timer("login").record(Duration::from_micros(1230));
/// registry.timer("unused");
/// let report = registry.report();
/// assert_eq!(report.to_string(), "timer \"login\": 1.23 ms in 1 run\n");
/// for line in report.lines() {
///     eprintln!("{line}"); // or tracing::info!("{line}")
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Report {
    snapshot: Snapshot,
    /// For an interval's report: its length, for the runs per second.
    elapsed: Option<Duration>,
}

impl Report {
    pub(crate) fn new(snapshot: Snapshot) -> Self {
        Report {
            snapshot,
            elapsed: None,
        }
    }

    /// The report of an interval of `elapsed`: each line adds runs per second.
    pub(crate) fn of_interval(snapshot: Snapshot, elapsed: Duration) -> Self {
        Report {
            snapshot,
            elapsed: Some(elapsed),
        }
    }

    /// The report's lines, without line endings: hand each to a logger.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("a").record(std::time::Duration::from_nanos(5));
    /// let lines: Vec<String> = registry.report().lines().collect();
    /// assert_eq!(lines, ["timer \"a\": 5.00 ns in 1 run"]);
    /// ```
    pub fn lines(&self) -> impl Iterator<Item = String> + '_ {
        let timers = self.snapshot.iter().filter(|stats| !stats.is_idle());
        let lines = timers.flat_map(|stats| {
            let mut line = String::new();
            write_line(&mut line, stats, self.snapshot.quantiles(), self.elapsed)
                .expect("writing to a String cannot fail");
            let mut slowest = String::new();
            let has_slowest =
                write_slowest(&mut slowest, stats).expect("writing to a String cannot fail");
            std::iter::once(line).chain(has_slowest.then_some(slowest))
        });
        lines.chain(self.status().map(str::to_owned))
    }

    /// The one line that says why a report has nothing, or that timing is
    /// off: a registry's report never prints nothing at all. An interval's
    /// report (a periodic log) stays silent when its window was quiet.
    pub(super) fn status(&self) -> Option<&'static str> {
        if self.elapsed.is_some() {
            return None;
        }
        let recorded = self.snapshot.iter().any(|stats| !stats.is_idle());
        match (self.snapshot.is_switched_off(), recorded) {
            (true, false) => Some(SWITCHED_OFF),
            (true, true) => Some(SWITCHED_OFF_SINCE),
            (false, false) => Some(NOTHING_RECORDED),
            (false, true) => None,
        }
    }

    /// The snapshot this report prints, given back.
    pub(crate) fn into_snapshot(self) -> Snapshot {
        self.snapshot
    }

    /// The snapshot this report prints.
    ///
    /// ```
    /// let report = perf_timer::Registry::new().report();
    /// assert!(report.snapshot().is_empty());
    /// ```
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for stats in self.snapshot.iter().filter(|s| !s.is_idle()) {
            write_line(f, stats, self.snapshot.quantiles(), self.elapsed)?;
            f.write_char('\n')?;
            if write_slowest(f, stats)? {
                f.write_char('\n')?;
            }
        }
        if let Some(status) = self.status() {
            writeln!(f, "{status}")?;
        }
        Ok(())
    }
}

/// The report of a registry switched off that recorded nothing.
pub(crate) const SWITCHED_OFF: &str = "perf-timer: timing is switched off; nothing was recorded";
/// The last line of a report of a registry switched off after recording.
pub(crate) const SWITCHED_OFF_SINCE: &str =
    "perf-timer: timing is switched off; runs since it was switched off are not counted";
/// The report of a registry, or an interval, in which nothing was recorded.
pub(crate) const NOTHING_RECORDED: &str = "perf-timer: nothing was recorded";

pub(super) fn write_line(
    f: &mut impl fmt::Write,
    stats: &Stats,
    quantiles: &[f64],
    elapsed: Option<Duration>,
) -> fmt::Result {
    // `{:?}` quotes the name and escapes quotes, backslashes and control characters.
    write!(f, "timer {:?}: ", stats.name())?;
    let runs = stats.count();
    match runs {
        0 => f.write_str("0 runs")?,
        1 => write!(f, "{} in 1 run", ns(stats.total()))?,
        _ => {
            write_avg(f, stats.busy())?;
            for &q in quantiles {
                write!(f, ", {} ≤ {}", Percent(q), ns(stats.quantile(q)))?;
            }
            write!(f, ", max {} in {runs} runs", ns(stats.max()))?;
        }
    }
    // Per-run means where there are several runs, the value of the one run otherwise.
    let avg = if runs > 1 { "avg " } else { "" };
    if runs > 0 && stats.idle().total() > Duration::ZERO {
        write!(f, ", idle {avg}{}", Nanos(stats.idle().mean_nanos()))?;
    }
    if runs > 0 && stats.has_nested() {
        write!(f, ", self {avg}{}", Nanos(stats.self_time().mean_nanos()))?;
    }
    for (n, one, many) in [
        (stats.cancelled(), "cancelled", "cancelled"),
        (stats.panicked(), "panicked", "panicked"),
        (stats.errors(), "error", "errors"),
        (stats.clamped(), "clamped", "clamped"),
        (stats.slow_polls(), "slow poll", "slow polls"),
        (stats.blocked_polls(), "blocked poll", "blocked polls"),
        (stats.in_flight(), "in flight", "in flight"),
    ] {
        match n {
            0 => {}
            1 => write!(f, ", 1 {one}")?,
            n => write!(f, ", {n} {many}")?,
        }
    }
    // Busy time outside the samples: runs in flight, cancelled or
    // panicked, and the part of clamped runs past the range.
    if stats.poll_total() > stats.total() {
        write!(f, ", poll total {}", ns(stats.poll_total()))?;
    }
    if let Some(share) = stats.cpu_share().filter(|&s| s < SHOW_CPU_BELOW) {
        write!(f, ", cpu {}", WholePercent(share))?;
    }
    if let Some(per_run) = stats.bytes_per_run() {
        write!(f, ", {}/run", Bytes(per_run))?;
    }
    if let Some(rate) = stats.bytes_per_busy_second() {
        write!(f, ", {}/s busy", Bytes(rate))?;
    }
    if let Some(allocations) = stats.allocations_ref() {
        if allocations.runs() > 0 {
            let (count, bytes) = (allocations.count_per_run(), allocations.bytes_per_run());
            write!(
                f,
                ", allocs {}/run, {}/run",
                PerRun(count),
                BinaryBytes(bytes)
            )?;
        } else if allocations.abandoned_count() > 0 {
            // No run completed: what the runs that ended without a sample
            // allocated, per such run (the detail has the totals).
            let ended = stats.cancelled().saturating_add(stats.panicked()).max(1) as f64;
            let (count, bytes) = (allocations.abandoned_count(), allocations.abandoned_bytes());
            write!(
                f,
                ", allocs abandoned {}/run, {}/run",
                PerRun(count as f64 / ended),
                BinaryBytes(bytes as f64 / ended)
            )?;
        }
    }
    let scheduled = stats.scheduled();
    if scheduled.count() > 0 {
        let (mean, max) = (Nanos(scheduled.mean_nanos()), ns(scheduled.max()));
        write!(f, ", scheduled avg {mean}, max {max}")?;
    }
    if let Some(rate) = elapsed.and_then(|e| runs_per_second(runs, e)) {
        write!(f, ", {} runs/s", Rate(rate))?;
    }
    Ok(())
}

/// The line under a timer's: where its slowest run's time went, if it
/// had timed children. Whether it wrote one.
fn write_slowest(f: &mut impl fmt::Write, stats: &Stats) -> Result<bool, fmt::Error> {
    let Some(run) = stats.slowest().first().filter(|r| !r.parts().is_empty()) else {
        return Ok(false);
    };
    write!(f, "  slowest {run}")?;
    Ok(true)
}

/// A timer's CPU share shows in its line only below this: the sign that its
/// busy time is not all running code (preemption, blocking inside `poll`).
const SHOW_CPU_BELOW: f64 = 0.9;

/// A share from 0 to 1 as a whole percentage: `41%`.
struct WholePercent(f64);

impl fmt::Display for WholePercent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.0}%", self.0 * 100.0)
    }
}

/// `runs` over `elapsed`, if it has a length.
pub(crate) fn runs_per_second(runs: u64, elapsed: Duration) -> Option<f64> {
    let seconds = elapsed.as_secs_f64();
    (seconds > 0.0).then(|| runs as f64 / seconds)
}

pub(crate) fn ns(d: Duration) -> Nanos {
    Nanos(d.as_nanos() as f64)
}

/// A longest poll, or `-` over an interval where it is not known.
struct Longest(Option<Duration>);

impl fmt::Display for Longest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => ns(d).fmt(f),
            None => f.write_str("-"),
        }
    }
}

/// `avg 73.1 µs ± 18.0 µs`: the deviation at 3 significant figures, in the
/// mean's unit while that reads well.
fn write_avg(f: &mut impl fmt::Write, distribution: &Distribution) -> fmt::Result {
    let mean = distribution.mean_nanos();
    let scaled = Scaled::of(mean);
    f.write_str("avg ")?;
    scaled.write(f, mean)?;
    let deviation = Deviation {
        nanos: distribution.stdev_nanos(),
        mean: scaled,
    };
    write!(f, " ± {deviation}")
}

/// A rate at 3 significant figures, whole numbers from 100 up.
struct Rate(f64);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            r if r >= 99.95 => write!(f, "{r:.0}"),
            r if r >= 9.995 => write!(f, "{r:.1}"),
            r => write!(f, "{r:.2}"),
        }
    }
}

/// Every figure of one timer, one per line; made by [`Stats::detail`].
///
/// ```text
/// timer "fetch"
///   runs   292 completed, 3 cancelled, 0 panicked, 2 errors, 0 clamped, 0 in flight
///   busy   avg 73.1 µs ± 18.0 µs, min 40.1 µs, 50% ≤ 70.2 µs, 90% ≤ 95.0 µs, 99% ≤ 180 µs, max 321 µs, total 21.3 ms
///   wall   avg 1.20 ms ± 0.310 ms, min 210 µs, 50% ≤ 1.10 ms, 90% ≤ 1.90 ms, 99% ≤ 2.20 ms, max 2.31 ms, total 350 ms
///   idle   avg 1.13 ms, total 329 ms
///   self   avg 50.0 µs, total 14.6 ms
///   polls  1021, 3.50 per run, longest 210 µs, 4 slow, 1 blocked, total 21.9 ms, cpu 97%
/// ```
///
/// ```
/// let timer = perf_timer::Registry::new().timer("parse");
/// timer.record(std::time::Duration::from_micros(5));
/// let stats = timer.stats();
/// let detail = stats.detail().to_string();
/// assert!(detail.contains("  polls  1, 1.00 per run, longest 5.00 µs, 0 slow, 0 blocked, total 5.00 µs\n"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Detail<'a> {
    stats: &'a Stats,
}

impl<'a> Detail<'a> {
    pub(crate) fn new(stats: &'a Stats) -> Self {
        Detail { stats }
    }
}

impl fmt::Display for Detail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.stats;
        writeln!(f, "timer {:?}", s.name())?;
        writeln!(
            f,
            "  runs   {} completed, {} cancelled, {} panicked, {} errors, {} clamped, {} in flight",
            s.count(),
            s.cancelled(),
            s.panicked(),
            s.errors(),
            s.clamped(),
            s.in_flight()
        )?;
        for (label, distribution) in [("busy", s.busy()), ("wall", s.wall())] {
            write!(f, "  {label}   ")?;
            write_distribution(f, distribution, s.report_quantiles())?;
            f.write_char('\n')?;
        }
        if s.scheduled().count() > 0 {
            f.write_str("  sched  ")?;
            write_distribution(f, s.scheduled(), s.report_quantiles())?;
            f.write_char('\n')?;
        }
        for (label, sum) in [("idle", s.idle()), ("self", s.self_time())] {
            let (mean, total) = (Nanos(sum.mean_nanos()), ns(sum.total()));
            writeln!(f, "  {label}   avg {mean}, total {total}")?;
        }
        write!(
            f,
            "  polls  {}, {:.2} per run, longest {}, {} slow, {} blocked, total {}",
            s.polls(),
            s.polls_per_run(),
            Longest(s.longest_poll()),
            s.slow_polls(),
            s.blocked_polls(),
            ns(s.poll_total())
        )?;
        if let Some(share) = s.cpu_share() {
            write!(f, ", cpu {}", WholePercent(share))?;
        }
        f.write_char('\n')?;
        if let Some(a) = s.allocations_ref() {
            write_allocations(f, a, s.report_quantiles())?;
        }
        Ok(())
    }
}

/// The allocations line of a [`Detail`].
fn write_allocations(
    f: &mut impl fmt::Write,
    a: &crate::read::Allocations,
    quantiles: &[f64],
) -> fmt::Result {
    let per_run = |sum: u64| match a.runs() {
        0 => 0.0,
        n => sum as f64 / n as f64,
    };
    write!(
        f,
        "  allocs {}/run, {}/run, self {}/run, {}/run",
        PerRun(a.count_per_run()),
        BinaryBytes(a.bytes_per_run()),
        PerRun(per_run(a.self_count())),
        BinaryBytes(per_run(a.self_bytes())),
    )?;
    let bytes = a.distribution();
    if bytes.count() > 1 {
        let b = |n: u64| BinaryBytes(n as f64);
        write!(f, "; bytes min {}", b(bytes.min()))?;
        for &q in quantiles {
            write!(f, ", {} ≤ {}", Percent(q), b(bytes.quantile(q)))?;
        }
        write!(f, ", max {}", b(bytes.max()))?;
    }
    if a.abandoned_count() > 0 {
        let (count, bytes) = (a.abandoned_count(), BinaryBytes(a.abandoned_bytes() as f64));
        write!(f, "; abandoned runs {count}, {bytes}")?;
    }
    f.write_char('\n')
}

/// One distribution on one line, the same way for busy and wall time.
fn write_distribution(
    f: &mut impl fmt::Write,
    distribution: &Distribution,
    quantiles: &[f64],
) -> fmt::Result {
    match distribution.count() {
        0 => f.write_str("no runs"),
        1 => write!(f, "{} in 1 run", ns(distribution.total())),
        _ => {
            write_avg(f, distribution)?;
            write!(f, ", min {}", ns(distribution.min()))?;
            for &q in quantiles {
                write!(f, ", {} ≤ {}", Percent(q), ns(distribution.quantile(q)))?;
            }
            let (max, total) = (ns(distribution.max()), ns(distribution.total()));
            write!(f, ", max {max}, total {total}")
        }
    }
}
