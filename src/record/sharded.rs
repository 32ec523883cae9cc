//! A table split into shards, each behind its own lock, chosen by
//! Fibonacci hashing: the live tasks of the task hooks and the wake marks
//! of sampled runs, looked up from many worker threads at once.

use std::sync::{Mutex, MutexGuard};

/// How many shards: enough that workers rarely meet on one lock.
pub(crate) const SHARDS: usize = 16;

/// Knuth's multiplicative constant, 2⁶⁴ / φ: its product's top bits are
/// well mixed even for keys in sequence (task ids) or 8-aligned addresses.
pub(crate) const FIBONACCI: u64 = 0x9E37_79B9_7F4A_7C15;

/// `SHARDS` tables `M`, each behind its own lock.
pub(crate) struct Sharded<M>([Mutex<M>; SHARDS]);

impl<M> Sharded<M> {
    /// From its shards (a `const` array for a `static`).
    pub(crate) const fn new(shards: [Mutex<M>; SHARDS]) -> Self {
        Sharded(shards)
    }

    /// The shard of `key`, locked.
    pub(crate) fn of(&self, key: u64) -> MutexGuard<'_, M> {
        self.at_hash(key.wrapping_mul(FIBONACCI))
    }

    /// The shard of an already mixed `hash` (its top bits), locked.
    pub(crate) fn at_hash(&self, hash: u64) -> MutexGuard<'_, M> {
        crate::poison::lock(&self.0[(hash >> 60) as usize % SHARDS])
    }

    /// Every shard, one at a time.
    #[cfg(test)]
    pub(crate) fn each(&self) -> impl Iterator<Item = MutexGuard<'_, M>> {
        self.0.iter().map(crate::poison::lock)
    }
}

impl<M: Default> Default for Sharded<M> {
    fn default() -> Self {
        Sharded(std::array::from_fn(|_| Mutex::default()))
    }
}
