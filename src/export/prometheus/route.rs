//! The axum route (feature `axum`): [`metrics_route`] serves a registry
//! in the format each scrape negotiates, renders on tokio's blocking pool,
//! and lets scrapes that arrive together share one rendering; with the
//! feature `save`, also the registry as a saved run ([`RUN_MEDIA_TYPE`]).

use super::Prometheus;
use crate::export::accept::{Accept, Offer};

/// A `GET` route serving `registry` in `format` (feature `axum`): mount it
/// with `Router::route("/metrics", …)`. The format is negotiated per
/// scrape from its `Accept` header ([`Prometheus::negotiate`]): protobuf
/// with native histograms for a Prometheus that asks for them, when the
/// format is [`native`](Prometheus::native), else OpenMetrics or text.
/// With the feature `save` too, a client asking for [`RUN_MEDIA_TYPE`]
/// (the `perf-timer top` command does) gets the registry as a saved run's
/// JSON line, newline included (so that answers appended to a file make a
/// file of saved runs): every histogram whole, so that it computes each
/// interval's percentiles exactly. The types are weighed by their `q` as
/// in [`Prometheus::negotiate`]; a client that accepts none of them gets
/// `406 Not Acceptable`, naming those it could have.
///
/// The snapshot and its rendering run on tokio's blocking pool, never on
/// an async worker, so a scrape of thousands of timers does not hold up
/// the service's tasks; and scrapes that arrive while one renders wait for
/// it (without a thread) and share a rendering taken after they arrived:
/// scrapers at once cost about one rendering each round, not one each.
/// Each answer is a snapshot taken after its request arrived.
///
/// ```
/// use perf_timer::export::{metrics_route, Prometheus};
///
/// let app: axum::Router = axum::Router::new()
///     .route("/metrics", metrics_route(perf_timer::global(), Prometheus::new("app").histograms()));
/// # drop(app);
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub fn metrics_route<S>(
    registry: &crate::registry::Registry,
    format: Prometheus,
) -> axum::routing::MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let scrapes = std::sync::Arc::new(Scrapes {
        registry: registry.clone(),
        format,
        latest: tokio::sync::Mutex::new(Vec::new()),
        #[cfg(feature = "save")]
        run_lines: Default::default(),
    });
    axum::routing::get(move |headers: axum::http::HeaderMap| {
        let scrapes = scrapes.clone();
        async move {
            let accept = headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok());
            let offers = scrapes.offers();
            let Some(chosen) = Accept::parse(accept).best(&offers) else {
                return not_acceptable(&offers);
            };
            let asks_for_run = offers[chosen].essence == RUN_OFFER.essence;
            let format = scrapes.format.clone().written_as(&offers[chosen]);
            let content_type = if asks_for_run {
                RUN_MEDIA_TYPE
            } else {
                format.content_type()
            };
            let (status, body) = match scrapes.render(format, asks_for_run).await {
                Some(body) => (axum::http::StatusCode::OK, body),
                None => (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    axum::body::Bytes::from_static(b"perf-timer: rendering the metrics failed\n"),
                ),
            };
            (
                status,
                [(axum::http::header::CONTENT_TYPE, content_type)],
                body,
            )
        }
    })
}

/// The media type of a registry served as a saved run's JSON line (see
/// [`saved`](crate::saved)) by [`metrics_route`], for clients that read
/// whole histograms, such as `perf-timer top`: [`saved::MEDIA_TYPE`](crate::saved::MEDIA_TYPE).
///
/// ```
/// assert_eq!(perf_timer::export::RUN_MEDIA_TYPE, perf_timer::saved::MEDIA_TYPE);
/// ```
#[cfg(feature = "save")]
#[cfg_attr(docsrs, doc(cfg(all(feature = "axum", feature = "save"))))]
pub const RUN_MEDIA_TYPE: &str = crate::saved::MEDIA_TYPE;
/// Without the feature `save` no client gets it; the name keeps the
/// route's negotiation one piece of code.
#[cfg(not(feature = "save"))]
const RUN_MEDIA_TYPE: &str = "application/vnd.perf-timer.run+json";

/// [`RUN_MEDIA_TYPE`] as content negotiation weighs it: only for a client
/// that names it.
const RUN_OFFER: Offer = Offer {
    essence: RUN_MEDIA_TYPE,
    params: &[],
    required: &[],
    by_wildcard: false,
};

/// The answer to a client that accepts none of `offers`.
fn not_acceptable(
    offers: &[Offer],
) -> (
    axum::http::StatusCode,
    [(axum::http::HeaderName, &'static str); 1],
    axum::body::Bytes,
) {
    let served: Vec<&str> = offers.iter().map(|o| o.essence).collect();
    let body = format!(
        "perf-timer: the request's Accept header takes none of the media types this route serves: {}\n",
        served.join(", ")
    );
    (
        axum::http::StatusCode::NOT_ACCEPTABLE,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        body.into(),
    )
}

/// One route's scrapes: the latest rendering of each format.
struct Scrapes {
    registry: crate::registry::Registry,
    format: Prometheus,
    /// Held while one renders: the scrapes behind it wait here.
    latest: tokio::sync::Mutex<Vec<Rendered>>,
    /// The saved-run line's timers as last written (`perf-timer top`).
    #[cfg(feature = "save")]
    run_lines: std::sync::Arc<crate::export::run_line::RunLines>,
}

/// A rendering, and when its snapshot was taken.
struct Rendered {
    taken: std::time::Instant,
    content_type: &'static str,
    body: axum::body::Bytes,
}

impl Scrapes {
    /// What the route serves, the one preferred among equally wanted
    /// first: a saved run (with the feature `save`), then the format's.
    fn offers(&self) -> Vec<Offer> {
        let mut offers = Vec::with_capacity(4);
        if cfg!(feature = "save") {
            offers.push(RUN_OFFER);
        }
        offers.extend_from_slice(self.format.offers());
        offers
    }

    /// The text of a snapshot taken after now, rendered on the blocking
    /// pool or shared with the scrape that rendered it; `None` if the
    /// rendering panicked.
    async fn render(&self, format: Prometheus, run: bool) -> Option<axum::body::Bytes> {
        let arrived = std::time::Instant::now();
        let content_type = if run {
            RUN_MEDIA_TYPE
        } else {
            format.content_type()
        };
        let mut latest = self.latest.lock().await;
        let fresh = latest
            .iter()
            .find(|r| r.content_type == content_type && r.taken >= arrived);
        if let Some(rendered) = fresh {
            return Some(rendered.body.clone());
        }
        let registry = self.registry.clone();
        #[cfg(feature = "save")]
        let run_lines = self.run_lines.clone();
        let (taken, text) = tokio::task::spawn_blocking(move || {
            let taken = std::time::Instant::now();
            #[cfg(feature = "save")]
            if run {
                let mut line = run_lines.line(&registry);
                // A line, ended: answers appended to a file make a file of runs.
                line.push('\n');
                return (taken, line.into_bytes());
            }
            (taken, format.encode(&registry.snapshot()))
        })
        .await
        .ok()?;
        let body = axum::body::Bytes::from(text);
        latest.retain(|r| r.content_type != content_type);
        latest.push(Rendered {
            taken,
            content_type,
            body: body.clone(),
        });
        Some(body)
    }
}
