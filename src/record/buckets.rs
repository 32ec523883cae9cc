//! `Buckets`: one histogram's counters in HdrHistogram's layout, as small
//! as the values recorded allow.
//!
//! A histogram starts sparse: a sorted list of (counter index, count)
//! pairs, 8 bytes per distinct value, so a timer with a few dozen runs holds
//! a few hundred bytes. Past [`SPARSE_MAX`] distinct values (or past 64
//! packed into a few chunks, where dense counting is faster and no bigger)
//! it turns dense:
//! chunks of [`CHUNK`] counters, allocated where values fall, each 16 bits
//! wide until one of its counters passes `u16::MAX`, then 32, then 64. No
//! count is ever lost or saturated; memory follows the spread of the values
//! and, only logarithmically, the counts.
//!
//! Not thread-safe on its own: the recorder keeps it behind a lock. It
//! knows its own heap size at all times, for the recorder's memory budget.

/// Distinct values kept sparse; one more turns the counters dense. At 8
/// bytes a pair, the sparse form then holds about what two dense chunks do.
pub(crate) const SPARSE_MAX: usize = 128;

/// Counters per dense chunk: 512 bytes at 16 bits.
const CHUNK: usize = 256;

/// Bytes of one sparse pair.
const PAIR: usize = std::mem::size_of::<(u32, u32)>();

/// Bytes of one slot of the dense form (a chunk's pointer and width).
const SLOT: usize = std::mem::size_of::<Option<Chunk>>();

/// One histogram's counters.
#[derive(Debug)]
pub(crate) enum Buckets {
    /// (counter index, count), sorted by index, every count non-zero.
    Sparse(Vec<(u32, u32)>),
    Dense(Dense),
}

/// The dense form: a slot per chunk of the layout, empty until a value
/// falls in it. A count is two loads away (the slot, the counter): the
/// record path holds a lock meanwhile, so its chain of loads is its cost.
#[derive(Debug)]
pub(crate) struct Dense {
    slots: Box<[Option<Chunk>]>,
    /// Heap bytes held: the slots and the chunks.
    bytes: usize,
}

/// [`CHUNK`] counters, as wide as the largest of them needs.
#[derive(Debug)]
pub(crate) enum Chunk {
    U16(Box<[u16; CHUNK]>),
    U32(Box<[u32; CHUNK]>),
    U64(Box<[u64; CHUNK]>),
}

/// Turning dense would take more memory than the caller has room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoRoom;

impl Default for Buckets {
    fn default() -> Self {
        Buckets::new()
    }
}

impl Buckets {
    pub(crate) fn new() -> Self {
        Buckets::Sparse(Vec::new())
    }

    /// Adds `n` to counter `index` of a histogram of `len` counters and
    /// returns the heap bytes this grew by. If that would take more than
    /// `room` bytes, it changes nothing and says so. An `index` past `len`
    /// is ignored rather than panicking.
    #[inline(always)]
    pub(crate) fn add(
        &mut self,
        len: usize,
        index: u32,
        n: u64,
        room: usize,
    ) -> Result<usize, NoRoom> {
        if self.try_add(index, n) {
            return Ok(0);
        }
        self.add_new(len, index, n, room)
    }

    /// The common case of [`add`](Buckets::add), inline: adds `n` to
    /// counter `index` if it exists and has room, and says whether it did
    /// (if not, nothing changed). Never allocates.
    #[inline(always)]
    pub(crate) fn try_add(&mut self, index: u32, n: u64) -> bool {
        let counted = match self {
            Buckets::Sparse(pairs) => pairs
                .binary_search_by_key(&index, |&(i, _)| i)
                .ok()
                .and_then(|at| {
                    let sum = pairs[at].1.checked_add(u32::try_from(n).ok()?)?;
                    pairs[at].1 = sum;
                    Some(())
                }),
            Buckets::Dense(dense) => match dense.slots.get_mut(index as usize / CHUNK) {
                Some(Some(chunk)) => chunk.try_add(index as usize % CHUNK, n),
                _ => None,
            },
        };
        counted.is_some()
    }

    /// [`add`](Buckets::add) for a new counter, a count that needs wider
    /// counters, or an index out of range.
    #[inline(never)]
    fn add_new(&mut self, len: usize, index: u32, n: u64, room: usize) -> Result<usize, NoRoom> {
        if index as usize >= len {
            return Ok(0);
        }
        match self {
            Buckets::Sparse(pairs) => {
                let at = pairs.binary_search_by_key(&index, |&(i, _)| i);
                let n32 = u32::try_from(n).ok();
                match at {
                    // The counter exists: `add` found its sum past 32 bits.
                    Ok(_) => {}
                    Err(at)
                        if pairs.len() < SPARSE_MAX
                            && n32.is_some()
                            && !(pairs.len() == pairs.capacity()
                                && dense_is_as_small(len, pairs, index)) =>
                    {
                        let grown = if pairs.len() == pairs.capacity() {
                            // Doubling, from 4 pairs, up to SPARSE_MAX.
                            let capacity = (pairs.capacity() * 2).clamp(4, SPARSE_MAX);
                            let grown = (capacity - pairs.capacity()) * PAIR;
                            if grown > room {
                                return Err(NoRoom);
                            }
                            pairs.reserve_exact(capacity - pairs.len());
                            grown
                        } else {
                            0
                        };
                        pairs.insert(at, (index, n32.unwrap_or(0)));
                        return Ok(grown);
                    }
                    Err(_) => {}
                }
                // Too many distinct values, values packed in few chunks, or a
                // count past 32 bits: go dense.
                let needed = Dense::size_with(len, pairs.iter().map(|p| p.0).chain([index]));
                if needed.saturating_sub(pairs.capacity() * PAIR) > room {
                    return Err(NoRoom);
                }
                let before = pairs.capacity() * PAIR;
                let mut dense = Dense::new(len);
                for &(i, count) in pairs.iter() {
                    let _ = dense.add(i as usize, u64::from(count), usize::MAX);
                }
                let _ = dense.add(index as usize, n, usize::MAX);
                *self = Buckets::Dense(dense);
                Ok(self.heap_bytes().saturating_sub(before))
            }
            Buckets::Dense(dense) => dense.add(index as usize, n, room),
        }
    }

    /// Takes back one count just added at `index` by [`add`](Buckets::add).
    pub(crate) fn remove_one(&mut self, index: u32) {
        match self {
            Buckets::Sparse(pairs) => {
                if let Ok(at) = pairs.binary_search_by_key(&index, |&(i, _)| i) {
                    pairs[at].1 -= 1;
                    if pairs[at].1 == 0 {
                        pairs.remove(at);
                    }
                }
            }
            Buckets::Dense(dense) => dense.remove_one(index as usize),
        }
    }

    /// Adds every count of `other` to these (no room limit). Runs on the
    /// record path when a stripe drains: no buffer in between.
    pub(crate) fn absorb(&mut self, len: usize, other: &Buckets) {
        other.for_each(|index, n| {
            let _ = self.add(len, index, n, usize::MAX);
        });
    }

    /// Appends (counter index, count) of every non-zero counter, by index.
    pub(crate) fn collect(&self, into: &mut Vec<(u32, u64)>) {
        self.for_each(|index, n| into.push((index, n)));
    }

    /// Calls `f` with (counter index, count) of every non-zero counter, by
    /// index.
    fn for_each(&self, mut f: impl FnMut(u32, u64)) {
        match self {
            Buckets::Sparse(pairs) => {
                for &(index, n) in pairs {
                    f(index, u64::from(n));
                }
            }
            Buckets::Dense(dense) => {
                for (c, slot) in dense.slots.iter().enumerate() {
                    let Some(chunk) = slot else {
                        continue;
                    };
                    let first = (c * CHUNK) as u32;
                    match chunk {
                        Chunk::U16(counts) => each_nonzero(&counts[..], first, &mut f),
                        Chunk::U32(counts) => each_nonzero(&counts[..], first, &mut f),
                        Chunk::U64(counts) => each_nonzero(&counts[..], first, &mut f),
                    }
                }
            }
        }
    }

    /// Turns sparse counters of a histogram of `len` counters dense, if
    /// that grows them by at most `room` bytes; returns by how much. For
    /// counters that count many runs: a dense count is a slot and a
    /// counter away, a sparse one a binary search.
    pub(crate) fn densify(&mut self, len: usize, room: usize) -> Result<usize, NoRoom> {
        let Buckets::Sparse(pairs) = self else {
            return Ok(0);
        };
        let before = pairs.capacity() * PAIR;
        let needed = Dense::size_with(len, pairs.iter().map(|p| p.0));
        if needed.saturating_sub(before) > room {
            return Err(NoRoom);
        }
        let mut dense = Dense::new(len);
        for &(i, count) in pairs.iter() {
            let _ = dense.add(i as usize, u64::from(count), usize::MAX);
        }
        *self = Buckets::Dense(dense);
        Ok(self.heap_bytes().saturating_sub(before))
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Buckets::Sparse(pairs) => pairs.capacity() * std::mem::size_of::<(u32, u32)>(),
            Buckets::Dense(dense) => dense.bytes,
        }
    }
}

/// Calls `f` with (index, count) of each non-zero count of `counts`, the
/// first at index `first`: eight at a time, skipping eight zeros with one
/// test (a dense chunk is mostly zeros), one match on the width per chunk
/// rather than per counter. Reading a snapshot is mostly this loop.
#[inline]
fn each_nonzero<T: Copy + Into<u64> + Default + PartialEq + std::ops::BitOr<Output = T>>(
    counts: &[T],
    first: u32,
    f: &mut impl FnMut(u32, u64),
) {
    let zero = T::default();
    for (group, eight) in counts.chunks_exact(8).enumerate() {
        let any = eight.iter().fold(zero, |acc, &n| acc | n);
        if any == zero {
            continue;
        }
        for (offset, &n) in eight.iter().enumerate() {
            if n != zero {
                f(first + (group * 8 + offset) as u32, n.into());
            }
        }
    }
    let tail = counts.len() / 8 * 8;
    for (offset, &n) in counts[tail..].iter().enumerate() {
        if n != zero {
            f(first + (tail + offset) as u32, n.into());
        }
    }
}

/// Whether, with `index` added, the dense form would hold no more than
/// the sparse form once grown (plus 4 KiB): values packed in a few chunks,
/// where dense counting is faster and no bigger. Asked only when the list
/// must grow, and only past 64 pairs, so small timers stay sparse.
fn dense_is_as_small(len: usize, pairs: &[(u32, u32)], index: u32) -> bool {
    if pairs.len() < 64 {
        return false;
    }
    let dense = Dense::size_with(len, pairs.iter().map(|p| p.0).chain([index]));
    dense <= pairs.len() * 2 * PAIR + 4096
}

impl Dense {
    /// Heap bytes of a dense form of `len` counters with a count at each
    /// of `indexes`.
    fn size_with(len: usize, indexes: impl Iterator<Item = u32>) -> usize {
        let mut chunks: Vec<usize> = indexes.map(|i| i as usize / CHUNK).collect();
        chunks.sort_unstable();
        chunks.dedup();
        len.div_ceil(CHUNK) * SLOT + chunks.len() * CHUNK * 2
    }

    fn new(len: usize) -> Self {
        let slots: Box<[Option<Chunk>]> = (0..len.div_ceil(CHUNK)).map(|_| None).collect();
        Dense {
            bytes: slots.len() * SLOT,
            slots,
        }
    }

    #[inline]
    fn add(&mut self, index: usize, n: u64, room: usize) -> Result<usize, NoRoom> {
        let Some(slot) = self.slots.get_mut(index / CHUNK) else {
            return Ok(0);
        };
        let grown = match slot {
            Some(chunk) => chunk.add(index % CHUNK, n, room)?,
            None => Self::allocate(slot, index % CHUNK, n, room)?,
        };
        self.bytes += grown;
        Ok(grown)
    }

    /// A first value in an empty slot: allocates its chunk if `room`
    /// allows, and counts it.
    #[cold]
    #[inline(never)]
    fn allocate(
        slot: &mut Option<Chunk>,
        offset: usize,
        n: u64,
        room: usize,
    ) -> Result<usize, NoRoom> {
        // The chunk, and its widenings if `n` alone needs them.
        let needed = CHUNK * 2
            + if n > u64::from(u16::MAX) {
                CHUNK * 2
            } else {
                0
            }
            + if n > u64::from(u32::MAX) {
                CHUNK * 4
            } else {
                0
            };
        if needed > room {
            return Err(NoRoom);
        }
        let chunk = slot.insert(Chunk::U16(Box::new([0; CHUNK])));
        let widened = chunk.add(offset, n, usize::MAX)?;
        Ok(CHUNK * 2 + widened)
    }

    fn remove_one(&mut self, index: usize) {
        if let Some(Some(chunk)) = self.slots.get_mut(index / CHUNK) {
            chunk.remove_one(index % CHUNK);
        }
    }
}

impl Chunk {
    /// Adds `n` at `offset` (< CHUNK), widening the chunk if the sum needs
    /// it and `room` allows; returns the bytes widening added.
    #[inline(always)]
    fn add(&mut self, offset: usize, n: u64, room: usize) -> Result<usize, NoRoom> {
        match self.try_add(offset, n) {
            Some(()) => Ok(0),
            None => self.widen_and_add(offset, n, room),
        }
    }

    /// Adds `n` at `offset` if the sum fits the chunk's width.
    #[inline(always)]
    fn try_add(&mut self, offset: usize, n: u64) -> Option<()> {
        match self {
            Chunk::U16(c) => u16::try_from(n)
                .ok()
                .and_then(|n| c[offset].checked_add(n))
                .map(|sum| c[offset] = sum),
            Chunk::U32(c) => u32::try_from(n)
                .ok()
                .and_then(|n| c[offset].checked_add(n))
                .map(|sum| c[offset] = sum),
            Chunk::U64(c) => c[offset].checked_add(n).map(|sum| c[offset] = sum),
        }
    }

    /// The sum does not fit: widen (out of line, as it copies the chunk
    /// through the stack), then add.
    #[cold]
    #[inline(never)]
    fn widen_and_add(&mut self, offset: usize, n: u64, room: usize) -> Result<usize, NoRoom> {
        let mut grown = 0;
        loop {
            match self {
                Chunk::U16(c) => {
                    let sum = u16::try_from(n).ok().and_then(|n| c[offset].checked_add(n));
                    if let Some(sum) = sum {
                        c[offset] = sum;
                        return Ok(grown);
                    }
                    if grown + CHUNK * 2 > room {
                        return Err(NoRoom);
                    }
                    *self = Chunk::U32(Box::new(c.map(u32::from)));
                    grown += CHUNK * 2;
                }
                Chunk::U32(c) => {
                    let sum = u32::try_from(n).ok().and_then(|n| c[offset].checked_add(n));
                    if let Some(sum) = sum {
                        c[offset] = sum;
                        return Ok(grown);
                    }
                    if grown + CHUNK * 4 > room {
                        return Err(NoRoom);
                    }
                    *self = Chunk::U64(Box::new(c.map(u64::from)));
                    grown += CHUNK * 4;
                }
                Chunk::U64(c) => {
                    // 2^64 runs in one bucket cannot happen; saturate all the same.
                    c[offset] = c[offset].saturating_add(n);
                    return Ok(grown);
                }
            }
        }
    }

    fn remove_one(&mut self, offset: usize) {
        match self {
            Chunk::U16(c) => c[offset] = c[offset].saturating_sub(1),
            Chunk::U32(c) => c[offset] = c[offset].saturating_sub(1),
            Chunk::U64(c) => c[offset] = c[offset].saturating_sub(1),
        }
    }
}

#[cfg(all(test, not(perf_timer_loom)))]
mod tests {
    use super::*;

    const LEN: usize = 33 * 1024;

    fn collected(buckets: &Buckets) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        buckets.collect(&mut out);
        out
    }

    fn add(buckets: &mut Buckets, index: u32, n: u64) -> usize {
        buckets.add(LEN, index, n, usize::MAX).unwrap()
    }

    #[test]
    fn sparse_until_many_distinct_values_then_dense_with_the_same_counts() {
        let mut buckets = Buckets::new();
        let mut expected = std::collections::BTreeMap::new();
        for i in 0..SPARSE_MAX as u32 {
            add(&mut buckets, i * 97 % LEN as u32, 2);
            *expected.entry(i * 97 % LEN as u32).or_insert(0_u64) += 2;
        }
        assert!(
            matches!(buckets, Buckets::Sparse(_)),
            "spread: stays sparse"
        );
        assert!(buckets.heap_bytes() <= SPARSE_MAX * 8);
        // No room to turn dense: nothing changes.
        assert_eq!(buckets.add(LEN, 33_000, 1, 1024), Err(NoRoom));
        assert!(matches!(buckets, Buckets::Sparse(_)));
        let before = buckets.heap_bytes();
        let grown = add(&mut buckets, 33_000, 1);
        assert_eq!(before + grown, buckets.heap_bytes());
        *expected.entry(33_000).or_insert(0) += 1;
        assert!(matches!(buckets, Buckets::Dense(_)));
        assert_eq!(
            collected(&buckets),
            expected.into_iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn values_packed_in_one_chunk_turn_dense_early() {
        let mut buckets = Buckets::new();
        for i in 0..64 {
            add(&mut buckets, i * 3, 1);
        }
        assert!(matches!(buckets, Buckets::Sparse(_)));
        add(&mut buckets, 100, 1);
        assert!(matches!(buckets, Buckets::Dense(_)), "one chunk: dense");
        assert!(buckets.heap_bytes() <= 64 * 2 * PAIR + 4096);
        assert_eq!(collected(&buckets).len(), 65);
    }

    #[test]
    fn counters_widen_instead_of_wrapping() {
        let mut buckets = Buckets::new();
        add(&mut buckets, 5, u64::from(u32::MAX)); // sparse at the edge
        add(&mut buckets, 5, 1); // past 32 bits: dense, widened
        add(&mut buckets, 700, u64::from(u16::MAX));
        assert_eq!(add(&mut buckets, 700, 1), CHUNK * 2);
        assert_eq!(collected(&buckets), [(5, 1 << 32), (700, 1 << 16)]);
        add(&mut buckets, LEN as u32, 1); // out of range: ignored, no panic
        assert_eq!(collected(&buckets).len(), 2);
    }

    #[test]
    fn tiny_layouts_work_dense_too() {
        let mut buckets = Buckets::new();
        for i in 0..300 {
            buckets.add(300, i, 1, usize::MAX).unwrap();
        }
        assert!(matches!(buckets, Buckets::Dense(_)));
        assert_eq!(collected(&buckets).len(), 300);
    }

    #[test]
    fn absorbing_adds_every_count() {
        let (mut a, mut b) = (Buckets::new(), Buckets::new());
        for i in 0..300 {
            add(&mut a, i, 1);
            add(&mut b, i * 2, 3);
        }
        a.absorb(LEN, &b);
        let counts = collected(&a);
        assert_eq!(counts.iter().map(|c| c.1).sum::<u64>(), 300 + 900);
        assert_eq!(counts[2], (2, 4));
    }
}
