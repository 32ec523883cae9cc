//! `diff` as a pull-request comment: the summary first, then the timers
//! that changed or could not be told, the rest folded.

use std::fmt::Write as _;

use super::{change_text, duration, Diff, Row, Verdict};

impl Diff<'_> {
    /// Markdown for a pull-request comment.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let icon = if self.regressed() { "❌" } else { "✅" };
        let _ = writeln!(out, "**perf-timer: {}** {icon}\n", self.summary());
        let (shown, folded): (Vec<&Row>, Vec<&Row>) = self
            .rows
            .iter()
            .partition(|r| r.verdict != Verdict::NoChange);
        if !shown.is_empty() {
            self.table(&mut out, &shown);
        }
        if !folded.is_empty() {
            let _ = writeln!(
                out,
                "<details><summary>{} timer(s) with no change</summary>\n",
                folded.len()
            );
            self.table(&mut out, &folded);
            let _ = writeln!(out, "</details>\n");
        }
        let _ = writeln!(out, "<details><summary>how this was decided</summary>\n");
        for line in self.heading() {
            let _ = writeln!(out, "{line}  ");
        }
        let _ = writeln!(out, "\n</details>");
        out
    }

    fn table(&self, out: &mut String, rows: &[&Row]) {
        let _ = writeln!(
            out,
            "| timer | verdict | change (99% interval) | runs | spread | mean | why |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for row in rows {
            let verdict = match row.verdict {
                Verdict::Regressed => "**regressed**",
                v => v.as_str(),
            };
            let change = row.busy.map_or("-".into(), |(_, j)| change_text(&j));
            let pair = |get: &dyn Fn(&super::Figures) -> String| match (&row.base, &row.new) {
                (Some(b), Some(n)) => format!("{} → {}", get(b), get(n)),
                (Some(f), None) | (None, Some(f)) => get(f),
                (None, None) => String::new(),
            };
            let runs = pair(&|f| f.runs.to_string());
            let spread = pair(&|f| {
                f.spread()
                    .map_or("-".into(), |s| format!("±{:.1}%", s * 100.0))
            });
            let mean = pair(&|f| f.busy_duration(0).map_or("-".into(), duration));
            let _ = writeln!(
                out,
                "| `{}` | {verdict} | {change} | {runs} | {spread} | {mean} | {} |",
                cell(&row.name),
                cell(&row.reason(self.threshold))
            );
        }
        let _ = writeln!(out);
    }
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
