//! `Registry`: name → timer, and the process-wide one.

pub(crate) mod builder;
pub(crate) mod cached;
pub(crate) mod interval;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use crate::state::settings::Settings;
use builder::RegistryBuilder;
use interval::Intervals;

use crate::error::GlobalError;
use crate::read::{ProcessTime, Report, Snapshot, Stats};
use crate::state::timer::{Timer, TimerCore};

/// The timer that names past a registry's cap record into.
///
/// ```
/// let registry = perf_timer::Registry::builder().max_timers(1).build().unwrap();
/// registry.timer("GET /users/1");
/// let other = registry.timer("GET /users/2"); // past the cap
/// assert_eq!(other.name(), perf_timer::OVERFLOW_TIMER);
/// ```
pub const OVERFLOW_TIMER: &str = "(overflow)";

/// A set of named timers sharing one clock, range and precision.
///
/// [`global()`] is the process-wide registry that [`Timer::new`],
/// [`TimedExt::timed`](crate::TimedExt::timed) and [`spawn`](crate::spawn)
/// record into; make local ones for libraries and tests. Cloning a
/// `Registry` gives another handle to the same timers.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let registry = perf_timer::Registry::new();
/// registry.timer("x").time(async {}).await;
/// let stats = registry.stats("x").unwrap();
/// assert_eq!(stats.count(), 1);
/// println!("{}", registry.report());
/// # }
/// ```
#[derive(Clone)]
pub struct Registry {
    settings: Arc<Settings>,
    timers: Arc<RwLock<HashMap<Arc<str>, Timer>>>,
    /// The global registry: its timers live as long as the process, each
    /// made with a strong count leaked (see `RunTimer`).
    immortal: bool,
}

/// A registry's identity (see [`Registry::id`]).
pub(crate) struct RegistryId(std::sync::Weak<RwLock<HashMap<Arc<str>, Timer>>>);

impl RegistryId {
    /// Whether `registry` is the one this identifies.
    pub(crate) fn is(&self, registry: &Registry) -> bool {
        std::sync::Weak::ptr_eq(&self.0, &Arc::downgrade(&registry.timers))
    }

    /// Whether the registry is gone (every clone dropped).
    pub(crate) fn is_gone(&self) -> bool {
        self.0.strong_count() == 0
    }
}

impl Registry {
    /// A registry with the default settings: TSC clock, 1 ns to 1 h at 3
    /// significant figures, report quantiles 50/90/99 %.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// assert!(registry.snapshot().is_empty());
    /// ```
    pub fn new() -> Self {
        Registry::builder()
            .build()
            .expect("the default settings are valid")
    }

    /// Configures a registry: clock, range, precision, quantiles.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let registry = perf_timer::Registry::builder()
    ///     .highest(Duration::from_secs(60))
    ///     .significant_figures(2)
    ///     .quantiles([0.5, 0.99, 0.999])
    ///     .build()?;
    /// # drop(registry);
    /// # Ok::<(), perf_timer::ConfigError>(())
    /// ```
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    pub(crate) fn with_settings(settings: Settings) -> Self {
        Registry {
            settings: Arc::new(settings),
            timers: Arc::default(),
            immortal: false,
        }
    }

    /// The timer `name`, made on first use. Any string is a valid name.
    ///
    /// Names can come from user input (a URL path, say), so a registry holds
    /// at most [`max_timers`](RegistryBuilder::max_timers) of them (1,000 by
    /// default): past that, new names get the [`OVERFLOW_TIMER`], and the
    /// registry says so once with a `tracing` warning.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// let a = registry.timer("db.query");
    /// a.record(std::time::Duration::from_micros(3));
    /// assert_eq!(registry.timer("db.query").stats().count(), 1); // the same timer
    /// ```
    pub fn timer(&self, name: &str) -> Timer {
        let timer = self.timer_listed(name, true);
        // Asked for by name: shown, even if it was made unlisted.
        timer.core().set_listed(true);
        timer
    }

    /// The timer `name`, as [`timer`](Registry::timer), made unlisted if
    /// it is new: it records, but snapshots leave it out until
    /// `core().set_listed(true)`. For names that a request may turn out
    /// not to deserve (a method the route does not serve).
    #[cfg(feature = "tower")]
    pub(crate) fn timer_unlisted(&self, name: &str) -> Timer {
        self.timer_listed(name, false)
    }

    fn timer_listed(&self, name: &str, listed: bool) -> Timer {
        {
            let timers = self.read_timers();
            if let Some(timer) = timers.get(name) {
                return timer.clone();
            }
            if self.is_full(&timers) {
                if let Some(overflow) = timers.get(OVERFLOW_TIMER) {
                    return overflow.clone();
                }
            }
        }
        let (timer, overflowed) = {
            // A new timer allocates (its name, its core, the map's room):
            // the library's, not the run this may be called in.
            let _unseen = crate::alloc::thread::unseen();
            let mut timers = crate::poison::write(&self.timers);
            if let Some(timer) = timers.get(name) {
                return timer.clone();
            }
            let overflowed = self.is_full(&timers) && name != OVERFLOW_TIMER;
            let key = if overflowed { OVERFLOW_TIMER } else { name };
            let timer = timers
                .entry(Arc::from(key))
                .or_insert_with_key(|key| {
                    let core = TimerCore::new(key.clone(), &self.settings, self.immortal);
                    let timer = Timer {
                        core: Arc::new(core),
                    };
                    if self.immortal {
                        // Never freed: runs hold it uncounted.
                        std::mem::forget(timer.clone());
                    }
                    timer.core().set_listed(listed || overflowed);
                    timer
                })
                .clone();
            (timer, overflowed)
        };
        // Warn with the lock released: a subscriber may well time things
        // into this very registry.
        if overflowed && self.settings.switches.first_overflow() {
            tracing::warn!(
                max_timers = self.settings.max_timers,
                name,
                "perf-timer registry is full: this and further new timer names record into {OVERFLOW_TIMER:?}"
            );
        }
        timer
    }

    /// Whether the named timers (the overflow one aside) reached the cap.
    fn is_full(&self, timers: &HashMap<Arc<str>, Timer>) -> bool {
        let named = timers.len() - usize::from(timers.contains_key(OVERFLOW_TIMER));
        named >= self.settings.max_timers
    }

    /// What the timer `name` has recorded, or `None` if there is no such timer.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// assert!(registry.stats("nope").is_none());
    /// registry.timer("yes");
    /// assert_eq!(registry.stats("yes").unwrap().count(), 0);
    /// ```
    pub fn stats(&self, name: &str) -> Option<Stats> {
        let timer = self.read_timers().get(name).cloned()?;
        timer.core().is_listed().then(|| timer.stats())
    }

    /// Every timer's stats, sorted by name.
    ///
    /// The timers are read one by one while recording goes on: a
    /// snapshot is exact for runs that completed before it was taken.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("b");
    /// registry.timer("a");
    /// let names: Vec<_> = registry.snapshot().iter().map(|s| s.name().to_owned()).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    pub fn snapshot(&self) -> Snapshot {
        let stats: Vec<Stats> = self.listed_timers().iter().map(Timer::stats).collect();
        Snapshot::new(stats, self.settings.quantiles.clone(), !self.is_enabled())
            .with_paths(self.settings.paths.read())
    }

    /// The timers a snapshot reads, by name. The handles are cloned and
    /// the lock released before reading: reading a timer takes a while and
    /// must not stall timers being created.
    pub(crate) fn listed_timers(&self) -> Vec<Timer> {
        let mut timers: Vec<Timer> = (self.read_timers().values())
            .filter(|t| t.core().is_listed())
            .cloned()
            .collect();
        timers.sort_unstable_by(|a, b| a.name().cmp(b.name()));
        timers
    }

    /// The histograms' layout (lowest, highest, precision).
    #[cfg(all(feature = "axum", feature = "save"))]
    pub(crate) fn layout(&self) -> crate::record::Layout {
        self.settings.layout
    }

    /// The quantiles its reports show.
    #[cfg(all(feature = "axum", feature = "save"))]
    pub(crate) fn quantiles(&self) -> &[f64] {
        &self.settings.quantiles
    }

    /// A report of every timer, one line each (see [`Report`]).
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("login").record(std::time::Duration::from_micros(1230));
    /// assert_eq!(registry.report().to_string(), "timer \"login\": 1.23 ms in 1 run\n");
    /// ```
    pub fn report(&self) -> Report {
        Report::new(self.snapshot())
    }

    /// Switches timing on or off at run time, for every timer of this
    /// registry. While off, a poll costs one load and a branch, nothing is
    /// recorded, and runs in flight are dropped from the accounting (they
    /// would be missing part of their busy time).
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// registry.set_enabled(false);
    /// registry.timer("x").record(std::time::Duration::from_micros(1));
    /// assert_eq!(registry.stats("x").unwrap().count(), 0);
    /// ```
    pub fn set_enabled(&self, enabled: bool) {
        // The flag first, then every timer: a timer made meanwhile reads the
        // flag under the map's write lock, so it is either made with the new
        // value or already in the map when we walk it.
        self.settings.switches.switch(enabled, || {
            for timer in self.read_timers().values() {
                timer.core().set_enabled(enabled);
            }
        });
    }

    /// Whether timing is on (see [`set_enabled`](Registry::set_enabled)).
    ///
    /// ```
    /// assert!(perf_timer::Registry::new().is_enabled());
    /// ```
    pub fn is_enabled(&self) -> bool {
        self.settings.switches.is_enabled()
    }

    /// Heap bytes the registry's timers hold. A timer's counters grow with
    /// the spread of its values, not their number: a few hundred bytes
    /// empty, about 2 KiB for 50 runs spread over 1 µs..1 ms, and at most
    /// about 256 KiB whatever the values and the threads (at the default
    /// range and precision, while no bucket passes 65,535 runs in one
    /// 256-bucket chunk). Reading them (a [`snapshot`](Registry::snapshot)
    /// and its report) takes at most about twice that. Nesting paths add
    /// about 125 bytes each, at most 1,024 of them and past those one per
    /// timer that nested in a new path.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// let empty = registry.reserved_bytes();
    /// registry.timer("x").record(std::time::Duration::from_micros(1));
    /// assert!(registry.reserved_bytes() > empty);
    /// ```
    pub fn reserved_bytes(&self) -> usize {
        self.read_timers()
            .values()
            .map(|t| t.core().reserved_bytes())
            .sum::<usize>()
            + self.settings.paths.reserved_bytes()
    }

    /// This registry's identity, which keeps no timer alive: equal for its
    /// clones only, never for a registry made after it is gone.
    pub(crate) fn id(&self) -> RegistryId {
        RegistryId(Arc::downgrade(&self.timers))
    }

    /// The registry's clock.
    #[cfg(feature = "save")]
    pub(crate) fn clock(&self) -> &crate::clock::Clock {
        &self.settings.clock
    }

    /// The registry clock's raw reading, in ticks.
    #[cfg(all(feature = "tokio-unstable", tokio_unstable))]
    pub(crate) fn clock_raw(&self) -> u64 {
        self.settings.clock.raw()
    }

    /// The registry clock's wall reading in nanoseconds (with the CPU
    /// clock, a monotonic clock's: intervals are wall time).
    pub(crate) fn now_nanos(&self) -> u64 {
        let clock = &self.settings.clock;
        clock.ticks_to_nanos(clock.wall_now())
    }

    fn read_timers(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Arc<str>, Timer>> {
        // A panic elsewhere while holding the lock cannot leave the map half
        // written (inserts are single calls), so a poisoned lock is still good.
        crate::poison::read(&self.timers)
    }

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
        Intervals::new(self.clone())
    }

    /// What the process has spent since this registry was made (CPU time of
    /// all its threads, and wall time), and how much of it the timers explain: the exit report's last line. `None`
    /// where the process's CPU time cannot be read (outside Unix).
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("parse").record(std::time::Duration::from_millis(3));
    /// # #[cfg(unix)] {
    /// let process = registry.process().unwrap();
    /// assert_eq!(process.self_busy(), std::time::Duration::from_millis(3));
    /// assert!(process.to_string().starts_with("process: "));
    /// # }
    /// ```
    pub fn process(&self) -> Option<ProcessTime> {
        self.process_of(&self.snapshot())
    }

    /// [`process`](Registry::process) with the timers' self time from
    /// `snapshot`, a reading of this registry already taken: a second
    /// snapshot would cost as much as the first.
    pub(crate) fn process_of(&self, snapshot: &Snapshot) -> Option<ProcessTime> {
        let self_busy = snapshot.iter().map(Stats::self_poll_total).sum();
        let settings = &self.settings;
        ProcessTime::since(settings.created, settings.created_cpu?, self_busy)
    }

    /// [`process`](Registry::process) with the timers' self time given.
    #[cfg(all(feature = "axum", feature = "save"))]
    pub(crate) fn process_with(&self, self_busy: std::time::Duration) -> Option<ProcessTime> {
        let settings = &self.settings;
        ProcessTime::since(settings.created, settings.created_cpu?, self_busy)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("clock", &self.settings.clock)
            .field("timers", &self.read_timers().len())
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

static GLOBAL: OnceLock<Registry> = OnceLock::new();

/// The process-wide registry, made with the default settings on first use
/// unless [`RegistryBuilder::build_global`] installed another one before.
///
/// ```
/// let global: &'static perf_timer::Registry = perf_timer::global();
/// # drop(global);
/// ```
#[inline]
pub fn global() -> &'static Registry {
    GLOBAL.get_or_init(|| Registry::new().into_global())
}

/// Makes `registry` the global one, unless [`global`] was already used or
/// set.
pub(crate) fn install_global(registry: Registry) -> Result<&'static Registry, GlobalError> {
    GLOBAL
        .set(registry.into_global())
        .map_err(|_| GlobalError::AlreadySet)?;
    Ok(global())
}

impl Registry {
    /// This new registry, as the global one: its timers live as long as
    /// the process.
    fn into_global(mut self) -> Registry {
        debug_assert!(self.read_timers().is_empty(), "a registry just built");
        self.immortal = true;
        self
    }
}
