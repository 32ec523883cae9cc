//! The cost in a real service: an axum app on loopback under a fixed
//! closed-loop load (8 connections, each sending its next request when the
//! last is answered), with no timing, with `TimedLayer`, with `#[timed]` on
//! every handler, with a tokio-metrics `TaskMonitor` per route, and (with
//! `--cfg tokio_unstable`) with the task hooks. Requests per second and the
//! client's p99 latency, each variant run five times, interleaved, in one
//! process; the table gives the medians.
//!
//! `cargo bench -p perf-timer-benches --bench service` (on demand, not in CI).
//!
//! With `-- --callgrind`, instead: each variant's server instructions per
//! request, counted by valgrind's callgrind with the client outside it,
//! which holds still on a busy machine where requests per second do not.

mod callgrind;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
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

/// See `main`.
const SLOW_POLL: Duration = Duration::from_secs(1);

fn registry() -> Registry {
    Registry::builder()
        .slow_poll_threshold(SLOW_POLL)
        .build()
        .unwrap()
}

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

/// A layer whose service only calls the one inside: what axum's
/// `Router::layer` costs for any layer, before the layer does anything.
#[derive(Clone)]
struct PassthroughLayer;

impl<S> tower_layer::Layer<S> for PassthroughLayer {
    type Service = Passthrough<S>;

    fn layer(&self, inner: S) -> Passthrough<S> {
        Passthrough(inner)
    }
}

#[derive(Clone)]
struct Passthrough<S>(S);

impl<S: tower_service::Service<R>, R> tower_service::Service<R> for Passthrough<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.0.call(request)
    }
}

#[derive(Clone, Copy)]
enum Variant {
    Bare,
    PassthroughLayer,
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
            Variant::PassthroughLayer => "a tower layer that does nothing",
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
            Variant::PassthroughLayer => Router::new()
                .route("/users/{id}", get(plain))
                .layer(PassthroughLayer),
            Variant::TowerLayer => Router::new()
                .route("/users/{id}", get(plain))
                .layer(TimedLayer::new(&registry())),
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

    fn runtime(self, threads: &ServerThreads) -> tokio::runtime::Runtime {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        let clocks = threads.0.clone();
        builder
            .worker_threads(1)
            .enable_all()
            .on_thread_start(move || clocks.lock().unwrap().push(thread_cpu_clock()));
        #[cfg(tokio_unstable)]
        if let Variant::TaskHooks = self {
            perf_timer::install_task_hooks(&mut builder, &registry());
        }
        builder.build().unwrap()
    }
}

/// The CPU-time clocks of the server runtime's threads, read from outside
/// them: server CPU per request is far steadier than requests per second on
/// a shared machine, since it does not move with how fast the client is.
#[derive(Default)]
struct ServerThreads(Arc<Mutex<Vec<libc::clockid_t>>>);

/// The calling thread's CPU-time clock.
fn thread_cpu_clock() -> libc::clockid_t {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `pthread_self` is this live thread; `clock` is a valid out-pointer.
    let status = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
    assert_eq!(status, 0, "pthread_getcpuclockid");
    clock
}

impl ServerThreads {
    /// CPU time the server's threads have used so far.
    fn cpu(&self) -> Duration {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|&clock| {
                let mut now = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                // SAFETY: `now` is a valid out-pointer; a clock of a thread
                // that has ended reads as an error and counts nothing.
                if unsafe { libc::clock_gettime(clock, &mut now) } != 0 {
                    return Duration::ZERO;
                }
                Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
            })
            .sum()
    }
}

/// One run's figures.
struct Figures {
    per_second: f64,
    /// Client-side latency, µs.
    latencies: Histogram<u64>,
    /// Server CPU time per request, ns.
    server_cpu: f64,
}

/// Requests per second, the latency histogram (µs) and the server's CPU
/// time per request of one run.
fn run(variant: Variant) -> Figures {
    // The server on a one-worker runtime of its own, the clients on another,
    // so that the two cores are one each.
    let threads = ServerThreads::default();
    let server_rt = variant.runtime(&threads);
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
        // The server's CPU over the measured window only.
        tokio::time::sleep_until((start + WARM_UP).into()).await;
        let cpu_before = threads.cpu();
        tokio::time::sleep_until((start + WARM_UP + MEASURE).into()).await;
        let server_cpu = threads.cpu() - cpu_before;
        let mut total = 0;
        let mut latencies = Histogram::<u64>::new(3).unwrap();
        for handle in loops {
            let (done, histogram) = handle.await.unwrap();
            total += done;
            latencies.add(histogram).unwrap();
        }
        Figures {
            per_second: total as f64 / MEASURE.as_secs_f64(),
            latencies,
            server_cpu: server_cpu.as_nanos() as f64 / total as f64,
        }
    })
}

/// `--serve VARIANT`: serves one variant on 127.0.0.1, prints its port,
/// and exits when its stdin closes (the server side of `--callgrind`).
fn serve(variant: Variant) {
    let threads = ServerThreads::default();
    let runtime = variant.runtime(&threads);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    let app = variant.app();
    runtime.spawn(async move { axum::serve(listener, app).await });
    std::io::copy(&mut std::io::stdin(), &mut std::io::sink()).unwrap();
    std::process::exit(0);
}

/// Sends `requests` requests over `CONNECTIONS` closed-loop connections.
fn drive(addr: SocketAddr, requests: u64) {
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    client_rt.block_on(async move {
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let loops: Vec<_> = (0..CONNECTIONS as u64)
            .map(|c| {
                let client = client.clone();
                tokio::spawn(async move {
                    let mut id = c;
                    while id < requests {
                        let uri = format!("http://{addr}/users/{id}").parse().unwrap();
                        let response = client.get(uri).await.unwrap();
                        response.into_body().collect().await.unwrap();
                        id += CONNECTIONS as u64;
                    }
                })
            })
            .collect();
        for handle in loops {
            handle.await.unwrap();
        }
    });
}

/// The server's instructions for `requests` requests: the server alone runs
/// under `valgrind --tool=callgrind`, the client outside it.
fn server_instructions(variant_index: usize, requests: u64) -> u64 {
    use std::io::BufRead as _;
    let out = std::env::temp_dir().join(format!(
        "perf-timer-service-{}.callgrind",
        std::process::id()
    ));
    let mut server = std::process::Command::new("valgrind")
        .arg("--tool=callgrind")
        // Only the server's task polls, the task hooks' work around them
        // included: start-up, the clock's calibration (which runs for a
        // time, not a count) and waiting in epoll stay out.
        .arg("--toggle-collect=tokio::runtime::scheduler::multi_thread::worker::Context::run_task")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(std::env::current_exe().unwrap())
        .args(["--serve", &variant_index.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("valgrind (Debian's package valgrind)");
    let mut port = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", port.trim()).parse().unwrap();
    drive(addr, requests);
    drop(server.stdin.take());
    server.wait().unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    callgrind::total_instructions(&text)
}

/// `--callgrind`: each variant's server instructions per request, steady
/// whatever else the machine does. Two runs of different lengths, so that
/// start-up and first-request costs cancel out.
fn callgrind(variants: &[Variant]) {
    const SHORT: u64 = 1_000;
    const LONG: u64 = 3_000;
    let per_request: Vec<f64> = (0..variants.len())
        .map(|i| {
            let short = server_instructions(i, SHORT);
            let long = server_instructions(i, LONG);
            (long - short) as f64 / (LONG - SHORT) as f64
        })
        .collect();
    println!("| variant | server instructions per request | vs no timing |");
    println!("|---|---|---|");
    for (variant, ir) in variants.iter().zip(&per_request) {
        println!(
            "| {} | {ir:.0} | {:+.0} ({:+.2}%) |",
            variant.name(),
            ir - per_request[0],
            (ir / per_request[0] - 1.0) * 100.0
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return; // `cargo bench --no-run` style probes
    }
    // Every registry here takes slow polls from 1 s: under callgrind time
    // runs some 50 times slower, and the handler's few µs would otherwise
    // take the slow-poll path, which at full speed they never do.
    perf_timer::Registry::builder()
        .slow_poll_threshold(SLOW_POLL)
        .build_global()
        .unwrap();
    let variants = [
        Variant::Bare,
        Variant::PassthroughLayer,
        Variant::TowerLayer,
        Variant::TimedAttribute,
        Variant::TokioMetrics,
        #[cfg(tokio_unstable)]
        Variant::TaskHooks,
    ];
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        let index: usize = args[i + 1].parse().unwrap();
        return serve(variants[index]);
    }
    if args.iter().any(|a| a == "--callgrind") {
        return callgrind(&variants);
    }
    const ROUNDS: usize = 5;
    let mut results: Vec<[Vec<f64>; 3]> = vec![Default::default(); variants.len()];
    for round in 0..ROUNDS {
        for (i, &variant) in variants.iter().enumerate() {
            let figures = run(variant);
            let p99 = figures.latencies.value_at_quantile(0.99) as f64;
            eprintln!(
                "round {round}: {:<38} {:>8.0} req/s, p99 {p99} µs, server CPU {:.2} µs/request",
                variant.name(),
                figures.per_second,
                figures.server_cpu / 1e3,
            );
            for (list, value) in
                results[i]
                    .iter_mut()
                    .zip([figures.per_second, p99, figures.server_cpu])
            {
                list.push(value);
            }
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let medians: Vec<[f64; 3]> = results
        .iter()
        .map(|r| r.each_ref().map(|v| median(v)))
        .collect();
    let [bare_rps, _, bare_cpu] = medians[0];
    println!("| variant | requests/s | vs no timing | p99 latency | server CPU per request | vs no timing |");
    println!("|---|---|---|---|---|---|");
    for (variant, [rps, p99, cpu]) in variants.iter().zip(&medians) {
        println!(
            "| {} | {rps:.0} | {:+.1}% | {p99:.0} µs | {:.2} µs | {:+.2} µs ({:+.1}%) |",
            variant.name(),
            (rps / bare_rps - 1.0) * 100.0,
            cpu / 1e3,
            (cpu - bare_cpu) / 1e3,
            (cpu / bare_cpu - 1.0) * 100.0,
        );
    }
}
