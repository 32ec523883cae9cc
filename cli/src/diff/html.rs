//! A comparison as a section of the HTML page (`perf-timer html`): the
//! heading, a sortable table with a row per timer, changed ones first.

use std::fmt::Write as _;
use std::time::Duration;

use super::{change_text, duration_ns, signed, Diff, Figures, Row, Verdict};
use crate::markup::{escape, write_rows, NAME_CHARS};
use crate::plot::legend;

impl Diff<'_> {
    /// The comparison's `<section>`, `id` its element id; `named`: its
    /// heading names the two files (a page of several comparisons).
    pub fn html_section(&self, id: &str, named: bool) -> String {
        let mut html = String::new();
        comparison(&mut html, id, named, self);
        html
    }
}

/// A comparison's section, `id` its element id; `named`: its heading names
/// the two files (a page of several comparisons).
fn comparison(html: &mut String, id: &str, named: bool, diff: &Diff<'_>) {
    let title = match named {
        true => format!(
            "Comparison: {} against {}",
            diff.new.describe(),
            diff.base.describe()
        ),
        false => "Comparison".to_owned(),
    };
    let _ = writeln!(
        html,
        "<section id=\"{id}\">\n<h2>{}</h2>\n<p>",
        escape(&title)
    );
    for line in diff.heading() {
        let _ = writeln!(html, "{}<br>", escape(&line));
    }
    let _ = writeln!(
        html,
        "</p>\n<p class=\"summary\">{}</p>",
        escape(&diff.summary())
    );
    let names = diff.figure_names();
    let _ = write!(
        html,
        "<table class=\"sortable\">\n<thead><tr><th>timer</th><th>verdict</th><th>change</th>\
         <th>runs</th><th>spread</th>"
    );
    for name in &names {
        let _ = write!(html, "<th>{}</th>", escape(name));
    }
    // Allocations per run, where either side counted them.
    let allocations = diff.shows_allocations();
    if allocations {
        let _ = write!(html, "<th>allocs/run</th>");
    }
    let _ = writeln!(html, "<th>why</th></tr></thead>\n<tbody>");
    // The timers that changed or could not be told first, then by busy
    // time: the rows shown before "show all" are the ones that matter.
    let mut ordered: Vec<&Row> = diff.rows.iter().collect();
    ordered.sort_by_key(|row| (rank(row.verdict), std::cmp::Reverse(busy_of(row))));
    let mut rows = Vec::with_capacity(ordered.len());
    for row in ordered {
        let mut html = String::new();
        let _ = write!(
            html,
            "<tr data-timer=\"{}\" class=\"{}\"><td>{}</td><td>{}</td>",
            escape(&row.name),
            row.verdict.as_str().replace(' ', "-"),
            escape(&legend::shorten(&row.name, NAME_CHARS)),
            row.verdict.as_str()
        );
        let (text, sort) = match row.busy {
            Some((_, j)) => (change_text(&j), j.percent()),
            None => ("-".to_owned(), 0.0),
        };
        let _ = write!(html, "<td data-sort=\"{sort}\">{}</td>", escape(&text));
        let pair = |get: &dyn Fn(&Figures) -> (String, f64)| match (&row.base, &row.new) {
            (Some(b), Some(n)) => (format!("{} → {}", get(b).0, get(n).0), get(n).1),
            (Some(f), None) | (None, Some(f)) => get(f),
            (None, None) => (String::new(), 0.0),
        };
        let mut cells = vec![
            pair(&|f| (f.runs.to_string(), f.runs as f64)),
            pair(&|f| match f.spread() {
                Some(s) => (format!("±{:.1}%", s * 100.0), s),
                None => ("-".to_owned(), 0.0),
            }),
        ];
        for i in 0..names.len() {
            let value = |f: &Figures| f.busy.get(i).copied().flatten();
            cells.push(
                match (
                    row.base.as_ref().and_then(value),
                    row.new.as_ref().and_then(value),
                ) {
                    (Some(b), Some(n)) => {
                        let change = (n / b - 1.0) * 100.0;
                        (
                            format!(
                                "{} → {} ({})",
                                duration_ns(b),
                                duration_ns(n),
                                signed(change)
                            ),
                            if change.is_finite() { change } else { f64::MAX },
                        )
                    }
                    (Some(d), None) | (None, Some(d)) => (duration_ns(d), 0.0),
                    (None, None) => ("-".to_owned(), 0.0),
                },
            );
        }
        if allocations {
            cells.push(row.allocations_cell());
        }
        for (text, sort) in cells {
            let _ = write!(html, "<td data-sort=\"{sort}\">{}</td>", escape(&text));
        }
        let _ = writeln!(
            html,
            "<td class=\"why\">{}</td></tr>",
            escape(&row.reason(diff.threshold))
        );
        rows.push(html);
    }
    write_rows(html, rows, "timers");
    let _ = writeln!(html, "</section>");
}

/// Where a verdict sorts in the comparison: what needs a look first.
fn rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Regressed => 0,
        Verdict::Improved => 1,
        Verdict::Inconclusive => 2,
        Verdict::Added | Verdict::Removed => 3,
        Verdict::NoChange => 4,
    }
}

/// A row's busy time on its busier side.
fn busy_of(row: &Row) -> Duration {
    let busy = |f: &Option<Figures>| f.as_ref().map_or(Duration::ZERO, |f| f.poll_total);
    busy(&row.base).max(busy(&row.new))
}
