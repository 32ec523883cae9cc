//! Intervals: what happened since the previous look, for a log line a minute.

use std::fmt;
use std::time::Duration;

use crate::read::runs_per_second;
use crate::read::{Report, Snapshot, Stats};
use crate::registry::Registry;

/// Successive [`Interval`]s of one registry; made by [`Registry::intervals`].
///
/// Each call to `next` returns what happened since the previous one (the
/// first: since `intervals()` was called). Reading an interval resets
/// nothing: cumulative stats and other `Intervals` of the same registry are
/// unaffected, with one exception: each timer keeps the slowest run of
/// the current interval ([`Stats::slowest`] of an interval's stats), and
/// a call takes it, so two `Intervals` of one registry share those runs
/// out between them. It keeps one snapshot, the previous one, and no more.
///
/// ```
/// use std::time::Duration;
///
/// let registry = perf_timer::Registry::new();
/// let mut intervals = registry.intervals();
/// let timer = registry.timer("job");
/// timer.record(Duration::from_micros(5));
/// timer.record(Duration::from_micros(7));
/// let first = intervals.next().unwrap();
/// assert_eq!(first.get("job").unwrap().count(), 2);
/// timer.record(Duration::from_micros(9));
/// let second = intervals.next().unwrap();
/// assert_eq!(second.get("job").unwrap().count(), 1);
/// assert_eq!(second.get("job").unwrap().total(), Duration::from_micros(9));
/// assert_eq!(registry.stats("job").unwrap().count(), 3); // cumulative, untouched
/// ```
#[derive(Debug)]
pub struct Intervals {
    registry: Registry,
    previous: Snapshot,
    previous_at: u64,
}

/// What one registry recorded over one interval: per timer, the runs that
/// completed in it and their percentiles, and the interval's length, hence
/// runs per second. Printed, one line per timer that saw anything, like a
/// [`Report`] with `, N runs/s` added.
///
/// ```
/// let registry = perf_timer::Registry::new();
/// let mut intervals = registry.intervals();
/// registry.timer("tick").record(std::time::Duration::from_micros(3));
/// let interval = intervals.next().unwrap();
/// assert!(interval.to_string().starts_with("timer \"tick\": 3.00 µs in 1 run, "));
/// assert!(interval.to_string().ends_with(" runs/s\n"));
/// ```
#[derive(Debug, Clone)]
pub struct Interval {
    elapsed: Duration,
    snapshot: Snapshot,
}

impl Intervals {
    pub(crate) fn new(registry: Registry) -> Self {
        // The first interval's slowest run is one of its own.
        drop(take_slowest(&registry));
        Intervals {
            previous_at: registry.now_nanos(),
            previous: registry.snapshot(),
            registry,
        }
    }
}

impl Iterator for Intervals {
    type Item = Interval;

    /// The interval since the previous call. Never `None`.
    fn next(&mut self) -> Option<Interval> {
        let now = self.registry.now_nanos();
        let snapshot = self.registry.snapshot();
        let mut slowest = take_slowest(&self.registry);
        let mut since = snapshot.since(&self.previous);
        since.set_slowest(|name| slowest.remove(name));
        let interval = Interval {
            elapsed: Duration::from_nanos(now.saturating_sub(self.previous_at)),
            snapshot: since,
        };
        self.previous = snapshot;
        self.previous_at = now;
        Some(interval)
    }
}

/// Each timer's slowest run since the last call, and a new interval.
fn take_slowest(registry: &Registry) -> std::collections::HashMap<String, crate::read::SlowRun> {
    (registry.listed_timers().iter())
        .filter_map(|t| Some((t.name().to_owned(), t.core().slowest.take_interval()?)))
        .collect()
}

impl Interval {
    /// How long the interval was, on the registry's clock.
    ///
    /// ```
    /// let (clock, mock) = perf_timer::Clock::mock();
    /// let registry = perf_timer::Registry::builder().clock(clock).build().unwrap();
    /// let mut intervals = registry.intervals();
    /// mock.advance(std::time::Duration::from_secs(60));
    /// assert_eq!(intervals.next().unwrap().elapsed(), std::time::Duration::from_secs(60));
    /// ```
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Completed runs of the timer `name` per second over the interval;
    /// `None` if there is no such timer or the interval has no length.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (clock, mock) = perf_timer::Clock::mock();
    /// let registry = perf_timer::Registry::builder().clock(clock).build().unwrap();
    /// let mut intervals = registry.intervals();
    /// for _ in 0..30 {
    ///     registry.timer("tick").record(Duration::from_micros(1));
    /// }
    /// mock.advance(Duration::from_secs(10));
    /// assert_eq!(intervals.next().unwrap().runs_per_second("tick"), Some(3.0));
    /// ```
    pub fn runs_per_second(&self, name: &str) -> Option<f64> {
        runs_per_second(self.get(name)?.count(), self.elapsed)
    }

    /// Each timer's stats over the interval, sorted by name.
    ///
    /// ```
    /// let mut intervals = perf_timer::Registry::new().intervals();
    /// assert_eq!(intervals.next().unwrap().iter().count(), 0);
    /// ```
    pub fn iter(&self) -> std::slice::Iter<'_, Stats> {
        self.snapshot.iter()
    }

    /// The stats of the timer `name` over the interval.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// let mut intervals = registry.intervals();
    /// registry.timer("x").record(std::time::Duration::from_micros(2));
    /// assert_eq!(intervals.next().unwrap().get("x").unwrap().count(), 1);
    /// ```
    pub fn get(&self, name: &str) -> Option<&Stats> {
        self.snapshot.get(name)
    }

    /// The stats over the interval, as a [`Snapshot`].
    ///
    /// ```
    /// let mut intervals = perf_timer::Registry::new().intervals();
    /// assert!(intervals.next().unwrap().snapshot().is_empty());
    /// ```
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The interval as a [`Report`], for its lines; each ends with the
    /// timer's runs per second.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// let mut intervals = registry.intervals();
    /// registry.timer("x").record(std::time::Duration::from_micros(2));
    /// let lines: Vec<String> = intervals.next().unwrap().report().lines().collect();
    /// assert_eq!(lines.len(), 1);
    /// assert!(lines[0].starts_with("timer \"x\": 2.00 µs in 1 run, "));
    /// ```
    pub fn report(&self) -> Report {
        Report::of_interval(self.snapshot.clone(), self.elapsed)
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.report(), f)
    }
}
