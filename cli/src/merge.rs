//! `perf-timer merge`: runs from many processes or machines as one run,
//! histograms added exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use perf_timer::saved::{LazyRun, SavedError, SavedRun};
use perf_timer::Snapshot;

use crate::error::CliError;
use crate::load;

/// `out` must not be one of `paths` (the same file under any name): the
/// merged run would then sit in the file beside the runs it merges.
fn refuse_input_as_output(paths: &[impl AsRef<Path>], out: &Path) -> Result<(), CliError> {
    // An output that does not exist yet is no input; one that exists is
    // compared by what it resolves to.
    let Ok(out_resolved) = out.canonicalize() else {
        return Ok(());
    };
    for path in paths {
        if path.as_ref().canonicalize().ok().as_ref() == Some(&out_resolved) {
            return Err(CliError::MergeIntoInput {
                path: out.to_owned(),
            });
        }
    }
    Ok(())
}

/// How many runs a run merged before holds (its `merged_runs` label),
/// `None` for a run of one process.
fn merged_count(labels: &BTreeMap<String, String>) -> Option<usize> {
    labels
        .get("merged_runs")?
        .parse()
        .ok()
        .filter(|&n: &usize| n > 0)
}

/// Every run of `paths` that reads as one saved run, appended to `out`.
/// Its labels are those every merged run shares, plus `merged_runs`,
/// `merged_hosts` and `merged_programs`; its clock is theirs, and its
/// program theirs when they share one. Runs timed with different clocks
/// are refused unless `mixed_clocks`: their busy times do not add up. A
/// run merged before counts as the runs it holds (`merged_runs`), from
/// its `merged_hosts` and `merged_programs`. One run is decoded at a time,
/// added to the merge, and let go.
pub fn merge(
    paths: &[impl AsRef<Path>],
    out: &Path,
    mixed_clocks: bool,
) -> Result<SavedRun, CliError> {
    refuse_input_as_output(paths, out)?;
    let mut merged: Option<Snapshot> = None;
    let mut shared: Option<BTreeMap<String, String>> = None;
    let mut hosts: BTreeSet<String> = BTreeSet::new();
    let mut programs: BTreeSet<String> = BTreeSet::new();
    // Each known clock, with the first file that had it.
    let mut clocks: BTreeMap<String, PathBuf> = BTreeMap::new();
    let (mut count, mut unknown_clock) = (0_usize, 0_usize);
    // Runs that counted allocations, and runs with completed runs that
    // did not (no counting allocator): said, as the merged allocations
    // are the former's only.
    let (mut allocations_counted, mut allocations_not) = (0_usize, 0_usize);
    let mut first_error = None;
    for path in paths {
        let path = path.as_ref();
        let read = load::each_readable_run(path, LazyRun::read, |_, run| {
            let info = run.info();
            match &mut shared {
                None => shared = Some(info.labels.clone()),
                Some(shared) => shared.retain(|k, v| info.labels.get(k) == Some(v)),
            }
            // A run merged before counts as the runs it holds, from their
            // hosts and programs (its own are the merge's).
            let held = merged_count(&info.labels);
            let add = |set: &mut BTreeSet<String>, label: &str, own: &String| match info
                .labels
                .get(label)
                .filter(|_| held.is_some())
            {
                Some(list) => set.extend(list.split(',').map(str::to_owned)),
                None => {
                    set.insert(own.clone());
                }
            };
            add(&mut hosts, "merged_hosts", &info.host);
            add(&mut programs, "merged_programs", &info.program);
            let held = held.unwrap_or(1);
            // A merged run of mixed clocks names each: `a+b`.
            let run_clocks = info.clock.as_deref().map(|c| c.split('+'));
            if run_clocks.is_none() {
                unknown_clock += held;
            }
            for clock in run_clocks.into_iter().flatten() {
                clocks
                    .entry(clock.to_owned())
                    .or_insert_with(|| path.to_owned());
                if clocks.len() > 1 && !mixed_clocks {
                    return Err(CliError::MergeMixedClocks {
                        clocks: clocks
                            .iter()
                            .map(|(clock, path)| format!("{clock} in {}", path.display()))
                            .collect(),
                    });
                }
            }
            count += held;
            let timers = run.snapshot().iter();
            if timers.clone().any(|s| s.allocations().is_some()) {
                allocations_counted += held;
            } else if timers.clone().any(|s| s.count() > 0) {
                allocations_not += held;
            }
            merged = Some(match merged.take() {
                None => run.into_snapshot(),
                Some(so_far) => Snapshot::merge([&so_far, run.snapshot()]),
            });
            Ok(())
        });
        // A file none of whose runs reads leaves the others' merge: said,
        // and an error only when no file had a run that reads.
        match read {
            Err(
                e @ (CliError::NoReadableRun { .. } | CliError::Saved(SavedError::NoRuns { .. })),
            ) => {
                note!("perf-timer: {e}; merging the other files");
                first_error.get_or_insert(e);
            }
            other => other?,
        }
    }
    if let (0, Some(e)) = (count, first_error) {
        return Err(e);
    }
    if allocations_counted > 0 && allocations_not > 0 {
        note!(
            "perf-timer: {allocations_not} of the {count} runs counted no allocations (no \
             counting allocator installed): the merged allocations a run are those of the \
             {allocations_counted} that did"
        );
    }
    let mut run = SavedRun::of_snapshot(merged.unwrap_or_else(|| Snapshot::merge([])));
    for (key, value) in shared.unwrap_or_default() {
        run = run.label(key, value);
    }
    let join = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(",");
    run = run
        .label("merged_runs", count.to_string())
        .label("merged_hosts", join(&hosts))
        .label("merged_programs", join(&programs));
    let info = run.info_mut();
    // A clock of its own only where all agree: a merge of mixed clocks
    // (allowed) names them all, so that `diff` still tells it apart.
    // Runs of no known clock (saved before runs named it) beside runs of
    // one: the merge cannot say its clock.
    if unknown_clock > 0 && !clocks.is_empty() {
        note!(
            "perf-timer: {unknown_clock} of the {count} runs do not say their clock: the merged \
             run does not either"
        );
        clocks.clear();
    }
    info.clock = (!clocks.is_empty()).then(|| {
        let names: Vec<&str> = clocks.keys().map(String::as_str).collect();
        names.join("+")
    });
    if let [program] = Vec::from_iter(&programs).as_slice() {
        info.program = (*program).clone();
    } else {
        info.program = format!("{count} runs of {}", join(&programs));
    }
    info.args = Vec::new();
    run.append_to(out)?;
    Ok(run)
}
