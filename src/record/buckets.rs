//! `Buckets`: one histogram's counters in HdrHistogram's layout, as small
//! as the values recorded allow.
//!
//! A timer starts sparse: a sorted list of (counter index, count) pairs, 8
//! bytes per distinct value, so a timer with a few dozen runs holds a few
//! hundred bytes. Past [`SPARSE_MAX`] distinct values it turns dense:
//! chunks of [`CHUNK`] counters, allocated where values fall, each 16 bits
//! wide until one of its counters passes `u16::MAX`, then 32, then 64. No
//! count is ever lost or saturated; memory follows the spread of the values
//! and, only logarithmically, the counts.
//!
//! Not thread-safe on its own: the recorder keeps it behind a lock.

/// Distinct values kept sparse; one more turns the counters dense. At 8
/// bytes a pair, the sparse form then holds about what a few dense chunks do.
pub(crate) const SPARSE_MAX: usize = 128;

/// Counters per dense chunk: 512 bytes at 16 bits.
const CHUNK: usize = 256;

/// One histogram's counters.
#[derive(Debug)]
pub(crate) enum Buckets {
    /// (counter index, count), sorted by index, every count non-zero.
    Sparse(Vec<(u32, u32)>),
    /// Chunks of counters, `None` where no value fell.
    Dense(Box<[Option<Chunk>]>),
}

/// [`CHUNK`] counters, as wide as the largest of them needs.
#[derive(Debug)]
pub(crate) enum Chunk {
    U16(Box<[u16; CHUNK]>),
    U32(Box<[u32; CHUNK]>),
    U64(Box<[u64; CHUNK]>),
}

impl Buckets {
    pub(crate) fn new() -> Self {
        Buckets::Sparse(Vec::new())
    }

    /// Adds `n` to counter `index` of a histogram of `len` counters
    /// (`index < len`; a larger one is ignored rather than panicking).
    pub(crate) fn add(&mut self, len: usize, index: u32, n: u64) {
        if let Buckets::Sparse(pairs) = self {
            match pairs.binary_search_by_key(&index, |&(i, _)| i) {
                Ok(at) => {
                    if let Some(count) = u32::try_from(n)
                        .ok()
                        .and_then(|n| pairs[at].1.checked_add(n))
                    {
                        pairs[at].1 = count;
                        return;
                    }
                }
                Err(at) if pairs.len() < SPARSE_MAX => {
                    if let Ok(n) = u32::try_from(n) {
                        pairs.insert(at, (index, n));
                        return;
                    }
                }
                Err(_) => {}
            }
            // Too many distinct values, or a count past 32 bits: go dense.
            *self = Buckets::Dense(densify(len, pairs));
        }
        if let Buckets::Dense(chunks) = self {
            add_dense(chunks, index as usize, n);
        }
    }

    /// Appends (counter index, count) of every non-zero counter, by index.
    pub(crate) fn collect(&self, into: &mut Vec<(u32, u64)>) {
        match self {
            Buckets::Sparse(pairs) => {
                into.extend(pairs.iter().map(|&(i, n)| (i, u64::from(n))));
            }
            Buckets::Dense(chunks) => {
                for (c, chunk) in chunks.iter().enumerate() {
                    let Some(chunk) = chunk else { continue };
                    let first = (c * CHUNK) as u32;
                    for offset in 0..CHUNK {
                        let n = chunk.get(offset);
                        if n > 0 {
                            into.push((first + offset as u32, n));
                        }
                    }
                }
            }
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Buckets::Sparse(pairs) => pairs.capacity() * std::mem::size_of::<(u32, u32)>(),
            Buckets::Dense(chunks) => {
                let table = chunks.len() * std::mem::size_of::<Option<Chunk>>();
                table + chunks.iter().flatten().map(Chunk::bytes).sum::<usize>()
            }
        }
    }
}

fn densify(len: usize, pairs: &[(u32, u32)]) -> Box<[Option<Chunk>]> {
    let mut chunks: Box<[Option<Chunk>]> = (0..len.div_ceil(CHUNK)).map(|_| None).collect();
    for &(index, n) in pairs {
        add_dense(&mut chunks, index as usize, u64::from(n));
    }
    chunks
}

fn add_dense(chunks: &mut [Option<Chunk>], index: usize, n: u64) {
    let Some(slot) = chunks.get_mut(index / CHUNK) else {
        return;
    };
    let chunk = slot.get_or_insert_with(|| Chunk::U16(Box::new([0; CHUNK])));
    chunk.add(index % CHUNK, n);
}

impl Chunk {
    fn get(&self, offset: usize) -> u64 {
        match self {
            Chunk::U16(c) => u64::from(c[offset]),
            Chunk::U32(c) => u64::from(c[offset]),
            Chunk::U64(c) => c[offset],
        }
    }

    /// Adds `n` at `offset` (< CHUNK), widening the chunk if the sum needs it.
    fn add(&mut self, offset: usize, n: u64) {
        loop {
            match self {
                Chunk::U16(c) => {
                    if let Some(sum) = u16::try_from(n).ok().and_then(|n| c[offset].checked_add(n))
                    {
                        c[offset] = sum;
                        return;
                    }
                    *self = Chunk::U32(Box::new(c.map(u32::from)));
                }
                Chunk::U32(c) => {
                    if let Some(sum) = u32::try_from(n).ok().and_then(|n| c[offset].checked_add(n))
                    {
                        c[offset] = sum;
                        return;
                    }
                    *self = Chunk::U64(Box::new(c.map(u64::from)));
                }
                Chunk::U64(c) => {
                    // 2^64 runs in one bucket cannot happen; saturate all the same.
                    c[offset] = c[offset].saturating_add(n);
                    return;
                }
            }
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Chunk::U16(_) => CHUNK * 2,
            Chunk::U32(_) => CHUNK * 4,
            Chunk::U64(_) => CHUNK * 8,
        }
    }
}

#[cfg(all(test, not(perf_timer_loom)))]
mod tests {
    use super::*;

    fn collected(buckets: &Buckets) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        buckets.collect(&mut out);
        out
    }

    #[test]
    fn sparse_until_many_distinct_values_then_dense_with_the_same_counts() {
        let len = 33 * 1024;
        let mut buckets = Buckets::new();
        let mut expected = std::collections::BTreeMap::new();
        for i in 0..SPARSE_MAX as u32 {
            buckets.add(len, i * 97 % len as u32, 2);
            *expected.entry(i * 97 % len as u32).or_insert(0_u64) += 2;
        }
        assert!(matches!(buckets, Buckets::Sparse(_)));
        assert!(buckets.heap_bytes() <= SPARSE_MAX * 8);
        buckets.add(len, 33_000, 1);
        *expected.entry(33_000).or_insert(0) += 1;
        assert!(matches!(buckets, Buckets::Dense(_)));
        assert_eq!(
            collected(&buckets),
            expected.into_iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn counters_widen_instead_of_wrapping() {
        let len = 1024;
        let mut buckets = Buckets::new();
        buckets.add(len, 5, u64::from(u32::MAX)); // sparse at the edge
        buckets.add(len, 5, 1); // past 32 bits: dense, widened
        buckets.add(len, 700, u64::from(u16::MAX));
        buckets.add(len, 700, 1);
        assert_eq!(collected(&buckets), [(5, 1 << 32), (700, 1 << 16)]);
        buckets.add(len, 5_000, 1); // out of range: ignored, no panic
        assert_eq!(collected(&buckets).len(), 2);
    }

    #[test]
    fn dense_memory_follows_the_chunks_values_fall_in() {
        let len = 33 * 1024;
        let mut buckets = Buckets::Dense(densify(len, &[]));
        let table = buckets.heap_bytes();
        buckets.add(len, 10, 1);
        buckets.add(len, 11, 1);
        assert_eq!(buckets.heap_bytes(), table + CHUNK * 2);
        buckets.add(len, 10, 70_000);
        assert_eq!(buckets.heap_bytes(), table + CHUNK * 4);
    }
}
