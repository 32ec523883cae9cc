//! What went wrong, as a sentence that says what to do (exit status 2).

use std::path::PathBuf;

use perf_timer::saved::SavedError;

/// Every failure of a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A saved-run file could not be read.
    #[error("{0}")]
    Saved(#[from] SavedError),
    /// `top` could not read its source.
    #[error(transparent)]
    Top(#[from] crate::top::source::SourceError),
    /// `--run N` beyond the file's runs.
    #[error("{} holds {runs} run(s), so there is no run {run}: give --run 1 to --run {runs}", path.display())]
    NoSuchRun {
        path: PathBuf,
        run: usize,
        runs: usize,
    },
    /// `--label k=v` matched no run.
    #[error("no run in {} has the label {label}: `perf-timer report {} --run N` names run N's labels", path.display(), path.display())]
    NoLabel { path: PathBuf, label: String },
    /// The run asked for: its header reads but its timers do not.
    #[error("{} line {line} does not read: {source}", path.display())]
    BadRun {
        path: PathBuf,
        line: usize,
        source: SavedError,
    },
    /// A file whose runs' headers read but none of whose runs does.
    #[error(
        "{} holds {runs} saved run(s) and none reads; line {line}: {source}",
        path.display()
    )]
    NoReadableRun {
        path: PathBuf,
        runs: usize,
        line: usize,
        source: SavedError,
    },
    /// `--timer NAME` matched no timer.
    #[error("no timer is named {name:?}{}", known_list(known))]
    NoTimer { name: String, known: Vec<String> },
    /// The two sides of a comparison were timed with different clocks.
    #[error(
        "{} was timed with {} and {} with {}: their busy times are not comparable; \
         give --allow-mixed-clocks to compare them anyway",
        base.display(), list(base_clocks), new.display(), list(new_clocks)
    )]
    MixedClocks {
        base: PathBuf,
        base_clocks: Vec<String>,
        new: PathBuf,
        new_clocks: Vec<String>,
    },
    /// The runs to merge were timed with different clocks.
    #[error(
        "the runs to merge were timed with different clocks ({}): their busy times do not \
         add up; give --allow-mixed-clocks to merge them anyway",
        clocks.join(", ")
    )]
    MergeMixedClocks { clocks: Vec<String> },
    /// The merged run would be appended to one of the files it merges.
    #[error(
        "{} is one of the files to merge: the merged run appended to it would sit beside the \
         runs it holds, and diff, plot and html would count them twice; write it to another \
         file with -o",
        path.display()
    )]
    MergeIntoInput { path: PathBuf },
    /// An output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// An argument the command cannot use.
    #[error("{0}")]
    Usage(String),
}

fn known_list(known: &[String]) -> String {
    match known.len() {
        0 => ": the runs have no timers".to_owned(),
        n if n <= 12 => format!("; the timers are: {}", known.join(", ")),
        n => format!("; there are {n} timers, e.g. {}", known[..12].join(", ")),
    }
}

fn list(clocks: &[String]) -> String {
    match clocks {
        [] => "an unknown clock".to_owned(),
        [one] => one.clone(),
        many => format!("several clocks ({})", many.join(", ")),
    }
}
