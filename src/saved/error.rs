//! `SavedError`: why a saved run could not be written or read.

use std::path::PathBuf;

/// Why a saved run could not be written or read back. Every message says
/// what was wrong and what to do.
///
/// ```
/// let error = perf_timer::saved::read("/no/such/runs.jsonl").unwrap_err();
/// assert!(matches!(error, perf_timer::saved::SavedError::Io { .. }));
/// assert!(error.to_string().starts_with("cannot read /no/such/runs.jsonl"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SavedError {
    /// The file could not be opened, read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// `read` or `append to`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file holds no saved run at all (empty, or only skipped lines).
    #[error(
        "{path} holds no saved run ({skipped} line(s) skipped{first}): save one with \
         `report_at_exit().save_to(path)` or PERF_TIMER_SAVE=path",
        first = first.as_ref().map(|f| format!("; {f}")).unwrap_or_default()
    )]
    NoRuns {
        /// The file.
        path: PathBuf,
        /// Lines that were not saved runs.
        skipped: usize,
        /// Why the first of them was skipped, with its line number.
        first: Option<String>,
    },
    /// A line is not a saved run: not JSON, not ours, or damaged.
    #[error(
        "not a saved run: {}{problem}",
        timer.as_ref().map(|t| format!("timer {t:?}: ")).unwrap_or_default()
    )]
    Malformed {
        /// The timer whose part of the line is damaged, if it is in one.
        timer: Option<String>,
        /// What is wrong.
        problem: LineProblem,
    },
    /// A line was written by a newer perf-timer, whose schema this one
    /// cannot read.
    #[error(
        "saved with schema {found}, newer than this perf-timer reads ({supported}): \
         read it with a newer perf-timer"
    )]
    NewerSchema {
        /// The line's schema.
        found: u64,
        /// The newest schema this version reads.
        supported: u64,
    },
}

/// What is wrong with a line that is not a saved run
/// ([`SavedError::Malformed`]).
///
/// ```
/// use perf_timer::saved::{LineProblem, SavedError, SavedRun};
///
/// let error = SavedRun::from_json_line("{}").unwrap_err();
/// assert!(matches!(error, SavedError::Malformed { problem: LineProblem::NotOurs, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LineProblem {
    /// The line is not JSON; what the parser said.
    #[error("not JSON ({0})")]
    NotJson(String),
    /// JSON, without our schema field.
    #[error("JSON, but not written by perf-timer (no \"perf_timer\" schema field)")]
    NotOurs,
    /// A field is missing or of the wrong type: where in the run
    /// (`settings.lowest_ns`, `timers[2].busy`; empty for the line itself)
    /// and what the JSON reader said.
    #[error("{}{problem}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    Shape {
        /// The field's path in the line.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The run's histogram settings do not make a histogram.
    #[error("settings: {0}")]
    Settings(crate::error::ConfigError),
    /// A quantile outside 0..=1.
    #[error("a quantile is not in 0..=1")]
    Quantile,
    /// An encoded histogram does not decode; how.
    #[error("a histogram {0}")]
    Histogram(String),
    /// A histogram counted in a layout other than its run's.
    #[error(
        "a histogram has a lowest value or precision ({found_lowest} ns, {found_figures} figures) \
         other than its run's ({lowest} ns, {figures} figures)"
    )]
    HistogramLayout {
        /// The histogram's lowest discernible value, in nanoseconds.
        found_lowest: u64,
        /// The histogram's significant figures.
        found_figures: u8,
        /// The run's.
        lowest: u64,
        /// The run's.
        figures: u8,
    },
    /// The same timer twice in one run.
    #[error("a timer is listed twice")]
    TimerTwice,
    /// A timer's busy histogram and its totals disagree on its runs.
    #[error("its busy histogram counts {counted} runs, its totals {runs}")]
    RunsDisagree {
        /// Runs in the histogram.
        counted: u64,
        /// Runs in the totals.
        runs: u64,
    },
    /// A timer's histogram of bytes allocated per run and its totals
    /// disagree on the runs whose allocations were counted.
    #[error("its histogram of bytes allocated per run counts {counted} runs, its totals {runs}")]
    AllocatedRunsDisagree {
        /// Runs in the histogram.
        counted: u64,
        /// Runs in the totals (`alloc_runs`).
        runs: u64,
    },
}

impl From<LineProblem> for SavedError {
    fn from(problem: LineProblem) -> Self {
        SavedError::Malformed {
            timer: None,
            problem,
        }
    }
}
