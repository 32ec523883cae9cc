//! Slow and blocked polls: the cold path a poll takes only when it ran
//! longer than the registry's threshold, or was sampled for blocking.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::thread::LocalKey;
use std::time::Duration;

/// Lets through at most `per_second` warnings in each second of the
/// registry's clock, and counts the ones it holds back, so that a storm of
/// slow polls cannot flood the log.
#[derive(Debug)]
pub(crate) struct WarnLimiter {
    per_second: u32,
    second: AtomicU64,
    in_second: AtomicU32,
    suppressed: AtomicU64,
}

impl WarnLimiter {
    pub(crate) fn new(per_second: u32) -> Self {
        WarnLimiter {
            per_second,
            second: AtomicU64::new(0),
            in_second: AtomicU32::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(held back since the last warning)` if a warning may go out at
    /// `now_nanos`, `None` if it is held back.
    pub(crate) fn admit(&self, now_nanos: u64) -> Option<u64> {
        let second = now_nanos / 1_000_000_000;
        let current = self.second.load(Relaxed);
        if second > current
            && self
                .second
                .compare_exchange(current, second, Relaxed, Relaxed)
                .is_ok()
        {
            self.in_second.store(0, Relaxed);
        }
        if self.in_second.fetch_add(1, Relaxed) < self.per_second {
            Some(self.suppressed.swap(0, Relaxed))
        } else {
            self.suppressed.fetch_add(1, Relaxed);
            None
        }
    }
}

/// Whether the poll starting now on this thread is sampled for blocking,
/// one in `every`.
pub(crate) fn sample_this_poll(every: u32) -> bool {
    thread_local! {
        static POLLS: Cell<u32> = const { Cell::new(0) };
    }
    one_in(&POLLS, every)
}

/// Counts one more on this thread's `counter`: true once in `every`. A
/// per-thread count needs no shared write.
pub(crate) fn one_in(counter: &'static LocalKey<Cell<u32>>, every: u32) -> bool {
    counter.with(|count| {
        let n = count.get().wrapping_add(1);
        count.set(n);
        n % every == 0
    })
}

/// A poll was blocked inside `poll` if it spent at least `threshold` and
/// more than half its wall time off the CPU.
pub(crate) fn was_blocked(wall: Duration, cpu: Duration, threshold: Duration) -> bool {
    let off_cpu = wall.saturating_sub(cpu);
    off_cpu >= threshold && off_cpu * 2 > wall
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_lets_a_few_through_per_second_and_counts_the_rest() {
        let limiter = WarnLimiter::new(3);
        let second = 1_000_000_000;
        let admitted: Vec<_> = (0..10).map(|i| limiter.admit(5 * second + i)).collect();
        assert_eq!(&admitted[..3], [Some(0), Some(0), Some(0)]);
        assert!(admitted[3..].iter().all(Option::is_none));
        assert_eq!(limiter.admit(6 * second), Some(7));
        assert_eq!(limiter.admit(6 * second + 1), Some(0));
    }

    #[test]
    fn blocked_means_mostly_off_cpu_and_long_enough() {
        let ms = Duration::from_millis;
        let threshold = Duration::from_micros(50);
        assert!(was_blocked(ms(5), Duration::ZERO, threshold));
        assert!(!was_blocked(ms(5), ms(5), threshold));
        assert!(!was_blocked(ms(5), ms(3), threshold)); // mostly running
        assert!(!was_blocked(
            Duration::from_micros(40),
            Duration::ZERO,
            threshold
        ));
    }
}
