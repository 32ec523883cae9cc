//! Blocking inside `poll` is told apart from computing, on real threads:
//! wide tolerances, since only the classification is the point. (A spin
//! counts as blocked only if the OS keeps it off the CPU for more than half
//! its 20 ms.)
#![cfg(unix)]

mod common;

use std::time::Duration;

use common::spin;
use perf_timer::{Clock, Registry};

#[tokio::test]
async fn sampled_polls_that_sleep_inside_poll_are_blocked() {
    let registry = Registry::builder().blocking_detection(1).build().unwrap();
    registry
        .timer("sleeps")
        .time(async { std::thread::sleep(Duration::from_millis(20)) })
        .await;
    registry
        .timer("spins")
        .time(async { spin(Duration::from_millis(20)) })
        .await;
    let sleeps = registry.stats("sleeps").unwrap();
    assert_eq!(sleeps.blocked_polls(), 1);
    assert_eq!(sleeps.slow_polls(), 1);
    let spins = registry.stats("spins").unwrap();
    assert_eq!(spins.blocked_polls(), 0);
    assert_eq!(spins.slow_polls(), 1);
    // The sampled polls' CPU share: next to none for the sleep, most of
    // the spin (the same "more than half" that told it was not blocked).
    assert!(
        sleeps.cpu_share().unwrap() < 0.5,
        "{:?}",
        sleeps.cpu_share()
    );
    assert!(spins.cpu_share().unwrap() > 0.5, "{:?}", spins.cpu_share());
    let report = registry.report().to_string();
    assert!(
        report.contains(", 1 slow poll, 1 blocked poll, cpu "),
        "{report}"
    );
}

#[tokio::test]
async fn without_sampling_nothing_is_called_blocked() {
    let registry = Registry::new();
    registry
        .timer("sleeps")
        .time(async { std::thread::sleep(Duration::from_millis(2)) })
        .await;
    assert_eq!(registry.stats("sleeps").unwrap().blocked_polls(), 0);
}

#[tokio::test]
async fn the_thread_cpu_clock_leaves_blocked_time_out_of_busy_time() {
    let registry = Registry::builder()
        .clock(Clock::thread_cpu())
        .build()
        .unwrap();
    registry
        .timer("mixed")
        .time(async {
            spin(Duration::from_millis(2));
            std::thread::sleep(Duration::from_millis(20)); // blocked, not running
        })
        .await;
    let busy = registry.stats("mixed").unwrap().total();
    assert!(busy >= Duration::from_millis(1), "{busy:?}");
    assert!(busy < Duration::from_millis(15), "{busy:?}");
}
