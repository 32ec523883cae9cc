//! `Snapshot`: every timer of a registry, sorted by name.

use std::sync::Arc;

use crate::read::{Report, Stats};
use crate::state::paths::PathLine;

/// Every timer of a registry at one moment, sorted by name.
///
/// ```
/// let registry = perf_timer::Registry::new();
/// registry.timer("a").record(std::time::Duration::from_micros(1));
/// let snapshot = registry.snapshot();
/// assert_eq!(snapshot.len(), 1);
/// assert_eq!(snapshot.get("a").unwrap().count(), 1);
/// for stats in &snapshot {
///     println!("{}: {} runs", stats.name(), stats.count());
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Snapshot {
    timers: Vec<Stats>,
    quantiles: Arc<[f64]>,
    /// Whether the registry was switched off when this was read.
    switched_off: bool,
    /// The registry's nesting paths with time in them.
    paths: Arc<[PathLine]>,
}

impl Snapshot {
    /// `timers` must be sorted by name.
    pub(crate) fn new(timers: Vec<Stats>, quantiles: Arc<[f64]>, switched_off: bool) -> Self {
        Snapshot {
            timers,
            quantiles,
            switched_off,
            paths: Arc::new([]),
        }
    }

    /// This snapshot with the registry's nesting paths.
    pub(crate) fn with_paths(mut self, paths: Vec<PathLine>) -> Self {
        self.paths = paths.into();
        self
    }

    /// Each timer's slowest runs replaced by what `take` gives for it:
    /// an interval's slowest run.
    pub(crate) fn set_slowest(
        &mut self,
        mut take: impl FnMut(&str) -> Option<crate::read::SlowRun>,
    ) {
        for stats in &mut self.timers {
            let run = take(stats.name());
            stats.set_slowest(run.into_iter().collect());
        }
    }

    /// The nesting paths with time in them.
    pub(crate) fn paths(&self) -> &[PathLine] {
        &self.paths
    }

    /// What happened between `earlier` (of the same registry) and this
    /// snapshot, per timer: the runs completed in between, their
    /// distributions and sums exactly; a timer new since then counts from
    /// zero. Gauges (in flight) are as of now; the longest poll is the
    /// interval's where it can be known ([`Stats::longest_poll`]).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let registry = perf_timer::Registry::new();
    /// let timer = registry.timer("a");
    /// timer.record(Duration::from_millis(9));
    /// let before = registry.snapshot();
    /// timer.record(Duration::from_millis(1));
    /// let window = registry.snapshot().since(&before);
    /// let a = window.get("a").unwrap();
    /// assert_eq!((a.count(), a.max().as_micros()), (1, 1_000)); // not the 9 ms run
    /// ```
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        let timers = (self.timers.iter())
            .map(|now| match earlier.get(now.name()) {
                Some(then) => now.since(then),
                None => now.clone(),
            })
            .collect();
        let paths = (self.paths.iter())
            .map(
                |now| match earlier.paths.iter().find(|then| then.names == now.names) {
                    Some(then) => PathLine {
                        names: now.names.clone(),
                        runs: now.runs.saturating_sub(then.runs),
                        self_busy: now.self_busy.saturating_sub(then.self_busy),
                        parked: now.parked.saturating_sub(then.parked),
                    },
                    None => now.clone(),
                },
            )
            .collect();
        Snapshot::new(timers, self.quantiles.clone(), self.switched_off).with_paths(paths)
    }

    /// The timers, sorted by name.
    ///
    /// ```
    /// let snapshot = perf_timer::Registry::new().snapshot();
    /// assert_eq!(snapshot.iter().count(), 0);
    /// ```
    pub fn iter(&self) -> std::slice::Iter<'_, Stats> {
        self.timers.iter()
    }

    /// The stats of the timer `name`, if it existed when the snapshot was taken.
    ///
    /// ```
    /// let snapshot = perf_timer::Registry::new().snapshot();
    /// assert!(snapshot.get("x").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&Stats> {
        self.timers
            .binary_search_by(|s| s.name().cmp(name))
            .ok()
            .map(|i| &self.timers[i])
    }

    /// Number of timers.
    ///
    /// ```
    /// assert_eq!(perf_timer::Registry::new().snapshot().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.timers.len()
    }

    /// Whether there are no timers.
    ///
    /// ```
    /// assert!(perf_timer::Registry::new().snapshot().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }

    /// The quantiles the registry's report prints.
    ///
    /// ```
    /// assert_eq!(perf_timer::Registry::new().snapshot().quantiles(), [0.5, 0.9, 0.99]);
    /// ```
    pub fn quantiles(&self) -> &[f64] {
        &self.quantiles
    }

    /// Whether the registry was switched off
    /// ([`Registry::set_enabled`](crate::Registry::set_enabled)) when this
    /// snapshot was read.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// registry.set_enabled(false);
    /// assert!(registry.snapshot().is_switched_off());
    /// ```
    pub fn is_switched_off(&self) -> bool {
        self.switched_off
    }

    /// Turns this snapshot into a printable [`Report`].
    ///
    /// ```
    /// let report = perf_timer::Registry::new().snapshot().into_report();
    /// assert_eq!(report.to_string(), "perf-timer: nothing was recorded\n");
    /// ```
    pub fn into_report(self) -> Report {
        Report::new(self)
    }
}

impl<'a> IntoIterator for &'a Snapshot {
    type Item = &'a Stats;
    type IntoIter = std::slice::Iter<'a, Stats>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
