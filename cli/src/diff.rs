//! `perf-timer diff`: every timer of two runs side by side, with a verdict
//! that accounts for how many runs each side has.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use perf_timer::{ReportDuration, Stats};
use serde_json::{json, Value};

use crate::load::Side;
use crate::rank::{mann_whitney, RankTest};

/// A change counts only when the rank test is this sure of it.
pub const ALPHA: f64 = 0.01;

/// What a timer did between the two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Slower beyond the threshold, with confidence.
    Regressed,
    /// Faster beyond the threshold, with confidence.
    Improved,
    /// Within the threshold, or not with confidence.
    NoChange,
    /// Fewer than two runs on a side: nothing can be said.
    TooFewRuns,
    /// Only in the new run.
    Added,
    /// Only in the base run.
    Removed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::NoChange => "no change",
            Verdict::TooFewRuns => "too few runs",
            Verdict::Added => "added",
            Verdict::Removed => "removed",
        }
    }
}

/// The figures compared, busy time per run in nanoseconds.
#[derive(Debug, Clone, Copy)]
struct Figures {
    runs: u64,
    /// Bytes per run, where the runs added bytes.
    bytes_per_run: Option<f64>,
    /// mean, p50, p90, p99, max.
    values: [u64; 5],
}

const FIGURES: [&str; 5] = ["mean", "p50", "p90", "p99", "max"];

impl Figures {
    fn of(stats: &Stats) -> Figures {
        let ns = |d: Duration| d.as_nanos().min(u128::from(u64::MAX)) as u64;
        Figures {
            runs: stats.count(),
            bytes_per_run: stats.bytes_per_run(),
            values: [
                ns(stats.mean()),
                ns(stats.quantile(0.5)),
                ns(stats.quantile(0.9)),
                ns(stats.quantile(0.99)),
                ns(stats.max()),
            ],
        }
    }
}

/// One timer's comparison.
#[derive(Debug)]
pub struct Row {
    name: String,
    base: Option<Figures>,
    new: Option<Figures>,
    test: Option<RankTest>,
    pub verdict: Verdict,
}

/// One row of the comparison's table: timer, verdict, and cells of text
/// with a number to sort by.
pub type TableRow = (String, Verdict, Vec<(String, f64)>);

/// The comparison of two sides.
pub struct Diff<'a> {
    base: &'a Side,
    new: &'a Side,
    threshold: f64,
    pub rows: Vec<Row>,
}

/// `--threshold`: `5%`, `5` (percent) or `2.5%`.
pub fn parse_threshold(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
        _ => Err(format!(
            "--threshold takes a percentage such as 5% or 2.5, not {text:?}"
        )),
    }
}

/// Compares every timer of either side (only `timers`, when given).
pub fn diff<'a>(
    base: &'a Side,
    new: &'a Side,
    threshold: f64,
    timers: Option<&BTreeSet<String>>,
) -> Diff<'a> {
    let mut names: BTreeSet<&str> = base.snapshot.iter().map(Stats::name).collect();
    names.extend(new.snapshot.iter().map(Stats::name));
    let rows = names
        .into_iter()
        .filter(|name| timers.is_none_or(|t| t.contains(*name)))
        .filter_map(|name| {
            let (b, n) = (base.snapshot.get(name), new.snapshot.get(name));
            // A timer made but never run on either side says nothing.
            if b.is_none_or(|s| s.count() == 0) && n.is_none_or(|s| s.count() == 0) {
                return None;
            }
            Some(compare(
                name,
                b.filter(|s| s.count() > 0),
                n.filter(|s| s.count() > 0),
                threshold,
            ))
        })
        .collect();
    Diff {
        base,
        new,
        threshold,
        rows,
    }
}

fn compare(name: &str, base: Option<&Stats>, new: Option<&Stats>, threshold: f64) -> Row {
    let (b, n) = match (base, new) {
        (Some(b), Some(n)) => (b, n),
        (None, n) => {
            return Row {
                name: name.to_owned(),
                base: None,
                new: n.map(Figures::of),
                test: None,
                verdict: Verdict::Added,
            }
        }
        (b, None) => {
            return Row {
                name: name.to_owned(),
                base: b.map(Figures::of),
                new: None,
                test: None,
                verdict: Verdict::Removed,
            }
        }
    };
    let (fb, fn_) = (Figures::of(b), Figures::of(n));
    let test = mann_whitney(&buckets(b), &buckets(n));
    let change = percent(fb.values[0], fn_.values[0]);
    let verdict = match test {
        _ if fb.runs < 2 || fn_.runs < 2 => Verdict::TooFewRuns,
        Some(t) if change > threshold && t.p_larger < ALPHA => Verdict::Regressed,
        Some(t) if change < -threshold && t.p_smaller < ALPHA => Verdict::Improved,
        _ => Verdict::NoChange,
    };
    Row {
        name: name.to_owned(),
        base: Some(fb),
        new: Some(fn_),
        test,
        verdict,
    }
}

/// (value, count) of every recorded bucket of the busy time.
fn buckets(stats: &Stats) -> Vec<(u64, u64)> {
    stats
        .histogram()
        .iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

/// The change from `base` to `new`, in percent.
fn percent(base: u64, new: u64) -> f64 {
    if base == 0 {
        return if new == 0 { 0.0 } else { f64::INFINITY };
    }
    (new as f64 / base as f64 - 1.0) * 100.0
}

fn duration(ns: u64) -> String {
    ReportDuration(Duration::from_nanos(ns)).to_string()
}

fn signed(percent: f64) -> String {
    if percent.is_infinite() {
        return "new".into();
    }
    format!("{percent:+.1}%")
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {p:.3}")
    }
}

impl Diff<'_> {
    /// Whether any timer regressed: the exit status is 1 then.
    pub fn regressed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Regressed)
    }

    fn summary(&self) -> String {
        let count = |v: Verdict| self.rows.iter().filter(|r| r.verdict == v).count();
        let mut parts = vec![
            format!("{} regressed", count(Verdict::Regressed)),
            format!("{} improved", count(Verdict::Improved)),
            format!("{} no change", count(Verdict::NoChange)),
        ];
        for v in [Verdict::TooFewRuns, Verdict::Added, Verdict::Removed] {
            if count(v) > 0 {
                parts.push(format!("{} {}", count(v), v.as_str()));
            }
        }
        parts.join(", ")
    }

    fn heading(&self) -> [String; 3] {
        [
            format!("base: {}", self.base.describe()),
            format!("new:  {}", self.new.describe()),
            format!(
                "busy time per run; a timer regressed or improved when its mean moved more than {}% \
                 and a Mann-Whitney U test on the two distributions gives p < {ALPHA}",
                self.threshold
            ),
        ]
    }

    fn why(row: &Row) -> String {
        match (row.verdict, row.base, row.new, row.test) {
            (Verdict::Added | Verdict::Removed | Verdict::TooFewRuns, ..) => String::new(),
            (_, Some(b), Some(n), Some(t)) => {
                let p = if n.values[0] >= b.values[0] {
                    t.p_larger
                } else {
                    t.p_smaller
                };
                format!(
                    " (mean {}, {})",
                    signed(percent(b.values[0], n.values[0])),
                    p_value(p)
                )
            }
            _ => String::new(),
        }
    }

    /// Plain text: a block per timer.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for line in self.heading() {
            let _ = writeln!(out, "{line}");
        }
        for row in &self.rows {
            let _ = writeln!(
                out,
                "\ntimer {:?}: {}{}",
                row.name,
                row.verdict.as_str(),
                Self::why(row)
            );
            let _ = writeln!(
                out,
                "  {:<6}{:>12}{:>12}{:>10}",
                "", "base", "new", "change"
            );
            let runs = |f: Option<Figures>| f.map_or("-".into(), |f| f.runs.to_string());
            let _ = writeln!(
                out,
                "  {:<6}{:>12}{:>12}",
                "runs",
                runs(row.base),
                runs(row.new)
            );
            for (i, figure) in FIGURES.iter().enumerate() {
                let value = |f: Option<Figures>| f.map_or("-".into(), |f| duration(f.values[i]));
                let change = match (row.base, row.new) {
                    (Some(b), Some(n)) => signed(percent(b.values[i], n.values[i])),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "  {figure:<6}{:>12}{:>12}{change:>10}",
                    value(row.base),
                    value(row.new)
                );
            }
            let bytes = |f: Option<Figures>| f.and_then(|f| f.bytes_per_run);
            if bytes(row.base).is_some() || bytes(row.new).is_some() {
                let show = |b: Option<f64>| b.map_or("-".into(), |b| format!("{b:.0} B"));
                let _ = writeln!(
                    out,
                    "  {:<6}{:>12}{:>12}",
                    "B/run",
                    show(bytes(row.base)),
                    show(bytes(row.new))
                );
            }
        }
        let _ = writeln!(out, "\n{}", self.summary());
        out
    }

    /// The comparison as table rows: timer, verdict, runs, then each of
    /// [`FIGURES`] as `base → new (change)`; each cell with a number to
    /// sort it by (the new runs; the change in percent, 0 for a timer on
    /// one side only).
    pub fn table(&self) -> Vec<TableRow> {
        self.rows
            .iter()
            .map(|row| {
                let runs = match (row.base, row.new) {
                    (Some(b), Some(n)) => (format!("{} → {}", b.runs, n.runs), n.runs as f64),
                    (b, n) => b.or(n).map_or((String::new(), 0.0), |f| {
                        (f.runs.to_string(), f.runs as f64)
                    }),
                };
                let mut cells = vec![runs];
                cells.extend((0..FIGURES.len()).map(|i| {
                    match (row.base, row.new) {
                        (Some(b), Some(n)) => {
                            let change = percent(b.values[i], n.values[i]);
                            let text = format!(
                                "{} → {} ({})",
                                duration(b.values[i]),
                                duration(n.values[i]),
                                signed(change)
                            );
                            (text, if change.is_finite() { change } else { f64::MAX })
                        }
                        (b, n) => b
                            .or(n)
                            .map_or((String::new(), 0.0), |f| (duration(f.values[i]), 0.0)),
                    }
                }));
                (row.name.clone(), row.verdict, cells)
            })
            .collect()
    }

    /// The heading lines and the summary, for pages of other formats.
    pub fn framing(&self) -> ([String; 3], String) {
        (self.heading(), self.summary())
    }

    /// A Markdown table, for a pull request comment.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let [base, new, rule] = self.heading();
        let _ = writeln!(out, "{base}  \n{new}  \n{rule}\n");
        let _ = writeln!(
            out,
            "| timer | verdict | runs | mean | p50 | p90 | p99 | max |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
        for (name, verdict, cells) in self.table() {
            let verdict = match verdict {
                Verdict::Regressed => "**regressed**".to_owned(),
                v => v.as_str().to_owned(),
            };
            let name = name.replace('|', "\\|");
            let cells: Vec<String> = cells.into_iter().map(|(text, _)| text).collect();
            let _ = writeln!(out, "| `{name}` | {verdict} | {} |", cells.join(" | "));
        }
        let _ = writeln!(out, "\n{}", self.summary());
        out
    }

    /// JSON, every figure in nanoseconds.
    pub fn json(&self) -> Value {
        let figures = |f: Option<Figures>| {
            f.map(|f| {
                json!({
                    "runs": f.runs,
                    "mean_ns": f.values[0],
                    "p50_ns": f.values[1],
                    "p90_ns": f.values[2],
                    "p99_ns": f.values[3],
                    "max_ns": f.values[4],
                    "bytes_per_run": f.bytes_per_run,
                })
            })
        };
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let change = match (row.base, row.new) {
                    (Some(b), Some(n)) => {
                        let c: serde_json::Map<String, Value> = FIGURES
                            .iter()
                            .enumerate()
                            .map(|(i, f)| {
                                let p = percent(b.values[i], n.values[i]);
                                (
                                    f.to_string(),
                                    if p.is_finite() { json!(p) } else { Value::Null },
                                )
                            })
                            .collect();
                        Value::Object(c)
                    }
                    _ => Value::Null,
                };
                json!({
                    "timer": row.name,
                    "verdict": row.verdict.as_str(),
                    "base": figures(row.base),
                    "new": figures(row.new),
                    "change_percent": change,
                    "p_larger": row.test.map(|t| t.p_larger),
                    "p_smaller": row.test.map(|t| t.p_smaller),
                })
            })
            .collect();
        json!({
            "base": { "file": self.base.path.display().to_string(), "runs": self.base.runs() },
            "new": { "file": self.new.path.display().to_string(), "runs": self.new.runs() },
            "threshold_percent": self.threshold,
            "alpha": ALPHA,
            "test": "Mann-Whitney U, ties at their average rank, normal approximation",
            "regressed": self.regressed(),
            "timers": rows,
        })
    }
}
