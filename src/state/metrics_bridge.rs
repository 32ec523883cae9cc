//! Forwarding into the `metrics` facade (feature `metrics`): each timer's
//! runs, outcomes and poll time go to the installed `metrics` recorder too,
//! so that one scrape endpoint (say `metrics-exporter-prometheus`) serves
//! them beside the service's own metrics, under the names, units and help
//! of the Prometheus exporter (the figure table's).

use std::sync::{Arc, OnceLock};

use metrics::{Counter, Gauge, Histogram, Unit};

use crate::figures::{figure, Id, OUTCOMES};
use crate::record::{End, RunSample};
use crate::state::bridge::Bridge;
use crate::state::settings::Settings;

/// A timer's handles in the `metrics` recorder, resolved on first use.
pub(crate) struct Forward {
    prefix: &'static str,
    handles: OnceLock<Handles>,
}

struct Handles {
    busy: Histogram,
    wall: Histogram,
    /// By outcome, in [`OUTCOMES`]' order.
    runs: [Counter; 4],
    polls: Counter,
    /// A gauge that only grows: the facade's counters count whole numbers,
    /// and poll time is in seconds (see [`poll_time_name`]).
    poll_time: Gauge,
    in_flight: Gauge,
    bytes: Counter,
    /// Allocations and their bytes, with a counting allocator installed.
    allocations: Option<[Counter; 2]>,
}

// `metrics`' handles are `Arc<dyn …Fn>` without `RefUnwindSafe`; a panic
// while one records leaves nothing of ours half-changed (they only count),
// so a `Timer` stays usable across `catch_unwind`, as without the feature.
impl std::panic::RefUnwindSafe for Forward {}
impl std::panic::UnwindSafe for Forward {}

/// The figure's name after the prefix.
fn name(prefix: &str, id: Id) -> String {
    format!("{prefix}_{}", figure(id).prometheus)
}

/// Poll time's name: the exporter's `poll_seconds_total` without its
/// `_total`, since through the facade it is a gauge (a `_total` gauge
/// fails `promtool check metrics`).
fn poll_time_name(prefix: &str) -> String {
    let total = figure(Id::PollTime).prometheus;
    format!("{prefix}_{}", total.strip_suffix("_total").unwrap_or(total))
}

fn unit(id: Id) -> Unit {
    match figure(id).unit {
        crate::figures::Unit::Seconds => Unit::Seconds,
        crate::figures::Unit::Bytes => Unit::Bytes,
        _ => Unit::Count,
    }
}

impl Forward {
    /// Resolved on the first run rather than with the timer, so that a
    /// recorder installed after the timer was made still receives it.
    fn handles(&self, timer: &str) -> &Handles {
        self.handles.get_or_init(|| {
            let p = self.prefix;
            let t = timer.to_owned();
            for id in [Id::Busy, Id::Wall] {
                metrics::describe_histogram!(name(p, id), unit(id), figure(id).help);
            }
            for id in [Id::Runs, Id::Polls, Id::Bytes] {
                metrics::describe_counter!(name(p, id), unit(id), figure(id).help);
            }
            metrics::describe_gauge!(poll_time_name(p), Unit::Seconds, figure(Id::PollTime).help);
            metrics::describe_gauge!(
                name(p, Id::InFlight),
                unit(Id::InFlight),
                figure(Id::InFlight).help
            );
            let allocations = crate::alloc::thread::installed().then(|| {
                [Id::Allocations, Id::AllocatedBytes].map(|id| {
                    metrics::describe_counter!(name(p, id), unit(id), figure(id).help);
                    metrics::counter!(name(p, id), "timer" => t.clone())
                })
            });
            let runs = OUTCOMES.map(|outcome| {
                metrics::counter!(name(p, Id::Runs), "timer" => t.clone(), "outcome" => outcome)
            });
            Handles {
                busy: metrics::histogram!(name(p, Id::Busy), "timer" => t.clone()),
                wall: metrics::histogram!(name(p, Id::Wall), "timer" => t.clone()),
                runs,
                polls: metrics::counter!(name(p, Id::Polls), "timer" => t.clone()),
                poll_time: metrics::gauge!(poll_time_name(p), "timer" => t.clone()),
                in_flight: metrics::gauge!(name(p, Id::InFlight), "timer" => t.clone()),
                bytes: metrics::counter!(name(p, Id::Bytes), "timer" => t),
                allocations,
            }
        })
    }
}

impl Bridge for Forward {
    /// Forwarding under the registry's prefix, if it has one.
    fn new(_: &Arc<str>, settings: &Settings) -> Option<Self> {
        settings.metrics_prefix.map(|prefix| Forward {
            prefix,
            handles: OnceLock::new(),
        })
    }

    fn run(&self, timer: &str, run: &RunSample, unflushed: u64, is_error: bool) {
        let h = self.handles(timer);
        h.busy.record(run.busy as f64 / 1e9);
        h.wall.record(run.wall as f64 / 1e9);
        h.polls.increment(run.polls);
        h.runs[0].increment(1);
        if is_error {
            h.runs[3].increment(1);
        }
        poll_time(h, unflushed);
        if run.flushed.in_flight {
            h.in_flight.decrement(1.0);
        }
        if let (Some([count, bytes]), Some(allocated)) = (&h.allocations, &run.allocations) {
            count.increment(allocated.count);
            bytes.increment(allocated.bytes);
        }
    }

    fn flushed(&self, timer: &str, busy: u64, first: bool) {
        let h = self.handles(timer);
        poll_time(h, busy);
        if first {
            h.in_flight.increment(1.0);
        }
    }

    fn bytes(&self, timer: &str, n: u64) {
        self.handles(timer).bytes.increment(n);
    }

    fn ended(&self, timer: &str, end: End, unflushed: u64, was_active: bool) {
        let h = self.handles(timer);
        match end {
            End::Cancelled => h.runs[1].increment(1),
            End::Panicked => h.runs[2].increment(1),
            End::Untimed => {}
        }
        poll_time(h, unflushed);
        if was_active {
            h.in_flight.decrement(1.0);
        }
    }
}

fn poll_time(h: &Handles, nanos: u64) {
    if nanos > 0 {
        h.poll_time.increment(nanos as f64 / 1e9);
    }
}
