//! `Allocations`: what a timer's runs allocated, with a counting
//! allocator installed; `ByteDistribution`: the bytes of each run.

use std::fmt;

use hdrhistogram::Histogram;

use super::distribution::Distribution;
use crate::record::Totals;

/// What a timer's runs allocated, read with its [`Stats`](crate::Stats):
/// [`Stats::allocations`](crate::Stats::allocations), `Some` only when a
/// [`CountingAllocator`](crate::CountingAllocator) is installed.
///
/// Counts and bytes are over the completed runs, each run inclusive of the
/// timed runs nested in its polls; the self figures leave those out (as
/// self time does). What runs that ended without a sample allocated
/// (cancelled, dropping their future included, or panicked) is apart:
/// [`abandoned_count`](Allocations::abandoned_count).
///
/// What counts as an allocation, and what a reallocation counts, is on
/// [`CountingAllocator`](crate::CountingAllocator).
///
/// ```
/// #[global_allocator]
/// static ALLOC: perf_timer::CountingAllocator<std::alloc::System> =
///     perf_timer::CountingAllocator::new(std::alloc::System);
///
/// let timer = perf_timer::Registry::new().timer("parse");
/// for n in [100, 300] {
///     let _section = timer.start();
///     std::hint::black_box(vec![0_u8; n]);
/// }
/// let stats = timer.stats();
/// let allocations = stats.allocations().unwrap();
/// assert_eq!((allocations.count(), allocations.bytes()), (2, 400));
/// assert_eq!(allocations.bytes_per_run(), 200.0);
/// assert_eq!(allocations.distribution().max(), 301); // 300's bucket, at 2 figures
/// ```
#[derive(Debug, Clone)]
pub struct Allocations {
    runs: u64,
    count: u64,
    bytes: u64,
    nested_count: u64,
    nested_bytes: u64,
    abandoned_count: u64,
    abandoned_bytes: u64,
    distribution: ByteDistribution,
}

impl Allocations {
    /// From a reading's counters and its bytes-per-run buckets (in
    /// `record::allocated_bytes`' layout).
    pub(crate) fn new(totals: &Totals, buckets: Vec<(u32, u64)>) -> Self {
        let layout = *crate::record::allocated_bytes();
        Allocations::with(
            totals,
            ByteDistribution(Distribution::new(layout, buckets, totals.alloc_bytes)),
        )
    }

    fn with(totals: &Totals, distribution: ByteDistribution) -> Self {
        Allocations {
            runs: totals.alloc_runs,
            count: totals.allocs,
            bytes: totals.alloc_bytes,
            nested_count: totals.nested_allocs,
            nested_bytes: totals.nested_alloc_bytes,
            abandoned_count: totals.abandoned_allocs,
            abandoned_bytes: totals.abandoned_alloc_bytes,
            distribution,
        }
    }

    /// The allocations between `earlier` (of the same timer, if it had
    /// any) and these, whose counters are `totals`.
    pub(crate) fn since(&self, earlier: Option<&Allocations>, totals: &Totals) -> Allocations {
        let distribution = match earlier {
            Some(earlier) => self
                .distribution
                .0
                .since(&earlier.distribution.0, totals.alloc_bytes),
            None => self.distribution.0.clone(),
        };
        Allocations::with(totals, ByteDistribution(distribution))
    }

    /// Allocations of the completed runs, nested timed runs' included.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(1)); // a manual sample counts none
    /// assert!(timer.stats().allocations().is_none_or(|a| a.count() == 0));
    /// ```
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Bytes the completed runs allocated (a reallocation counts its
    /// growth), nested timed runs' included.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.bytes() == 0));
    /// ```
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Completed runs whose allocations were counted: every timed future's
    /// and sync section's while the allocator is installed, but a sync
    /// section that ended on another thread or in another poll than it
    /// began in. Manual samples ([`Timer::record`](crate::Timer::record))
    /// and runs timed from outside a future (the tracing layer, tokio's
    /// task hooks) count none.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.runs() == 0));
    /// ```
    pub fn runs(&self) -> u64 {
        self.runs
    }

    /// Mean allocations per completed run; 0 without runs.
    ///
    /// ##### Interpretation
    /// Nearly deterministic for the same input: unlike busy time, it does
    /// not move with the machine's load, so a rise between two builds is
    /// a change in the code (or its input), and often the reason its busy
    /// time rose.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.count_per_run() == 0.0));
    /// ```
    pub fn count_per_run(&self) -> f64 {
        per_run(self.count, self.runs)
    }

    /// Mean bytes allocated per completed run; 0 without runs.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.bytes_per_run() == 0.0));
    /// ```
    pub fn bytes_per_run(&self) -> f64 {
        per_run(self.bytes, self.runs)
    }

    /// Allocations of the completed runs made by their own code: less
    /// those of timed runs nested in their polls (each allocation counts
    /// for the innermost timed run it happened in).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.self_count() <= a.count()));
    /// ```
    pub fn self_count(&self) -> u64 {
        self.count.saturating_sub(self.nested_count)
    }

    /// Bytes of the completed runs' own allocations (see
    /// [`self_count`](Allocations::self_count)).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.self_bytes() <= a.bytes()));
    /// ```
    pub fn self_bytes(&self) -> u64 {
        self.bytes.saturating_sub(self.nested_bytes)
    }

    /// Allocations of runs that ended without a sample: cancelled runs
    /// (in their polls and while their future was dropped) and panicked
    /// ones (in their polls).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.abandoned_count() == 0));
    /// ```
    pub fn abandoned_count(&self) -> u64 {
        self.abandoned_count
    }

    /// Bytes of those allocations (see
    /// [`abandoned_count`](Allocations::abandoned_count)).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.abandoned_bytes() == 0));
    /// ```
    pub fn abandoned_bytes(&self) -> u64 {
        self.abandoned_bytes
    }

    /// The bytes each completed run allocated, one value per run.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.distribution().count() == 0));
    /// ```
    pub fn distribution(&self) -> &ByteDistribution {
        &self.distribution
    }
}

fn per_run(sum: u64, runs: u64) -> f64 {
    match runs {
        0 => 0.0,
        n => sum as f64 / n as f64,
    }
}

/// The bytes each completed run of a timer allocated
/// ([`Allocations::distribution`]): the methods of [`Distribution`], in
/// bytes. Kept in HdrHistogram buckets of 2 significant figures from 1 B
/// to 1 TiB (a run past that counts as 1 TiB): quantiles, min and max are
/// within 1 %; the total and the mean are exact.
///
/// ```
/// #[global_allocator]
/// static ALLOC: perf_timer::CountingAllocator<std::alloc::System> =
///     perf_timer::CountingAllocator::new(std::alloc::System);
///
/// let timer = perf_timer::Registry::new().timer("a");
/// for n in 1..=100 {
///     let _section = timer.start();
///     std::hint::black_box(vec![0_u8; n * 10]);
/// }
/// let allocations = timer.stats().allocations().unwrap();
/// let bytes = allocations.distribution();
/// assert_eq!((bytes.count(), bytes.total()), (100, 50_500));
/// assert_eq!(bytes.quantile(0.5), 501); // the top of 500's bucket
/// assert_eq!(bytes.min(), 10);
/// ```
#[derive(Clone)]
pub struct ByteDistribution(Distribution);

impl ByteDistribution {
    /// Runs counted.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.distribution().count() == 0));
    /// ```
    pub fn count(&self) -> u64 {
        self.0.count()
    }

    /// Sum of the bytes, exact (saturating).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.distribution().total() == 0));
    /// ```
    pub fn total(&self) -> u64 {
        bytes(self.0.total())
    }

    /// Mean bytes per run, exact; 0 without runs.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.distribution().mean() == 0.0));
    /// ```
    pub fn mean(&self) -> f64 {
        self.0.mean_nanos()
    }

    /// Standard deviation, to the buckets' precision; 0 for fewer than two
    /// runs.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.distribution().stdev() == 0.0));
    /// ```
    pub fn stdev(&self) -> f64 {
        self.0.stdev_nanos()
    }

    /// The fewest bytes of a run, to the buckets' precision (the lowest
    /// value of its bucket); 0 without runs.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.distribution().min() == 0));
    /// ```
    pub fn min(&self) -> u64 {
        bytes(self.0.min())
    }

    /// The most bytes of a run, to the buckets' precision (the highest
    /// value of its bucket); 0 without runs.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.distribution().max() == 0));
    /// ```
    pub fn max(&self) -> u64 {
        bytes(self.0.max())
    }

    /// The bytes at or below which a fraction `q` of runs fall, as
    /// [`Distribution::quantile`] (clamped into `[0, 1]`, NaN as 0); 0
    /// without runs.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.distribution().quantile(0.99) == 0));
    /// ```
    pub fn quantile(&self, q: f64) -> u64 {
        bytes(self.0.quantile(q))
    }

    /// The precision its values are kept to, in significant decimal
    /// figures: 2.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.distribution().significant_figures() == 2));
    /// ```
    pub fn significant_figures(&self) -> u8 {
        self.0.significant_figures()
    }

    /// The bytes as an `hdrhistogram::Histogram`, built on first call.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert!(timer.stats().allocations().is_none_or(|a| a.distribution().histogram().len() == 0));
    /// ```
    pub fn histogram(&self) -> &Histogram<u64> {
        self.0.histogram()
    }

    /// The distribution underneath, its values read as nanoseconds.
    pub(crate) fn inner(&self) -> &Distribution {
        &self.0
    }
}

/// A value of the inner distribution, which counts in `Duration`s, as the
/// bytes it counted.
fn bytes(value: std::time::Duration) -> u64 {
    u64::try_from(value.as_nanos()).unwrap_or(u64::MAX)
}

impl fmt::Debug for ByteDistribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteDistribution")
            .field("count", &self.count())
            .field("total", &self.total())
            .field("min", &self.min())
            .field("max", &self.max())
            .finish()
    }
}
