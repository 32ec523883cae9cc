//! `Stats`: what one timer has recorded, read at one moment.

use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::report::Detail;
use crate::record::Recorded;

/// How runs and polls of one timer ended, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Outcomes {
    pub(crate) cancelled: u64,
    pub(crate) panicked: u64,
    pub(crate) errors: u64,
    pub(crate) slow_polls: u64,
    pub(crate) blocked_polls: u64,
}

impl Outcomes {
    fn since(&self, earlier: &Outcomes) -> Outcomes {
        Outcomes {
            cancelled: self.cancelled.saturating_sub(earlier.cancelled),
            panicked: self.panicked.saturating_sub(earlier.panicked),
            errors: self.errors.saturating_sub(earlier.errors),
            slow_polls: self.slow_polls.saturating_sub(earlier.slow_polls),
            blocked_polls: self.blocked_polls.saturating_sub(earlier.blocked_polls),
        }
    }
}

/// What one timer has recorded: runs (completed, each one sample of busy
/// and wall time) and the runs that did not complete, polls, and where the
/// time went.
///
/// Quantiles, min, max and stdev come from HdrHistograms and are exact to
/// their precision (3 significant figures by default); totals and means are
/// exact to the nanosecond.
///
/// ```
/// use std::time::Duration;
///
/// let registry = perf_timer::Registry::new();
/// let timer = registry.timer("db");
/// for us in 1..=100 {
///     timer.record(Duration::from_micros(us));
/// }
/// let stats = timer.stats();
/// assert_eq!(stats.count(), 100);
/// assert_eq!(stats.mean(), Duration::from_nanos(50_500));
/// assert_eq!(stats.quantile(0.5).as_micros(), 50);
/// println!("{}", stats.detail()); // every figure, one per line
/// ```
#[derive(Debug, Clone)]
pub struct Stats {
    name: Arc<str>,
    recorded: Recorded,
    outcomes: Outcomes,
    quantiles: Arc<[f64]>,
    /// For the stats of an interval: its length.
    elapsed: Option<Duration>,
}

impl Stats {
    pub(crate) fn new(
        name: Arc<str>,
        recorded: Recorded,
        outcomes: Outcomes,
        quantiles: Arc<[f64]>,
    ) -> Self {
        Stats {
            name,
            recorded,
            outcomes,
            quantiles,
            elapsed: None,
        }
    }

    /// What happened between `earlier` (stats of the same timer) and these,
    /// over `elapsed`. The longest poll stays the longest since the start.
    pub(crate) fn since(&self, earlier: &Stats, elapsed: Duration) -> Stats {
        let (now, then) = (&self.recorded, &earlier.recorded);
        let window = |now: &Histogram<u64>, then: &Histogram<u64>| {
            let mut window = now.clone();
            // Counts only grow, so `then` fits inside `now`; if it somehow
            // does not, the cumulative histogram is the honest fallback.
            if window.subtract(then).is_err() {
                window = now.clone();
            }
            window
        };
        Stats {
            name: self.name.clone(),
            recorded: Recorded {
                busy: window(&now.busy, &then.busy),
                wall: window(&now.wall, &then.wall),
                busy_nanos: now.busy_nanos.wrapping_sub(then.busy_nanos),
                idle_nanos: now.idle_nanos.wrapping_sub(then.idle_nanos),
                nested_nanos: now.nested_nanos.wrapping_sub(then.nested_nanos),
                polls: now.polls.saturating_sub(then.polls),
                longest_poll: now.longest_poll,
                clamped: now.clamped.saturating_sub(then.clamped),
            },
            outcomes: self.outcomes.since(&earlier.outcomes),
            quantiles: self.quantiles.clone(),
            elapsed: Some(elapsed),
        }
    }

    /// Stats of the same timer with nothing recorded: the start of its
    /// first interval.
    pub(crate) fn empty_like(&self) -> Stats {
        let empty = |h: &Histogram<u64>| {
            let mut h = h.clone();
            h.reset();
            h
        };
        Stats {
            name: self.name.clone(),
            recorded: Recorded {
                busy: empty(&self.recorded.busy),
                wall: empty(&self.recorded.wall),
                busy_nanos: 0,
                idle_nanos: 0,
                nested_nanos: 0,
                polls: 0,
                longest_poll: 0,
                clamped: 0,
            },
            outcomes: Outcomes::default(),
            quantiles: self.quantiles.clone(),
            elapsed: None,
        }
    }

    /// The timer's name.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// assert_eq!(registry.timer("a").stats().name(), "a");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Completed runs (samples).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(1));
    /// assert_eq!(timer.stats().count(), 1);
    /// ```
    pub fn count(&self) -> u64 {
        self.recorded.busy.len()
    }

    /// Mean busy time of a run, exact (zero without runs).
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_nanos(1));
    /// timer.record(Duration::from_nanos(2));
    /// assert_eq!(timer.stats().mean(), Duration::from_nanos(1)); // 1.5 ns, truncated
    /// ```
    pub fn mean(&self) -> Duration {
        self.mean_of(self.recorded.busy_nanos)
    }

    /// `nanos` per completed run, exact (integer division; zero without runs).
    fn mean_of(&self, nanos: u64) -> Duration {
        Duration::from_nanos(nanos.checked_div(self.count()).unwrap_or(0))
    }

    /// `nanos` per completed run, with its fraction.
    pub(crate) fn per_run(&self, nanos: u64) -> f64 {
        match self.count() {
            0 => 0.0,
            n => nanos as f64 / n as f64,
        }
    }

    /// Mean busy time in nanoseconds, with its fraction.
    pub(crate) fn mean_nanos(&self) -> f64 {
        self.per_run(self.recorded.busy_nanos)
    }

    /// Standard deviation of the busy times, to the histogram's precision.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(5));
    /// assert_eq!(timer.stats().stdev(), std::time::Duration::ZERO);
    /// ```
    pub fn stdev(&self) -> Duration {
        Duration::from_secs_f64(self.stdev_nanos() / 1e9)
    }

    pub(crate) fn stdev_nanos(&self) -> f64 {
        if self.count() < 2 {
            return 0.0;
        }
        let stdev = self.recorded.busy.stdev();
        if stdev.is_finite() {
            stdev
        } else {
            0.0
        }
    }

    /// Shortest run, to the histogram's precision (zero without runs).
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_micros(3));
    /// timer.record(Duration::from_micros(9));
    /// assert_eq!(timer.stats().min(), Duration::from_micros(3));
    /// ```
    pub fn min(&self) -> Duration {
        Duration::from_nanos(self.recorded.busy.min())
    }

    /// Longest run, to the histogram's precision: the highest value of its
    /// bucket, as HdrHistogram reports it (zero without runs).
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_micros(3));
    /// timer.record(Duration::from_micros(9));
    /// assert_eq!(timer.stats().max().as_micros(), 9); // 9.007 µs: the top of its bucket
    /// ```
    pub fn max(&self) -> Duration {
        max_of(&self.recorded.busy)
    }

    /// The busy time at or below which a fraction `q` of runs fall
    /// (`q = 0.99` is the 99th percentile). `q` outside `[0, 1]` is clamped
    /// into it and NaN reads as 0; zero without runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// for ms in 1..=10 {
    ///     timer.record(Duration::from_millis(ms));
    /// }
    /// let stats = timer.stats();
    /// assert_eq!(stats.quantile(0.9).as_millis(), 9);
    /// assert_eq!(stats.quantile(7.0), stats.max());
    /// ```
    pub fn quantile(&self, q: f64) -> Duration {
        quantile_of(&self.recorded.busy, q)
    }

    /// Sum of the busy times of all runs, exact.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_nanos(1_001));
    /// timer.record(Duration::from_nanos(2_002));
    /// assert_eq!(timer.stats().total(), Duration::from_nanos(3_003));
    /// ```
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.recorded.busy_nanos)
    }

    /// Mean wall time of a run: first poll to `Ready`, waiting included.
    /// A sync section or a manual sample has no waiting: its wall time is its
    /// busy time.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("nap");
    /// timer.time(tokio::time::sleep(Duration::from_millis(20))).await;
    /// let stats = timer.stats();
    /// assert!(stats.mean_wall() >= Duration::from_millis(20));
    /// assert!(stats.mean() < Duration::from_millis(20));
    /// # }
    /// ```
    pub fn mean_wall(&self) -> Duration {
        self.mean_of(self.wall_nanos())
    }

    fn wall_nanos(&self) -> u64 {
        self.recorded
            .busy_nanos
            .wrapping_add(self.recorded.idle_nanos)
    }

    /// The wall time at or below which a fraction `q` of runs fall; as
    /// [`quantile`](Stats::quantile), for wall time.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(8));
    /// assert_eq!(timer.stats().wall_quantile(0.5).as_micros(), 8);
    /// ```
    pub fn wall_quantile(&self, q: f64) -> Duration {
        quantile_of(&self.recorded.wall, q)
    }

    /// Sum of the wall times of all runs, exact.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(8));
    /// assert_eq!(timer.stats().wall_total(), std::time::Duration::from_micros(8));
    /// ```
    pub fn wall_total(&self) -> Duration {
        Duration::from_nanos(self.wall_nanos())
    }

    /// Sum of the idle times (wall − busy) of all runs, exact: time spent
    /// waiting between polls, on I/O, timers, locks or the scheduler.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(8));
    /// assert_eq!(timer.stats().idle_total(), std::time::Duration::ZERO);
    /// ```
    pub fn idle_total(&self) -> Duration {
        Duration::from_nanos(self.recorded.idle_nanos)
    }

    /// Mean idle time of a run.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert_eq!(timer.stats().mean_idle(), std::time::Duration::ZERO);
    /// ```
    pub fn mean_idle(&self) -> Duration {
        self.mean_of(self.recorded.idle_nanos)
    }

    /// The HdrHistogram of wall times in nanoseconds.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_nanos(42));
    /// assert_eq!(timer.stats().wall_histogram().len(), 1);
    /// ```
    pub fn wall_histogram(&self) -> &Histogram<u64> {
        &self.recorded.wall
    }

    /// Self time: busy time minus the busy time of timed futures nested
    /// inside this timer's polls, summed over all runs. Equal to
    /// [`total`](Stats::total) for a timer with nothing timed inside it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::new();
    /// let inner = registry.timer("inner");
    /// registry.timer("outer").time(async { inner.time(async {}).await }).await;
    /// let outer = registry.stats("outer").unwrap();
    /// assert!(outer.self_total() <= outer.total());
    /// # }
    /// ```
    pub fn self_total(&self) -> Duration {
        Duration::from_nanos(self.self_nanos())
    }

    fn self_nanos(&self) -> u64 {
        self.recorded
            .busy_nanos
            .saturating_sub(self.recorded.nested_nanos)
    }

    /// Mean self time of a run (see [`self_total`](Stats::self_total)).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(4));
    /// assert_eq!(timer.stats().mean_self(), std::time::Duration::from_micros(4));
    /// ```
    pub fn mean_self(&self) -> Duration {
        self.mean_of(self.self_nanos())
    }

    /// Whether timed futures ran nested inside this timer's polls.
    pub(crate) fn has_nested(&self) -> bool {
        self.recorded.nested_nanos > 0
    }

    /// Polls of completed runs (a sync section or manual sample counts one).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(4));
    /// assert_eq!(timer.stats().polls(), 1);
    /// ```
    pub fn polls(&self) -> u64 {
        self.recorded.polls
    }

    /// Mean polls per completed run.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.time(async { tokio::task::yield_now().await }).await; // two polls
    /// assert_eq!(timer.stats().polls_per_run(), 2.0);
    /// # }
    /// ```
    pub fn polls_per_run(&self) -> f64 {
        self.per_run(self.recorded.polls)
    }

    /// The longest single poll (or sync section) of any completed run.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(4));
    /// assert_eq!(timer.stats().longest_poll(), std::time::Duration::from_micros(4));
    /// ```
    pub fn longest_poll(&self) -> Duration {
        Duration::from_nanos(self.recorded.longest_poll)
    }

    /// Polls longer than the registry's slow-poll threshold (50 µs by
    /// default), whether their run completed or not.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert_eq!(timer.stats().slow_polls(), 0);
    /// ```
    pub fn slow_polls(&self) -> u64 {
        self.outcomes.slow_polls
    }

    /// Sampled polls found blocked inside `poll` (see
    /// [`RegistryBuilder::blocking_detection`](crate::RegistryBuilder::blocking_detection)).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert_eq!(timer.stats().blocked_polls(), 0);
    /// ```
    pub fn blocked_polls(&self) -> u64 {
        self.outcomes.blocked_polls
    }

    /// Runs dropped after their first poll and before `Ready`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// let slow = timer.time(tokio::time::sleep(Duration::from_secs(60)));
    /// let _ = tokio::time::timeout(Duration::from_millis(1), slow).await;
    /// assert_eq!(timer.stats().cancelled(), 1);
    /// # }
    /// ```
    pub fn cancelled(&self) -> u64 {
        self.outcomes.cancelled
    }

    /// Runs ended by a panic inside a poll (or inside a timed sync section).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// let _ = std::panic::catch_unwind(|| {
    ///     let _guard = timer.start();
    ///     panic!("boom");
    /// });
    /// assert_eq!(timer.stats().panicked(), 1);
    /// ```
    pub fn panicked(&self) -> u64 {
        self.outcomes.panicked
    }

    /// Completed runs whose output was an error (see
    /// [`TimedExt::timed_result`](crate::TimedExt::timed_result)); they are
    /// also samples, counted in [`count`](Stats::count).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert_eq!(timer.stats().errors(), 0);
    /// ```
    pub fn errors(&self) -> u64 {
        self.outcomes.errors
    }

    /// Runs longer than the registry's highest trackable duration, recorded
    /// as that duration (their exact time still counts in [`total`](Stats::total)).
    ///
    /// ```
    /// use std::time::Duration;
    /// let registry = perf_timer::Registry::builder().highest(Duration::from_secs(1)).build().unwrap();
    /// registry.timer("a").record(Duration::from_secs(5));
    /// assert_eq!(registry.stats("a").unwrap().clamped(), 1);
    /// ```
    pub fn clamped(&self) -> u64 {
        self.recorded.clamped
    }

    /// The underlying HdrHistogram of busy times in nanoseconds, for
    /// merging across processes or custom analysis. It auto-resizes and
    /// holds counters up to the largest value recorded.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_nanos(42));
    /// assert_eq!(timer.stats().histogram().len(), 1);
    /// ```
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.recorded.busy
    }

    /// For the stats of an [`Interval`](crate::Interval): its length.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert_eq!(timer.stats().elapsed(), None); // cumulative, not an interval
    /// ```
    pub fn elapsed(&self) -> Option<Duration> {
        self.elapsed
    }

    /// For the stats of an [`Interval`](crate::Interval): completed runs
    /// per second over it.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert_eq!(timer.stats().runs_per_second(), None);
    /// ```
    pub fn runs_per_second(&self) -> Option<f64> {
        let seconds = self.elapsed?.as_secs_f64();
        (seconds > 0.0).then(|| self.count() as f64 / seconds)
    }

    /// Every figure of this timer, one per line: busy, self, wall and idle
    /// time, polls, outcomes.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("parse");
    /// timer.record(std::time::Duration::from_micros(5));
    /// let text = timer.stats().detail().to_string();
    /// assert!(text.starts_with("timer \"parse\"\n"));
    /// assert!(text.contains("  busy  "));
    /// ```
    pub fn detail(&self) -> Detail<'_> {
        Detail::new(self)
    }

    /// The quantiles this timer's registry reports.
    pub(crate) fn report_quantiles(&self) -> &[f64] {
        &self.quantiles
    }

    /// Whether anything happened: a run, a cancellation, a panic or a slow poll.
    pub(crate) fn is_idle(&self) -> bool {
        self.count() == 0
            && self.outcomes.cancelled == 0
            && self.outcomes.panicked == 0
            && self.outcomes.slow_polls == 0
    }
}

fn max_of(histogram: &Histogram<u64>) -> Duration {
    if histogram.is_empty() {
        return Duration::ZERO;
    }
    Duration::from_nanos(histogram.max())
}

fn quantile_of(histogram: &Histogram<u64>, q: f64) -> Duration {
    if histogram.is_empty() {
        return Duration::ZERO;
    }
    let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
    Duration::from_nanos(histogram.value_at_quantile(q))
}
