//! Where a timer's runs go besides its own counters: the `metrics` facade
//! (feature `metrics`) and OpenTelemetry (feature `opentelemetry`). Each
//! bridge has the one shape of [`Bridge`]; a bridge whose feature is off
//! is its twin [`Off`](super::bridge_off::Off), which has no value, so
//! that its slot takes no bytes and its calls compile to nothing. The
//! features are read here, in the two aliases, and nowhere else.

use std::sync::Arc;

use crate::record::{End, RunSample};
use crate::state::bridge::Bridge;
use crate::state::settings::Settings;

#[cfg(feature = "metrics")]
type Metrics = crate::state::metrics_bridge::Forward;
#[cfg(not(feature = "metrics"))]
type Metrics = crate::state::bridge_off::Off;
#[cfg(feature = "opentelemetry")]
type OpenTelemetry = crate::state::opentelemetry_bridge::Forward;
#[cfg(not(feature = "opentelemetry"))]
type OpenTelemetry = crate::state::bridge_off::Off;

/// A timer's forwarding, to each bridge its registry forwards to.
#[derive(Default)]
pub(crate) struct Forwards {
    metrics: Option<Metrics>,
    opentelemetry: Option<OpenTelemetry>,
}

impl Forwards {
    pub(crate) fn new(name: &Arc<str>, settings: &Settings) -> Self {
        Forwards {
            metrics: Metrics::new(name, settings),
            opentelemetry: OpenTelemetry::new(name, settings),
        }
    }

    /// Whether runs go anywhere besides their timer.
    #[inline(always)]
    pub(crate) fn is_on(&self) -> bool {
        self.metrics.is_some() | self.opentelemetry.is_some()
    }

    /// A completed run.
    #[inline]
    pub(crate) fn run(&self, timer: &str, run: &RunSample, is_error: bool) {
        let unflushed = run.busy.saturating_sub(run.flushed.busy);
        if let Some(bridge) = &self.metrics {
            bridge.run(timer, run, unflushed, is_error);
        }
        if let Some(bridge) = &self.opentelemetry {
            bridge.run(timer, run, unflushed, is_error);
        }
    }

    /// A run in flight flushed `busy` nanoseconds; `first`: it counts in
    /// flight from now.
    pub(crate) fn flushed(&self, timer: &str, busy: u64, first: bool) {
        if let Some(bridge) = &self.metrics {
            bridge.flushed(timer, busy, first);
        }
        if let Some(bridge) = &self.opentelemetry {
            bridge.flushed(timer, busy, first);
        }
    }

    /// Bytes a run handled.
    pub(crate) fn bytes(&self, timer: &str, n: u64) {
        if let Some(bridge) = &self.metrics {
            bridge.bytes(timer, n);
        }
        if let Some(bridge) = &self.opentelemetry {
            bridge.bytes(timer, n);
        }
    }

    /// A run ended without a sample, `unflushed` nanoseconds of its busy
    /// time not yet forwarded, `was_active` if it counted in flight.
    pub(crate) fn ended(&self, timer: &str, end: End, unflushed: u64, was_active: bool) {
        if let Some(bridge) = &self.metrics {
            bridge.ended(timer, end, unflushed, was_active);
        }
        if let Some(bridge) = &self.opentelemetry {
            bridge.ended(timer, end, unflushed, was_active);
        }
    }
}
