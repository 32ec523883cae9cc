//! `Stats`: what one timer has recorded, read at one moment.

use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::record::Recorded;

/// What one timer has recorded: runs (completed, each one sample of busy
/// time) and the runs that did not complete.
///
/// Quantiles, min, max and stdev come from the HdrHistogram and are exact to
/// its precision (3 significant figures by default); [`total`](Stats::total)
/// and [`mean`](Stats::mean) are exact to the nanosecond.
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
/// ```
#[derive(Debug, Clone)]
pub struct Stats {
    name: Arc<str>,
    histogram: Histogram<u64>,
    total_nanos: u64,
    cancelled: u64,
    panicked: u64,
    clamped: u64,
}

impl Stats {
    pub(crate) fn new(name: Arc<str>, recorded: Recorded, cancelled: u64, panicked: u64) -> Self {
        Stats {
            name,
            histogram: recorded.histogram,
            total_nanos: recorded.total_nanos,
            cancelled,
            panicked,
            clamped: recorded.clamped,
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
        self.histogram.len()
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
        match self.count() {
            0 => Duration::ZERO,
            n => Duration::from_nanos(self.total_nanos / n),
        }
    }

    /// Mean in nanoseconds, with its fraction.
    pub(crate) fn mean_nanos(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.total_nanos as f64 / n as f64,
        }
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
        let stdev = self.histogram.stdev();
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
        Duration::from_nanos(self.histogram.min())
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
        if self.count() == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.histogram.max())
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
        if self.count() == 0 {
            return Duration::ZERO;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        Duration::from_nanos(self.histogram.value_at_quantile(q))
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
        Duration::from_nanos(self.total_nanos)
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
        self.cancelled
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
        self.panicked
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
        self.clamped
    }

    /// The underlying HdrHistogram of busy times in nanoseconds, for
    /// merging across processes or custom analysis.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_nanos(42));
    /// assert_eq!(timer.stats().histogram().len(), 1);
    /// ```
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.histogram
    }

    /// Whether anything happened: a run, a cancellation or a panic.
    pub(crate) fn is_idle(&self) -> bool {
        self.count() == 0 && self.cancelled == 0 && self.panicked == 0
    }
}
