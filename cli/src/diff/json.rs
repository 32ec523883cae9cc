//! `diff --format json`: schema `perf-timer-diff`, version 1 (README,
//! "JSON output"). Durations in nanoseconds, changes in percent.

use serde_json::{json, Value};

use super::{Diff, Figures};
use crate::evidence::{self, Call, Doubt};

/// The schema's version: bumped when a field changes meaning or goes.
pub const VERSION: u64 = 1;

impl Diff<'_> {
    /// The comparison as one JSON document.
    pub fn json(&self) -> Value {
        let quantiles = self.base.snapshot.quantiles();
        let figures = |f: &Figures| {
            let ns = |i: usize| f.busy.get(i).map(|d| d.as_nanos() as u64);
            json!({
                "runs": f.runs,
                "spread": f.spread(),
                "samples": f.samples,
                "mean_ns": ns(0),
                "quantiles_ns": quantiles.iter().enumerate()
                    .map(|(i, q)| json!({ "q": q, "ns": ns(i + 1) }))
                    .collect::<Vec<_>>(),
                "max_ns": ns(quantiles.len() + 1),
                "cancelled": f.outcomes[0],
                "panicked": f.outcomes[1],
                "errors": f.outcomes[2],
                "in_flight": f.in_flight,
                "abandoned_ns": f.abandoned.as_nanos() as u64,
                "poll_total_ns": f.poll_total.as_nanos() as u64,
                "bytes_per_run": f.bytes_per_run,
                "run_values_ns": f.run_values,
            })
        };
        let timers: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let change = row.busy.map(|(basis, j)| {
                    let (low, high) = j.interval_percent().unzip();
                    let (doubt, needed) = match j.call {
                        Call::Inconclusive(Doubt::OneRunASide) => (Some("one run a side"), None),
                        Call::Inconclusive(Doubt::TooFewRuns { needed }) => {
                            (Some("too few runs"), needed)
                        }
                        _ => (None, None),
                    };
                    json!({
                        "basis": basis.name(),
                        "percent": j.percent(),
                        "low_percent": low,
                        "high_percent": high,
                        "doubt": doubt,
                        "runs_needed": needed,
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
