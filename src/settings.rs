//! `Settings`: what every timer of one registry is made with, checked once
//! by [`RegistryBuilder::build`](crate::RegistryBuilder::build), and the
//! registry-wide switches its timers share.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::Clock;
use crate::record::Layout;
use crate::slow::WarnLimiter;

/// The defaults every reader and writer agrees on, declared once: the
/// builder starts from them; a saved run, a merge or an export with no
/// timer to take them from falls back to them.
pub(crate) mod defaults {
    use std::time::Duration;

    /// The lowest duration told apart: 1 ns.
    pub(crate) const LOWEST: Duration = Duration::from_nanos(1);
    /// The highest duration tracked before clamping: 1 h.
    pub(crate) const HIGHEST: Duration = Duration::from_secs(3600);
    /// HdrHistogram's precision: 3 significant figures.
    pub(crate) const SIGNIFICANT_FIGURES: u8 = 3;
    /// The quantiles a report prints.
    pub(crate) const QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];

    /// The default layout (1 ns to 1 h at 3 figures).
    #[cfg(feature = "save")]
    pub(crate) fn layout() -> crate::record::Layout {
        crate::record::Layout::new(
            LOWEST.as_nanos() as u64,
            HIGHEST.as_nanos() as u64,
            SIGNIFICANT_FIGURES,
        )
        .expect("the default range is valid")
    }
}

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
    pub(crate) opentelemetry: Option<Arc<crate::opentelemetry_bridge::Instruments>>,
    pub(crate) switches: Switches,
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
