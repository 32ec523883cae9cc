//! Runtime-wide timing through tokio's task hooks: needs
//! `RUSTFLAGS="--cfg tokio_unstable"` and the feature `tokio-unstable`
//! (`.ci/run` builds and runs it so).
#![cfg(tokio_unstable)]

mod common;

use std::time::Duration;

use common::spin;
use perf_timer::Registry;

#[test]
fn every_task_is_timed_per_spawn_location_without_wrapping() {
    let registry = Registry::new();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(2).enable_all();
    perf_timer::install_task_hooks(&mut builder, &registry);
    let runtime = builder.build().unwrap();
    let line = line!() + 4; // the `tokio::spawn` below
    runtime.block_on(async {
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                tokio::spawn(async {
                    spin(Duration::from_micros(200));
                    tokio::time::sleep(Duration::from_millis(5)).await; // not counted
                    spin(Duration::from_micros(200));
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    drop(runtime);

    let name = format!("{}:{line}", file!());
    let stats = registry
        .stats(&name)
        .unwrap_or_else(|| panic!("no timer {name} in\n{}", registry.report()));
    assert_eq!(stats.count(), 50);
    assert_eq!(stats.polls_per_run(), 2.0);
    // Each poll spins 200 µs of wall time: past the 50 µs slow-poll
    // threshold, however the machine is loaded.
    assert_eq!(stats.slow_polls(), 100);
    // 400 µs of spinning per task, the 5 ms sleep left out (wide tolerances).
    assert!(
        stats.mean() >= Duration::from_micros(400),
        "{:?}",
        stats.mean()
    );
    assert!(
        stats.mean() < Duration::from_millis(4),
        "{:?}",
        stats.mean()
    );
    assert!(
        stats.wall().mean() >= Duration::from_millis(5),
        "{:?}",
        stats.wall().mean()
    );
}

#[test]
fn a_hooked_runtime_inside_a_task_of_another_loses_no_poll_of_either() {
    let (outer, inner) = (Registry::new(), Registry::new());
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(2).enable_all();
    perf_timer::install_task_hooks(&mut builder, &outer);
    let runtime = builder.build().unwrap();
    let inner_registry = inner.clone();
    runtime.block_on(async move {
        tokio::spawn(async move {
            spin(Duration::from_millis(2));
            tokio::task::block_in_place(|| {
                let mut builder = tokio::runtime::Builder::new_current_thread();
                perf_timer::install_task_hooks(&mut builder, &inner_registry);
                let nested = builder.enable_all().build().unwrap();
                nested.block_on(async {
                    for _ in 0..3 {
                        tokio::spawn(async { spin(Duration::from_millis(1)) })
                            .await
                            .unwrap();
                    }
                });
            });
            spin(Duration::from_millis(2));
        })
        .await
        .unwrap();
    });
    drop(runtime);

    let total = |registry: &Registry| -> (u64, u64, Duration) {
        let snapshot = registry.snapshot();
        let runs = snapshot.iter().map(|s| s.count()).sum();
        let polls = snapshot.iter().map(|s| s.polls()).sum();
        let busy = snapshot.iter().map(|s| s.total()).sum();
        (runs, polls, busy)
    };
    let (runs, polls, busy) = total(&inner);
    assert_eq!((runs, polls), (3, 3), "{}", inner.report());
    assert!(busy >= Duration::from_millis(3), "{busy:?}");
    // The outer task: one poll, holding the nested runtime's 3 ms as well
    // as its own 4 ms.
    let (runs, polls, busy) = total(&outer);
    assert_eq!((runs, polls), (1, 1), "{}", outer.report());
    assert!(busy >= Duration::from_millis(7), "{busy:?}");
}

#[test]
fn a_long_task_shows_in_flight_and_its_busy_time_while_it_runs() {
    let registry = Registry::new();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(1).enable_all();
    perf_timer::install_task_hooks(&mut builder, &registry);
    let runtime = builder.build().unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = done.clone();
    let task = runtime.spawn(async move {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            spin(Duration::from_millis(1));
            tokio::task::yield_now().await;
        }
    });
    std::thread::sleep(Duration::from_millis(80));
    let snapshot = registry.snapshot();
    let stats = snapshot.iter().next().expect("the task's timer");
    assert_eq!((stats.count(), stats.in_flight()), (0, 1));
    // Some 80 ms of spinning, less up to 10 ms not yet flushed (wide
    // tolerance for a loaded machine).
    assert!(
        stats.poll_total() >= Duration::from_millis(20),
        "{:?}",
        stats.poll_total()
    );
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    runtime.block_on(task).unwrap();
    drop(runtime);
    let snapshot = registry.snapshot();
    let stats = snapshot.iter().next().unwrap();
    assert_eq!((stats.count(), stats.in_flight()), (1, 0));
    assert_eq!(stats.poll_total(), stats.total());
}
