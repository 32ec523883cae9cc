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
    #[error("not a saved run: {0}")]
    Malformed(String),
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
