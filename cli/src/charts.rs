//! What a chart shows: which timers of which files, chosen from the
//! command's arguments.

use std::collections::BTreeMap;

use perf_timer::Stats;

use crate::error::CliError;
use crate::load::Side;
use crate::plot::{Bars, Curve};

/// At most this many lines in one percentile chart: the timers with the
/// most busy time.
const MOST_CURVES: usize = 10;

/// At most this many runs of one file drawn a line each; a file of more is
/// drawn merged only.
pub const MOST_RUN_LINES: usize = 20;

/// The percentile chart's title and lines: `timer` in every file; or,
/// without it, every timer of one file, or the one timer several files
/// have.
pub fn curves(sides: &[Side], timer: Option<&str>) -> Result<(String, Vec<Curve>), CliError> {
    let known = || {
        let mut names: Vec<String> = sides
            .iter()
            .flat_map(|s| s.snapshot.iter().map(|t| t.name().to_owned()))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    };
    if let (Some(name), [side]) = (timer, sides) {
        if side.runs() > 1 && side.runs() <= MOST_RUN_LINES {
            // One file of several runs: a line per run.
            let curves: Vec<Curve> = (side.each_run_of(&[name], MOST_RUN_LINES)?.into_iter())
                .filter_map(|(number, mut timers)| {
                    let stats = timers.pop()?;
                    let info = &side.infos[number - 1];
                    let label = match info.labels.is_empty() {
                        true => format!("run {number}"),
                        false => {
                            format!(
                                "run {number} ({})",
                                crate::labels::labels_text(&info.labels)
                            )
                        }
                    };
                    Some(Curve {
                        label,
                        stats,
                        runs: Vec::new(),
                    })
                })
                .collect();
            if !curves.is_empty() {
                return Ok((
                    format!("busy time of {name:?} by percentile, run by run"),
                    curves,
                ));
            }
        }
    }
    if let Some(name) = timer {
        let mut curves = Vec::new();
        for side in sides {
            curves.extend(curve(side, name, &run_lines(side, &[name])?));
        }
        if curves.is_empty() {
            return Err(CliError::NoTimer {
                name: name.to_owned(),
                known: known(),
            });
        }
        return Ok((format!("busy time of {name:?} by percentile"), curves));
    }
    if let [side] = sides {
        let mut timers: Vec<&Stats> = side.snapshot.iter().filter(|s| s.count() > 0).collect();
        if timers.is_empty() {
            return Err(CliError::Usage(format!(
                "{} has no timer with runs to draw",
                side.describe()
            )));
        }
        timers.sort_by_key(|s| std::cmp::Reverse(s.total()));
        timers.truncate(MOST_CURVES);
        let curves = timers
            .into_iter()
            .map(|stats| Curve {
                label: stats.name().to_owned(),
                stats: stats.clone(),
                runs: Vec::new(),
            })
            .collect();
        return Ok((
            format!("busy time by percentile: {}", side.describe()),
            curves,
        ));
    }
    match known().as_slice() {
        [only] => curves(sides, Some(only)),
        names => {
            // A dozen names say what to type; a thousand fill the screen.
            let listed = match names.len() {
                n if n <= 12 => names.join(", "),
                n => format!("{n} timers, e.g. {}", names[..12].join(", ")),
            };
            Err(CliError::Usage(format!(
                "several files hold several timers: choose the one to compare with --timer NAME ({listed})"
            )))
        }
    }
}

/// Per timer, its stats in each run of one file, in run order: the lines
/// drawn beside the file's merged line.
pub type RunLines = BTreeMap<String, Vec<Stats>>;

/// The run lines of `names` in `side`, read in one pass over its file
/// (each run decoded once, only the named timers), where the file holds
/// several runs and at most [`MOST_RUN_LINES`]; empty otherwise.
pub fn run_lines(side: &Side, names: &[&str]) -> Result<RunLines, CliError> {
    let mut lines = RunLines::new();
    if side.runs() > 1 && side.runs() <= MOST_RUN_LINES {
        for (_, timers) in side.each_run_of(names, MOST_RUN_LINES)? {
            for stats in timers {
                lines
                    .entry(stats.name().to_owned())
                    .or_default()
                    .push(stats);
            }
        }
    }
    Ok(lines)
}

/// `name`'s line for one file: its runs merged, and each run's own from
/// `lines` (see [`run_lines`]). `None` where the file has no completed run
/// of it.
pub fn curve(side: &Side, name: &str, lines: &RunLines) -> Option<Curve> {
    let stats = side.snapshot.get(name).filter(|s| s.count() > 0)?;
    Some(Curve {
        label: side.name(),
        stats: stats.clone(),
        runs: lines.get(name).cloned().unwrap_or_default(),
    })
}

/// Self busy time per timer and file, largest first (by the largest of its
/// files), at most `most` timers; timers without runs in every file left
/// out. Also how many timers there were.
pub fn bars(sides: &[Side], most: usize) -> (Bars, usize) {
    let mut names: Vec<&str> = sides
        .iter()
        .flat_map(|s| {
            s.snapshot
                .iter()
                .filter(|t| t.count() > 0)
                .map(|t| t.name())
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut rows: Vec<(String, Vec<u64>)> = names
        .into_iter()
        .map(|name| {
            let values = sides
                .iter()
                .map(|side| {
                    side.snapshot.get(name).map_or(0, |s| {
                        s.self_time().total().as_nanos().min(u128::from(u64::MAX)) as u64
                    })
                })
                .collect();
            (name.to_owned(), values)
        })
        .collect();
    rows.sort_by_key(|(_, values)| std::cmp::Reverse(values.iter().copied().max()));
    let all = rows.len();
    rows.truncate(most);
    let bars = Bars {
        series: sides.iter().map(Side::name).collect(),
        rows,
    };
    (bars, all)
}
