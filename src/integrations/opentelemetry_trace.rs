//! Trace ids from the current OpenTelemetry context, for the runs worth
//! keeping.

use opentelemetry::trace::TraceContextExt as _;

/// The trace id of the current OpenTelemetry context's span, as 32 lowercase
/// hex digits; `None` outside a valid span. A source for
/// [`RegistryBuilder::trace_ids`](crate::RegistryBuilder::trace_ids): kept
/// runs then carry the trace they ran in, from inside their last poll (with
/// `tracing-opentelemetry`, the context of the `tracing` span entered around
/// the poll).
///
/// ```
/// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let registry = perf_timer::Registry::builder()
///     .trace_ids(perf_timer::opentelemetry_trace_id)
///     .build()
///     .unwrap();
/// let trace = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
/// let span = SpanContext::new(trace, SpanId::from(1), TraceFlags::SAMPLED, true, TraceState::NONE);
/// let cx = opentelemetry::Context::current().with_remote_span_context(span);
/// {
///     let _entered = cx.attach();
///     registry.timer("request").time(async {}).await;
/// }
/// let stats = registry.stats("request").unwrap();
/// let run = &stats.slowest()[0];
/// assert_eq!(run.trace_id(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
/// # }
/// ```
pub fn opentelemetry_trace_id() -> Option<String> {
    let context = opentelemetry::Context::current();
    let span = context.span();
    let span = span.span_context();
    span.is_valid().then(|| span.trace_id().to_string())
}
