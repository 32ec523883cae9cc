//! `ProcessTime`: the process's CPU and wall time, and the share of that
//! CPU time the timers explain; the exit report's last line.

use std::fmt;
use std::time::Duration;

use super::format::Nanos;

/// The process's CPU time (user and system, all threads, from `getrusage`)
/// and wall time since the registry was made, and the timers' self busy time: every
/// poll's time less that of timed futures nested inside others, so that
/// nested timers do not count twice. Made by
/// [`Registry::process`](crate::Registry::process).
///
/// Prints as the exit report's last line:
///
/// ```text
/// process: 3.02 s CPU in 12.1 s, timers explain 41% (1.23 s self busy)
/// ```
///
/// With the default clock, busy time includes time the OS gave the CPU to
/// another thread, and runs recorded by hand (`Timer::record`) or timed on
/// another clock are busy time too: where self busy time passes the CPU
/// time, the line says so and why instead of printing a share above 100%.
///
/// ```
/// let registry = perf_timer::Registry::new();
/// # #[cfg(unix)] {
/// let process = registry.process().unwrap();
/// assert_eq!(process.self_busy(), std::time::Duration::ZERO);
/// println!("{process}");
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessTime {
    cpu: Duration,
    wall: Duration,
    self_busy: Duration,
}

impl ProcessTime {
    /// From figures read back (a saved run).
    #[cfg(feature = "save")]
    pub(crate) fn from_parts(cpu: Duration, wall: Duration, self_busy: Duration) -> Self {
        ProcessTime {
            cpu,
            wall,
            self_busy,
        }
    }

    /// From `created` (when the process had used `cpu_then`) to now.
    pub(crate) fn since(
        created: std::time::Instant,
        cpu_then: Duration,
        self_busy: Duration,
    ) -> Option<Self> {
        Some(ProcessTime {
            cpu: process_cpu()?.saturating_sub(cpu_then),
            wall: created.elapsed(),
            self_busy,
        })
    }

    /// The process's CPU time since the registry was made, user and
    /// system, all threads.
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// let registry = perf_timer::Registry::new();
    /// let start = std::time::Instant::now();
    /// while start.elapsed() < std::time::Duration::from_millis(30) {} // spin
    /// // Some of those 30 ms were on the CPU, however loaded the machine.
    /// assert!(registry.process().unwrap().cpu() > std::time::Duration::ZERO);
    /// # }
    /// ```
    pub fn cpu(&self) -> std::time::Duration {
        self.cpu
    }

    /// Wall time since the registry was made.
    ///
    /// ```
    /// # #[cfg(unix)]
    /// assert!(perf_timer::Registry::new().process().unwrap().wall() < std::time::Duration::from_secs(60));
    /// ```
    pub fn wall(&self) -> std::time::Duration {
        self.wall
    }

    /// The timers' busy time, nested timed futures counted once.
    ///
    /// ```
    /// # #[cfg(unix)]
    /// assert_eq!(perf_timer::Registry::new().process().unwrap().self_busy(), std::time::Duration::ZERO);
    /// ```
    pub fn self_busy(&self) -> std::time::Duration {
        self.self_busy
    }

    /// Self busy time over CPU time: how much of what the process ran the
    /// timers account for (0 when no CPU time was used).
    ///
    /// ```
    /// # #[cfg(unix)]
    /// assert_eq!(perf_timer::Registry::new().process().unwrap().explained(), 0.0);
    /// ```
    pub fn explained(&self) -> f64 {
        if self.cpu.is_zero() {
            return 0.0;
        }
        self.self_busy.as_secs_f64() / self.cpu.as_secs_f64()
    }
}

impl fmt::Display for ProcessTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = |d: Duration| Nanos(d.as_nanos() as f64);
        let (cpu, wall, busy) = (nanos(self.cpu), nanos(self.wall), nanos(self.self_busy));
        let share = self.explained() * 100.0;
        // Rounds to at most 100 %: a share, said as one.
        if share < 100.5 {
            return write!(
                f,
                "process: {cpu} CPU in {wall}, timers explain {share:.0}% ({busy} self busy)"
            );
        }
        // More busy time than CPU time is not a share: say where it comes from.
        write!(
            f,
            "process: {cpu} CPU in {wall}; the timers' {busy} of self busy time is more than that \
             ({share:.0}%): busy time counts time the OS gave the thread to others, runs recorded \
             by hand, and runs timed on another clock"
        )
    }
}

/// User plus system CPU time of the whole process.
#[cfg(unix)]
pub(crate) fn process_cpu() -> Option<Duration> {
    // SAFETY: `rusage` is plain data, valid when zeroed; `getrusage` only
    // writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a `rusage` the call may write.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Some(time(usage.ru_utime) + time(usage.ru_stime))
}

#[cfg(not(unix))]
pub(crate) fn process_cpu() -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_reads_like_the_report() {
        let process = ProcessTime {
            cpu: Duration::from_millis(3020),
            wall: Duration::from_millis(12100),
            self_busy: Duration::from_millis(1230),
        };
        assert_eq!(
            process.to_string(),
            "process: 3.02 s CPU in 12.1 s, timers explain 41% (1.23 s self busy)"
        );
    }

    #[test]
    fn more_busy_than_cpu_time_says_why_instead_of_a_share() {
        let process = ProcessTime {
            cpu: Duration::from_micros(405),
            wall: Duration::from_micros(408),
            self_busy: Duration::from_micros(77_100),
        };
        let line = process.to_string();
        assert!(
            line.starts_with("process: 405 µs CPU in 408 µs; the timers' 77.1 ms of self busy time is more than that (19037%): "),
            "{line}"
        );
        assert!(!line.contains("explain"), "{line}");
    }
}
