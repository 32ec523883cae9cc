//! Groups: timer names with `::` form a tree (`my_crate::db::get`, what
//! `#[timed]` makes); a group is every timer under one prefix, read as one.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::format::Nanos;
use super::merge::merge_stats;
use super::report::write_line;
use crate::read::{Report, Snapshot, Stats};

/// Whether `name` is `prefix` or under it (`prefix::…`).
fn is_under(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

impl Snapshot {
    /// Every timer named `prefix` or under it (`prefix::…`) as one
    /// [`Stats`] named `prefix`: counts and sums added, distributions added
    /// run by run. `None` when no timer is under `prefix`.
    ///
    /// A run of one member nested inside a run of another is a run of
    /// both, so the group's distributions and busy total count its time in
    /// each. Its [`self_time`](Stats::self_time) counts every nanosecond
    /// once: each member's busy time less what ran nested inside it; that
    /// is the group's own time, and what [`Report::grouped`] prints.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("app::db::get").record(Duration::from_micros(30));
    /// registry.timer("app::db::put").record(Duration::from_micros(50));
    /// registry.timer("app::http").record(Duration::from_micros(5));
    /// let db = registry.snapshot().group("app::db").unwrap();
    /// assert_eq!((db.name(), db.count()), ("app::db", 2));
    /// assert_eq!(db.total(), Duration::from_micros(80));
    /// assert!(registry.snapshot().group("app::d").is_none(), "whole segments only");
    /// ```
    pub fn group(&self, prefix: &str) -> Option<Stats> {
        let members: Vec<&Stats> = self.iter().filter(|s| is_under(s.name(), prefix)).collect();
        if members.is_empty() {
            return None;
        }
        Some(merge_stats(prefix, &members, self.quantiles().into()))
    }
}

impl Report {
    /// The report with group rows above their members, indented, and an
    /// `(all)` row first: each group's own busy time (self time, see
    /// [`Snapshot::group`]), its runs and its share of all, so that where
    /// the time goes reads at a glance. A group is a `::` prefix of two
    /// timers or more (one with the same members as its parent is left out).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("app::db::get").record(Duration::from_micros(30));
    /// registry.timer("app::db::put").record(Duration::from_micros(50));
    /// registry.timer("app::http").record(Duration::from_micros(20));
    /// let lines: Vec<String> = registry.report().grouped().lines().collect();
    /// assert_eq!(lines, [
    ///     "(all): 100 µs self busy in 3 runs of 3 timers",
    ///     "group \"app\": 100 µs self busy in 3 runs of 3 timers, 100% of all",
    ///     "  group \"app::db\": 80.0 µs self busy in 2 runs of 2 timers, 80% of all",
    ///     "    timer \"app::db::get\": 30.0 µs in 1 run",
    ///     "    timer \"app::db::put\": 50.0 µs in 1 run",
    ///     "  timer \"app::http\": 20.0 µs in 1 run",
    /// ]);
    /// ```
    pub fn grouped(&self) -> Grouped<'_> {
        Grouped { report: self }
    }
}

/// A [`Report`] with group rows, made by [`Report::grouped`].
///
/// ```
/// let report = perf_timer::Registry::new().report();
/// assert_eq!(report.grouped().to_string(), "perf-timer: nothing was recorded\n");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Grouped<'a> {
    report: &'a Report,
}

impl Grouped<'_> {
    /// The lines, without line endings.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("a").record(std::time::Duration::from_micros(2));
    /// let lines: Vec<String> = registry.report().grouped().lines().collect();
    /// assert_eq!(lines, ["(all): 2.00 µs self busy in 1 run of 1 timer", "timer \"a\": 2.00 µs in 1 run"]);
    /// ```
    pub fn lines(&self) -> impl Iterator<Item = String> {
        let text = self.to_string();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.into_iter()
    }
}

/// What a group row says: its members' self busy time, runs and number.
#[derive(Default, Clone, Copy)]
struct Summary {
    busy: Duration,
    runs: u64,
    timers: usize,
}

impl Summary {
    fn add(&mut self, stats: &Stats) {
        self.busy += stats.self_poll_total();
        self.runs += stats.count();
        self.timers += 1;
    }
}

/// `name`'s `::` prefixes, outermost first, and `name` itself last (a timer
/// named like a group is one of its members).
fn prefixes(name: &str) -> impl Iterator<Item = &str> {
    (name.match_indices("::").map(move |(at, _)| &name[..at])).chain(std::iter::once(name))
}

/// Every prefix's summary, in one pass over the timers; then only the
/// groups to show: prefixes of two members or more, each with fewer members
/// than the group it sits in.
fn groups<'a>(shown: &[&'a Stats]) -> BTreeMap<&'a str, Summary> {
    let mut all: BTreeMap<&str, Summary> = BTreeMap::new();
    for stats in shown {
        let name = stats.name();
        let mut own = prefixes(name).peekable();
        while let Some(prefix) = own.next() {
            // The name itself counts only where it is another timer's prefix.
            if own.peek().is_none() {
                break;
            }
            all.entry(prefix).or_default().add(stats);
        }
    }
    for stats in shown {
        if let Some(summary) = all.get_mut(stats.name()) {
            summary.add(stats);
        }
    }
    let parent_timers =
        |prefix: &str| (prefix.rfind("::")).and_then(|at| all.get(&prefix[..at]).map(|s| s.timers));
    (all.iter())
        .filter(|&(prefix, s)| s.timers >= 2 && parent_timers(prefix) != Some(s.timers))
        .map(|(prefix, s)| (*prefix, *s))
        .collect()
}

/// `… self busy in N runs of M timers`.
fn write_summary(f: &mut impl fmt::Write, summary: Summary) -> fmt::Result {
    let plural = |n: u64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    write!(
        f,
        "{} self busy in {} {} of {} {}",
        Nanos(summary.busy.as_nanos() as f64),
        summary.runs,
        plural(summary.runs, "run", "runs"),
        summary.timers,
        plural(summary.timers as u64, "timer", "timers")
    )
}

impl fmt::Display for Grouped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let snapshot = self.report.snapshot();
        let shown: Vec<&Stats> = snapshot.iter().filter(|s| !s.is_idle()).collect();
        if shown.is_empty() {
            return fmt::Display::fmt(self.report, f);
        }
        let mut all = Summary::default();
        shown.iter().for_each(|s| all.add(s));
        f.write_str("(all): ")?;
        write_summary(f, all)?;
        f.write_str("\n")?;
        let groups = groups(&shown);
        // Timers come sorted by name, so a group's members follow each other.
        let mut open: Vec<&str> = Vec::new();
        for stats in &shown {
            while open.last().is_some_and(|g| !is_under(stats.name(), g)) {
                open.pop();
            }
            for prefix in prefixes(stats.name()) {
                let Some(&summary) = groups.get(prefix) else {
                    continue;
                };
                if open.contains(&prefix) {
                    continue;
                }
                write!(
                    f,
                    "{:indent$}group {prefix:?}: ",
                    "",
                    indent = 2 * open.len()
                )?;
                write_summary(f, summary)?;
                let share = if all.busy.is_zero() {
                    0.0
                } else {
                    summary.busy.as_secs_f64() / all.busy.as_secs_f64() * 100.0
                };
                writeln!(f, ", {share:.0}% of all")?;
                open.push(prefix);
            }
            write!(f, "{:indent$}", "", indent = 2 * open.len())?;
            write_line(f, stats, snapshot.quantiles(), None)?;
            f.write_str("\n")?;
        }
        if let Some(status) = self.report.status() {
            writeln!(f, "{status}")?;
        }
        Ok(())
    }
}
