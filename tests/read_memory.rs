//! What reading costs in memory, counted by a global allocator: a snapshot
//! and its report take at most twice what the recorders they read hold,
//! and keeping intervals does not pile up. Each test counts its own thread
//! only.

use std::time::Duration;

use perf_timer::Registry;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{live, peak_during, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// 1,000 timers of 50 runs each, `busy(i)` the i-th run's busy time.
fn thousand_timers(busy: impl Fn(u64) -> Duration) -> Registry {
    let registry = Registry::new();
    for t in 0..1_000 {
        let timer = registry.timer(&format!("timer {t}"));
        for i in 0..50 {
            timer.record(busy(i));
        }
    }
    registry
}

fn check_reading_costs_less_than_keeping(registry: &Registry, per_timer_limit: usize) {
    let recorders = registry.reserved_bytes();
    assert!(
        recorders <= 1_000 * per_timer_limit,
        "recorders hold {recorders} bytes"
    );
    let ((), peak) = peak_during(|| {
        let report = registry.report().to_string();
        assert_eq!(report.lines().count(), 1_000);
    });
    assert!(
        peak <= 2 * recorders,
        "reading took {peak} bytes at its peak; the recorders hold {recorders}"
    );
}

#[test]
fn reading_a_thousand_wide_timers_costs_at_most_twice_keeping_them() {
    // 1 µs .. 1 ms, spread quadratically.
    let registry = thousand_timers(|i| Duration::from_nanos(1_000 + i * i * 400));
    check_reading_costs_less_than_keeping(&registry, 16 * 1024);
}

#[test]
fn reading_a_thousand_narrow_timers_costs_at_most_twice_keeping_them() {
    // 20 .. 40 µs.
    let registry = thousand_timers(|i| Duration::from_nanos(20_000 + i * 400));
    check_reading_costs_less_than_keeping(&registry, 16 * 1024);
}

#[test]
fn intervals_keep_one_snapshot_not_every_one() {
    let registry = thousand_timers(|i| Duration::from_nanos(1_000 + i * i * 400));
    let recorders = registry.reserved_bytes();
    let start = live();
    let mut intervals = registry.intervals();
    let mut active = Vec::new();
    let mut held = Vec::new();
    for round in 0..6 {
        registry
            .timer("timer 0")
            .record(Duration::from_micros(round));
        let interval = intervals.next().unwrap();
        active.push(interval.iter().filter(|s| s.count() > 0).count());
        drop(interval);
        held.push(live());
    }
    assert_eq!(active, [1; 6]);
    // What `Intervals` keeps (the last snapshot) does not grow per interval,
    // and is no more than twice what the recorders hold.
    let growth = held[5] - held[1];
    assert!(growth.unsigned_abs() < 4 * 1024, "{held:?}");
    let kept = held[5] - start;
    assert!(
        kept.unsigned_abs() <= 2 * recorders,
        "{kept} vs {recorders}"
    );
}
