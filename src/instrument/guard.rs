//! `TimerGuard`: times a synchronous section by its wall time.

use std::fmt;
use std::time::Duration;

use crate::alloc::thread::{self as allocations, Mark};
use crate::clock::ticks_between;
use crate::instrument::sections;
use crate::poll::frame;
use crate::record::End;
use crate::record::{AllocationSample, RunSample};
use crate::state::paths::NO_PATH;
use crate::state::timer::Timer;

/// Times a synchronous section from [`Timer::start`] until dropped.
///
/// A section's wall time is its busy time: nothing else runs on its thread
/// meanwhile (unless it blocks, which is then what it costs).
///
/// ```
/// let timer = perf_timer::Registry::new().timer("render");
/// let guard = timer.start();
/// let elapsed = guard.stop(); // or just let it drop
/// assert_eq!(timer.stats().total(), elapsed);
/// ```
#[must_use = "the section is timed until the guard drops; bind it with `let _guard = ...`"]
pub struct TimerGuard<'a> {
    timer: &'a Timer,
    start: u64,
    enabled: bool,
    /// Whether the thread was already unwinding when the section began (a
    /// section in a destructor run by an unrelated panic): then only a
    /// panic of its own, which would abort, could end it early, so it ends
    /// as a completed run.
    began_unwinding: bool,
    /// The timed poll the section began in, if any: its time is nested
    /// time of that poll's run.
    poll: Option<u64>,
    /// The thread's allocation counters at its start, with a counting
    /// allocator installed.
    allocations: Option<Mark>,
    /// The section it began inside, given back when it ends.
    enclosing: sections::Open,
    /// Its nesting path, if it began in a timed poll.
    path: u32,
}

impl<'a> TimerGuard<'a> {
    #[inline(always)]
    pub(crate) fn new(timer: &'a Timer) -> Self {
        let core = timer.core();
        let enabled = core.is_enabled();
        let poll = frame::current_poll();
        if enabled {
            // Inside a timed poll, its path now, under the section it is
            // in if any; then it is open on this thread.
            let path = match poll {
                Some(poll) => frame::section_begins(poll, sections::innermost_path(poll), core),
                None => NO_PATH,
            };
            let start = timer.clock().raw();
            return TimerGuard {
                timer,
                start,
                enabled,
                began_unwinding: std::thread::panicking(),
                poll,
                allocations: allocations::enter(),
                enclosing: sections::begin(core, start, poll, path),
                path,
            };
        }
        TimerGuard {
            timer,
            start: 0,
            enabled,
            began_unwinding: std::thread::panicking(),
            poll,
            allocations: None,
            enclosing: sections::Open::default(),
            path: NO_PATH,
        }
    }

    /// Ends the section now and returns the time recorded (zero while the
    /// registry is switched off).
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("render");
    /// let elapsed = timer.start().stop();
    /// assert_eq!(timer.stats().count(), 1);
    /// # let _ = elapsed;
    /// ```
    pub fn stop(mut self) -> Duration {
        let elapsed = self.finish(false);
        self.enabled = false;
        Duration::from_nanos(elapsed)
    }

    /// Ends the section now, as [`stop`](TimerGuard::stop) does, and counts
    /// the run as an [error](crate::Stats::errors): still a sample, since
    /// its time was spent. `#[timed]` on a sync `fn` returning `Result`
    /// ends the section this way when the call returns `Err`.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("parse");
    /// let guard = timer.start();
    /// let parsed: Result<u32, _> = "x".parse();
    /// match parsed {
    ///     Ok(_) => guard.stop(),
    ///     Err(_) => guard.stop_as_error(),
    /// };
    /// let stats = timer.stats();
    /// assert_eq!((stats.count(), stats.errors()), (1, 1));
    /// ```
    pub fn stop_as_error(mut self) -> Duration {
        let elapsed = self.finish(true);
        self.enabled = false;
        Duration::from_nanos(elapsed)
    }

    /// Records the section; the nanoseconds recorded (a `Duration` only
    /// for `stop`, so that a dropped guard does not make one).
    fn finish(&self, is_error: bool) -> u64 {
        if !self.enabled {
            return 0;
        }
        let clock = self.timer.clock();
        let nanos = clock.ticks_to_nanos(ticks_between(self.start, clock.raw()));
        let core = self.timer.core();
        let ended = sections::end(core, self.start, nanos, self.enclosing);
        // With a counting allocator, or sections ended inside it, out of
        // line: the common section's recording is as if neither existed.
        if self.allocations.is_some() | (ended.nested > 0) {
            self.record_counted(nanos, ended.nested, is_error);
        } else {
            core.record_section(nanos, is_error);
        }
        // A section is a run too: among the slowest if it is one (its
        // wall time is its busy time; it has no parts).
        if core.slowest.admits(nanos) {
            core.keep_slow(nanos, nanos, None, is_error);
        }
        self.nest(ended, nanos);
        nanos
    }

    /// A section that began in a timed poll is that poll's run's part, or,
    /// ended inside another section, a run of its own path.
    #[inline]
    fn nest(&self, ended: sections::Ended, nanos: u64) {
        if let Some(poll) = self.poll {
            if ended.in_section {
                frame::section_ended_in_section(poll, self.path, nanos - ended.nested);
            } else {
                frame::section_ended(poll, nanos, ended.nested, self.path, self.timer.core());
            }
        }
    }
}

impl TimerGuard<'_> {
    /// Records the section of `nanos`, `nested` of them in sections that
    /// ended inside it, with what it allocated since it began if that is
    /// known: not when it ended on another thread, or in another timed
    /// poll than it began in (held across an `.await`, other tasks'
    /// allocations would count).
    #[inline(never)]
    fn record_counted(&self, nanos: u64, nested: u64, is_error: bool) {
        let moved = self.poll.is_some() && frame::current_poll() != self.poll;
        let scoped = match self.allocations {
            Some(mark) if !moved => allocations::leave(mark),
            _ => None,
        };
        let run = RunSample {
            nested,
            allocations: scoped.map(|scoped| AllocationSample {
                count: scoped.all.count,
                bytes: scoped.all.bytes,
                nested_count: scoped.nested.count,
                nested_bytes: scoped.nested.bytes,
            }),
            ..RunSample::single(nanos)
        };
        self.timer.core().record_run(&run, is_error);
    }
}

impl Drop for TimerGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.began_unwinding {
            if self.enabled {
                // Its time was spent: kept in `poll_total`, not a sample,
                // and in the part of the run (or section) it was in.
                let clock = self.timer.clock();
                let busy = ticks_between(self.start, clock.raw());
                let core = self.timer.core();
                core.end_run(End::Panicked, busy, 0, false);
                let nanos = clock.ticks_to_nanos(busy);
                self.nest(
                    sections::end(core, self.start, nanos, self.enclosing),
                    nanos,
                );
            }
        } else {
            self.finish(false);
        }
    }
}

impl fmt::Debug for TimerGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerGuard")
            .field("timer", &self.timer.name())
            .finish()
    }
}

impl TimerGuard<'_> {
    /// Adds `n` bytes to this section's timer.
    ///
    /// ```
    /// let timer = perf_timer::Registry::new().timer("parse");
    /// {
    ///     let guard = timer.start();
    ///     guard.add_bytes(512);
    /// }
    /// assert_eq!(timer.stats().bytes(), 512);
    /// ```
    pub fn add_bytes(&self, n: u64) {
        self.timer.core().add_bytes(n);
    }
}
