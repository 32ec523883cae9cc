//! Saved runs from files: every run of each file, or the ones chosen with
//! `--run` and `--label`; skipped lines said on stderr.

use std::path::{Path, PathBuf};

use perf_timer::saved::{self, SavedRun};
use perf_timer::Snapshot;

use crate::error::CliError;

/// The runs of `path`, each skipped line said on stderr.
pub fn runs(path: &Path) -> Result<Vec<SavedRun>, CliError> {
    let file = saved::read(path)?;
    for skipped in &file.skipped {
        eprintln!("perf-timer: {}: {skipped}", path.display());
    }
    Ok(file.runs)
}

/// `k=v`, checked.
pub fn parse_label(text: &str) -> Result<(String, String), CliError> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(CliError::Usage(format!(
            "--label takes key=value (e.g. --label commit=abc123), not {text:?}"
        ))),
    }
}

/// The runs of `path` with every label of `labels`.
pub fn with_labels(
    path: &Path,
    runs: Vec<SavedRun>,
    labels: &[(String, String)],
) -> Result<Vec<SavedRun>, CliError> {
    let kept: Vec<SavedRun> = runs
        .into_iter()
        .filter(|run| {
            labels
                .iter()
                .all(|(k, v)| run.info().labels.get(k) == Some(v))
        })
        .collect();
    if kept.is_empty() {
        let label = labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        return Err(CliError::NoLabel {
            path: path.to_owned(),
            label,
        });
    }
    Ok(kept)
}

/// One side of a comparison or a plot: the runs of one file, merged when
/// there are several.
pub struct Side {
    pub path: PathBuf,
    /// Each run of the file, in file order.
    pub each: Vec<SavedRun>,
    /// The runs merged.
    pub snapshot: Snapshot,
}

impl Side {
    pub fn load(path: &Path) -> Result<Side, CliError> {
        let each = runs(path)?;
        let snapshot = Snapshot::merge(each.iter().map(SavedRun::snapshot));
        Ok(Side {
            path: path.to_owned(),
            each,
            snapshot,
        })
    }

    /// How many runs the file holds.
    pub fn runs(&self) -> usize {
        self.each.len()
    }

    /// The file's name without its folder, and how many runs it holds: for
    /// legends, where space is short.
    pub fn name(&self) -> String {
        let name = (self.path.file_name()).map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        match self.runs() {
            1 => name,
            n => format!("{name} ({n} runs)"),
        }
    }

    /// The file's name for headings and legends, and how many runs merged.
    pub fn describe(&self) -> String {
        match self.runs() {
            1 => self.path.display().to_string(),
            n => format!("{} ({n} runs merged)", self.path.display()),
        }
    }
}
