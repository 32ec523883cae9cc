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
        // Allocations per run, where either side of any timer counted
        // them: a row that regressed by its allocations alone shows them
        // beside its busy time's change.
        let allocations = self.shows_allocations();
        let (head, rule) = if allocations {
            (" allocs/run |", "---|")
        } else {
            ("", "")
        };
        let _ = writeln!(
            out,
            "| timer | verdict | busy change (99% interval) | runs | spread | mean |{head} why |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|{rule}---|");
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
            let allocated = if allocations {
                format!(" {} |", row.allocations_cell().0)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| {} | {verdict} | {change} | {runs} | {spread} | {mean} |{allocated} {} |",
                code_cell(&row.name),
                cell(&row.reason(self.threshold))
            );
        }
        let _ = writeln!(out);
    }
}

/// Text safe inside a Markdown table cell: a pipe would end the cell and
/// a line break the row.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace("\r\n", " ")
        .replace(['\r', '\n'], " ")
}

/// A timer's name as code inside a table cell, whatever it holds: line
/// breaks and other control characters written as escapes (`\n`), pipes
/// escaped (GitHub reads `\|` as `|` inside code in a table), and fenced by
/// more backticks than the longest run of them in the name, padded with
/// spaces where the name starts or ends with one (CommonMark code spans).
fn code_cell(name: &str) -> String {
    let mut text = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '|' => text.push_str("\\|"),
            c if c.is_control() => text.extend(c.escape_default()),
            c => text.push(c),
        }
    }
    let longest = (text.split(|c| c != '`')).map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with(['`', ' ']) || text.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_in_their_cell_and_their_code_span() {
        assert_eq!(code_cell("db::get"), "`db::get`");
        assert_eq!(code_cell("a|b"), "`a\\|b`");
        assert_eq!(code_cell("one\r\ntwo\nthree"), "`one\\r\\ntwo\\nthree`");
        // Backticks: a longer fence, and spaces where one is at an end.
        assert_eq!(code_cell("a`b"), "``a`b``");
        assert_eq!(code_cell("``x"), "``` ``x ```");
        assert_eq!(code_cell("`"), "`` ` ``");
        assert_eq!(cell("a | b\r\nc\rd"), "a \\| b c d");
    }
}
