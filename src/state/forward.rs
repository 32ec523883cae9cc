//! Where a timer's runs go besides its own counters: the `metrics` facade
//! (feature `metrics`) and OpenTelemetry (feature `opentelemetry`). One
//! call per event for the timer; without the features, nothing at all.

use std::sync::Arc;

use crate::record::{End, RunSample};
use crate::state::settings::Settings;

/// A timer's forwarding, if its registry forwards anywhere.
#[derive(Default)]
pub(crate) struct Forwards {
    #[cfg(feature = "metrics")]
    metrics: Option<crate::state::metrics_bridge::Forward>,
    #[cfg(feature = "opentelemetry")]
    opentelemetry: Option<crate::state::opentelemetry_bridge::Forward>,
}

impl Forwards {
    #[allow(unused_variables)]
    pub(crate) fn new(name: &Arc<str>, settings: &Settings) -> Self {
        Forwards {
            #[cfg(feature = "metrics")]
            metrics: settings
                .metrics_prefix
                .map(crate::state::metrics_bridge::Forward::new),
            #[cfg(feature = "opentelemetry")]
            opentelemetry: (settings.opentelemetry.as_ref())
                .map(|i| crate::state::opentelemetry_bridge::Forward::new(i.clone(), name)),
        }
    }

    /// A completed run.
    #[inline]
    #[allow(unused_variables)]
    pub(crate) fn run(&self, timer: &str, run: &RunSample, is_error: bool) {
        #[cfg(any(feature = "metrics", feature = "opentelemetry"))]
        let unflushed = run.busy.saturating_sub(run.flushed.busy);
        #[cfg(feature = "metrics")]
        if let Some(forward) = &self.metrics {
            forward.run(timer, run, unflushed, is_error);
        }
        #[cfg(feature = "opentelemetry")]
        if let Some(forward) = &self.opentelemetry {
            forward.run(run, unflushed, is_error);
        }
    }

    /// A run in flight flushed `busy` nanoseconds; `first`: it counts in
    /// flight from now.
    #[allow(unused_variables)]
    pub(crate) fn flushed(&self, timer: &str, busy: u64, first: bool) {
        #[cfg(feature = "metrics")]
        if let Some(forward) = &self.metrics {
            forward.flushed(timer, busy, first);
        }
        #[cfg(feature = "opentelemetry")]
        if let Some(forward) = &self.opentelemetry {
            forward.flushed(busy, first);
        }
    }

    /// Bytes a run handled.
    #[allow(unused_variables)]
    pub(crate) fn bytes(&self, timer: &str, n: u64) {
        #[cfg(feature = "metrics")]
        if let Some(forward) = &self.metrics {
            forward.bytes(timer, n);
        }
        #[cfg(feature = "opentelemetry")]
        if let Some(forward) = &self.opentelemetry {
            forward.bytes(n);
        }
    }

    /// A run ended without a sample, `unflushed` nanoseconds of its busy
    /// time not yet forwarded, `was_active` if it counted in flight.
    #[allow(unused_variables)]
    pub(crate) fn ended(&self, timer: &str, end: End, unflushed: u64, was_active: bool) {
        #[cfg(feature = "metrics")]
        if let Some(forward) = &self.metrics {
            forward.ended(timer, end, unflushed, was_active);
        }
        #[cfg(feature = "opentelemetry")]
        if let Some(forward) = &self.opentelemetry {
            forward.ended(end, unflushed, was_active);
        }
    }
}
