//! Runtime-wide timing through tokio's task hooks: needs
//! `RUSTFLAGS="--cfg tokio_unstable"` and the feature `tokio-unstable`
//! (`.ci/run` builds and runs it so).
#![cfg(all(feature = "tokio-unstable", tokio_unstable))]

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
