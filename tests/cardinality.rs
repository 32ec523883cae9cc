//! Names from user input cannot grow a registry without bound.
//!
//! One test in this binary: tracing caches per call site whether anyone
//! listens, so a second test hitting the same warning from another thread
//! could hide it from this one's subscriber.

mod common;

use std::time::Duration;

use perf_timer::{Registry, OVERFLOW_TIMER};

#[test]
fn a_hundred_thousand_names_stay_within_the_cap() {
    let warnings = common::Warnings::default();
    tracing::subscriber::with_default(warnings.clone(), || {
        let registry = Registry::builder().max_timers(500).build().unwrap();
        let mut at_cap = 0;
        for i in 0..100_000_u64 {
            let name = format!("GET /users/{i}");
            registry
                .timer(&name)
                .record(Duration::from_micros(1 + i % 100));
            if i == 499 {
                at_cap = registry.reserved_bytes();
            }
        }
        let snapshot = registry.snapshot();
        assert_eq!(snapshot.len(), 501, "500 named timers and the overflow one");
        let overflow = snapshot.get(OVERFLOW_TIMER).unwrap();
        assert_eq!(overflow.count(), 99_500, "no sample lost past the cap");
        let total: u64 = snapshot.iter().map(|s| s.count()).sum();
        assert_eq!(total, 100_000);
        // Memory: the overflow timer's chunks, nothing per name past the cap.
        let after = registry.reserved_bytes();
        assert!(after < at_cap + 256 * 1024, "{at_cap} -> {after} bytes");
        // Names seen before the cap keep their own timer.
        assert_eq!(registry.timer("GET /users/7").name(), "GET /users/7");
    });
    let warnings = warnings.0.lock().unwrap();
    assert_eq!(
        warnings.len(),
        1,
        "one warning, not one per name: {warnings:?}"
    );
    assert!(warnings[0].contains("max_timers=500"), "{}", warnings[0]);
}
