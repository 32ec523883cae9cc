//! What a `/metrics` scrape costs the service it watches: 1,000 timers
//! served by `export::metrics_route` with classic histograms, 8 tasks
//! recording into them, 4 clients scraping back to back, all on a
//! 2-worker runtime, and a 1 ms ticker on that runtime measuring how late
//! it fires. Beside it, the same with the scrape rendered on the worker
//! (how the route worked before), and with native histograms in protobuf
//! (`Prometheus::native()`, scrapers asking for protobuf as Prometheus
//! does). Prints the ticker's lateness (p50, p99, max), scrapes per second,
//! render time per scrape and bytes per timer. With `render`: each
//! rendering alone on a fixed registry, and what one `perf-timer top`
//! read costs through the route. With `exemplars`: the OpenMetrics and
//! protobuf renderings of 1,000 timers whose 5 kept runs each have a trace
//! id, beside the same timers whose kept runs have none.
//!
//!   cargo bench -p perf-timer-benches --bench scrape              # both, 5 s each
//!   cargo bench -p perf-timer-benches --bench scrape -- exemplars
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
    for (name, inline, native) in [
        ("inline (before)", true, false),
        ("metrics_route", false, false),
        ("native", false, true),
    ] {
        if only.is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        run(name, inline, native, Duration::from_secs(seconds));
    }
    if only.is_none_or(|o| "render".contains(o.as_str())) {
        render_alone(1_000);
        render_alone(30);
    }
    if only.is_none_or(|o| "exemplars".contains(o.as_str())) {
        render_exemplars();
    }
}

/// A registry of 1,000 timers on a mock clock, each with 1,000 recorded
/// runs (log-uniform from 1 µs to 10 ms, as [`render_alone`]'s) and 5
/// timed ones it keeps as its slowest (10 to 50 ms, busy a tenth of it),
/// each given a trace id if `traced`.
fn kept_runs_registry(traced: bool) -> Registry {
    use std::future::Future as _;
    use std::task::{Context, Poll, Waker};

    let (clock, mock) = perf_timer::Clock::mock();
    let mut builder = Registry::builder().clock(clock).max_timers(TIMERS + 1);
    if traced {
        builder = builder.trace_ids(|| Some("4bf92f3577b34da6a3ce929d0e0e4736".to_owned()));
    }
    let registry = builder.build().unwrap();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for i in 0..TIMERS {
        let timer = registry.timer(&format!("GET /route/{i:04}"));
        for _ in 0..1_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1_u64 << 53) as f64;
            timer.record(Duration::from_nanos((1e3 * 1e4_f64.powf(u)) as u64));
        }
        for k in 1..=5_u64 {
            let wall = Duration::from_millis(10 * k);
            // Busy a tenth of the wall time, in two polls around a gap.
            let mut polls = 0;
            let mut run = std::pin::pin!(timer.time(std::future::poll_fn(|_| {
                mock.advance(wall / 20);
                polls += 1;
                if polls == 2 {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })));
            let mut cx = Context::from_waker(Waker::noop());
            while run.as_mut().poll(&mut cx).is_pending() {
                mock.advance(wall - wall / 10);
            }
        }
    }
    registry
}

/// The OpenMetrics and native protobuf renderings of 1,000 timers with
/// exemplars (every kept run has a trace id) and without (none has), the
/// median of 21 each, taken in turns, and their ratio.
fn render_exemplars() {
    let with = kept_runs_registry(true).snapshot();
    let without = kept_runs_registry(false).snapshot();
    let kept = |s: &perf_timer::Snapshot| s.iter().map(|t| t.slowest().len()).sum::<usize>();
    assert_eq!((kept(&with), kept(&without)), (5 * TIMERS, 5 * TIMERS));
    println!("exemplars: 1,000 timers x 1,000 runs, 5 kept runs each");
    let formats = [
        (
            "OpenMetrics",
            Prometheus::new("app").histograms().open_metrics(),
        ),
        (
            "native protobuf",
            Prometheus::new("app")
                .native()
                .negotiate(Some(ACCEPT_PROTOBUF)),
        ),
    ];
    for (name, format) in formats {
        // Interleaved, so that a busy moment of the machine falls on both.
        let (mut times_without, mut times_with) = (Vec::new(), Vec::new());
        let (mut bytes_without, mut bytes_with) = (0, 0);
        for _ in 0..21 {
            let started = Instant::now();
            bytes_without = format.encode(&without).len();
            times_without.push(started.elapsed());
            let started = Instant::now();
            bytes_with = format.encode(&with).len();
            times_with.push(started.elapsed());
        }
        times_without.sort_unstable();
        times_with.sort_unstable();
        let (time_without, time_with) = (times_without[10], times_with[10]);
        println!(
            "  {name:<16} without {time_without:>8.2?} ({} B per timer), with {time_with:>8.2?} ({} B per timer): x{:.3}",
            bytes_without / TIMERS,
            bytes_with / TIMERS,
            time_with.as_secs_f64() / time_without.as_secs_f64()
        );
    }
}

/// The median of 7 calls of `f`, and its last answer.
fn median(mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..7 {
        let started = Instant::now();
        bytes = f();
        times.push(started.elapsed());
    }
    times.sort_unstable();
    (times[3], bytes)
}

/// The snapshot and each rendering alone, on a fixed registry: 1,000
/// timers of `runs` runs each, log-uniform from 1 µs to 10 ms (a
/// deterministic sequence), so that runs of the bench compare. A
/// rendering reads every HDR bucket that holds a run: with 1,000 runs a
/// timer, about 950 per distribution.
fn render_alone(runs: usize) {
    let registry = Registry::builder().max_timers(TIMERS + 1).build().unwrap();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for i in 0..TIMERS {
        let timer = registry.timer(&format!("GET /route/{i:04}"));
        for _ in 0..runs {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1_u64 << 53) as f64;
            timer.record(Duration::from_nanos((1e3 * 1e4_f64.powf(u)) as u64));
        }
    }
    let (snapshot_time, _) = median(|| registry.snapshot().len());
    let snapshot = registry.snapshot();
    println!("render alone: 1,000 timers x {runs} runs, snapshot {snapshot_time:.2?}");
    let formats = [
        ("summary text", Prometheus::new("app")),
        ("classic text", Prometheus::new("app").histograms()),
        (
            "native protobuf",
            Prometheus::new("app")
                .native()
                .negotiate(Some(ACCEPT_PROTOBUF)),
        ),
    ];
    for (name, format) in formats {
        let (time, bytes) = median(|| format.encode(&snapshot).len());
        println!(
            "  {name:<16} {time:>8.2?} ({:.0} ns, {} B per timer)",
            time.as_nanos() as f64 / TIMERS as f64,
            bytes / TIMERS
        );
    }
    // What `perf-timer top` asks for each interval: the snapshot and the
    // saved run's line, as metrics_route makes them on the blocking pool.
    let (time, bytes) = median(|| {
        perf_timer::saved::SavedRun::capture(&registry)
            .to_uncompressed_json_line()
            .len()
    });
    println!(
        "  {:<16} {time:>8.2?} ({:.0} ns, {} B per timer; snapshot included) = {:.2} % of a core at one poll a second",
        "top's run line",
        time.as_nanos() as f64 / TIMERS as f64,
        bytes / TIMERS,
        time.as_secs_f64() * 100.0
    );
    top_reads(&registry);
}

/// What one `perf-timer top` read costs through `metrics_route` itself:
/// the request's time from a client on the same machine (the route's
/// snapshot, its line and the bytes on loopback), the median of 7 reads,
/// with one more run in none, 100 or all of the timers between reads
/// (the route reads again only the timers that changed).
fn top_reads(registry: &Registry) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let app = axum::Router::new().route(
            "/metrics",
            metrics_route(registry, Prometheus::new("app").histograms()),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let timers: Vec<_> = registry
            .snapshot()
            .iter()
            .map(|s| registry.timer(s.name()))
            .collect();
        // The first read: every timer read and written.
        let started = Instant::now();
        let bytes = get_run(addr).await;
        println!(
            "  top's read through metrics_route, first {:>8.2?} ({} B per timer)",
            started.elapsed(),
            bytes / TIMERS
        );
        for changed in [0, 100, TIMERS] {
            let mut times = Vec::new();
            for round in 0..7 {
                for timer in timers.iter().take(changed) {
                    timer.record(Duration::from_nanos(1_000 + round));
                }
                let started = Instant::now();
                get_run(addr).await;
                times.push(started.elapsed());
            }
            times.sort_unstable();
            println!(
                "  top's read through metrics_route, {changed:>4} timers changed {:>8.2?} = {:.2} % of a core at one read a second",
                times[3],
                times[3].as_secs_f64() * 100.0
            );
        }
    });
}

/// One `GET /metrics` asking for the saved run, as `perf-timer top` does;
/// the response's length.
async fn get_run(addr: SocketAddr) -> usize {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: bench\r\nAccept: {}, text/plain;version=0.0.4;q=0.5\r\nConnection: close\r\n\r\n",
        perf_timer::saved::MEDIA_TYPE
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    assert!(
        response.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&response[..response.len().min(200)])
    );
    response.len()
}

/// What Prometheus 2.42 sends with `--enable-feature=native-histograms`.
const ACCEPT_PROTOBUF: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3";

fn run(name: &str, inline: bool, native: bool, length: Duration) {
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
        let format = if native {
            Prometheus::new("app").native()
        } else {
            Prometheus::new("app").histograms()
        };
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
                    let n = scrape(addr, native).await;
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
        let mut text = Vec::new();
        let format = format.negotiate(native.then_some(ACCEPT_PROTOBUF));
        for _ in 0..5 {
            let started = Instant::now();
            let snapshot = registry.snapshot();
            snapshots.push(started.elapsed());
            let started = Instant::now();
            text = format.encode(&snapshot);
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
async fn scrape(addr: SocketAddr, native: bool) -> usize {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return 0;
    };
    let accept = if native {
        ACCEPT_PROTOBUF
    } else {
        "text/plain"
    };
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: bench\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return 0;
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    response.len()
}
