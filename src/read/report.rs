//! `Report`: one line per timer, the format users read at shutdown.

use std::fmt::{self, Write as _};

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
    match stats.count() {
        0 => f.write_str("0 runs")?,
        1 => write!(f, "{} in 1 run", Nanos(stats.total().as_nanos() as f64))?,
        runs => {
            let mean = stats.mean_nanos();
            let scaled = Scaled::of(mean);
            f.write_str("avg ")?;
            scaled.write(f, mean)?;
            f.write_str(" ± ")?;
            scaled.write(f, stats.stdev_nanos())?;
            for &q in quantiles {
                let value = stats.quantile(q).as_nanos() as f64;
                write!(f, ", {} ≤ {}", Percent(q), Nanos(value))?;
            }
            let max = stats.max().as_nanos() as f64;
            write!(f, ", max {} in {runs} runs", Nanos(max))?;
        }
    }
    for (n, outcome) in [
        (stats.cancelled(), "cancelled"),
        (stats.panicked(), "panicked"),
        (stats.clamped(), "clamped"),
    ] {
        if n > 0 {
            write!(f, ", {n} {outcome}")?;
        }
    }
    Ok(())
}
