//! Merging what several registries, processes or saved runs recorded:
//! counts and sums added, histograms added bucket by bucket.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::distribution::Distribution;
use crate::clock::saturating_nanos;
use crate::read::{SlowRun, Snapshot, Stats};
use crate::record::{Layout, Reading};
use crate::state::paths::PathLine;

impl Snapshot {
    /// Every timer of `snapshots` in one snapshot: a timer found in several
    /// is one timer whose counts and sums are added and whose busy, wall
    /// and scheduling-delay histograms are added bucket by bucket, exactly
    /// what one registry would have recorded had it seen every run. The
    /// quantiles are the first snapshot's. Histograms of different lowest
    /// values or precisions are counted into the finest buckets of any of
    /// them (the lowest `lowest`, the most significant figures), each value
    /// of a coarser part at its bucket's lowest equivalent value, as
    /// HdrHistogram adds histograms of another layout; the merged range
    /// reaches the highest of any part, so that no value is clamped.
    /// Allocations are those of the parts that counted them (a part
    /// recorded without a counting allocator adds its runs, not its
    /// allocations): [`Allocations::runs`](crate::Allocations::runs) then
    /// counts fewer runs than [`Stats::count`]. The order of the snapshots
    /// changes nothing but the quantiles.
    ///
    /// ```
    /// use std::time::Duration;
    /// use perf_timer::{Registry, Snapshot};
    ///
    /// let (a, b) = (Registry::new(), Registry::new());
    /// a.timer("get").record(Duration::from_micros(10));
    /// b.timer("get").record(Duration::from_micros(30));
    /// b.timer("put").record(Duration::from_micros(5));
    /// let merged = Snapshot::merge([&a.snapshot(), &b.snapshot()]);
    /// assert_eq!(merged.get("get").unwrap().count(), 2);
    /// assert_eq!(merged.get("get").unwrap().total(), Duration::from_micros(40));
    /// assert_eq!(merged.len(), 2);
    /// ```
    pub fn merge<'a>(snapshots: impl IntoIterator<Item = &'a Snapshot>) -> Snapshot {
        let snapshots: Vec<&Snapshot> = snapshots.into_iter().collect();
        let quantiles: Arc<[f64]> = match snapshots.first() {
            Some(first) => first.quantiles().into(),
            None => Arc::new(crate::defaults::QUANTILES),
        };
        let mut by_name: BTreeMap<&str, Vec<&Stats>> = BTreeMap::new();
        for snapshot in &snapshots {
            for stats in snapshot.iter() {
                by_name.entry(stats.name()).or_default().push(stats);
            }
        }
        let timers = by_name
            .into_iter()
            .map(|(name, parts)| merge_stats(name, &parts, quantiles.clone()))
            .collect();
        let switched_off = snapshots.iter().any(|s| s.is_switched_off());
        Snapshot::new(timers, quantiles, switched_off).with_paths(merge_paths(&snapshots))
    }
}

/// The nesting paths of `snapshots`, each path's counters added.
fn merge_paths(snapshots: &[&Snapshot]) -> Vec<PathLine> {
    let mut by_path: BTreeMap<&[Arc<str>], PathLine> = BTreeMap::new();
    for line in snapshots.iter().flat_map(|s| s.paths()) {
        let merged = by_path.entry(&line.names).or_insert_with(|| PathLine {
            names: line.names.clone(),
            runs: 0,
            self_busy: 0,
            parked: 0,
        });
        merged.runs = merged.runs.saturating_add(line.runs);
        merged.self_busy = merged.self_busy.saturating_add(line.self_busy);
        merged.parked = merged.parked.saturating_add(line.parked);
    }
    by_path.into_values().collect()
}

/// The slowest runs of `parts`: the slowest of all, as many as the part
/// that kept most (each part kept its own slowest, so these are the
/// slowest of the whole to that number), slowest first.
fn merge_slowest(parts: &[&Stats]) -> Vec<SlowRun> {
    let keep = parts.iter().map(|s| s.slowest().len()).max().unwrap_or(0);
    let mut runs: Vec<SlowRun> = parts.iter().flat_map(|s| s.slowest()).cloned().collect();
    runs.sort_by(|a, b| b.wall.cmp(&a.wall).then(a.ended.cmp(&b.ended)));
    runs.truncate(keep);
    runs
}

/// `parts` (at least one) as one timer named `name`, in the finest
/// buckets of any part (the lowest `lowest`, the most significant figures)
/// over the highest range of any part: whatever the order of the parts,
/// the same merge, every value of every part in a bucket (and a saved
/// merge reads back).
pub(crate) fn merge_stats(name: &str, parts: &[&Stats], quantiles: Arc<[f64]>) -> Stats {
    let layout = finest(parts.iter().map(|s| s.busy().layout()));
    let mut totals = *parts[0].totals();
    for stats in &parts[1..] {
        totals.merge(stats.totals());
    }
    let scheduled_nanos = parts.iter().fold(0_u64, |sum, stats| {
        sum.saturating_add(saturating_nanos(stats.scheduled().total()))
    });
    let reading = Reading {
        totals,
        busy: add_buckets(layout, parts.iter().map(|s| s.busy())),
        wall: add_buckets(layout, parts.iter().map(|s| s.wall())),
        scheduled: add_buckets(layout, parts.iter().map(|s| s.scheduled())),
        scheduled_nanos,
        allocated: add_buckets(
            *crate::record::allocated_bytes(),
            parts
                .iter()
                .filter_map(|s| s.allocations_ref().map(|a| a.distribution().inner())),
        ),
        allocations_counted: parts.iter().any(|s| s.allocations_ref().is_some()),
    };
    Stats::from_reading(name, reading, layout, quantiles).with_slowest(merge_slowest(parts))
}

/// The finest of `layouts` (at least one): the lowest `lowest`, the most
/// significant figures, the highest `highest`. Where no layout has all
/// three (a range too narrow for them), the finest precision wins over the
/// lowest value.
fn finest(mut layouts: impl Iterator<Item = Layout>) -> Layout {
    let first = layouts.next().expect("at least one part");
    let (lowest, highest, figures) = layouts.fold(
        (first.lowest, first.highest, first.significant_figures),
        |(lowest, highest, figures), l| {
            (
                lowest.min(l.lowest),
                highest.max(l.highest),
                figures.max(l.significant_figures),
            )
        },
    );
    Layout::new(lowest, highest, figures)
        .or_else(|_| Layout::new(first.lowest, highest, figures))
        .or_else(|_| Layout::new(first.lowest, highest, first.significant_figures))
        .unwrap_or(first)
}

/// The bucket counts of `distributions` added, in `layout`'s buckets. Each
/// part's buckets come sorted by index (a part of another layout keeps its
/// order when re-bucketed: index grows with value), so the parts are added
/// by merging sorted lists, one part at a time.
fn add_buckets<'a>(
    layout: Layout,
    distributions: impl Iterator<Item = &'a Distribution>,
) -> Vec<(u32, u64)> {
    let mut sums: Vec<(u32, u64)> = Vec::new();
    for distribution in distributions {
        let theirs = distribution.layout();
        // The same lowest value and precision: the same buckets, whatever
        // each range's end.
        let same = theirs.lowest == layout.lowest
            && theirs.significant_figures == layout.significant_figures;
        let part = distribution.buckets().map(|(index, count)| {
            let index = if same {
                index
            } else {
                let value = theirs.value(index as usize).min(layout.highest);
                layout.index(value) as u32
            };
            (index, count)
        });
        sums = merge_sorted(&sums, part);
    }
    sums
}

/// Two lists of (index, count) sorted by index, as one, counts of one
/// index added (also within `part`, which re-bucketing can repeat).
fn merge_sorted(sums: &[(u32, u64)], part: impl Iterator<Item = (u32, u64)>) -> Vec<(u32, u64)> {
    let mut merged: Vec<(u32, u64)> = Vec::with_capacity(sums.len() + 16);
    let mut push = |(index, count): (u32, u64)| match merged.last_mut() {
        Some(last) if last.0 == index => last.1 = last.1.saturating_add(count),
        _ => merged.push((index, count)),
    };
    let mut old = sums.iter().copied().peekable();
    for bucket in part {
        while let Some(earlier) = old.next_if(|b| b.0 <= bucket.0) {
            push(earlier);
        }
        push(bucket);
    }
    old.for_each(&mut push);
    merged
}
