//! `serde::Serialize` for `Stats`, `Snapshot`, `Interval`, `SlowRun` and
//! `Part`: stable field names, durations as whole nanoseconds.

use std::collections::BTreeMap;

use serde::ser::{Serialize, Serializer};

use crate::clock::saturating_nanos;
use crate::read::{Allocations, Distribution, Part, SlowRun, Snapshot, Stats, Sum};
use crate::registry::interval::Interval;

/// The serialized form of [`Stats`]; field names are part of the API and
/// follow the methods: `busy.mean_ns` is `stats.busy().mean()`.
#[derive(serde::Serialize)]
struct StatsFields<'a> {
    name: &'a str,
    count: u64,
    cancelled: u64,
    panicked: u64,
    errors: u64,
    clamped: u64,
    polls: u64,
    slow_polls: u64,
    blocked_polls: u64,
    /// `null` over an interval in which it is not known.
    longest_poll_ns: Option<u64>,
    poll_total_ns: u64,
    in_flight: u64,
    abandoned_busy_ns: u64,
    bytes: u64,
    cpu_share: Option<f64>,
    busy: DistributionFields,
    wall: DistributionFields,
    scheduled: DistributionFields,
    idle: SumFields,
    self_time: SumFields,
    slowest: &'a [SlowRun],
    /// `null` without a counting allocator (left out of older readers'
    /// way: they ignore it).
    allocations: Option<AllocationsFields>,
}

/// The serialized form of [`Allocations`].
#[derive(serde::Serialize)]
struct AllocationsFields {
    runs: u64,
    count: u64,
    bytes: u64,
    count_per_run: f64,
    bytes_per_run: f64,
    self_count: u64,
    self_bytes: u64,
    abandoned_count: u64,
    abandoned_bytes: u64,
    /// Bytes of each run, as `distribution()`.
    distribution: ByteDistributionFields,
}

/// The serialized form of a [`ByteDistribution`](crate::ByteDistribution).
#[derive(serde::Serialize)]
struct ByteDistributionFields {
    count: u64,
    total: u64,
    mean: f64,
    stdev: f64,
    min: u64,
    max: u64,
    quantiles: BTreeMap<String, u64>,
}

impl AllocationsFields {
    fn of(a: &Allocations, quantiles: &[f64]) -> Self {
        let d = a.distribution();
        AllocationsFields {
            runs: a.runs(),
            count: a.count(),
            bytes: a.bytes(),
            count_per_run: a.count_per_run(),
            bytes_per_run: a.bytes_per_run(),
            self_count: a.self_count(),
            self_bytes: a.self_bytes(),
            abandoned_count: a.abandoned_count(),
            abandoned_bytes: a.abandoned_bytes(),
            distribution: ByteDistributionFields {
                count: d.count(),
                total: d.total(),
                mean: d.mean(),
                stdev: d.stdev(),
                min: d.min(),
                max: d.max(),
                quantiles: (quantiles.iter())
                    .map(|&q| (q.to_string(), d.quantile(q)))
                    .collect(),
            },
        }
    }
}

/// The serialized form of a [`Distribution`].
#[derive(serde::Serialize)]
struct DistributionFields {
    count: u64,
    total_ns: u64,
    mean_ns: u64,
    stdev_ns: u64,
    min_ns: u64,
    max_ns: u64,
    quantiles_ns: BTreeMap<String, u64>,
}

/// The serialized form of a [`Sum`].
#[derive(serde::Serialize)]
struct SumFields {
    total_ns: u64,
    mean_ns: u64,
}

impl DistributionFields {
    fn of(d: &Distribution, quantiles: &[f64]) -> Self {
        DistributionFields {
            count: d.count(),
            total_ns: saturating_nanos(d.total()),
            mean_ns: saturating_nanos(d.mean()),
            stdev_ns: saturating_nanos(d.stdev()),
            min_ns: saturating_nanos(d.min()),
            max_ns: saturating_nanos(d.max()),
            quantiles_ns: (quantiles.iter())
                .map(|&q| (q.to_string(), saturating_nanos(d.quantile(q))))
                .collect(),
        }
    }
}

impl SumFields {
    fn of(sum: Sum) -> Self {
        SumFields {
            total_ns: saturating_nanos(sum.total()),
            mean_ns: saturating_nanos(sum.mean()),
        }
    }
}

/// As JSON, the names following the methods, for example:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// let timer = perf_timer::Registry::new().timer("db");
/// timer.record(std::time::Duration::from_micros(250));
/// let json = serde_json::to_value(timer.stats()).unwrap();
/// assert_eq!(json["name"], "db");
/// assert_eq!(json["count"], 1);
/// assert_eq!(json["busy"]["total_ns"], 250_000);
/// assert_eq!(json["busy"]["quantiles_ns"]["0.99"], 250_111);
/// assert_eq!(json["wall"]["mean_ns"], 250_000);
/// assert_eq!(json["idle"]["total_ns"], 0);
/// assert!(json["allocations"].is_null()); // no perf_timer::CountingAllocator here
/// # }
/// ```
impl Serialize for Stats {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let quantiles = self.report_quantiles();
        StatsFields {
            name: self.name(),
            count: self.count(),
            cancelled: self.cancelled(),
            panicked: self.panicked(),
            errors: self.errors(),
            clamped: self.clamped(),
            polls: self.polls(),
            slow_polls: self.slow_polls(),
            blocked_polls: self.blocked_polls(),
            longest_poll_ns: self.longest_poll().map(saturating_nanos),
            poll_total_ns: saturating_nanos(self.poll_total()),
            in_flight: self.in_flight(),
            abandoned_busy_ns: saturating_nanos(self.abandoned_busy()),
            bytes: self.bytes(),
            cpu_share: self.cpu_share(),
            busy: DistributionFields::of(self.busy(), quantiles),
            wall: DistributionFields::of(self.wall(), quantiles),
            scheduled: DistributionFields::of(self.scheduled(), quantiles),
            idle: SumFields::of(self.idle()),
            self_time: SumFields::of(self.self_time()),
            slowest: self.slowest(),
            allocations: (self.allocations_ref()).map(|a| AllocationsFields::of(a, quantiles)),
        }
        .serialize(serializer)
    }
}

/// As JSON, the names following the methods, `ended_unix_ns` the end on
/// the system clock in nanoseconds since the Unix epoch:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let registry = perf_timer::Registry::new();
/// let db = registry.timer("db");
/// registry.timer("api").time(async { db.time(async {}).await }).await;
/// let json = serde_json::to_value(registry.stats("api").unwrap()).unwrap();
/// let run = &json["slowest"][0];
/// assert_eq!(run["parts"][0]["name"], "db");
/// assert_eq!(run["parts"][0]["runs"], 1);
/// assert_eq!(run["trace_id"], serde_json::Value::Null);
/// let sum = ["self_time_ns", "idle_untimed_ns"].iter().map(|k| run[k].as_u64().unwrap()).sum::<u64>()
///     + run["parts"][0]["busy_ns"].as_u64().unwrap()
///     + run["parts"][0]["idle_ns"].as_u64().unwrap();
/// assert_eq!(sum, run["wall_ns"].as_u64().unwrap());
/// # }
/// # }
/// ```
impl Serialize for SlowRun {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct SlowRunFields<'a> {
            wall_ns: u64,
            busy_ns: u64,
            self_time_ns: u64,
            idle_untimed_ns: u64,
            ended_unix_ns: u64,
            trace_id: Option<&'a str>,
            error: bool,
            parts: &'a [Part],
        }
        let ended = self.ended().duration_since(std::time::UNIX_EPOCH);
        SlowRunFields {
            wall_ns: saturating_nanos(self.wall()),
            busy_ns: saturating_nanos(self.busy()),
            self_time_ns: saturating_nanos(self.self_time()),
            idle_untimed_ns: saturating_nanos(self.idle_untimed()),
            ended_unix_ns: ended.map_or(0, saturating_nanos),
            trace_id: self.trace_id(),
            error: self.is_error(),
            parts: self.parts(),
        }
        .serialize(serializer)
    }
}

/// As JSON: `{"name": "db", "busy_ns": …, "idle_ns": …, "runs": 1}` (see
/// [`SlowRun`]'s).
impl Serialize for Part {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct PartFields<'a> {
            name: &'a str,
            busy_ns: u64,
            idle_ns: u64,
            runs: u64,
        }
        PartFields {
            name: self.name(),
            busy_ns: saturating_nanos(self.busy()),
            idle_ns: saturating_nanos(self.idle()),
            runs: self.runs(),
        }
        .serialize(serializer)
    }
}

/// As JSON: `{"quantiles": [0.5, 0.9, 0.99], "timers": [{...}, ...],
/// "paths": [...]}`, the timers sorted by name, and the nesting paths
/// ([`Snapshot::folded`]'s data), each `{"path": ["api", "db"], "runs",
/// "self_busy_ns", "parked_ns"}`.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let registry = perf_timer::Registry::new();
/// let db = registry.timer("db");
/// registry.timer("api").time(async { db.time(async {}).await }).await;
/// let json = serde_json::to_value(registry.snapshot()).unwrap();
/// assert_eq!(json["timers"][0]["name"], "api");
/// assert_eq!(json["quantiles"][2], 0.99);
/// assert_eq!(json["paths"][0]["path"], serde_json::json!(["api", "db"]));
/// # }
/// # }
/// ```
impl Serialize for Snapshot {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct PathFields<'a> {
            path: Vec<&'a str>,
            runs: u64,
            self_busy_ns: u64,
            parked_ns: u64,
        }
        #[derive(serde::Serialize)]
        struct SnapshotFields<'a> {
            quantiles: &'a [f64],
            timers: Vec<&'a Stats>,
            paths: Vec<PathFields<'a>>,
        }
        SnapshotFields {
            quantiles: self.quantiles(),
            timers: self.iter().collect(),
            paths: (self.paths().iter())
                .map(|line| PathFields {
                    path: line.names.iter().map(|name| &**name).collect(),
                    runs: line.runs,
                    self_busy_ns: line.self_busy,
                    parked_ns: line.parked,
                })
                .collect(),
        }
        .serialize(serializer)
    }
}

/// As JSON: `{"elapsed_ns": 60000000000, "quantiles": [...], "timers": [...]}`,
/// each timer's figures over the interval.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// let registry = perf_timer::Registry::new();
/// let mut intervals = registry.intervals();
/// registry.timer("a").record(std::time::Duration::from_micros(1));
/// let json = serde_json::to_value(intervals.next().unwrap()).unwrap();
/// assert_eq!(json["timers"][0]["count"], 1);
/// assert!(json["elapsed_ns"].as_u64().is_some());
/// # }
/// ```
impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct IntervalFields<'a> {
            elapsed_ns: u64,
            quantiles: &'a [f64],
            timers: Vec<&'a Stats>,
        }
        IntervalFields {
            elapsed_ns: saturating_nanos(self.elapsed()),
            quantiles: self.snapshot().quantiles(),
            timers: self.iter().collect(),
        }
        .serialize(serializer)
    }
}
