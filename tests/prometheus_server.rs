//! A real Prometheus server scrapes the histograms of a real axum service
//! on 127.0.0.1 (a 1 s scrape interval), classic buckets in text and native
//! histograms in protobuf, and its own `histogram_quantile` agrees with our
//! snapshot: the count exactly, the p99 within a bucket. With exemplar
//! storage, it returns our kept runs' trace ids from the OpenMetrics
//! buckets.
//! Needs Debian's `prometheus` package (`.ci/run` installs it); without it
//! the test is skipped with a note, unless `PERF_TIMER_INTEROP=require`.
//! Loopback only, bounded in time, and the server is stopped at the end.
#![cfg(unix)]

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use common::{client, runtime, serve, spin};
use http_body_util::BodyExt as _;
use perf_timer::export::{metrics_route, Prometheus};
use perf_timer::tower::TimedLayer;
use perf_timer::Registry;

/// 50 µs to 1.2 ms of work, by id.
async fn user(Path(id): Path<u64>) -> String {
    spin(Duration::from_micros(50 + (id * 37) % 1_150));
    format!("user {id}\n")
}

/// The Prometheus binary, or `None` (with a note) when it is missing.
fn prometheus() -> Option<&'static str> {
    let found = Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some("prometheus");
    }
    common::tool_missing("there is no `prometheus` on PATH (apt-get install prometheus)");
    None
}

/// A free port on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops the Prometheus server however the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `query` percent-encoded for a URL.
fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Prometheus' answer to an instant `query`: the first result's value, if any.
fn query(server: SocketAddr, query: &str) -> Option<f64> {
    let mut stream = TcpStream::connect(server).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!(
        "GET /api/v1/query?query={} HTTP/1.0\r\nHost: {server}\r\n\r\n",
        encode(query)
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let body = response.split_once("\r\n\r\n")?.1;
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    json["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

/// A service with 300 requests done, scraped every second by a real
/// Prometheus (started with `flags`), its query API, and the route's stats.
struct Scraped {
    _server: Server,
    _runtime: tokio::runtime::Runtime,
    api: SocketAddr,
    stats: perf_timer::Stats,
    dir: std::path::PathBuf,
}

impl Drop for Scraped {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const REQUESTS: u64 = 300;

fn serve_and_scrape(binary: &str, format: Prometheus, flags: &[&str], name: &str) -> Scraped {
    let users = Router::new().route("/users/{id}", get(user));
    serve_and_scrape_with(binary, Registry::new(), users, format, flags, name)
}

/// As [`serve_and_scrape`], with this registry and these routes (a
/// `/users/{id}` among them).
fn serve_and_scrape_with(
    binary: &str,
    registry: Registry,
    users: Router,
    format: Prometheus,
    flags: &[&str],
    name: &str,
) -> Scraped {
    let app = users
        .layer(TimedLayer::new(&registry))
        .route("/metrics", metrics_route(&registry, format));
    let rt = runtime(2);
    let (service, _server) = rt.block_on(serve(app));

    // Bounded load, before Prometheus starts: the totals then stand still.
    rt.block_on(async {
        let client = client();
        for id in 0..REQUESTS {
            let uri = format!("http://{service}/users/{id}").parse().unwrap();
            let response = client.get(uri).await.unwrap();
            assert!(response.status().is_success());
            response.into_body().collect().await.unwrap();
        }
    });

    let dir = std::env::temp_dir().join(format!(
        "perf-timer-prometheus-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: perf_timer\n    static_configs:\n      - targets: ['{service}']\n"
        ),
    )
    .unwrap();
    let api: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server(
        Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={api}"))
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stats = registry.stats("GET /users/{id}").unwrap();
    assert_eq!(stats.count(), REQUESTS);
    Scraped {
        _server: server,
        _runtime: rt,
        api,
        stats,
        dir,
    }
}

/// The first answer to `query`, waiting up to a minute for a scrape.
fn first_answer(api: SocketAddr, query_text: &str) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = query(api, query_text) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never scraped the service"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
#[cfg_attr(
    perf_timer_no_prometheus,
    ignore = "needs a `prometheus` server on PATH (apt-get install prometheus)"
)]
fn a_real_prometheus_computes_our_p99_from_the_histogram_buckets() {
    let Some(binary) = prometheus() else {
        return;
    };
    let scraped = serve_and_scrape(binary, Prometheus::new("app").histograms(), &[], "classic");
    let (api, stats) = (scraped.api, &scraped.stats);
    let selector = r#"app_busy_seconds_bucket{timer="GET /users/{id}"}"#;
    let count = first_answer(api, r#"app_busy_seconds_count{timer="GET /users/{id}"}"#);
    assert_eq!(count, REQUESTS as f64, "the count, exactly");

    let theirs = query(api, &format!("histogram_quantile(0.99, {selector})")).unwrap();
    let ours = stats.quantile(0.99).as_secs_f64();
    // The bucket that holds our p99, and its neighbours (a value right at
    // a bound may sit on either side of it within the histogram's precision).
    // Each bound as exactly the `le` Prometheus reads (2.5e-3, not
    // 2.5 × 1e-6 × 1000 = 0.0024999999999999996).
    let bounds: Vec<f64> = [0.0]
        .into_iter()
        .chain((0..4).flat_map(|d| [1.0, 2.5, 5.0].map(|m| m * 10f64.powi(d) / 1e6)))
        .collect();
    let i = bounds
        .iter()
        .position(|&b| b >= ours)
        .expect("p99 under 10 ms");
    eprintln!("Prometheus p99 {theirs} s, ours {ours} s");
    let (low, high) = (bounds[i - 1], bounds[i]);
    assert!(
        (low..=high).contains(&theirs),
        "Prometheus p99 {theirs} s, ours {ours} s, its bucket ({}, {}]",
        bounds[i.saturating_sub(1)],
        bounds[i]
    );
}

#[test]
#[cfg_attr(
    perf_timer_no_prometheus,
    ignore = "needs a `prometheus` server on PATH (apt-get install prometheus)"
)]
fn a_real_prometheus_reads_our_native_histograms_from_protobuf() {
    let Some(binary) = prometheus() else {
        return;
    };
    let scraped = serve_and_scrape(
        binary,
        Prometheus::new("app").native(),
        &["--enable-feature=native-histograms"],
        "native",
    );
    let (api, stats) = (scraped.api, &scraped.stats);
    let series = r#"app_busy_seconds{timer="GET /users/{id}"}"#;
    // `histogram_count` answers only for a native histogram: the scrape
    // was protobuf, and its buckets were read as native ones.
    let count = first_answer(api, &format!("histogram_count({series})"));
    assert_eq!(count, REQUESTS as f64, "the count, exactly");
    let sum = query(api, &format!("histogram_sum({series})")).unwrap();
    let total = stats.total().as_secs_f64();
    assert!((sum - total).abs() <= total * 1e-9, "sum {sum} vs {total}");
    let wall = query(
        api,
        r#"histogram_count(app_wall_seconds{timer="GET /users/{id}"})"#,
    );
    assert_eq!(wall, Some(REQUESTS as f64));
    // Counters come through protobuf too.
    let completed = query(
        api,
        r#"app_runs_total{timer="GET /users/{id}",outcome="completed"}"#,
    );
    assert_eq!(completed, Some(REQUESTS as f64));

    // Prometheus interpolates inside the native bucket that holds the
    // 99th run; ours is that bucket's, or (within our 0.1 % precision
    // above a boundary) the one above it.
    let theirs = query(api, &format!("histogram_quantile(0.99, {series})")).unwrap();
    let ours = stats.quantile(0.99).as_secs_f64();
    let base = 2_f64.powf(1.0 / 8.0);
    let i = (ours.log2() * 8.0).ceil() as i32;
    let (low, high) = (base.powi(i - 2), base.powi(i));
    eprintln!("Prometheus p99 {theirs} s, ours {ours} s, native bucket {i}");
    assert!(
        theirs > low * (1.0 - 1e-9) && theirs <= high * (1.0 + 1e-9),
        "Prometheus p99 {theirs} s, ours {ours} s: not within ({low}, {high}]"
    );
}

thread_local! {
    /// The request the handler last finished on this thread, for the
    /// registry's trace ids.
    static REQUEST: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// The trace id of request `id`: 32 hex digits, as W3C trace context
/// writes them.
fn trace_id_of(id: u64) -> String {
    format!("4bf92f3577b34da6{id:016x}")
}

/// The work of [`user`], answered with no body: the run ends in the poll
/// that finishes the handler, on the thread where it set [`REQUEST`].
async fn traced_user(Path(id): Path<u64>) -> axum::http::StatusCode {
    spin(Duration::from_micros(50 + (id * 37) % 1_150));
    REQUEST.set(Some(id));
    axum::http::StatusCode::NO_CONTENT
}

/// Prometheus' JSON answer to `GET path` (with its query string).
fn api_get(server: SocketAddr, path: &str) -> Option<serde_json::Value> {
    let mut stream = TcpStream::connect(server).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {server}\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    serde_json::from_str(response.split_once("\r\n\r\n")?.1).ok()
}

/// An exemplar on a bucket: (family, le, trace id, value, timestamp).
type Exemplar = (String, String, String, f64, f64);

/// The exemplars of our own OpenMetrics text for `timer`, and each
/// family's `le` labels in order.
fn our_exemplars(text: &str, timer: &str) -> (Vec<Exemplar>, Vec<(String, Vec<String>)>) {
    let (mut exemplars, mut les) = (Vec::new(), Vec::<(String, Vec<String>)>::new());
    let marker = format!("_bucket{{timer=\"{timer}\",le=\"");
    for line in text.lines() {
        let Some((family, rest)) = line.split_once(&marker) else {
            continue;
        };
        let (le, rest) = rest.split_once('"').unwrap();
        match les.last_mut() {
            Some((f, l)) if f == family => l.push(le.to_owned()),
            _ => les.push((family.to_owned(), vec![le.to_owned()])),
        }
        if let Some((_, exemplar)) = rest.split_once(" # {trace_id=\"") {
            let (id, rest) = exemplar.split_once("\"} ").unwrap();
            let (value, timestamp) = rest.split_once(' ').unwrap();
            exemplars.push((
                family.to_owned(),
                le.to_owned(),
                id.to_owned(),
                value.parse().unwrap(),
                timestamp.parse().unwrap(),
            ));
        }
    }
    (exemplars, les)
}

/// What `/api/v1/query_exemplars` answers for `family`'s buckets of
/// `timer`.
fn their_exemplars(api: SocketAddr, family: &str, timer: &str) -> Vec<Exemplar> {
    let query = format!("{family}_bucket{{timer=\"{timer}\"}}");
    let path = format!("/api/v1/query_exemplars?query={}", encode(&query));
    let Some(json) = api_get(api, &path) else {
        return Vec::new();
    };
    let mut exemplars = Vec::new();
    for series in json["data"].as_array().into_iter().flatten() {
        assert_eq!(
            series["seriesLabels"]["__name__"],
            format!("{family}_bucket")
        );
        let le = series["seriesLabels"]["le"].as_str().unwrap();
        for e in series["exemplars"].as_array().unwrap() {
            assert_eq!(e["labels"].as_object().unwrap().len(), 1, "{e}");
            exemplars.push((
                family.to_owned(),
                le.to_owned(),
                e["labels"]["trace_id"].as_str().unwrap().to_owned(),
                e["value"].as_str().unwrap().parse().unwrap(),
                e["timestamp"].as_f64().unwrap(),
            ));
        }
    }
    exemplars
}

#[test]
#[cfg_attr(
    perf_timer_no_prometheus,
    ignore = "needs a `prometheus` server on PATH (apt-get install prometheus)"
)]
fn a_real_prometheus_returns_our_trace_ids_as_exemplars() {
    let Some(binary) = prometheus() else {
        return;
    };
    // Taken, so that a run can only carry the id of the request that
    // finished in its own last poll.
    let registry = Registry::builder()
        .trace_ids(|| REQUEST.take().map(trace_id_of))
        .build()
        .unwrap();
    let users = Router::new().route("/users/{id}", get(traced_user));
    let format = Prometheus::new("app").histograms();
    let scraped = serve_and_scrape_with(
        binary,
        registry.clone(),
        users,
        format.clone(),
        &["--enable-feature=exemplar-storage"],
        "exemplars",
    );
    let (api, stats) = (scraped.api, &scraped.stats);
    let timer = "GET /users/{id}";

    // What the scraper reads: the load is over, so the snapshot stands still.
    let text = format.open_metrics().render(&registry.snapshot());
    let (ours, les) = our_exemplars(&text, timer);
    let families = ["app_busy_seconds", "app_wall_seconds"];
    for family in families {
        assert!(
            ours.iter().any(|e| e.0 == family),
            "no exemplar in {family}: {text}"
        );
    }
    // Each of ours is a kept run's own: its trace id names the request it
    // timed, whose work it includes, and its value is that run's time.
    for (family, _, id, value, _) in &ours {
        let run = stats
            .slowest()
            .iter()
            .find(|r| r.trace_id() == Some(id))
            .unwrap_or_else(|| panic!("{id} is no kept run's"));
        let request = u64::from_str_radix(&id[16..], 16).unwrap();
        assert!(run.busy() >= Duration::from_micros(50 + (request * 37) % 1_150));
        let time = if family.contains("busy") {
            run.busy()
        } else {
            run.wall()
        };
        assert_eq!(*value, time.as_nanos() as f64 / 1e9);
    }

    // Prometheus' answer, once it has scraped (a few seconds; 25 at most).
    let deadline = Instant::now() + Duration::from_secs(25);
    let theirs = loop {
        let theirs: Vec<Exemplar> = (families.iter())
            .flat_map(|family| their_exemplars(api, family, timer))
            .collect();
        if theirs.len() >= ours.len() || Instant::now() >= deadline {
            break theirs;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    eprintln!("{} exemplars: {theirs:?}", theirs.len());
    let key = |e: &Exemplar| (e.0.clone(), e.1.clone(), e.2.clone());
    let mut expected: Vec<_> = ours.iter().map(key).collect();
    let mut got: Vec<_> = theirs.iter().map(key).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "Prometheus has other exemplars than ours");
    for (family, le, id, value, timestamp) in &theirs {
        let ours = ours.iter().find(|e| &e.2 == id && &e.0 == family).unwrap();
        assert_eq!(*value, ours.3, "{id}");
        assert!(
            (timestamp - ours.4).abs() < 0.002,
            "{id}: {timestamp} vs {}",
            ours.4
        );
        // Inside its bucket: (the previous le, le].
        let bounds = &les.iter().find(|(f, _)| f == family).unwrap().1;
        let at = bounds.iter().position(|b| b == le).unwrap();
        let upper: f64 = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().unwrap()
        };
        let lower: f64 = at
            .checked_sub(1)
            .map_or(0.0, |i| bounds[i].parse().unwrap());
        assert!(
            lower < *value && *value <= upper,
            "{id}: {value} not in ({lower}, {upper}]"
        );
    }
}
