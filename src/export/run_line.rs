//! The saved-run line [`metrics_route`](super::metrics_route) answers
//! `perf-timer top` with, made at the cost of what changed: each timer's
//! JSON is kept with the version of the timer it was read at (its
//! counters, read without copying a histogram), and a timer whose version
//! has not moved since the last answer is not read again. A busy timer is
//! read and written as before; an idle one costs a lock per stripe.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::registry::Registry;
use crate::saved::{line, RunInfo};
use crate::state::timer::TimerVersion;

/// One route's last answer, timer by timer.
#[derive(Default)]
pub(crate) struct RunLines {
    timers: Mutex<HashMap<Arc<str>, Written>>,
}

/// A timer as last written.
struct Written {
    version: TimerVersion,
    json: String,
    self_busy: Duration,
}

impl RunLines {
    /// `registry` now as one saved-run line (no line ending), the same as
    /// `SavedRun::capture(registry).to_uncompressed_json_line()` would be.
    pub(crate) fn line(&self, registry: &Registry) -> String {
        let timers = registry.listed_timers();
        // A panic while writing cannot leave an entry half made (each is
        // inserted whole): a poisoned map is still good.
        let mut kept = crate::poison::lock(&self.timers);
        let mut written = HashMap::with_capacity(timers.len());
        let mut self_busy = Duration::ZERO;
        for timer in &timers {
            // The version first: if the timer moves while it is read, the
            // next answer sees another version and reads it again.
            let version = timer.version();
            let entry = match kept.remove(timer.name()) {
                Some(entry) if entry.version == version => entry,
                _ => {
                    let stats = timer.stats();
                    Written {
                        version,
                        json: line::plain_timer(&stats),
                        self_busy: stats.self_poll_total(),
                    }
                }
            };
            self_busy += entry.self_busy;
            written.insert(timer.core().name.clone(), entry);
        }
        let info = RunInfo::of_registry(registry, registry.process_with(self_busy));
        let mut out = line::head(
            &info,
            line::layout_of(registry.layout(), timers.len()),
            registry.quantiles(),
            !registry.is_enabled(),
        );
        for (i, timer) in timers.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&written[timer.name()].json);
        }
        out.push_str("]}");
        *kept = written;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saved::SavedRun;

    /// The line's timers, as the line writes them.
    fn timers_of(line: &str) -> &str {
        &line[line.find("\"timers\":").unwrap()..]
    }

    /// Timer by timer, what `capture` writes, whether a timer was read
    /// again or kept: after runs in some timers, a new timer, a slow poll.
    #[test]
    fn the_line_is_what_capture_writes_with_timers_kept_or_read_again() {
        let registry = Registry::new();
        let lines = RunLines::default();
        let (a, b) = (registry.timer("a"), registry.timer("b"));
        a.record(Duration::from_micros(10));
        let check = |lines: &RunLines| {
            let line = lines.line(&registry);
            let captured = SavedRun::capture(&registry).to_uncompressed_json_line();
            assert_eq!(timers_of(&line), timers_of(&captured));
            let read = SavedRun::from_json_line(&line).unwrap();
            assert_eq!(read.info().pid, std::process::id());
            assert!(read.info().clock.is_some());
            read
        };
        check(&lines);
        check(&lines); // nothing moved: every timer kept
        b.record(Duration::from_millis(2));
        let read = check(&lines);
        assert_eq!(read.snapshot().get("b").unwrap().count(), 1);
        assert_eq!(read.snapshot().get("a").unwrap().count(), 1);
        registry.timer("c").record(Duration::from_micros(3));
        a.record(Duration::from_micros(30));
        let read = check(&lines);
        assert_eq!(read.snapshot().get("a").unwrap().count(), 2);
        assert_eq!(
            read.info().process.as_ref().unwrap().self_busy(),
            Duration::from_micros(10 + 30 + 3) + Duration::from_millis(2)
        );
        // A slow poll alone: the timer is read again.
        a.core()
            .recorder
            .count(crate::record::Event::SlowPoll(5_000));
        let read = check(&lines);
        assert_eq!(read.snapshot().get("a").unwrap().slow_polls(), 1);
        // A scheduling delay alone changes the timer's version too.
        let version = a.version();
        a.core().record_scheduled(1);
        assert_ne!(a.version(), version);
    }
}
