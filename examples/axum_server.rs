//! An HTTP server whose requests are timed per route by `TimedLayer`,
//! printing the report when it shuts down (Ctrl-C). `--load N` starts it,
//! sends N requests from a built-in client over loopback, and shuts down:
//! it runs by itself.
//!
//! Run: `cargo run --release -p perf-timer-examples --example axum_server -- --load 500`
//! (without `--load`, it serves on 127.0.0.1:3000 until Ctrl-C, with
//! Prometheus histograms at /metrics)

use std::time::Duration;

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use perf_timer::export::{metrics_route, Prometheus};
use perf_timer::tower::TimedLayer;

#[path = "load.rs"]
mod load;

/// CPU work: counted. The simulated database wait: not.
async fn user(Path(id): Path<u64>) -> String {
    tokio::time::sleep(Duration::from_millis(1)).await; // the "database"
    format!("user {id}: {}\n", score(id))
}

/// A sync function timed on its own, inside the route's timer: the route's
/// line shows its self time without it.
#[perf_timer::timed]
fn score(id: u64) -> u64 {
    (0..2_000 + id % 1_000).map(|i| i * i % 7).sum()
}

async fn health() -> &'static str {
    "ok\n"
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let load = load::load_arg();
    let _report = perf_timer::report_at_exit(); // printed when the program ends

    let app = Router::new()
        .route("/users/{id}", get(user))
        .route("/health", get(health))
        // One timer per route: "GET /users/{id}", "GET /health".
        .layer(TimedLayer::new(perf_timer::global()))
        // Added after the layer: scrapes are not timed.
        .route(
            "/metrics",
            metrics_route(
                perf_timer::global(),
                Prometheus::new("axum_server").histograms(),
            ),
        );
    load::serve(app, load, |addr| eprintln!("serving on http://{addr}")).await
}
