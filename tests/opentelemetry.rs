//! OpenTelemetry end to end: a real axum service on 127.0.0.1 with its
//! registry forwarding to OpenTelemetry, the real SDK aggregating busy
//! time as base-2 exponential histograms and its OTLP/HTTP exporter
//! posting protobuf to a receiver that decodes it with the official
//! definitions (Python's `opentelemetry-proto`, tests/interop/otlp_receiver.py).
//! What came out must be what we counted: per timer, the histogram's count
//! exactly, our p99 inside the exported p99 bucket (or the next one up),
//! runs by outcome, bytes and poll time. Needs python3 with
//! `opentelemetry-proto` (`.ci/run` installs it); without it the test is
//! skipped with a note, unless `PERF_TIMER_INTEROP=require`.
//!
//! And at the registry's default cap of 1,000 timers, with every outcome,
//! no instrument passes the SDK's default cardinality limit (2,000 series):
//! read from what the SDK exports, in process, no receiver needed.
#![cfg(unix)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use common::{client, runtime, serve, spin};
use http_body_util::BodyExt as _;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    Aggregation, Instrument, PeriodicReader, SdkMeterProvider, Stream, Temporality,
};
use perf_timer::tower::TimedLayer;
use perf_timer::{ErrOutput, Registry, OVERFLOW_TIMER};
use serde_json::Value;

/// The receiver process, its port and its output lines.
struct Receiver {
    child: Child,
    port: u16,
    lines: mpsc::Receiver<String>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn receiver() -> Option<Receiver> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/interop/otlp_receiver.py");
    let mut child = match Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(_) => {
            common::tool_missing("there is no python3");
            return None;
        }
    };
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let Some(port) = first.strip_prefix("listening ") else {
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
        let _ = child.kill();
        common::tool_missing(&format!(
            "the OTLP receiver did not start (pip install opentelemetry-proto): {err}"
        ));
        return None;
    };
    let port = port.trim().parse().unwrap();
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            if send.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    Some(Receiver { child, port, lines })
}

/// 50 µs to 1 ms of work by id, and bytes by id.
async fn work(Path(id): Path<u64>) -> String {
    spin(Duration::from_micros(50 + (id * 37) % 950));
    perf_timer::add_bytes(100 + id);
    format!("work {id}\n")
}

async fn fail() -> StatusCode {
    spin(Duration::from_micros(30));
    StatusCode::INTERNAL_SERVER_ERROR
}

/// The SDK as a service would set it up: busy and wall time as base-2
/// exponential histograms, an OTLP/HTTP protobuf exporter.
fn provider(port: u16) -> SdkMeterProvider {
    let exporter = opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("http://127.0.0.1:{port}/v1/metrics"))
        .build()
        .unwrap();
    // Exports when flushed below; the interval is not what is tested.
    let reader = PeriodicReader::builder(exporter)
        .with_interval(Duration::from_secs(600))
        .build();
    SdkMeterProvider::builder()
        .with_reader(reader)
        .with_view(|instrument: &Instrument| {
            instrument.name().starts_with("perf_timer.run.").then(|| {
                Stream::builder()
                    .with_aggregation(Aggregation::Base2ExponentialHistogram {
                        max_size: 160,
                        max_scale: 20,
                        record_min_max: true,
                    })
                    .build()
                    .unwrap()
            })
        })
        .build()
}

#[test]
fn what_the_collector_decodes_is_what_we_counted() {
    let Some(receiver) = receiver() else {
        return;
    };
    let provider = provider(receiver.port);
    let registry = Registry::builder()
        .forward_to_opentelemetry(provider.meter("perf-timer"))
        .build()
        .unwrap();

    let app = Router::new()
        .route("/work/{id}", get(work))
        .route("/fail", get(fail))
        .layer(TimedLayer::new(&registry));
    let rt = runtime(2);
    rt.block_on(async {
        let (addr, server) = serve(app).await;
        let client = client();
        for n in 0..320_u64 {
            let path = if n % 16 == 15 {
                "/fail".to_owned()
            } else {
                format!("/work/{n}")
            };
            let response = client
                .get(format!("http://{addr}{path}").parse().unwrap())
                .await
                .unwrap();
            response.into_body().collect().await.unwrap();
        }
        server.abort();
    });
    // Runs that end without a sample: cancelled and panicked.
    let jobs = registry.timer("jobs");
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    for n in 0..5 {
        let mut pending = Box::pin(jobs.time(std::future::pending::<()>()));
        let _ = std::future::Future::poll(pending.as_mut(), &mut cx);
        if n == 0 {
            // In flight past the flush interval (10 ms of wall time since
            // its first poll; a loaded machine only sleeps longer): its next
            // poll counts it among the active runs, until it is dropped.
            std::thread::sleep(Duration::from_millis(50));
            let _ = std::future::Future::poll(pending.as_mut(), &mut cx);
            assert_eq!(jobs.stats().in_flight(), 1);
        }
    }
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for _ in 0..3 {
        let mut panics = Box::pin(jobs.time(async { panic!("a job panicked") }));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = std::future::Future::poll(panics.as_mut(), &mut cx);
        }));
        assert!(caught.is_err());
    }
    std::panic::set_hook(quiet);

    provider.force_flush().unwrap();
    let mut points: Vec<Value> = Vec::new();
    loop {
        let line = receiver
            .lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the exporter posted to the receiver");
        if line == "end of request" {
            break;
        }
        points.push(serde_json::from_str(&line).unwrap());
    }
    provider.shutdown().unwrap();

    // (metric, timer, outcome) -> point
    let mut by: BTreeMap<(String, String, String), &Value> = BTreeMap::new();
    let mut keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &points {
        let attributes = p["attributes"].as_object().unwrap();
        let name = p["name"].as_str().unwrap().to_owned();
        keys.entry(name.clone())
            .or_default()
            .extend(attributes.keys().cloned());
        let attr = |k: &str| {
            attributes
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        by.insert((name, attr("timer"), attr("outcome")), p);
    }
    let timer_only: BTreeSet<String> = ["timer".to_owned()].into();
    let expected_keys: BTreeMap<String, BTreeSet<String>> = [
        "perf_timer.run.busy",
        "perf_timer.run.wall",
        "perf_timer.runs",
        "perf_timer.runs.cancelled",
        "perf_timer.runs.panicked",
        "perf_timer.runs.errors",
        "perf_timer.polls",
        "perf_timer.poll.time",
        "perf_timer.bytes",
        "perf_timer.active_runs",
    ]
    .into_iter()
    .map(|k| (k.to_owned(), timer_only.clone()))
    .collect();
    assert_eq!(
        keys, expected_keys,
        "the documented instruments and attributes"
    );

    let point = |metric: &str, timer: &str, outcome: &str| {
        by.get(&(metric.to_owned(), timer.to_owned(), outcome.to_owned()))
            .copied()
    };
    let number = |p: Option<&Value>| p.map_or(0.0, |p| p["value"].as_f64().unwrap());
    let snapshot = registry.snapshot();
    assert_eq!(snapshot.len(), 3);
    for stats in snapshot.iter() {
        let name = stats.name();
        let runs = |instrument| number(point(instrument, name, ""));
        assert_eq!(
            runs("perf_timer.runs"),
            stats.count() as f64,
            "{name}: completed"
        );
        assert_eq!(
            runs("perf_timer.runs.errors"),
            stats.errors() as f64,
            "{name}: errors"
        );
        assert_eq!(
            runs("perf_timer.runs.cancelled"),
            stats.cancelled() as f64,
            "{name}: cancelled"
        );
        assert_eq!(
            runs("perf_timer.runs.panicked"),
            stats.panicked() as f64,
            "{name}: panicked"
        );
        assert_eq!(
            number(point("perf_timer.polls", name, "")),
            stats.polls() as f64,
            "{name}: polls"
        );
        assert_eq!(
            number(point("perf_timer.bytes", name, "")),
            stats.bytes() as f64,
            "{name}: bytes"
        );
        let poll_time = number(point("perf_timer.poll.time", name, ""));
        let ours = stats.poll_total().as_secs_f64();
        assert!(
            (poll_time - ours).abs() <= 1e-9 * stats.polls().max(1) as f64 + ours * 1e-12,
            "{name}: poll time {poll_time} vs {ours}"
        );
        assert_eq!(number(point("perf_timer.active_runs", name, "")), 0.0);
        if stats.count() == 0 {
            continue;
        }
        for (metric, distribution) in [
            ("perf_timer.run.busy", stats.busy()),
            ("perf_timer.run.wall", stats.wall()),
        ] {
            let h = point(metric, name, "").unwrap_or_else(|| panic!("{name}: no {metric}"));
            assert_eq!(h["kind"], "exponential_histogram");
            assert_eq!(
                h["count"].as_u64(),
                Some(distribution.count()),
                "{name}: {metric} count"
            );
            let sum = h["sum"].as_f64().unwrap();
            let total = distribution.total().as_secs_f64();
            assert!(
                (sum - total).abs() <= total * 1e-9,
                "{name}: {metric} sum {sum} vs {total}"
            );
            check_p99(name, h, distribution.quantile(0.99).as_secs_f64());
        }
    }
    assert_eq!(registry.stats("GET /fail").unwrap().errors(), 20);
    assert_eq!(registry.stats("jobs").unwrap().cancelled(), 5);
}

/// The bucket of the exported histogram that holds its 99th percentile
/// contains our p99, or lies just below it by at most our precision: our
/// p99 is the highest value of the HDR bucket that holds the 99th run (at
/// most 1/1024 wide at 3 significant figures), so when the run lies within
/// that much below an exponential boundary, ours is above it. (With few
/// distinct values the SDK keeps a fine scale, whose buckets can be
/// narrower than ours: then ours may be a few of them above.)
fn check_p99(name: &str, h: &Value, ours: f64) {
    let scale = h["scale"].as_i64().unwrap() as i32;
    let offset = h["offset"].as_i64().unwrap() as i32;
    let counts: Vec<u64> = h["bucket_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    let count = h["count"].as_u64().unwrap();
    let rank = (0.99 * count as f64).ceil() as u64;
    let mut seen = h["zero_count"].as_u64().unwrap();
    let base = 2_f64.powf(2_f64.powi(-scale));
    let i = counts
        .iter()
        .position(|&n| {
            seen += n;
            seen >= rank
        })
        .expect("the 99th run is in a bucket") as i32
        + offset;
    // OpenTelemetry's bucket i holds (base^i, base^(i+1)].
    let (low, high) = (base.powi(i), base.powi(i + 1));
    eprintln!("{name}: p99 bucket ({low}, {high}] at scale {scale}; ours {ours}");
    assert!(
        ours > low && ours <= high * (1.0 + 1.0 / 1024.0),
        "{name}: our p99 {ours} is not in ({low}, {high}], nor above it within our precision"
    );
}

/// An exporter that keeps the points of the SDK's last export, in process.
#[derive(Debug, Clone, Default)]
struct Collected(Arc<Mutex<Vec<Point>>>);

impl PushMetricExporter for Collected {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let mut points = Vec::new();
        for scope in metrics.scope_metrics() {
            for metric in scope.metrics() {
                let name = metric.name();
                match metric.data() {
                    AggregatedMetrics::F64(data) => points_of(name, data, |v| v, &mut points),
                    AggregatedMetrics::U64(data) => {
                        points_of(name, data, |v| v as f64, &mut points)
                    }
                    AggregatedMetrics::I64(data) => {
                        points_of(name, data, |v| v as f64, &mut points)
                    }
                }
            }
        }
        *self.0.lock().unwrap() = points;
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// One point the SDK holds: its instrument, its attributes, and its value
/// (a sum's, or a histogram's count).
type Point = (String, BTreeMap<String, String>, f64);

fn points_of<T: Copy>(name: &str, data: &MetricData<T>, value: fn(T) -> f64, out: &mut Vec<Point>) {
    let mut push = |kvs: &mut dyn Iterator<Item = &opentelemetry::KeyValue>, v: f64| {
        let attributes = kvs
            .map(|kv| (kv.key.as_str().to_owned(), kv.value.as_str().into_owned()))
            .collect::<BTreeMap<_, _>>();
        out.push((name.to_owned(), attributes, v));
    };
    match data {
        MetricData::Sum(sum) => {
            for p in sum.data_points() {
                push(&mut p.attributes(), value(p.value()));
            }
        }
        MetricData::Gauge(gauge) => {
            for p in gauge.data_points() {
                push(&mut p.attributes(), value(p.value()));
            }
        }
        MetricData::Histogram(h) => {
            for p in h.data_points() {
                push(&mut p.attributes(), p.count() as f64);
            }
        }
        MetricData::ExponentialHistogram(h) => {
            for p in h.data_points() {
                push(&mut p.attributes(), p.count() as f64);
            }
        }
    }
}

#[test]
fn a_thousand_timers_with_every_outcome_stay_under_the_sdks_cardinality_limit() {
    let collected = Collected::default();
    // The SDK's defaults: explicit-bucket histograms, 2,000 series per
    // instrument. Exports when flushed below.
    let reader = PeriodicReader::builder(collected.clone())
        .with_interval(Duration::from_secs(600))
        .build();
    let provider = SdkMeterProvider::builder().with_reader(reader).build();
    // The registry's defaults: at most 1,000 timers, then the overflow timer.
    let registry = Registry::builder()
        .forward_to_opentelemetry(provider.meter("perf-timer"))
        .build()
        .unwrap();
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    // 1,001 names: the last records into the overflow timer.
    for n in 0..=1_000_u64 {
        let timer = registry.timer(&format!("GET /route/{n}"));
        // Completed: one fine, one an error.
        timer.record(Duration::from_micros(1 + n % 50));
        let mut failed = Box::pin(
            timer
                .time(async { Err::<(), _>("refused") })
                .classify::<ErrOutput>(),
        );
        assert!(std::future::Future::poll(failed.as_mut(), &mut cx).is_ready());
        // Cancelled: dropped after a poll.
        let mut pending = Box::pin(timer.time(std::future::pending::<()>()));
        let _ = std::future::Future::poll(pending.as_mut(), &mut cx);
        drop(pending);
        // Panicked.
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = timer.start();
            panic!("a section panicked");
        }));
        assert!(caught.is_err());
    }
    std::panic::set_hook(quiet);

    provider.force_flush().unwrap();
    let points = std::mem::take(&mut *collected.0.lock().unwrap());
    let overflowed: Vec<&Point> = points
        .iter()
        .filter(|p| p.1.contains_key("otel.metric.overflow"))
        .collect();
    assert!(
        overflowed.is_empty(),
        "series past the limit: {:?}",
        &overflowed[..1]
    );

    let snapshot = registry.snapshot();
    assert_eq!(snapshot.len(), 1_001);
    assert_eq!(snapshot.get(OVERFLOW_TIMER).unwrap().count(), 2);
    // One series per timer in each instrument, with the timer attribute only.
    let mut series: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for (name, attributes, value) in &points {
        assert_eq!(attributes.keys().collect::<Vec<_>>(), ["timer"], "{name}");
        *series.entry(name).or_default() += 1;
        by.insert((name, &attributes["timer"]), *value);
    }
    for instrument in [
        "perf_timer.run.busy",
        "perf_timer.run.wall",
        "perf_timer.runs",
        "perf_timer.runs.cancelled",
        "perf_timer.runs.panicked",
        "perf_timer.runs.errors",
        "perf_timer.polls",
    ] {
        assert_eq!(series.get(instrument), Some(&1_001), "{instrument}");
    }
    for stats in &snapshot {
        let name = stats.name();
        let runs = |instrument| by.get(&(instrument, name)).copied();
        assert_eq!(stats.count(), 2, "{name}");
        assert_eq!(
            runs("perf_timer.runs"),
            Some(stats.count() as f64),
            "{name}"
        );
        assert_eq!(
            runs("perf_timer.runs.errors"),
            Some(stats.errors() as f64),
            "{name}"
        );
        assert_eq!(
            runs("perf_timer.runs.cancelled"),
            Some(stats.cancelled() as f64),
            "{name}"
        );
        assert_eq!(
            runs("perf_timer.runs.panicked"),
            Some(stats.panicked() as f64),
            "{name}"
        );
        assert_eq!(
            runs("perf_timer.run.busy"),
            Some(stats.count() as f64),
            "{name}"
        );
        assert_eq!(
            (stats.errors(), stats.cancelled(), stats.panicked()),
            (1, 1, 1),
            "{name}"
        );
    }
    provider.shutdown().unwrap();
}
