//! `RegistryBuilder`: validated registry settings.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{saturating_nanos, Clock};
use crate::defaults;
use crate::error::{ConfigError, GlobalError};
use crate::record::{default_stripes, Layout, MAX_STRIPES};
use crate::registry::Registry;
use crate::state::settings::{Settings, Switches};
use crate::state::slow::WarnLimiter;

/// Settings for a [`Registry`]; [`build`](RegistryBuilder::build) checks
/// them and says what is wrong.
///
/// ```
/// use std::time::Duration;
/// use perf_timer::{Clock, ConfigError, Registry};
///
/// let registry = Registry::builder()
///     .clock(Clock::std())
///     .lowest(Duration::from_nanos(1))
///     .highest(Duration::from_secs(10))
///     .significant_figures(3)
///     .quantiles([0.5, 0.9, 0.99, 0.999])
///     .build()?;
///
/// let bad = Registry::builder().significant_figures(6).build();
/// assert_eq!(bad.unwrap_err(), ConfigError::SignificantFigures(6));
/// # drop(registry);
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RegistryBuilder {
    clock: Option<Clock>,
    lowest: Duration,
    highest: Duration,
    significant_figures: u8,
    quantiles: Vec<f64>,
    enabled: bool,
    stripes: Option<usize>,
    max_timers: usize,
    slow_poll_threshold: Duration,
    slow_poll_warnings_per_second: u32,
    blocking_every: u32,
    scheduling_every: u32,
    slowest_runs: usize,
    trace_ids: Option<crate::state::slowest::TraceIds>,
    #[cfg(feature = "metrics")]
    metrics_prefix: Option<&'static str>,
    #[cfg(feature = "opentelemetry")]
    opentelemetry: Option<opentelemetry::metrics::Meter>,
}

impl Default for RegistryBuilder {
    fn default() -> Self {
        RegistryBuilder {
            clock: None,
            lowest: defaults::LOWEST,
            highest: defaults::HIGHEST,
            significant_figures: defaults::SIGNIFICANT_FIGURES,
            quantiles: defaults::QUANTILES.to_vec(),
            enabled: true,
            stripes: None,
            max_timers: 1000,
            slow_poll_threshold: Duration::from_micros(50),
            slow_poll_warnings_per_second: 10,
            blocking_every: 0,
            scheduling_every: 0,
            slowest_runs: defaults::SLOWEST_RUNS,
            trace_ids: None,
            #[cfg(feature = "metrics")]
            metrics_prefix: None,
            #[cfg(feature = "opentelemetry")]
            opentelemetry: None,
        }
    }
}

impl RegistryBuilder {
    /// The clock to read on every poll (default [`Clock::tsc`]).
    ///
    /// ```
    /// let (clock, _mock) = perf_timer::Clock::mock();
    /// let registry = perf_timer::Registry::builder().clock(clock).build().unwrap();
    /// # drop(registry);
    /// ```
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The smallest duration told apart from zero (default 1 ns; at least 1 ns).
    ///
    /// ```
    /// use std::time::Duration;
    /// use perf_timer::{ConfigError, Registry};
    ///
    /// // Durations under the lowest are told apart no finer than it: 100 ns
    /// // and 400 ns fall in the same first bucket.
    /// let registry = Registry::builder().lowest(Duration::from_micros(1)).build()?;
    /// let timer = registry.timer("coarse");
    /// timer.record(Duration::from_nanos(100));
    /// timer.record(Duration::from_nanos(400));
    /// let stats = timer.stats();
    /// assert_eq!(stats.quantile(0.5), stats.quantile(1.0));
    /// assert!(stats.max() < Duration::from_micros(1));
    /// assert_eq!(stats.total(), Duration::from_nanos(500)); // exact
    ///
    /// let zero = Registry::builder().lowest(Duration::ZERO).build();
    /// assert_eq!(zero.unwrap_err(), ConfigError::LowestIsZero);
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn lowest(mut self, lowest: Duration) -> Self {
        self.lowest = lowest;
        self
    }

    /// The largest duration recorded as is (default 1 h); longer runs are
    /// recorded as this, in the histograms and the sums over the runs alike
    /// (so that no mean exceeds its max), and counted as
    /// [clamped](crate::Stats::clamped); the poll total keeps their whole time.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let registry = perf_timer::Registry::builder()
    ///     .highest(Duration::from_secs(60))
    ///     .build()?;
    /// let timer = registry.timer("batch");
    /// timer.record(Duration::from_secs(90));
    /// let stats = timer.stats();
    /// assert_eq!(stats.clamped(), 1);
    /// assert!(stats.max() < Duration::from_secs(61)); // recorded as the highest
    /// assert_eq!(stats.total(), Duration::from_secs(60)); // and summed as that
    /// assert_eq!(stats.poll_total(), Duration::from_secs(90)); // every poll, whole
    /// # Ok::<(), perf_timer::ConfigError>(())
    /// ```
    pub fn highest(mut self, highest: Duration) -> Self {
        self.highest = highest;
        self
    }

    /// Significant decimal figures kept for every value, 0 to 5 (default 3).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let registry = perf_timer::Registry::builder().significant_figures(2).build()?;
    /// let timer = registry.timer("rough");
    /// timer.record(Duration::from_nanos(12_345));
    /// // Two figures: the value reads back within 1 % (its bucket's top).
    /// let max = timer.stats().max().as_nanos();
    /// assert!((12_345..=12_345 * 101 / 100).contains(&max), "{max}");
    ///
    /// let six = perf_timer::Registry::builder().significant_figures(6).build();
    /// assert_eq!(six.unwrap_err(), perf_timer::ConfigError::SignificantFigures(6));
    /// # Ok::<(), perf_timer::ConfigError>(())
    /// ```
    pub fn significant_figures(mut self, figures: u8) -> Self {
        self.significant_figures = figures;
        self
    }

    /// Quantiles the report prints, in this order, each in `[0, 1]` and
    /// each once (default 0.5, 0.9, 0.99). Labels print with as many digits
    /// as the quantile has: `99.9%`, `99.999%`.
    ///
    /// ```
    /// use perf_timer::{ConfigError, Registry};
    /// use std::time::Duration;
    ///
    /// let registry = Registry::builder().quantiles([0.5, 0.99999]).build()?;
    /// registry.timer("a").record(Duration::from_micros(1));
    /// registry.timer("a").record(Duration::from_micros(3));
    /// assert!(registry.report().to_string().contains(", 50% ≤ 1.00 µs, 99.999% ≤ 3.00 µs,"));
    ///
    /// let twice = Registry::builder().quantiles([0.5, 0.9, 0.5]).build();
    /// assert_eq!(twice.unwrap_err(), ConfigError::DuplicateQuantile(0.5));
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn quantiles(mut self, quantiles: impl IntoIterator<Item = f64>) -> Self {
        self.quantiles = quantiles.into_iter().collect();
        self
    }

    /// Whether timing starts switched on (default `true`); see
    /// [`Registry::set_enabled`].
    ///
    /// ```
    /// let r = perf_timer::Registry::builder().enabled(false).build().unwrap();
    /// assert!(!r.is_enabled());
    /// ```
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Stripes per timer, 1 to 64, rounded up to a power of two (default:
    /// twice the cores, at most 16). Threads recording into one timer at
    /// the same instant use different stripes, so they do not share cache
    /// lines. A stripe is allocated on first use and keeps its own counters
    /// within the timer's memory budget (all stripes together at most 88
    /// KiB, past which a stripe moves its counts to the timer's shared
    /// store), so more stripes cost little memory.
    ///
    /// ```
    /// use perf_timer::{ConfigError, Registry};
    ///
    /// let registry = Registry::builder().stripes(1).build()?;
    /// registry.timer("one stripe").record(std::time::Duration::from_micros(1));
    /// assert_eq!(registry.stats("one stripe").unwrap().count(), 1);
    /// assert_eq!(Registry::builder().stripes(0).build().unwrap_err(), ConfigError::Stripes(0));
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn stripes(mut self, stripes: usize) -> Self {
        self.stripes = Some(stripes);
        self
    }

    /// How many of each timer's slowest completed runs to keep, by wall
    /// time, with their parts and trace id ([`Stats::slowest`](crate::Stats::slowest));
    /// default 5, 0 keeps none. A run that does not enter them costs one
    /// relaxed load and a compare; one that does, a lock and its parts
    /// copied. Each timer also keeps the slowest run of the current
    /// interval, for [`Intervals`](crate::Intervals).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::builder().slowest_runs(2).build().unwrap();
    /// let timer = registry.timer("job");
    /// for _ in 0..5 {
    ///     timer.time(async {}).await;
    /// }
    /// assert_eq!(timer.stats().slowest().len(), 2);
    /// let off = perf_timer::Registry::builder().slowest_runs(0).build().unwrap();
    /// off.timer("job").time(async {}).await;
    /// assert!(off.stats("job").unwrap().slowest().is_empty());
    /// let err = perf_timer::Registry::builder().slowest_runs(5_000).build();
    /// assert_eq!(err.unwrap_err(), perf_timer::ConfigError::SlowestRuns(5_000));
    /// # }
    /// ```
    pub fn slowest_runs(mut self, n: usize) -> Self {
        self.slowest_runs = n;
        self
    }

    /// Where the trace id of a kept run comes from: `source` is called
    /// only for a run that enters the [slowest](RegistryBuilder::slowest_runs),
    /// from inside the run's last poll, so that a `tracing` span or an
    /// OpenTelemetry context entered around the poll is current. With the
    /// feature `opentelemetry`, `perf_timer::opentelemetry_trace_id`
    /// reads the current OpenTelemetry context's span.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// thread_local!(static REQUEST: std::cell::Cell<u64> = const { std::cell::Cell::new(0) });
    /// let registry = perf_timer::Registry::builder()
    ///     .trace_ids(|| Some(format!("{:032x}", REQUEST.get())))
    ///     .build()
    ///     .unwrap();
    /// REQUEST.set(7);
    /// registry.timer("request").time(async {}).await;
    /// let stats = registry.stats("request").unwrap();
    /// let run = &stats.slowest()[0];
    /// assert_eq!(run.trace_id(), Some("00000000000000000000000000000007"));
    /// # }
    /// ```
    pub fn trace_ids(
        mut self,
        source: impl Fn() -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.trace_ids = Some(crate::state::slowest::TraceIds(Arc::new(source)));
        self
    }

    /// Most distinct timer names (default 1,000). Past it, new names record
    /// into one [`OVERFLOW_TIMER`](crate::OVERFLOW_TIMER), so that names
    /// taken from user input cannot grow memory without bound.
    ///
    /// ```
    /// let registry = perf_timer::Registry::builder().max_timers(2).build().unwrap();
    /// for path in ["/a", "/b", "/c", "/d"] {
    ///     registry.timer(path).record(std::time::Duration::from_micros(1));
    /// }
    /// assert_eq!(registry.stats(perf_timer::OVERFLOW_TIMER).unwrap().count(), 2);
    /// ```
    pub fn max_timers(mut self, max_timers: usize) -> Self {
        self.max_timers = max_timers;
        self
    }

    /// Polls longer than this are slow (default 50 µs, as tokio-metrics):
    /// counted per timer ([`Stats::slow_polls`](crate::Stats::slow_polls))
    /// and logged with a `tracing` warning naming the timer, the poll's
    /// duration and the threshold. `Duration::MAX` turns it off.
    ///
    /// ```
    /// use std::future::Future;
    /// use std::time::Duration;
    ///
    /// let registry = perf_timer::Registry::builder()
    ///     .slow_poll_threshold(Duration::from_millis(1))
    ///     .build()?;
    /// let timer = registry.timer("busy");
    /// let slow = timer.time(async { std::thread::sleep(Duration::from_millis(2)) });
    /// let _ = std::pin::pin!(slow).poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    /// assert_eq!(timer.stats().slow_polls(), 1);
    /// # Ok::<(), perf_timer::ConfigError>(())
    /// ```
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Self {
        self.slow_poll_threshold = threshold;
        self
    }

    /// Most slow-poll warnings logged per second (default 10); the rest are
    /// counted, and the next warning that goes out says how many were held
    /// back. 0 logs none (slow polls are still counted).
    ///
    /// ```
    /// use std::future::Future;
    /// use std::time::Duration;
    ///
    /// // Count slow polls without logging them.
    /// let registry = perf_timer::Registry::builder()
    ///     .slow_poll_threshold(Duration::from_micros(100))
    ///     .slow_poll_warnings_per_second(0)
    ///     .build()?;
    /// let timer = registry.timer("quiet");
    /// for _ in 0..3 {
    ///     let slow = timer.time(async { std::thread::sleep(Duration::from_micros(300)) });
    ///     let _ = std::pin::pin!(slow).poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    /// }
    /// assert_eq!(timer.stats().slow_polls(), 3);
    /// # Ok::<(), perf_timer::ConfigError>(())
    /// ```
    pub fn slow_poll_warnings_per_second(mut self, warnings: u32) -> Self {
        self.slow_poll_warnings_per_second = warnings;
        self
    }

    /// Samples one poll in `every` (per thread) for blocking: a sampled poll
    /// also reads the thread's CPU time (a system call, ~420 ns here, twice),
    /// and one that spent most of its time, and at least the slow-poll
    /// threshold, off the CPU was blocked inside `poll` (a
    /// `std::thread::sleep`, a contended sync mutex, sync I/O): counted in
    /// [`Stats::blocked_polls`](crate::Stats::blocked_polls). 0 turns it off
    /// (the default); 1 samples every poll. Unix only; elsewhere a no-op.
    ///
    /// ```
    /// use std::future::Future;
    /// use std::time::Duration;
    ///
    /// let registry = perf_timer::Registry::builder()
    ///     .slow_poll_threshold(Duration::from_millis(1))
    ///     .blocking_detection(1) // every poll, for the example
    ///     .build()?;
    /// let timer = registry.timer("sleeps in poll");
    /// let blocking = timer.time(async { std::thread::sleep(Duration::from_millis(5)) });
    /// let _ = std::pin::pin!(blocking).poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    /// # #[cfg(unix)]
    /// assert_eq!(timer.stats().blocked_polls(), 1);
    /// # Ok::<(), perf_timer::ConfigError>(())
    /// ```
    pub fn blocking_detection(mut self, every: u32) -> Self {
        self.blocking_every = every;
        self
    }

    /// Samples one run in `every` (per thread) for scheduling delay: each
    /// poll of a sampled run hands its future a waker of ours, and the next
    /// poll records the time from the wake to itself in
    /// [`Stats::scheduled`](crate::Stats::scheduled): how long the run,
    /// ready to go on, waited for a worker thread. Idle time mixes that with
    /// waiting for I/O; this tells them apart. 0 turns it off (the
    /// default); 1 samples every run. Unsampled runs pay nothing; a sampled
    /// poll pays for a waker (an allocation and a lock, see BENCHMARKS.md).
    /// Futures only, not stream items.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::builder()
    ///     .scheduling_delay(1) // every run, for the example
    ///     .build()
    ///     .unwrap();
    /// let timer = registry.timer("yields");
    /// timer.time(async { tokio::task::yield_now().await }).await;
    /// assert_eq!(timer.stats().scheduled().count(), 1); // one wake, one delay
    /// # }
    /// ```
    pub fn scheduling_delay(mut self, every: u32) -> Self {
        self.scheduling_every = every;
        self
    }

    /// Also forwards every timer's runs into the `metrics` facade's
    /// installed recorder (feature `metrics`), labelled `timer="<name>"`,
    /// under the Prometheus exporter's names, units and help:
    /// `{prefix}_busy_seconds` and `{prefix}_wall_seconds` (histograms, per
    /// completed run), `{prefix}_runs_total{outcome="completed|cancelled|panicked|error"}`
    /// (errors are also completed), `{prefix}_polls_total`,
    /// `{prefix}_in_flight` (a gauge), `{prefix}_bytes_total`, and
    /// `{prefix}_poll_seconds`: every poll's time, as
    /// `Stats::poll_total`, a gauge that only grows (the exporter's
    /// `_poll_seconds_total`; the facade's counters count whole numbers,
    /// and a gauge must not end in `_total`). A timer resolves its handles
    /// (and describes them) on its first run: install the recorder before
    /// that.
    ///
    /// ```
    /// let registry = perf_timer::Registry::builder()
    ///     .forward_to_metrics("perf_timer")
    ///     .build()
    ///     .unwrap();
    /// registry.timer("parse").record(std::time::Duration::from_micros(5)); // also in `metrics`
    /// ```
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn forward_to_metrics(mut self, prefix: &'static str) -> Self {
        self.metrics_prefix = Some(prefix);
        self
    }

    /// Also forwards every timer's runs to OpenTelemetry instruments made
    /// from `meter` (feature `opentelemetry`, which adds only the
    /// `opentelemetry` API crate: the application's SDK and exporter carry
    /// them), each with the attribute `timer` = the timer's name:
    ///
    /// | instrument | kind | unit | what |
    /// |---|---|---|---|
    /// | `perf_timer.run.busy` | histogram | `s` | busy time per completed run |
    /// | `perf_timer.run.wall` | histogram | `s` | wall time per completed run |
    /// | `perf_timer.runs` | counter | `{run}` | completed runs (errors included) |
    /// | `perf_timer.runs.cancelled` | counter | `{run}` | runs dropped before `Ready` |
    /// | `perf_timer.runs.panicked` | counter | `{run}` | runs ended by a panic |
    /// | `perf_timer.runs.errors` | counter | `{run}` | completed runs whose output was an error |
    /// | `perf_timer.polls` | counter | `{poll}` | polls of completed runs |
    /// | `perf_timer.poll.time` | counter | `s` | every poll's time, runs in flight included as they flush ([`Stats::poll_total`](crate::Stats::poll_total)) |
    /// | `perf_timer.bytes` | counter | `By` | bytes the runs handled ([`Stats::bytes`](crate::Stats::bytes)) |
    /// | `perf_timer.active_runs` | up-down counter | `{run}` | runs in flight ([`Stats::in_flight`](crate::Stats::in_flight)) |
    ///
    /// The instruments are made once, here; each timer makes its
    /// attribute set once, with the timer. The `timer` attribute is each
    /// instrument's only one (outcomes are instruments of their own), so an
    /// instrument has a series per timer: at the default
    /// [`max_timers`](RegistryBuilder::max_timers) of 1,000 it stays under
    /// the SDK's default cardinality limit of 2,000 series per instrument.
    /// A registry allowed more than 1,999 timers warns once, here, naming
    /// the limit and how to raise it (a View with a cardinality limit). The histograms advise explicit
    /// bounds of 1, 2.5 and 5 times each power of ten from 1 µs to 10 s;
    /// for percentiles worth reading, have the SDK aggregate
    /// `perf_timer.run.*` as base-2 exponential histograms with a View
    /// (see `examples/otel_service.rs`). Only the poll's end path (a run
    /// ending, a flush every second in flight, bytes) forwards: a poll
    /// costs the same.
    ///
    /// ```
    /// use opentelemetry::metrics::MeterProvider as _;
    ///
    /// // The application's provider: an SDK's, with its exporter.
    /// let provider = opentelemetry::global::meter_provider();
    /// let registry = perf_timer::Registry::builder()
    ///     .forward_to_opentelemetry(provider.meter("perf-timer"))
    ///     .build()?;
    /// registry.timer("parse").record(std::time::Duration::from_micros(5)); // also in OpenTelemetry
    /// # Ok::<(), perf_timer::ConfigError>(())
    /// ```
    #[cfg(feature = "opentelemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
    pub fn forward_to_opentelemetry(mut self, meter: opentelemetry::metrics::Meter) -> Self {
        self.opentelemetry = Some(meter);
        self
    }

    /// Checks the settings and makes the registry.
    ///
    /// ```
    /// use perf_timer::{ConfigError, Registry};
    ///
    /// let err = Registry::builder().quantiles([f64::NAN]).build().unwrap_err();
    /// assert!(matches!(err, ConfigError::QuantileOutOfRange(q) if q.is_nan()));
    /// ```
    pub fn build(self) -> Result<Registry, ConfigError> {
        let quantiles = checked_quantiles(self.quantiles)?;
        if let Some(stripes) = self.stripes.filter(|s| !(1..=MAX_STRIPES).contains(s)) {
            return Err(ConfigError::Stripes(stripes));
        }
        if self.slowest_runs > defaults::MAX_SLOWEST_RUNS {
            return Err(ConfigError::SlowestRuns(self.slowest_runs));
        }
        let layout = Layout::new(
            saturating_nanos(self.lowest),
            saturating_nanos(self.highest),
            self.significant_figures,
        )?;
        let settings = Settings {
            clock: self.clock.unwrap_or_default(),
            layout,
            stripes: self.stripes.unwrap_or_else(default_stripes),
            quantiles: Arc::from(quantiles),
            max_timers: self.max_timers,
            slow_poll_threshold: self.slow_poll_threshold,
            slow_poll_log: WarnLimiter::new(self.slow_poll_warnings_per_second),
            blocking_every: self.blocking_every,
            scheduling_every: self.scheduling_every,
            #[cfg(feature = "metrics")]
            metrics_prefix: self.metrics_prefix,
            #[cfg(feature = "opentelemetry")]
            opentelemetry: (self.opentelemetry.as_ref()).map(|meter| {
                Arc::new(crate::state::opentelemetry_instruments::Instruments::new(
                    meter,
                    self.max_timers,
                ))
            }),
            switches: Switches::new(self.enabled),
            slowest_runs: self.slowest_runs,
            trace_ids: self.trace_ids,
            paths: Arc::new(crate::state::paths::Paths::new(self.max_timers)),
            created: std::time::Instant::now(),
            created_cpu: crate::read::process_cpu(),
        };
        Ok(Registry::with_settings(settings))
    }

    /// Makes the registry and installs it as the [global](crate::global)
    /// one. Fails if the global registry was already used or installed.
    ///
    /// ```
    /// let global = perf_timer::Registry::builder()
    ///     .quantiles([0.5, 0.99, 0.999])
    ///     .build_global()
    ///     .unwrap();
    /// assert!(std::ptr::eq(global, perf_timer::global()));
    /// ```
    pub fn build_global(self) -> Result<&'static Registry, GlobalError> {
        crate::registry::install_global(self.build()?)
    }
}

/// The quantiles, each in `[0, 1]` and listed once, `-0.0` read as `0.0`.
fn checked_quantiles(quantiles: Vec<f64>) -> Result<Vec<f64>, ConfigError> {
    let mut checked: Vec<f64> = Vec::with_capacity(quantiles.len());
    for q in quantiles {
        if !(0.0..=1.0).contains(&q) {
            return Err(ConfigError::QuantileOutOfRange(q));
        }
        let q = q + 0.0; // -0.0 + 0.0 == +0.0
        if checked.contains(&q) {
            return Err(ConfigError::DuplicateQuantile(q));
        }
        checked.push(q);
    }
    Ok(checked)
}
