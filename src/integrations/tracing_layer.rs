//! `PerfTimerLayer`: the busy time of `tracing` spans, for code that is
//! already instrumented.

use std::fmt;

use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::poll::run::Run;
use crate::registry::Registry;
use crate::state::timer::Timer;

/// A `tracing_subscriber::Layer` that times spans: a span's busy time is
/// the time it spends entered, summed over its enters (an `async fn` under
/// `#[tracing::instrument]` is entered once per poll), and it becomes one
/// run of the timer named after the span when the span closes. A span
/// entered again while already entered (re-entrantly) counts once. Each
/// enter counts as a poll (`tracing::Instrumented` also enters its span to
/// drop the future it wraps).
///
/// It composes with the subscriber you already have:
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let registry = perf_timer::Registry::new();
/// let subscriber = tracing_subscriber::registry().with(perf_timer::PerfTimerLayer::new(&registry));
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("parse");
///     span.in_scope(|| { /* work */ });
/// });
/// assert_eq!(registry.stats("parse").unwrap().count(), 1);
/// ```
pub struct PerfTimerLayer {
    registry: Registry,
}

impl PerfTimerLayer {
    /// A layer recording into `registry`.
    ///
    /// ```
    /// let layer = perf_timer::PerfTimerLayer::new(perf_timer::global());
    /// # drop(layer);
    /// ```
    pub fn new(registry: &Registry) -> Self {
        PerfTimerLayer {
            registry: registry.clone(),
        }
    }
}

impl fmt::Debug for PerfTimerLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerfTimerLayer")
            .field("registry", &self.registry)
            .finish()
    }
}

/// A span's run so far, kept in the span's extensions.
struct SpanRun {
    timer: Timer,
    /// Enters minus exits: only the outermost enter and exit are timed.
    depth: u32,
    entered_at: u64,
    /// Each outermost enter to its exit counts as a poll.
    run: Run,
}

impl<S> Layer<S> for PerfTimerLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanRun {
                timer: self.registry.timer(attrs.metadata().name()),
                depth: 0,
                entered_at: 0,
                run: Run::new(),
            });
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let Some(run) = extensions.get_mut::<SpanRun>() else {
            return;
        };
        run.depth += 1;
        if run.depth == 1 {
            run.entered_at = run.timer.clock().raw();
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let Some(run) = extensions.get_mut::<SpanRun>() else {
            return;
        };
        run.depth = run.depth.saturating_sub(1);
        if run.depth == 0 {
            let now = run.timer.clock().raw();
            run.run
                .add_poll(run.timer.core(), run.entered_at, now, false);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let mut extensions = span.extensions_mut();
        let Some(mut run) = extensions.remove::<SpanRun>() else {
            return;
        };
        run.run.finish(run.timer.core());
    }
}
