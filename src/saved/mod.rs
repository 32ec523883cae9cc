//! Saved runs (feature `save`): a program run kept as one line of JSON,
//! appended to a file, read back exactly, and compared or merged later
//! (the `perf-timer` command of the `perf-timer-cli` package reads them).
//!
//! Save the global registry's run when the program ends with
//! [`ExitReport::save_to`](crate::ExitReport::save_to), or without a code
//! change with the environment variable `PERF_TIMER_SAVE=path` in any
//! program that calls [`report_at_exit`](crate::report_at_exit). Labels
//! come from [`ExitReport::label`](crate::ExitReport::label) and
//! `PERF_TIMER_LABELS=commit=abc123,branch=main`.
//!
//! ```
//! use std::time::Duration;
//! use perf_timer::saved::{self, SavedRun};
//!
//! let path = std::env::temp_dir().join(format!("perf-timer-doc-mod-{}.jsonl", std::process::id()));
//! let registry = perf_timer::Registry::new();
//! registry.timer("db.get").record(Duration::from_micros(250));
//! SavedRun::capture(&registry).label("commit", "abc123").append_to(&path).unwrap();
//!
//! let file = saved::read(&path).unwrap();
//! let run = &file.runs[0];
//! assert_eq!(run.info().labels["commit"], "abc123");
//! assert_eq!(run.snapshot().get("db.get").unwrap().count(), 1);
//! # std::fs::remove_file(&path).unwrap();
//! ```
//!
//! # The line
//!
//! One JSON object per run, on one line (schema 3):
//!
//! | field | what |
//! |---|---|
//! | `perf_timer` | the schema version, `3`; a reader skips lines of a newer one (schema 2 lacks `slowest` and `paths`, schema 1 also calls `count` `runs`; both read) |
//! | `time`, `unix_ms` | when the run was saved: RFC 3339 in UTC, and milliseconds since 1970 |
//! | `program`, `args` | `argv[0]`, and the arguments after it |
//! | `host`, `pid` | the machine's host name, the process id |
//! | `version` | the perf-timer version that saved it |
//! | `labels` | an object of strings |
//! | `settings` | `clock`, `lowest_ns`, `highest_ns`, `significant_figures` (the histograms' range and precision), `quantiles` (the report's), `switched_off` |
//! | `process` | `cpu_ns`, `wall_ns`, `self_busy_ns` of the exit report's last line, or `null` |
//! | `timers` | one object per timer, sorted by name |
//! | `paths` | left out when empty: the nesting paths, each `{path: [names from the outermost], runs, self_busy_ns, parked_ns}` ([`Snapshot::folded`](crate::Snapshot::folded)'s data) |
//!
//! Each timer: `name`; `totals`, every counter in nanoseconds or counts
//! (`count`, the completed runs, `busy_nanos`, `idle_nanos`, `nested_nanos`, `polls`, `errors`,
//! `clamped`, `clamped_nanos` (what clamping took off the runs past the
//! range, for `poll_total`), `longest_poll`, `cancelled`, `panicked`, `slow_polls`,
//! `blocked_polls`, `abandoned_nanos`, `in_flight`, `in_flight_nanos`,
//! `sampled_polls`, `sampled_wall_nanos`, `sampled_cpu_nanos`, `bytes`); `busy` and
//! `wall`, the distributions of busy and wall time per run in nanoseconds
//! as HdrHistogram's V2 compressed encoding in base64 (what
//! `HdrHistogram.decode` in Python's `hdrh`, `Histogram.decodeFromCompressedByteBuffer`
//! in Java and `hdr_log_decode` in C read); `scheduled`, `null` or
//! `{total_ns, histogram}` for scheduling delays; `slowest`, left out when
//! none were kept, the slowest runs, slowest first, each `{wall_ns,
//! busy_ns, self_ns, idle_untimed_ns, ended_unix_ns, trace_id, error,
//! parts: [{name, busy_ns, idle_ns, runs}]}` ([`Stats::slowest`](crate::Stats::slowest)). Sums are exact; the
//! histograms' buckets are the registry's own, so a run read back is the
//! run saved, figure for figure.
//!
//! # Several processes, one file
//!
//! [`SavedRun::append_to`] writes each line whole with one `write` in
//! append mode under an exclusive file lock (`File::lock`): runs saved at once by many
//! processes never tear each other. [`read`] skips a line that is not a
//! saved run (torn by a crash, from another tool, from a newer version)
//! and lists it with its line number in [`SavedFile::skipped`].

mod encode;
mod error;
mod file;
pub(crate) mod line;
mod run;
mod why;

pub use error::{LineProblem, SavedError};
pub use file::{read, read_lazily, LazyFile, LazyRun, SavedFile, Skipped};
pub(crate) use run::label_warnings;
pub use run::{RunInfo, SavedRun};

/// The media type of a saved run's line sent over HTTP:
/// `export::metrics_route` answers it (with the feature `axum`), and the
/// `perf-timer top` command asks for it.
///
/// ```
/// assert_eq!(perf_timer::saved::MEDIA_TYPE, "application/vnd.perf-timer.run+json");
/// ```
pub const MEDIA_TYPE: &str = "application/vnd.perf-timer.run+json";

/// The schema this version writes, and the newest it reads. Schema 2 names
/// a timer's completed runs `count` (as `Stats::count` does), where schema
/// 1 said `runs`; both read.
///
/// ```
/// assert_eq!(perf_timer::saved::SCHEMA, 3);
/// ```
pub const SCHEMA: u64 = 3;
