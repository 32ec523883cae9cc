//! Slow polls are counted and logged, at most so many warnings a second.
//!
//! One test in this binary: tracing caches per call site whether anyone
//! listens, so another test's thread could hide the warnings from this one.

mod common;

use std::pin::pin;
use std::time::Duration;

use common::*;

#[test]
fn slow_polls_are_counted_and_a_storm_is_rate_limited() {
    let warnings = Warnings::default();
    tracing::subscriber::with_default(warnings.clone(), || {
        let (registry, mock) = mock_registry(); // threshold 50 µs, 10 warnings/s
        let timer = registry.timer("render");
        mock.advance(Duration::from_secs(10));

        // 1,000 slow polls (60 µs) and 1,000 fast ones (40 µs), within one second.
        for _ in 0..1000 {
            let mut fut = pin!(timer.time(Steps::new(&mock, &[us(60), us(40)])));
            while poll_once(fut.as_mut()).is_pending() {}
        }
        let stats = timer.stats();
        assert_eq!(stats.slow_polls(), 1000);
        assert_eq!(stats.longest_poll(), Some(us(60)));
        {
            let warnings = warnings.0.lock().unwrap();
            assert_eq!(warnings.len(), 10, "{warnings:#?}");
            let first = &warnings[0];
            assert!(first.contains("timer=\"render\""), "{first}");
            assert!(first.contains("poll=60µs"), "{first}");
            assert!(first.contains("threshold=50µs"), "{first}");
            assert!(first.contains("suppressed=0"), "{first}");
        }

        // A second later, the next warning says how many were held back.
        mock.advance(Duration::from_secs(1));
        let mut fut = pin!(timer.time(Steps::new(&mock, &[us(80)])));
        assert!(poll_once(fut.as_mut()).is_ready());
        let warnings = warnings.0.lock().unwrap();
        assert_eq!(warnings.len(), 11);
        assert!(warnings[10].contains("suppressed=990"), "{}", warnings[10]);
        assert!(warnings[10].contains("poll=80µs"), "{}", warnings[10]);
        assert!(registry
            .report()
            .to_string()
            .contains(", 1001 slow polls\n"));
    });
}
