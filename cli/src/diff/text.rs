//! `diff` as plain text: the heading, a block per timer, the summary last.

use std::fmt::Write as _;
use std::time::Duration;

use super::{duration, duration_ns, percent, signed, Diff, Figures, Outcome};

impl Diff<'_> {
    /// Plain text: a block per timer, the summary on the last line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for line in self.heading() {
            let _ = writeln!(out, "{line}");
        }
        let names = self.figure_names();
        for row in &self.rows {
            let reason = row.reason(self.threshold);
            let colon = if reason.is_empty() { "" } else { ": " };
            let _ = writeln!(
                out,
                "\ntimer {:?}: {}{colon}{reason}",
                row.name,
                row.verdict.as_str()
            );
            let (b, n) = (row.base.as_ref(), row.new.as_ref());
            let line =
                |out: &mut String, label: &str, base: String, new: String, change: String| {
                    let line = format!("  {label:<10}{base:>12}{new:>12}{change:>10}");
                    let _ = writeln!(out, "{}", line.trim_end());
                };
            line(&mut out, "", "base".into(), "new".into(), "change".into());
            let count =
                |f: Option<&Figures>, get: fn(&Figures) -> String| f.map_or("-".into(), get);
            line(
                &mut out,
                "runs",
                count(b, |f| f.runs.to_string()),
                count(n, |f| f.runs.to_string()),
                String::new(),
            );
            let spread = |f: Option<&Figures>| {
                f.and_then(Figures::spread)
                    .map_or("-".into(), |s| format!("±{:.1}%", s * 100.0))
            };
            line(&mut out, "spread", spread(b), spread(n), String::new());
            line(
                &mut out,
                "samples",
                count(b, |f| f.samples.to_string()),
                count(n, |f| f.samples.to_string()),
                String::new(),
            );
            // Each figure of the typical run: the judged one's change is
            // the verdict's own.
            for (i, name) in names.iter().enumerate() {
                let value = |f: Option<&Figures>| f.and_then(|f| f.busy.get(i).copied().flatten());
                let (vb, vn) = (value(b), value(n));
                let change = match (vb, vn) {
                    (Some(x), Some(y)) => signed((y / x - 1.0) * 100.0),
                    _ => String::new(),
                };
                let show = |v: Option<f64>| v.map_or("-".into(), duration_ns);
                line(&mut out, name, show(vb), show(vn), change);
            }
            for (i, outcome) in Outcome::ALL.iter().enumerate() {
                let get = |f: Option<&Figures>| f.map_or(0, |f| f.outcomes[i]);
                if get(b) > 0 || get(n) > 0 {
                    line(
                        &mut out,
                        outcome.as_str(),
                        get(b).to_string(),
                        get(n).to_string(),
                        String::new(),
                    );
                }
            }
            let in_flight = |f: Option<&Figures>| f.map_or(0, |f| f.in_flight);
            if in_flight(b) > 0 || in_flight(n) > 0 {
                let show = |f| in_flight(f).to_string();
                line(&mut out, "in flight", show(b), show(n), String::new());
            }
            let abandoned = |f: Option<&Figures>| f.map_or(Duration::ZERO, |f| f.abandoned);
            if !abandoned(b).is_zero() || !abandoned(n).is_zero() {
                let show = |f| duration(abandoned(f));
                line(&mut out, "abandoned", show(b), show(n), String::new());
            }
            let per_run = |f: Option<&Figures>| {
                f.map(|f| f.poll_total / u32::try_from(f.runs.max(1)).unwrap_or(u32::MAX))
            };
            if let (Some(x), Some(y)) = (per_run(b), per_run(n)) {
                line(
                    &mut out,
                    "poll/run",
                    duration(x),
                    duration(y),
                    signed(percent(x, y)),
                );
            }
            let bytes = |f: Option<&Figures>| f.and_then(|f| f.bytes_per_run);
            if bytes(b).is_some() || bytes(n).is_some() {
                let show = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0} B"));
                line(
                    &mut out,
                    "B/run",
                    show(bytes(b)),
                    show(bytes(n)),
                    String::new(),
                );
            }
        }
        let _ = writeln!(out, "\n{}", self.summary());
        out
    }
}
