//! Forwarding into OpenTelemetry (feature `opentelemetry`): each timer's
//! runs go to instruments of a `Meter` the application gives, so that its
//! SDK and exporter (OTLP to a collector, say) carry them with the
//! service's own metrics. The library depends on the API crate only.

use std::sync::Arc;

use opentelemetry::metrics::{Counter, Histogram, Meter, UpDownCounter};
use opentelemetry::KeyValue;

use crate::record::End;

/// The instruments, made once per registry: every timer records into the
/// same ones, told apart by its `timer` attribute.
pub(crate) struct Instruments {
    busy: Histogram<f64>,
    wall: Histogram<f64>,
    runs: Counter<u64>,
    poll_time: Counter<f64>,
    bytes: Counter<u64>,
    active: UpDownCounter<i64>,
}

/// Instrument names, units and descriptions, as the README lists them.
pub(crate) mod names {
    /// Busy time per completed run: a histogram in seconds.
    pub(crate) const BUSY: &str = "perf_timer.run.busy";
    /// Wall time per completed run: a histogram in seconds.
    pub(crate) const WALL: &str = "perf_timer.run.wall";
    /// Runs by `outcome`: a counter.
    pub(crate) const RUNS: &str = "perf_timer.runs";
    /// Every poll's time, runs in flight included as they flush: a counter
    /// in seconds.
    pub(crate) const POLL_TIME: &str = "perf_timer.poll.time";
    /// Bytes the runs handled: a counter in bytes.
    pub(crate) const BYTES: &str = "perf_timer.bytes";
    /// Runs in flight (polled for longer than the flush interval, not
    /// ended): an up-down counter.
    pub(crate) const ACTIVE_RUNS: &str = "perf_timer.active_runs";
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
    pub(crate) fn new(meter: &Meter) -> Self {
        Instruments {
            busy: meter
                .f64_histogram(names::BUSY)
                .with_unit("s")
                .with_description("Busy time (sum of poll times) per completed run.")
                .with_boundaries(boundaries())
                .build(),
            wall: meter
                .f64_histogram(names::WALL)
                .with_unit("s")
                .with_description("Wall time (first poll to Ready) per completed run.")
                .with_boundaries(boundaries())
                .build(),
            runs: meter
                .u64_counter(names::RUNS)
                .with_unit("{run}")
                .with_description("Runs by outcome; errors are also completed.")
                .build(),
            poll_time: meter
                .f64_counter(names::POLL_TIME)
                .with_unit("s")
                .with_description(
                    "Time of every poll, runs in flight, cancelled and panicked included.",
                )
                .build(),
            bytes: meter
                .u64_counter(names::BYTES)
                .with_unit("By")
                .with_description("Bytes the runs handled (add_bytes).")
                .build(),
            active: meter
                .i64_up_down_counter(names::ACTIVE_RUNS)
                .with_unit("{run}")
                .with_description("Runs in flight: polled for over a second and not ended.")
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
    completed: [KeyValue; 2],
    cancelled: [KeyValue; 2],
    panicked: [KeyValue; 2],
    error: [KeyValue; 2],
}

// The API's instruments are `Arc<dyn …>` without `RefUnwindSafe`; a panic
// while one records leaves nothing of ours half-changed, so a `Timer`
// stays usable across `catch_unwind`, as without the feature.
impl std::panic::RefUnwindSafe for Forward {}
impl std::panic::UnwindSafe for Forward {}

impl Forward {
    pub(crate) fn new(instruments: Arc<Instruments>, timer: &str) -> Self {
        let name = KeyValue::new("timer", timer.to_owned());
        let outcome = |o: &'static str| [name.clone(), KeyValue::new("outcome", o)];
        Forward {
            completed: outcome("completed"),
            cancelled: outcome("cancelled"),
            panicked: outcome("panicked"),
            error: outcome("error"),
            timer: [name],
            instruments,
        }
    }

    /// A completed run: `busy` and `wall` nanoseconds, `unflushed` of its
    /// busy time not yet forwarded as poll time.
    pub(crate) fn run(
        &self,
        busy: u64,
        wall: u64,
        unflushed: u64,
        is_error: bool,
        was_active: bool,
    ) {
        let i = &*self.instruments;
        i.busy.record(busy as f64 / 1e9, &self.timer);
        i.wall.record(wall as f64 / 1e9, &self.timer);
        i.runs.add(1, &self.completed);
        if is_error {
            i.runs.add(1, &self.error);
        }
        self.poll_time(unflushed);
        if was_active {
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
            End::Cancelled => i.runs.add(1, &self.cancelled),
            End::Panicked => i.runs.add(1, &self.panicked),
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
