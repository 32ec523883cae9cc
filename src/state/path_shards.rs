//! The paths' counters as each thread adds to them: one shard per thread,
//! written by that thread alone (a load and a store, no locked
//! instruction), read by everyone. A run with parts adds each part here
//! when it ends; a shard entry replaced by another path first hands its
//! counts to its table, under that table's lock, which readers of the
//! table hold too: a read never sees a count twice or not at all.
//!
//! Shards are never freed: a thread that ends leaves its shard to the next
//! thread that needs one, which goes on adding to its counts. So their
//! number is the most threads that ever ran nested runs at once.

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex, Weak};

use super::paths::Paths;
use crate::record::FIBONACCI;

/// Entries per shard, by (table, path): 48 bytes each.
const ENTRIES: usize = 64;

struct Entry {
    /// The unique id of the entry's table; 0: empty.
    table: AtomicU64,
    path: AtomicU32,
    runs: AtomicU64,
    self_busy: AtomicU64,
    parked: AtomicU64,
    /// The entry's table, to hand the counts to when the entry is
    /// replaced. Only the owning thread touches it.
    owner_table: UnsafeCell<Weak<Paths>>,
}

pub(crate) struct Shard {
    owned: AtomicBool,
    entries: [Entry; ENTRIES],
}

// SAFETY: every field but `owner_table` is atomic; `owner_table` is only
// reached by the thread that owns the shard (`owned`), one at a time, the
// handover ordered by `owned`'s release and acquire.
unsafe impl Sync for Shard {}

/// Every shard made, owned or not.
static SHARDS: Mutex<Vec<&'static Shard>> = Mutex::new(Vec::new());

/// This thread's shard, given up when the thread ends.
struct Mine(Cell<Option<&'static Shard>>);

impl Drop for Mine {
    fn drop(&mut self) {
        if let Some(shard) = self.0.get() {
            shard.owned.store(false, Release);
        }
    }
}

thread_local! {
    static MINE: Mine = const { Mine(Cell::new(None)) };
}

/// This thread's shard, claimed on first use; `None` while the thread's
/// locals are torn down.
#[inline]
fn mine() -> Option<&'static Shard> {
    MINE.try_with(|mine| match mine.0.get() {
        Some(shard) => shard,
        None => {
            let shard = claim();
            mine.0.set(Some(shard));
            shard
        }
    })
    .ok()
}

#[cold]
fn claim() -> &'static Shard {
    // A shard is the library's: what it allocates counts for no run.
    let _unseen = crate::alloc::thread::unseen();
    let mut shards = crate::poison::lock(&SHARDS);
    let free = shards.iter().find(|s| {
        s.owned
            .compare_exchange(false, true, Acquire, Relaxed)
            .is_ok()
    });
    if let Some(shard) = free {
        return shard;
    }
    let shard: &'static Shard = Box::leak(Box::new(Shard {
        owned: AtomicBool::new(true),
        entries: std::array::from_fn(|_| Entry {
            table: AtomicU64::new(0),
            path: AtomicU32::new(0),
            runs: AtomicU64::new(0),
            self_busy: AtomicU64::new(0),
            parked: AtomicU64::new(0),
            owner_table: UnsafeCell::new(Weak::new()),
        }),
    }));
    shards.push(shard);
    shard
}

/// Adds to path `path` of `paths` from this thread: `false` if this thread
/// has no shard now (the caller adds to the table itself).
#[inline]
pub(crate) fn add(paths: &Arc<Paths>, path: u32, runs: u64, self_busy: u64, parked: u64) -> bool {
    let Some(shard) = mine() else {
        return false;
    };
    let uid = paths.uid();
    let key = (uid ^ u64::from(path).wrapping_mul(FIBONACCI)).wrapping_mul(FIBONACCI);
    let entry = &shard.entries[(key >> (64 - ENTRIES.trailing_zeros())) as usize];
    if entry.table.load(Relaxed) != uid || entry.path.load(Relaxed) != path {
        replace(entry, paths, path);
    }
    // The one writer: a load and a store each, no locked instruction.
    let bump = |counter: &AtomicU64, by: u64| {
        if by > 0 {
            counter.store(counter.load(Relaxed).wrapping_add(by), Release);
        }
    };
    bump(&entry.runs, runs);
    bump(&entry.self_busy, self_busy);
    bump(&entry.parked, parked);
    true
}

/// Makes `entry` path `path` of `paths`, handing what it counted to its
/// table first.
#[cold]
#[inline(never)]
fn replace(entry: &Entry, paths: &Arc<Paths>, path: u32) {
    // SAFETY: this thread owns the shard (see `Shard`).
    let owner_table = unsafe { &mut *entry.owner_table.get() };
    if let Some(old) = owner_table.upgrade() {
        let old_path = entry.path.load(Relaxed);
        old.with_names_locked(|| {
            old.add_counts(
                old_path,
                entry.runs.swap(0, Relaxed),
                entry.self_busy.swap(0, Relaxed),
                entry.parked.swap(0, Relaxed),
            );
            entry.table.store(0, Release);
        });
    }
    // Empty now (its table gone, or its counts handed over): readers skip
    // it until it is the new path's, with nothing counted yet.
    entry.runs.store(0, Relaxed);
    entry.self_busy.store(0, Relaxed);
    entry.parked.store(0, Relaxed);
    entry.path.store(path, Relaxed);
    entry.table.store(paths.uid(), Release);
    *owner_table = Arc::downgrade(paths);
}

/// Calls `f` with (path, runs, self busy, parked) of each entry of the
/// table `uid` in every shard. The caller holds the table's lock.
pub(crate) fn each(uid: u64, mut f: impl FnMut(u32, u64, u64, u64)) {
    let shards = crate::poison::lock(&SHARDS);
    for shard in shards.iter() {
        for entry in &shard.entries {
            if entry.table.load(Acquire) == uid {
                f(
                    entry.path.load(Relaxed),
                    entry.runs.load(Acquire),
                    entry.self_busy.load(Acquire),
                    entry.parked.load(Acquire),
                );
            }
        }
    }
}
