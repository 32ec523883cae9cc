//! `perf-timer report`: a saved run's report, as the program printed it at
//! exit.

use std::path::Path;

use perf_timer::saved::SavedRun;

use crate::error::CliError;
use crate::load;

/// The report lines of the chosen run (`run` from 1 among those with every
/// label of `labels`; default the last). Only that run's timers are
/// decoded: the others' headers are read to number and filter them.
pub fn report(
    path: &Path,
    run: Option<usize>,
    labels: &[(String, String)],
    grouped: bool,
) -> Result<Vec<String>, CliError> {
    let (mut count, mut chosen) = (0, None);
    load::each_run(path, |lazy| {
        if load::has_labels(lazy.info(), labels) {
            count += 1;
            if run.is_none_or(|n| n == count) {
                chosen = Some(lazy);
            }
        }
        Ok(())
    })?;
    if count == 0 {
        let label = crate::labels::labels_text(labels.iter().map(|(k, v)| (k, v)));
        return Err(CliError::NoLabel {
            path: path.to_owned(),
            label,
        });
    }
    let (Some(chosen), index) = (chosen, run.unwrap_or(count)) else {
        return Err(CliError::NoSuchRun {
            path: path.to_owned(),
            run: run.unwrap_or(0),
            runs: count,
        });
    };
    if run.is_none() && count > 1 {
        let with = match labels {
            [] => String::new(),
            labels => {
                let labels = crate::labels::labels_text(labels.iter().map(|(k, v)| (k, v)));
                format!(" with {labels}")
            }
        };
        note!(
            "perf-timer: {} holds {count} runs{with}; this is run {count}, the last (--run N for \
             another; `perf-timer merge` makes one run of them)",
            path.display()
        );
    }
    let (chosen, index) = match (load::decode(path, &chosen), run) {
        (Ok(read), _) => (read, index),
        // Asked for by number: that run or an error, never another.
        (Err(e), Some(_)) => return Err(e),
        (Err(e), None) => {
            let line = chosen.line();
            match last_readable(path, labels, line)? {
                Some(found) => {
                    note!("perf-timer: {e}; reporting the last run that reads");
                    found
                }
                None => return Err(e),
            }
        }
    };
    note!("perf-timer: run {index}: {}", describe(&chosen));
    Ok(lines(&chosen, grouped))
}

/// The last run with `labels` before line `before` that reads, and its
/// number among the runs with those labels: a second pass, made only when
/// the last run is damaged. Each run that does not read is said.
fn last_readable(
    path: &Path,
    labels: &[(String, String)],
    before: usize,
) -> Result<Option<(SavedRun, usize)>, CliError> {
    let (mut count, mut found) = (0, None);
    load::each_run(path, |lazy| {
        if load::has_labels(lazy.info(), labels) && lazy.line() < before {
            count += 1;
            match load::decode(path, &lazy) {
                Ok(read) => found = Some((read, count)),
                Err(e) => note!("perf-timer: {e}"),
            }
        }
        Ok(())
    })?;
    Ok(found)
}

/// When, where and with which labels a run was saved, on one line.
fn describe(run: &SavedRun) -> String {
    let info = run.info();
    let mut text = format!(
        "{}, {} on {} (pid {})",
        info.time_rfc3339(),
        info.program,
        info.host,
        info.pid
    );
    if !info.labels.is_empty() {
        let labels = crate::labels::labels_text(&info.labels);
        text.push_str(&format!(", labels {labels}"));
    }
    text
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
