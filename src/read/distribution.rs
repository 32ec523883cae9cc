//! `Distribution`: the durations of a timer's runs, busy or wall, in the
//! compact form a snapshot keeps.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::counts::Counts;
use crate::record::Layout;

/// The durations of a timer's completed runs, one per run: busy time
/// ([`Stats::busy`](crate::Stats::busy)) or wall time
/// ([`Stats::wall`](crate::Stats::wall)).
///
/// It keeps only the HdrHistogram buckets that hold runs (or, where those
/// are packed, one 4-byte count per bucket from the first to the last), so
/// reading a thousand timers costs what their values need, not a full
/// histogram each. Quantiles, min, max and the deviation come from those buckets and
/// equal what HdrHistogram computes for the same runs (3 significant
/// figures by default); the total and the mean are exact to the nanosecond
/// (of the durations as counted: one past the highest trackable duration as
/// that duration, so that the mean never exceeds the max).
/// [`histogram`](Distribution::histogram) builds the full
/// `hdrhistogram::Histogram` on first call.
///
/// ```
/// use std::time::Duration;
///
/// let timer = perf_timer::Registry::new().timer("db");
/// for us in 1..=100 {
///     timer.record(Duration::from_micros(us));
/// }
/// let stats = timer.stats();
/// let busy = stats.busy();
/// assert_eq!(busy.count(), 100);
/// assert_eq!(busy.mean(), Duration::from_nanos(50_500)); // exact
/// assert_eq!(busy.quantile(0.5).as_micros(), 50);        // 3 significant figures
/// assert_eq!(busy.min(), Duration::from_micros(1));
/// // A manual sample waits for nothing: its wall time is its busy time.
/// assert_eq!(stats.wall().total(), busy.total());
/// ```
#[derive(Clone)]
pub struct Distribution {
    layout: Layout,
    buckets: Counts,
    count: u64,
    total_nanos: u64,
    histogram: OnceLock<Box<Histogram<u64>>>,
}

impl Distribution {
    pub(crate) fn new(layout: Layout, buckets: Vec<(u32, u64)>, total_nanos: u64) -> Self {
        let count = buckets.iter().fold(0_u64, |n, b| n.saturating_add(b.1));
        Distribution {
            layout,
            buckets: Counts::new(buckets),
            count,
            total_nanos,
            histogram: OnceLock::new(),
        }
    }

    /// The layout its buckets count in.
    pub(crate) fn layout(&self) -> Layout {
        self.layout
    }

    /// (counter index, count) of every non-empty bucket, by index.
    pub(crate) fn buckets(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.buckets.iter()
    }

    /// Calls `f` with (counter index, count) of every non-empty bucket,
    /// by index: [`buckets`](Distribution::buckets) in a tight loop.
    #[inline]
    pub(crate) fn for_each_bucket(&self, f: impl FnMut(u32, u64)) {
        self.buckets.for_each(f);
    }

    /// The runs between `earlier` (of the same timer) and these, whose
    /// durations add up to `total_nanos`.
    pub(crate) fn since(&self, earlier: &Distribution, total_nanos: u64) -> Distribution {
        let mut buckets = Vec::with_capacity(self.buckets.len());
        let mut then = earlier.buckets.iter().peekable();
        for (index, count) in self.buckets.iter() {
            while then.next_if(|b| b.0 < index).is_some() {}
            let before = then.next_if(|b| b.0 == index).map_or(0, |b| b.1);
            // Counts only grow; saturating all the same.
            let n = count.saturating_sub(before);
            if n > 0 {
                buckets.push((index, n));
            }
        }
        Distribution::new(self.layout, buckets, total_nanos)
    }

    /// How many values are at most each of `bounds` (nanoseconds, sorted
    /// ascending), within the histogram's precision: a value counts under
    /// a bound when its bucket starts at or below it, so a value recorded
    /// exactly at a bound is under it.
    pub(crate) fn cumulative_counts(&self, bounds: &[u64]) -> Vec<u64> {
        let mut counts = vec![0; bounds.len()];
        let mut next = 0;
        let mut below = 0_u64;
        // A bucket starts at or below a bound exactly when its counter
        // index is at most the bound's: one integer compare per bucket.
        let limit = |next: usize| {
            bounds
                .get(next)
                .map_or(u32::MAX, |&b| self.layout.index(b) as u32)
        };
        let mut current = limit(0);
        self.buckets.for_each(|index, n| {
            while index > current && next < bounds.len() {
                counts[next] = below;
                next += 1;
                current = limit(next);
            }
            below = below.saturating_add(n);
        });
        for count in &mut counts[next..] {
            *count = below;
        }
        counts
    }

    /// The highest value this distribution's histogram can track.
    pub(crate) fn highest_trackable(&self) -> u64 {
        self.layout.highest
    }

    /// Runs counted.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(1));
    /// assert_eq!(timer.stats().busy().count(), 1);
    /// ```
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the durations, exact, each as the histogram counts it (a run
    /// past the highest trackable duration as that duration, so the total
    /// is at most `count × max`); it saturates at
    /// `Duration::from_nanos(u64::MAX)` (584 years) rather than wrapping.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_nanos(1_001));
    /// timer.record(Duration::from_nanos(2_002));
    /// assert_eq!(timer.stats().busy().total(), Duration::from_nanos(3_003));
    /// ```
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.total_nanos)
    }

    /// Mean duration, exact to the nanosecond (truncated); zero without runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_nanos(1));
    /// timer.record(Duration::from_nanos(2));
    /// assert_eq!(timer.stats().busy().mean(), Duration::from_nanos(1)); // 1.5 ns, truncated
    /// ```
    pub fn mean(&self) -> Duration {
        Duration::from_nanos(self.total_nanos.checked_div(self.count).unwrap_or(0))
    }

    /// Mean in nanoseconds, with its fraction.
    pub(crate) fn mean_nanos(&self) -> f64 {
        match self.count {
            0 => 0.0,
            n => self.total_nanos as f64 / n as f64,
        }
    }

    /// Standard deviation, to the buckets' precision, as HdrHistogram
    /// computes it (from each bucket's middle value); zero for fewer than
    /// two runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_micros(10));
    /// timer.record(Duration::from_micros(30));
    /// assert_eq!(timer.stats().busy().stdev().as_micros(), 10);
    /// ```
    pub fn stdev(&self) -> Duration {
        Duration::from_secs_f64(self.stdev_nanos() / 1e9)
    }

    pub(crate) fn stdev_nanos(&self) -> f64 {
        if self.count < 2 {
            return 0.0;
        }
        let n = self.count as f64;
        let middle = |index: u32| self.layout.median_value(index as usize) as f64;
        let mean = (self.buckets.iter()).fold(0.0, |sum, (i, c)| sum + middle(i) * c as f64 / n);
        let squares = (self.buckets.iter()).fold(0.0, |sum, (i, c)| {
            let deviation = middle(i) - mean;
            sum + deviation * deviation * c as f64
        });
        let stdev = (squares / n).sqrt();
        if stdev.is_finite() {
            stdev
        } else {
            0.0
        }
    }

    /// The shortest duration, to the buckets' precision (the lowest value
    /// of its bucket); zero without runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_micros(3));
    /// timer.record(Duration::from_micros(9));
    /// assert_eq!(timer.stats().busy().min(), Duration::from_micros(3));
    /// ```
    pub fn min(&self) -> Duration {
        let first = self.buckets.first();
        Duration::from_nanos(first.map_or(0, |i| self.layout.value(i as usize)))
    }

    /// The longest duration, to the buckets' precision: the highest value of
    /// its bucket, as HdrHistogram reports it; zero without runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_micros(3));
    /// timer.record(Duration::from_micros(9));
    /// assert_eq!(timer.stats().busy().max(), Duration::from_nanos(9_007)); // top of 9 µs's bucket
    /// ```
    pub fn max(&self) -> Duration {
        let last = self.buckets.last();
        Duration::from_nanos(last.map_or(0, |i| self.layout.highest_value(i as usize)))
    }

    /// The duration at or below which a fraction `q` of runs fall (`q =
    /// 0.99`: the 99th percentile), as HdrHistogram's `value_at_quantile`:
    /// the highest value of the bucket where the count reaches `q` (the
    /// lowest, for `q = 0`). `q` outside `[0, 1]` is clamped into it and NaN
    /// reads as 0; zero without runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// for ms in 1..=10 {
    ///     timer.record(Duration::from_millis(ms));
    /// }
    /// let stats = timer.stats();
    /// assert_eq!(stats.busy().quantile(0.9).as_millis(), 9);
    /// assert_eq!(stats.busy().quantile(7.0), stats.busy().max());
    /// ```
    pub fn quantile(&self, q: f64) -> Duration {
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        let target = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0_u64;
        for (index, count) in self.buckets.iter() {
            seen = seen.saturating_add(count);
            if seen >= target {
                let index = index as usize;
                return Duration::from_nanos(if q == 0.0 {
                    self.layout.value(index)
                } else {
                    self.layout.highest_value(index)
                });
            }
        }
        Duration::ZERO
    }

    /// The precision its values are kept to, in significant decimal figures
    /// (the registry's
    /// [`significant_figures`](crate::RegistryBuilder::significant_figures)).
    ///
    /// ```
    /// let registry = perf_timer::Registry::builder().significant_figures(2).build().unwrap();
    /// registry.timer("a").record(std::time::Duration::from_micros(1));
    /// assert_eq!(registry.stats("a").unwrap().busy().significant_figures(), 2);
    /// ```
    pub fn significant_figures(&self) -> u8 {
        self.layout.significant_figures
    }

    /// The durations as an `hdrhistogram::Histogram` of nanoseconds, for
    /// merging across processes, exports and custom analysis. Built on first
    /// call (and kept), sized to the largest value, auto-resizing.
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_micros(42));
    /// let stats = timer.stats();
    /// let histogram = stats.busy().histogram();
    /// assert_eq!(histogram.len(), 1);
    /// assert_eq!(histogram.value_at_quantile(0.5), stats.busy().quantile(0.5).as_nanos() as u64);
    /// ```
    pub fn histogram(&self) -> &Histogram<u64> {
        self.histogram.get_or_init(|| {
            Box::new(
                self.layout
                    .histogram_of(self.buckets.last(), self.buckets.iter()),
            )
        })
    }
}

impl fmt::Debug for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Distribution")
            .field("count", &self.count)
            .field("total", &self.total())
            .field("min", &self.min())
            .field("max", &self.max())
            .field("buckets", &self.buckets.len())
            .finish()
    }
}
