//! `perf-timer merge`: runs from many processes or machines as one run,
//! histograms added exactly.

use std::collections::BTreeMap;
use std::path::Path;

use perf_timer::saved::SavedRun;
use perf_timer::Snapshot;

use crate::error::CliError;
use crate::load;

/// Every run of `paths` as one saved run, appended to `out`. Its labels are
/// those every merged run shares, plus `merged_runs` and `merged_hosts`.
pub fn merge(paths: &[impl AsRef<Path>], out: &Path) -> Result<SavedRun, CliError> {
    let mut runs = Vec::new();
    for path in paths {
        runs.extend(load::runs(path.as_ref())?);
    }
    let snapshot = Snapshot::merge(runs.iter().map(SavedRun::snapshot));
    let mut merged = SavedRun::of_snapshot(snapshot);
    for (key, value) in shared_labels(&runs) {
        merged = merged.label(key, value);
    }
    let mut hosts: Vec<&str> = runs.iter().map(|r| r.info().host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    merged = merged
        .label("merged_runs", runs.len().to_string())
        .label("merged_hosts", hosts.join(","));
    merged.append_to(out)?;
    Ok(merged)
}

/// The labels with one value in every run.
fn shared_labels(runs: &[SavedRun]) -> BTreeMap<String, String> {
    let Some((first, rest)) = runs.split_first() else {
        return BTreeMap::new();
    };
    let mut shared = first.info().labels.clone();
    for run in rest {
        shared.retain(|k, v| run.info().labels.get(k) == Some(v));
    }
    shared
}
