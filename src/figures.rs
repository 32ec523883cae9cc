//! Every figure we export, declared once: its name in Prometheus and in
//! OpenTelemetry, its kind, unit and help, and whether the bridges (the
//! `metrics` facade, OpenTelemetry) forward it run by run. The Prometheus
//! exporter and both bridges take their names from here; a test checks
//! that each of them shows every figure it should.

/// What kind of series a figure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    /// One value per completed run: a histogram (or a summary).
    Histogram,
}

/// A figure's unit, in OpenTelemetry's (UCUM) spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Runs,
    Polls,
    Bytes,
    Ratio,
    Allocations,
}

impl Unit {
    #[cfg(feature = "opentelemetry")]
    pub(crate) fn ucum(self) -> &'static str {
        match self {
            Unit::Seconds => "s",
            Unit::Runs => "{run}",
            Unit::Polls => "{poll}",
            Unit::Bytes => "By",
            Unit::Ratio => "1",
            Unit::Allocations => "{allocation}",
        }
    }
}

/// The figures, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Id {
    Busy,
    Wall,
    Idle,
    Polls,
    Runs,
    SlowPolls,
    BlockedPolls,
    Clamped,
    LongestPoll,
    PollTime,
    InFlight,
    Bytes,
    CpuShare,
    Allocations,
    AllocatedBytes,
}

/// One exported figure.
#[derive(Debug)]
pub(crate) struct Figure {
    /// Read by the tests: `FIGURES` is in `Id` order.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) id: Id,
    /// The Prometheus name after `{namespace}_` (with `_total` for a
    /// counter); the `metrics` bridge uses it after its prefix.
    pub(crate) prometheus: &'static str,
    /// The OpenTelemetry instrument's name: an instrument only for the
    /// figures the bridges forward; for the others, the name one would
    /// take, kept here so that a new instrument follows the same scheme.
    #[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
    pub(crate) opentelemetry: &'static str,
    pub(crate) kind: Kind,
    #[cfg_attr(
        not(any(feature = "opentelemetry", feature = "metrics")),
        allow(dead_code)
    )]
    pub(crate) unit: Unit,
    pub(crate) help: &'static str,
    /// Whether the bridges forward it as runs end (else only exporters
    /// that read a snapshot show it: it is counted inside the recorder or
    /// derived from other figures). Read by the test that checks them,
    /// with the `metrics` bridge.
    #[cfg_attr(not(all(test, feature = "metrics")), allow(dead_code))]
    pub(crate) forwarded: bool,
}

/// Every figure, in the order the Prometheus exporter writes them.
pub(crate) const FIGURES: [Figure; 15] = [
    Figure {
        id: Id::Busy,
        prometheus: "busy_seconds",
        opentelemetry: "perf_timer.run.busy",
        kind: Kind::Histogram,
        unit: Unit::Seconds,
        help: "Busy time (sum of poll times) per completed run.",
        forwarded: true,
    },
    Figure {
        id: Id::Wall,
        prometheus: "wall_seconds",
        opentelemetry: "perf_timer.run.wall",
        kind: Kind::Histogram,
        unit: Unit::Seconds,
        help: "Wall time (first poll to Ready) per completed run.",
        forwarded: true,
    },
    Figure {
        id: Id::Idle,
        prometheus: "idle_seconds_total",
        opentelemetry: "perf_timer.run.idle",
        kind: Kind::Counter,
        unit: Unit::Seconds,
        help: "Idle time (wall - busy) of completed runs.",
        forwarded: false,
    },
    Figure {
        id: Id::Polls,
        prometheus: "polls_total",
        opentelemetry: "perf_timer.polls",
        kind: Kind::Counter,
        unit: Unit::Polls,
        help: "Polls of completed runs.",
        forwarded: true,
    },
    Figure {
        id: Id::Runs,
        prometheus: "runs_total",
        opentelemetry: "perf_timer.runs",
        kind: Kind::Counter,
        unit: Unit::Runs,
        help: "Runs by outcome; errors are also completed.",
        forwarded: true,
    },
    Figure {
        id: Id::SlowPolls,
        prometheus: "slow_polls_total",
        opentelemetry: "perf_timer.polls.slow",
        kind: Kind::Counter,
        unit: Unit::Polls,
        help: "Polls longer than the slow-poll threshold.",
        forwarded: false,
    },
    Figure {
        id: Id::BlockedPolls,
        prometheus: "blocked_polls_total",
        opentelemetry: "perf_timer.polls.blocked",
        kind: Kind::Counter,
        unit: Unit::Polls,
        help: "Sampled polls found blocked inside poll.",
        forwarded: false,
    },
    Figure {
        id: Id::Clamped,
        prometheus: "clamped_total",
        opentelemetry: "perf_timer.runs.clamped",
        kind: Kind::Counter,
        unit: Unit::Runs,
        help: "Runs longer than the histogram range.",
        forwarded: false,
    },
    Figure {
        id: Id::LongestPoll,
        prometheus: "longest_poll_seconds",
        opentelemetry: "perf_timer.poll.longest",
        kind: Kind::Gauge,
        unit: Unit::Seconds,
        help: "The longest single poll.",
        forwarded: false,
    },
    Figure {
        id: Id::PollTime,
        prometheus: "poll_seconds_total",
        opentelemetry: "perf_timer.poll.time",
        kind: Kind::Counter,
        unit: Unit::Seconds,
        help: "Time of every poll, runs in flight, cancelled and panicked included.",
        forwarded: true,
    },
    Figure {
        id: Id::InFlight,
        prometheus: "in_flight",
        opentelemetry: "perf_timer.active_runs",
        kind: Kind::Gauge,
        unit: Unit::Runs,
        help: "Runs started and not yet ended (counted once 10 ms into their run).",
        forwarded: true,
    },
    Figure {
        id: Id::Bytes,
        prometheus: "bytes_total",
        opentelemetry: "perf_timer.bytes",
        kind: Kind::Counter,
        unit: Unit::Bytes,
        help: "Bytes the runs handled (add_bytes).",
        forwarded: true,
    },
    Figure {
        id: Id::CpuShare,
        prometheus: "cpu_share",
        opentelemetry: "perf_timer.poll.cpu_share",
        kind: Kind::Gauge,
        unit: Unit::Ratio,
        help: "CPU time over wall time of the polls sampled on both clocks.",
        forwarded: false,
    },
    Figure {
        id: Id::Allocations,
        prometheus: "allocations_total",
        opentelemetry: "perf_timer.run.allocations",
        kind: Kind::Counter,
        unit: Unit::Allocations,
        help: "Allocations of completed runs (with perf_timer::CountingAllocator installed).",
        forwarded: true,
    },
    Figure {
        id: Id::AllocatedBytes,
        prometheus: "allocated_bytes_total",
        opentelemetry: "perf_timer.run.allocated",
        kind: Kind::Counter,
        unit: Unit::Bytes,
        help: "Bytes allocated by completed runs (with perf_timer::CountingAllocator installed).",
        forwarded: true,
    },
];

/// Whether the figure shows only with a counting allocator installed.
#[cfg(test)]
pub(crate) const fn needs_allocator(id: Id) -> bool {
    matches!(id, Id::Allocations | Id::AllocatedBytes)
}

/// Wall time as the Prometheus exporter writes it beside busy time as a
/// summary: a counter of its total. The figure [`Id::Wall`] in that shape,
/// so not in [`FIGURES`].
pub(crate) const WALL_TOTAL: Figure = Figure {
    id: Id::Wall,
    prometheus: "wall_seconds_total",
    opentelemetry: "perf_timer.run.wall",
    kind: Kind::Counter,
    unit: Unit::Seconds,
    help: "Wall time (first poll to Ready) of completed runs.",
    forwarded: false,
};

/// The figure `id` (`FIGURES` is in `Id` order, which a test checks).
pub(crate) const fn figure(id: Id) -> &'static Figure {
    &FIGURES[id as usize]
}

/// The outcomes of `runs`, as the `outcome` label says them; `error` runs
/// are also `completed`.
pub(crate) const OUTCOMES: [&str; 4] = ["completed", "cancelled", "panicked", "error"];

/// OpenTelemetry's counter of runs of each outcome, in [`OUTCOMES`]' order,
/// with its help: one instrument each, with only the `timer` attribute,
/// rather than one with an `outcome` attribute too. An SDK keeps at most
/// [`OPENTELEMETRY_CARDINALITY_LIMIT`] series per instrument by default;
/// with an `outcome`, the registry's default cap of 1,000 timers made up
/// to 4,000 in one.
#[cfg_attr(not(any(test, feature = "opentelemetry")), allow(dead_code))]
pub(crate) const OPENTELEMETRY_RUNS: [(&str, &str); 4] = [
    (
        figure(Id::Runs).opentelemetry,
        "Completed runs; errors are also completed.",
    ),
    ("perf_timer.runs.cancelled", "Runs dropped before Ready."),
    ("perf_timer.runs.panicked", "Runs ended by a panic."),
    (
        "perf_timer.runs.errors",
        "Completed runs whose output was an error.",
    ),
];

/// The series an OpenTelemetry SDK keeps per instrument unless a View
/// raises it (the Rust SDK's and the specification's default); measurements
/// of further attribute sets go to one `otel.metric.overflow=true` series.
#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
pub(crate) const OPENTELEMETRY_CARDINALITY_LIMIT: usize = 2_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_id_has_one_figure_and_names_follow_their_kind() {
        for (i, f) in FIGURES.iter().enumerate() {
            assert_eq!(f.id as usize, i, "FIGURES is in Id order");
        }
        for f in FIGURES.iter().chain([&WALL_TOTAL]) {
            assert_eq!(
                f.prometheus.ends_with("_total"),
                f.kind == Kind::Counter,
                "{}: a counter, and only a counter, ends in _total",
                f.prometheus
            );
            assert!(f.opentelemetry.starts_with("perf_timer."));
            let seconds = f.prometheus.contains("seconds");
            assert_eq!(seconds, f.unit == Unit::Seconds, "{}", f.prometheus);
        }
        // One OpenTelemetry counter per outcome, each named once, none
        // taken by another figure.
        let mut names: Vec<&str> = OPENTELEMETRY_RUNS.iter().map(|r| r.0).collect();
        names.extend(
            FIGURES
                .iter()
                .filter(|f| f.id != Id::Runs)
                .map(|f| f.opentelemetry),
        );
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all, "OpenTelemetry names are unique");
        assert!(OPENTELEMETRY_RUNS
            .iter()
            .all(|r| r.0.starts_with("perf_timer.runs")));
    }

    /// A registry with one timer and one run.
    fn busy_registry() -> crate::registry::Registry {
        let registry = crate::registry::Registry::new();
        let timer = registry.timer("t");
        timer.record(std::time::Duration::from_millis(2));
        registry
    }

    /// The Prometheus exporter shows every figure, in text and protobuf.
    #[test]
    fn the_prometheus_exporter_shows_every_figure() {
        use crate::export::Prometheus;
        let snapshot = busy_registry().snapshot();
        for format in [Prometheus::new("ns"), Prometheus::new("ns").histograms()] {
            let text = format.render(&snapshot);
            let shown = |f: &&Figure| f.id != Id::CpuShare && !needs_allocator(f.id);
            for f in FIGURES.iter().filter(shown) {
                let family = match (f.id, text.contains("# TYPE ns_busy_seconds summary")) {
                    // With summaries, wall time is a counter of its own.
                    (Id::Wall, true) => format!("ns_{}", WALL_TOTAL.prometheus),
                    _ => format!("ns_{}", f.prometheus),
                };
                assert!(
                    text.contains(&format!("# HELP {family} ")),
                    "{family} missing"
                );
            }
        }
        let body = Prometheus::new("ns").protobuf().encode(&snapshot);
        let shown = |f: &&Figure| f.id != Id::CpuShare && !needs_allocator(f.id);
        for f in FIGURES.iter().filter(shown) {
            let name = format!("ns_{}", f.prometheus);
            assert!(
                body.windows(name.len() + 1)
                    .any(|w| w[..name.len()] == *name.as_bytes() && w[name.len()] == 0x12),
                "{name} missing from protobuf"
            );
        }
    }

    /// The `metrics` bridge registers every forwarded figure, and
    /// describes it (its help for `# HELP`).
    #[cfg(feature = "metrics")]
    #[test]
    fn the_metrics_bridge_forwards_every_forwarded_figure() {
        use std::sync::{Arc, Mutex};

        #[derive(Default, Clone)]
        struct Names(Arc<Mutex<(Vec<String>, Vec<String>)>>);
        impl metrics::Recorder for Names {
            fn describe_counter(
                &self,
                key: metrics::KeyName,
                _: Option<metrics::Unit>,
                _: metrics::SharedString,
            ) {
                self.0.lock().unwrap().1.push(key.as_str().to_owned());
            }
            fn describe_gauge(
                &self,
                key: metrics::KeyName,
                _: Option<metrics::Unit>,
                _: metrics::SharedString,
            ) {
                self.0.lock().unwrap().1.push(key.as_str().to_owned());
            }
            fn describe_histogram(
                &self,
                key: metrics::KeyName,
                _: Option<metrics::Unit>,
                _: metrics::SharedString,
            ) {
                self.0.lock().unwrap().1.push(key.as_str().to_owned());
            }
            fn register_counter(
                &self,
                key: &metrics::Key,
                _: &metrics::Metadata<'_>,
            ) -> metrics::Counter {
                self.0.lock().unwrap().0.push(key.name().to_owned());
                metrics::Counter::noop()
            }
            fn register_gauge(
                &self,
                key: &metrics::Key,
                _: &metrics::Metadata<'_>,
            ) -> metrics::Gauge {
                self.0.lock().unwrap().0.push(key.name().to_owned());
                metrics::Gauge::noop()
            }
            fn register_histogram(
                &self,
                key: &metrics::Key,
                _: &metrics::Metadata<'_>,
            ) -> metrics::Histogram {
                self.0.lock().unwrap().0.push(key.name().to_owned());
                metrics::Histogram::noop()
            }
        }
        let names = Names::default();
        let registry = crate::registry::Registry::builder()
            .forward_to_metrics("p")
            .build()
            .unwrap();
        metrics::with_local_recorder(&names, || {
            registry
                .timer("t")
                .record(std::time::Duration::from_millis(1));
        });
        let (registered, described) = names.0.lock().unwrap().clone();
        // Allocations only with a counting allocator: tests/allocations.rs.
        for f in FIGURES
            .iter()
            .filter(|f| f.forwarded && !needs_allocator(f.id))
        {
            let name = format!("p_{}", f.prometheus);
            // Poll time is a gauge there, without `_total`.
            let name = match f.id {
                Id::PollTime => name.trim_end_matches("_total").to_owned(),
                _ => name,
            };
            assert!(
                registered.contains(&name),
                "{name} not forwarded: {registered:?}"
            );
            assert!(described.contains(&name), "{name} not described");
        }
    }
}
