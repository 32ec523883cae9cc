//! Forwarding into OpenTelemetry (feature `opentelemetry`): each timer's
//! runs go to the registry's instruments (`opentelemetry_instruments.rs`),
//! made from a `Meter` the application gives, so that its SDK and exporter
//! (OTLP to a collector, say) carry them with the service's own metrics.
//! The library depends on the API crate only.

use std::sync::Arc;

use opentelemetry::KeyValue;

use crate::record::{End, RunSample};
use crate::state::bridge::Bridge;
use crate::state::opentelemetry_instruments::Instruments;
use crate::state::settings::Settings;

/// One timer's view of the instruments: its attribute set, made once.
pub(crate) struct Forward {
    instruments: Arc<Instruments>,
    timer: [KeyValue; 1],
}

// The API's instruments are `Arc<dyn …>` without `RefUnwindSafe`; a panic
// while one records leaves nothing of ours half-changed, so a `Timer`
// stays usable across `catch_unwind`, as without the feature.
impl std::panic::RefUnwindSafe for Forward {}
impl std::panic::UnwindSafe for Forward {}

impl Bridge for Forward {
    /// Forwarding to the registry's instruments, if it has them, with the
    /// timer's name as its attribute (the calls' `timer` goes unread).
    fn new(name: &Arc<str>, settings: &Settings) -> Option<Self> {
        let instruments = settings.opentelemetry.as_ref()?;
        Some(Forward {
            timer: [KeyValue::new("timer", String::from(&**name))],
            instruments: instruments.clone(),
        })
    }

    fn run(&self, _: &str, run: &RunSample, unflushed: u64, is_error: bool) {
        let i = &*self.instruments;
        i.busy.record(run.busy as f64 / 1e9, &self.timer);
        i.wall.record(run.wall as f64 / 1e9, &self.timer);
        i.polls.add(run.polls, &self.timer);
        i.runs[0].add(1, &self.timer);
        if is_error {
            i.runs[3].add(1, &self.timer);
        }
        self.poll_time(unflushed);
        if run.flushed.in_flight {
            i.active.add(-1, &self.timer);
        }
        if let Some(allocated) = &run.allocations {
            i.allocations.add(allocated.count, &self.timer);
            i.allocated_bytes.add(allocated.bytes, &self.timer);
        }
    }

    fn flushed(&self, _: &str, busy: u64, first: bool) {
        self.poll_time(busy);
        if first {
            self.instruments.active.add(1, &self.timer);
        }
    }

    fn bytes(&self, _: &str, n: u64) {
        self.instruments.bytes.add(n, &self.timer);
    }

    fn ended(&self, _: &str, end: End, unflushed: u64, was_active: bool) {
        let i = &*self.instruments;
        match end {
            End::Cancelled => i.runs[1].add(1, &self.timer),
            End::Panicked => i.runs[2].add(1, &self.timer),
            End::Untimed => {}
        }
        self.poll_time(unflushed);
        if was_active {
            i.active.add(-1, &self.timer);
        }
    }
}

impl Forward {
    fn poll_time(&self, nanos: u64) {
        if nanos > 0 {
            self.instruments
                .poll_time
                .add(nanos as f64 / 1e9, &self.timer);
        }
    }
}
