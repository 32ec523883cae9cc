//! Saved runs from files, read one run at a time: a side keeps its runs
//! merged and, per timer and run, the few figures a comparison needs, never
//! every run's distributions at once. Skipped lines are said on stderr.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use perf_timer::saved::{self, LazyRun, RunInfo, SavedRun};
use perf_timer::{Snapshot, Stats};

use crate::error::CliError;
use crate::evidence::Reading;
use crate::figure::By;

/// Each run of `path` in turn, header first (see
/// [`saved::read_lazily`]); each skipped line said on stderr. A file with
/// no run is an error.
pub fn each_run(
    path: &Path,
    visit: impl FnMut(LazyRun) -> Result<(), CliError>,
) -> Result<(), CliError> {
    runs_of(path, true, visit)
}

/// [`each_run`], saying skipped lines on stderr where `say` (not when the
/// file is read a second time).
fn runs_of(
    path: &Path,
    say: bool,
    mut visit: impl FnMut(LazyRun) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let mut file = saved::read_lazily(path)?;
    // Skipped lines before the first run wait: a file with no run at all
    // is one error that names its first skipped line, not a list of them.
    let (mut any, mut waiting) = (false, Vec::new());
    for line in file.by_ref() {
        match line {
            Ok(run) => {
                if !any {
                    any = true;
                    for skipped in waiting.drain(..).filter(|_| say) {
                        note!("perf-timer: {}: {skipped}", path.display());
                    }
                }
                visit(run)?;
            }
            Err(skipped) if any && say => note!("perf-timer: {}: {skipped}", path.display()),
            Err(_) if any => {}
            Err(skipped) => waiting.push(skipped),
        }
    }
    if !any {
        return Err(file.no_runs().into());
    }
    Ok(())
}

/// A run decoded, or the line's error as the file's: for a run the user
/// chose by number or label, where skipping it would answer another.
pub fn decode(path: &Path, run: &LazyRun) -> Result<SavedRun, CliError> {
    run.read().map_err(|source| CliError::BadRun {
        path: path.to_owned(),
        line: run.line(),
        source,
    })
}

/// Each run of `path` that reads, decoded by `read`, in turn, a run copied
/// into the file more than once visited once. A run whose
/// header reads but whose timers do not (a damaged histogram, a torn copy)
/// is skipped and said on stderr, as a torn line is: one damaged run never
/// takes the file's other runs with it. A file where no run reads is an
/// error that says why the first did not.
pub fn each_readable_run(
    path: &Path,
    read: impl Fn(&LazyRun) -> Result<SavedRun, perf_timer::saved::SavedError>,
    mut visit: impl FnMut(&LazyRun, SavedRun) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let (mut read_any, mut runs, mut first_bad) = (false, 0, None);
    // A run is one observation however often its line was copied (`cat
    // a.jsonl a.jsonl`): the same host, pid, time and figures count once.
    // Its figures too: runs captured by one process within a millisecond
    // share host, pid and time, not their counts.
    let mut seen = std::collections::HashMap::new();
    // Each repeated line, and the line whose run it repeats: said once,
    // after the file.
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    each_run(path, |lazy| {
        runs += 1;
        match read(&lazy) {
            Ok(run) => {
                read_any = true;
                let info = run.info();
                let figures: Vec<(u64, Duration)> = (run.snapshot().iter())
                    .map(|s| (s.count(), s.poll_total()))
                    .collect();
                let id = (info.host.clone(), info.pid, info.time, figures);
                if let Some(&first) = seen.get(&id) {
                    repeats.push((lazy.line(), first));
                    return Ok(());
                }
                seen.insert(id, lazy.line());
                visit(&lazy, run)
            }
            Err(e) => {
                note!(
                    "perf-timer: {}: line {} skipped: {e}",
                    path.display(),
                    lazy.line()
                );
                first_bad.get_or_insert((lazy.line(), e));
                Ok(())
            }
        }
    })?;
    say_repeats(path, &repeats);
    match first_bad {
        Some((line, source)) if !read_any => Err(CliError::NoReadableRun {
            path: path.to_owned(),
            runs,
            line,
            source,
        }),
        _ => Ok(()),
    }
}

/// The lines of `path` that repeated an earlier line's run, each with
/// that line, said on one line of stderr however many.
fn say_repeats(path: &Path, repeats: &[(usize, usize)]) {
    match repeats {
        [] => {}
        [(line, first)] => note!(
            "perf-timer: {}: line {line} is the run of line {first} again (the same host, pid, \
             time and figures): counted once",
            path.display()
        ),
        [.., (last, _)] => {
            let mut lines: Vec<String> = (repeats.iter().take(3))
                .map(|(line, _)| line.to_string())
                .collect();
            if repeats.len() > 4 {
                lines.push("…".to_owned());
            }
            if repeats.len() > 3 {
                lines.push(last.to_string());
            }
            note!(
                "perf-timer: {}: {} repeated runs counted once (lines {} are each the run of an \
                 earlier line again: the same host, pid, time and figures)",
                path.display(),
                repeats.len(),
                lines.join(", ")
            );
        }
    }
}

/// Whether `info` has every label of `labels`.
pub fn has_labels(info: &RunInfo, labels: &[(String, String)]) -> bool {
    labels.iter().all(|(k, v)| info.labels.get(k) == Some(v))
}

/// One timer's figures in one run, as a comparison reads them.
#[derive(Debug, Clone)]
pub struct RunFigures {
    /// Busy time per completed run by the figure compared ([`By`]), in
    /// ns, with the interval the run's own samples allow; `None` without
    /// completed runs.
    pub value: Option<Reading>,
    /// The mean busy time, in ns, with its interval; `None` without
    /// completed runs.
    pub mean: Option<Reading>,
    /// Each report quantile of busy time: (q, ns with its interval);
    /// empty without completed runs.
    pub quantiles: Vec<(f64, Reading)>,
    /// Every poll's time, in ns.
    pub poll_total_ns: f64,
    /// (cancelled, ended), (panicked, ended), (errors, ended).
    pub outcomes: [(u64, u64); 3],
    /// Allocations per completed run, counted with perf-timer's counting
    /// allocator; `None` without it or without completed runs.
    pub allocations: Option<f64>,
}

impl RunFigures {
    /// `None` where the timer did nothing in the run: no sample, no bad
    /// ending, no run in flight, no busy time. `quantiles`: the run's
    /// report quantiles.
    fn of(stats: &Stats, by: By, quantiles: &[f64]) -> Option<RunFigures> {
        // Saturating: a damaged or hostile file may hold any counts.
        let ended = (stats.count())
            .saturating_add(stats.cancelled())
            .saturating_add(stats.panicked());
        let active =
            ended.saturating_add(stats.in_flight()) > 0 || stats.poll_total() > Duration::ZERO;
        if !active {
            return None;
        }
        let quantiles: Vec<(f64, Reading)> = (quantiles.iter())
            .filter_map(|&q| Some((q, By::Quantile(q).reading(stats)?)))
            .collect();
        let value = match by {
            By::Quantile(q) => (quantiles.iter().find(|r| r.0 == q))
                .map(|r| r.1)
                .or_else(|| by.reading(stats)),
            By::Mean => by.reading(stats),
        };
        Some(RunFigures {
            value,
            mean: By::Mean.reading(stats),
            quantiles,
            poll_total_ns: stats.poll_total().as_nanos() as f64,
            outcomes: [
                (stats.cancelled(), ended),
                (stats.panicked(), ended),
                (stats.errors(), ended),
            ],
            allocations: (stats.allocations())
                .filter(|a| a.runs() > 0)
                .map(|a| a.count_per_run()),
        })
    }
}

/// One side of a comparison or a chart: the runs of one file.
pub struct Side {
    pub path: PathBuf,
    /// Each run's header (who, when, labels, clock), in file order.
    pub infos: Vec<RunInfo>,
    /// Each run's line in the file, in file order.
    pub lines: Vec<usize>,
    /// The runs merged.
    pub snapshot: Snapshot,
    /// Per timer: its figures in each run where it did anything.
    pub per_run: BTreeMap<String, Vec<RunFigures>>,
    /// Runs saved before schema 3: they keep no nesting paths, so their
    /// timers are in no flamegraph but as roots of their own.
    pub without_paths: usize,
}

impl Side {
    /// Reads `path` one run at a time; `by` is the figure kept per run.
    pub fn load(path: &Path, by: By) -> Result<Side, CliError> {
        let mut side = Side {
            path: path.to_owned(),
            infos: Vec::new(),
            lines: Vec::new(),
            snapshot: Snapshot::merge([]),
            per_run: BTreeMap::new(),
            without_paths: 0,
        };
        each_readable_run(path, LazyRun::read, |lazy, run| {
            side.without_paths += usize::from(lazy.schema() < 3);
            for stats in run.snapshot().iter() {
                if let Some(figures) = RunFigures::of(stats, by, run.snapshot().quantiles()) {
                    match side.per_run.get_mut(stats.name()) {
                        Some(runs) => runs.push(figures),
                        None => {
                            side.per_run.insert(stats.name().to_owned(), vec![figures]);
                        }
                    }
                }
            }
            side.snapshot = if side.infos.is_empty() {
                run.snapshot().clone()
            } else {
                Snapshot::merge([&side.snapshot, run.snapshot()])
            };
            side.infos.push(run.info().clone());
            side.lines.push(lazy.line());
            Ok(())
        })?;
        Ok(side)
    }

    /// How many runs the file holds.
    pub fn runs(&self) -> usize {
        self.infos.len()
    }

    /// The timers `names` in each of the file's first `most` runs, read
    /// again from the file (one run decoded at a time): for charts that
    /// draw a line per run. Each entry: the run's number from 1, and the
    /// named timers it has, with completed runs.
    pub fn each_run_of(
        &self,
        names: &[&str],
        most: usize,
    ) -> Result<Vec<(usize, Vec<Stats>)>, CliError> {
        let mut found = Vec::new();
        runs_of(&self.path, false, |lazy| {
            // The runs this side read, numbered as it numbers them; only
            // the named timers decoded (the rest of the line is parsed, not
            // inflated).
            let Ok(index) = self.lines.binary_search(&lazy.line()) else {
                return Ok(());
            };
            if index < most {
                let run = lazy.read_timers(names).map_err(|source| CliError::BadRun {
                    path: self.path.clone(),
                    line: lazy.line(),
                    source,
                })?;
                let timers = (names.iter())
                    .filter_map(|name| run.snapshot().get(name))
                    .filter(|s| s.count() > 0)
                    .cloned()
                    .collect();
                found.push((index + 1, timers));
            }
            Ok(())
        })?;
        Ok(found)
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

    /// Why its flamegraph is flat, or flatter than its runs were, where
    /// some of its runs were saved before schema 3 (keeping no nesting
    /// paths); `None` where every run keeps them.
    pub fn flat_because(&self) -> Option<String> {
        let file = self.path.display();
        match self.without_paths {
            0 => None,
            n if n == self.runs() => Some(format!(
                "{file}: its runs keep no nesting paths (saved before schema 3), so the graph is \
                 flat: each timer its own self busy time, none inside another"
            )),
            n => Some(format!(
                "{file}: {n} of its {} runs keep no nesting paths (saved before schema 3): their \
                 timers are drawn flat, each its own self busy time",
                self.runs()
            )),
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
