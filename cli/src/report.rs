//! `perf-timer report`: a saved run's report, as the program printed it at
//! exit.

use std::path::Path;

use perf_timer::saved::SavedRun;

use crate::error::CliError;
use crate::load;

/// The report lines of the chosen run (`run` from 1; default the last).
pub fn report(
    path: &Path,
    run: Option<usize>,
    labels: &[(String, String)],
    grouped: bool,
) -> Result<Vec<String>, CliError> {
    let runs = load::runs(path)?;
    let runs = if labels.is_empty() {
        runs
    } else {
        load::with_labels(path, runs, labels)?
    };
    let count = runs.len();
    let index = match run {
        None => count,
        Some(n) if (1..=count).contains(&n) => n,
        Some(n) => {
            return Err(CliError::NoSuchRun {
                path: path.to_owned(),
                run: n,
                runs: count,
            })
        }
    };
    if run.is_none() && count > 1 {
        eprintln!(
            "perf-timer: {} holds {count} runs; this is run {count}, the last (--run N for another)",
            path.display()
        );
    }
    Ok(lines(&runs[index - 1], grouped))
}

/// The exit report's lines: one per timer (with group rows, `grouped`),
/// then the process line.
pub fn lines(run: &SavedRun, grouped: bool) -> Vec<String> {
    let report = run.snapshot().clone().into_report();
    let mut lines: Vec<String> = if grouped {
        report.grouped().lines().collect()
    } else {
        report.lines().collect()
    };
    if let Some(process) = &run.info().process {
        lines.push(process.to_string());
    }
    lines
}
