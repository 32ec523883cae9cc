//! Forwarding into the `metrics` facade (feature `metrics`): each timer's
//! runs, outcomes and poll time go to the installed `metrics` recorder too,
//! so that one scrape endpoint (say `metrics-exporter-prometheus`) serves
//! them beside the service's own metrics.

use std::sync::OnceLock;

use metrics::{Counter, Histogram};

use crate::record::End;

/// A timer's handles in the `metrics` recorder, resolved on first use.
pub(crate) struct Forward {
    prefix: &'static str,
    handles: OnceLock<Handles>,
}

struct Handles {
    busy: Histogram,
    completed: Counter,
    cancelled: Counter,
    panicked: Counter,
    errors: Counter,
    poll_nanos: Counter,
    bytes: Counter,
}

// `metrics`' handles are `Arc<dyn …Fn>` without `RefUnwindSafe`; a panic
// while one records leaves nothing of ours half-changed (they only count),
// so a `Timer` stays usable across `catch_unwind`, as without the feature.
impl std::panic::RefUnwindSafe for Forward {}
impl std::panic::UnwindSafe for Forward {}

impl Forward {
    pub(crate) fn new(prefix: &'static str) -> Self {
        Forward {
            prefix,
            handles: OnceLock::new(),
        }
    }

    /// Resolved on the first run rather than with the timer, so that a
    /// recorder installed after the timer was made still receives it.
    fn handles(&self, timer: &str) -> &Handles {
        self.handles.get_or_init(|| {
            let p = self.prefix;
            let timer = timer.to_owned();
            let runs = |outcome: &'static str| {
                metrics::counter!(format!("{p}_runs_total"), "timer" => timer.clone(), "outcome" => outcome)
            };
            Handles {
                busy: metrics::histogram!(format!("{p}_busy_seconds"), "timer" => timer.clone()),
                completed: runs("completed"),
                cancelled: runs("cancelled"),
                panicked: runs("panicked"),
                errors: metrics::counter!(format!("{p}_errors_total"), "timer" => timer.clone()),
                poll_nanos: metrics::counter!(format!("{p}_poll_nanoseconds_total"), "timer" => timer.clone()),
                bytes: metrics::counter!(format!("{p}_bytes_total"), "timer" => timer),
            }
        })
    }

    /// A completed run of `busy` nanoseconds, `unflushed` of them not yet
    /// forwarded as poll time.
    pub(crate) fn run(&self, timer: &str, busy: u64, unflushed: u64, is_error: bool) {
        let handles = self.handles(timer);
        handles.busy.record(busy as f64 / 1e9);
        handles.completed.increment(1);
        if is_error {
            handles.errors.increment(1);
        }
        handles.poll_nanos.increment(unflushed);
    }

    /// A run in flight flushed `busy` nanoseconds of poll time.
    pub(crate) fn flushed(&self, timer: &str, busy: u64) {
        self.handles(timer).poll_nanos.increment(busy);
    }

    /// Bytes a run handled (`add_bytes`).
    pub(crate) fn bytes(&self, timer: &str, n: u64) {
        self.handles(timer).bytes.increment(n);
    }

    /// A run ended without a sample, `unflushed` nanoseconds of its poll
    /// time not yet forwarded.
    pub(crate) fn ended(&self, timer: &str, end: End, unflushed: u64) {
        let handles = self.handles(timer);
        match end {
            End::Cancelled => handles.cancelled.increment(1),
            End::Panicked => handles.panicked.increment(1),
            End::Untimed => {}
        }
        handles.poll_nanos.increment(unflushed);
    }
}
