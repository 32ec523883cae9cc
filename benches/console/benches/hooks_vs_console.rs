//! Timing every task: a bare runtime, perf-timer's task hooks, and
//! console-subscriber's `ConsoleLayer` (which reads tokio's task spans), each
//! on its own current-thread runtime, in one run. The same build serves all
//! three, so tokio's `tracing` feature is compiled into the bare row too.
//! The console rows run last: they need the global subscriber.
//!
//! `RUSTFLAGS="--cfg tokio_unstable" cargo bench` from `benches/console`.

use std::future::poll_fn;
use std::hint::black_box;
use std::task::Poll;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use perf_timer::{Clock, Registry};
use tracing_subscriber::prelude::*;

fn current_thread(builder: &mut tokio::runtime::Builder) -> tokio::runtime::Runtime {
    builder.enable_all().build().unwrap()
}

/// A task that wakes itself `n` times: `n + 1` polls through the run queue.
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

fn run_task(rt: &tokio::runtime::Runtime, n: u64) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        tokio::spawn(self_wakes(n)).await.unwrap();
        start.elapsed()
    })
}

fn spawn_loop(rt: &tokio::runtime::Runtime, n: u64) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..n {
            black_box(tokio::spawn(async { black_box(1) }).await.unwrap());
        }
        start.elapsed()
    })
}

fn hooks_vs_console(c: &mut Criterion) {
    let bare = current_thread(&mut tokio::runtime::Builder::new_current_thread());
    let registry = Registry::builder().clock(Clock::tsc()).build().unwrap();
    let mut builder = tokio::runtime::Builder::new_current_thread();
    perf_timer::install_task_hooks(&mut builder, &registry);
    let hooked = current_thread(&mut builder);

    let mut poll = c.benchmark_group("every_task/self_wake_poll");
    poll.bench_function("bare", |b| b.iter_custom(|n| run_task(&bare, n)));
    poll.bench_function("perf_timer_hooks", |b| {
        b.iter_custom(|n| run_task(&hooked, n))
    });
    poll.finish();
    let mut spawn = c.benchmark_group("every_task/spawn_await");
    spawn.bench_function("bare", |b| b.iter_custom(|n| spawn_loop(&bare, n)));
    spawn.bench_function("perf_timer_hooks", |b| {
        b.iter_custom(|n| spawn_loop(&hooked, n))
    });
    spawn.finish();

    // console-subscriber as its users install it: the global default, with
    // its aggregator and gRPC server on a thread of their own. (A scoped
    // `with_default` subscriber does not see tokio's per-poll spans, and
    // measures as bare.) Global, so its rows come last.
    let (layer, server) = console_subscriber::ConsoleLayer::builder()
        .server_addr(([127, 0, 0, 1], 0))
        .build();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _ = rt.block_on(server.serve());
    });
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).unwrap();
    let consoled = current_thread(&mut tokio::runtime::Builder::new_current_thread());
    let mut poll = c.benchmark_group("every_task/self_wake_poll");
    poll.bench_function("console_subscriber", |b| {
        b.iter_custom(|n| run_task(&consoled, n))
    });
    poll.finish();
    let mut spawn = c.benchmark_group("every_task/spawn_await");
    spawn.bench_function("console_subscriber", |b| {
        b.iter_custom(|n| spawn_loop(&consoled, n))
    });
    spawn.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = hooks_vs_console
}
criterion_main!(benches);
