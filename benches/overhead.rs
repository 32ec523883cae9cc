//! What timing costs, measured side by side in one run: bare futures, our
//! wrapper with each clock, and tokio-metrics' `TaskMonitor` as the peer.
//!
//! `cargo bench -p perf-timer-benches --bench overhead`; see BENCHMARKS.md for the results and for
//! saving and comparing baselines.

use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use perf_timer::{task_perf_counter, Clock, Registry, Timer};
use tokio_metrics::TaskMonitor;

fn registry(clock: Clock) -> Registry {
    Registry::builder().clock(clock).build().unwrap()
}

/// One TSC read, inlined: the cheapest clock there is.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn tsc() -> u64 {
    // SAFETY: `rdtsc` is available on every x86_64 CPU.
    unsafe { std::arch::x86_64::_rdtsc() }
}

/// Elsewhere, quanta's counter.
#[cfg(not(target_arch = "x86_64"))]
fn tsc() -> u64 {
    static CLOCK: std::sync::OnceLock<quanta::Clock> = std::sync::OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new).raw()
}

/// Never ready, wakes itself, and reads the TSC twice per poll: the floor
/// any wrapper that times polls with this clock pays.
fn pending_reading_tsc() -> impl Future<Output = ()> {
    poll_fn(move |cx| {
        let start = tsc();
        cx.waker().wake_by_ref();
        black_box(tsc().saturating_sub(start));
        Poll::Pending
    })
}

/// Ready at once: a poll plus a completed run each time.
fn ready() -> impl Future<Output = u64> {
    std::future::ready(black_box(7))
}

/// Never ready, wakes itself: a poll and nothing else.
fn pending() -> impl Future<Output = ()> {
    poll_fn(|cx| {
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}

fn poll_pending<F: Future>(c: &mut criterion::Bencher<'_>, fut: F) {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    c.iter(|| black_box(fut.as_mut().poll(&mut cx).is_pending()));
}

fn direct_poll(c: &mut Criterion) {
    let tsc = registry(Clock::tsc()).timer("tsc");
    let std = registry(Clock::std()).timer("std");
    let monitor = TaskMonitor::new();

    let mut group = c.benchmark_group("direct_poll/pending");
    group.bench_function("bare", |b| poll_pending(b, pending()));
    group.bench_function("floor_two_tsc_reads", |b| {
        poll_pending(b, pending_reading_tsc())
    });
    group.bench_function("timed_tsc", |b| poll_pending(b, tsc.time(pending())));
    group.bench_function("timed_std", |b| poll_pending(b, std.time(pending())));
    group.bench_function("tokio_metrics", |b| {
        poll_pending(b, monitor.instrument(pending()))
    });
    group.finish();

    let mut group = c.benchmark_group("direct_poll/ready");
    let mut cx = Context::from_waker(Waker::noop());
    group.bench_function("bare", |b| {
        b.iter(|| black_box(pin!(ready()).poll(&mut cx)))
    });
    group.bench_function("timed_tsc", |b| {
        b.iter(|| black_box(pin!(tsc.time(ready())).poll(&mut cx)))
    });
    group.bench_function("timed_std", |b| {
        b.iter(|| black_box(pin!(std.time(ready())).poll(&mut cx)))
    });
    group.bench_function("tokio_metrics", |b| {
        b.iter(|| black_box(pin!(monitor.instrument(ready())).poll(&mut cx)))
    });
    group.finish();
}

/// A timed run inside another's poll: what a nested run costs over the same
/// outer run without it (issue 31's parts and paths are paid here), and a
/// nested poll of a run that stays pending.
fn nesting(c: &mut Criterion) {
    let registry = registry(Clock::tsc());
    let outer = registry.timer("outer");
    let inner = registry.timer("inner");
    let mut cx = Context::from_waker(Waker::noop());

    let mut group = c.benchmark_group("nesting/ready");
    group.bench_function("outer_only", |b| {
        b.iter(|| black_box(pin!(outer.time(async { ready().await })).poll(&mut cx)))
    });
    group.bench_function("outer_with_inner", |b| {
        b.iter(|| {
            let inner = inner.time(ready());
            black_box(pin!(outer.time(inner)).poll(&mut cx))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("nesting/pending");
    group.bench_function("outer_only", |b| poll_pending(b, outer.time(pending())));
    group.bench_function("outer_with_inner", |b| {
        poll_pending(b, outer.time(inner.time(pending())))
    });
    group.finish();
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A task that yields `n` times: `n + 1` polls.
async fn yields(n: u64) {
    for _ in 0..n {
        tokio::task::yield_now().await;
    }
}

/// A task that wakes itself `n` times: `n + 1` polls, scheduled through the
/// run queue without the I/O driver turn that `yield_now` waits for.
async fn self_wakes(n: u64) {
    let mut left = n;
    poll_fn(|cx| {
        if left == 0 {
            return Poll::Ready(());
        }
        left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// Like `self_wakes`, reading the TSC twice per poll.
async fn self_wakes_reading_tsc(n: u64) {
    let mut left = n;
    poll_fn(|cx| {
        let start = tsc();
        if left == 0 {
            return Poll::Ready(());
        }
        left -= 1;
        cx.waker().wake_by_ref();
        black_box(tsc().saturating_sub(start));
        Poll::Pending
    })
    .await
}

/// Runs one task of `iters` polls (made by `task`) and returns its time.
fn run_task<F: Future<Output = ()> + Send + 'static>(
    rt: &tokio::runtime::Runtime,
    task: F,
) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        tokio::spawn(task).await.unwrap();
        start.elapsed()
    })
}

fn in_runtime(c: &mut Criterion) {
    let rt = current_thread();
    let timer = registry(Clock::tsc()).timer("yield");
    let monitor = TaskMonitor::new();
    // One criterion iteration is one poll of a task that yields `iters` times.
    let mut group = c.benchmark_group("runtime_poll/yield_now");
    group.bench_function("bare", |b| b.iter_custom(|n| run_task(&rt, yields(n))));
    group.bench_function("timed", |b| {
        b.iter_custom(|n| run_task(&rt, timer.time(yields(n))))
    });
    group.bench_function("tokio_metrics", |b| {
        b.iter_custom(|n| run_task(&rt, monitor.instrument(yields(n))))
    });
    group.finish();

    let mut group = c.benchmark_group("runtime_poll/self_wake");
    group.bench_function("bare", |b| b.iter_custom(|n| run_task(&rt, self_wakes(n))));
    group.bench_function("floor_two_tsc_reads", |b| {
        b.iter_custom(|n| run_task(&rt, self_wakes_reading_tsc(n)))
    });
    group.bench_function("timed", |b| {
        b.iter_custom(|n| run_task(&rt, timer.time(self_wakes(n))))
    });
    // Every run sampled for scheduling delay: each poll wraps the waker and
    // each wake is marked, as tokio-metrics does on every poll.
    let sampled = Registry::builder()
        .scheduling_delay(1)
        .build()
        .unwrap()
        .timer("sampled");
    group.bench_function("timed_scheduling_delay", |b| {
        b.iter_custom(|n| run_task(&rt, sampled.time(self_wakes(n))))
    });
    group.bench_function("tokio_metrics", |b| {
        b.iter_custom(|n| run_task(&rt, monitor.instrument(self_wakes(n))))
    });
    group.finish();
}

/// Spawns and awaits `iters` short tasks made by `spawn`, in one `block_on`.
fn spawn_loop<F, Fut>(rt: &tokio::runtime::Runtime, iters: u64, spawn: F) -> Duration
where
    F: Fn() -> tokio::task::JoinHandle<Fut>,
{
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(spawn().await.unwrap());
        }
        start.elapsed()
    })
}

fn spawn_await(c: &mut Criterion) {
    let rt = current_thread();
    let timer = Timer::new("bench.spawn");
    let monitor = TaskMonitor::new();
    let _guard = rt.enter();
    let mut group = c.benchmark_group("spawn_await");
    group.bench_function("bare", |b| {
        b.iter_custom(|n| spawn_loop(&rt, n, || tokio::spawn(async { black_box(1) })))
    });
    group.bench_function("perf_timer_spawn", |b| {
        b.iter_custom(|n| {
            spawn_loop(&rt, n, || {
                perf_timer::spawn("bench.spawn", async { black_box(1) })
            })
        })
    });
    group.bench_function("timer_spawn", |b| {
        b.iter_custom(|n| spawn_loop(&rt, n, || timer.spawn(async { black_box(1) })))
    });
    group.bench_function("tokio_metrics", |b| {
        b.iter_custom(|n| {
            spawn_loop(&rt, n, || {
                tokio::spawn(monitor.instrument(async { black_box(1) }))
            })
        })
    });
    group.finish();
}

/// Tokio's task hooks (`install_task_hooks`): every task timed without a
/// wrapper. Per poll and per spawn, against the same runtime without hooks.
/// Needs `RUSTFLAGS="--cfg tokio_unstable"`.
#[cfg(tokio_unstable)]
fn hooked_runtime(c: &mut Criterion) {
    let bare = current_thread();
    let registry = registry(Clock::tsc());
    let mut builder = tokio::runtime::Builder::new_current_thread();
    perf_timer::install_task_hooks(&mut builder, &registry);
    let hooked = builder.enable_all().build().unwrap();

    let mut group = c.benchmark_group("hooked_runtime/self_wake_poll");
    group.bench_function("bare", |b| {
        b.iter_custom(|n| run_task(&bare, self_wakes(n)))
    });
    group.bench_function("hooked", |b| {
        b.iter_custom(|n| run_task(&hooked, self_wakes(n)))
    });
    group.finish();

    let mut group = c.benchmark_group("hooked_runtime/spawn_await");
    for (label, rt) in [("bare", &bare), ("hooked", &hooked)] {
        let _guard = rt.enter();
        group.bench_function(label, |b| {
            b.iter_custom(|n| spawn_loop(rt, n, || tokio::spawn(async { black_box(1) })))
        });
    }
    group.finish();
}

#[cfg(not(tokio_unstable))]
fn hooked_runtime(_: &mut Criterion) {}

/// Polls `n` items out of `stream` by hand, as a consumer would.
fn poll_items<S: futures::Stream + Unpin>(mut stream: S, n: u64) -> Duration {
    let mut cx = Context::from_waker(Waker::noop());
    let start = Instant::now();
    for _ in 0..n {
        let _ = black_box(Pin::new(&mut stream).poll_next(&mut cx));
    }
    start.elapsed()
}

/// One item of a stream: bare, and timed as one run per item.
fn stream_items(c: &mut Criterion) {
    let timer = registry(Clock::tsc()).timer("items");
    let mut group = c.benchmark_group("stream_item");
    group.bench_function("bare", |b| {
        b.iter_custom(|n| poll_items(futures::stream::repeat(7_u64), n))
    });
    group.bench_function("timed_tsc", |b| {
        b.iter_custom(|n| poll_items(timer.time_items(futures::stream::repeat(7_u64)), n))
    });
    group.finish();
}

/// A service that answers at once, for the tower layer's rows.
#[derive(Clone)]
struct Ok200;
impl tower_service::Service<http::Request<()>> for Ok200 {
    type Response = http::Response<String>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<http::Response<String>, std::convert::Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<()>) -> Self::Future {
        std::future::ready(Ok(http::Response::new(String::new())))
    }
}

/// One request through a tower service, bare and under `TimedLayer` (the
/// route named by a function, resolved from the layer's cache): the whole
/// per-request cost of the layer.
fn tower_layer(c: &mut Criterion) {
    use tower_layer::Layer as _;

    fn call<S, B>(service: &mut S) -> bool
    where
        S: tower_service::Service<http::Request<()>, Response = http::Response<B>>,
    {
        let request = http::Request::get("/users/7").body(()).unwrap();
        let future = pin!(service.call(request));
        let mut cx = Context::from_waker(Waker::noop());
        future.poll(&mut cx).is_ready()
    }
    let mut group = c.benchmark_group("tower_request");
    let mut bare = Ok200;
    group.bench_function("bare", |b| b.iter(|| black_box(call(&mut bare))));
    let registry = registry(Clock::tsc());
    let mut timed = perf_timer::tower::TimedLayer::new(&registry)
        .route_with(|_| Some("/users/{id}".to_owned()))
        .layer(Ok200);
    group.bench_function("timed_layer_route_fn", |b| {
        b.iter(|| black_box(call(&mut timed)))
    });
    // No route function: the cached lookup alone, as with axum's
    // `MatchedPath` (here every request is `GET (unmatched)`).
    let mut cached = perf_timer::tower::TimedLayer::new(&registry).layer(Ok200);
    group.bench_function("timed_layer_cached_route", |b| {
        b.iter(|| black_box(call(&mut cached)))
    });
    group.finish();
}

/// One span's life (new, enter, exit, close) under a `tracing_subscriber`
/// registry, without and with `PerfTimerLayer`.
fn tracing_span(c: &mut Criterion) {
    use tracing_subscriber::prelude::*;
    let mut group = c.benchmark_group("tracing_span");
    let bare = tracing_subscriber::registry();
    tracing::subscriber::with_default(bare, || {
        group.bench_function("registry_only", |b| {
            b.iter(|| tracing::info_span!("work").in_scope(|| black_box(1)))
        });
    });
    let registry = registry(Clock::tsc());
    let layered = tracing_subscriber::registry().with(perf_timer::PerfTimerLayer::new(&registry));
    tracing::subscriber::with_default(layered, || {
        group.bench_function("perf_timer_layer", |b| {
            b.iter(|| tracing::info_span!("work").in_scope(|| black_box(1)))
        });
    });
    group.finish();
}

fn completion(c: &mut Criterion) {
    let mut group = c.benchmark_group("completion");
    let registry = registry(Clock::tsc());
    let timer = registry.timer("handle");
    let sample = Duration::from_nanos(1234);
    group.bench_function("timer_record", |b| {
        b.iter(|| timer.record(black_box(sample)))
    });
    // The same, also forwarded into a `metrics` recorder (metrics-util's
    // debugging recorder, which keeps every histogram value).
    {
        let forwarded = Registry::builder()
            .forward_to_metrics("bench")
            .build()
            .unwrap()
            .timer("handle");
        let recorder = metrics_util::debugging::DebuggingRecorder::new();
        // Handles resolve on the first run, into this recorder.
        metrics::with_local_recorder(&recorder, || forwarded.record(sample));
        group.bench_function("timer_record_forwarded_to_metrics", |b| {
            b.iter(|| forwarded.record(black_box(sample)))
        });
    }
    // The same, forwarded to OpenTelemetry: the real SDK aggregating busy
    // and wall time as base-2 exponential histograms (as a View would set
    // it up), read by a periodic reader whose export does nothing (and
    // whose period is longer than the bench).
    {
        use opentelemetry::metrics::MeterProvider as _;
        use opentelemetry_sdk::metrics::{Aggregation, Instrument, PeriodicReader, Stream};
        let reader = PeriodicReader::builder(NullExporter)
            .with_interval(Duration::from_secs(3600))
            .build();
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
            .with_reader(reader)
            .with_view(|i: &Instrument| {
                i.name().starts_with("perf_timer.run.").then(|| {
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
            .build();
        let forwarded = Registry::builder()
            .forward_to_opentelemetry(provider.meter("bench"))
            .build()
            .unwrap()
            .timer("handle");
        group.bench_function("timer_record_forwarded_to_opentelemetry", |b| {
            b.iter(|| forwarded.record(black_box(sample)))
        });
    }
    for names in [10_usize, 10_000] {
        let registry = Registry::builder().max_timers(names).build().unwrap();
        let all: Vec<String> = (0..names)
            .map(|i| format!("route /api/v1/item/{i}"))
            .collect();
        for name in &all {
            registry.timer(name);
        }
        let name = all[names / 2].as_str();
        group.bench_with_input(
            BenchmarkId::new("lookup_record", names),
            &name,
            |b, name| b.iter(|| registry.timer(black_box(name)).record(black_box(sample))),
        );
    }
    group.finish();
}

/// An OpenTelemetry exporter that drops what it is given.
struct NullExporter;

impl opentelemetry_sdk::metrics::exporter::PushMetricExporter for NullExporter {
    async fn export(
        &self,
        _: &opentelemetry_sdk::metrics::data::ResourceMetrics,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> opentelemetry_sdk::metrics::Temporality {
        opentelemetry_sdk::metrics::Temporality::Cumulative
    }
}

/// Each of `threads` threads records `iters` runs into one timer, all at
/// once; returns the mean thread's time for its `iters` runs. Contention
/// slows every thread alike; the mean keeps one thread being descheduled on
/// this shared machine from passing for contention.
fn record_on_threads(timer: &Timer, threads: usize, iters: u64) -> Duration {
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (timer, barrier) = (timer.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                for i in 0..iters {
                    timer.record(Duration::from_nanos(black_box(1000 + (i & 1023))));
                }
                start.elapsed()
            })
        })
        .collect();
    let total: Duration = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total / threads as u32
}

/// Two clock reads and their difference, as a poll pays: read inline, through
/// quanta's documented `raw()`, through `minstant`, and `Instant`.
fn clock_reads(c: &mut Criterion) {
    let quanta = quanta::Clock::new();
    let mut group = c.benchmark_group("clock/two_reads");
    group.bench_function("inline_rdtsc", |b| {
        b.iter(|| {
            let start = tsc();
            black_box(tsc().wrapping_sub(start))
        })
    });
    group.bench_function("quanta_raw", |b| {
        b.iter(|| {
            let start = quanta.raw();
            black_box(quanta.raw().wrapping_sub(start))
        })
    });
    group.bench_function("minstant", |b| {
        b.iter(|| {
            let start = minstant::Instant::now();
            black_box(minstant::Instant::now().duration_since(start))
        })
    });
    group.bench_function("std_instant", |b| {
        b.iter(|| {
            let start = Instant::now();
            black_box(start.elapsed())
        })
    });
    group.finish();
}

fn contention(c: &mut Criterion) {
    let timer = registry(Clock::tsc()).timer("contended");
    let mut group = c.benchmark_group("contention");
    for threads in [1, 2] {
        group.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &t| {
            b.iter_custom(|iters| record_on_threads(&timer, t, iters))
        });
    }
    group.finish();
}

fn perf_counter(c: &mut Criterion) {
    let timer = registry(Clock::tsc()).timer("counter");
    let mut group = c.benchmark_group("task_perf_counter");
    group.bench_function("inside_timed", |b| {
        // Run criterion's loop inside one poll of a timed future.
        let mut fut = pin!(timer.time(poll_fn(|_| {
            b.iter(|| black_box(task_perf_counter()));
            Poll::Ready(())
        })));
        let _ = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    });
    group.bench_function("outside", |b| b.iter(|| black_box(task_perf_counter())));
    group.finish();
}

fn switched_off(c: &mut Criterion) {
    let on = registry(Clock::tsc());
    let off = registry(Clock::tsc());
    off.set_enabled(false);
    let (on, off) = (on.timer("on"), off.timer("off"));
    let mut group = c.benchmark_group("switched_off/pending");
    group.bench_function("bare", |b| poll_pending(b, pending()));
    group.bench_function("timed_off", |b| poll_pending(b, off.time(pending())));
    group.bench_function("timed_on", |b| poll_pending(b, on.time(pending())));
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = direct_poll, nesting, in_runtime, spawn_await, completion, contention, perf_counter, switched_off, clock_reads, hooked_runtime, stream_items, tracing_span, tower_layer
}
criterion_main!(benches);
