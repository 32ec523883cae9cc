//! Prometheus' exposition formats (cold path): busy and wall time as
//! summaries, classic or native histograms, written as Prometheus text
//! (0.0.4), OpenMetrics text (1.0.0) or protobuf, and served over HTTP.
//!
//! * here: [`Prometheus`], the format a user builds (namespace, shape,
//!   encoding) and its public methods, [`write_prometheus`] and
//!   [`BucketsError`];
//! * `format.rs`: the encodings, their media types, and content
//!   negotiation over them;
//! * `exemplars.rs`: which kept runs' trace ids go on which histogram
//!   buckets;
//! * `families.rs`: what both writers write, in order, from the figure
//!   table;
//! * `text.rs`: the text writer (families, summaries, classic histograms
//!   and their bounds), Prometheus text and OpenMetrics;
//! * `protobuf.rs`: the protobuf writer (`metrics.proto`'s messages, native
//!   histograms), over the wire format's encoder in `wire.rs`;
//! * `route.rs` (feature `axum`): [`metrics_route`], scrape coalescing, and
//!   `RUN_MEDIA_TYPE`.

use std::fmt::{self, Write};
use std::time::Duration;

use crate::read::Snapshot;
#[cfg(doc)]
use crate::read::Stats; // for the docs' links
use format::Encoding;

mod exemplars;
mod families;
mod format;
mod protobuf;
#[cfg(feature = "axum")]
mod route;
mod text;
mod wire;

#[cfg(feature = "axum")]
pub use route::metrics_route;
#[cfg(all(feature = "axum", feature = "save"))]
pub use route::RUN_MEDIA_TYPE;

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
    encoding: Encoding,
}

/// How busy and wall time are written. Bounds: those of the classic
/// buckets; `None`: derived from the registry's range.
#[derive(Debug, Clone)]
enum Shape {
    Summary,
    /// Classic histograms.
    Histogram(Option<Vec<Duration>>),
    /// Native histograms where the encoding carries them (protobuf), else
    /// classic ones.
    Native(Option<Vec<Duration>>),
}

impl Shape {
    /// With these classic bounds, native or not as before.
    fn with_bounds(self, bounds: Option<Vec<Duration>>) -> Self {
        match self {
            Shape::Native(_) => Shape::Native(bounds),
            Shape::Summary | Shape::Histogram(_) => Shape::Histogram(bounds),
        }
    }

    fn is_native(&self) -> bool {
        matches!(self, Shape::Native(_))
    }

    /// The classic buckets' bounds, if histograms (native ones are written
    /// as classic in text).
    fn bounds(&self) -> Option<Option<&[Duration]>> {
        match self {
            Shape::Summary => None,
            Shape::Histogram(bounds) | Shape::Native(bounds) => Some(bounds.as_deref()),
        }
    }
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
            encoding: Encoding::Text,
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
        self.shape = self.shape.with_bounds(None);
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
        self.shape = self.shape.with_bounds(Some(bounds));
        Ok(self)
    }

    /// OpenMetrics text 1.0.0 instead of Prometheus' text format (or
    /// [`protobuf`](Prometheus::protobuf): the one called last is the
    /// encoding).
    ///
    /// ```
    /// let format = perf_timer::export::Prometheus::new("app").open_metrics();
    /// assert!(format.render(&perf_timer::Registry::new().snapshot()).ends_with("# EOF\n"));
    /// ```
    ///
    /// **Exemplars.** With histograms, and a registry that has
    /// [trace ids](crate::RegistryBuilder::trace_ids), the buckets of busy
    /// and wall time carry exemplars: the trace id of a kept run
    /// ([`Stats::slowest`]) whose busy (or wall) time fell in the bucket,
    /// that time in seconds, and when the run ended, in Unix seconds:
    /// `…_bucket{timer="x",le="0.05"} 7 # {trace_id="4bf9…"} 0.0412 1733140000.123`.
    /// At most one per bucket: of the kept runs with a trace id in its
    /// range (previous bound, bound], the one with the longest time; so
    /// only the buckets the slowest runs fell in have one. A trace id
    /// longer than OpenMetrics' 128 characters for the label set is left
    /// out. They are read at scrape time from the runs already kept,
    /// nothing more on the poll path. Prometheus keeps them with
    /// `--enable-feature=exemplar-storage` (and `/api/v1/query_exemplars`
    /// returns them). Prometheus' text format 0.0.4 has no exemplars; in
    /// [protobuf](Prometheus::protobuf), each native histogram carries
    /// every kept run with a trace id (`Histogram.exemplars`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use perf_timer::export::Prometheus;
    ///
    /// let registry = perf_timer::Registry::builder()
    ///     .trace_ids(|| Some("4bf92f3577b34da6a3ce929d0e0e4736".to_owned()))
    ///     .build()
    ///     .unwrap();
    /// registry.timer("GET /users").time(async {}).await;
    /// let text = Prometheus::new("app").histograms().open_metrics().render(&registry.snapshot());
    /// let bucket = text.lines().find(|l| l.contains(" # {")).unwrap();
    /// assert!(bucket.starts_with("app_busy_seconds_bucket{timer=\"GET /users\",le="));
    /// assert!(bucket.contains(" 1 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} "));
    /// // Prometheus' text format has none.
    /// assert!(!Prometheus::new("app").histograms().render(&registry.snapshot()).contains("trace_id"));
    /// # }
    /// ```
    pub fn open_metrics(mut self) -> Self {
        self.encoding = Encoding::OpenMetrics;
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
    /// Kept runs with a trace id go with them as exemplars
    /// (`Histogram.exemplars`; see [`open_metrics`](Prometheus::open_metrics)).
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
        self.shape = match self.shape {
            Shape::Summary => Shape::Native(None),
            Shape::Histogram(bounds) | Shape::Native(bounds) => Shape::Native(bounds),
        };
        self
    }

    /// Prometheus' protobuf format (length-delimited `MetricFamily`
    /// messages) for [`encode`](Prometheus::encode), with native histograms
    /// ([`native`](Prometheus::native) is implied). Protobuf is bytes:
    /// [`render`](Prometheus::render) and [`write`](Prometheus::write)
    /// still write text, Prometheus' text format of the same families with
    /// classic buckets.
    ///
    /// ```
    /// let format = perf_timer::export::Prometheus::new("app").protobuf();
    /// assert!(format.content_type().contains("proto=io.prometheus.client.MetricFamily"));
    /// ```
    pub fn protobuf(mut self) -> Self {
        self = self.native();
        self.encoding = Encoding::Protobuf;
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
        self.negotiated(accept)
    }

    /// The media type of what [`encode`](Prometheus::encode) writes, for a
    /// `Content-Type` header (and of [`write`](Prometheus::write)'s text,
    /// unless protobuf was chosen).
    ///
    /// ```
    /// assert!(perf_timer::export::Prometheus::new("app").content_type().starts_with("text/plain"));
    /// ```
    pub fn content_type(&self) -> &'static str {
        self.encoding.media_type()
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
        match self.encoding {
            Encoding::Protobuf => {
                let mut body = Vec::new();
                protobuf::write(self, &mut body, snapshot);
                body
            }
            Encoding::Text | Encoding::OpenMetrics => self.render(snapshot).into_bytes(),
        }
    }

    /// [`write`](Prometheus::write) into a new `String`: always text. A
    /// [`protobuf`](Prometheus::protobuf) format renders Prometheus' text
    /// format of the same families (with classic buckets);
    /// [`encode`](Prometheus::encode) gives its protobuf bytes.
    ///
    /// ```
    /// let snapshot = perf_timer::Registry::new().snapshot();
    /// let text = perf_timer::export::Prometheus::new("app").render(&snapshot);
    /// assert!(text.starts_with("# HELP app_busy_seconds "));
    /// let protobuf = perf_timer::export::Prometheus::new("app").protobuf();
    /// assert!(protobuf.render(&snapshot).starts_with("# HELP app_busy_seconds "));
    /// assert!(!protobuf.encode(&snapshot).starts_with(b"# HELP"));
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
        text::write(self, out, snapshot)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_metric_name_rules() {
        assert_eq!(metric_name("my-app.v2"), "my_app_v2");
        assert_eq!(metric_name("2fast"), "_2fast");
        assert_eq!(metric_name(""), "_");
        assert_eq!(metric_name("ns:sub_1"), "ns:sub_1");
    }

    /// Protobuf is what `encode` writes; `render` and `write` give the
    /// text of the same families, with classic buckets.
    #[test]
    fn a_protobuf_format_encodes_protobuf_and_renders_text() {
        let registry = crate::registry::Registry::new();
        registry.timer("t").record(Duration::from_micros(250));
        let snapshot = registry.snapshot();
        let format = Prometheus::new("app").protobuf();
        let text = format.render(&snapshot);
        assert_eq!(text, Prometheus::new("app").native().render(&snapshot));
        assert!(text.contains("# TYPE app_busy_seconds histogram\n"));
        assert!(text.contains("app_busy_seconds_bucket{timer=\"t\",le=\"+Inf\"} 1\n"));
        let body = format.encode(&snapshot);
        // A length, then the first family's field 1 (its name).
        let name = b"app_busy_seconds";
        assert_eq!(body[1..3], [0x0a, name.len() as u8]);
        assert_eq!(&body[3..3 + name.len()], name);
        // The encoding is the last one chosen.
        let open_metrics = Prometheus::new("app").protobuf().open_metrics();
        assert!(open_metrics
            .content_type()
            .starts_with("application/openmetrics-text"));
        assert!(open_metrics.encode(&snapshot).ends_with(b"# EOF\n"));
        let protobuf = Prometheus::new("app").open_metrics().protobuf();
        assert_eq!(protobuf.encode(&snapshot), body);
    }
}
