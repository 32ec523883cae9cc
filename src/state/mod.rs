//! One timer's state and what it is made with (layer 4): `TimerCore`, the
//! `Timer` handle's type, the registry's settings, slow-poll and sampling
//! policies, and where runs are forwarded besides.

mod bridge;
#[cfg(not(all(feature = "metrics", feature = "opentelemetry")))]
mod bridge_off;
pub(crate) mod forward;
#[cfg(feature = "metrics")]
pub(crate) mod metrics_bridge;
#[cfg(feature = "opentelemetry")]
pub(crate) mod opentelemetry_bridge;
#[cfg(feature = "opentelemetry")]
pub(crate) mod opentelemetry_instruments;
mod path_shards;
pub(crate) mod paths;
pub(crate) mod settings;
pub(crate) mod slow;
pub(crate) mod slowest;
mod slowest_run;
pub(crate) mod timer;
