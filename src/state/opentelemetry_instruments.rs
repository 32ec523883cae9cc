//! The OpenTelemetry instruments a registry forwards to (feature
//! `opentelemetry`), made once from a `Meter` the application gives and
//! kept in the registry's settings; each timer's runs go to them through
//! its bridge (`opentelemetry_bridge.rs`).
//!
//! Every instrument's attributes are the `timer` alone, so that an
//! instrument has one series per timer: at the registry's default cap of
//! 1,000 timers (and its overflow timer) every instrument stays under the
//! SDK's default cardinality limit of 2,000 series, with every outcome.
//! Outcomes are therefore counters of their own (`perf_timer.runs` for
//! completed runs, `perf_timer.runs.cancelled`, `.panicked`, `.errors`), not
//! an `outcome` attribute, which made four series per timer. A registry
//! allowed more timers than the limit warns once when it is built.

use opentelemetry::metrics::{Counter, Histogram, Meter, UpDownCounter};

use crate::figures::{figure, Id, OPENTELEMETRY_CARDINALITY_LIMIT, OPENTELEMETRY_RUNS};

/// The instruments, made once per registry: every timer records into the
/// same ones, told apart by its `timer` attribute.
pub(crate) struct Instruments {
    pub(super) busy: Histogram<f64>,
    pub(super) wall: Histogram<f64>,
    /// Runs by outcome, in [`OUTCOMES`](crate::figures::OUTCOMES)' order.
    pub(super) runs: [Counter<u64>; 4],
    pub(super) polls: Counter<u64>,
    pub(super) poll_time: Counter<f64>,
    pub(super) bytes: Counter<u64>,
    pub(super) active: UpDownCounter<i64>,
    /// Allocations and their bytes (with a counting allocator installed).
    pub(super) allocations: Counter<u64>,
    pub(super) allocated_bytes: Counter<u64>,
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
            allocations: counter(Id::Allocations),
            allocated_bytes: counter(Id::AllocatedBytes),
            active: meter
                .i64_up_down_counter(active.opentelemetry)
                .with_unit(active.unit.ucum())
                .with_description(active.help)
                .build(),
        }
    }
}

// As for the bridge's `Forward`: recording only counts.
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
