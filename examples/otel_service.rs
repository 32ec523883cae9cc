//! An axum service timed per route by `TimedLayer`, its registry forwarding
//! every run to OpenTelemetry: the SDK aggregates busy and wall time as
//! base-2 exponential histograms (a View) and pushes them every second over
//! OTLP/HTTP (protobuf) to `OTEL_EXPORTER_OTLP_ENDPOINT` (default
//! http://127.0.0.1:4318, a collector's OTLP/HTTP port). `--load N` sends N
//! requests from a built-in client and shuts down, pushing the last figures
//! and printing the report.
//!
//! Run: `cargo run --release -p perf-timer-examples --example otel_service -- --load 500`
//! (without `--load`, it serves on 127.0.0.1:3000 until Ctrl-C)

use std::time::Duration;

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::metrics::{
    Aggregation, Instrument, PeriodicReader, SdkMeterProvider, Stream,
};
use perf_timer::tower::TimedLayer;

#[path = "load.rs"]
mod load;

/// CPU work: counted. The simulated database wait: not.
async fn user(Path(id): Path<u64>) -> String {
    tokio::time::sleep(Duration::from_millis(1)).await; // the "database"
    let score: u64 = (0..20_000 + id % 10_000).map(|i| i * i % 7).sum();
    format!("user {id}: {score}\n")
}

async fn health() -> &'static str {
    "ok\n"
}

/// The application's OpenTelemetry SDK: what a service already has, plus
/// one View so that our busy and wall time keep their distributions.
fn meter_provider(endpoint: &str) -> SdkMeterProvider {
    let exporter = opentelemetry_otlp::MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{endpoint}/v1/metrics"))
        .build()
        .expect("an OTLP/HTTP exporter");
    let reader = PeriodicReader::builder(exporter)
        .with_interval(Duration::from_secs(1))
        .build();
    SdkMeterProvider::builder()
        .with_reader(reader)
        .with_view(|instrument: &Instrument| {
            // perf_timer.run.busy and perf_timer.run.wall.
            instrument.name().starts_with("perf_timer.run.").then(|| {
                Stream::builder()
                    .with_aggregation(Aggregation::Base2ExponentialHistogram {
                        max_size: 160,
                        max_scale: 20,
                        record_min_max: true,
                    })
                    .build()
                    .expect("a valid stream")
            })
        })
        .build()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let load = load::load_arg();
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .unwrap_or_else(|_| "http://127.0.0.1:4318".to_owned());
    let provider = meter_provider(&endpoint);
    let registry = perf_timer::Registry::builder()
        .forward_to_opentelemetry(provider.meter("perf-timer"))
        .build_global()
        .expect("the global registry is not used yet");
    let _report = registry.report_at_exit(); // printed when the program ends

    let app = Router::new()
        .route("/users/{id}", get(user))
        .route("/health", get(health))
        .layer(TimedLayer::new(registry));
    load::serve(app, load, |addr| {
        eprintln!("serving on http://{addr}, pushing metrics to {endpoint}/v1/metrics every second")
    })
    .await?;

    // The last push, off the async workers (the exporter's client blocks).
    let pushed = tokio::task::spawn_blocking(move || provider.shutdown())
        .await
        .expect("shutdown task");
    match pushed {
        Ok(()) => eprintln!("pushed the final figures to {endpoint}"),
        Err(e) => eprintln!("could not push to {endpoint}: {e}"),
    }
    Ok(())
}
