//! Nesting paths (`api;service;db`) of one registry: per path, the runs
//! that ran there, their self busy time, and the time outermost runs were
//! parked there. Bounded: past [`MAX_PATHS`] paths, a new one counts in
//! its timer's overflow path `(other);NAME`, and so does any path under
//! an overflow path: at most one more per timer of the registry.
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
/// The parent of the overflow paths (`(other);NAME`, where paths past the
/// cap count), and where a timer of another registry's paths past the cap
/// count, as a root: it has no root line here to count them twice.
pub(crate) const OTHER_PATH: u32 = 1;
/// The name of that path.
pub(crate) const OTHER_NAME: &str = "(other)";

/// Most distinct paths per registry.
pub(crate) const MAX_PATHS: usize = 1024;

/// Paths per chunk of counters.
const CHUNK: usize = 64;
/// Chunks for `MAX_PATHS` paths, `(other)` and the unused id 0.
const CHUNKS: usize = (MAX_PATHS + 2).div_ceil(CHUNK);
/// The first id past the chunks: overflow paths from there on have their
/// counters in segments, each twice the one before.
const SEGMENTED: usize = CHUNKS * CHUNK;
/// Segments of overflow paths' counters: room for about a billion.
const SEGMENTS: usize = 24;
/// Most ids the segments hold.
const SEGMENTS_HOLD: usize = CHUNK * ((1 << SEGMENTS) - 1);

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
    /// Overflow paths among `nodes` (the others are at most [`MAX_PATHS`]).
    overflow: usize,
}

impl Names {
    /// The id and kept name of the path `parent;name`, if made.
    fn find(&self, parent: u32, name: &str) -> Option<(u32, *const u8)> {
        let &id = self.index.get(&parent)?.get(name)?;
        Some((id, self.nodes[id as usize - 2].1.as_ptr()))
    }

    /// Whether `id` is `(other)` or an overflow path under it.
    fn under_other(&self, id: u32) -> bool {
        id == OTHER_PATH
            || (id as usize)
                .checked_sub(2)
                .and_then(|at| self.nodes.get(at))
                .is_some_and(|&(parent, _)| parent == OTHER_PATH)
    }
}

/// The paths of one registry.
pub(crate) struct Paths {
    /// Unique in the process: what the per-thread cache keys on, so that a
    /// table made where a dropped one was is never mistaken for it.
    uid: u64,
    /// The counters by path id, in chunks of [`CHUNK`] allocated as the
    /// paths come: memory grows with the paths, not with the cap.
    counters: [OnceLock<Box<[Counters; CHUNK]>>; CHUNKS],
    /// The overflow paths' counters past the chunks (ids from
    /// [`SEGMENTED`]), in segments of `CHUNK << n` allocated as they
    /// come: memory grows with the timers that overflowed, at most twice.
    segments: [OnceLock<Box<[Counters]>>; SEGMENTS],
    /// Most overflow paths: one per timer of the registry.
    max_overflow: usize,
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

impl Paths {
    /// The paths of a registry of at most `max_timers` named timers (and
    /// its overflow timer).
    pub(crate) fn new(max_timers: usize) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Paths {
            uid: NEXT.fetch_add(1, Relaxed),
            counters: [const { OnceLock::new() }; CHUNKS],
            segments: [const { OnceLock::new() }; SEGMENTS],
            max_overflow: max_timers
                .saturating_add(1)
                .min(SEGMENTS_HOLD + SEGMENTED - MAX_PATHS - 2),
            names: Mutex::default(),
        }
    }

    /// Unique in the process.
    #[inline]
    pub(crate) fn uid(&self) -> u64 {
        self.uid
    }

    /// The id of the path `parent;name`, made if new, and its name as
    /// kept (null if none). Past the cap, or under an overflow path, it
    /// is the timer's overflow path `(other);name`: its time still shows
    /// by timer, and as time nested in a path of two names it is left out
    /// of the timer's root line. `own`: the timer is the table's
    /// registry's; one of another registry gets no overflow path (they
    /// would not be bounded by this registry's timers) but `(other)`.
    /// Takes the table's lock: the cold path.
    #[cold]
    fn intern(&self, parent: u32, name: &Arc<str>, own: bool) -> (u32, *const u8) {
        // The table is the library's: what it allocates counts for no run.
        let _unseen = crate::alloc::thread::unseen();
        self.chunk(OTHER_PATH);
        let mut names = crate::poison::lock(&self.names);
        // Under an overflow path: the timer's own, never a deeper chain.
        let parent = if names.under_other(parent) {
            OTHER_PATH
        } else {
            parent
        };
        if let Some(found) = names.find(parent, name) {
            return found;
        }
        let full = names.nodes.len() - names.overflow >= MAX_PATHS;
        if parent == OTHER_PATH || full {
            if let Some(found) = names.find(OTHER_PATH, name) {
                return found;
            }
            if !own || names.overflow >= self.max_overflow {
                return (OTHER_PATH, std::ptr::null());
            }
            names.overflow += 1;
            return self.make(&mut names, OTHER_PATH, name);
        }
        self.make(&mut names, parent, name)
    }

    /// Makes the path `parent;name`, its counters with it.
    fn make(&self, names: &mut Names, parent: u32, name: &Arc<str>) -> (u32, *const u8) {
        let id = names.nodes.len() as u32 + 2;
        self.chunk(id);
        names.nodes.push((parent, name.clone()));
        (names.index.entry(parent).or_default()).insert(name.clone(), id);
        (id, name.as_ptr())
    }

    /// The counters of path `id`, their chunk or segment made if needed.
    fn chunk(&self, id: u32) -> &Counters {
        match locate(id) {
            Place::Chunk(chunk, at) => {
                let chunk = self.counters[chunk]
                    .get_or_init(|| Box::new(std::array::from_fn(|_| Counters::default())));
                &chunk[at]
            }
            Place::Segment(segment, at) => {
                let segment = self.segments[segment]
                    .get_or_init(|| (0..CHUNK << segment).map(|_| Counters::default()).collect());
                &segment[at]
            }
        }
    }

    /// The counters of path `id`, if made.
    fn counters(&self, path: u32) -> Option<&Counters> {
        match locate(path) {
            Place::Chunk(chunk, at) => Some(&self.counters.get(chunk)?.get()?[at]),
            Place::Segment(segment, at) => self.segments.get(segment)?.get()?.get(at),
        }
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

    /// Every path with something counted, in the order they were made
    /// (overflow paths `(other);NAME` after the others), `(other)` last.
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
                if id == OTHER_PATH {
                    chain.push(OTHER_NAME.into());
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
        let segments: usize = (self.segments.iter())
            .filter_map(OnceLock::get)
            .map(|s| s.len() * std::mem::size_of::<Counters>())
            .sum();
        let counters = chunks * std::mem::size_of::<[Counters; CHUNK]>() + segments;
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

/// Where a path's counters are.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    /// In chunk `.0` at `.1`.
    Chunk(usize, usize),
    /// In segment `.0` (of `CHUNK << .0` counters) at `.1`.
    Segment(usize, usize),
}

/// Where the counters of path `id` are.
fn locate(id: u32) -> Place {
    let id = id as usize;
    if id < SEGMENTED {
        return Place::Chunk(id / CHUNK, id % CHUNK);
    }
    // Segment n holds CHUNK << n ids, from CHUNK * (2^n - 1) past the chunks.
    let past = id - SEGMENTED;
    let segment = (past / CHUNK + 1).ilog2() as usize;
    Place::Segment(segment, past - CHUNK * ((1 << segment) - 1))
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
    let own = std::ptr::eq(paths, &*timer.settings.paths);
    let (path, kept) = paths.intern(parent, name, own);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `(id, names)` of each path `table` made, by id.
    fn made(table: &Paths) -> Vec<(u32, Vec<Arc<str>>)> {
        let made = table.names.lock().unwrap().nodes.len() as u32;
        for id in 0..made + 2 {
            table.add_counts(id, 1, 0, 0);
        }
        let lines = table.read();
        (2..made + 2)
            .zip(lines)
            .map(|(id, line)| (id, line.names))
            .collect()
    }

    fn names(of: &[&str]) -> Vec<Arc<str>> {
        of.iter().map(|&n| Arc::from(n)).collect()
    }

    #[test]
    fn past_the_cap_each_timer_has_one_overflow_path_and_no_more() {
        let table = Paths::new(2);
        let name = |i: usize| Arc::<str>::from(format!("t{i}"));
        let root = table.intern(NO_PATH, &name(0), true).0;
        for i in 1..MAX_PATHS {
            assert_eq!(table.intern(root, &name(i), true).0, i as u32 + 2);
        }
        let (db, cache, leaf) = (Arc::from("db"), Arc::from("cache"), Arc::from("leaf"));
        let full = MAX_PATHS as u32 + 2;
        // The same name, under any parent, past the cap: one path.
        let (other_db, kept) = table.intern(root, &db, true);
        assert_eq!((other_db, kept), (full, db.as_ptr()));
        assert_eq!(table.intern(3, &db, true).0, other_db);
        assert_eq!(table.intern(NO_PATH, &db, true).0, other_db);
        // Under an overflow path or `(other)`: the timer's own.
        assert_eq!(table.intern(other_db, &leaf, true).0, full + 1);
        assert_eq!(table.intern(full + 1, &db, true).0, other_db);
        assert_eq!(table.intern(OTHER_PATH, &leaf, true).0, full + 1);
        // Paths made before the cap stay theirs.
        assert_eq!(table.intern(root, &name(5), true).0, 7);
        // A timer of another registry: `(other)`; as does one more than
        // the registry's timers (and its overflow timer).
        assert_eq!(
            table.intern(root, &cache, false),
            (OTHER_PATH, std::ptr::null())
        );
        assert_eq!(table.intern(root, &cache, true).0, full + 2);
        assert_eq!(table.intern(root, &Arc::from("more"), true).0, OTHER_PATH);
        assert_eq!(table.intern(root, &cache, false).0, full + 2);
        let made = made(&table);
        assert_eq!(made.len(), MAX_PATHS + 3);
        assert_eq!(made[1], (3, names(&["t0", "t1"])));
        assert_eq!(
            made[MAX_PATHS..],
            [
                (full, names(&["(other)", "db"])),
                (full + 1, names(&["(other)", "leaf"])),
                (full + 2, names(&["(other)", "cache"])),
            ]
        );
        assert_eq!(table.name(full + 1).as_deref(), Some("leaf"));
        assert_eq!(table.read().last().unwrap().names, names(&["(other)"]));
    }

    #[test]
    fn overflow_counters_are_in_segments_that_double() {
        assert_eq!(locate(0), Place::Chunk(0, 0));
        assert_eq!(
            locate(SEGMENTED as u32 - 1),
            Place::Chunk(CHUNKS - 1, CHUNK - 1)
        );
        let mut expected = (0, 0);
        for id in SEGMENTED..SEGMENTED + CHUNK * 31 {
            assert_eq!(locate(id as u32), Place::Segment(expected.0, expected.1));
            expected.1 += 1;
            if expected.1 == CHUNK << expected.0 {
                expected = (expected.0 + 1, 0);
            }
        }
        let last = (SEGMENTED + SEGMENTS_HOLD - 1) as u32;
        assert_eq!(
            locate(last),
            Place::Segment(SEGMENTS - 1, (CHUNK << (SEGMENTS - 1)) - 1)
        );
        // The bound keeps every id in them.
        let most = Paths::new(usize::MAX).max_overflow;
        assert_eq!(MAX_PATHS + 2 + most - 1, last as usize);
    }

    #[test]
    fn a_thousand_overflow_paths_count_and_read_back() {
        let table = Arc::new(Paths::new(1_000));
        let name = |i: usize| Arc::<str>::from(format!("t{i}"));
        let root = table.intern(NO_PATH, &name(0), true).0;
        for i in 1..=MAX_PATHS + 1_000 {
            let path = table.intern(root, &name(i), true).0;
            table.add_runs(path, 1, i as u64);
        }
        let lines = table.read();
        assert_eq!(lines.len(), MAX_PATHS + 1_000);
        for (i, line) in (1..).zip(&lines) {
            let leaf = format!("t{i}");
            assert_eq!(&**line.names.last().unwrap(), leaf);
            assert_eq!((line.runs, line.self_busy), (1, i as u64));
        }
        // `t0` and 1,023 children fill the cap.
        assert_eq!(lines[MAX_PATHS - 2].names, names(&["t0", "t1023"]));
        assert_eq!(lines[MAX_PATHS - 1].names, names(&["(other)", "t1024"]));
        // Past the chunks: segments of 64, 128, 256 and 512 counters.
        let segments = 64 + 128 + 256 + 512;
        let chunks = CHUNKS * std::mem::size_of::<[Counters; CHUNK]>();
        let counters = chunks + segments * std::mem::size_of::<Counters>();
        assert!(table.reserved_bytes() > counters);
        assert!(table.reserved_bytes() < counters + 2_024 * 160);
    }
}
