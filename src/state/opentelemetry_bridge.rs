//! Forwarding into OpenTelemetry (feature `opentelemetry`): each timer's
//! runs go to instruments of a `Meter` the application gives, so that its
//! SDK and exporter (OTLP to a collector, say) carry them with the
//! service's own metrics. The library depends on the API crate only.
//!
//! Every instrument's attributes are the `timer` alone, so that an
//! instrument has one series per timer: at the registry's default cap of
//! 1,000 timers (and its overflow timer) every instrument stays under the
//! SDK's default cardinality limit of 2,000 series, with every outcome.
//! Outcomes are therefore counters of their own (`perf_timer.runs` for
//! completed runs, `perf_timer.runs.cancelled`, `.panicked`, `.errors`), not
//! an `outcome` attribute, which made four series per timer. A registry
//! allowed more timers than the limit warns once when it is built.

use std::sync::Arc;

use opentelemetry::metrics::{Counter, Histogram, Meter, UpDownCounter};
use opentelemetry::KeyValue;

use crate::figures::{figure, Id, OPENTELEMETRY_CARDINALITY_LIMIT, OPENTELEMETRY_RUNS};
use crate::record::{End, RunSample};

/// The instruments, made once per registry: every timer records into the
/// same ones, told apart by its `timer` attribute.
pub(crate) struct Instruments {
    busy: Histogram<f64>,
    wall: Histogram<f64>,
    /// Runs by outcome, in [`OUTCOMES`](crate::figures::OUTCOMES)' order.
    runs: [Counter<u64>; 4],
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
    /// and described as the figure table says, for a registry of at most
    /// `max_timers` timers (and its overflow timer).
    pub(crate) fn new(meter: &Meter, max_timers: usize) -> Self {
        if let Some(warning) = cardinality_warning(max_timers) {
            tracing::warn!(max_timers, "{warning}");
        }
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
        let runs = figure(Id::Runs);
        Instruments {
            busy: histogram(Id::Busy),
            wall: histogram(Id::Wall),
            runs: OPENTELEMETRY_RUNS.map(|(name, help)| {
                meter
                    .u64_counter(name)
                    .with_unit(runs.unit.ucum())
                    .with_description(help)
                    .build()
            }),
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

/// What a registry that may hold `max_timers` timers (one series each per
/// instrument, and one for the overflow timer) should be told about the
/// SDK's default cardinality limit, if anything.
fn cardinality_warning(max_timers: usize) -> Option<String> {
    let series = max_timers.saturating_add(1);
    (series > OPENTELEMETRY_CARDINALITY_LIMIT).then(|| {
        format!(
            "perf-timer forwards up to {series} timers to OpenTelemetry, one series each per \
             instrument, past the SDK's default cardinality limit of \
             {OPENTELEMETRY_CARDINALITY_LIMIT} series per instrument: runs of the timers past \
             it would land in one `otel.metric.overflow=true` series. Raise the limit with a \
             View on the `perf_timer.*` instruments \
             (`Stream::builder().with_cardinality_limit({series})` in the Rust SDK), or \
             lower `RegistryBuilder::max_timers`"
        )
    })
}

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

impl Forward {
    pub(crate) fn new(instruments: Arc<Instruments>, timer: &str) -> Self {
        Forward {
            timer: [KeyValue::new("timer", timer.to_owned())],
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
        i.runs[0].add(1, &self.timer);
        if is_error {
            i.runs[3].add(1, &self.timer);
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
            End::Cancelled => i.runs[1].add(1, &self.timer),
            End::Panicked => i.runs[2].add(1, &self.timer),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_cap_past_the_sdk_limit_warns_and_the_warning_says_how_to_raise_it() {
        // The default cap, 1,000 timers, and the most that fit.
        assert_eq!(cardinality_warning(1_000), None);
        assert_eq!(cardinality_warning(1_999), None);
        let warning = cardinality_warning(5_000).unwrap();
        assert!(warning.contains("up to 5001 timers"), "{warning}");
        assert!(warning.contains("limit of 2000 series"), "{warning}");
        assert!(
            warning.contains("with_cardinality_limit(5001)"),
            "{warning}"
        );
        assert!(cardinality_warning(usize::MAX).is_some());
    }
}
