//! `perf-timer merge`: runs from many processes or machines as one run,
//! histograms added exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use perf_timer::saved::SavedRun;
use perf_timer::Snapshot;

use crate::error::CliError;
use crate::load;

/// Every run of `paths` as one saved run, appended to `out`. Its labels are
/// those every merged run shares, plus `merged_runs` and `merged_hosts`.
/// One run is decoded at a time, added to the merge, and let go.
pub fn merge(paths: &[impl AsRef<Path>], out: &Path) -> Result<SavedRun, CliError> {
    let mut merged: Option<Snapshot> = None;
    let mut shared: Option<BTreeMap<String, String>> = None;
    let mut hosts: BTreeSet<String> = BTreeSet::new();
    let mut count = 0_usize;
    for path in paths {
        let path = path.as_ref();
        load::each_run(path, |lazy| {
            let run = load::decode(path, &lazy)?;
            let info = run.info();
            match &mut shared {
                None => shared = Some(info.labels.clone()),
                Some(shared) => shared.retain(|k, v| info.labels.get(k) == Some(v)),
            }
            hosts.insert(info.host.clone());
            count += 1;
            merged = Some(match merged.take() {
                None => run.into_snapshot(),
                Some(so_far) => Snapshot::merge([&so_far, run.snapshot()]),
            });
            Ok(())
        })?;
    }
    let mut run = SavedRun::of_snapshot(merged.unwrap_or_else(|| Snapshot::merge([])));
    for (key, value) in shared.unwrap_or_default() {
        run = run.label(key, value);
    }
    let hosts: Vec<String> = hosts.into_iter().collect();
    run = run
        .label("merged_runs", count.to_string())
        .label("merged_hosts", hosts.join(","));
    run.append_to(out)?;
    Ok(run)
}
