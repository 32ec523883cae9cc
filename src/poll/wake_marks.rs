//! The marks of the runs sampled for scheduling delay: which run is
//! sampled, the waker that notes a sampled run's wake, and the table that
//! keeps each run's mark from one poll to the next. Used by the run (to
//! decide and to forget) and by `scheduled` (to poll).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Wake, Waker};

use crate::record::{Sharded, SHARDS};
use crate::state::timer::Timer;

/// Whether the run starting now on this thread is sampled, one in `every`.
pub(crate) fn sample_this_run(every: u32) -> bool {
    thread_local! {
        static RUNS: Cell<u32> = const { Cell::new(0) };
    }
    crate::state::slow::one_in(&RUNS, every)
}

/// The waker a sampled poll hands its future: notes the first wake, then
/// wakes the task.
pub(crate) struct WakeMark {
    /// Wall reading of the first wake plus one; 0: not woken yet.
    woke_at: AtomicU64,
    task: Waker,
    timer: Timer,
}

impl WakeMark {
    pub(crate) fn new(task: Waker, timer: Timer) -> Arc<Self> {
        Arc::new(WakeMark {
            woke_at: AtomicU64::new(0),
            task,
            timer,
        })
    }
}

impl Wake for WakeMark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let now = self.timer.clock().wall_now().saturating_add(1);
        let _ = self
            .woke_at
            .compare_exchange(0, now, Ordering::Release, Ordering::Relaxed);
        self.task.wake_by_ref();
    }
}

/// At most this many runs are sampled at a time per shard, so that the
/// table stays small even if a run is moved between polls (an `Unpin`
/// future polled by hand) and so leaves its mark behind.
const MARKS_PER_SHARD: usize = 256;

type Marks = BTreeMap<usize, Arc<WakeMark>>;

/// The marks of the sampled runs, by the address of their `Run` (stable:
/// a timed future is pinned while polled), in shards.
static MARKS: Sharded<Marks> = Sharded::new([const { Mutex::new(BTreeMap::new()) }; SHARDS]);

fn shard(key: usize) -> MutexGuard<'static, Marks> {
    // `Run`s are 8-aligned and 40 bytes apart at best: the hash mixes them.
    MARKS.of(key as u64)
}

pub(crate) fn forget(key: usize) {
    shard(key).remove(&key);
}

/// Keeps `mark` for the sampled run at `key` (unless the table is full)
/// and returns when the run's previous mark was woken (a wall reading), if
/// it was.
pub(crate) fn replace(key: usize, mark: Arc<WakeMark>) -> Option<u64> {
    let previous = {
        let mut marks = shard(key);
        if marks.len() < MARKS_PER_SHARD || marks.contains_key(&key) {
            marks.insert(key, mark)
        } else {
            None
        }
    };
    match previous?.woke_at.load(Ordering::Acquire) {
        0 => None,
        woke_at => Some(woke_at - 1),
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future as _;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::registry::Registry;

    fn marks() -> usize {
        MARKS.each().map(|m| m.len()).sum()
    }

    #[test]
    fn every_way_a_sampled_run_ends_drops_its_mark() {
        let registry = Registry::builder().scheduling_delay(1).build().unwrap();
        let timer = registry.timer("sampled");
        let mut cx = Context::from_waker(Waker::noop());
        let mut completes = 2;
        let mut completed = Box::pin(timer.time(std::future::poll_fn(move |cx| {
            completes -= 1;
            if completes == 0 {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })));
        let mut cancelled = Box::pin(timer.time(std::future::pending::<()>()));
        let mut panics = Box::pin(timer.time(std::future::poll_fn(|_| -> Poll<()> {
            panic!("sampled and panicking")
        })));
        assert!(completed.as_mut().poll(&mut cx).is_pending());
        assert!(cancelled.as_mut().poll(&mut cx).is_pending());
        assert_eq!(marks(), 2);
        assert!(completed.as_mut().poll(&mut cx).is_ready());
        drop(cancelled);
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = panics.as_mut().poll(&mut cx);
        }));
        assert!(unwound.is_err());
        assert_eq!(marks(), 0);
        drop(panics);
        let stats = timer.stats();
        assert_eq!(
            (stats.count(), stats.cancelled(), stats.panicked()),
            (1, 1, 1)
        );
        assert_eq!(stats.scheduled().count(), 1, "one wake, one delay");
    }
}
