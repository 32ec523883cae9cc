//! What plugs the library into other frameworks (layer 9): the tower
//! layer, the tracing layer, tokio's task hooks and OpenTelemetry's trace ids.

#[cfg(feature = "opentelemetry")]
pub(crate) mod opentelemetry_trace;
#[cfg(all(feature = "tokio-unstable", tokio_unstable))]
pub(crate) mod task_hooks;
#[cfg(feature = "tower")]
pub mod tower;
#[cfg(feature = "tracing")]
pub(crate) mod tracing_layer;
