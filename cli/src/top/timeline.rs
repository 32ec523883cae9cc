//! The readings a view has, and what it shows of them: the rows and the
//! heading of a frame, built once for the plain frames and the
//! full-screen view alike.
//!
//! Readings of one process make intervals. A reading of another process
//! (another host, pid or start) or with a counter gone down is never
//! subtracted from the one before: in a replay, it is a frame of its own
//! figures since its process started; live, it starts a new baseline.

use std::time::Duration;

use perf_timer::SlowRun;

use super::frame::{self, Row, SortBy};
use super::interval_log;
use super::prometheus;
use super::source::{Reading, Taken};

/// What a new reading did to the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// An interval from the reading before: a frame.
    Interval,
    /// A process's first reading in a replay: a frame of its figures
    /// since it started; `restart`: after another process's readings.
    SinceStart { restart: bool },
    /// A reading to measure the next interval from, no frame yet;
    /// `restart`: the service restarted.
    Baseline { restart: bool },
}

/// The readings so far: the baseline, the one before the last, the last.
#[derive(Default)]
pub struct Timeline {
    /// Whether readings come from a file (a new process is then a frame
    /// since its start) rather than live.
    replay: bool,
    first: Option<Taken>,
    then: Option<Taken>,
    now: Option<Taken>,
    /// The next reading starts a new baseline (after a pause).
    rebase: bool,
}

impl Timeline {
    /// An empty timeline; `replay`: readings come from a file.
    pub fn new(replay: bool) -> Self {
        Timeline {
            replay,
            ..Timeline::default()
        }
    }

    /// Adds the next reading.
    pub fn push(&mut self, taken: Taken) -> Change {
        let had = self.now.is_some();
        let rebase = std::mem::take(&mut self.rebase);
        if let Some(now) = &self.now {
            if !rebase && taken.follows(now) {
                self.then = self.now.take();
                self.now = Some(taken);
                return Change::Interval;
            }
        }
        if matches!(taken.reading, Reading::Interval(_)) {
            // A log's interval is a window of its own.
            self.first = None;
            self.then = None;
            self.now = Some(taken);
            return Change::Interval;
        }
        if self.replay {
            if let Some(start) = taken.start_of() {
                self.first = Some(copy(&start));
                self.then = Some(start);
                self.now = Some(taken);
                return Change::SinceStart { restart: had };
            }
        }
        self.first = Some(copy(&taken));
        self.then = None;
        self.now = Some(taken);
        Change::Baseline {
            restart: had && !rebase,
        }
    }

    /// The next reading starts a new baseline: an interval never spans a
    /// pause.
    pub fn rebase(&mut self) {
        self.rebase = true;
    }

    /// Whether there is a frame to show.
    pub fn has_frame(&self) -> bool {
        self.now.is_some() && (self.then.is_some() || self.is_log())
    }

    fn is_log(&self) -> bool {
        matches!(
            self.now.as_ref().map(|n| &n.reading),
            Some(Reading::Interval(_))
        )
    }

    /// The last frame (`cumulative`: since the baseline instead), sorted.
    pub fn frame(&self, sort: SortBy, cumulative: bool) -> Shown {
        let then = if cumulative && !self.is_log() {
            self.first.as_ref()
        } else {
            self.then.as_ref()
        };
        match (then, self.now.as_ref()) {
            (_, Some(now)) if matches!(now.reading, Reading::Interval(_)) => shown(None, now, sort),
            (Some(then), Some(now)) => shown(Some(then), now, sort),
            _ => Shown::default(),
        }
    }

    /// The last interval's rows by name (the full-screen view's history).
    pub fn interval_rows(&self) -> Vec<Row> {
        self.frame(SortBy::Timer, false).rows
    }

    /// The interval's percentile curve of `timer`: quantile and value,
    /// where the readings hold whole histograms.
    pub fn curve(&self, timer: &str) -> Option<Vec<(f64, Duration)>> {
        let quantiles = [0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0];
        let now = self.now.as_ref()?;
        match (&self.then.as_ref()?.reading, &now.reading) {
            (Reading::Run(a), Reading::Run(b)) => {
                let window = b.since(a).get(timer).cloned()?;
                (window.count() > 0)
                    .then(|| quantiles.iter().map(|&q| (q, window.quantile(q))).collect())
            }
            (Reading::Start, Reading::Run(b)) => {
                let stats = b.get(timer)?;
                (stats.count() > 0)
                    .then(|| quantiles.iter().map(|&q| (q, stats.quantile(q))).collect())
            }
            _ => None,
        }
    }

    /// The slowest run of `timer` kept by the service: the slowest that
    /// ended this interval (`true`) when one entered its slowest runs,
    /// else its slowest since its start (`false`). `None` where the
    /// readings carry no runs (a plain Prometheus endpoint, a log) or it
    /// kept none.
    pub fn slowest(&self, timer: &str) -> Option<(SlowRun, bool)> {
        let Reading::Run(now) = &self.now.as_ref()?.reading else {
            return None;
        };
        let stats = now.get(timer)?;
        if let Some(Reading::Run(then)) = self.then.as_ref().map(|t| &t.reading) {
            let earlier = then.get(timer);
            let new = (stats.slowest().iter())
                .find(|run| earlier.is_none_or(|e| !e.slowest().contains(run)));
            if let Some(run) = new {
                return Some((run.clone(), true));
            }
        }
        stats.slowest().first().map(|run| (run.clone(), false))
    }

    /// Whether the readings are a plain Prometheus endpoint's.
    pub fn is_buckets(&self) -> bool {
        matches!(
            self.now.as_ref().map(|n| &n.reading),
            Some(Reading::Buckets(_))
        )
    }
}

/// What a frame shows: its rows, and its heading's parts (what span, how
/// many timers, how busy, notes).
#[derive(Debug, Default)]
pub struct Shown {
    pub rows: Vec<Row>,
    pub heading: Vec<String>,
}

impl Shown {
    /// The frame as plain text: the heading's parts on a line, the table.
    pub fn plain(&self) -> String {
        format!(
            "{}\n{}\n",
            self.heading.join(", "),
            frame::table(&self.rows)
        )
    }
}

/// `n` and `one`, plural past one: `1 timer`, `3 timers`.
pub fn count(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

fn shown(then: Option<&Taken>, now: &Taken, sort: SortBy) -> Shown {
    let elapsed = then.map_or(Duration::ZERO, |t| now.at.saturating_sub(t.at));
    let seconds = elapsed.as_secs_f64();
    let mut notes = Vec::new();
    let (rows, span) = match (then.map(|t| &t.reading), &now.reading) {
        (_, Reading::Interval(interval)) => (
            frame::sorted(interval_log::rows(interval), sort),
            format!(
                "interval log at {:.1} s, {:.2} s long",
                interval.start.as_secs_f64(),
                interval.length.as_secs_f64()
            ),
        ),
        (Some(Reading::Start), Reading::Run(b)) => {
            let whose = now
                .process
                .as_ref()
                .map_or(String::new(), |p| match p.host.as_str() {
                    "" => format!(" (pid {})", p.pid),
                    host => format!(" (pid {} on {host})", p.pid),
                });
            (
                frame::rows(None, b, elapsed, sort),
                format!("since its start {seconds:.2} s{whose}"),
            )
        }
        (Some(Reading::Run(a)), Reading::Run(b)) => (
            frame::rows(Some(a), b, elapsed, sort),
            format!("interval {seconds:.2} s"),
        ),
        (Some(Reading::Buckets(a)), Reading::Buckets(b)) => {
            notes.push(
                "not a perf-timer endpoint: percentiles are bucket bounds (≤), in flight, errors and slow polls unknown (-)"
                    .to_owned(),
            );
            notes.extend(b.notes());
            (
                frame::sorted(
                    prometheus::rows(Some(&a.histograms), &b.histograms, elapsed),
                    sort,
                ),
                format!("interval {seconds:.2} s"),
            )
        }
        _ => (Vec::new(), format!("interval {seconds:.2} s")),
    };
    let cores: f64 = rows.iter().map(|r| r.cores).sum();
    let mut heading = vec![
        span,
        count(rows.len(), "timer"),
        format!("{} cores busy", frame::sig3(cores)),
    ];
    heading.extend(notes);
    Shown { rows, heading }
}

/// A reading kept twice (the baseline and the last).
fn copy(taken: &Taken) -> Taken {
    Taken {
        reading: match &taken.reading {
            Reading::Run(s) => Reading::Run(s.clone()),
            Reading::Buckets(h) => Reading::Buckets(h.clone()),
            Reading::Interval(i) => Reading::Interval(i.clone()),
            Reading::Start => Reading::Start,
        },
        at: taken.at,
        process: taken.process.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::top::source::Process;
    use std::time::SystemTime;

    fn run(registry: &perf_timer::Registry, pid: u32, started_s: u64, at_s: u64) -> Taken {
        Taken {
            reading: Reading::Run(registry.snapshot()),
            at: Duration::from_secs(at_s),
            process: Some(Process {
                host: "h".into(),
                pid,
                started: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(started_s)),
            }),
        }
    }

    /// Live, a reading of another process is a new baseline even when its
    /// counters are higher (a restart within one interval); in a replay,
    /// a frame of its own since its start.
    #[test]
    fn another_process_is_never_subtracted() {
        let before = perf_timer::Registry::new();
        before.timer("job").record(Duration::from_millis(1));
        let after = perf_timer::Registry::new();
        for _ in 0..50 {
            after.timer("job").record(Duration::from_millis(1));
        }
        let mut live = Timeline::new(false);
        assert_eq!(
            live.push(run(&before, 9, 1_000, 10)),
            Change::Baseline { restart: false }
        );
        assert_eq!(live.push(run(&before, 9, 1_000, 11)), Change::Interval);
        // Same pid, higher counters, older: but started 100 s later.
        assert_eq!(
            live.push(run(&after, 9, 1_100, 20)),
            Change::Baseline { restart: true }
        );
        assert!(!live.has_frame());
        let mut replay = Timeline::new(true);
        assert_eq!(
            replay.push(run(&before, 9, 1_000, 10)),
            Change::SinceStart { restart: false }
        );
        assert_eq!(
            replay.push(run(&after, 10, 1_000, 20)),
            Change::SinceStart { restart: true }
        );
        let shown = replay.frame(SortBy::Timer, false);
        assert_eq!(
            shown.rows[0].runs_per_second, 2.5,
            "50 runs in its own 20 s"
        );
        assert!(shown.heading[0].starts_with("since its start 20.00 s (pid 10 on h)"));
        assert_eq!(shown.heading[1], "1 timer");
    }
}
