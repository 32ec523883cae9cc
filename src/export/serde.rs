//! `serde::Serialize` for `Stats` and `Snapshot`: stable field names,
//! durations as whole nanoseconds.

use std::collections::BTreeMap;

use serde::ser::{Serialize, Serializer};

use crate::{Snapshot, Stats};

/// The serialized form of [`Stats`]; field names are part of the API.
#[derive(serde::Serialize)]
struct StatsFields<'a> {
    name: &'a str,
    count: u64,
    cancelled: u64,
    panicked: u64,
    errors: u64,
    clamped: u64,
    slow_polls: u64,
    blocked_polls: u64,
    polls: u64,
    busy_total_ns: u64,
    busy_mean_ns: u64,
    busy_stdev_ns: u64,
    busy_min_ns: u64,
    busy_max_ns: u64,
    busy_quantiles_ns: BTreeMap<String, u64>,
    wall_total_ns: u64,
    wall_mean_ns: u64,
    wall_quantiles_ns: BTreeMap<String, u64>,
    idle_total_ns: u64,
    self_total_ns: u64,
    longest_poll_ns: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval_ns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runs_per_second: Option<f64>,
}

fn ns(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// As JSON, for example:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// let timer = perf_timer::Registry::new().timer("db");
/// timer.record(std::time::Duration::from_micros(250));
/// let json = serde_json::to_value(timer.stats()).unwrap();
/// assert_eq!(json["name"], "db");
/// assert_eq!(json["count"], 1);
/// assert_eq!(json["busy_total_ns"], 250_000);
/// assert_eq!(json["busy_quantiles_ns"]["0.99"], 250_111);
/// # }
/// ```
impl Serialize for Stats {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let quantiles = |f: &dyn Fn(f64) -> std::time::Duration| {
            (self.report_quantiles().iter())
                .map(|&q| (q.to_string(), ns(f(q))))
                .collect()
        };
        StatsFields {
            name: self.name(),
            count: self.count(),
            cancelled: self.cancelled(),
            panicked: self.panicked(),
            errors: self.errors(),
            clamped: self.clamped(),
            slow_polls: self.slow_polls(),
            blocked_polls: self.blocked_polls(),
            polls: self.polls(),
            busy_total_ns: ns(self.total()),
            busy_mean_ns: ns(self.mean()),
            busy_stdev_ns: ns(self.stdev()),
            busy_min_ns: ns(self.min()),
            busy_max_ns: ns(self.max()),
            busy_quantiles_ns: quantiles(&|q| self.quantile(q)),
            wall_total_ns: ns(self.wall_total()),
            wall_mean_ns: ns(self.mean_wall()),
            wall_quantiles_ns: quantiles(&|q| self.wall_quantile(q)),
            idle_total_ns: ns(self.idle_total()),
            self_total_ns: ns(self.self_total()),
            longest_poll_ns: ns(self.longest_poll()),
            interval_ns: self.elapsed().map(ns),
            runs_per_second: self.runs_per_second(),
        }
        .serialize(serializer)
    }
}

/// As JSON: `{"quantiles": [0.5, 0.9, 0.99], "timers": [{...}, ...]}`, the
/// timers sorted by name.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// let registry = perf_timer::Registry::new();
/// registry.timer("a").record(std::time::Duration::from_micros(1));
/// let json = serde_json::to_value(registry.snapshot()).unwrap();
/// assert_eq!(json["timers"][0]["name"], "a");
/// assert_eq!(json["quantiles"][2], 0.99);
/// # }
/// ```
impl Serialize for Snapshot {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct SnapshotFields<'a> {
            quantiles: &'a [f64],
            timers: Vec<&'a Stats>,
        }
        SnapshotFields {
            quantiles: self.quantiles(),
            timers: self.iter().collect(),
        }
        .serialize(serializer)
    }
}
