//! `Stats`: what one timer has recorded, read at one moment.

use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::allocations::Allocations;
use super::distribution::Distribution;
use super::report::Detail;
use super::slowest::SlowRun;
use crate::clock::saturating_nanos;
use crate::record::{Layout, Reading, Totals};

/// What one timer has recorded, read at one moment: its completed runs
/// (each one sample of busy and wall time), the runs that did not
/// complete, its polls, and where the time went.
///
/// **Consistent.** A `Stats` is read in one pass that counts each run
/// wholly or not at all, even while other threads record: its totals (busy,
/// wall, idle, self, polls, errors) are the sums over exactly the runs its
/// distributions count.
///
/// **Figures that agree.** A run longer than the registry's
/// [`highest`](crate::RegistryBuilder::highest) trackable duration (1 h by
/// default) is counted as that duration, in the histograms and in every
/// sum over the runs alike: busy, wall, idle and self time (its nested
/// time and longest poll are kept within it too). So for busy and wall
/// time, `min ≤ mean ≤ max` and `total ≤ count × max` always hold, and
/// [`clamped`](Stats::clamped) says how many runs were cut. Only
/// [`poll_total`](Stats::poll_total), the time of every poll, counts them
/// whole: it is no sum of samples, and never goes down.
///
/// **One vocabulary.** [`busy`](Stats::busy) and [`wall`](Stats::wall) are
/// [`Distribution`]s with the same methods; the busy time, what this crate
/// is about, also has shorthands here ([`count`](Stats::count),
/// [`mean`](Stats::mean), [`quantile`](Stats::quantile), …).
/// [`idle`](Stats::idle) and [`self_time`](Stats::self_time) are [`Sum`]s.
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
/// assert_eq!(stats.quantile(0.5), stats.busy().quantile(0.5));
/// assert_eq!(stats.wall().total(), stats.total() + stats.idle().total());
/// println!("{}", stats.detail()); // every figure, one per line
/// ```
#[derive(Debug, Clone)]
pub struct Stats {
    name: Arc<str>,
    totals: Totals,
    busy: Distribution,
    wall: Distribution,
    scheduled: Distribution,
    /// The longest poll, in nanoseconds; `None` over a window in which it
    /// cannot be known (see [`Stats::longest_poll`]).
    longest_poll: Option<u64>,
    /// With a counting allocator installed (or read from a run that had
    /// one).
    allocations: Option<Allocations>,
    quantiles: Arc<[f64]>,
    /// The slowest runs kept, slowest first.
    slowest: Arc<[SlowRun]>,
}

/// A sum of durations over a timer's completed runs, with its mean: idle
/// time ([`Stats::idle`]) or self time ([`Stats::self_time`]).
///
/// ```
/// use std::time::Duration;
/// let timer = perf_timer::Registry::new().timer("a");
/// timer.record(Duration::from_micros(4));
/// timer.record(Duration::from_micros(6));
/// let own = timer.stats().self_time(); // nothing nested: all of it
/// assert_eq!((own.total(), own.mean()), (Duration::from_micros(10), Duration::from_micros(5)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sum {
    nanos: u64,
    runs: u64,
}

impl Sum {
    /// The sum, exact; saturates rather than wrapping.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(8));
    /// assert_eq!(timer.stats().idle().total(), std::time::Duration::ZERO);
    /// ```
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.nanos)
    }

    /// The sum per completed run, exact to the nanosecond (truncated); zero
    /// without runs.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert_eq!(timer.stats().idle().mean(), std::time::Duration::ZERO);
    /// ```
    pub fn mean(&self) -> Duration {
        Duration::from_nanos(self.nanos.checked_div(self.runs).unwrap_or(0))
    }

    /// Mean in nanoseconds, with its fraction.
    pub(crate) fn mean_nanos(&self) -> f64 {
        match self.runs {
            0 => 0.0,
            n => self.nanos as f64 / n as f64,
        }
    }
}

impl Stats {
    pub(crate) fn new(
        name: Arc<str>,
        reading: Reading,
        layout: Layout,
        quantiles: Arc<[f64]>,
    ) -> Self {
        // A timer that counted no allocations keeps no allocation
        // counters, whatever its reading held (a saved line edited by
        // hand can carry them without its bytes-per-run histogram): a
        // merge then adds only the counters of the parts that counted,
        // and their histograms count the same runs.
        let totals = match reading.allocations_counted {
            true => reading.totals,
            false => reading.totals.without_allocations(),
        };
        let allocations =
            (reading.allocations_counted).then(|| Allocations::new(&totals, reading.allocated));
        Stats {
            allocations,
            name,
            busy: Distribution::new(layout, reading.busy, totals.busy_nanos),
            wall: Distribution::new(layout, reading.wall, totals.wall_nanos()),
            scheduled: Distribution::new(layout, reading.scheduled, reading.scheduled_nanos),
            longest_poll: Some(totals.longest_poll),
            totals,
            quantiles,
            slowest: Arc::new([]),
        }
    }

    /// What happened between `earlier` (stats of the same timer) and these.
    pub(crate) fn since(&self, earlier: &Stats) -> Stats {
        let totals = self.totals.since(&earlier.totals);
        // A maximum has no difference. It is the window's own where it
        // grew in the window (the larger one was counted since), and zero
        // where nothing that could set it happened (a completed run or a
        // slow poll); otherwise the window's longest poll is some poll at
        // most the all-time one, which one is not known.
        let longest_poll = match (self.longest_poll, earlier.longest_poll) {
            _ if totals.count == 0 && totals.slow_polls == 0 => Some(0),
            (Some(now), Some(then)) if now > then => Some(now),
            _ => None,
        };
        let allocations =
            (self.allocations.as_ref()).map(|now| now.since(earlier.allocations.as_ref(), &totals));
        Stats {
            longest_poll,
            allocations,
            name: self.name.clone(),
            busy: self.busy.since(&earlier.busy, totals.busy_nanos),
            wall: self.wall.since(&earlier.wall, totals.wall_nanos()),
            scheduled: self.scheduled.since(
                &earlier.scheduled,
                saturating_nanos(self.scheduled.total())
                    .saturating_sub(saturating_nanos(earlier.scheduled.total())),
            ),
            totals,
            quantiles: self.quantiles.clone(),
            // The runs kept now that were not kept then.
            slowest: (self.slowest.iter())
                .filter(|run| !earlier.slowest.contains(run))
                .cloned()
                .collect(),
        }
    }

    /// These stats with `slowest` as their slowest runs, slowest first.
    pub(crate) fn with_slowest(mut self, slowest: Vec<SlowRun>) -> Self {
        self.slowest = slowest.into();
        self
    }

    /// Sets the slowest runs, slowest first.
    pub(crate) fn set_slowest(&mut self, slowest: Vec<SlowRun>) {
        self.slowest = slowest.into();
    }

    /// The slowest completed runs kept, slowest first by wall time, each
    /// with where its wall time went ([`SlowRun::parts`]): at most
    /// [`RegistryBuilder::slowest_runs`](crate::RegistryBuilder::slowest_runs)
    /// since the start. Over an [`Interval`](crate::Interval), the
    /// interval's slowest run. Cancelled and panicked runs are not kept
    /// (their parts still count in the [folded paths](crate::Snapshot::folded)).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::new();
    /// let timer = registry.timer("GET /users/{id}");
    /// for ms in [3, 9, 1] {
    ///     timer.time(tokio::time::sleep(Duration::from_millis(ms))).await;
    /// }
    /// let slowest = timer.stats().slowest().to_vec();
    /// assert_eq!(slowest.len(), 3);
    /// assert!(slowest[0].wall() >= Duration::from_millis(9));
    /// assert!(slowest.windows(2).all(|w| w[0].wall() >= w[1].wall()));
    /// # }
    /// ```
    pub fn slowest(&self) -> &[SlowRun] {
        &self.slowest
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

    /// Busy time of each completed run: the sum of its poll times.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("nap");
    /// timer.time(tokio::time::sleep(Duration::from_millis(20))).await;
    /// let stats = timer.stats();
    /// assert!(stats.busy().max() < Duration::from_millis(20)); // the sleep is not busy time
    /// # }
    /// ```
    pub fn busy(&self) -> &Distribution {
        &self.busy
    }

    /// Wall time of each completed run: first poll to `Ready`, waiting
    /// included. A sync section or a manual sample has no waiting: its wall
    /// time is its busy time.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("nap");
    /// timer.time(tokio::time::sleep(Duration::from_millis(20))).await;
    /// let stats = timer.stats();
    /// // The sleep's 20 ms began when it was made, a moment before the first
    /// // poll; histogram values are within 0.1 %.
    /// assert!(stats.wall().min() >= Duration::from_millis(19));
    /// assert!(stats.busy().mean() < Duration::from_millis(19));
    /// # }
    /// ```
    pub fn wall(&self) -> &Distribution {
        &self.wall
    }

    /// Idle time of the completed runs (wall − busy): waiting between polls,
    /// on I/O, timers, locks or the scheduler.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("nap");
    /// timer.time(tokio::time::sleep(Duration::from_millis(20))).await;
    /// assert!(timer.stats().idle().total() >= Duration::from_millis(19));
    /// # }
    /// ```
    pub fn idle(&self) -> Sum {
        self.sum(self.totals.idle_nanos)
    }

    /// Self time of the completed runs: busy time minus the busy time of
    /// timed futures nested inside this timer's polls. Equal to the busy
    /// time for a timer with nothing timed inside it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::new();
    /// let inner = registry.timer("inner");
    /// registry.timer("outer").time(async { inner.time(async {}).await }).await;
    /// let outer = registry.stats("outer").unwrap();
    /// assert!(outer.self_time().total() <= outer.total());
    /// # }
    /// ```
    pub fn self_time(&self) -> Sum {
        self.sum(self.totals.self_nanos())
    }

    fn sum(&self, nanos: u64) -> Sum {
        Sum {
            nanos,
            runs: self.totals.count,
        }
    }

    /// Completed runs (samples); [`busy().count()`](Distribution::count).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(1));
    /// assert_eq!(timer.stats().count(), 1);
    /// ```
    pub fn count(&self) -> u64 {
        self.busy.count()
    }

    /// Mean busy time of a run, exact; [`busy().mean()`](Distribution::mean).
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_micros(1));
    /// timer.record(Duration::from_micros(3));
    /// assert_eq!(timer.stats().mean(), Duration::from_micros(2));
    /// ```
    pub fn mean(&self) -> Duration {
        self.busy.mean()
    }

    /// Standard deviation of the busy times; [`busy().stdev()`](Distribution::stdev).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_micros(5));
    /// assert_eq!(timer.stats().stdev(), std::time::Duration::ZERO);
    /// ```
    pub fn stdev(&self) -> Duration {
        self.busy.stdev()
    }

    /// Shortest busy time; [`busy().min()`](Distribution::min).
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_micros(3));
    /// timer.record(Duration::from_micros(9));
    /// assert_eq!(timer.stats().min(), Duration::from_micros(3));
    /// ```
    pub fn min(&self) -> Duration {
        self.busy.min()
    }

    /// Longest busy time; [`busy().max()`](Distribution::max).
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_micros(3));
    /// timer.record(Duration::from_micros(9));
    /// assert_eq!(timer.stats().max().as_micros(), 9); // 9.007 µs: the top of its bucket
    /// ```
    pub fn max(&self) -> Duration {
        self.busy.max()
    }

    /// The busy time at or below which a fraction `q` of runs fall;
    /// [`busy().quantile(q)`](Distribution::quantile).
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// for ms in 1..=10 {
    ///     timer.record(Duration::from_millis(ms));
    /// }
    /// assert_eq!(timer.stats().quantile(0.9).as_millis(), 9);
    /// ```
    pub fn quantile(&self, q: f64) -> Duration {
        self.busy.quantile(q)
    }

    /// Sum of the busy times, exact; [`busy().total()`](Distribution::total).
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(Duration::from_nanos(1_001));
    /// timer.record(Duration::from_nanos(2_002));
    /// assert_eq!(timer.stats().total(), Duration::from_nanos(3_003));
    /// ```
    pub fn total(&self) -> Duration {
        self.busy.total()
    }

    /// The busy times as an HdrHistogram of nanoseconds;
    /// [`busy().histogram()`](Distribution::histogram).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.record(std::time::Duration::from_nanos(42));
    /// assert_eq!(timer.stats().histogram().len(), 1);
    /// ```
    pub fn histogram(&self) -> &Histogram<u64> {
        self.busy.histogram()
    }

    /// Polls of completed runs (a sync section or manual sample counts one).
    ///
    /// ##### Interpretation
    /// Each poll is a wake, a trip through the scheduler and a return to
    /// the future. More polls for the same work means the run waits more
    /// often (smaller reads, more lock contention, chattier I/O): see
    /// [`polls_per_run`](Stats::polls_per_run).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let timer = perf_timer::Registry::new().timer("a");
    /// timer.time(async { tokio::task::yield_now().await }).await; // two polls
    /// assert_eq!(timer.stats().polls(), 2);
    /// # }
    /// ```
    pub fn polls(&self) -> u64 {
        self.totals.polls
    }

    /// Mean polls per completed run.
    ///
    /// ##### Interpretation
    /// 1 means the run finished in the poll that started it (it never
    /// waited); a rise at the same busy time means it now waits more
    /// often, and its wall time (`wall().mean()`) usually rises with it.
    /// A run that yields in a loop (`yield_now`) adds a poll per turn.
    ///
    /// ##### See also
    /// [`polls`](Stats::polls), [`scheduled`](Stats::scheduled) (how long
    /// each wait for a worker took).
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
        match self.totals.count {
            0 => 0.0,
            n => self.totals.polls as f64 / n as f64,
        }
    }

    /// The longest single poll (or sync section) of any completed run,
    /// and of any slow poll of a run not completed; zero before any.
    /// Always known for a timer's stats since its start.
    ///
    /// Over an interval ([`Snapshot::since`](crate::Snapshot::since),
    /// [`Registry::intervals`](crate::Registry::intervals)) it is the
    /// interval's own: zero when no run completed and no poll was slow in
    /// it, exact when it holds a poll longer than any before it, and
    /// `None` otherwise: a maximum cannot be taken apart, so the interval's
    /// longest poll is then only known to be at most the all-time one.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let registry = perf_timer::Registry::new();
    /// let timer = registry.timer("a");
    /// timer.record(Duration::from_micros(4));
    /// assert_eq!(timer.stats().longest_poll(), Some(Duration::from_micros(4)));
    ///
    /// let before = registry.snapshot();
    /// let quiet = registry.snapshot().since(&before);
    /// assert_eq!(quiet.get("a").unwrap().longest_poll(), Some(Duration::ZERO));
    /// timer.record(Duration::from_micros(9));
    /// let longer = registry.snapshot().since(&before);
    /// assert_eq!(longer.get("a").unwrap().longest_poll(), Some(Duration::from_micros(9)));
    /// let before = registry.snapshot();
    /// timer.record(Duration::from_micros(1));
    /// let shorter = registry.snapshot().since(&before);
    /// assert_eq!(shorter.get("a").unwrap().longest_poll(), None); // 1 µs, but not known
    /// ```
    pub fn longest_poll(&self) -> Option<Duration> {
        self.longest_poll.map(Duration::from_nanos)
    }

    /// Polls longer than the registry's slow-poll threshold (50 µs by
    /// default), whether their run completed or not.
    ///
    /// ##### Interpretation
    /// A poll holds its worker thread: while it runs, no other task on
    /// that worker moves. tokio's guidance is 10–100 µs between `.await`s;
    /// a rise here means some run computes too long without yielding, and
    /// every task behind it on the worker waits (their
    /// [`scheduled`](Stats::scheduled) delay rises). Move the long part to
    /// `spawn_blocking`, or split it with `yield_now`.
    ///
    /// ##### See also
    /// [`longest_poll`](Stats::longest_poll) (how long the worst was),
    /// [`blocked_polls`](Stats::blocked_polls) (polls that waited inside
    /// `poll` rather than computing),
    /// [`RegistryBuilder::slow_poll_threshold`](crate::RegistryBuilder::slow_poll_threshold) (the
    /// threshold).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert_eq!(timer.stats().slow_polls(), 0);
    /// ```
    pub fn slow_polls(&self) -> u64 {
        self.totals.slow_polls
    }

    /// Sampled polls found blocked inside `poll` (see
    /// [`RegistryBuilder::blocking_detection`](crate::RegistryBuilder::blocking_detection)).
    ///
    /// ##### Interpretation
    /// A blocked poll spent most of its time off the CPU while holding its
    /// worker: a synchronous `std::fs` call, a `std::sync::Mutex` held
    /// elsewhere, `thread::sleep`, a blocking DNS lookup. Unlike a slow
    /// poll that computes, it wastes the worker without doing work; any
    /// count above 0 is worth finding. Use the async equivalent, or
    /// `spawn_blocking`.
    ///
    /// ##### See also
    /// [`cpu_share`](Stats::cpu_share) (the share of sampled poll time
    /// that was on the CPU), [`slow_polls`](Stats::slow_polls).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("a");
    /// assert_eq!(timer.stats().blocked_polls(), 0);
    /// ```
    pub fn blocked_polls(&self) -> u64 {
        self.totals.blocked_polls
    }

    /// Runs dropped after their first poll and before `Ready`.
    ///
    /// ##### Interpretation
    /// A timeout fired, a `select!` took another branch, a client went
    /// away, or the runtime shut down with the task in flight. Their busy
    /// time is in [`abandoned_busy`](Stats::abandoned_busy), never in the
    /// samples, so a rise here can hide work: busy quantiles describe only
    /// the runs that finished. Expected where runs race (a `select!` of
    /// two sources cancels one each time); a rise otherwise usually means
    /// what the runs wait on got slower (compare `wall()`).
    ///
    /// ##### See also
    /// [`poll_total`](Stats::poll_total) (every poll, cancelled runs
    /// included), [`in_flight`](Stats::in_flight).
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
        self.totals.cancelled
    }

    /// Runs ended by a panic inside a poll (or inside a timed sync section).
    ///
    /// ##### Interpretation
    /// Each is a bug or an unhandled case that unwound through the timed
    /// code: any rise is worth its backtrace. Their busy time is in
    /// [`abandoned_busy`](Stats::abandoned_busy).
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
        self.totals.panicked
    }

    /// Completed runs whose output was an error (see
    /// [`TimedExt::timed_result`](crate::TimedExt::timed_result)); they are
    /// also samples, counted in [`count`](Stats::count).
    ///
    /// ##### Interpretation
    /// An error run is a sample: a fast failure (a refused connection, a
    /// cache miss answered early) pulls the busy quantiles down, so a
    /// latency that improves as errors rise is no improvement. Read them
    /// together: `errors() as f64 / count() as f64` is the error rate.
    /// `#[timed]` on a function returning `Result` counts `Err` here;
    /// `.timed_result()` does for a future.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use perf_timer::ErrOutput;
    /// let timer = perf_timer::Registry::new().timer("connect");
    /// let _ = timer.time(async { Err::<(), _>("refused") }).classify::<ErrOutput>().await;
    /// let stats = timer.stats();
    /// assert_eq!((stats.count(), stats.errors()), (1, 1));
    /// # }
    /// ```
    pub fn errors(&self) -> u64 {
        self.totals.errors
    }

    /// Runs longer than the registry's highest trackable duration (busy or
    /// wall time), recorded as that duration: in the histograms and in the
    /// sums ([`total`](Stats::total), [`mean`](Stats::mean), idle and self
    /// time) alike, so that the mean never exceeds the maximum. Their whole
    /// time still counts in [`poll_total`](Stats::poll_total).
    ///
    /// ```
    /// use std::time::Duration;
    /// let registry = perf_timer::Registry::builder().highest(Duration::from_secs(1)).build().unwrap();
    /// registry.timer("a").record(Duration::from_secs(5));
    /// let stats = registry.stats("a").unwrap();
    /// assert_eq!((stats.clamped(), stats.total()), (1, Duration::from_secs(1)));
    /// assert!(stats.mean() <= stats.max());
    /// assert_eq!(stats.poll_total(), Duration::from_secs(5));
    /// ```
    pub fn clamped(&self) -> u64 {
        self.totals.clamped
    }

    /// Scheduling delays of the runs sampled by
    /// [`scheduling_delay`](crate::RegistryBuilder::scheduling_delay): for
    /// each wake of a sampled run, the time until its next poll began (the
    /// time it waited for a worker thread). Empty when that is off. Kept
    /// apart from the stripes, so not part of a consistent read.
    ///
    /// ##### Interpretation
    /// Time a run was ready and waited for a worker: the runtime's queue,
    /// not this code. A rise means the workers are busy (CPU saturation,
    /// too few workers) or some other task holds one with long polls (see
    /// [`slow_polls`](Stats::slow_polls) on the other timers). It adds to
    /// [`wall`](Stats::wall) time, never to busy time.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::builder().scheduling_delay(1).build().unwrap();
    /// let timer = registry.timer("yields");
    /// timer.time(async {
    ///     tokio::task::yield_now().await;
    ///     tokio::task::yield_now().await;
    /// }).await;
    /// let scheduled = timer.stats().scheduled().clone();
    /// assert_eq!(scheduled.count(), 2);
    /// assert!(scheduled.max() < std::time::Duration::from_secs(1));
    /// # }
    /// ```
    pub fn scheduled(&self) -> &Distribution {
        &self.scheduled
    }

    /// The time of every poll of every run of this timer: completed,
    /// cancelled, panicked, or still in flight (the peer of tokio-metrics'
    /// `total_poll_duration`). A run in flight hands over its busy time
    /// every 10 ms of wall time, at the end of a poll: while it is being
    /// polled this lags the truth by less than 10 ms, and a run that stops
    /// being polled holds back at most the busy time of its polls in the
    /// last 10 ms before it stopped, until it is polled again or ends.
    /// Counted at the end of each poll, so a poll under way is not in it.
    /// Unlike the samples, the part flushed by runs in flight is not read
    /// atomically with them: a read that overlaps a run's flush on one thread
    /// and its end on another can come out short by that flush, for that
    /// read only.
    ///
    /// [`total`](Stats::total) is the busy time of completed runs only,
    /// each counted at most at the highest trackable duration; `poll_total`
    /// is at least that, and counts a run past that range whole.
    ///
    /// ##### Interpretation
    /// The CPU this timer's code took, whatever became of its runs: the
    /// figure to divide by elapsed time for a share of a core, and the one
    /// to compare with `total` when runs are cancelled or never end (a
    /// connection task, a worker loop): `poll_total - total` is the busy
    /// time of runs that have no sample (yet).
    ///
    /// ##### See also
    /// [`abandoned_busy`](Stats::abandoned_busy),
    /// [`in_flight`](Stats::in_flight).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use perf_timer::{Clock, Registry};
    ///
    /// let (clock, mock) = Clock::mock();
    /// let registry = Registry::builder().clock(clock).build().unwrap();
    /// let timer = registry.timer("job");
    /// let job = timer.time(std::future::poll_fn(|cx| {
    ///     mock.advance(Duration::from_millis(20)); // 20 ms in this poll
    ///     cx.waker().wake_by_ref();
    ///     std::task::Poll::<()>::Pending
    /// }));
    /// let _ = tokio::time::timeout(Duration::from_millis(1), job).await;
    /// let stats = timer.stats();
    /// assert_eq!((stats.count(), stats.cancelled()), (0, 1));
    /// assert!(stats.poll_total() >= Duration::from_millis(20));
    /// # }
    /// ```
    pub fn poll_total(&self) -> Duration {
        Duration::from_nanos(self.totals.poll_nanos())
    }

    /// Runs started (polled at least once) and not yet ended, as of their
    /// last flush: a run counts from its first flush, 10 ms of wall time
    /// after its first poll, so short runs never show here.
    ///
    /// ##### Interpretation
    /// A gauge of long-lived runs: connections, streams, workers. Steady
    /// for a service at a steady load; one that only grows means runs are
    /// started and never finish nor dropped (a leak of tasks, a missing
    /// timeout).
    ///
    /// ```
    /// use std::future::Future as _;
    /// use std::time::Duration;
    /// use std::task::{Context, Poll, Waker};
    /// use perf_timer::{Clock, Registry};
    ///
    /// let (clock, mock) = Clock::mock();
    /// let registry = Registry::builder().clock(clock).build().unwrap();
    /// let timer = registry.timer("worker");
    /// let mut worker = Box::pin(timer.time(std::future::poll_fn(|_| {
    ///     mock.advance(Duration::from_millis(15));
    ///     Poll::<()>::Pending
    /// })));
    /// let _ = worker.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    /// assert_eq!(timer.stats().in_flight(), 1);
    /// drop(worker);
    /// assert_eq!(timer.stats().in_flight(), 0);
    /// ```
    pub fn in_flight(&self) -> u64 {
        // A gauge summed over stripes, wrapping: a run can flush on one
        // stripe after a read has passed it and end on another before the
        // read gets there, so for a moment the sum can be below zero.
        let n = self.totals.in_flight;
        if n > u64::MAX / 2 {
            0
        } else {
            n
        }
    }

    /// Busy time of runs that ended without a sample: cancelled, panicked,
    /// or no longer timed once the registry was switched off. It is in
    /// [`poll_total`](Stats::poll_total), never in the samples.
    ///
    /// ##### Interpretation
    /// Work done for nothing: the CPU spent on runs whose result nobody
    /// used. A large share of `poll_total` says timeouts fire after most
    /// of the work is done (raise them, or cancel earlier).
    ///
    /// ```
    /// use std::time::Duration;
    /// use perf_timer::{Clock, Registry};
    ///
    /// let (clock, mock) = Clock::mock();
    /// let registry = Registry::builder().clock(clock).build().unwrap();
    /// let timer = registry.timer("parse");
    /// let _ = std::panic::catch_unwind(|| {
    ///     let _guard = timer.start();
    ///     mock.advance(Duration::from_micros(30));
    ///     panic!("bad input");
    /// });
    /// let stats = timer.stats();
    /// assert_eq!(stats.abandoned_busy(), Duration::from_micros(30));
    /// assert_eq!(stats.poll_total(), Duration::from_micros(30));
    /// ```
    pub fn abandoned_busy(&self) -> Duration {
        Duration::from_nanos(self.totals.abandoned_nanos)
    }

    /// How much of the sampled polls' time was on the CPU, from 0 to 1:
    /// their CPU time over their wall time. `None` until a poll has been
    /// sampled, which happens only with
    /// [`blocking_detection`](crate::RegistryBuilder::blocking_detection)
    /// on (Unix). With the default clock, busy time counts time the OS gave
    /// the thread's CPU to someone else and time blocked inside `poll`; a
    /// share well below 1 says how much of busy time that was.
    ///
    /// ##### Interpretation
    /// Near 1: busy time is computation, and the busy quantiles are CPU.
    /// Well below 1: part of busy time was spent waiting inside `poll`
    /// (blocking calls: see [`blocked_polls`](Stats::blocked_polls)) or
    /// descheduled by the OS (an oversubscribed machine, a CPU quota): the
    /// run's code is not the only suspect.
    ///
    /// ```
    /// let registry = perf_timer::Registry::builder()
    ///     .blocking_detection(1) // sample every poll
    ///     .build()
    ///     .unwrap();
    /// let timer = registry.timer("hash");
    /// assert_eq!(timer.stats().cpu_share(), None);
    /// # #[cfg(unix)] {
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// timer.time(async { (0..100_000u64).fold(0, |a, b| a ^ b.wrapping_mul(31)) }).await;
    /// let share = timer.stats().cpu_share().unwrap();
    /// assert!((0.0..=1.0).contains(&share));
    /// # });
    /// # }
    /// ```
    pub fn cpu_share(&self) -> Option<f64> {
        let t = &self.totals;
        if t.sampled_polls == 0 || t.sampled_wall_nanos == 0 {
            return None;
        }
        Some((t.sampled_cpu_nanos as f64 / t.sampled_wall_nanos as f64).min(1.0))
    }

    /// Every figure of this timer, one per line: busy, self, wall and idle
    /// time, polls, outcomes.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("parse");
    /// timer.record(std::time::Duration::from_micros(5));
    /// let text = timer.stats().detail().to_string();
    /// assert!(text.starts_with("timer \"parse\"\n"));
    /// assert!(text.contains("  busy   5.00 µs in 1 run"));
    /// ```
    pub fn detail(&self) -> Detail<'_> {
        Detail::new(self)
    }

    /// The quantiles this timer's registry reports.
    /// Bytes the timer's runs handled, as added by
    /// [`add_bytes`](crate::add_bytes), [`TimerGuard::add_bytes`](crate::TimerGuard::add_bytes)
    /// and [`Timer::record_with_bytes`](crate::Timer::record_with_bytes)
    /// (counted when added, whether the run then completes or not).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("read");
    /// timer.record_with_bytes(std::time::Duration::from_micros(5), 300);
    /// assert_eq!(timer.stats().bytes(), 300);
    /// ```
    pub fn bytes(&self) -> u64 {
        self.totals.bytes
    }

    /// Bytes per completed run; `None` without bytes or runs.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let timer = perf_timer::Registry::new().timer("read");
    /// timer.record_with_bytes(Duration::from_micros(5), 300);
    /// timer.record_with_bytes(Duration::from_micros(5), 100);
    /// assert_eq!(timer.stats().bytes_per_run(), Some(200.0));
    /// ```
    pub fn bytes_per_run(&self) -> Option<f64> {
        (self.totals.bytes > 0 && self.totals.count > 0)
            .then(|| self.totals.bytes as f64 / self.totals.count as f64)
    }

    /// Throughput: bytes per second of busy time (all of it:
    /// [`poll_total`](Stats::poll_total)); `None` without bytes or busy time.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let timer = perf_timer::Registry::new().timer("read");
    /// timer.record_with_bytes(Duration::from_millis(10), 1_000_000);
    /// assert_eq!(timer.stats().bytes_per_busy_second(), Some(100_000_000.0));
    /// ```
    pub fn bytes_per_busy_second(&self) -> Option<f64> {
        let busy = self.poll_total().as_secs_f64();
        (self.totals.bytes > 0 && busy > 0.0).then(|| self.totals.bytes as f64 / busy)
    }

    /// What the completed runs allocated: `None` unless a
    /// [`CountingAllocator`](crate::CountingAllocator) is installed (or,
    /// read back from a saved run, was installed in its process). A copy
    /// (of a few numbers and the bytes' buckets), so that it outlives the
    /// `Stats` it came from.
    ///
    /// ##### Interpretation
    /// Allocations are often why a run is slow, and unlike busy time
    /// they hardly move with the machine's load: a rise in
    /// [`count_per_run`](Allocations::count_per_run) is a change in the
    /// code or its input.
    ///
    /// ```
    /// #[global_allocator]
    /// static ALLOC: perf_timer::CountingAllocator<std::alloc::System> =
    ///     perf_timer::CountingAllocator::new(std::alloc::System);
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::new();
    /// let timer = registry.timer("render");
    /// timer
    ///     .time(async {
    ///         let page = std::hint::black_box(String::with_capacity(4_096));
    ///         drop(std::hint::black_box(vec![page]));
    ///     })
    ///     .await;
    /// let allocations = registry.stats("render").unwrap().allocations().unwrap();
    /// assert_eq!(allocations.count(), 2);
    /// assert_eq!(allocations.bytes(), 4_096 + 24); // the string, and a Vec of one String
    /// # }
    /// ```
    pub fn allocations(&self) -> Option<Allocations> {
        self.allocations.clone()
    }

    /// [`allocations`](Stats::allocations) without a copy.
    pub(crate) fn allocations_ref(&self) -> Option<&Allocations> {
        self.allocations.as_ref()
    }

    /// Every counter, as recorded.
    pub(crate) fn totals(&self) -> &Totals {
        &self.totals
    }

    /// From parts read back (a saved run, a merge): `reading` with the
    /// bucket counts in `layout`.
    pub(crate) fn from_reading(
        name: &str,
        reading: Reading,
        layout: Layout,
        quantiles: Arc<[f64]>,
    ) -> Self {
        Stats::new(name.into(), reading, layout, quantiles)
    }

    pub(crate) fn report_quantiles(&self) -> &[f64] {
        &self.quantiles
    }

    /// Every poll's time less that of timed futures nested inside completed
    /// runs (for unfinished runs it is not known): what this timer's own
    /// code ran, for the process line.
    pub(crate) fn self_poll_total(&self) -> Duration {
        let t = &self.totals;
        Duration::from_nanos(t.poll_nanos().saturating_sub(t.nested_nanos))
    }

    /// Whether timed futures ran nested inside this timer's polls.
    pub(crate) fn has_nested(&self) -> bool {
        self.totals.nested_nanos > 0
    }

    /// Whether nothing happened: no run, cancellation, panic or slow poll.
    pub(crate) fn is_idle(&self) -> bool {
        let t = &self.totals;
        t.count == 0
            && t.cancelled == 0
            && t.panicked == 0
            && t.slow_polls == 0
            && self.in_flight() == 0
            && t.poll_nanos() == 0
    }
}
