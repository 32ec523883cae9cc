//! `diff --format json`: schema `perf-timer-diff`, version 2 (README,
//! "JSON output"). Durations in nanoseconds, changes in percent; the
//! figures are the text's (the typical run's), to the nanosecond.

use serde_json::{json, Value};

use super::{Diff, Figures};
use crate::evidence::{self, Call, Doubt};
use crate::figure::By;

/// The schema's version: bumped when a field changes meaning or goes.
/// Version 2: figures are the typical run's (geometric mean over runs of
/// each run's figure), no longer those of all samples merged.
pub const VERSION: u64 = 2;

impl Diff<'_> {
    /// The comparison as one JSON document.
    pub fn json(&self) -> Value {
        let figures = |f: &Figures| {
            let ns = |i: usize| f.busy.get(i).copied().flatten();
            let quantiles: Vec<Value> = (self.shown.iter().enumerate())
                .filter_map(|(i, by)| match by {
                    By::Quantile(q) => Some(json!({ "q": q, "ns": ns(i) })),
                    By::Mean => None,
                })
                .collect();
            json!({
                "runs": f.runs,
                "spread": f.spread(),
                "samples": f.samples,
                "mean_ns": ns(0),
                "quantiles_ns": quantiles,
                "max_ns": ns(self.shown.len()),
                "cancelled": f.outcomes[0],
                "panicked": f.outcomes[1],
                "errors": f.outcomes[2],
                "in_flight": f.in_flight,
                "abandoned_ns": f.abandoned.as_nanos() as u64,
                "poll_total_ns": f.poll_total.as_nanos() as u64,
                "bytes_per_run": f.bytes_per_run,
                "allocations_per_run": f.allocations_per_run,
                "run_allocations_per_run": f.run_allocations,
                "run_values_ns": f.run_values(),
                "run_intervals_ns": (f.run_readings.iter())
                    .map(|r| [r.low, r.high])
                    .collect::<Vec<_>>(),
            })
        };
        let timers: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let change = row.busy.map(|(basis, j)| {
                    let (low, high) = j.interval_percent().unzip();
                    let (doubt, needed, widest) = doubt(j.call);
                    json!({
                        "basis": basis.name(),
                        "percent": j.percent(),
                        "low_percent": low,
                        "high_percent": high,
                        "doubt": doubt,
                        "runs_needed": needed,
                        "widest_run_interval_ns": widest,
                    })
                });
                let worse: Vec<Value> = row
                    .worse
                    .iter()
                    .map(|(o, b, n)| json!({ "outcome": o.as_str(), "base": b, "new": n }))
                    .collect();
                json!({
                    "timer": row.name,
                    "verdict": row.verdict.as_str(),
                    "reason": row.reason(self.threshold),
                    "change": change,
                    "worse_outcomes": worse,
                    "also_moved": (row.also_moved.iter())
                        .map(|(by, percent)| json!({ "figure": by.name(), "percent": percent }))
                        .collect::<Vec<_>>(),
                    // Percent of the base (null from a base of 0, which
                    // has none) and the difference in allocations a run.
                    "allocations_change": row.allocations.map(|j| {
                        let (low, high) = j.interval_percent().unzip();
                        let (low_difference, high_difference) = j.interval.unzip();
                        let (doubt, needed, _) = doubt(j.call);
                        json!({
                            "percent": j.percent().is_finite().then(|| j.percent()),
                            "low_percent": low,
                            "high_percent": high,
                            "difference": j.difference(),
                            "low_difference": low_difference,
                            "high_difference": high_difference,
                            "limit": j.limit,
                            "doubt": doubt,
                            "runs_needed": needed,
                        })
                    }),
                    "base": row.base.as_ref().map(figures),
                    "new": row.new.as_ref().map(figures),
                })
            })
            .collect();
        let summary: serde_json::Map<String, Value> = self
            .counts()
            .into_iter()
            .map(|(v, n)| (v.as_str().to_owned(), json!(n)))
            .collect();
        json!({
            "schema": "perf-timer-diff",
            "version": VERSION,
            "base": { "file": self.base.path.display().to_string(), "runs": self.base.runs() },
            "new": { "file": self.new.path.display().to_string(), "runs": self.new.runs() },
            "threshold_percent": self.threshold,
            "by": self.by.name(),
            "confidence": evidence::CONFIDENCE,
            "single_run_factor": evidence::SINGLE_RUN_FACTOR,
            "notes": self.notes,
            "summary": summary,
            "regressed": self.regressed(),
            "timers": timers,
        })
    }
}

/// An inconclusive call's doubt: its kind, the runs a side that would
/// tell (where known), and the widest run's interval (ns) where single
/// runs are too uncertain; all `None` for a call made.
fn doubt(call: Call) -> (Option<&'static str>, Option<usize>, Option<[f64; 2]>) {
    match call {
        Call::Inconclusive(Doubt::OneRunASide { needed }) => (Some("one run a side"), needed, None),
        Call::Inconclusive(Doubt::TooFewRuns { needed }) => (Some("too few runs"), needed, None),
        Call::Inconclusive(Doubt::RunsUncertain { widest }) => (
            Some("single runs uncertain"),
            None,
            Some([widest.0, widest.1]),
        ),
        Call::Larger | Call::Smaller | Call::Same => (None, None, None),
    }
}
