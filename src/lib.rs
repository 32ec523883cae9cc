//! Poll-time profiling for async Rust: how much time does this code *really*
//! spend running?
//!
//! `perf-timer` wraps a `Future` and times only its polls, never the time it
//! sits parked on I/O, a timer or a lock. Each completed run becomes one
//! sample in an HdrHistogram kept per name, and a report prints percentiles
//! when the program ends. [`task_perf_counter()`] gives the busy time of the
//! current task, the way `time.perf_counter()` gives wall time.
//!
//! ```
//! use std::time::Duration;
//! use perf_timer::TimedExt as _;
//!
//! #[tokio::main]
//! async fn main() {
//!     let _report = perf_timer::report_at_exit(); // prints when the program ends
//!
//!     for _ in 0..10 {
//!         async {
//!             let _ = (0..1_000).map(|i: u64| i * i).sum::<u64>(); // counted
//!             tokio::time::sleep(Duration::from_millis(5)).await; // not counted
//!         }
//!         .timed("handler")
//!         .await;
//!     }
//!     let stats = perf_timer::global().stats("handler").unwrap();
//!     assert_eq!(stats.count(), 10);
//!     assert!(stats.total() < Duration::from_millis(50)); // the 10 sleeps alone take 50 ms
//! }
//! // stderr: timer "handler": avg 1.02 µs ± 0.31 µs, 50% ≤ 0.95 µs, ..., max 2.10 µs in 10 runs
//! ```
//!
//! # Vocabulary
//!
//! | word | meaning |
//! |---|---|
//! | poll time | time spent inside one call of `Future::poll` |
//! | busy time | sum of the poll times of one run |
//! | run | one life of a timed future, from first poll to `Ready`; one sample |
//! | wall time | first poll to `Ready` of a run; idle time = wall − busy |
//! | timer | a name in a registry, with its histogram and counters ([`Timer`]) |
//! | registry | name → timer; one [global], any number of local ones ([`Registry`]) |
//! | task perf counter | busy time so far of the current task: the outermost timed future being polled on this thread ([`task_perf_counter`]) |
//! | idle time | wall − busy: time a run spent waiting between polls (I/O, timers, locks, the scheduler) |
//! | self time | busy time minus the busy time of timed futures nested inside the same polls (exclusive time, as profilers call it) |
//! | outcome | how a run ended: completed (a sample), cancelled (dropped before `Ready`), panicked; a completed run may also count as an error ([`Classify`]) |
//! | slow poll | a poll longer than the registry's threshold (50 µs by default): counted, and logged with a rate-limited `tracing` warning |
//! | blocked poll | a sampled poll that spent most of its time off the CPU inside `poll` (sleeping, waiting on a sync lock or sync I/O) |
//! | interval | what a registry recorded between two calls of [`Intervals::next`]: runs, runs per second, percentiles of that window |
//! | clamped | a run longer than the registry's highest trackable duration, recorded as that duration |
//!
//! # Semantics
//!
//! * Only poll time counts: a future that computes 2 ms, sleeps 20 ms and
//!   computes 2 ms again records about 4 ms.
//! * Nested timers are inclusive: an inner timed future's polls count for
//!   the outer one too. The task perf counter follows the outermost.
//! * A run is recorded once, when it returns `Ready`. Dropped before that it
//!   counts as cancelled; a poll that panics counts it as panicked and leaves
//!   no thread-local state behind.
//! * All per-run state lives in the future, so tasks may move between worker
//!   threads freely. A clock reading that goes backwards counts as 0.
//! * Recording never waits for another thread unless every stripe of the
//!   timer is held at that instant. It allocates only when a value lands in
//!   a bucket no run used before (a few bytes, or a 512-byte chunk); memory
//!   per timer is bounded (about 256 KiB) whatever the number of samples or
//!   threads.
//!
//! # Reading
//!
//! * [`Registry::stats`] and [`Registry::snapshot`]: cumulative [`Stats`]
//!   per timer (busy, wall, idle and self time, polls, outcomes).
//! * [`Registry::report`]: one line per timer; [`Stats::detail`]: every
//!   figure of one timer, one per line.
//! * [`Registry::intervals`]: what happened since the last look, for a log
//!   line a minute.
//! * [`Stats::allocations`]: allocations and bytes per run, with
//!   [`CountingAllocator`] installed as the global allocator (`None`
//!   without it): a timed poll then also reads its thread's allocation
//!   counters on entry and exit.
//!
//! # Where the time goes
//!
//! A timed poll reads the clock twice (quanta's TSC by default), loads the
//! timer's enabled flag, touches one thread-local (the task perf counter and
//! nesting), and compares its time with the slow-poll threshold (and, one
//! poll in `n` when blocking detection is on, reads the thread's CPU clock).
//! A completed run takes its thread's stripe of the timer (a one-byte
//! try-lock) and adds its sums and its busy and wall buckets there. Reading
//! (`stats`, `snapshot`, `report`) locks each stripe for the time of a copy:
//! recorders never wait for it, they use another stripe meanwhile.
//!
//! A whole run of an `async fn` of one poll, in instructions over the bare
//! call (callgrind, `benches/run_cost.rs -- --callgrind /`; BENCHMARKS.md has
//! the times):
//!
//! | part | instructions |
//! |---|---|
//! | the poll: two clock reads (about 30 with quanta's calls), the run's bookkeeping, the thread's frame, the threshold and flush checks, choosing how the run completes | about 190 |
//! | the completion of a run ready at its first poll (busy = wall = longest poll): one tick-to-nanosecond conversion, one bucket index, the stripe's try-lock, the busy and wall counts (dense once a stripe has counted 4,096 runs), the totals, the slowest runs' floor | about 155 |
//! | making and dropping the `Timed` | about 15 |
//! | a second poll, and the completion of any other run (three conversions, two bucket indexes, idle, nested and flushed time) | about 215 |
//! | a poll of a long-lived future (not ready) | about 100 |
//! | `.timed("name")`, on top of a handle: this thread's cache of the name | about 20 |
//! | a sync section (`start()`), all of it: recorded as a run of one poll, nested in the thread's open section if any | about 310 |
//!
//! Natively (calling thread, over the bare call, a 2-core AMD EPYC VM),
//! two clock reads take about 20 ns; a whole run of one poll 30 to 45 ns,
//! of two polls 53 to 73, a sync section 30 to 40. The least any recorder
//! of busy-time percentiles does (two reads a poll, one conversion, one
//! bucket index, a thread-local count: `benches/least.rs`) takes 28, 49
//! and 29 there: the clock reads are most of a run, and a run of two polls
//! needs four.
//!
//! None of it is an allocation, a hash or a wait; the one atomic
//! read-modify-write is the stripe's try-lock. A run of a global timer
//! (`#[timed]`, `.timed`, `Timer::new`) holds it without touching its
//! reference count; a run of a local registry's timer counts it, two
//! atomic read-modify-writes more.
//!
//! # Features
//!
//! * `tokio` (default): [`spawn`] and [`Timer::spawn`].
//! * `macros` (default): the [`timed`] attribute.
//! * `hdr-log`: `export::IntervalLog`, HdrHistogram interval logs.
//! * `save`: the `saved` module: a run kept as a JSON line
//!   (`ExitReport::save_to`, `PERF_TIMER_SAVE`) and read back exactly, for
//!   the `perf-timer` command (package `perf-timer-cli`) to report, diff,
//!   plot and merge.
//! * `tracing`: `PerfTimerLayer`, a `tracing_subscriber::Layer` that times spans.
//! * `tokio-unstable`, together with `RUSTFLAGS="--cfg tokio_unstable"`:
//!   `install_task_hooks`, runtime-wide timing of every task through tokio's
//!   task hooks, per spawn location. Without the cfg, the feature adds nothing.
//! * `serde`: `Serialize` for [`Stats`] (with its [`SlowRun`]s and their [`Part`]s) and [`Snapshot`].
//! * `metrics`: `RegistryBuilder::forward_to_metrics`, every run forwarded
//!   into the `metrics` facade too.
//! * `opentelemetry`: `RegistryBuilder::forward_to_opentelemetry`, every run
//!   forwarded to OpenTelemetry instruments of a `Meter` (the API crate
//!   only; the application brings the SDK and exporter).
//! * `tower`: `tower::TimedLayer`, one timer per HTTP route; `axum` adds
//!   routes read from axum's `MatchedPath`.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]

// The layers, lowest first, as the folders are; a module imports and
// calls only from its own layer and those below it, by module path (never
// through the names re-exported here):
// 1. `alloc`, `clock`, `defaults`, `error`, `poison`, `classify`,
//    `figures`: the counting allocator and its per-thread counters, time
//    sources, the defaults every reader and writer agrees on, errors, the
//    lock helper, outcome policies, the table of exported figures.
// 2. `record/`: the hot path's storage (stripes, buckets, totals); knows
//    no timer nor registry.
// 3. `read/`: snapshots, stats, distributions and reports (cold path),
//    built from what `record` hands out.
// 4. `state/`: one timer's state (`TimerCore`, and the `Timer` handle's
//    type with its read side: `name`, `stats`), the settings its registry
//    made it with, slow-poll and sampling policies, and where its runs are
//    forwarded (the `metrics` and OpenTelemetry bridges).
// 5. `poll/`: the per-run accounting of polls: `run` (where a poll is
//    timed and a run in flight flushes), `frame` (the timer being polled
//    on this thread), `scheduled` and `wake_marks` (scheduling delay).
// 6. `registry/`: names to timers, the builder, the global registry, and
//    intervals.
// 7. `instrument/`: the ways in that users wrap their code with: the
//    `Timer` handle's `time`, `record`, `start`, `spawn`, `time_items`
//    (in `instrument/timer.rs`), `Timed`,
//    `TimedItems`, `TimerGuard`, `spawn`, `add_bytes`.
// 8. `export/`, `saved/`: everything that writes many timers out
//    (Prometheus, hgrm, interval logs, serde; saved runs as JSON lines).
// 9. `exit`, `integrations/`: the exit report (which may save a run), and
//    the tower layer, the tracing layer and tokio's task hooks.
mod alloc;
mod classify;
mod clock;
mod defaults;
mod error;
mod figures;
mod poison;

mod record;

mod read;

mod state;

mod poll;

mod registry;

mod instrument;

pub mod export;
#[cfg(feature = "save")]
#[cfg_attr(docsrs, doc(cfg(feature = "save")))]
pub mod saved;

mod exit;
mod integrations;

#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use integrations::tower;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The `hdrhistogram` crate, whose `Histogram` this crate's API hands out
/// ([`Distribution::histogram`]). Its major version is part of ours: a new
/// major version of `hdrhistogram` here is a new major version of
/// `perf-timer`. Use this re-export to name its types without depending on
/// a second copy.
///
/// ```
/// let timer = perf_timer::Registry::new().timer("a");
/// timer.record(std::time::Duration::from_micros(3));
/// let stats = timer.stats();
/// let histogram: &perf_timer::hdrhistogram::Histogram<u64> = stats.histogram();
/// assert_eq!(histogram.len(), 1);
/// ```
pub use hdrhistogram;

pub use alloc::counting::CountingAllocator;
pub use classify::{Classify, ErrOutput, NoErrors};
pub use clock::{Clock, MockClock};
pub use error::{ConfigError, GlobalError};
pub use exit::{report_at_exit, ExitReport};
pub use instrument::bytes::add_bytes;
pub use instrument::guard::TimerGuard;
#[cfg(feature = "tokio")]
pub use instrument::spawn::spawn;
pub use instrument::stream::{TimedItems, TimedStreamExt};
pub use instrument::timed::{Timed, TimedExt};
#[cfg(feature = "opentelemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
pub use integrations::opentelemetry_trace::opentelemetry_trace_id;
#[cfg(all(feature = "tokio-unstable", tokio_unstable))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "tokio-unstable", tokio_unstable))))]
pub use integrations::task_hooks::install_task_hooks;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub use integrations::tracing_layer::PerfTimerLayer;
/// Times a function into the global registry: an `async fn` by the poll time
/// of each call's future; a `fn` returning `impl Future` or
/// `Pin<Box<dyn Future …>>` by the poll time of the future it returns (not
/// its construction); any other `fn` by the wall time of each call.
///
/// `#[timed]` names the timer after the function's path (`module::function`);
/// `#[timed("name")]` names it yourself. The timer is looked up once, on the
/// first call. On an `impl` block it times every method, each named
/// `module::Type::method`, or `module::<Type as Trait>::method` in a trait
/// impl (`#[timed(skip)]` leaves one out, `#[timed("name")]` names one); a
/// method timed alone is `module::method`. A function returning `Result`
/// counts each `Err` as an [error](Stats::errors), as
/// [`TimedExt::timed_result`] does; `#[timed(errors = false)]` counts none.
///
/// ```
/// use perf_timer::timed;
///
/// #[timed]
/// async fn fetch(id: u32) -> Result<u32, String> {
///     let doubled = id.checked_mul(2).ok_or("overflow")?; // `?` and `return` work as before
///     Ok(doubled)
/// }
///
/// #[timed("parse")]
/// fn parse(body: &str) -> usize {
///     body.split(' ').count()
/// }
///
/// struct Store;
///
/// #[timed]
/// impl Store {
///     async fn get(&self, key: &str) -> usize {
///         key.len()
///     }
/// }
///
/// trait Cache<K> {
///     fn get(&self, key: K) -> Option<K>;
/// }
///
/// #[timed]
/// impl Cache<u32> for Store {
///     fn get(&self, key: u32) -> Option<u32> {
///         Some(key)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// assert_eq!(fetch(21).await, Ok(42));
/// assert!(fetch(u32::MAX).await.is_err());
/// assert_eq!(parse("a b c"), 3);
/// assert_eq!(Store.get("abc").await, 3);
/// assert_eq!(Cache::get(&Store, 7), Some(7));
/// let global = perf_timer::global();
/// let fetch = global.stats("rust_out::fetch").unwrap();
/// assert_eq!((fetch.count(), fetch.errors()), (2, 1));
/// assert_eq!(global.stats("parse").unwrap().count(), 1);
/// assert_eq!(global.stats("rust_out::Store::get").unwrap().count(), 1);
/// let cached = global.stats("rust_out::<Store as Cache<u32>>::get");
/// assert_eq!(cached.unwrap().count(), 1);
/// # }
/// ```
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use perf_timer_macros::timed;
pub use poll::frame::task_perf_counter;
pub use read::{
    Allocations, ByteDistribution, Detail, Distribution, Folded, Grouped, Part, ProcessTime,
    Report, ReportDuration, SlowRun, Snapshot, Stats, Sum,
};
pub use registry::builder::RegistryBuilder;
pub use registry::interval::{Interval, Intervals};
pub use registry::{global, Registry, OVERFLOW_TIMER};
pub use state::timer::Timer;
