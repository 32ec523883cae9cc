//! `perf-timer html`: one self-contained page (no network): each file's
//! report as a table, the comparison when given two files, and the charts
//! inline as SVG.

use std::fmt::Write as _;
use std::time::Duration;

use base64::Engine as _;
use perf_timer::{Folded, ReportDuration, Snapshot, Stats};

use crate::charts;
use crate::diff;
use crate::error::CliError;
use crate::flame::{self, Shows};
use crate::judging::Judging;
use crate::load::Side;
use crate::markup::{escape, write_rows, NAME_CHARS};
use crate::plot::{self, legend, Curve};

/// The page for `sides` (`threshold` for the comparison of two).
pub fn page(sides: &[Side], judging: Judging, most_charts: usize) -> Result<String, CliError> {
    let names = sides
        .iter()
        .map(Side::describe)
        .collect::<Vec<_>>()
        .join(" vs ");
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>perf-timer: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>perf-timer: {}</h1>\n",
        escape(&names),
        escape(&names)
    );
    // Two files: one comparison. More: each against the first, the base.
    if let [base, others @ ..] = sides {
        for (i, new) in others.iter().enumerate() {
            let id = match i {
                0 => "diff".to_owned(),
                i => format!("diff-{}", i + 1),
            };
            let diff = diff::diff(base, new, judging, None)?;
            html.push_str(&diff.html_section(&id, others.len() > 1));
        }
    }
    let most = if sides.len() >= 2 {
        REPORT_ROWS_BESIDE_A_COMPARISON
    } else {
        usize::MAX
    };
    for side in sides {
        report(&mut html, side, most);
    }
    let _ = writeln!(
        html,
        "<section id=\"charts\">\n<h2>Busy time by percentile</h2>"
    );
    // Charts for the timers with the most busy time, the rest in the
    // tables: a page of 10,000 timers stays a page.
    let all = Snapshot::merge(sides.iter().map(|s| &s.snapshot));
    let mut charted: Vec<&Stats> = all.iter().filter(|s| s.count() > 0).collect();
    let with_runs = charted.len();
    charted.sort_by_key(|s| std::cmp::Reverse(s.total()));
    charted.truncate(most_charts);
    if with_runs > charted.len() {
        let _ = writeln!(
            html,
            "<p class=\"note\">The {} timers with the most busy time, of {with_runs}; every timer is in the tables (--charts N for more).</p>",
            charted.len()
        );
    }
    charted.sort_by(|a, b| a.name().cmp(b.name()));
    // Every chart's run lines in one pass over each file.
    let names: Vec<&str> = charted.iter().map(|s| s.name()).collect();
    let lines = (sides.iter())
        .map(|side| charts::run_lines(side, &names))
        .collect::<Result<Vec<_>, _>>()?;
    for stats in charted {
        let curves: Vec<Curve> = (sides.iter().zip(&lines))
            .filter_map(|(side, lines)| charts::curve(side, stats.name(), lines))
            .collect();
        let title = format!("{:?}", legend::shorten(stats.name(), 80));
        let svg = plot::percentiles_svg(&title, &curves)?;
        let _ = writeln!(
            html,
            "<figure class=\"chart\" data-timer=\"{}\" title=\"{}\">{}<figcaption>busy time of {} by percentile</figcaption></figure>",
            escape(stats.name()),
            escape(stats.name()),
            strip_prolog(&svg),
            escape(&legend::shorten(stats.name(), 120))
        );
    }
    let (bars, timers) = charts::bars(sides, most_charts);
    if !bars.is_empty() {
        let title = if timers > bars.rows.len() {
            format!(
                "where busy time goes: self busy time per file, the top {} of {timers} timers",
                bars.rows.len()
            )
        } else {
            "where busy time goes: self busy time per file".to_owned()
        };
        let svg = plot::busy_svg(&title, &bars)?;
        let _ = writeln!(
            html,
            "<h2>Where busy time goes</h2>\n<figure class=\"busy\">{}</figure>",
            strip_prolog(&svg)
        );
    }
    for side in sides {
        flamegraph(&mut html, side);
    }
    let _ = write!(
        html,
        "</section>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    );
    Ok(html)
}

/// Where a file's wall time went by timer path (busy, and parked in blue),
/// when its runs nested timers: inferno's SVG in a frame of its own, so
/// that its search and zoom work and its ids meet no other drawing's.
fn flamegraph(html: &mut String, side: &Side) {
    let folded = side.snapshot.folded(Folded::Wall);
    if !folded.lines().any(|line| line.contains(';')) {
        // A file of runs that nested no timer needs no flamegraph; one of
        // runs that kept no paths says why it has none.
        if side.without_paths == side.runs() {
            let _ = writeln!(
                html,
                "<p class=\"note\">No flamegraph of {}: its runs keep no nesting paths (saved \
                 before schema 3), so where their time went by timer path is not known.</p>",
                escape(&side.describe())
            );
        }
        return;
    }
    let about = side.describe();
    let Ok(Some(svg)) = flame::svg(&folded, Shows::Wall, Some(flame::PARKED), &about) else {
        return;
    };
    let height = flame::height(&String::from_utf8_lossy(&svg)).unwrap_or(600);
    // As an SVG document of its own (a data: URL): its script lays it out
    // to the frame's width, as when the file is opened alone.
    let data = base64::engine::general_purpose::STANDARD.encode(&svg);
    let _ = writeln!(
        html,
        "<h2>Where wall time went: {}</h2>\n<iframe class=\"flame\" title=\"flamegraph of {}\" \
         sandbox=\"allow-scripts\" style=\"height: {height}px\" \
         src=\"data:image/svg+xml;base64,{data}\"></iframe>\n\
         <p class=\"note\">Each frame a timer inside the timed run that polled it, as wide as \
         its time; blue [parked] frames are time its run waited while it was pending \
         (<code>perf-timer flame --wall</code>).{}</p>",
        escape(&about),
        escape(&about),
        match side.without_paths {
            0 => String::new(),
            n => format!(
                " {n} of its {} runs keep no nesting paths (saved before schema 3): their timers \
                 are roots of their own, their parked time in no frame.",
                side.runs()
            ),
        }
    );
}

/// A file's report as a table; each cell's `data-sort` holds nanoseconds.
fn report(html: &mut String, side: &Side, most: usize) {
    let _ = writeln!(
        html,
        "<section class=\"report\">\n<h2>{}</h2>\n<table class=\"sortable\">\n<thead><tr>\
         <th>timer</th><th>runs</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th>\
         <th>max</th><th>busy</th><th>cancelled</th><th>errors</th></tr></thead>\n<tbody>",
        escape(&side.describe())
    );
    let mut shown: Vec<&Stats> = (side.snapshot.iter())
        .filter(|s| s.count() > 0 || s.cancelled() > 0)
        .collect();
    let all = shown.len();
    if all > most {
        shown.sort_by_key(|s| std::cmp::Reverse(s.total()));
        shown.truncate(most);
        shown.sort_by(|a, b| a.name().cmp(b.name()));
    }
    let mut rows = Vec::with_capacity(shown.len());
    for stats in shown {
        let mut html = String::new();
        let _ = write!(
            html,
            "<tr data-timer=\"{}\"><td>{}</td><td data-sort=\"{}\">{}</td>",
            escape(stats.name()),
            escape(&legend::shorten(stats.name(), NAME_CHARS)),
            stats.count(),
            stats.count()
        );
        for d in figures(stats) {
            let _ = write!(
                html,
                "<td data-sort=\"{}\">{}</td>",
                d.as_nanos(),
                ReportDuration(d)
            );
        }
        let _ = writeln!(
            html,
            "<td data-sort=\"{0}\">{0}</td><td data-sort=\"{1}\">{1}</td></tr>",
            stats.cancelled(),
            stats.errors()
        );
        rows.push(html);
    }
    write_rows(html, rows, "timers");
    if all > most {
        let _ = writeln!(
            html,
            "<p class=\"note\">The {most} timers with the most busy time, of {all}: every timer is in the comparison above.</p>"
        );
    }
    let _ = writeln!(html, "</section>");
}

/// Rows shown at first in a table: the rest wait in a `<template>` (parsed,
/// never laid out) for the "show" button, so that a page of 10,000 timers
/// opens in about a second.
/// In a page comparing two files, each file's own table lists at most this
/// many timers: the comparison lists them all.
const REPORT_ROWS_BESIDE_A_COMPARISON: usize = 100;

/// mean, p50, p90, p99, max, total busy.
fn figures(stats: &Stats) -> [Duration; 6] {
    [
        stats.mean(),
        stats.quantile(0.5),
        stats.quantile(0.9),
        stats.quantile(0.99),
        stats.max(),
        stats.total(),
    ]
}

/// An SVG document without its XML prolog, to sit inside HTML.
fn strip_prolog(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(at) => &svg[at..],
        None => svg,
    }
}

const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: 0.3em 0.8em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; font-family: monospace; }
th { cursor: pointer; background: #f4f4f4; }
tr.regressed td:nth-child(2) { color: #b00; font-weight: bold; }
tr.improved td:nth-child(2) { color: #070; font-weight: bold; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; }
iframe.flame { width: 100%; border: 0; }
figcaption { color: #666; font-size: 0.9em; }
p.note { color: #555; }
td.why { text-align: left; font-size: 0.85em; color: #555; max-width: 40em; }
";

/// Sortable tables (click a heading; `#sort=COLUMN` or `#sort=COLUMN-desc`
/// sorts every table at load), then marks the page ready.
const SCRIPT: &str = r#"
(function () {
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent : parseFloat(v);
  }
  function sort(table, column, descending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[column]), y = key(b.cells[column]);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll("button.more-rows").forEach(function (button) {
    button.addEventListener("click", function () {
      var template = button.previousElementSibling;
      var table = template.previousElementSibling;
      while (table && table.tagName !== "TABLE") { table = table.previousElementSibling; }
      table.tBodies[0].appendChild(template.content);
      template.remove();
      button.remove();
    });
  });
  // `#all` (or `#all&sort=…`) shows every row at load, for printing.
  if (/^#(.*&)?all(&|$)/.test(location.hash)) {
    document.querySelectorAll("button.more-rows").forEach(function (b) { b.click(); });
  }
  var tables = document.querySelectorAll("table.sortable");
  tables.forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      th.addEventListener("click", function () {
        var descending = th.getAttribute("data-order") !== "desc";
        th.setAttribute("data-order", descending ? "desc" : "asc");
        sort(table, column, descending);
      });
    });
  });
  var wanted = /sort=([a-z0-9]+)(-desc)?/.exec(location.hash);
  if (wanted) {
    tables.forEach(function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
        if (th.textContent === wanted[1]) { sort(table, column, !!wanted[2]); }
      });
    });
  }
  document.documentElement.setAttribute("data-ready", "yes");
})();
"#;
