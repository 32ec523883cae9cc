//! `Settings`: what every timer of one registry is made with, checked once
//! by [`RegistryBuilder::build`](crate::RegistryBuilder::build), and the
//! registry-wide switches its timers share.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::Clock;
use crate::record::Layout;
use crate::state::slow::WarnLimiter;

/// A registry's checked configuration; timers keep an `Arc` of it.
pub(crate) struct Settings {
    pub(crate) clock: Clock,
    pub(crate) layout: Layout,
    pub(crate) stripes: usize,
    pub(crate) quantiles: Arc<[f64]>,
    /// Most named timers; more names record into
    /// [`OVERFLOW_TIMER`](crate::OVERFLOW_TIMER).
    pub(crate) max_timers: usize,
    /// Polls longer than this are slow.
    pub(crate) slow_poll_threshold: Duration,
    /// Rate limit of the slow-poll warnings.
    pub(crate) slow_poll_log: WarnLimiter,
    /// Sample one poll in this many for blocking; 0: off.
    pub(crate) blocking_every: u32,
    /// Sample one run in this many for scheduling delay; 0: off.
    pub(crate) scheduling_every: u32,
    /// Forward runs into the `metrics` facade under this prefix; `None`: off.
    #[cfg(feature = "metrics")]
    pub(crate) metrics_prefix: Option<&'static str>,
    /// Forward runs to these OpenTelemetry instruments; `None`: off.
    #[cfg(feature = "opentelemetry")]
    pub(crate) opentelemetry: Option<Arc<crate::state::opentelemetry_instruments::Instruments>>,
    pub(crate) switches: Switches,
    /// Slowest runs kept per timer; 0: none.
    pub(crate) slowest_runs: usize,
    /// Where kept runs' trace ids come from, if anywhere.
    pub(crate) trace_ids: Option<crate::state::slowest::TraceIds>,
    /// The nesting paths of runs in this registry.
    pub(crate) paths: Arc<crate::state::paths::Paths>,
    /// When the registry was made, and the process's CPU time then: the
    /// start of the process line's window.
    pub(crate) created: std::time::Instant,
    pub(crate) created_cpu: Option<Duration>,
}

/// What changes at run time, registry-wide.
pub(crate) struct Switches {
    /// Whether timing is on (and new timers start on).
    enabled: AtomicBool,
    /// Held through a switch, so that two racing switches do not each win
    /// on some timers.
    switching: Mutex<()>,
    /// Whether the registry has warned that it reached `max_timers`.
    overflow_warned: AtomicBool,
}

impl Switches {
    pub(crate) fn new(enabled: bool) -> Self {
        Switches {
            enabled: AtomicBool::new(enabled),
            switching: Mutex::new(()),
            overflow_warned: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Relaxed)
    }

    /// Sets the flag, then runs `apply` (which switches every timer), one
    /// switch at a time.
    pub(crate) fn switch(&self, enabled: bool, apply: impl FnOnce()) {
        let _one_at_a_time = crate::poison::lock(&self.switching);
        self.enabled.store(enabled, Relaxed);
        apply();
    }

    /// True the first time only: the registry warns once that it is full.
    pub(crate) fn first_overflow(&self) -> bool {
        !self.overflow_warned.swap(true, Relaxed)
    }
}
