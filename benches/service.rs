//! The cost in a real service: an axum app on loopback under a fixed
//! closed-loop load (8 connections, each sending its next request when the
//! last is answered), with no timing, with `TimedLayer`, with `#[timed]` on
//! every handler, with a tokio-metrics `TaskMonitor` per route, and (with
//! `--cfg tokio_unstable`) with the task hooks. Requests per second and the
//! client's p99 latency, each variant run five times, interleaved, in one
//! process; the table gives the medians.
//!
//! `cargo bench -p perf-timer-benches --bench service` (on demand, not in CI).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use perf_timer::tower::TimedLayer;
use perf_timer::Registry;
use tokio_metrics::TaskMonitor;

const CONNECTIONS: usize = 8;
const WARM_UP: Duration = Duration::from_millis(500);
const MEASURE: Duration = Duration::from_secs(3);

/// The handler's work: a little hashing, as a real handler's parsing and
/// formatting would do.
fn work(id: u64) -> String {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ id;
    for i in 0..2_000_u64 {
        hash = (hash ^ i).wrapping_mul(0x0100_0000_01b3);
    }
    format!("user {id}: {hash:x}\n")
}

async fn plain(Path(id): Path<u64>) -> String {
    work(id)
}

#[perf_timer::timed("GET /users/{id}")]
async fn with_timed(Path(id): Path<u64>) -> String {
    work(id)
}

#[derive(Clone, Copy)]
enum Variant {
    Bare,
    TowerLayer,
    TimedAttribute,
    TokioMetrics,
    #[cfg(tokio_unstable)]
    TaskHooks,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Bare => "no timing",
            Variant::TowerLayer => "perf-timer TimedLayer",
            Variant::TimedAttribute => "perf-timer #[timed] on the handler",
            Variant::TokioMetrics => "tokio-metrics TaskMonitor per route",
            #[cfg(tokio_unstable)]
            Variant::TaskHooks => "perf-timer task hooks",
        }
    }

    fn app(self) -> Router {
        match self {
            Variant::Bare => Router::new().route("/users/{id}", get(plain)),
            Variant::TowerLayer => Router::new()
                .route("/users/{id}", get(plain))
                .layer(TimedLayer::new(&Registry::new())),
            Variant::TimedAttribute => Router::new().route("/users/{id}", get(with_timed)),
            Variant::TokioMetrics => {
                let monitor = TaskMonitor::new();
                Router::new().route(
                    "/users/{id}",
                    get(move |path: Path<u64>| monitor.instrument(plain(path))),
                )
            }
            #[cfg(tokio_unstable)]
            Variant::TaskHooks => Router::new().route("/users/{id}", get(plain)),
        }
    }

    fn runtime(self) -> tokio::runtime::Runtime {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(1).enable_all();
        #[cfg(tokio_unstable)]
        if let Variant::TaskHooks = self {
            perf_timer::install_task_hooks(&mut builder, &Registry::new());
        }
        builder.build().unwrap()
    }
}

/// Requests per second and the latency histogram (µs) of one run.
fn run(variant: Variant) -> (f64, Histogram<u64>) {
    // The server on a one-worker runtime of its own, the clients on another,
    // so that the two cores are one each.
    let server_rt = variant.runtime();
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let app = variant.app();
    server_rt.spawn(async move { axum::serve(listener, app).await });

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    client_rt.block_on(async move {
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let start = Instant::now();
        let loops: Vec<_> = (0..CONNECTIONS as u64)
            .map(|c| {
                let client = client.clone();
                tokio::spawn(async move {
                    let mut latencies = Histogram::<u64>::new(3).unwrap();
                    let mut done = 0_u64;
                    let mut id = c;
                    loop {
                        let sent = Instant::now();
                        if sent - start > WARM_UP + MEASURE {
                            return (done, latencies);
                        }
                        let uri = format!("http://{addr}/users/{id}").parse().unwrap();
                        let response = client.get(uri).await.unwrap();
                        response.into_body().collect().await.unwrap();
                        if sent - start >= WARM_UP {
                            latencies.record(sent.elapsed().as_micros() as u64).unwrap();
                            done += 1;
                        }
                        id += CONNECTIONS as u64;
                    }
                })
            })
            .collect();
        let mut total = 0;
        let mut latencies = Histogram::<u64>::new(3).unwrap();
        for handle in loops {
            let (done, histogram) = handle.await.unwrap();
            total += done;
            latencies.add(histogram).unwrap();
        }
        (total as f64 / MEASURE.as_secs_f64(), latencies)
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench --no-run` style probes
    }
    let variants = [
        Variant::Bare,
        Variant::TowerLayer,
        Variant::TimedAttribute,
        Variant::TokioMetrics,
        #[cfg(tokio_unstable)]
        Variant::TaskHooks,
    ];
    const ROUNDS: usize = 5;
    let mut results: Vec<(Vec<f64>, Vec<u64>)> = vec![(Vec::new(), Vec::new()); variants.len()];
    for round in 0..ROUNDS {
        for (i, &variant) in variants.iter().enumerate() {
            let (rps, latencies) = run(variant);
            let p99 = latencies.value_at_quantile(0.99);
            eprintln!(
                "round {round}: {:<38} {rps:>8.0} req/s, p99 {p99} µs",
                variant.name()
            );
            results[i].0.push(rps);
            results[i].1.push(p99);
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let medians: Vec<(f64, f64)> = results
        .into_iter()
        .map(|(rps, p99)| {
            (
                median(rps),
                median(p99.into_iter().map(|v| v as f64).collect()),
            )
        })
        .collect();
    let bare = medians[0].0;
    println!("| variant | requests/s | vs no timing | p99 latency |");
    println!("|---|---|---|---|");
    for (variant, (rps, p99)) in variants.iter().zip(&medians) {
        println!(
            "| {} | {rps:.0} | {:+.1}% | {p99:.0} µs |",
            variant.name(),
            (rps / bare - 1.0) * 100.0
        );
    }
}
