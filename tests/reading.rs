//! Reading never deadlocks: from inside timed futures, from a panic hook,
//! and from the exit report while a panic unwinds.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use perf_timer::Registry;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_from_inside_timed_futures_of_the_same_registry() {
    let registry = Registry::new();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let registry = registry.clone();
            registry.clone().timer("reader").spawn(async move {
                for _ in 0..20 {
                    let snapshot = registry.snapshot();
                    let report = registry.report().to_string();
                    // Creating timers while reading, too.
                    registry
                        .timer(&format!("made inside {i}"))
                        .record(Duration::from_nanos(1));
                    assert!(snapshot.len() <= registry.snapshot().len());
                    drop(report);
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(registry.stats("reader").unwrap().count(), 8);
}

#[test]
fn a_panic_hook_can_print_the_report() {
    let registry = Registry::new();
    registry.timer("before").record(Duration::from_micros(3));
    let printed = Arc::new(Mutex::new(String::new()));
    let previous = std::panic::take_hook();
    {
        let (registry, printed) = (registry.clone(), printed.clone());
        std::panic::set_hook(Box::new(move |_| {
            // Runs inside the panicking poll, before any unwinding.
            *printed.lock().unwrap() = registry.report().to_string();
        }));
    }
    let timer = registry.timer("panics");
    let outcome = std::thread::spawn(move || {
        let mut fut = Box::pin(timer.time(async { panic!("boom") }));
        let _ = catch_unwind(AssertUnwindSafe(|| common::poll_once(fut.as_mut())));
    })
    .join();
    std::panic::set_hook(previous);
    assert!(outcome.is_ok());
    assert_eq!(
        *printed.lock().unwrap(),
        "timer \"before\": 3.00 µs in 1 run\n"
    );
    assert_eq!(registry.stats("panics").unwrap().panicked(), 1);
}

#[test]
fn the_exit_report_prints_while_a_panic_unwinds() {
    let registry = Registry::new();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _report = registry
            .report_at_exit()
            .log_with(move |line| sink.lock().unwrap().push(line.to_owned()));
        registry.timer("work").record(Duration::from_micros(2));
        panic!("main failed");
    }));
    assert!(result.is_err());
    let lines = lines.lock().unwrap();
    assert_eq!(lines[0], "timer \"work\": 2.00 µs in 1 run");
    #[cfg(unix)]
    assert!(lines[1].starts_with("process: "), "{lines:?}");
}

#[test]
fn allocations_are_none_without_a_counting_allocator() {
    // This binary's global allocator is the system's, not
    // `perf_timer::CountingAllocator` (see tests/allocations.rs).
    let registry = Registry::new();
    let timer = registry.timer("plain");
    {
        let _section = timer.start();
        drop(std::hint::black_box(vec![1_u8; 10]));
    }
    let stats = timer.stats();
    assert_eq!(stats.count(), 1);
    assert!(stats.allocations().is_none());
    assert!(!registry.report().to_string().contains("allocs"));
}
