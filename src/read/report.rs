//! `Report`: one line per timer, the format users read at shutdown.

use std::fmt::{self, Write as _};
use std::time::Duration;

use super::format::{Nanos, Percent, Scaled};
use crate::{Snapshot, Stats};

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
}

impl Report {
    pub(crate) fn new(snapshot: Snapshot) -> Self {
        Report { snapshot }
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
        self.snapshot
            .iter()
            .filter(|stats| !stats.is_idle())
            .map(|stats| {
                let mut line = String::new();
                write_line(&mut line, stats, self.snapshot.quantiles())
                    .expect("writing to a String cannot fail");
                line
            })
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
            write_line(f, stats, self.snapshot.quantiles())?;
            f.write_char('\n')?;
        }
        Ok(())
    }
}

fn write_line(f: &mut impl fmt::Write, stats: &Stats, quantiles: &[f64]) -> fmt::Result {
    // `{:?}` quotes the name and escapes quotes, backslashes and control characters.
    write!(f, "timer {:?}: ", stats.name())?;
    let runs = stats.count();
    match runs {
        0 => f.write_str("0 runs")?,
        1 => write!(f, "{} in 1 run", Nanos(stats.total().as_nanos() as f64))?,
        _ => {
            write_avg(f, stats)?;
            for &q in quantiles {
                let value = stats.quantile(q).as_nanos() as f64;
                write!(f, ", {} ≤ {}", Percent(q), Nanos(value))?;
            }
            let max = stats.max().as_nanos() as f64;
            write!(f, ", max {} in {runs} runs", Nanos(max))?;
        }
    }
    // Per-run means where there are several runs, the value of the one run otherwise.
    let avg = if runs > 1 { "avg " } else { "" };
    if runs > 0 && stats.idle_total() > Duration::ZERO {
        let idle = stats.per_run(stats.idle_total().as_nanos() as u64);
        write!(f, ", idle {avg}{}", Nanos(idle))?;
    }
    if runs > 0 && stats.has_nested() {
        let own = stats.per_run(stats.self_total().as_nanos() as u64);
        write!(f, ", self {avg}{}", Nanos(own))?;
    }
    for (n, one, many) in [
        (stats.cancelled(), "cancelled", "cancelled"),
        (stats.panicked(), "panicked", "panicked"),
        (stats.errors(), "error", "errors"),
        (stats.clamped(), "clamped", "clamped"),
        (stats.slow_polls(), "slow poll", "slow polls"),
        (stats.blocked_polls(), "blocked poll", "blocked polls"),
    ] {
        match n {
            0 => {}
            1 => write!(f, ", 1 {one}")?,
            n => write!(f, ", {n} {many}")?,
        }
    }
    if let Some(rate) = stats.runs_per_second() {
        write!(f, ", {} runs/s", Rate(rate))?;
    }
    Ok(())
}

/// `avg 73.1 µs ± 18.0 µs`: the deviation in the mean's unit and decimals.
fn write_avg(f: &mut impl fmt::Write, stats: &Stats) -> fmt::Result {
    let mean = stats.mean_nanos();
    let scaled = Scaled::of(mean);
    f.write_str("avg ")?;
    scaled.write(f, mean)?;
    f.write_str(" ± ")?;
    scaled.write(f, stats.stdev_nanos())
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
///   runs   292 completed, 3 cancelled, 0 panicked, 2 errors, 0 clamped
///   busy   avg 73.1 µs ± 18.0 µs, min 40.1 µs, 50% ≤ 70.2 µs, 90% ≤ 95.0 µs, 99% ≤ 180 µs, max 321 µs, total 21.3 ms
///   self   avg 50.0 µs, total 14.6 ms
///   wall   avg 1.20 ms, 50% ≤ 1.10 ms, 90% ≤ 1.90 ms, 99% ≤ 2.20 ms, max 2.31 ms, total 350 ms
///   idle   avg 1.13 ms, total 329 ms
///   polls  1021, 3.50 per run, longest 210 µs, 4 slow, 1 blocked
/// ```
///
/// ```
/// let timer = perf_timer::Registry::new().timer("parse");
/// timer.record(std::time::Duration::from_micros(5));
/// let stats = timer.stats();
/// let detail = stats.detail().to_string();
/// assert!(detail.contains("  polls  1, 1.00 per run, longest 5.00 µs, 0 slow, 0 blocked\n"));
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
        let ns = |d: Duration| Nanos(d.as_nanos() as f64);
        writeln!(f, "timer {:?}", s.name())?;
        writeln!(
            f,
            "  runs   {} completed, {} cancelled, {} panicked, {} errors, {} clamped",
            s.count(),
            s.cancelled(),
            s.panicked(),
            s.errors(),
            s.clamped()
        )?;
        f.write_str("  busy   ")?;
        write_avg(f, s)?;
        write!(f, ", min {}", ns(s.min()))?;
        for &q in s.report_quantiles() {
            write!(f, ", {} ≤ {}", Percent(q), ns(s.quantile(q)))?;
        }
        writeln!(f, ", max {}, total {}", ns(s.max()), ns(s.total()))?;
        writeln!(
            f,
            "  self   avg {}, total {}",
            ns(s.mean_self()),
            ns(s.self_total())
        )?;
        write!(f, "  wall   avg {}", ns(s.mean_wall()))?;
        for &q in s.report_quantiles() {
            write!(f, ", {} ≤ {}", Percent(q), ns(s.wall_quantile(q)))?;
        }
        let wall_max = s.wall_quantile(1.0);
        writeln!(f, ", max {}, total {}", ns(wall_max), ns(s.wall_total()))?;
        writeln!(
            f,
            "  idle   avg {}, total {}",
            ns(s.mean_idle()),
            ns(s.idle_total())
        )?;
        writeln!(
            f,
            "  polls  {}, {:.2} per run, longest {}, {} slow, {} blocked",
            s.polls(),
            s.polls_per_run(),
            ns(s.longest_poll()),
            s.slow_polls(),
            s.blocked_polls()
        )?;
        if let (Some(rate), Some(elapsed)) = (s.runs_per_second(), s.elapsed()) {
            writeln!(f, "  rate   {} runs/s over {}", Rate(rate), ns(elapsed))?;
        }
        Ok(())
    }
}
