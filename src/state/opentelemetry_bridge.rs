//! Forwarding into OpenTelemetry (feature `opentelemetry`): each timer's
//! runs go to instruments of a `Meter` the application gives, so that its
//! SDK and exporter (OTLP to a collector, say) carry them with the
//! service's own metrics. The library depends on the API crate only.

use std::sync::Arc;

use opentelemetry::metrics::{Counter, Histogram, Meter, UpDownCounter};
use opentelemetry::KeyValue;

use crate::figures::{figure, Id, OUTCOMES};
use crate::record::{End, RunSample};

/// The instruments, made once per registry: every timer records into the
/// same ones, told apart by its `timer` attribute.
pub(crate) struct Instruments {
    busy: Histogram<f64>,
    wall: Histogram<f64>,
    runs: Counter<u64>,
    polls: Counter<u64>,
    poll_time: Counter<f64>,
    bytes: Counter<u64>,
    active: UpDownCounter<i64>,
}

/// Advisory bucket bounds for SDKs that keep explicit-bucket histograms
/// (the default aggregation): 1, 2.5 and 5 times each power of ten from
/// 1 µs to 10 s, in seconds. A View choosing base-2 exponential
/// histograms replaces them.
fn boundaries() -> Vec<f64> {
    let mut bounds = Vec::new();
    let mut decade = 1e-6;
    while decade < 20.0 {
        bounds.extend([decade, decade * 2.5, decade * 5.0]);
        decade *= 10.0;
    }
    bounds.retain(|&b| b <= 10.0);
    bounds
}

impl Instruments {
    /// The instruments of the figures the bridges forward, named, united
    /// and described as the figure table says.
    pub(crate) fn new(meter: &Meter) -> Self {
        let histogram = |id| {
            let f = figure(id);
            meter
                .f64_histogram(f.opentelemetry)
                .with_unit(f.unit.ucum())
                .with_description(f.help)
                .with_boundaries(boundaries())
                .build()
        };
        let counter = |id| {
            let f = figure(id);
            meter
                .u64_counter(f.opentelemetry)
                .with_unit(f.unit.ucum())
                .with_description(f.help)
                .build()
        };
        let poll_time = figure(Id::PollTime);
        let active = figure(Id::InFlight);
        Instruments {
            busy: histogram(Id::Busy),
            wall: histogram(Id::Wall),
            runs: counter(Id::Runs),
            polls: counter(Id::Polls),
            poll_time: meter
                .f64_counter(poll_time.opentelemetry)
                .with_unit(poll_time.unit.ucum())
                .with_description(poll_time.help)
                .build(),
            bytes: counter(Id::Bytes),
            active: meter
                .i64_up_down_counter(active.opentelemetry)
                .with_unit(active.unit.ucum())
                .with_description(active.help)
                .build(),
        }
    }
}

// As for `Forward` below: recording only counts.
impl std::panic::RefUnwindSafe for Instruments {}
impl std::panic::UnwindSafe for Instruments {}

impl std::fmt::Debug for Instruments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instruments").finish_non_exhaustive()
    }
}

/// One timer's view of the instruments: its attribute sets, made once.
pub(crate) struct Forward {
    instruments: Arc<Instruments>,
    timer: [KeyValue; 1],
    /// By outcome, in [`OUTCOMES`]' order.
    outcomes: [[KeyValue; 2]; 4],
}

// The API's instruments are `Arc<dyn …>` without `RefUnwindSafe`; a panic
// while one records leaves nothing of ours half-changed, so a `Timer`
// stays usable across `catch_unwind`, as without the feature.
impl std::panic::RefUnwindSafe for Forward {}
impl std::panic::UnwindSafe for Forward {}

impl Forward {
    pub(crate) fn new(instruments: Arc<Instruments>, timer: &str) -> Self {
        let name = KeyValue::new("timer", timer.to_owned());
        Forward {
            outcomes: OUTCOMES.map(|o| [name.clone(), KeyValue::new("outcome", o)]),
            timer: [name],
            instruments,
        }
    }

    /// A completed run, `unflushed` nanoseconds of its busy time not yet
    /// forwarded as poll time.
    pub(crate) fn run(&self, run: &RunSample, unflushed: u64, is_error: bool) {
        let i = &*self.instruments;
        i.busy.record(run.busy as f64 / 1e9, &self.timer);
        i.wall.record(run.wall as f64 / 1e9, &self.timer);
        i.polls.add(run.polls, &self.timer);
        i.runs.add(1, &self.outcomes[0]);
        if is_error {
            i.runs.add(1, &self.outcomes[3]);
        }
        self.poll_time(unflushed);
        if run.flushed.in_flight {
            i.active.add(-1, &self.timer);
        }
    }

    /// A run in flight flushed `busy` nanoseconds; `first`: it counts in
    /// flight from now.
    pub(crate) fn flushed(&self, busy: u64, first: bool) {
        self.poll_time(busy);
        if first {
            self.instruments.active.add(1, &self.timer);
        }
    }

    /// Bytes a run handled (`add_bytes`).
    pub(crate) fn bytes(&self, n: u64) {
        self.instruments.bytes.add(n, &self.timer);
    }

    /// A run ended without a sample.
    pub(crate) fn ended(&self, end: End, unflushed: u64, was_active: bool) {
        let i = &*self.instruments;
        match end {
            End::Cancelled => i.runs.add(1, &self.outcomes[1]),
            End::Panicked => i.runs.add(1, &self.outcomes[2]),
            End::Untimed => {}
        }
        self.poll_time(unflushed);
        if was_active {
            i.active.add(-1, &self.timer);
        }
    }

    fn poll_time(&self, nanos: u64) {
        if nanos > 0 {
            self.instruments
                .poll_time
                .add(nanos as f64 / 1e9, &self.timer);
        }
    }
}
