//! Under load, with threads coming and going and a reader running all the
//! while, every run is counted exactly once and counts never go backwards.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use perf_timer::Registry;

const TASKS: u64 = 200;
const RUNS_PER_TASK: u64 = 5_000;
const BLOCKING_WAVES: u64 = 8;
const BLOCKING_PER_WAVE: u64 = 4;
const RUNS_PER_BLOCKING_JOB: u64 = 2_500;

#[test]
fn a_million_runs_across_threads_that_come_and_go() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(BLOCKING_PER_WAVE as usize)
        // Idle blocking threads exit after 5 ms, so each wave gets new ones.
        .thread_keep_alive(Duration::from_millis(5))
        .enable_all()
        .build()
        .unwrap();
    let registry = Registry::new();
    let timer = registry.timer("stress");
    let done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();

    let reader = {
        let (registry, done) = (registry.clone(), done.clone());
        std::thread::spawn(move || {
            let (mut last, mut reads) = (0, 0_u64);
            while !done.load(Relaxed) {
                let snapshot = registry.snapshot();
                let count = snapshot.get("stress").map_or(0, |s| s.count());
                assert!(count >= last, "count went down: {last} -> {count}");
                last = count;
                reads += 1;
                if reads % 16 == 0 {
                    let _ = registry.report().to_string();
                }
            }
            reads
        })
    };

    let blocking_threads = Arc::new(Mutex::new(HashSet::new()));
    runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let timer = timer.clone();
                tokio::spawn(async move {
                    for i in 0..RUNS_PER_TASK {
                        timer
                            .time(async {
                                if (i + t) % 64 == 0 {
                                    tokio::task::yield_now().await;
                                }
                            })
                            .await;
                    }
                })
            })
            .collect();
        for _ in 0..BLOCKING_WAVES {
            let wave: Vec<_> = (0..BLOCKING_PER_WAVE)
                .map(|_| {
                    let (timer, threads) = (timer.clone(), blocking_threads.clone());
                    tokio::task::spawn_blocking(move || {
                        threads.lock().unwrap().insert(std::thread::current().id());
                        for i in 0..RUNS_PER_BLOCKING_JOB {
                            timer.record(Duration::from_nanos(100 + i));
                        }
                    })
                })
                .collect();
            for job in wave {
                job.await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(30)).await; // let them retire
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    drop(runtime);
    done.store(true, Relaxed);
    let reads = reader.join().unwrap();

    let expected =
        TASKS * RUNS_PER_TASK + BLOCKING_WAVES * BLOCKING_PER_WAVE * RUNS_PER_BLOCKING_JOB;
    let stats = registry.stats("stress").unwrap();
    assert_eq!(stats.count(), expected);
    assert_eq!(stats.cancelled() + stats.panicked(), 0);
    let threads = blocking_threads.lock().unwrap().len();
    assert!(
        threads > BLOCKING_PER_WAVE as usize,
        "blocking threads should have retired and been replaced: {threads} seen"
    );
    eprintln!(
        "{expected} runs, {threads} blocking threads, {reads} snapshots read, in {:.2?}",
        started.elapsed()
    );
}
