//! `Counts`: a snapshot's bucket counts of one histogram, in whichever of
//! two forms is smaller: (index, count) pairs for values spread thin, or
//! one count per bucket over the span from the first to the last for
//! values packed tight (the worst case, every bucket filled, then costs 4
//! bytes a bucket where pairs would cost 16).

use std::sync::Arc;

/// Bucket counts, by counter index.
#[derive(Clone, Debug)]
pub(crate) enum Counts {
    /// (counter index, count) of every non-empty bucket, by index.
    Pairs(Arc<[(u32, u64)]>),
    /// The counts of buckets `first..first + counts.len()`, zeros included;
    /// every count fits 32 bits.
    Span { first: u32, counts: Arc<[u32]> },
}

impl Counts {
    /// From sorted (index, count) pairs, each count non-zero.
    pub(crate) fn new(pairs: Vec<(u32, u64)>) -> Self {
        let (Some(&(first, _)), Some(&(last, _))) = (pairs.first(), pairs.last()) else {
            return Counts::Pairs(Arc::new([]));
        };
        let span = (last - first) as usize + 1;
        let narrow = pairs.iter().all(|&(_, n)| n <= u64::from(u32::MAX));
        if !narrow || span * 4 >= pairs.len() * 16 {
            return Counts::Pairs(pairs.into());
        }
        let mut counts = vec![0_u32; span];
        for (index, n) in pairs {
            counts[(index - first) as usize] = n as u32;
        }
        Counts::Span {
            first,
            counts: counts.into(),
        }
    }

    /// (counter index, count) of every non-empty bucket, by index.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        let (pairs, span): (&[(u32, u64)], &[u32]) = match self {
            Counts::Pairs(pairs) => (pairs, &[]),
            Counts::Span { counts, .. } => (&[], counts),
        };
        let first = match self {
            Counts::Span { first, .. } => *first,
            Counts::Pairs(_) => 0,
        };
        let spread = (span.iter().enumerate())
            .filter(|&(_, &n)| n > 0)
            .map(move |(offset, &n)| (first + offset as u32, u64::from(n)));
        pairs.iter().copied().chain(spread)
    }

    /// Calls `f` with (counter index, count) of every non-empty bucket, by
    /// index: [`iter`](Counts::iter) as two tight loops, for the
    /// exporters that read every bucket of every timer.
    #[inline]
    pub(crate) fn for_each(&self, mut f: impl FnMut(u32, u64)) {
        match self {
            Counts::Pairs(pairs) => pairs.iter().for_each(|&(index, n)| f(index, n)),
            Counts::Span { first, counts } => {
                for (offset, &n) in counts.iter().enumerate() {
                    if n > 0 {
                        f(first + offset as u32, u64::from(n));
                    }
                }
            }
        }
    }

    /// The lowest non-empty bucket.
    pub(crate) fn first(&self) -> Option<u32> {
        match self {
            Counts::Pairs(pairs) => pairs.first().map(|p| p.0),
            // A span starts and ends on non-empty buckets (see `new`).
            Counts::Span { first, .. } => Some(*first),
        }
    }

    /// The highest non-empty bucket.
    pub(crate) fn last(&self) -> Option<u32> {
        match self {
            Counts::Pairs(pairs) => pairs.last().map(|p| p.0),
            Counts::Span { first, counts } => Some(first + counts.len() as u32 - 1),
        }
    }

    /// Non-empty buckets.
    pub(crate) fn len(&self) -> usize {
        match self {
            Counts::Pairs(pairs) => pairs.len(),
            Counts::Span { counts, .. } => counts.iter().filter(|&&n| n > 0).count(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_give_back_the_pairs() {
        let thin = vec![(3, 1), (900, 2), (40_000, 5_000_000_000)];
        let counts = Counts::new(thin.clone());
        assert!(matches!(counts, Counts::Pairs(_)));
        assert_eq!(counts.iter().collect::<Vec<_>>(), thin);

        let tight: Vec<(u32, u64)> = (100..200)
            .filter(|i| i % 3 > 0)
            .map(|i| (i, i as u64))
            .collect();
        let counts = Counts::new(tight.clone());
        assert!(matches!(counts, Counts::Span { .. }));
        assert_eq!(counts.iter().collect::<Vec<_>>(), tight);
        assert_eq!(
            (counts.first(), counts.last(), counts.len()),
            (Some(100), Some(199), tight.len())
        );
        assert_eq!(Counts::new(Vec::new()).iter().count(), 0);
    }
}
