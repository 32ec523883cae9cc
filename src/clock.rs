//! Time sources: quanta's TSC clock, `std::time::Instant`, and a mock for tests.
//!
//! The hot path works in raw ticks (`Clock::raw`) and converts to nanoseconds
//! when a run completes, when the task perf counter is read, and for a poll
//! nested inside another timed future (its time is the outer run's nested
//! time, kept in nanoseconds): one scale per run for an unnested future.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The clock a [`Registry`](crate::Registry) reads on every poll.
///
/// * [`Clock::tsc`] (the default): quanta's calibrated TSC, about 10 ns a read here;
///   where no invariant TSC exists it falls back to the OS monotonic clock.
/// * [`Clock::std`]: `std::time::Instant`, about 25 ns a read.
/// * [`Clock::thread_cpu`] (Unix): the thread's CPU time, about 420 ns a read
///   here (a system call): busy time is then CPU time, leaving out time a
///   poll spent blocked inside `poll` (a `std::thread::sleep`, a contended
///   sync mutex, sync I/O) and time the OS gave the CPU to another thread,
///   both of which the other clocks count. Wall time, idle time and
///   intervals still come from a monotonic clock (`Instant`, read once more
///   at a run's first and each poll's end).
/// * [`Clock::mock`]: time moves only when a test says so, for exact accounting.
///
/// ```
/// use perf_timer::{Clock, Registry};
///
/// let registry = Registry::builder().clock(Clock::std()).build().unwrap();
/// # drop(registry);
/// ```
#[derive(Clone)]
pub struct Clock {
    source: Source,
}

#[derive(Clone)]
enum Source {
    /// quanta's clock, through its documented `raw()` and `delta_as_nanos`:
    /// the TSC where quanta trusts it, else the OS monotonic clock. Reading
    /// the TSC inline instead saved 0.5 ns per poll (two reads: 25.4 ns
    /// against 26.0 ns, `cargo bench -p perf-timer-benches --bench overhead -- clock/`), too
    /// little to rely on how quanta reads it.
    Quanta(quanta::Clock),
    /// quanta's mock clock, read the same way.
    Mock(quanta::Clock),
    Std(Instant),
    /// The thread's CPU time for busy time; wall time from `Instant`
    /// nanoseconds since the first CPU clock was made ([`cpu_wall_nanos`]).
    /// One base for the whole process, so that wall readings of any two
    /// CPU clocks compare.
    #[cfg(unix)]
    ThreadCpu,
}

impl Clock {
    /// quanta's TSC clock, calibrated once per process (the default).
    ///
    /// ```
    /// let clock = perf_timer::Clock::tsc();
    /// # drop(clock);
    /// ```
    pub fn tsc() -> Self {
        Clock {
            source: Source::Quanta(quanta::Clock::new()),
        }
    }

    /// `std::time::Instant`, for platforms where the TSC is not trusted.
    ///
    /// ```
    /// let clock = perf_timer::Clock::std();
    /// # drop(clock);
    /// ```
    pub fn std() -> Self {
        Clock {
            source: Source::Std(Instant::now()),
        }
    }

    /// The calling thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`): a poll's
    /// time is the CPU it used, so time blocked inside `poll` is left out.
    /// About 20× the cost of a TSC read; use it to find blocking, not by default.
    ///
    /// ```
    /// let registry = perf_timer::Registry::builder()
    ///     .clock(perf_timer::Clock::thread_cpu())
    ///     .build()
    ///     .unwrap();
    /// # drop(registry);
    /// ```
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn thread_cpu() -> Self {
        Clock {
            source: {
                cpu_wall_nanos();
                Source::ThreadCpu
            },
        }
    }

    /// A clock that stands still until the returned [`MockClock`] moves it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use perf_timer::{Clock, Registry};
    ///
    /// let (clock, mock) = Clock::mock();
    /// let registry = Registry::builder().clock(clock).build().unwrap();
    /// let timer = registry.timer("parse");
    /// {
    ///     let _guard = timer.start();
    ///     mock.advance(Duration::from_micros(7));
    /// }
    /// assert_eq!(timer.stats().total(), Duration::from_micros(7));
    /// ```
    pub fn mock() -> (Self, MockClock) {
        let (clock, mock) = quanta::Clock::mock();
        (
            Clock {
                source: Source::Mock(clock),
            },
            MockClock { mock },
        )
    }

    /// The current reading in ticks: quanta's raw units (TSC cycles where it
    /// uses the TSC), or nanoseconds for the other sources. Readings are only
    /// ever compared on the thread that took them.
    #[inline(always)]
    pub(crate) fn raw(&self) -> u64 {
        match &self.source {
            Source::Quanta(clock) | Source::Mock(clock) => clock.raw(),
            // u64 nanoseconds since the clock was made: 584 years of headroom.
            Source::Std(base) => base.elapsed().as_nanos() as u64,
            #[cfg(unix)]
            Source::ThreadCpu => thread_cpu_nanos(),
        }
    }

    /// The wall reading that goes with `reading`, a `raw` reading just
    /// taken: the same, except for the CPU clock, whose readings are per
    /// thread and stand still while the thread waits. Wall time (a run's
    /// first poll to its end, idle time, intervals, flush deadlines) is
    /// measured between wall readings, in the same units as `raw`.
    #[inline(always)]
    pub(crate) fn wall_at(&self, reading: u64) -> u64 {
        match &self.source {
            #[cfg(unix)]
            Source::ThreadCpu => cpu_wall_nanos(),
            _ => reading,
        }
    }

    /// A wall reading now (see [`wall_at`](Clock::wall_at)).
    pub(crate) fn wall_now(&self) -> u64 {
        match &self.source {
            #[cfg(unix)]
            Source::ThreadCpu => cpu_wall_nanos(),
            _ => self.raw(),
        }
    }

    /// Whether busy time is CPU time (and wall time another clock's).
    pub(crate) fn is_cpu(&self) -> bool {
        #[cfg(unix)]
        if let Source::ThreadCpu = self.source {
            return true;
        }
        false
    }

    /// Converts a tick count (a difference of two `raw` readings) to nanoseconds.
    #[inline]
    pub(crate) fn ticks_to_nanos(&self, ticks: u64) -> u64 {
        match &self.source {
            Source::Quanta(clock) | Source::Mock(clock) => clock.delta_as_nanos(0, ticks),
            _ => ticks,
        }
    }

    /// Converts nanoseconds to ticks (for thresholds compared on the hot path).
    pub(crate) fn nanos_to_ticks(&self, nanos: u64) -> u64 {
        // Scale by the nanoseconds that 2^32 ticks make: exact for the
        // nanosecond clocks, within calibration for the TSC.
        const PROBE: u64 = 1 << 32;
        let per_probe = u128::from(self.ticks_to_nanos(PROBE).max(1));
        let ticks = u128::from(nanos) * u128::from(PROBE) / per_probe;
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }
}

/// Wall time for the CPU clock: `Instant` nanoseconds since the first CPU
/// clock was made.
#[cfg(unix)]
fn cpu_wall_nanos() -> u64 {
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// The calling thread's CPU time in nanoseconds.
#[cfg(unix)]
pub(crate) fn thread_cpu_nanos() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; the call only writes it.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } == 0;
    if !ok {
        return 0;
    }
    (now.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(now.tv_nsec as u64)
}

/// `duration` in whole nanoseconds, `u64::MAX` past 584 years.
pub(crate) fn saturating_nanos(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Ticks from `start` to `end`; a reading that went backwards gives 0.
#[inline(always)]
pub(crate) fn ticks_between(start: u64, end: u64) -> u64 {
    end.saturating_sub(start)
}

impl Default for Clock {
    fn default() -> Self {
        Clock::tsc()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match &self.source {
            Source::Quanta(_) => "Clock::tsc",
            Source::Mock(_) => "Clock::mock",
            Source::Std(_) => "Clock::std",
            #[cfg(unix)]
            Source::ThreadCpu => "Clock::thread_cpu",
        };
        f.write_str(name)
    }
}

/// The handle that moves a [`Clock::mock`] clock.
///
/// ```
/// use std::time::Duration;
///
/// let (_clock, mock) = perf_timer::Clock::mock();
/// mock.advance(Duration::from_millis(2));
/// mock.rewind(Duration::from_millis(1)); // a clock going backwards: recorded as 0
/// ```
#[derive(Clone)]
pub struct MockClock {
    mock: Arc<quanta::Mock>,
}

impl MockClock {
    /// Moves the clock forward.
    ///
    /// ```
    /// let (_clock, mock) = perf_timer::Clock::mock();
    /// mock.advance(std::time::Duration::from_nanos(250));
    /// ```
    pub fn advance(&self, by: Duration) {
        self.mock.increment(by);
    }

    /// Moves the clock backward, to exercise clocks that are not monotonic.
    ///
    /// ```
    /// let (_clock, mock) = perf_timer::Clock::mock();
    /// mock.advance(std::time::Duration::from_nanos(10));
    /// mock.rewind(std::time::Duration::from_nanos(5));
    /// ```
    /// A rewind past the clock's start stops at its start.
    pub fn rewind(&self, by: Duration) {
        let by = (by.as_nanos() as u64).min(self.mock.value());
        self.mock.decrement(by);
    }
}

impl fmt::Debug for MockClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockClock")
            .field("nanos", &self.mock.value())
            .finish()
    }
}
