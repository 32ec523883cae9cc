//! Exemplars: the trace ids of kept runs ([`Stats::slowest`]) on the
//! histograms of busy and wall time, so that a scraper can link a bucket
//! to a trace. Read at scrape time from the runs the timer already keeps:
//! nothing on the poll path.
//!
//! Which runs: in each classic bucket, of the kept runs with a trace id
//! whose time (busy or wall, the histogram's) lies in the bucket's range
//! (previous bound, bound], the one with the longest such time; so at most
//! one per bucket, and only in the buckets a kept run fell in (the slowest
//! runs sit in the top buckets). A native histogram has every kept run
//! with a trace id, oldest first.

use std::time::{Duration, UNIX_EPOCH};

use crate::read::SlowRun;
#[cfg(doc)]
use crate::read::Stats;

/// The exemplar's one label: the run's trace id.
pub(super) const LABEL: &str = "trace_id";

/// OpenMetrics' bound on an exemplar's label set: its names' and values'
/// code points together.
const MAX_LABEL_SET: usize = 128;

/// Which of a kept run's times a histogram's exemplars show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Measure {
    Busy,
    Wall,
}

impl Measure {
    fn nanos(self, run: &SlowRun) -> u64 {
        match self {
            Measure::Busy => run.busy,
            Measure::Wall => run.wall,
        }
    }
}

/// A kept run, as an exemplar of one histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Exemplar<'a> {
    /// The run's busy or wall time.
    pub(super) nanos: u64,
    pub(super) trace_id: &'a str,
    /// When the run ended, since the Unix epoch; `None` before it.
    pub(super) timestamp: Option<Duration>,
}

impl Exemplar<'_> {
    fn of(run: &SlowRun, measure: Measure) -> Option<Exemplar<'_>> {
        Some(Exemplar {
            nanos: measure.nanos(run),
            trace_id: trace_id(run)?,
            timestamp: run.ended.duration_since(UNIX_EPOCH).ok(),
        })
    }

    /// The value in seconds, computed as the buckets' bounds are (`n /
    /// 1e9`), so that a value at or under a bound in nanoseconds is at or
    /// under it in seconds too.
    pub(super) fn seconds(&self) -> f64 {
        self.nanos as f64 / 1e9
    }
}

/// The trace id a run can carry in an exemplar: one it has, not empty, and
/// short enough for the label set (a longer one is left out, never cut:
/// a cut id names no trace).
fn trace_id(run: &SlowRun) -> Option<&str> {
    let id = run.trace_id.as_deref().filter(|id| !id.is_empty())?;
    // Bytes bound code points: count them only when the bytes are over.
    let fits = LABEL.len() + id.len() <= MAX_LABEL_SET
        || LABEL.len() + id.chars().count() <= MAX_LABEL_SET;
    fits.then_some(id)
}

/// At most one exemplar per classic bucket of `bounds` (nanoseconds,
/// ascending; `+Inf` after them, as bucket `bounds.len()`), as `(bucket,
/// exemplar)` in bucket order: of the `runs` with a trace id whose
/// `measure` lies in a bucket, the longest (the first of equals).
/// Allocates only when some run has a trace id.
pub(super) fn per_bucket<'a>(
    runs: &'a [SlowRun],
    measure: Measure,
    bounds: &[u64],
) -> Vec<(usize, Exemplar<'a>)> {
    let mut picked: Vec<(usize, Exemplar<'a>)> = Vec::new();
    for exemplar in runs.iter().filter_map(|run| Exemplar::of(run, measure)) {
        // The first bound at or above the value: the bucket whose range
        // (previous bound, bound] holds it.
        let bucket = bounds.partition_point(|&b| b < exemplar.nanos);
        match picked.iter_mut().find(|(b, _)| *b == bucket) {
            Some((_, kept)) if kept.nanos >= exemplar.nanos => {}
            Some((_, kept)) => *kept = exemplar,
            None => picked.push((bucket, exemplar)),
        }
    }
    picked.sort_unstable_by_key(|&(bucket, _)| bucket);
    picked
}

/// Every one of `runs` with a trace id and a timestamp (a native
/// histogram's exemplars must have one), oldest first: the order in which
/// a scraper that keeps them by time takes them all.
pub(super) fn all(runs: &[SlowRun], measure: Measure) -> Vec<Exemplar<'_>> {
    let mut all: Vec<Exemplar<'_>> = (runs.iter())
        .filter_map(|run| Exemplar::of(run, measure))
        .filter(|e| e.timestamp.is_some())
        .collect();
    all.sort_by_key(|e| e.timestamp);
    all
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A kept run of `busy` and `wall` nanoseconds, ended `at_ms`
    /// milliseconds after the epoch, with `trace_id`.
    pub(in crate::export::prometheus) fn run(
        busy: u64,
        wall: u64,
        at_ms: u64,
        trace_id: Option<&str>,
    ) -> SlowRun {
        SlowRun {
            wall,
            busy,
            self_time: busy,
            idle_untimed: wall - busy,
            parts: Vec::new(),
            ended: UNIX_EPOCH + Duration::from_millis(at_ms),
            trace_id: trace_id.map(str::to_owned),
            error: false,
        }
    }

    /// A snapshot of one timer `t` with `runs` recorded (their busy time)
    /// and kept as its slowest.
    pub(in crate::export::prometheus) fn snapshot(runs: Vec<SlowRun>) -> crate::read::Snapshot {
        let registry = crate::registry::Registry::new();
        let timer = registry.timer("t");
        for run in &runs {
            timer.record(Duration::from_nanos(run.busy));
        }
        let snapshot = registry.snapshot();
        let timers = snapshot
            .iter()
            .map(|s| s.clone().with_slowest(runs.clone()));
        crate::read::Snapshot::new(timers.collect(), snapshot.quantiles().into(), false)
    }

    #[test]
    fn each_bucket_gets_the_longest_run_that_fell_in_it() {
        // Slowest first by wall, as kept.
        let runs = [
            run(4_000, 90_000, 1_000, Some("a")), // wall (50 µs, 100 µs]
            run(9_000, 70_000, 2_000, Some("b")), // wall (50 µs, 100 µs], busy (5 µs, 10 µs]
            run(6_000, 10_000, 3_000, Some("c")), // wall (5 µs, 10 µs]
            run(3_000, 9_999, 4_000, None),       // no trace id: none
        ];
        let bounds = [1_000, 5_000, 10_000, 50_000, 100_000];
        let wall = per_bucket(&runs, Measure::Wall, &bounds);
        let ids: Vec<_> = wall
            .iter()
            .map(|(b, e)| (*b, e.trace_id, e.nanos))
            .collect();
        assert_eq!(ids, [(2, "c", 10_000), (4, "a", 90_000)]);
        // Busy: 4 µs and 3 µs share (1, 5]; 9 µs and 6 µs share (5, 10].
        let busy = per_bucket(&runs, Measure::Busy, &bounds);
        let ids: Vec<_> = busy.iter().map(|(b, e)| (*b, e.trace_id)).collect();
        assert_eq!(ids, [(1, "a"), (2, "b")]);
        // Past the last bound: the +Inf bucket.
        let long = [run(1, 200_000, 1_000, Some("x"))];
        assert_eq!(per_bucket(&long, Measure::Wall, &bounds)[0].0, 5);
        // On a bound: that bound's bucket, whose range ends there.
        let on = [run(1, 50_000, 1_000, Some("x"))];
        assert_eq!(per_bucket(&on, Measure::Wall, &bounds)[0].0, 3);
    }

    #[test]
    fn every_value_lies_in_its_buckets_range_in_seconds_too() {
        // Bounds as the text writer labels them: `n / 1e9`.
        let bounds = [1_000, 2_500, 5_000, 10_000, 25_000, 2_500_000_000_000];
        for nanos in [
            1,
            999,
            1_000,
            1_001,
            2_499,
            2_500,
            2_501,
            24_999_999,
            2_500_000_000_000,
        ] {
            let runs = [run(nanos, nanos, 1_000, Some("t"))];
            let (bucket, e) = per_bucket(&runs, Measure::Busy, &bounds)[0];
            let le = bounds
                .get(bucket)
                .map_or(f64::INFINITY, |&b| b as f64 / 1e9);
            let below = bucket
                .checked_sub(1)
                .map_or(0.0, |i| bounds[i] as f64 / 1e9);
            assert!(below < e.seconds() && e.seconds() <= le, "{nanos} ns");
        }
    }

    #[test]
    fn an_id_too_long_for_the_label_set_or_empty_is_left_out() {
        let longest = "é".repeat(128 - LABEL.len()); // 120 code points, 240 bytes
        let too_long = "a".repeat(128 - LABEL.len() + 1);
        let runs = [
            run(1, 3, 1_000, Some(&too_long)),
            run(1, 2, 1_000, Some("")),
            run(1, 1, 1_000, Some(&longest)),
        ];
        let ids: Vec<_> = all(&runs, Measure::Wall)
            .iter()
            .map(|e| e.trace_id)
            .collect();
        assert_eq!(ids, [longest.as_str()]);
    }

    #[test]
    fn a_native_histogram_has_every_run_with_an_id_oldest_first() {
        let runs = [
            run(5, 50, 30_000, Some("newest")),
            run(4, 40, 10_000, Some("oldest")),
            run(3, 30, 5_000, None),
            run(2, 20, 20_000, Some("middle")),
        ];
        let all = all(&runs, Measure::Busy);
        let ids: Vec<_> = all.iter().map(|e| (e.trace_id, e.nanos)).collect();
        assert_eq!(ids, [("oldest", 4), ("middle", 2), ("newest", 5)]);
        assert_eq!(all[0].timestamp, Some(Duration::from_secs(10)));
    }
}
