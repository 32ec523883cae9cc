//! `diff` as plain text: the heading, a block per timer, the summary last.

use std::fmt::Write as _;
use std::time::Duration;

use super::{duration, duration_ns, percent, signed, Diff, Figures, Outcome, Row};

impl Diff<'_> {
    /// Plain text: the heading, a block per timer, the summary on the last
    /// line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for line in self.heading() {
            let _ = writeln!(out, "{line}");
        }
        let names = self.figure_names();
        for row in &self.rows {
            self.row_block(&mut out, row, &names);
        }
        let _ = writeln!(out, "\n{}", self.summary());
        out
    }

    /// One timer's block: its verdict and why, then a line per figure.
    fn row_block(&self, out: &mut String, row: &Row, names: &[String]) {
        let reason = row.reason(self.threshold);
        let colon = if reason.is_empty() { "" } else { ": " };
        let _ = writeln!(
            out,
            "\ntimer {:?}: {}{colon}{reason}",
            row.name,
            row.verdict.as_str()
        );
        let (b, n) = (row.base.as_ref(), row.new.as_ref());
        line(out, "", "base".into(), "new".into(), "change".into());
        let count = |f: Option<&Figures>, get: fn(&Figures) -> String| f.map_or("-".into(), get);
        line(
            out,
            "runs",
            count(b, |f| f.runs.to_string()),
            count(n, |f| f.runs.to_string()),
            String::new(),
        );
        let spread = |f: Option<&Figures>| {
            f.and_then(Figures::spread)
                .map_or("-".into(), |s| format!("±{:.1}%", s * 100.0))
        };
        line(out, "spread", spread(b), spread(n), String::new());
        line(
            out,
            "samples",
            count(b, |f| f.samples.to_string()),
            count(n, |f| f.samples.to_string()),
            String::new(),
        );
        busy_lines(out, b, n, names);
        other_lines(out, b, n);
    }
}

/// One line of a timer's block: a label, base, new and the change.
fn line(out: &mut String, label: &str, base: String, new: String, change: String) {
    let line = format!("  {label:<10}{base:>12}{new:>12}{change:>10}");
    let _ = writeln!(out, "{}", line.trim_end());
}

/// Each figure of the typical run's busy time: the judged one's change is
/// the verdict's own.
fn busy_lines(out: &mut String, b: Option<&Figures>, n: Option<&Figures>, names: &[String]) {
    for (i, name) in names.iter().enumerate() {
        let value = |f: Option<&Figures>| f.and_then(|f| f.busy.get(i).copied().flatten());
        let (vb, vn) = (value(b), value(n));
        let change = match (vb, vn) {
            (Some(x), Some(y)) => signed((y / x - 1.0) * 100.0),
            _ => String::new(),
        };
        let show = |v: Option<f64>| v.map_or("-".into(), duration_ns);
        line(out, name, show(vb), show(vn), change);
    }
}

/// Outcomes, runs in flight, abandoned busy time, poll time per process
/// run and bytes, where either side has any.
fn other_lines(out: &mut String, b: Option<&Figures>, n: Option<&Figures>) {
    for (i, outcome) in Outcome::ALL.iter().enumerate() {
        let get = |f: Option<&Figures>| f.map_or(0, |f| f.outcomes[i]);
        if get(b) > 0 || get(n) > 0 {
            let (gb, gn) = (get(b).to_string(), get(n).to_string());
            line(out, outcome.as_str(), gb, gn, String::new());
        }
    }
    let in_flight = |f: Option<&Figures>| f.map_or(0, |f| f.in_flight);
    if in_flight(b) > 0 || in_flight(n) > 0 {
        let show = |f| in_flight(f).to_string();
        line(out, "in flight", show(b), show(n), String::new());
    }
    let abandoned = |f: Option<&Figures>| f.map_or(Duration::ZERO, |f| f.abandoned);
    if !abandoned(b).is_zero() || !abandoned(n).is_zero() {
        let show = |f| duration(abandoned(f));
        line(out, "abandoned", show(b), show(n), String::new());
    }
    // Every poll's time per saved (process) run: a "run" of a timer is
    // one life of a timed future, which this is not.
    let per_process = |f: Option<&Figures>| {
        f.map(|f| f.poll_total / u32::try_from(f.runs.max(1)).unwrap_or(u32::MAX))
    };
    if let (Some(x), Some(y)) = (per_process(b), per_process(n)) {
        let change = signed(percent(x, y));
        line(out, "poll/proc", duration(x), duration(y), change);
    }
    let bytes = |f: Option<&Figures>| f.and_then(|f| f.bytes_per_run);
    if bytes(b).is_some() || bytes(n).is_some() {
        let show = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0} B"));
        line(out, "B/run", show(bytes(b)), show(bytes(n)), String::new());
    }
    // Allocations of the typical run (the change is in the reason).
    let allocs = |f: Option<&Figures>| f.and_then(|f| f.allocations_per_run);
    if allocs(b).is_some() || allocs(n).is_some() {
        let show = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}"));
        line(
            out,
            "allocs/run",
            show(allocs(b)),
            show(allocs(n)),
            String::new(),
        );
    }
}
