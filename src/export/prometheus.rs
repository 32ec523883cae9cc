//! Prometheus text exposition format (version 0.0.4) and OpenMetrics text
//! (1.0.0), with busy and wall time as summaries or classic histograms.

use std::fmt::{self, Write};
use std::time::Duration;

use super::accept::{Accept, Offer};
use super::native::{self, Exponential};
use super::protobuf::Encoder;
use crate::figures::{self, figure, Id, OUTCOMES};
use crate::read::{Distribution, Snapshot, Stats};

/// Writes `snapshot` in the Prometheus text exposition format, with busy
/// time as a summary: `Prometheus::new(namespace).write(out, snapshot)`.
/// See [`Prometheus`] for the metrics, and for histograms and OpenMetrics.
///
/// ```
/// let registry = perf_timer::Registry::new();
/// registry.timer("GET /users").record(std::time::Duration::from_micros(250));
/// let mut text = String::new();
/// perf_timer::export::write_prometheus(&mut text, &registry.snapshot(), "my-app")?;
/// assert!(text.contains("my_app_busy_seconds_count{timer=\"GET /users\"} 1\n"));
/// # Ok::<(), std::fmt::Error>(())
/// ```
pub fn write_prometheus(out: &mut impl Write, snapshot: &Snapshot, namespace: &str) -> fmt::Result {
    Prometheus::new(namespace).write(out, snapshot)
}

/// How a snapshot is written for Prometheus. Every metric is named
/// `{namespace}_…` (the namespace sanitized to the metric-name rules) and
/// labelled `timer="<name>"` (escaped to the label-value rules), so that any
/// timer name is safe:
///
/// * `{ns}_busy_seconds`: busy time per completed run, a summary with the
///   registry's quantiles (the default) or, with
///   [`histograms`](Prometheus::histograms), a classic histogram whose
///   `_bucket{le="…"}` series `histogram_quantile` aggregates across
///   replicas and windows, or, with [`native`](Prometheus::native), a
///   native histogram for scrapers that ask for protobuf;
/// * wall time: `{ns}_wall_seconds_total` (a counter) with summaries,
///   `{ns}_wall_seconds` (a histogram, classic or native) with histograms;
/// * `{ns}_idle_seconds_total`, `{ns}_polls_total`;
/// * `{ns}_runs_total{outcome="completed|cancelled|panicked|error"}`;
/// * `{ns}_slow_polls_total`, `{ns}_blocked_polls_total`, `{ns}_clamped_total`;
/// * `{ns}_longest_poll_seconds`: a gauge;
/// * `{ns}_poll_seconds_total`: every poll's time, runs in flight, cancelled
///   and panicked included ([`Stats::poll_total`]): `rate()` of it is the
///   busy seconds per second of the timer's code (CPU-seconds per second
///   where [`cpu_share`](Stats::cpu_share) is near 1, or with the CPU
///   clock). Not `busy_seconds_total`: parsers drop a counter's `_total`,
///   which would give it the name of the `busy_seconds` family;
/// * `{ns}_in_flight`: a gauge of runs started and not ended;
/// * `{ns}_bytes_total`: bytes the runs handled ([`Stats::bytes`]);
/// * `{ns}_cpu_share`: a gauge, for timers whose polls were sampled on both
///   clocks ([`Stats::cpu_share`]).
///
/// ```
/// use std::time::Duration;
/// use perf_timer::export::Prometheus;
///
/// let registry = perf_timer::Registry::new();
/// registry.timer("GET /users").record(Duration::from_micros(250));
/// let format = Prometheus::new("app").histograms();
/// let text = format.render(&registry.snapshot());
/// assert!(text.contains("app_busy_seconds_bucket{timer=\"GET /users\",le=\"0.00025\"} 1\n"));
/// assert!(text.contains("app_busy_seconds_bucket{timer=\"GET /users\",le=\"+Inf\"} 1\n"));
/// assert_eq!(format.content_type(), "text/plain; version=0.0.4; charset=utf-8");
/// ```
#[derive(Debug, Clone)]
pub struct Prometheus {
    namespace: String,
    shape: Shape,
    /// Busy and wall time as native histograms where the format allows.
    native: bool,
    open_metrics: bool,
    protobuf: bool,
}

#[derive(Debug, Clone)]
enum Shape {
    Summary,
    /// Classic histograms; no bounds: derived from the registry's range.
    Histogram(Option<Vec<Duration>>),
}

/// Why [`Prometheus::buckets`] refused its bounds: each must be above zero
/// and given once, and there must be one at least.
///
/// ```
/// let error = perf_timer::export::Prometheus::new("app").buckets([]).unwrap_err();
/// assert!(error.to_string().starts_with("Prometheus bucket bounds must be"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Prometheus bucket bounds must be above zero and each given once; got {bounds:?}")]
#[non_exhaustive]
pub struct BucketsError {
    /// The bounds given, sorted.
    pub bounds: Vec<Duration>,
}

/// The media type of Prometheus' text format 0.0.4.
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The media type of OpenMetrics text 1.0.0.
const OPEN_METRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The media type of Prometheus' protobuf format: length-delimited
/// `MetricFamily` messages.
const PROTOBUF: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// [`TEXT`], [`OPEN_METRICS`] and [`PROTOBUF`] as content negotiation
/// weighs them: text for any client (`*/*`), the others only for one
/// that names them.
const TEXT_OFFER: Offer = Offer {
    essence: "text/plain",
    params: &[("version", "0.0.4"), ("charset", "utf-8")],
    required: &[],
    by_wildcard: true,
};
const OPEN_METRICS_OFFER: Offer = Offer {
    essence: "application/openmetrics-text",
    params: &[("version", "1.0.0"), ("charset", "utf-8")],
    required: &[],
    by_wildcard: false,
};
const PROTOBUF_OFFER: Offer = Offer {
    essence: "application/vnd.google.protobuf",
    params: &[
        ("proto", "io.prometheus.client.MetricFamily"),
        ("encoding", "delimited"),
    ],
    required: &["proto", "encoding"],
    by_wildcard: false,
};

impl Prometheus {
    /// Metrics named `{namespace}_…`, busy time as a summary, in
    /// Prometheus' text format 0.0.4.
    ///
    /// ```
    /// let format = perf_timer::export::Prometheus::new("app");
    /// assert!(format.render(&perf_timer::Registry::new().snapshot()).contains("# TYPE app_busy_seconds summary"));
    /// ```
    pub fn new(namespace: &str) -> Self {
        Prometheus {
            namespace: metric_name(namespace),
            shape: Shape::Summary,
            native: false,
            open_metrics: false,
            protobuf: false,
        }
    }

    /// Busy and wall time as classic histograms, with bounds 1, 2.5 and 5
    /// times each power of ten from 1 µs up to the registry's highest
    /// trackable duration, and that duration itself (1 h by default: 30
    /// buckets, the last `le="3600"`, and `+Inf`). Every run lies in a
    /// finite bucket, one longer than the range counted at its top (see
    /// [`Stats::clamped`]).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("connection").record(Duration::from_secs(3_000));
    /// let text = perf_timer::export::Prometheus::new("app").histograms().render(&registry.snapshot());
    /// assert!(text.contains("# TYPE app_busy_seconds histogram"));
    /// assert!(text.contains("app_busy_seconds_bucket{timer=\"connection\",le=\"2500\"} 0\n"));
    /// assert!(text.contains("app_busy_seconds_bucket{timer=\"connection\",le=\"3600\"} 1\n"));
    /// ```
    pub fn histograms(mut self) -> Self {
        self.shape = Shape::Histogram(None);
        self
    }

    /// Busy and wall time as classic histograms with these bucket bounds
    /// (sorted for you; `+Inf` is always added). A bound of zero or one
    /// given twice is a [`BucketsError`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let ms = Duration::from_millis;
    /// let format = perf_timer::export::Prometheus::new("app").buckets([ms(1), ms(10), ms(100)])?;
    /// # drop(format);
    /// let error = perf_timer::export::Prometheus::new("app").buckets([ms(1), ms(1)]).unwrap_err();
    /// assert_eq!(error.bounds, [ms(1), ms(1)]);
    /// # Ok::<(), perf_timer::export::BucketsError>(())
    /// ```
    pub fn buckets(
        mut self,
        bounds: impl IntoIterator<Item = Duration>,
    ) -> Result<Self, BucketsError> {
        let mut bounds: Vec<Duration> = bounds.into_iter().collect();
        bounds.sort();
        let repeated = bounds.windows(2).any(|w| w[0] == w[1]);
        if bounds.is_empty() || bounds[0].is_zero() || repeated {
            return Err(BucketsError { bounds });
        }
        self.shape = Shape::Histogram(Some(bounds));
        Ok(self)
    }

    /// OpenMetrics text 1.0.0 instead of Prometheus' text format.
    ///
    /// ```
    /// let format = perf_timer::export::Prometheus::new("app").open_metrics();
    /// assert!(format.render(&perf_timer::Registry::new().snapshot()).ends_with("# EOF\n"));
    /// ```
    pub fn open_metrics(mut self) -> Self {
        self.open_metrics = true;
        self
    }

    /// Busy and wall time as Prometheus native histograms: sparse
    /// exponential buckets at schema 3 (each about 9 % wide, a factor of
    /// 2^(1/8)), one series per timer, which `histogram_quantile` reads and
    /// aggregates across replicas. Native histograms travel in Prometheus'
    /// protobuf format, which [`negotiate`](Prometheus::negotiate) picks
    /// when the scraper asks for it (Prometheus does with
    /// `--enable-feature=native-histograms`); scrapers that do not get the
    /// same histograms as [classic](Prometheus::histograms) buckets in
    /// text.
    ///
    /// Our buckets (0.1 % wide at 3 significant figures) go whole to the
    /// native bucket holding their lowest value, as they go under a classic
    /// bound: a run is counted one native bucket low only when it lies
    /// within the histogram's precision above a native boundary, never
    /// high. Counts and sums are exact; recorded zeros go to the zero
    /// bucket. Under a raised [`lowest`](crate::RegistryBuilder::lowest)
    /// (say 1 µs) the durations below it, told apart no finer, zeros
    /// included, go to the native bucket of the highest of them (511 ns),
    /// where the report's quantiles place them, never to the zero bucket.
    ///
    /// ```
    /// use perf_timer::export::Prometheus;
    ///
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("GET /users").record(std::time::Duration::from_micros(250));
    /// let accept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3";
    /// let format = Prometheus::new("app").native().negotiate(Some(accept));
    /// assert!(format.content_type().starts_with("application/vnd.google.protobuf"));
    /// let body: Vec<u8> = format.encode(&registry.snapshot());
    /// assert!(body.windows(16).any(|w| w == b"app_busy_seconds"));
    /// // A scraper asking for text gets classic buckets.
    /// let text = Prometheus::new("app").native().negotiate(None).encode(&registry.snapshot());
    /// assert!(String::from_utf8(text)?.contains("app_busy_seconds_bucket{"));
    /// # Ok::<(), std::string::FromUtf8Error>(())
    /// ```
    pub fn native(mut self) -> Self {
        self.native = true;
        if let Shape::Summary = self.shape {
            self.shape = Shape::Histogram(None);
        }
        self
    }

    /// Prometheus' protobuf format (length-delimited `MetricFamily`
    /// messages) for [`encode`](Prometheus::encode), with native histograms
    /// ([`native`](Prometheus::native) is implied).
    ///
    /// ```
    /// let format = perf_timer::export::Prometheus::new("app").protobuf();
    /// assert!(format.content_type().contains("proto=io.prometheus.client.MetricFamily"));
    /// ```
    pub fn protobuf(mut self) -> Self {
        self = self.native();
        self.protobuf = true;
        self.open_metrics = false;
        self
    }

    /// Content negotiation for a `/metrics` handler, from its HTTP
    /// `Accept` header: of what this format can be written in (protobuf,
    /// with [`native`](Prometheus::native) histograms; OpenMetrics; text),
    /// the one the scraper weighs highest (`q`, 1 when left out), in that
    /// order among equals. `q=0` refuses a type, even where a wildcard
    /// would take it; media types and parameter names are read without
    /// regard to case. Protobuf and OpenMetrics go only to a scraper that
    /// names them; text also to `*/*`, `text/*` or no header. A scraper that
    /// accepts none of them gets text ([`metrics_route`] answers it
    /// `406 Not Acceptable` instead).
    ///
    /// ```
    /// use perf_timer::export::Prometheus;
    /// let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    /// assert!(Prometheus::new("app").negotiate(Some(accept)).content_type().starts_with("application/openmetrics-text"));
    /// assert!(Prometheus::new("app").negotiate(None).content_type().starts_with("text/plain"));
    /// // Weights decide, and q=0 refuses.
    /// let text_first = "application/openmetrics-text;q=0.2, Text/Plain;q=0.9";
    /// assert!(Prometheus::new("app").negotiate(Some(text_first)).content_type().starts_with("text/plain"));
    /// let no_text = "text/plain;q=0, application/openmetrics-text;q=0.1";
    /// assert!(Prometheus::new("app").negotiate(Some(no_text)).content_type().starts_with("application/openmetrics-text"));
    /// ```
    pub fn negotiate(self, accept: Option<&str>) -> Self {
        let offers = self.offers();
        let offer = Accept::parse(accept)
            .best(offers)
            .map_or(TEXT_OFFER, |i| offers[i]);
        self.written_as(&offer)
    }

    /// The media types this format can be written in, the one preferred
    /// among equally wanted first.
    fn offers(&self) -> &'static [Offer] {
        if self.native {
            &[PROTOBUF_OFFER, OPEN_METRICS_OFFER, TEXT_OFFER]
        } else {
            &[OPEN_METRICS_OFFER, TEXT_OFFER]
        }
    }

    /// This format, written as `offer` (one of its [`offers`](Self::offers)).
    fn written_as(mut self, offer: &Offer) -> Self {
        self.protobuf = offer.essence == PROTOBUF_OFFER.essence;
        self.open_metrics = offer.essence == OPEN_METRICS_OFFER.essence;
        self
    }

    /// The media type of what [`encode`](Prometheus::encode) writes, for a
    /// `Content-Type` header (and of [`write`](Prometheus::write)'s text,
    /// unless protobuf was chosen).
    ///
    /// ```
    /// assert!(perf_timer::export::Prometheus::new("app").content_type().starts_with("text/plain"));
    /// ```
    pub fn content_type(&self) -> &'static str {
        if self.protobuf {
            PROTOBUF
        } else if self.open_metrics {
            OPEN_METRICS
        } else {
            TEXT
        }
    }

    /// `snapshot` in the chosen format, as the body of an HTTP response
    /// whose `Content-Type` is [`content_type`](Prometheus::content_type):
    /// protobuf, OpenMetrics or Prometheus' text.
    ///
    /// ```
    /// let format = perf_timer::export::Prometheus::new("app");
    /// let body = format.encode(&perf_timer::Registry::new().snapshot());
    /// assert!(body.starts_with(b"# HELP app_busy_seconds "));
    /// ```
    pub fn encode(&self, snapshot: &Snapshot) -> Vec<u8> {
        if self.protobuf {
            let mut body = Vec::new();
            self.write_protobuf(&mut body, snapshot);
            body
        } else {
            self.render(snapshot).into_bytes()
        }
    }

    /// [`write`](Prometheus::write) into a new `String`.
    ///
    /// ```
    /// let text = perf_timer::export::Prometheus::new("app").render(&perf_timer::Registry::new().snapshot());
    /// assert!(text.starts_with("# HELP app_busy_seconds "));
    /// ```
    pub fn render(&self, snapshot: &Snapshot) -> String {
        let mut text = String::new();
        self.write(&mut text, snapshot)
            .expect("writing to a String cannot fail");
        text
    }

    /// Writes `snapshot` as text: Prometheus' text format, or OpenMetrics.
    /// With [`native`](Prometheus::native) histograms, text carries their
    /// classic buckets; [`encode`](Prometheus::encode) writes whichever
    /// format was chosen, protobuf included.
    ///
    /// ```
    /// let mut text = String::new();
    /// perf_timer::export::Prometheus::new("app").write(&mut text, &perf_timer::Registry::new().snapshot())?;
    /// # Ok::<(), std::fmt::Error>(())
    /// ```
    pub fn write(&self, out: &mut impl Write, snapshot: &Snapshot) -> fmt::Result {
        let bounds = self.bounds(snapshot);
        let bounds = bounds.as_deref();
        let mut families: Vec<(&str, Kind, &str, Metric)> = Vec::with_capacity(2);
        match bounds {
            None => {
                families.push((BUSY, Kind::Summary, BUSY_HELP, summary));
                families.push((
                    "wall_seconds_total",
                    Kind::Counter,
                    "Wall time (first poll to Ready) of completed runs.",
                    |s, o, l| sample(o, l, None, secs(s.wall().total())),
                ));
            }
            Some(_) => {
                families.push((BUSY, Kind::Histogram, BUSY_HELP, |s, o, l| {
                    histogram(s.busy(), o, l)
                }));
                families.push((WALL, Kind::Histogram, WALL_HELP, |s, o, l| {
                    histogram(s.wall(), o, l)
                }));
            }
        }
        // Each timer's label escaped once, each bound's nanoseconds once:
        // the loops below write straight into `out`, allocating nothing
        // per series.
        let timers: Vec<String> = snapshot.iter().map(|s| label_value(s.name())).collect();
        let nanos: Vec<u64> = bounds.unwrap_or_default().iter().map(|b| b.nanos).collect();
        let mut name = String::new();
        let mut each_timer =
            |out: &mut dyn Write,
             suffix: &str,
             kind: Kind,
             help: &str,
             metric: &mut dyn FnMut(&Stats, &mut dyn Write, &Line<'_>) -> fmt::Result|
             -> fmt::Result {
                self.header(out, suffix, kind, help)?;
                name.clear();
                let _ = write!(name, "{}_{suffix}", self.namespace);
                for (stats, timer) in snapshot.iter().zip(&timers) {
                    let line = Line {
                        name: &name,
                        timer,
                        quantiles: snapshot.quantiles(),
                        bounds: bounds.unwrap_or_default(),
                        nanos: &nanos,
                    };
                    metric(stats, out, &line)?;
                }
                Ok(())
            };
        for (suffix, kind, help, metric) in families {
            each_timer(out, suffix, kind, help, &mut |s, o, l| metric(s, o, l))?;
        }
        for family in &COMMON {
            each_timer(
                out,
                family.suffix(),
                family.kind(),
                family.help(),
                &mut |s, o, l| {
                    let mut result = Ok(());
                    (family.samples)(s, &mut |label, value| {
                        if result.is_ok() {
                            result = sample(o, l, label, value);
                        }
                    });
                    result
                },
            )?;
        }
        if self.open_metrics {
            writeln!(out, "# EOF")?;
        }
        Ok(())
    }

    /// `snapshot` as length-delimited `io.prometheus.client.MetricFamily`
    /// messages appended to `body`: busy and wall time as native
    /// histograms, then the [`COMMON`] families.
    fn write_protobuf(&self, body: &mut Vec<u8>, snapshot: &Snapshot) {
        let mut e = Encoder { buf: body };
        let mut name = String::new();
        let mut native = Exponential::default();
        let mut family =
            |e: &mut Encoder<'_>,
             suffix: &str,
             kind: Kind,
             help: &str,
             metrics: &mut dyn FnMut(&mut Encoder<'_>, &Stats)| {
                name.clear();
                let _ = write!(name, "{}_{suffix}", self.namespace);
                e.delimited(|e| {
                    e.string(1, &name);
                    e.string(2, help);
                    e.uint(3, kind.proto());
                    for stats in snapshot.iter() {
                        metrics(e, stats);
                    }
                });
            };
        let histograms: [(&str, &str, DistributionOf); 2] = [
            (BUSY, BUSY_HELP, Stats::busy),
            (WALL, WALL_HELP, Stats::wall),
        ];
        for (suffix, help, distribution) in histograms {
            family(&mut e, suffix, Kind::Histogram, help, &mut |e, stats| {
                let distribution = distribution(stats);
                native.fill(distribution, native::SCHEMA);
                e.message(4, |m| {
                    timer_label(m, stats.name());
                    m.message(7, |h| write_native(h, distribution, &native));
                });
            });
        }
        for f in &COMMON {
            let field = if f.kind() == Kind::Gauge { 2 } else { 3 };
            family(&mut e, f.suffix(), f.kind(), f.help(), &mut |e, stats| {
                (f.samples)(stats, &mut |label, value| {
                    e.message(4, |m| {
                        timer_label(m, stats.name());
                        if let Some((name, value)) = label {
                            m.message(1, |l| {
                                l.string(1, name);
                                l.string(2, value);
                            });
                        }
                        m.message(field, |v| v.double(1, value));
                    });
                });
            });
        }
    }

    /// A family's `# HELP` and `# TYPE` lines.
    fn header(&self, out: &mut dyn Write, suffix: &str, kind: Kind, help: &str) -> fmt::Result {
        let ns = &self.namespace;
        // OpenMetrics names a counter family without its `_total`.
        let family = match (self.open_metrics, kind) {
            (true, Kind::Counter) => suffix.strip_suffix("_total").unwrap_or(suffix),
            _ => suffix,
        };
        writeln!(out, "# HELP {ns}_{family} {help}")?;
        writeln!(out, "# TYPE {ns}_{family} {}", kind.text())
    }

    /// The histogram bounds in seconds and nanoseconds, if histograms.
    fn bounds(&self, snapshot: &Snapshot) -> Option<Vec<Bound>> {
        let Shape::Histogram(bounds) = &self.shape else {
            return None;
        };
        let nanos: Vec<u64> = match bounds {
            Some(bounds) => bounds
                .iter()
                .map(|&d| crate::clock::saturating_nanos(d))
                .collect(),
            None => {
                let highest = snapshot
                    .iter()
                    .next()
                    .map_or(crate::defaults::HIGHEST.as_nanos() as u64, |s| {
                        s.busy().highest_trackable()
                    });
                default_bounds(highest)
            }
        };
        let bounds = nanos
            .into_iter()
            .map(|n| Bound {
                nanos: n,
                label: Float(n as f64 / 1e9).to_string(),
            })
            .collect();
        Some(bounds)
    }
}
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
#[cfg(feature = "axum")]
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
#[cfg(all(feature = "axum", feature = "save"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "axum", feature = "save"))))]
pub const RUN_MEDIA_TYPE: &str = crate::saved::MEDIA_TYPE;
/// Without the feature `save` no client gets it; the name keeps the
/// route's negotiation one piece of code.
#[cfg(all(feature = "axum", not(feature = "save")))]
const RUN_MEDIA_TYPE: &str = "application/vnd.perf-timer.run+json";

/// [`RUN_MEDIA_TYPE`] as content negotiation weighs it: only for a client
/// that names it.
#[cfg(feature = "axum")]
const RUN_OFFER: Offer = Offer {
    essence: RUN_MEDIA_TYPE,
    params: &[],
    required: &[],
    by_wildcard: false,
};

/// The answer to a client that accepts none of `offers`.
#[cfg(feature = "axum")]
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
#[cfg(feature = "axum")]
struct Scrapes {
    registry: crate::registry::Registry,
    format: Prometheus,
    /// Held while one renders: the scrapes behind it wait here.
    latest: tokio::sync::Mutex<Vec<Rendered>>,
    /// The saved-run line's timers as last written (`perf-timer top`).
    #[cfg(feature = "save")]
    run_lines: std::sync::Arc<super::run_line::RunLines>,
}

/// A rendering, and when its snapshot was taken.
#[cfg(feature = "axum")]
struct Rendered {
    taken: std::time::Instant,
    content_type: &'static str,
    body: axum::body::Bytes,
}

#[cfg(feature = "axum")]
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

const BUSY: &str = figure(Id::Busy).prometheus;
const WALL: &str = figure(Id::Wall).prometheus;
const BUSY_HELP: &str = figure(Id::Busy).help;
const WALL_HELP: &str = figure(Id::Wall).help;

/// A metric family's type, as text names it and as protobuf numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Summary,
    Histogram,
}

impl Kind {
    fn text(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Summary => "summary",
            Kind::Histogram => "histogram",
        }
    }

    /// `io.prometheus.client.MetricType`.
    fn proto(self) -> u64 {
        match self {
            Kind::Counter => 0,
            Kind::Gauge => 1,
            Kind::Summary => 2,
            Kind::Histogram => 4,
        }
    }
}

impl From<figures::Kind> for Kind {
    fn from(kind: figures::Kind) -> Self {
        match kind {
            figures::Kind::Counter => Kind::Counter,
            figures::Kind::Gauge => Kind::Gauge,
            figures::Kind::Histogram => Kind::Histogram,
        }
    }
}

/// A figure whose samples do not depend on the shape or the format: its
/// name, kind and help are the figure table's.
struct Family {
    id: Id,
    samples: Samples,
}

impl Family {
    fn suffix(&self) -> &'static str {
        figure(self.id).prometheus
    }

    fn kind(&self) -> Kind {
        figure(self.id).kind.into()
    }

    fn help(&self) -> &'static str {
        figure(self.id).help
    }
}

/// Calls `emit` with each of a timer's samples in a family: its extra
/// label (name, value), if any, and its value. One table for the text and
/// the protobuf writers.
type Samples = fn(&Stats, &mut dyn FnMut(Option<(&'static str, &'static str)>, f64));

/// The figures after busy and wall time, in the figure table's order.
const COMMON: [Family; 11] = [
    Family {
        id: Id::Idle,
        samples: |s, emit| emit(None, secs(s.idle().total())),
    },
    Family {
        id: Id::Polls,
        samples: |s, emit| emit(None, s.polls() as f64),
    },
    Family {
        id: Id::Runs,
        samples: |s, emit| {
            let counts = [s.count(), s.cancelled(), s.panicked(), s.errors()];
            for (outcome, n) in OUTCOMES.into_iter().zip(counts) {
                emit(Some(("outcome", outcome)), n as f64);
            }
        },
    },
    Family {
        id: Id::SlowPolls,
        samples: |s, emit| emit(None, s.slow_polls() as f64),
    },
    Family {
        id: Id::BlockedPolls,
        samples: |s, emit| emit(None, s.blocked_polls() as f64),
    },
    Family {
        id: Id::Clamped,
        samples: |s, emit| emit(None, s.clamped() as f64),
    },
    Family {
        id: Id::LongestPoll,
        samples: |s, emit| {
            // Always known in a snapshot since the start.
            if let Some(longest) = s.longest_poll() {
                emit(None, secs(longest));
            }
        },
    },
    Family {
        id: Id::PollTime,
        samples: |s, emit| emit(None, secs(s.poll_total())),
    },
    Family {
        id: Id::InFlight,
        samples: |s, emit| emit(None, s.in_flight() as f64),
    },
    Family {
        id: Id::Bytes,
        samples: |s, emit| emit(None, s.bytes() as f64),
    },
    Family {
        id: Id::CpuShare,
        samples: |s, emit| {
            if let Some(share) = s.cpu_share() {
                emit(None, share);
            }
        },
    },
];

/// Busy or wall time of a timer's stats.
type DistributionOf = fn(&Stats) -> &Distribution;

/// Writes one family's samples for one timer.
type Metric = fn(&Stats, &mut dyn Write, &Line<'_>) -> fmt::Result;

struct Line<'a> {
    name: &'a str,
    timer: &'a str,
    quantiles: &'a [f64],
    bounds: &'a [Bound],
    /// The bounds' nanoseconds.
    nanos: &'a [u64],
}

/// A histogram bucket's upper bound, and its `le` label.
struct Bound {
    nanos: u64,
    label: String,
}

/// 1, 2.5 and 5 times each power of ten from 1 µs, below `highest`
/// nanoseconds, then `highest` itself: every recorded value (at most
/// `highest`, clamped) lies in a finite bucket, so that a run at the top
/// of the range reads as such, not as `+Inf`.
fn default_bounds(highest: u64) -> Vec<u64> {
    let mut bounds = Vec::new();
    let mut decade = 1_000_u64;
    while decade < highest {
        for step in [2, 5, 10] {
            let bound = decade.saturating_mul(step) / 2;
            if bound < highest {
                bounds.push(bound);
            }
        }
        decade = decade.saturating_mul(10);
    }
    bounds.dedup();
    bounds.push(highest);
    bounds
}

fn summary(stats: &Stats, out: &mut dyn Write, line: &Line<'_>) -> fmt::Result {
    let (name, timer) = (line.name, line.timer);
    for &q in line.quantiles {
        let value = if stats.count() == 0 {
            f64::NAN
        } else {
            secs(stats.quantile(q))
        };
        writeln!(
            out,
            "{name}{{timer=\"{timer}\",quantile=\"{q}\"}} {}",
            Float(value)
        )?;
    }
    writeln!(
        out,
        "{name}_sum{{timer=\"{timer}\"}} {}",
        Float(secs(stats.total()))
    )?;
    writeln!(out, "{name}_count{{timer=\"{timer}\"}} {}", stats.count())
}

/// Cumulative buckets, `_sum` and `_count` of one distribution.
fn histogram(distribution: &Distribution, out: &mut dyn Write, line: &Line<'_>) -> fmt::Result {
    let (name, timer) = (line.name, line.timer);
    let counts = distribution.cumulative_counts(line.nanos);
    let count = distribution.count();
    let infinity = std::iter::once(("+Inf", count));
    let buckets = line.bounds.iter().map(|b| b.label.as_str()).zip(counts);
    // Pieces and an integer of our own: `write!` per line spends more on
    // its argument machinery than on the text, 30 lines a timer.
    let mut digits = itoa::Buffer::new();
    for (le, count) in buckets.chain(infinity) {
        out.write_str(name)?;
        out.write_str("_bucket{timer=\"")?;
        out.write_str(timer)?;
        out.write_str("\",le=\"")?;
        out.write_str(le)?;
        out.write_str("\"} ")?;
        out.write_str(digits.format(count))?;
        out.write_char('\n')?;
    }
    writeln!(
        out,
        "{name}_sum{{timer=\"{timer}\"}} {}",
        Float(secs(distribution.total()))
    )?;
    writeln!(out, "{name}_count{{timer=\"{timer}\"}} {count}")
}

/// Decimal digits of a `u64`, written into a buffer on the stack.
mod itoa {
    pub(super) struct Buffer([u8; 20]);

    impl Buffer {
        pub(super) fn new() -> Self {
            Buffer([0; 20])
        }

        pub(super) fn format(&mut self, mut n: u64) -> &str {
            let mut at = self.0.len();
            loop {
                at -= 1;
                self.0[at] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            std::str::from_utf8(&self.0[at..]).unwrap_or("0")
        }
    }

    #[test]
    fn digits_are_the_decimal_form() {
        let mut b = Buffer::new();
        for n in [0, 7, 10, 99, 12_345, u64::MAX] {
            assert_eq!(b.format(n), n.to_string());
        }
    }
}

fn sample(
    out: &mut dyn Write,
    line: &Line<'_>,
    label: Option<(&str, &str)>,
    value: f64,
) -> fmt::Result {
    out.write_str(line.name)?;
    out.write_str("{timer=\"")?;
    out.write_str(line.timer)?;
    if let Some((name, value)) = label {
        out.write_str("\",")?;
        out.write_str(name)?;
        out.write_str("=\"")?;
        out.write_str(value)?;
    }
    out.write_str("\"} ")?;
    writeln!(out, "{}", Float(value))
}

/// The `timer` label pair of a protobuf `Metric`: any name is a valid
/// label value there, unescaped.
fn timer_label(m: &mut Encoder<'_>, timer: &str) {
    m.message(1, |l| {
        l.string(1, "timer");
        l.string(2, timer);
    });
}

/// A protobuf `Histogram` with native buckets only.
fn write_native(h: &mut Encoder<'_>, distribution: &Distribution, native: &Exponential) {
    h.uint(1, distribution.count());
    h.double(2, secs(distribution.total()));
    h.sint(5, i64::from(native::SCHEMA));
    h.double(6, native::ZERO_THRESHOLD);
    h.uint(7, native.zero_count);
    if native.spans.is_empty() {
        // No bucket: an empty span still says "native" to any parser.
        h.message(12, |s| {
            s.sint(1, 0);
            s.uint(2, 0);
        });
        return;
    }
    for &(offset, length) in &native.spans {
        h.message(12, |s| {
            s.sint(1, i64::from(offset));
            s.uint(2, u64::from(length));
        });
    }
    let mut previous = 0_i64;
    h.packed_sint(
        13,
        native.counts.iter().map(|&n| {
            let n = n.min(i64::MAX as u64) as i64;
            let delta = n - previous;
            previous = n;
            delta
        }),
    );
}

fn secs(d: std::time::Duration) -> f64 {
    d.as_secs_f64()
}

/// A sample value: Prometheus spells the special values its own way.
/// Written in place, never through a `String` of its own.
struct Float(f64);

impl fmt::Display for Float {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            v if v.is_nan() => f.write_str("NaN"),
            f64::INFINITY => f.write_str("+Inf"),
            f64::NEG_INFINITY => f.write_str("-Inf"),
            v => write!(f, "{v}"),
        }
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`: anything else becomes `_`, and a leading
/// digit gets a `_` before it.
fn metric_name(raw: &str) -> String {
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// A label value: backslash, double quote and line feed escaped.
fn label_value(raw: &str) -> String {
    let mut value = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '\\' => value.push_str("\\\\"),
            '"' => value.push_str("\\\""),
            '\n' => value.push_str("\\n"),
            c => value.push(c),
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_bounds_run_1_2_5_from_a_microsecond_to_the_highest() {
        let bounds = default_bounds(3_600_000_000_000);
        assert_eq!(&bounds[..4], [1_000, 2_500, 5_000, 10_000]);
        assert_eq!(
            bounds[bounds.len() - 3..],
            [1_000_000_000_000, 2_500_000_000_000, 3_600_000_000_000]
        );
        assert_eq!(bounds.len(), 30);
        // A highest on the 1-2.5-5 grid is not given twice.
        assert_eq!(default_bounds(10_000), [1_000, 2_500, 5_000, 10_000]);
        assert_eq!(default_bounds(3_000), [1_000, 2_500, 3_000]);
        assert_eq!(default_bounds(500), [500]);
        assert!(default_bounds(u64::MAX).windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_run_at_the_top_of_the_range_lands_in_a_finite_bucket() {
        let registry = crate::registry::Registry::new(); // 1 h
        let timer = registry.timer("conn");
        timer.record(Duration::from_secs(3_600)); // the top of the range
        timer.record(Duration::from_secs(7_200)); // past it: counted at the top
        timer.record(Duration::from_secs(3_000));
        let text = Prometheus::new("app")
            .histograms()
            .render(&registry.snapshot());
        let bucket = |le: &str| {
            let line = format!("app_busy_seconds_bucket{{timer=\"conn\",le=\"{le}\"}} ");
            let at = text
                .find(&line)
                .unwrap_or_else(|| panic!("no le={le}: {text}"));
            text[at + line.len()..].lines().next().unwrap().to_owned()
        };
        assert_eq!(bucket("1000"), "0");
        assert_eq!(bucket("2500"), "0");
        assert_eq!(bucket("3600"), "3");
        assert_eq!(bucket("+Inf"), "3");
        assert!(text.contains("app_wall_seconds_bucket{timer=\"conn\",le=\"3600\"} 3\n"));
    }

    #[test]
    fn names_follow_the_metric_name_rules() {
        assert_eq!(metric_name("my-app.v2"), "my_app_v2");
        assert_eq!(metric_name("2fast"), "_2fast");
        assert_eq!(metric_name(""), "_");
        assert_eq!(metric_name("ns:sub_1"), "ns:sub_1");
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
