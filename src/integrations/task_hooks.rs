//! Runtime-wide timing through tokio's task hooks: every task's busy time
//! per spawn location, without wrapping a single future.
//!
//! Needs tokio's unstable API: build with `RUSTFLAGS="--cfg tokio_unstable"`
//! and the feature `tokio-unstable`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use tokio::runtime::{Builder, TaskMeta};
use tokio::task::Id;

use crate::poll::run::Run;
use crate::record::{Sharded, FIBONACCI};
use crate::registry::Registry;
use crate::state::timer::Timer;

/// A task's run so far.
struct TaskRun {
    timer: Timer,
    run: Run,
}

/// What the hooks share: live tasks (sharded, to keep workers off each
/// other's locks) and one timer per spawn location.
struct Hooks {
    /// Tells this instance's polls from another's on the same thread.
    instance: u64,
    registry: Registry,
    tasks: Sharded<TaskMap>,
    timers: Mutex<HashMap<usize, Timer>>,
}

/// Live tasks by id. Ids are distinct integers handed out in sequence, not
/// chosen by an adversary: a multiplicative hash spreads them, where the
/// default SipHash cost tens of nanoseconds per poll, twice.
type TaskMap = HashMap<Id, TaskRun, BuildHasherDefault<IdHasher>>;

/// Fibonacci hashing of the `u64` a task id hashes as.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Not reached for `Id` (one `u64`); a fold keeps it correct anyway.
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(FIBONACCI);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A poll in progress on this thread: whose hooks, which task, and the
/// clock reading when it began.
#[derive(Clone, Copy)]
struct Polling {
    instance: u64,
    task: Id,
    start: u64,
}

thread_local! {
    /// The polls in progress on this thread, innermost last: more than one
    /// when a hooked runtime runs inside a task of another (say a
    /// current-thread runtime inside `block_in_place`).
    static POLLING: RefCell<Vec<Polling>> = const { RefCell::new(Vec::new()) };
}

/// Takes this instance's poll of `task` off the thread's stack, if there.
fn take_polling(instance: u64, task: Id) -> Option<Polling> {
    POLLING.with(|stack| {
        let mut stack = stack.borrow_mut();
        let at = (stack.iter()).rposition(|p| p.instance == instance && p.task == task)?;
        Some(stack.remove(at))
    })
}

impl Hooks {
    fn shard(&self, id: Id) -> std::sync::MutexGuard<'_, TaskMap> {
        // The id's hash is already a multiplicative one: its top bits pick.
        self.tasks
            .at_hash(BuildHasherDefault::<IdHasher>::default().hash_one(id))
    }

    fn timer_for(&self, location: &'static std::panic::Location<'static>) -> Timer {
        let key = location as *const _ as usize;
        let mut timers = crate::poison::lock(&self.timers);
        timers
            .entry(key)
            .or_insert_with(|| {
                let name = format!("{}:{}", location.file(), location.line());
                self.registry.timer(&name)
            })
            .clone()
    }

    fn spawned(&self, meta: &TaskMeta<'_>) {
        let run = TaskRun {
            timer: self.timer_for(meta.spawned_at()),
            run: Run::new(),
        };
        self.shard(meta.id()).insert(meta.id(), run);
    }

    fn before_poll(&self, meta: &TaskMeta<'_>) {
        let polling = Polling {
            instance: self.instance,
            task: meta.id(),
            start: self.registry.clock_raw(),
        };
        POLLING.with(|stack| stack.borrow_mut().push(polling));
    }

    fn after_poll(&self, meta: &TaskMeta<'_>) {
        let end = self.registry.clock_raw();
        let Some(polling) = take_polling(self.instance, meta.id()) else {
            return; // the task terminated inside this poll, which counted it
        };
        if let Some(run) = self.shard(meta.id()).get_mut(&meta.id()) {
            run.run.add_poll(run.timer.core(), polling.start, end, true);
        }
    }

    fn terminated(&self, meta: &TaskMeta<'_>) {
        let Some(mut run) = self.shard(meta.id()).remove(&meta.id()) else {
            return;
        };
        // A task that completes terminates inside its last poll, before the
        // after-poll hook: count that poll here.
        if let Some(polling) = take_polling(self.instance, meta.id()) {
            let end = self.registry.clock_raw();
            run.run.add_poll(run.timer.core(), polling.start, end, true);
        }
        run.run.finish(run.timer.core());
    }
}

/// Installs tokio's task hooks on `builder` so that every task the runtime
/// runs is timed into `registry`, under the timer named after the place it
/// was spawned (`file:line`): one run per task, its busy time the sum of its
/// polls, its wall time first poll to termination. No future is wrapped.
///
/// It replaces any `on_task_spawn`, `on_before_task_poll`,
/// `on_after_task_poll` and `on_task_terminate` hooks set before. A task
/// ending by abort or panic is recorded like one that completed (tokio's
/// hooks do not say how a task ended). Each poll costs a lock of one of 16
/// shards and a hash lookup: far more than a [`Timed`](crate::instrument::timed::Timed) poll,
/// and no code changes.
///
/// Needs tokio's unstable API: build with `RUSTFLAGS="--cfg tokio_unstable"`
/// and the feature `tokio-unstable`.
///
/// ```
/// # #[cfg(tokio_unstable)] {
/// let registry = perf_timer::Registry::new();
/// let mut builder = tokio::runtime::Builder::new_multi_thread();
/// perf_timer::install_task_hooks(&mut builder, &registry);
/// let runtime = builder.enable_all().build().unwrap();
/// runtime.block_on(async {
///     tokio::spawn(async { /* work */ }).await.unwrap();
/// });
/// drop(runtime);
/// assert_eq!(registry.snapshot().iter().map(|s| s.count()).sum::<u64>(), 1);
/// # }
/// ```
pub fn install_task_hooks<'b>(builder: &'b mut Builder, registry: &Registry) -> &'b mut Builder {
    static INSTANCES: AtomicU64 = AtomicU64::new(0);
    let hooks = Arc::new(Hooks {
        instance: INSTANCES.fetch_add(1, Relaxed),
        registry: registry.clone(),
        tasks: Sharded::default(),
        timers: Mutex::default(),
    });
    let (spawn, before, after, terminate) = (hooks.clone(), hooks.clone(), hooks.clone(), hooks);
    builder
        .on_task_spawn(move |meta| spawn.spawned(meta))
        .on_before_task_poll(move |meta| before.before_poll(meta))
        .on_after_task_poll(move |meta| after.after_poll(meta))
        .on_task_terminate(move |meta| terminate.terminated(meta))
}
