//! The slowest runs of a timer, kept with where their wall time went.

use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::report::ns;

/// One completed run kept among its timer's slowest ([`Stats::slowest`](crate::Stats::slowest)):
/// its wall, busy and self time, one [`Part`] per direct timed child, the
/// idle time in no timed child, when it ended and its trace id.
///
/// Its times add up to its wall time:
/// `self_time + Σ(part.busy + part.idle) + idle_untimed == wall` (to the
/// clock's resolution; exactly on a mock clock).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use perf_timer::{Clock, Registry};
///
/// let registry = Registry::new();
/// let (db, api) = (registry.timer("db"), registry.timer("api"));
/// api.time(async {
///     db.time(tokio::time::sleep(Duration::from_millis(20))).await;
/// })
/// .await;
/// let stats = registry.stats("api").unwrap();
/// let run = &stats.slowest()[0];
/// let db_part = &run.parts()[0];
/// assert_eq!(db_part.name(), "db");
/// assert!(db_part.idle() >= Duration::from_millis(20)); // parked in db
/// let sum = run.self_time() + db_part.busy() + db_part.idle() + run.idle_untimed();
/// assert_eq!(sum, run.wall());
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowRun {
    pub(crate) wall: u64,
    pub(crate) busy: u64,
    pub(crate) self_time: u64,
    pub(crate) idle_untimed: u64,
    pub(crate) parts: Vec<Part>,
    pub(crate) ended: SystemTime,
    pub(crate) trace_id: Option<String>,
    pub(crate) error: bool,
}

/// Where part of a run's wall time went: one direct timed child of the
/// run (a timed future polled inside its polls, or a timed sync section),
/// by timer name. Children past the run's first seven names share one
/// part named `(other)`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let registry = perf_timer::Registry::new();
/// let child = registry.timer("child");
/// registry.timer("parent").time(async { child.time(async {}).await }).await;
/// let stats = registry.stats("parent").unwrap();
/// let run = &stats.slowest()[0];
/// assert_eq!((run.parts()[0].name(), run.parts()[0].runs()), ("child", 1));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub(crate) name: Arc<str>,
    pub(crate) busy: u64,
    pub(crate) idle: u64,
    pub(crate) runs: u64,
}

impl SlowRun {
    /// First poll to `Ready`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let timer = perf_timer::Registry::new().timer("t");
    /// timer.time(async {}).await;
    /// let stats = timer.stats();
    /// let run = &stats.slowest()[0];
    /// assert!(run.wall() >= run.busy());
    /// # }
    /// ```
    pub fn wall(&self) -> Duration {
        Duration::from_nanos(self.wall)
    }

    /// The run's busy time: the sum of its poll times, its children's
    /// included.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let timer = perf_timer::Registry::new().timer("t");
    /// timer.time(async {}).await;
    /// let stats = timer.stats();
    /// let run = &stats.slowest()[0];
    /// assert_eq!(run.busy(), run.self_time()); // no timed child
    /// # }
    /// ```
    pub fn busy(&self) -> Duration {
        Duration::from_nanos(self.busy)
    }

    /// Busy time less its parts' busy time: what its own code ran.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let timer = perf_timer::Registry::new().timer("t");
    /// timer.time(async {}).await;
    /// assert!(timer.stats().slowest()[0].self_time() <= timer.stats().max());
    /// # }
    /// ```
    pub fn self_time(&self) -> Duration {
        Duration::from_nanos(self.self_time)
    }

    /// Idle time while no timed child was the one pending (waiting on
    /// untimed I/O, a timer, a lock, or for a worker thread).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let timer = perf_timer::Registry::new().timer("t");
    /// timer.time(async {}).await;
    /// assert_eq!(timer.stats().slowest()[0].idle_untimed(), std::time::Duration::ZERO);
    /// # }
    /// ```
    pub fn idle_untimed(&self) -> Duration {
        Duration::from_nanos(self.idle_untimed)
    }

    /// One part per direct timed child, by name, in the order they first
    /// ran.
    ///
    /// **Parked in.** The idle time of a run (between one of its polls and
    /// the next) goes to exactly one part: the timed child whose `Pending`
    /// came last before the gap, while it is still pending (it has not
    /// returned `Ready` or been dropped since; a poll that polls no child
    /// leaves it pending); if no timed child is, to
    /// [`idle_untimed`](SlowRun::idle_untimed).
    /// With concurrent children (`join!`, `select!`, `FuturesUnordered`),
    /// the gap goes to the one polled last among those still pending, so
    /// nothing counts twice, and a child still pending after the others
    /// finished gets the rest of the wait. A child dropped unfinished (a
    /// `timeout` that elapsed, a `select!` lost) is parked in no more. A
    /// child polled by another task
    /// (a spawned one) is not nested: it is no part.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// let registry = perf_timer::Registry::new();
    /// let (a, b) = (registry.timer("a"), registry.timer("b"));
    /// let sleep = |ms| tokio::time::sleep(Duration::from_millis(ms));
    /// registry
    ///     .timer("both")
    ///     .time(async { tokio::join!(a.time(sleep(10)), b.time(sleep(30))) })
    ///     .await;
    /// let stats = registry.stats("both").unwrap();
    /// let run = &stats.slowest()[0];
    /// let names: Vec<_> = run.parts().iter().map(|p| p.name()).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// assert!(run.parts()[1].idle() >= Duration::from_millis(30)); // b: polled last, pending longest
    /// # }
    /// ```
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// When the run ended (its last poll), on the system clock.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let timer = perf_timer::Registry::new().timer("t");
    /// timer.time(async {}).await;
    /// assert!(timer.stats().slowest()[0].ended() <= std::time::SystemTime::now());
    /// # }
    /// ```
    pub fn ended(&self) -> SystemTime {
        self.ended
    }

    /// The trace id its registry's source
    /// ([`RegistryBuilder::trace_ids`](crate::RegistryBuilder::trace_ids))
    /// gave inside the run's last poll; `None` without a source or when it
    /// had none.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::builder()
    ///     .trace_ids(|| Some("4bf92f3577b34da6a3ce929d0e0e4736".to_owned()))
    ///     .build()
    ///     .unwrap();
    /// let timer = registry.timer("t");
    /// timer.time(async {}).await;
    /// assert_eq!(timer.stats().slowest()[0].trace_id(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    /// # }
    /// ```
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }

    /// Whether its output counted as an error ([`Stats::errors`](crate::Stats::errors)).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let timer = perf_timer::Registry::new().timer("t");
    /// timer.time(async {}).await;
    /// assert!(!timer.stats().slowest()[0].is_error());
    /// # }
    /// ```
    pub fn is_error(&self) -> bool {
        self.error
    }
}

impl Part {
    /// The child's timer name; `(other)` for children past the first seven.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::new();
    /// let child = registry.timer("child");
    /// registry.timer("parent").time(async { child.time(async {}).await }).await;
    /// assert_eq!(registry.stats("parent").unwrap().slowest()[0].parts()[0].name(), "child");
    /// # }
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The child's busy time inside this run, its own nested children
    /// included.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::new();
    /// let child = registry.timer("child");
    /// registry.timer("parent").time(async { child.time(async {}).await }).await;
    /// let stats = registry.stats("parent").unwrap();
    /// let run = &stats.slowest()[0];
    /// assert!(run.parts()[0].busy() <= run.busy());
    /// # }
    /// ```
    pub fn busy(&self) -> Duration {
        Duration::from_nanos(self.busy)
    }

    /// The time this run was parked in the child: idle while the child was
    /// the one pending (see [`SlowRun::parts`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::new();
    /// let child = registry.timer("child");
    /// registry.timer("parent").time(async { child.time(async {}).await }).await;
    /// assert_eq!(registry.stats("parent").unwrap().slowest()[0].parts()[0].idle(), std::time::Duration::ZERO);
    /// # }
    /// ```
    pub fn idle(&self) -> Duration {
        Duration::from_nanos(self.idle)
    }

    /// How many runs of the child started inside this run.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::new();
    /// let child = registry.timer("child");
    /// registry
    ///     .timer("parent")
    ///     .time(async {
    ///         child.time(async {}).await;
    ///         child.time(async {}).await;
    ///     })
    ///     .await;
    /// assert_eq!(registry.stats("parent").unwrap().slowest()[0].parts()[0].runs(), 2);
    /// # }
    /// ```
    pub fn runs(&self) -> u64 {
        self.runs
    }
}

/// Most children named in each list of a run's line.
const NAMED: usize = 3;

/// Where the run's wall time went, on one line: its wall time, the
/// children it was parked in longest, its idle time in no timed child, its
/// busy time and the children that took most of it (three of each at most),
/// as the report prints it under a timer's line:
/// `120 ms: parked 98.1 ms in db::query, 15.0 ms in cache::get; busy 6.20 ms (serialize 4.00 ms)`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use perf_timer::{Clock, Registry};
///
/// let (clock, mock) = Clock::mock();
/// let registry = Registry::builder().clock(clock).build().unwrap();
/// let db = registry.timer("db");
/// registry
///     .timer("api")
///     .time(async { db.time(async { mock.advance(Duration::from_millis(2)) }).await })
///     .await;
/// let stats = registry.stats("api").unwrap();
/// assert_eq!(stats.slowest()[0].to_string(), "2.00 ms: busy 2.00 ms (db 2.00 ms)");
/// # }
/// ```
impl fmt::Display for SlowRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", ns(self.wall()))?;
        let mut parked: Vec<&Part> = (self.parts.iter()).filter(|p| p.idle > 0).collect();
        parked.sort_by_key(|p| std::cmp::Reverse(p.idle));
        let mut sep = ": parked ";
        for part in parked.iter().take(NAMED) {
            write!(
                f,
                "{sep}{} in {}",
                ns(part.idle()),
                part.name().escape_debug()
            )?;
            sep = ", ";
        }
        // Wall, busy and each part convert their ticks apart: each may be
        // a nanosecond short, so a few nanoseconds of untimed idle are
        // rounding, not time, and are not worth a word.
        let rounding = self.parts.len() as u64 + 2;
        let untimed = self.idle_untimed > rounding;
        if untimed {
            let what = if parked.is_empty() {
                ": idle "
            } else {
                ", idle "
            };
            write!(f, "{what}{} untimed", ns(self.idle_untimed()))?;
        }
        let lead = if parked.is_empty() && !untimed {
            ": "
        } else {
            "; "
        };
        write!(f, "{lead}busy {}", ns(self.busy()))?;
        let mut busy: Vec<&Part> = (self.parts.iter()).filter(|p| p.busy > 0).collect();
        busy.sort_by_key(|p| std::cmp::Reverse(p.busy));
        let mut sep = " (";
        for part in busy.iter().take(NAMED) {
            write!(f, "{sep}{} {}", part.name().escape_debug(), ns(part.busy()))?;
            sep = ", ";
        }
        if !busy.is_empty() {
            f.write_char(')')?;
        }
        Ok(())
    }
}
