//! The slowest runs of one timer: the N slowest completed runs since the
//! start, and the slowest of the current interval. A run that enters
//! neither pays one relaxed load and a compare ([`Slowest::admits`]);
//! entering takes a lock, on the cold path.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use crate::read::SlowRun;

/// Where kept runs' trace ids come from: asked only for a run that is
/// kept, from inside its last poll.
#[derive(Clone)]
pub(crate) struct TraceIds(pub(crate) Arc<dyn Fn() -> Option<String> + Send + Sync>);

// A registry stays unwind-safe with a source: the source is only ever
// called (before any lock is taken, see `slow_run`), so a panic in it
// leaves nothing of ours half-changed.
impl std::panic::UnwindSafe for TraceIds {}
impl std::panic::RefUnwindSafe for TraceIds {}

impl std::fmt::Debug for TraceIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceIds(..)")
    }
}

/// A timer's slowest runs.
pub(crate) struct Slowest {
    /// How many to keep since the start; 0: none (and no interval's).
    keep: usize,
    /// The wall nanoseconds a run needs to enter either set: the least of
    /// one more than the N-th slowest kept (0 while fewer) and one more
    /// than the interval's slowest (0 while none). `u64::MAX` when off.
    floor: AtomicU64,
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    /// Slowest first, at most `keep`.
    runs: Vec<SlowRun>,
    /// The slowest since the interval was last taken.
    interval: Option<SlowRun>,
}

impl Slowest {
    pub(crate) fn new(keep: usize) -> Self {
        Slowest {
            keep,
            floor: AtomicU64::new(if keep == 0 { u64::MAX } else { 0 }),
            kept: Mutex::default(),
        }
    }

    /// Whether a run of `wall` nanoseconds enters the slowest runs.
    #[inline(always)]
    pub(crate) fn admits(&self, wall: u64) -> bool {
        wall >= self.floor.load(Relaxed)
    }

    /// Keeps `run` among the slowest, and as the interval's if it is.
    #[cold]
    #[inline(never)]
    pub(crate) fn keep(&self, run: SlowRun) {
        let mut kept = crate::poison::lock(&self.kept);
        let wall = run.wall;
        if kept.interval.as_ref().is_none_or(|r| wall > r.wall) {
            kept.interval = Some(run.clone());
        }
        let at = kept.runs.partition_point(|r| r.wall >= wall);
        if at < self.keep {
            kept.runs.insert(at, run);
            kept.runs.truncate(self.keep);
        }
        self.floor.store(self.floor_of(&kept), Relaxed);
    }

    fn floor_of(&self, kept: &Kept) -> u64 {
        let nth = if kept.runs.len() < self.keep {
            0
        } else {
            kept.runs.last().map_or(0, |r| r.wall.saturating_add(1))
        };
        let interval = kept
            .interval
            .as_ref()
            .map_or(0, |r| r.wall.saturating_add(1));
        nth.min(interval)
    }

    /// The runs kept since the start, slowest first.
    pub(crate) fn read(&self) -> Vec<SlowRun> {
        crate::poison::lock(&self.kept).runs.clone()
    }

    /// The slowest run since the last call, and a new interval from now.
    pub(crate) fn take_interval(&self) -> Option<SlowRun> {
        if self.keep == 0 {
            return None;
        }
        let mut kept = crate::poison::lock(&self.kept);
        let run = kept.interval.take();
        self.floor.store(self.floor_of(&kept), Relaxed);
        run
    }
}
