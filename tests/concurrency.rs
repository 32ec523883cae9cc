//! Many runs on a multi-thread runtime: none lost.

mod common;

use std::time::Duration;

use perf_timer::Registry;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_spawned_runs_count_exactly() {
    let registry = Registry::new();
    let timer = registry.timer("spawned");
    let handles: Vec<_> = (0..10_000_u64)
        .map(|i| {
            timer.spawn(async move {
                if i % 3 == 0 {
                    tokio::task::yield_now().await;
                }
                i
            })
        })
        .collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.unwrap();
    }
    assert_eq!(sum, (0..10_000).sum::<u64>());
    let stats = registry.stats("spawned").unwrap();
    assert_eq!(stats.count(), 10_000);
    assert_eq!(stats.cancelled() + stats.panicked(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_spawn_records_under_its_name() {
    let handles: Vec<_> = (0..100)
        .map(|_| perf_timer::spawn("global spawn", async { tokio::task::yield_now().await }))
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    let stats = perf_timer::global().stats("global spawn").unwrap();
    assert_eq!(stats.count(), 100);
}

#[test]
fn threads_recording_into_one_timer_lose_nothing() {
    let registry = Registry::builder().stripes(2).build().unwrap();
    let timer = registry.timer("shared");
    std::thread::scope(|s| {
        for t in 1..=8_u64 {
            let timer = timer.clone();
            s.spawn(move || {
                for _ in 0..10_000 {
                    timer.record(Duration::from_nanos(t));
                }
            });
        }
    });
    let stats = timer.stats();
    assert_eq!(stats.count(), 80_000);
    assert_eq!(
        stats.total(),
        Duration::from_nanos(10_000 * (1..=8).sum::<u64>())
    );
}

#[test]
fn samples_from_exited_threads_stay() {
    let registry = Registry::new();
    let timer = registry.timer("exited");
    for _ in 0..20 {
        let timer = timer.clone();
        std::thread::spawn(move || timer.record(Duration::from_micros(1)))
            .join()
            .unwrap();
    }
    assert_eq!(registry.snapshot().get("exited").unwrap().count(), 20);
    assert!(registry.report().to_string().contains("in 20 runs"));
}
