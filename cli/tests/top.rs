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

/// A file of snapshots of one registry over time replays as a frame of
/// its first run since its start, then one frame per pair, each with only
/// its interval's runs; a snapshot of a new registry (counters gone down)
/// is a frame of its own since its start, never subtracted.
#[test]
fn a_file_replays_frame_by_frame() {
    let path = temp_file("replay");
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
        ["-", "1.00 ms", "3.00 ms", "7.00 ms", "9.00 ms"],
        "{text}"
    );
    assert_eq!(text.matches("since its start").count(), 2, "{text}");
    let _ = std::fs::remove_file(&path);
}

/// A fresh file's path in the temp directory.
fn temp_file(what: &str) -> std::path::PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "perf-timer-top-{what}-{}-{}.jsonl",
        std::process::id(),
        N.fetch_add(1, Relaxed)
    ));
    let _ = std::fs::remove_file(&path);
    path
}

/// `line` with the number of its field `key` set to `value`.
fn with_number(line: &str, key: &str, value: u64) -> String {
    let field = format!("\"{key}\":");
    let at = line.find(&field).unwrap_or_else(|| panic!("no {key}")) + field.len();
    let end = at + line[at..].find(|c: char| !c.is_ascii_digit()).unwrap();
    format!("{}{value}{}", &line[..at], &line[end..])
}

/// `registry`'s run as process `pid`, started at `started_s` (Unix
/// seconds), saved `wall_s` seconds after: a line of another process.
fn run_of_process(registry: &Registry, pid: u64, started_s: u64, wall_s: u64) -> String {
    let line = perf_timer::saved::SavedRun::capture(registry).to_json_line();
    let line = with_number(&line, "pid", pid);
    let line = with_number(&line, "unix_ms", (started_s + wall_s) * 1_000);
    with_number(&line, "wall_ns", wall_s * 1_000_000_000)
}

/// `runs` runs of 1 ms of a timer "job" in a registry of its own.
fn registry_of(runs: u64) -> Registry {
    let registry = Registry::new();
    for _ in 0..runs {
        registry.timer("job").record(Duration::from_millis(1));
    }
    registry
}

/// The runs/s column of every row of `timer`, frame after frame.
fn rates_of(text: &str, timer: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{timer} ")))
        .map(|l| columns(l)[1].to_owned())
        .collect()
}

/// Three processes' runs in one file (as `PERF_TIMER_SAVE` writes them):
/// each a frame of its own figures since its start, at its true rate,
/// whether the next has lower counters (younger), or higher ones under
/// the same pid (restarted).
#[test]
fn a_file_of_three_processes_is_three_frames_at_their_true_rates() {
    let path = temp_file("processes");
    let t0 = 1_800_000_000;
    let lines = [
        // pid 101: 100 runs in 10 s.
        run_of_process(&registry_of(100), 101, t0, 10),
        // pid 202, younger, lower counters: 30 runs in 1 s.
        run_of_process(&registry_of(30), 202, t0 + 20, 1),
        // pid 101 again, started later: 400 runs in 20 s. Subtracted
        // from the first, it would read 300 runs in 10 s (30/s).
        run_of_process(&registry_of(400), 101, t0 + 1_000, 20),
    ];
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let text = stdout_of(&top(&[path.to_str().unwrap()]));
    assert_eq!(rates_of(&text, "job"), ["10.0", "30.0", "20.0"], "{text}");
    let spans: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("since its start"))
        .collect();
    assert_eq!(spans.len(), 3, "{text}");
    assert!(
        spans[0].starts_with("since its start 10.00 s (pid 101"),
        "{text}"
    );
    assert!(
        spans[1].starts_with("since its start 1.00 s (pid 202"),
        "{text}"
    );
    assert!(
        !text.contains("interval"),
        "no process subtracted from another\n{text}"
    );
    let _ = std::fs::remove_file(&path);
}

/// A file of one run shows its frame: its figures since its start.
#[test]
fn a_file_of_one_run_shows_its_frame() {
    let path = temp_file("one");
    std::fs::write(
        &path,
        run_of_process(&registry_of(50), 7, 1_800_000_000, 5) + "\n",
    )
    .unwrap();
    let text = stdout_of(&top(&[path.to_str().unwrap()]));
    assert!(text.starts_with("since its start 5.00 s (pid 7"), "{text}");
    assert_eq!(rates_of(&text, "job"), ["10.0"], "{text}");
    let _ = std::fs::remove_file(&path);
}

/// One process saved at intervals: its first run since its start, then
/// the intervals between its runs, each at the rate of its own runs.
#[test]
fn one_process_saved_at_intervals_replays_its_intervals() {
    let path = temp_file("intervals");
    let registry = Registry::new();
    let mut lines = Vec::new();
    // 10 runs in its first 2 s, then 40 in 2 s, then 5 in 5 s.
    for (runs, wall) in [(10, 2), (40, 4), (5, 9)] {
        for _ in 0..runs {
            registry.timer("job").record(Duration::from_millis(1));
        }
        lines.push(run_of_process(&registry, 55, 1_800_000_000, wall));
    }
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let text = stdout_of(&top(&[path.to_str().unwrap()]));
    assert_eq!(rates_of(&text, "job"), ["5.00", "20.0", "1.00"], "{text}");
    assert_eq!(text.matches("since its start 2.00 s").count(), 1, "{text}");
    assert_eq!(text.matches("interval 4.00 s").count(), 0, "{text}");
    assert_eq!(text.matches("interval 2.00 s").count(), 1, "{text}");
    assert_eq!(text.matches("interval 5.00 s").count(), 1, "{text}");
    let _ = std::fs::remove_file(&path);
}

/// An interval log with its header and no interval says so.
#[test]
fn an_interval_log_of_no_interval_says_so() {
    let path =
        std::env::temp_dir().join(format!("perf-timer-top-empty-{}.hlog", std::process::id()));
    let log = perf_timer::export::IntervalLog::new(std::fs::File::create(&path).unwrap()).unwrap();
    drop(log);
    let out = top(&[path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is an interval log of no interval"), "{err}");
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

/// An endpoint of our own making on `addr`: on each connection, on a
/// thread of its own, each request is read (its head), then `answer`
/// writes what it likes. The address.
fn misbehaving_on(
    addr: &str,
    answer: impl Fn(&mut std::net::TcpStream, &str) + Send + Sync + 'static,
) -> std::io::Result<std::net::SocketAddr> {
    use std::io::Read as _;
    let listener = std::net::TcpListener::bind(addr)?;
    let local = listener.local_addr()?;
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let answer = answer.clone();
            std::thread::spawn(move || loop {
                let mut head = Vec::new();
                let mut byte = [0_u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                answer(&mut stream, &path);
            });
        }
    });
    Ok(local)
}

fn misbehaving(
    answer: impl Fn(&mut std::net::TcpStream, &str) + Send + Sync + 'static,
) -> std::net::SocketAddr {
    misbehaving_on("127.0.0.1:0", answer).unwrap()
}

/// A whole response: status, content type, body with its length; the
/// connection kept open after it for the next request (keep-alive).
fn respond(stream: &mut std::net::TcpStream, status: &str, extra: &str, body: &str) {
    use std::io::Write as _;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// Prometheus text of one histogram of seconds, `runs` runs of 2 ms so far.
fn seconds_text(runs: u64) -> String {
    format!(
        "# TYPE job_seconds histogram\n\
         job_seconds_bucket{{le=\"0.001\"}} 0\n\
         job_seconds_bucket{{le=\"0.0025\"}} {runs}\n\
         job_seconds_bucket{{le=\"+Inf\"}} {runs}\n\
         job_seconds_sum {}\n\
         job_seconds_count {runs}\n",
        runs as f64 * 0.002
    )
}

/// A Prometheus endpoint whose job ran 10 more times at each read.
fn counting_endpoint(addr: &str) -> std::io::Result<std::net::SocketAddr> {
    let reads = Arc::new(AtomicU64::new(0));
    misbehaving_on(addr, move |stream, path| {
        if path != "/metrics" {
            return respond(stream, "404 Not Found", "", "");
        }
        let n = reads.fetch_add(1, Relaxed);
        respond(
            stream,
            "200 OK",
            "Content-Type: text/plain; version=0.0.4\r\n",
            &seconds_text(10 * n),
        );
    })
}

/// `perf-timer top ARGS` with no proxy from the environment: its output
/// and how long it took.
fn top_timed(args: &[&str]) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_perf-timer"))
        .arg("top")
        .args(args)
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .output()
        .unwrap();
    (out, started.elapsed())
}

/// Exit status 2 and one line on stderr holding `says`, within `within`.
fn fails_with_one_line(args: &[&str], says: &str, within: Duration) -> String {
    let (out, took) = top_timed(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "never 101: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(says), "{err}");
    assert!(took < within, "took {took:?}: {err}");
    err
}

#[test]
fn a_header_sent_slowly_ends_at_the_deadline() {
    use std::io::Write as _;
    let addr = misbehaving(|stream, _| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n");
        // A header byte every 100 ms, for ever: each read succeeds, the
        // whole read never ends.
        while stream.write_all(b"X").is_ok() {
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let url = format!("http://{addr}/metrics");
    let err = fails_with_one_line(
        &["--once", "--timeout", "1s", &url],
        "no whole answer within 1s (--timeout)",
        Duration::from_secs(10),
    );
    assert!(!err.contains("os error"), "{err}");
}

#[test]
fn an_endless_body_stops_at_the_cap_in_bounded_memory() {
    use std::io::Write as _;
    let addr = misbehaving(|stream, _| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
        let chunk = "x_seconds_bucket{le=\"1\"} 1\n".repeat(4096);
        while stream.write_all(chunk.as_bytes()).is_ok() {}
    });
    let url = format!("http://{addr}/metrics");
    let mut child = Command::new(env!("CARGO_BIN_EXE_perf-timer"))
        .args(["top", "--once", "--timeout", "60s", &url])
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Its peak resident memory, as long as it runs (Linux says it).
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0_u64;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            if let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        assert!(started.elapsed() < Duration::from_secs(90), "no end");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(2), "never 101: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("answered more than 64 MiB"), "{err}");
    // The body is read up to 64 MiB and no further.
    assert!(peak_kib < 400 * 1024, "peak {peak_kib} KiB: {err}");
}

#[test]
fn malformed_text_is_one_line_and_status_2_never_a_panic() {
    let addr = misbehaving(|stream, _| {
        respond(
            stream,
            "200 OK",
            "Content-Type: text/plain\r\n",
            "x_bucket{ 5\né{le=\"1\"} 2\nx_seconds_bucket{le=\"1e20\"} 1\nx_seconds_count 1\nx_seconds_sum 1e20\n",
        )
    });
    let url = format!("http://{addr}/metrics");
    let (out, _) = top_timed(&["--once", "--interval", "100ms", "--timeout", "2s", &url]);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}{err}");
    // 1e20 s is no duration: the percentiles are left out, not made up.
    assert!(text.contains("2 malformed lines skipped"), "{text}");
    let row = text.lines().find(|l| l.starts_with("x_seconds")).unwrap();
    assert_eq!(columns(row)[4..7], ["-", "-", "-"], "{text}");
    // Nothing that reads: one line.
    let addr = misbehaving(|stream, _| {
        respond(
            stream,
            "200 OK",
            "Content-Type: text/plain\r\n",
            "x_bucket{ 5\n{{{\n",
        )
    });
    let url = format!("http://{addr}/metrics");
    fails_with_one_line(
        &["--once", "--timeout", "2s", &url],
        "no histogram of seconds; 2 malformed lines skipped",
        Duration::from_secs(10),
    );
}

#[test]
fn a_histogram_of_bytes_is_never_read_as_seconds() {
    let addr = misbehaving(|stream, _| {
        respond(
            stream,
            "200 OK",
            "Content-Type: text/plain; version=0.0.4\r\n",
            "# TYPE http_response_size_bytes histogram\n\
             http_response_size_bytes_bucket{le=\"100\"} 3\n\
             http_response_size_bytes_bucket{le=\"+Inf\"} 4\n\
             http_response_size_bytes_sum 100000\n\
             http_response_size_bytes_count 4\n",
        )
    });
    let url = format!("http://{addr}/metrics");
    fails_with_one_line(
        &["--once", "--timeout", "2s", &url],
        "holds no histogram of seconds (only http_response_size_bytes, not times)",
        Duration::from_secs(10),
    );
}

#[test]
fn redirects_are_followed_and_a_loop_is_one_line() {
    let target = counting_endpoint("127.0.0.1:0").unwrap();
    let addr = misbehaving(move |stream, path| {
        let to = if path == "/loop" {
            "/loop".to_owned()
        } else {
            format!("http://{target}/metrics")
        };
        respond(stream, "302 Found", &format!("Location: {to}\r\n"), "")
    });
    let url = format!("http://{addr}/old");
    let (out, _) = top_timed(&["--once", "--interval", "200ms", "--timeout", "2s", &url]);
    let text = stdout_of(&out);
    let row = text.lines().find(|l| l.starts_with("job_seconds")).unwrap();
    assert_eq!(columns(row)[4], "2.50 ms", "the bucket bound\n{text}");
    fails_with_one_line(
        &["--once", "--timeout", "2s", &format!("http://{addr}/loop")],
        "more than 5 redirects",
        Duration::from_secs(10),
    );
}

/// A complete answer with a length, on a connection the server keeps
/// open, is read at once (not at the deadline).
#[test]
fn a_kept_open_connection_reads_when_its_length_is_in() {
    let addr = counting_endpoint("127.0.0.1:0").unwrap();
    let url = format!("http://{addr}/metrics");
    let (out, took) = top_timed(&[
        "--frames",
        "2",
        "--interval",
        "100ms",
        "--timeout",
        "10s",
        &url,
    ]);
    let text = stdout_of(&out);
    assert_eq!(text.matches("interval ").count(), 2, "{text}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn an_ipv6_literal_reads() {
    let addr = match counting_endpoint("[::1]:0") {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("skipped: this machine has no IPv6 loopback ({e})");
            return;
        }
    };
    let url = format!("http://[::1]:{}/metrics", addr.port());
    let (out, _) = top_timed(&["--once", "--interval", "100ms", "--timeout", "2s", &url]);
    let text = stdout_of(&out);
    assert!(text.lines().any(|l| l.starts_with("job_seconds")), "{text}");
}

/// A service never reached is an error, with `--frames` as with `--once`:
/// retrying is for one that was reached and went away.
#[test]
fn an_endpoint_never_reached_ends_with_status_2_under_frames() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // bound and dropped: nothing listens there now
    let started = std::time::Instant::now();
    let out = top(&[
        "--frames",
        "3",
        "--timeout",
        "1s",
        &format!("http://127.0.0.1:{port}/metrics"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().count(),
        1,
        "{out:?}"
    );
}

/// A service answering 503 for a while (a deploy behind a proxy) is
/// retried like one that went away, and read again once it answers; a
/// 404 is not retried.
#[test]
fn a_passing_server_error_is_retried() {
    let reads = Arc::new(AtomicU64::new(0));
    let addr = misbehaving(move |stream, _| {
        let n = reads.fetch_add(1, Relaxed);
        if (2..4).contains(&n) {
            return respond(stream, "503 Service Unavailable", "", "");
        }
        respond(
            stream,
            "200 OK",
            "Content-Type: text/plain; version=0.0.4\r\n",
            &seconds_text(10 * n),
        );
    });
    let url = format!("http://{addr}/metrics");
    let (out, _) = top_timed(&[
        "--frames",
        "2",
        "--interval",
        "50ms",
        "--timeout",
        "5s",
        &url,
    ]);
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        text.contains("disconnected (it answered 503 Service Unavailable), retrying"),
        "{text}"
    );
    assert!(text.contains("connected again"), "{text}");
}

/// `https://` of a service that serves plain HTTP says to try `http://`.
#[test]
fn https_of_a_plain_http_service_says_to_use_http() {
    // A plain HTTP server answers a TLS hello, which is no request, with
    // a 400.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            use std::io::Read as _;
            let _ = stream.read(&mut [0; 1024]);
            respond(
                &mut stream,
                "400 Bad Request",
                "Connection: close\r\n",
                "bad",
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    fails_with_one_line(
        &[
            "--once",
            "--timeout",
            "2s",
            &format!("https://{addr}/metrics"),
        ],
        "if it serves plain HTTP, use http://",
        Duration::from_secs(10),
    );
}
