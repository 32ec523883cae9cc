//! What a `/metrics` scrape costs the service it watches: 1,000 timers
//! served by `export::metrics_route` with classic histograms, 8 tasks
//! recording into them, 4 clients scraping back to back, all on a
//! 2-worker runtime, and a 1 ms ticker on that runtime measuring how late
//! it fires. Beside it, the same with the scrape rendered on the worker
//! (`--inline`, how the route worked before). Prints the ticker's lateness
//! (p50, p99, max), scrapes per second, render time per scrape and bytes
//! per timer.
//!
//!   cargo bench -p perf-timer-benches --bench scrape              # both, 5 s each
//!   cargo bench -p perf-timer-benches --bench scrape -- --seconds 10

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use perf_timer::export::{metrics_route, Prometheus};
use perf_timer::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TIMERS: usize = 1_000;
const RECORDERS: usize = 8;
const SCRAPERS: usize = 4;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(5);
    // `cargo bench` passes `--bench`; a filter word picks one mode.
    let only = args
        .iter()
        .skip(1)
        .find(|a| !a.starts_with("--") && a.parse::<u64>().is_err());
    for inline in [true, false] {
        let name = if inline {
            "inline (before)"
        } else {
            "metrics_route"
        };
        if only.is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        run(name, inline, Duration::from_secs(seconds));
    }
}

fn run(name: &str, inline: bool, length: Duration) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let registry = Registry::builder().max_timers(TIMERS + 1).build().unwrap();
        let timers: Vec<_> = (0..TIMERS)
            .map(|i| registry.timer(&format!("GET /route/{i:04}")))
            .collect();
        let format = Prometheus::new("app").histograms();
        let app = if inline {
            let (registry, format) = (registry.clone(), format.clone());
            axum::Router::new().route(
                "/metrics",
                axum::routing::get(move || {
                    let body = format.render(&registry.snapshot());
                    async move { body }
                }),
            )
        } else {
            axum::Router::new().route("/metrics", metrics_route(&registry, format.clone()))
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let stop = Arc::new(AtomicBool::new(false));
        let timers = Arc::new(timers);
        for r in 0..RECORDERS {
            let (stop, timers) = (stop.clone(), timers.clone());
            tokio::spawn(async move {
                let mut i = r;
                while !stop.load(Relaxed) {
                    // 64 runs, then a pause, as a service's tasks record
                    // between their awaits.
                    for _ in 0..64 {
                        timers[i % TIMERS].record(Duration::from_micros((i % 997) as u64 + 1));
                        i += RECORDERS;
                    }
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
            });
        }
        let (scrapes, bytes) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        for _ in 0..SCRAPERS {
            let (stop, scrapes, bytes) = (stop.clone(), scrapes.clone(), bytes.clone());
            tokio::spawn(async move {
                while !stop.load(Relaxed) {
                    let n = scrape(addr).await;
                    scrapes.fetch_add(1, Relaxed);
                    bytes.store(n as u64, Relaxed);
                }
            });
        }
        // The ticker: how late each 1 ms tick fires.
        let mut late = Vec::new();
        let mut ticker = tokio::time::interval(Duration::from_millis(1));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let started = Instant::now();
        let mut expected = Instant::now() + Duration::from_millis(1);
        ticker.tick().await;
        while started.elapsed() < length {
            ticker.tick().await;
            let now = Instant::now();
            late.push(now.saturating_duration_since(expected));
            expected = now + Duration::from_millis(1);
        }
        stop.store(true, Relaxed);
        late.sort_unstable();
        let at = |q: f64| late[((late.len() - 1) as f64 * q) as usize];
        let elapsed = started.elapsed().as_secs_f64();
        let n = scrapes.load(Relaxed);
        // Scrapes in progress finish; then the snapshot and the rendering
        // alone, the median of 5, for their cost per timer.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let (mut snapshots, mut renders) = (Vec::new(), Vec::new());
        let mut text = String::new();
        for _ in 0..5 {
            let started = Instant::now();
            let snapshot = registry.snapshot();
            snapshots.push(started.elapsed());
            let started = Instant::now();
            text = format.render(&snapshot);
            renders.push(started.elapsed());
        }
        snapshots.sort_unstable();
        renders.sort_unstable();
        let (snapshot, render) = (snapshots[2], renders[2]);
        println!(
            "{name:<16} ticker late p50 {:>8.2?} p99 {:>9.2?} max {:>9.2?} | {:>6.1} scrapes/s | snapshot {:>7.2?}, render {:>8.2?} ({:.0} ns, {} B per timer; last scrape {} B)",
            at(0.5),
            at(0.99),
            late[late.len() - 1],
            n as f64 / elapsed,
            snapshot,
            render,
            render.as_nanos() as f64 / TIMERS as f64,
            text.len() / TIMERS,
            bytes.load(Relaxed)
        );
    });
}

/// One `GET /metrics` over a fresh connection; the response's length.
async fn scrape(addr: SocketAddr) -> usize {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return 0;
    };
    let request = "GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).await.is_err() {
        return 0;
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    response.len()
}
