//! What went wrong, as a sentence that says what to do (exit status 2).

use std::fmt;
use std::path::PathBuf;

use perf_timer::saved::SavedError;

/// Every failure of a command.
#[derive(Debug)]
pub enum CliError {
    /// A saved-run file could not be read.
    Saved(SavedError),
    /// `--run N` beyond the file's runs.
    NoSuchRun {
        path: PathBuf,
        run: usize,
        runs: usize,
    },
    /// `--label k=v` matched no run.
    NoLabel { path: PathBuf, label: String },
    /// `--timer NAME` matched no timer.
    NoTimer { name: String, known: Vec<String> },
    /// An argument the command cannot use.
    Usage(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Saved(e) => write!(f, "{e}"),
            CliError::NoSuchRun { path, run, runs } => write!(
                f,
                "{} holds {runs} run(s), so there is no run {run}: give --run 1 to --run {runs}",
                path.display()
            ),
            CliError::NoLabel { path, label } => write!(
                f,
                "no run in {} has the label {label}: `perf-timer report {} --run N` names run N's labels",
                path.display(),
                path.display()
            ),
            CliError::NoTimer { name, known } => {
                write!(f, "no timer is named {name:?}")?;
                match known.len() {
                    0 => write!(f, ": the runs have no timers"),
                    n if n <= 12 => write!(f, "; the timers are: {}", known.join(", ")),
                    n => write!(f, "; there are {n} timers, e.g. {}", known[..12].join(", ")),
                }
            }
            CliError::Usage(what) => write!(f, "{what}"),
        }
    }
}

impl From<SavedError> for CliError {
    fn from(e: SavedError) -> Self {
        CliError::Saved(e)
    }
}
