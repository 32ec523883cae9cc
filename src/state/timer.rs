//! One timer's state: its counters, clock, settings and where its runs
//! are forwarded ([`TimerCore`]), and the handle that shares it
//! ([`Timer`]) with its read side: its name and its stats. The ways in
//! (`time`, `record`, `start`, `spawn`, ...) are in `instrument/timer.rs`.

use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use super::settings::Settings;
use super::slow;
use crate::clock::{saturating_nanos, ticks_between, Clock};
use crate::poll::parts::Parts;
use crate::read::Stats;
use crate::record::{AllocationSample, Delays, End, Event, Flushed, Recorder, RunSample};

/// A cheap, cloneable handle to one named timer of a [`Registry`](crate::Registry).
///
/// Resolving a name costs a map lookup; a `Timer` does it once, so keep one
/// wherever runs are frequent. `Clone + Send + Sync`.
///
/// ```
/// use std::time::Duration;
/// use perf_timer::Timer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let timer = Timer::new("db.query");                  // in the global registry
/// let rows = timer.time(async { vec![1, 2, 3] }).await; // a timed future
/// timer.record(Duration::from_micros(250));             // a manual sample
/// {
///     let _guard = timer.start();                       // a sync section
///     let _sum: i32 = rows.iter().sum();
/// }
/// assert_eq!(timer.stats().count(), 3);
/// # }
/// ```
#[derive(Clone)]
pub struct Timer {
    pub(crate) core: Arc<TimerCore>,
}

/// The read side of the handle: what lower layers (the registry, the poll
/// accounting) may call.
impl Timer {
    /// This timer's name.
    ///
    /// ```
    /// assert_eq!(perf_timer::Timer::new("x").name(), "x");
    /// ```
    pub fn name(&self) -> &str {
        &self.core.name
    }

    /// What this timer has recorded so far, read consistently (see
    /// [`Stats`]) while other threads go on recording.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("idle");
    /// assert_eq!(timer.stats().count(), 0);
    /// timer.record(std::time::Duration::from_micros(3));
    /// assert_eq!(timer.stats().total(), std::time::Duration::from_micros(3));
    /// ```
    pub fn stats(&self) -> Stats {
        let core = &self.core;
        let settings = &core.settings;
        let mut reading = core.recorder.read();
        (reading.scheduled, reading.scheduled_nanos) = core.scheduled.read();
        Stats::new(
            core.name.clone(),
            reading,
            settings.layout,
            settings.quantiles.clone(),
        )
        .with_slowest(core.slowest.read())
    }

    /// What changes whenever what [`stats`](Timer::stats) reads does, read
    /// without copying a histogram: the counters, and the scheduling
    /// delays' count and sum. Read before `stats`, an equal version later
    /// means that reading still holds (its counters only ever grow with
    /// each sample).
    #[cfg(all(feature = "axum", feature = "save"))]
    pub(crate) fn version(&self) -> TimerVersion {
        TimerVersion {
            totals: self.core.recorder.totals(),
            scheduled: self.core.scheduled.version(),
        }
    }

    #[inline(always)]
    pub(crate) fn core(&self) -> &TimerCore {
        &self.core
    }

    pub(crate) fn clock(&self) -> &Clock {
        self.core.clock()
    }
}

/// See [`Timer::version`].
#[cfg(all(feature = "axum", feature = "save"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerVersion {
    totals: crate::record::Totals,
    scheduled: (u64, u64),
}

/// A run's hold on its timer. A timer that is never freed (one of the
/// global registry's, see [`TimerCore::is_immortal`]) is held by an
/// uncounted copy of its handle, so that a run costs no reference-count
/// traffic: two atomic read-modify-writes per run, on the line that every
/// thread recording into the timer reads. Any other timer is held by a
/// clone of its handle, as a `Timer` would be.
pub(crate) struct RunTimer(ManuallyDrop<Timer>);

impl RunTimer {
    /// A hold on `timer`'s timer, for as long as the run needs it.
    #[inline(always)]
    pub(crate) fn new(timer: &Timer) -> Self {
        if timer.core.is_immortal() {
            // SAFETY: an uncounted copy of the handle, never dropped (see
            // `Drop`), of a timer whose memory is never freed: its
            // registry leaked a strong count of it when it made it.
            RunTimer(ManuallyDrop::new(unsafe { std::ptr::read(timer) }))
        } else {
            RunTimer(ManuallyDrop::new(timer.clone()))
        }
    }

    /// A hold on `timer`, taking it over.
    pub(crate) fn from_owned(timer: Timer) -> Self {
        if timer.core.is_immortal() {
            // Its count is given back now; the copy needs none.
            RunTimer::new(&timer)
        } else {
            RunTimer(ManuallyDrop::new(timer))
        }
    }

    /// A hold on the immortal timer whose core is at `core`.
    ///
    /// # Safety
    ///
    /// `core` is `Arc::as_ptr` of the core of a timer for which
    /// [`TimerCore::is_immortal`] is true.
    #[inline(always)]
    pub(crate) unsafe fn immortal(core: *const TimerCore) -> Self {
        // SAFETY: by the caller, `core` is the pointer `Arc::into_raw`
        // gives for an `Arc` whose strong count was leaked, so the memory
        // stays valid; the copy is never dropped (see `Drop`).
        let core = unsafe { Arc::from_raw(core) };
        RunTimer(ManuallyDrop::new(Timer { core }))
    }
}

impl std::ops::Deref for RunTimer {
    type Target = Timer;

    #[inline(always)]
    fn deref(&self) -> &Timer {
        &self.0
    }
}

impl Drop for RunTimer {
    #[inline(always)]
    fn drop(&mut self) {
        if !self.0.core.is_immortal() {
            // SAFETY: a counted clone (see `new`), dropped once, here.
            unsafe { ManuallyDrop::drop(&mut self.0) }
        }
    }
}

/// Flush bookkeeping counts ticks in units of 2^16: 22 µs of a 3 GHz TSC,
/// 66 µs of a nanosecond clock.
pub(crate) const FLUSH_SHIFT: u32 = 16;

/// How often a run in flight hands its busy time to its timer, in wall
/// time: `poll_total` lags by less than this, and by less than this much
/// busy time (busy time never outruns wall time).
pub(crate) const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_millis(10);

/// A completed run in clock ticks, for [`TimerCore::record_ticks`].
pub(crate) struct RunTicks {
    pub(crate) busy: u64,
    /// Busy ticks flushed while in flight, and whether it counted in flight.
    pub(crate) flushed: u64,
    pub(crate) in_flight: bool,
    pub(crate) first_poll: u64,
    pub(crate) end: u64,
    pub(crate) polls: u64,
    pub(crate) longest_poll: u64,
    pub(crate) allocations: Option<AllocationSample>,
}

/// Everything one timer records into.
///
/// The poll path reads only `enabled`, `clock`, `slow_poll_ticks`,
/// `flush_units` and `blocking_every`, kept here (not behind the registry's
/// settings) so that a poll touches one line of shared memory.
pub(crate) struct TimerCore {
    enabled: AtomicBool,
    /// Never freed: a strong count of it was leaked when it was made (the
    /// global registry's timers, which live as long as the process).
    immortal: bool,
    /// Whether the registry shows it (snapshots, reports, exports). A
    /// timer made for a request not yet known to be served (see
    /// `tower::TimedLayer`) is not, until a response says it is.
    listed: AtomicBool,
    clock: Clock,
    slow_poll_ticks: u64,
    /// [`FLUSH_EVERY`] in units of 2^[`FLUSH_SHIFT`] wall ticks.
    flush_units: u32,
    /// Sample one poll in this many for blocking; 0: off.
    blocking_every: u32,
    /// Whether a poll reads more at its start than the clock: blocking
    /// detection is on, or a counting allocator is installed (known by the
    /// time a timer is made, whose name the allocator allocated).
    poll_extras: bool,
    /// Sample one run in this many for scheduling delay; 0: off.
    scheduling_every: u32,
    /// The scheduling delays of sampled runs.
    pub(crate) scheduled: Delays,
    /// Where runs are forwarded besides (the `metrics` facade,
    /// OpenTelemetry), if anywhere.
    forward: crate::state::forward::Forwards,
    pub(crate) name: Arc<str>,
    pub(crate) settings: Arc<Settings>,
    /// Every counter of this timer.
    pub(crate) recorder: Recorder,
    /// Its slowest runs, with their parts.
    pub(crate) slowest: super::slowest::Slowest,
    /// Its nesting path in its registry's paths under the parent path
    /// last asked for: `parent << 32 | path`, 0 for none (see
    /// `paths::resolve`).
    pub(crate) path_cache: std::sync::atomic::AtomicU64,
}

impl TimerCore {
    #[inline(always)]
    pub(crate) fn is_enabled(&self) -> bool {
        // Relaxed: switching off is advisory; a poll that sees the old value
        // for a moment is timed (or not) as a whole, never half-recorded.
        self.enabled.load(Relaxed)
    }

    /// Whether this timer's memory is never freed (see [`RunTimer`]).
    #[inline(always)]
    pub(crate) fn is_immortal(&self) -> bool {
        self.immortal
    }

    /// Whether its registry shows it.
    #[inline]
    pub(crate) fn is_listed(&self) -> bool {
        self.listed.load(Relaxed)
    }

    /// Shows or hides it in its registry's snapshots.
    pub(crate) fn set_listed(&self, listed: bool) {
        // A load first: the common case, already listed, writes nothing
        // to a line that every poll of the timer reads.
        if self.is_listed() != listed {
            self.listed.store(listed, Relaxed);
        }
    }

    /// Set by the registry for all its timers at once.
    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Relaxed);
    }

    #[inline(always)]
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Polls longer than this many ticks are slow.
    #[inline(always)]
    pub(crate) fn slow_poll_ticks(&self) -> u64 {
        self.slow_poll_ticks
    }

    /// The same in units of 2^[`FLUSH_SHIFT`] ticks, at least one.
    #[inline(always)]
    pub(crate) fn flush_units(&self) -> u32 {
        self.flush_units
    }

    /// Runs are sampled for scheduling delay one in this many; 0: off.
    #[inline(always)]
    pub(crate) fn scheduling_every(&self) -> u32 {
        self.scheduling_every
    }

    /// A sampled run was polled `ticks` of wall time after its wake.
    #[cold]
    pub(crate) fn record_scheduled(&self, ticks: u64) {
        let nanos = self.clock.ticks_to_nanos(ticks);
        self.scheduled.record(&self.settings.layout, nanos);
    }

    /// Whether a poll reads more at its start than the clock (see
    /// `sample_other` and the allocation counters).
    #[inline(always)]
    pub(crate) fn has_poll_extras(&self) -> bool {
        self.poll_extras
    }

    /// If this poll is sampled for blocking, the reading of the other clock
    /// now: the thread's CPU time, or with the CPU clock, the wall clock.
    #[inline(always)]
    pub(crate) fn sample_other(&self) -> Option<u64> {
        if self.blocking_every == 0 {
            return None;
        }
        self.sample_other_cold()
    }

    #[cold]
    fn sample_other_cold(&self) -> Option<u64> {
        #[cfg(unix)]
        if slow::sample_this_poll(self.blocking_every) {
            return Some(self.other_clock_now());
        }
        None
    }

    #[cfg(unix)]
    fn other_clock_now(&self) -> u64 {
        if self.clock.is_cpu() {
            self.clock.wall_now()
        } else {
            crate::clock::thread_cpu_nanos()
        }
    }

    /// A sampled poll of `poll_ticks` ended: its wall and CPU time feed the
    /// timer's CPU share, and tell whether it was blocked.
    #[cold]
    pub(crate) fn check_blocked(&self, poll_ticks: u64, other_start: u64) {
        #[cfg(unix)]
        {
            let other = self.other_clock_now().saturating_sub(other_start);
            let poll = self.clock.ticks_to_nanos(poll_ticks);
            let (wall, cpu) = if self.clock.is_cpu() {
                (other, poll)
            } else {
                (poll, other)
            };
            let threshold = self.settings.slow_poll_threshold;
            let blocked = slow::was_blocked(
                Duration::from_nanos(wall),
                Duration::from_nanos(cpu),
                threshold,
            );
            self.recorder.count(Event::Sampled {
                wall,
                cpu: cpu.min(wall),
                blocked,
            });
        }
        #[cfg(not(unix))]
        let _ = (poll_ticks, other_start);
    }

    /// A poll of `poll_ticks` ran past the slow-poll threshold.
    #[cold]
    #[inline(never)]
    pub(crate) fn slow_poll(&self, poll_ticks: u64) {
        let _unseen = crate::alloc::thread::unseen();
        // Exact, unlike a run's longest poll (32 bits of ticks, which
        // saturate after about a second).
        let poll_nanos = self.clock.ticks_to_nanos(poll_ticks);
        self.recorder.count(Event::SlowPoll(poll_nanos));
        let now = self.clock.ticks_to_nanos(self.clock.wall_now());
        let Some(suppressed) = self.settings.slow_poll_log.admit(now) else {
            return;
        };
        let poll = Duration::from_nanos(poll_nanos);
        let threshold = self.settings.slow_poll_threshold;
        tracing::warn!(
            timer = &*self.name,
            poll = ?poll,
            threshold = ?threshold,
            suppressed,
            "slow poll: timer {:?} ran {:?} in one poll (threshold {:?})",
            &*self.name,
            poll,
            threshold,
        );
    }

    /// Records a completed run measured in this timer's clock ticks: busy
    /// ticks, polls and longest poll, from the reading at its first poll to
    /// `end`, with its `parts` (the timed futures nested inside) if any.
    #[inline(always)]
    pub(crate) fn record_ticks(&self, ticks: RunTicks, is_error: bool, parts: Option<&Parts>) {
        let clock = &self.clock;
        let busy = clock.ticks_to_nanos(ticks.busy);
        let wall = clock.ticks_to_nanos(ticks_between(ticks.first_poll, ticks.end));
        let wall = wall.max(busy);
        let nested = parts.map_or(0, Parts::nested).min(busy);
        self.record_run(
            &RunSample {
                busy,
                wall,
                polls: ticks.polls,
                longest_poll: clock.ticks_to_nanos(ticks.longest_poll),
                nested,
                flushed: self.flushed(ticks.flushed, ticks.in_flight),
                allocations: ticks.allocations,
            },
            is_error,
        );
        if self.slowest.admits(wall) {
            self.keep_slow(wall, busy, parts, is_error);
        }
    }

    /// A completed run enters the slowest: kept with its parts and trace id.
    #[cold]
    #[inline(never)]
    pub(crate) fn keep_slow(&self, wall: u64, busy: u64, parts: Option<&Parts>, is_error: bool) {
        // The kept runs are the library's: what they allocate counts for no run.
        let _unseen = crate::alloc::thread::unseen();
        let run = super::slowest_run::slow_run(self, wall, busy, parts, is_error);
        self.slowest.keep(run);
    }

    /// A run with parts ended (any outcome): its children's runs and self
    /// time count in their paths, and the time it was parked, outermost,
    /// in the deepest path pending.
    #[cold]
    #[inline(never)]
    pub(crate) fn record_parts(&self, parts: Option<&Parts>) {
        let Some(parts) = parts else {
            return;
        };
        let _unseen = crate::alloc::thread::unseen();
        // A run nested in a run of another registry has its paths there.
        let Some(paths) = parts.paths(&self.settings.paths) else {
            return;
        };
        // The shared `(other)` part's children counted in their own paths
        // as they ran (see `frame::past_the_parts`).
        for slot in parts.slots().iter().filter(|s| !s.timer.is_null()) {
            paths.add_runs(slot.path, u64::from(slot.runs), slot.self_busy);
        }
        for &(path, ticks) in &parts.deep_parked {
            if path != 0 {
                paths.add_parked(path, self.clock.ticks_to_nanos(ticks));
            }
        }
    }

    /// Records a completed run: inlined into a sync section's end as
    /// into a future's (callgrind: 23 instructions per section less).
    #[inline(always)]
    pub(crate) fn record_run(&self, run: &RunSample, is_error: bool) {
        // What recording allocates (a stripe, a bucket, a forwarder's
        // series) is this crate's, not the enclosing run's. Without a
        // counting allocator nothing counts: the poll path's completions
        // (`Run::complete`) then skip even the guard.
        if run.allocations.is_some() {
            return self.record_run_counted(*run, is_error);
        }
        self.record_run_uncounted(run, is_error);
    }

    /// [`record_run`](TimerCore::record_run) of a run whose allocations
    /// were counted: one instance, out of line.
    #[inline(never)]
    fn record_run_counted(&self, run: RunSample, is_error: bool) {
        // By value, as `forward_run`.
        let _unseen = crate::alloc::thread::unseen();
        self.record_run_uncounted(&run, is_error);
    }

    /// Records a completed run whose allocations were not counted (no
    /// counting allocator): a sync section's common path, inlined whole.
    #[inline(always)]
    pub(crate) fn record_run_uncounted(&self, run: &RunSample, is_error: bool) {
        // Forwarding is rare: one branch, and no work on the sample.
        if self.forward.is_on() {
            self.forward_run(*run, is_error);
        }
        self.recorder.record_run(run, is_error);
    }

    #[cold]
    #[inline(never)]
    fn forward_run(&self, run: RunSample, is_error: bool) {
        // A forwarder's new series allocates: the library's.
        let _unseen = crate::alloc::thread::unseen();
        // By value: the inline caller's sample then never needs an address.
        self.forward.run(&self.name, &run, is_error);
    }

    /// Records a completed run of one poll of `nanos` whose allocations
    /// were not counted, nothing nested in it and nothing flushed (a
    /// future that was ready at its first poll): as a sync section, and
    /// among the slowest runs if it is one.
    #[inline(always)]
    pub(crate) fn record_one_poll(&self, nanos: u64, is_error: bool) {
        self.record_section(nanos, is_error);
        if self.slowest.admits(nanos) {
            self.keep_slow(nanos, nanos, None, is_error);
        }
    }

    /// Records a sync section of `nanos` whose allocations were not
    /// counted: a run of one poll, its wall time its busy time, nothing
    /// nested or flushed (see [`Recorder::record_single`]).
    #[inline(always)]
    pub(crate) fn record_section(&self, nanos: u64, is_error: bool) {
        if self.forward.is_on() {
            self.forward_section(nanos, is_error);
        }
        self.recorder.record_single(nanos, is_error);
    }

    #[cold]
    #[inline(never)]
    fn forward_section(&self, nanos: u64, is_error: bool) {
        self.forward_run(RunSample::single(nanos), is_error);
    }

    /// What a run flushed while in flight: `ticks` of busy time, and
    /// whether it was counted in flight.
    fn flushed(&self, ticks: u64, in_flight: bool) -> Flushed {
        Flushed {
            busy: self.clock.ticks_to_nanos(ticks),
            in_flight,
        }
    }

    /// A run in flight that had flushed `from` busy ticks hands over those
    /// up to `to`; `first`: it counts in flight from now. Returns whether
    /// anything was handed over (nothing new and not the first: nothing).
    #[cold]
    pub(crate) fn flush(&self, from: u64, to: u64, first: bool) -> bool {
        // Each flush converts the running total, so that the nanoseconds
        // flushed add up to those of the whole run exactly.
        let busy = self
            .clock
            .ticks_to_nanos(to)
            .saturating_sub(self.clock.ticks_to_nanos(from));
        if busy == 0 && !first {
            return false;
        }
        let _unseen = crate::alloc::thread::unseen();
        self.recorder.count(Event::Flush { busy, first });
        self.forward.flushed(&self.name, busy, first);
        true
    }

    /// Counts `n` bytes for this timer (`add_bytes`), if it is on.
    pub(crate) fn add_bytes(&self, n: u64) {
        if n > 0 && self.is_enabled() {
            self.recorder.count(Event::Bytes(n));
            self.forward.bytes(&self.name, n);
        }
    }

    /// A run of `busy_ticks` ended without a sample, after flushing
    /// `flushed_ticks` (and counting in flight if `in_flight`).
    pub(crate) fn end_run(&self, end: End, busy_ticks: u64, flushed_ticks: u64, in_flight: bool) {
        let _unseen = crate::alloc::thread::unseen();
        let busy = self.clock.ticks_to_nanos(busy_ticks);
        let flushed = self.flushed(flushed_ticks, in_flight);
        self.forward.ended(
            &self.name,
            end,
            busy.saturating_sub(flushed.busy),
            flushed.in_flight,
        );
        self.recorder.count(match end {
            End::Cancelled => Event::Cancelled { busy, flushed },
            End::Panicked => Event::Panicked { busy, flushed },
            End::Untimed => Event::Untimed { busy, flushed },
        });
    }

    /// A run that ended without a sample allocated this much.
    #[cold]
    pub(crate) fn abandoned_allocations(&self, allocated: crate::alloc::thread::Allocated) {
        if allocated.count > 0 || allocated.bytes > 0 {
            let _unseen = crate::alloc::thread::unseen();
            self.recorder.count(Event::AbandonedAllocations {
                count: allocated.count,
                bytes: allocated.bytes,
            });
        }
    }

    pub(crate) fn reserved_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.name.len() + self.recorder.reserved_bytes()
    }
}

impl TimerCore {
    /// A timer's state, made with its registry's settings. `immortal`:
    /// the caller leaks a strong count of the `Arc` it puts it in.
    pub(crate) fn new(name: Arc<str>, settings: &Arc<Settings>, immortal: bool) -> Self {
        let threshold = saturating_nanos(settings.slow_poll_threshold);
        let flush_ticks = settings.clock.nanos_to_ticks(saturating_nanos(FLUSH_EVERY));
        TimerCore {
            enabled: AtomicBool::new(settings.switches.is_enabled()),
            immortal,
            listed: AtomicBool::new(true),
            clock: settings.clock.clone(),
            slow_poll_ticks: settings.clock.nanos_to_ticks(threshold),
            flush_units: u32::try_from(flush_ticks >> FLUSH_SHIFT)
                .unwrap_or(u32::MAX)
                .max(1),
            blocking_every: settings.blocking_every,
            poll_extras: settings.blocking_every != 0 || crate::alloc::thread::installed(),
            scheduling_every: settings.scheduling_every,
            scheduled: Delays::default(),
            forward: super::forward::Forwards::new(&name, settings),
            name,
            settings: settings.clone(),
            recorder: Recorder::new(settings.layout, settings.stripes),
            slowest: super::slowest::Slowest::new(settings.slowest_runs),
            path_cache: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{global, Registry};

    #[test]
    fn a_run_counts_a_local_timer_and_holds_a_global_one_uncounted() {
        let local = Registry::new().timer("run.local");
        let before = Arc::strong_count(&local.core);
        let held = RunTimer::new(&local);
        assert_eq!(Arc::strong_count(&local.core), before + 1);
        drop(held);
        let held = RunTimer::from_owned(local.clone());
        assert_eq!(Arc::strong_count(&local.core), before + 1);
        drop(held);
        assert_eq!(Arc::strong_count(&local.core), before);

        let global = global().timer("run.global");
        assert!(global.core.is_immortal());
        let before = Arc::strong_count(&global.core);
        // The registry's own handle, this one, and the one leaked.
        assert!(before >= 3, "{before}");
        let held = RunTimer::new(&global);
        let owned = RunTimer::from_owned(global.clone());
        assert_eq!(Arc::strong_count(&global.core), before);
        assert_eq!((held.name(), owned.name()), ("run.global", "run.global"));
        drop((held, owned));
        assert_eq!(Arc::strong_count(&global.core), before);
    }
}
