//! `perf-timer top --once` against a real axum service on 127.0.0.1 under
//! a steady load: a row per route, whose runs/s is the load it sent; and
//! against an endpoint that is not ours, one clear line and exit status 2.

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use perf_timer::export::{metrics_route, Prometheus};
use perf_timer::tower::TimedLayer;
use perf_timer::Registry;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// One request and its whole response over a fresh connection.
async fn get_once(addr: std::net::SocketAddr, path: &str) {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return;
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_ok() {
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink).await;
    }
}

/// `perf-timer top` with `args`: its output.
fn top(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_perf-timer"))
        .arg("top")
        .args(args)
        .output()
        .unwrap()
}

/// Its standard output, once it succeeded.
fn stdout_of(out: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// A table line's cells: split at two spaces or more.
fn columns(line: &str) -> Vec<&str> {
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// The p50 column of every row of `timer`, frame after frame.
fn p50_of(text: &str, timer: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{timer} ")))
        .map(|l| columns(l)[4].to_owned())
        .collect()
}

/// Serves `app` on a 2-worker runtime; the address, and the runtime.
fn serve(app: Router) -> (std::net::SocketAddr, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await });
    (addr, rt)
}

/// `top --once` on a service whose `/metrics` is `metrics` under a paced
/// load of 200 requests a second to /fast and 50 to /slow: its output, and
/// the rates the client sent while it ran.
fn top_under_load(
    metrics: impl FnOnce(&Registry) -> axum::routing::MethodRouter,
) -> (String, [f64; 2]) {
    let registry = Registry::new();
    let app = Router::new()
        .route("/fast", get(|| async { "fast" }))
        .route(
            "/slow",
            get(|| async {
                let start = Instant::now();
                while start.elapsed() < Duration::from_micros(300) {}
                "slow"
            }),
        )
        .layer(TimedLayer::new(&registry))
        .route("/metrics", metrics(&registry));
    let (addr, rt) = serve(app);
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    for (i, (path, per_second)) in [("/fast", 200_u64), ("/slow", 50)].into_iter().enumerate() {
        let (stop, sent) = (stop.clone(), sent.clone());
        rt.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / per_second));
            while !stop.load(Relaxed) {
                tick.tick().await;
                get_once(addr, path).await;
                sent[i].fetch_add(1, Relaxed);
            }
        });
    }
    std::thread::sleep(Duration::from_millis(500)); // the load settles
    let started = Instant::now();
    let before = [sent[0].load(Relaxed), sent[1].load(Relaxed)];
    let url = format!("http://{addr}/metrics");
    let out = top(&["--once", "--interval", "1s", "--sort", "timer", &url]);
    let elapsed = started.elapsed().as_secs_f64();
    let loaded = [0, 1].map(|i| (sent[i].load(Relaxed) - before[i]) as f64 / elapsed);
    stop.store(true, Relaxed);
    drop(rt);
    let text = stdout_of(&out);
    eprintln!("{text}sent {loaded:?} per second");
    (text, loaded)
}

/// A row per route, whose runs/s is within 20 % of what was sent.
fn assert_rows_at_the_load(text: &str, loaded: [f64; 2]) {
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("interval "), "{text}");
    assert_eq!(columns(lines[1])[..3], ["timer", "runs/s", "busy"]);
    for (name, rate) in [("GET /fast", loaded[0]), ("GET /slow", loaded[1])] {
        let row = lines
            .iter()
            .map(|l| columns(l))
            .find(|c| c[0] == name)
            .unwrap_or_else(|| panic!("no row {name} in\n{text}"));
        let shown: f64 = row[1].parse().unwrap();
        // The client's rate over a slightly longer window than top's
        // interval; a paced load keeps both near 200 and 50 a second.
        assert!(
            (shown - rate).abs() <= 0.2 * rate,
            "{name}: top says {shown}/s, the load was {rate:.1}/s\n{text}"
        );
    }
}

#[test]
fn top_once_shows_each_route_at_the_rate_it_was_loaded() {
    let (text, loaded) = top_under_load(|r| metrics_route(r, Prometheus::new("app")));
    assert_rows_at_the_load(&text, loaded);
    assert!(
        !text.contains("bucket bounds"),
        "exact percentiles from our route\n{text}"
    );
}

/// A plain Prometheus endpoint (classic histograms in text, no media type
/// of ours): the same rows, the percentiles said to be bucket bounds.
#[test]
fn top_reads_a_plain_prometheus_endpoint_from_its_buckets() {
    let (text, loaded) = top_under_load(|r| {
        let registry = r.clone();
        get(move || {
            let text = Prometheus::new("app")
                .histograms()
                .render(&registry.snapshot());
            async move { text }
        })
    });
    assert_rows_at_the_load(&text, loaded);
    assert!(text.contains("percentiles are bucket bounds"), "{text}");
}

#[test]
fn an_endpoint_that_is_not_ours_is_one_line_and_status_2() {
    let app = Router::new().route("/metrics", get(|| async { "# TYPE x counter\nx 1\n" }));
    let (addr, rt) = serve(app);
    let url = format!("http://{addr}/metrics");
    let out = top(&["--once", &url]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is not a perf-timer endpoint"), "{err}");
    drop(rt);
    // Nobody listening: one line too.
    let out = top(&["--once", &url]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        (out.status.code(), err.lines().count()),
        (Some(2), 1),
        "{err}"
    );
}

/// A file of snapshots of one registry over time replays as one frame per
/// pair, each with only its interval's runs; a snapshot of a new registry
/// (the service restarted) starts a new baseline.
#[test]
fn a_file_replays_frame_by_frame() {
    let path = std::env::temp_dir().join(format!(
        "perf-timer-top-replay-{}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    let registry = Registry::new();
    let timer = registry.timer("job");
    let save = |r: &Registry| {
        perf_timer::saved::SavedRun::capture(r)
            .append_to(&path)
            .unwrap()
    };
    save(&registry);
    for _ in 0..10 {
        timer.record(Duration::from_millis(1));
    }
    save(&registry);
    for _ in 0..10 {
        timer.record(Duration::from_millis(3));
    }
    save(&registry);
    let restarted = Registry::new();
    restarted.timer("job").record(Duration::from_millis(7));
    save(&restarted);
    restarted.timer("job").record(Duration::from_millis(9));
    save(&restarted);
    let text = stdout_of(&top(&[path.to_str().unwrap()]));
    // p50 of each frame: the interval's runs only.
    assert_eq!(
        p50_of(&text, "job"),
        ["1.00 ms", "3.00 ms", "9.00 ms"],
        "{text}"
    );
    assert!(
        text.contains("the service restarted: a new baseline"),
        "{text}"
    );
    let _ = std::fs::remove_file(&path);
}

/// An HdrHistogram interval log (as `export::IntervalLog` writes it)
/// replays one frame per interval, each timer's row from its histogram.
#[test]
fn an_interval_log_replays_interval_by_interval() {
    let path = std::env::temp_dir().join(format!("perf-timer-top-log-{}.hlog", std::process::id()));
    let registry = Registry::new();
    let mut intervals = registry.intervals();
    let mut log =
        perf_timer::export::IntervalLog::new(std::fs::File::create(&path).unwrap()).unwrap();
    for ms in [1, 4] {
        for _ in 0..10 {
            registry.timer("job").record(Duration::from_millis(ms));
        }
        std::thread::sleep(Duration::from_millis(20));
        log.write_interval(&intervals.next().unwrap()).unwrap();
    }
    drop(log);
    let text = stdout_of(&top(&[path.to_str().unwrap()]));
    assert_eq!(text.matches("interval log at").count(), 2, "{text}");
    assert_eq!(p50_of(&text, "job"), ["1.00 ms", "4.00 ms"], "{text}");
    let _ = std::fs::remove_file(&path);
}
