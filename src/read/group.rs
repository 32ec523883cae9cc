//! Groups: timer names with `::` form a tree (`my_crate::db::get`, what
//! `#[timed]` makes); a group is every timer under one prefix, read as one.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::format::Nanos;
use super::merge::merge_stats;
use super::report::write_line;
use crate::{Report, Snapshot, Stats};

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

/// The groups to show: prefixes of two members or more, each with fewer
/// members than the group it sits in.
fn groups(names: &[&str]) -> Vec<String> {
    let mut members: BTreeMap<&str, usize> = BTreeMap::new();
    for name in names {
        for (at, _) in name.match_indices("::") {
            *members.entry(&name[..at]).or_default() += 1;
        }
    }
    // A timer named like a group is one of its members.
    for name in names {
        if let Some(n) = members.get_mut(name) {
            *n += 1;
        }
    }
    let parent_count = |prefix: &str| {
        prefix
            .rfind("::")
            .and_then(|at| members.get(&prefix[..at]).copied())
    };
    members
        .iter()
        .filter(|&(prefix, &n)| n >= 2 && parent_count(prefix) != Some(n))
        .map(|(prefix, _)| (*prefix).to_owned())
        .collect()
}

/// `… self busy in N runs of M timers`.
fn write_summary(f: &mut impl fmt::Write, stats: &[&Stats]) -> fmt::Result {
    let busy: Duration = stats.iter().map(|s| s.self_poll_total()).sum();
    let runs: u64 = stats.iter().map(|s| s.count()).sum();
    let plural = |n: u64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    write!(
        f,
        "{} self busy in {runs} {} of {} {}",
        Nanos(busy.as_nanos() as f64),
        plural(runs, "run", "runs"),
        stats.len(),
        plural(stats.len() as u64, "timer", "timers")
    )
}

impl fmt::Display for Grouped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let snapshot = self.report.snapshot();
        let shown: Vec<&Stats> = snapshot.iter().filter(|s| !s.is_idle()).collect();
        if shown.is_empty() {
            return fmt::Display::fmt(self.report, f);
        }
        let all_busy: Duration = shown.iter().map(|s| s.self_poll_total()).sum();
        f.write_str("(all): ")?;
        write_summary(f, &shown)?;
        f.write_str("\n")?;
        let names: Vec<&str> = shown.iter().map(|s| s.name()).collect();
        let groups = groups(&names);
        let mut open: Vec<&str> = Vec::new();
        for stats in &shown {
            while open.last().is_some_and(|g| !is_under(stats.name(), g)) {
                open.pop();
            }
            for group in groups.iter().filter(|g| is_under(stats.name(), g)) {
                if open.contains(&group.as_str()) {
                    continue;
                }
                let members: Vec<&Stats> = shown
                    .iter()
                    .copied()
                    .filter(|s| is_under(s.name(), group))
                    .collect();
                let busy: Duration = members.iter().map(|s| s.self_poll_total()).sum();
                write!(
                    f,
                    "{:indent$}group {group:?}: ",
                    "",
                    indent = 2 * open.len()
                )?;
                write_summary(f, &members)?;
                let share = if all_busy.is_zero() {
                    0.0
                } else {
                    busy.as_secs_f64() / all_busy.as_secs_f64() * 100.0
                };
                writeln!(f, ", {share:.0}% of all")?;
                open.push(group);
            }
            write!(f, "{:indent$}", "", indent = 2 * open.len())?;
            write_line(f, stats, snapshot.quantiles(), None)?;
            f.write_str("\n")?;
        }
        if snapshot.is_switched_off() {
            writeln!(f, "{}", super::report::SWITCHED_OFF_SINCE)?;
        }
        Ok(())
    }
}
