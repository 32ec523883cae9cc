//! Intervals: what happened since the previous look, for a log line a minute.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::{Registry, Report, Snapshot, Stats};

/// Successive [`Interval`]s of one registry; made by [`Registry::intervals`].
///
/// Each call to `next` returns what happened since the previous one (the
/// first: since `intervals()` was called). Reading an interval resets
/// nothing: cumulative stats and other `Intervals` of the same registry are
/// unaffected.
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
/// assert_eq!(registry.stats("job").unwrap().count(), 3); // cumulative, untouched
/// ```
#[derive(Debug)]
pub struct Intervals {
    registry: Registry,
    previous: HashMap<Arc<str>, Stats>,
    previous_at: u64,
}

/// What one registry recorded over one interval: per timer, the runs that
/// completed in it, their percentiles, and runs per second. Printed, one line
/// per timer that saw anything, like a [`Report`] with `, N runs/s` added.
///
/// ```
/// let registry = perf_timer::Registry::new();
/// let mut intervals = registry.intervals();
/// registry.timer("tick").record(std::time::Duration::from_micros(3));
/// let interval = intervals.next().unwrap();
/// assert!(interval.to_string().starts_with("timer \"tick\": 3.00 µs in 1 run, "));
/// ```
#[derive(Debug, Clone)]
pub struct Interval {
    elapsed: Duration,
    snapshot: Snapshot,
}

impl Registry {
    /// Successive intervals of this registry (see [`Intervals`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::new();
    /// let mut intervals = registry.intervals();
    /// tokio::spawn(async move {
    ///     loop {
    ///         tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    ///         for line in intervals.next().unwrap().report().lines() {
    ///             eprintln!("{line}"); // or tracing::info!
    ///         }
    ///     }
    /// });
    /// # }
    /// ```
    pub fn intervals(&self) -> Intervals {
        let previous_at = self.now_nanos();
        let previous = (self.snapshot().iter())
            .map(|stats| (Arc::from(stats.name()), stats.clone()))
            .collect();
        Intervals {
            registry: self.clone(),
            previous,
            previous_at,
        }
    }
}

impl Iterator for Intervals {
    type Item = Interval;

    /// The interval since the previous call. Never `None`.
    fn next(&mut self) -> Option<Interval> {
        let now = self.registry.now_nanos();
        let elapsed = Duration::from_nanos(now.saturating_sub(self.previous_at));
        let snapshot = self.registry.snapshot();
        let quantiles = Arc::from(snapshot.quantiles());
        let mut window = Vec::with_capacity(snapshot.len());
        let mut previous = HashMap::with_capacity(snapshot.len());
        for stats in snapshot.iter() {
            let name: Arc<str> = Arc::from(stats.name());
            let since = match self.previous.get(&name) {
                Some(earlier) => stats.since(earlier, elapsed),
                None => stats.since(&stats.empty_like(), elapsed),
            };
            window.push(since);
            previous.insert(name, stats.clone());
        }
        self.previous = previous;
        self.previous_at = now;
        Some(Interval {
            elapsed,
            snapshot: Snapshot::new(window, quantiles),
        })
    }
}

impl Interval {
    /// How long the interval was, on the registry's clock.
    ///
    /// ```
    /// let mut intervals = perf_timer::Registry::new().intervals();
    /// let _ = intervals.next().unwrap().elapsed();
    /// ```
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Each timer's stats over the interval, sorted by name; each has
    /// [`Stats::runs_per_second`].
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
    /// let mut intervals = perf_timer::Registry::new().intervals();
    /// assert!(intervals.next().unwrap().get("x").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&Stats> {
        self.snapshot.get(name)
    }

    /// The interval as a [`Report`], for its lines.
    ///
    /// ```
    /// let mut intervals = perf_timer::Registry::new().intervals();
    /// assert_eq!(intervals.next().unwrap().report().lines().count(), 0);
    /// ```
    pub fn report(&self) -> Report {
        self.snapshot.clone().into_report()
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.report(), f)
    }
}
