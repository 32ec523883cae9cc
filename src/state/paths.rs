//! Nesting paths (`api;service;db`) of one registry: per path, the runs
//! that ran there, their self busy time, and the time outermost runs were
//! parked there. Bounded: past [`MAX_PATHS`] paths, new ones count in one
//! `(other)` path.
//!
//! A path is resolved once per run and parent (at the first poll of a
//! timed child in its parent's run), through a per-thread cache keyed by
//! (table, parent path, timer), never per poll. The counters are atomics
//! indexed by path id, touched when a run with parts ends.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};

use super::path_shards;
use crate::record::FIBONACCI;
use crate::state::timer::TimerCore;

/// No path (an outermost run's, not resolved yet).
pub(crate) const NO_PATH: u32 = 0;
/// Where paths past the cap count.
pub(crate) const OTHER_PATH: u32 = 1;
/// The name of that path.
pub(crate) const OTHER_NAME: &str = "(other)";

/// Most distinct paths per registry.
pub(crate) const MAX_PATHS: usize = 1024;

/// Paths per chunk of counters.
const CHUNK: usize = 64;
/// Chunks for `MAX_PATHS` paths, `(other)` and the unused id 0.
const CHUNKS: usize = (MAX_PATHS + 2).div_ceil(CHUNK);

/// One path's counters: 24 bytes.
#[derive(Default)]
struct Counters {
    runs: AtomicU64,
    self_busy: AtomicU64,
    parked: AtomicU64,
}

/// Each path's parent and last name, and the way back from them.
#[derive(Default)]
struct Names {
    /// By path id less 2: (parent id, name).
    nodes: Vec<(u32, Arc<str>)>,
    /// Parent id → name → id.
    index: HashMap<u32, HashMap<Arc<str>, u32>>,
}

/// The paths of one registry.
pub(crate) struct Paths {
    /// Unique in the process: what the per-thread cache keys on, so that a
    /// table made where a dropped one was is never mistaken for it.
    uid: u64,
    /// The counters by path id, in chunks of [`CHUNK`] allocated as the
    /// paths come: memory grows with the paths, not with the cap.
    counters: [OnceLock<Box<[Counters; CHUNK]>>; CHUNKS],
    names: Mutex<Names>,
}

/// One path as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathLine {
    /// Timer names from the outermost, each as it is (a `;` in a name is
    /// not escaped here: `Folded` does it).
    pub(crate) names: Vec<Arc<str>>,
    pub(crate) runs: u64,
    pub(crate) self_busy: u64,
    pub(crate) parked: u64,
}

impl Default for Paths {
    fn default() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Paths {
            uid: NEXT.fetch_add(1, Relaxed),
            counters: [const { OnceLock::new() }; CHUNKS],
            names: Mutex::default(),
        }
    }
}

impl Paths {
    /// Unique in the process.
    #[inline]
    pub(crate) fn uid(&self) -> u64 {
        self.uid
    }

    /// The id of the path `parent;name`, made if new (or `(other)` past
    /// the cap). Takes the table's lock: the cold path.
    #[cold]
    fn intern(&self, parent: u32, name: &Arc<str>) -> (u32, *const u8) {
        if parent == OTHER_PATH {
            return (OTHER_PATH, std::ptr::null());
        }
        // The table is the library's: what it allocates counts for no run.
        let _unseen = crate::alloc::thread::unseen();
        self.chunk(OTHER_PATH);
        let mut names = crate::poison::lock(&self.names);
        if let Some(&id) = names.index.get(&parent).and_then(|m| m.get(&**name)) {
            let kept = &names.nodes[id as usize - 2].1;
            return (id, kept.as_ptr());
        }
        if names.nodes.len() >= MAX_PATHS {
            return (OTHER_PATH, std::ptr::null());
        }
        let id = names.nodes.len() as u32 + 2;
        self.chunk(id);
        names.nodes.push((parent, name.clone()));
        (names.index.entry(parent).or_default()).insert(name.clone(), id);
        (id, name.as_ptr())
    }

    /// The counters of path `id`, their chunk made if needed.
    fn chunk(&self, id: u32) -> &Counters {
        let id = id as usize;
        let chunk = self.counters[id / CHUNK]
            .get_or_init(|| Box::new(std::array::from_fn(|_| Counters::default())));
        &chunk[id % CHUNK]
    }

    /// The counters of path `id`, if made.
    fn counters(&self, path: u32) -> Option<&Counters> {
        let id = path as usize;
        Some(&self.counters.get(id / CHUNK)?.get()?[id % CHUNK])
    }

    /// A run at `path` ended: `runs` runs (of a child, counted by its
    /// parent) with `self_busy` nanoseconds of self time. Into this
    /// thread's shard (see `path_shards`).
    #[inline]
    pub(crate) fn add_runs(self: &Arc<Self>, path: u32, runs: u64, self_busy: u64) {
        if !path_shards::add(self, path, runs, self_busy, 0) {
            self.add_counts(path, runs, self_busy, 0);
        }
    }

    /// An outermost run was parked `nanos` with `path` the deepest timed
    /// path pending.
    pub(crate) fn add_parked(self: &Arc<Self>, path: u32, nanos: u64) {
        if !path_shards::add(self, path, 0, 0, nanos) {
            self.add_counts(path, 0, 0, nanos);
        }
    }

    /// Adds to the table's own counters: what a shard hands over.
    pub(crate) fn add_counts(&self, path: u32, runs: u64, self_busy: u64, parked: u64) {
        if let Some(c) = self.counters(path) {
            for (counter, by) in [
                (&c.runs, runs),
                (&c.self_busy, self_busy),
                (&c.parked, parked),
            ] {
                if by > 0 {
                    counter.fetch_add(by, Relaxed);
                }
            }
        }
    }

    /// Runs `f` holding the lock readers hold.
    pub(crate) fn with_names_locked(&self, f: impl FnOnce()) {
        let _names = crate::poison::lock(&self.names);
        f();
    }

    /// The last name of path `id`, if it has one.
    pub(crate) fn name(&self, id: u32) -> Option<Arc<str>> {
        if id == OTHER_PATH {
            return Some(OTHER_NAME.into());
        }
        let names = crate::poison::lock(&self.names);
        let (_, name) = names.nodes.get((id as usize).checked_sub(2)?)?;
        Some(name.clone())
    }

    /// Every path with something counted, `(other)` last.
    pub(crate) fn read(&self) -> Vec<PathLine> {
        let names = crate::poison::lock(&self.names);
        // The table's own counts and those still in threads' shards,
        // under the lock a shard takes to hand its counts over.
        let mut sums = vec![[0_u64; 3]; names.nodes.len() + 2];
        for (id, sum) in sums.iter_mut().enumerate() {
            if let Some(c) = self.counters(id as u32) {
                *sum = [
                    c.runs.load(Relaxed),
                    c.self_busy.load(Relaxed),
                    c.parked.load(Relaxed),
                ];
            }
        }
        path_shards::each(self.uid, |path, runs, self_busy, parked| {
            if let Some(sum) = sums.get_mut(path as usize) {
                sum[0] = sum[0].wrapping_add(runs);
                sum[1] = sum[1].wrapping_add(self_busy);
                sum[2] = sum[2].wrapping_add(parked);
            }
        });
        let line = |id: usize, names_of: Vec<Arc<str>>| {
            let [runs, self_busy, parked] = sums[id];
            let line = PathLine {
                names: names_of,
                runs,
                self_busy,
                parked,
            };
            (line.runs > 0 || line.self_busy > 0 || line.parked > 0).then_some(line)
        };
        let mut lines: Vec<PathLine> = (0..names.nodes.len())
            .filter_map(|at| {
                let mut chain = Vec::new();
                let mut id = at as u32 + 2;
                while id >= 2 {
                    let (parent, name) = &names.nodes[id as usize - 2];
                    chain.push(name.clone());
                    id = *parent;
                }
                chain.reverse();
                line(at + 2, chain)
            })
            .collect();
        lines.extend(line(OTHER_PATH as usize, vec![OTHER_NAME.into()]));
        lines
    }

    /// Heap bytes held.
    pub(crate) fn reserved_bytes(&self) -> usize {
        let chunks = self.counters.iter().filter(|c| c.get().is_some()).count();
        let counters = chunks * std::mem::size_of::<[Counters; CHUNK]>();
        let names = crate::poison::lock(&self.names);
        // Its node, its entry in the index (key, value, a control byte, and
        // the load factor's slack), and its name's `Arc`.
        let per_node = std::mem::size_of::<(u32, Arc<str>)>() * 2 + 16 + 16;
        counters
            + names
                .nodes
                .iter()
                .map(|(_, n)| per_node + n.len())
                .sum::<usize>()
    }
}

/// Slots per thread: 40 bytes each.
const SLOTS: usize = 64;

#[derive(Clone, Copy)]
struct Slot {
    table: u64,
    parent: u32,
    path: u32,
    timer: *const TimerCore,
    /// The path's name as the table keeps it (alive while the table is,
    /// and the table is the one in use when `table` matches).
    name: *const u8,
    len: usize,
}

thread_local! {
    static CACHE: [Cell<Slot>; SLOTS] = const {
        [const {
            Cell::new(Slot {
                table: 0,
                parent: 0,
                path: 0,
                timer: std::ptr::null(),
                name: std::ptr::null(),
                len: 0,
            })
        }; SLOTS]
    };
}

/// The path of a run of `timer` under `parent` in `paths`: once per run
/// and parent. From the timer's own one-entry cache when `paths` are its
/// registry's and the parent is the one it last ran under (an outermost
/// run's, always), else from this thread's cache when it was seen before.
#[inline]
pub(crate) fn resolve(paths: &Paths, parent: u32, timer: &TimerCore) -> u32 {
    let own = std::ptr::eq(paths, &*timer.settings.paths);
    if own {
        let cached = timer.path_cache.load(Relaxed);
        if cached != 0 && (cached >> 32) as u32 == parent {
            return cached as u32;
        }
    }
    let path = resolve_here(paths, parent, timer);
    if own {
        timer
            .path_cache
            .store(u64::from(parent) << 32 | u64::from(path), Relaxed);
    }
    path
}

/// [`resolve`] through this thread's cache.
#[cold]
#[inline(never)]
fn resolve_here(paths: &Paths, parent: u32, timer: &TimerCore) -> u32 {
    let key = (timer as *const TimerCore as u64) ^ (u64::from(parent) << 40) ^ paths.uid;
    let at = (key.wrapping_mul(FIBONACCI) >> (64 - SLOTS.trailing_zeros())) as usize;
    let name = &timer.name;
    let slot = CACHE.try_with(|cache| cache[at].get()).ok();
    if let Some(slot) = slot {
        if slot.table == paths.uid
            && slot.parent == parent
            && std::ptr::eq(slot.timer, timer)
            && slot.len == name.len()
            && !slot.name.is_null()
        {
            // SAFETY: the name is the table's, and the table (matched by
            // its unique id) is alive: the caller holds it.
            let kept = unsafe { std::slice::from_raw_parts(slot.name, slot.len) };
            if kept == name.as_bytes() {
                return slot.path;
            }
        }
    }
    let (path, kept) = paths.intern(parent, name);
    let _ = CACHE.try_with(|cache| {
        cache[at].set(Slot {
            table: paths.uid,
            parent,
            path,
            timer,
            name: kept,
            len: name.len(),
        })
    });
    path
}
