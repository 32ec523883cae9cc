//! One frame of `perf-timer top`: per timer, what happened between two
//! snapshots of a registry, as rates, shares and the interval's exact
//! percentiles, and its plain-text table.

use std::cmp::Ordering;
use std::time::Duration;

use perf_timer::{ReportDuration, Snapshot, Stats};

/// One timer's row: the interval's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub timer: String,
    /// Completed runs per second.
    pub runs_per_second: f64,
    /// Busy seconds per second: the cores its polls kept busy (runs in
    /// flight, cancelled and panicked included).
    pub cores: f64,
    /// Its share of all timers' busy time, 0 to 1.
    pub share: f64,
    /// The interval's completed runs' busy time: exact to the histogram's
    /// precision. `None` without runs in the interval.
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    pub max: Option<Duration>,
    /// Runs in flight now.
    pub in_flight: u64,
    pub errors_per_second: f64,
    pub cancelled_per_second: f64,
    /// Slow polls in the interval.
    pub slow_polls: u64,
    /// Whether in flight, errors, cancelled and slow polls are known (not
    /// from a plain Prometheus endpoint's histograms).
    pub extras: bool,
    /// Allocations per completed run of the interval, where the service
    /// counts them (perf-timer's counting allocator) and runs completed.
    pub allocs_per_run: Option<f64>,
}

/// What a window read from histograms alone holds (an interval log's, a
/// plain Prometheus endpoint's): runs, busy seconds and percentiles.
pub struct Window {
    pub runs: f64,
    pub busy_seconds: f64,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    pub max: Option<Duration>,
}

/// Rows of windows `seconds` long, one per named window; in flight,
/// errors, cancelled and slow polls are not in a histogram (shown `-`).
pub fn rows_of_windows(windows: Vec<(String, Window)>, seconds: f64) -> Vec<Row> {
    let seconds = seconds.max(1e-9);
    let all_busy: f64 = windows.iter().map(|(_, w)| w.busy_seconds.max(0.0)).sum();
    windows
        .into_iter()
        .map(|(timer, w)| Row {
            timer,
            runs_per_second: w.runs / seconds,
            cores: w.busy_seconds / seconds,
            share: if all_busy > 0.0 {
                w.busy_seconds / all_busy
            } else {
                0.0
            },
            p50: w.p50,
            p99: w.p99,
            max: w.max,
            in_flight: 0,
            errors_per_second: 0.0,
            cancelled_per_second: 0.0,
            slow_polls: 0,
            extras: false,
            allocs_per_run: None,
        })
        .collect()
}

/// What a frame is sorted by, largest first (the timer's name: A to Z).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortBy {
    Timer,
    Runs,
    Busy,
    P50,
    P99,
    Max,
    InFlight,
    Errors,
    Slow,
    Allocs,
}

/// Whether `now` can follow `then`: a counter that went down means the
/// service restarted, and the interval must start again from `now`.
pub fn is_continuation(then: &Snapshot, now: &Snapshot) -> bool {
    then.iter().all(|before| match now.get(before.name()) {
        Some(after) => {
            after.count() >= before.count()
                && after.poll_total() >= before.poll_total()
                && after.polls() >= before.polls()
        }
        // A timer is never removed from a registry.
        None => false,
    })
}

/// The rows of the interval from `then` to `now`, `elapsed` long, sorted;
/// `then`: `None` for the figures since the registry started.
pub fn rows(then: Option<&Snapshot>, now: &Snapshot, elapsed: Duration, sort: SortBy) -> Vec<Row> {
    let window = match then {
        Some(then) => now.since(then),
        None => now.clone(),
    };
    let seconds = elapsed.as_secs_f64().max(1e-9);
    let all_busy: f64 = window.iter().map(|s| s.poll_total().as_secs_f64()).sum();
    let rows: Vec<Row> = window
        .iter()
        .map(|w| row(w, now.get(w.name()), seconds, all_busy))
        .collect();
    sorted(rows, sort)
}

/// `rows` sorted by `sort`.
pub fn sorted(mut rows: Vec<Row>, sort: SortBy) -> Vec<Row> {
    rows.sort_by(|a, b| compare(a, b, sort));
    rows
}

fn row(window: &Stats, now: Option<&Stats>, seconds: f64, all_busy: f64) -> Row {
    let busy = window.poll_total().as_secs_f64();
    let ran = window.count() > 0;
    Row {
        timer: window.name().to_owned(),
        runs_per_second: window.count() as f64 / seconds,
        cores: busy / seconds,
        share: if all_busy > 0.0 { busy / all_busy } else { 0.0 },
        p50: ran.then(|| window.quantile(0.5)),
        p99: ran.then(|| window.quantile(0.99)),
        max: ran.then(|| window.max()),
        in_flight: now.map_or(0, Stats::in_flight),
        errors_per_second: window.errors() as f64 / seconds,
        cancelled_per_second: window.cancelled() as f64 / seconds,
        slow_polls: window.slow_polls(),
        extras: true,
        allocs_per_run: (window.allocations())
            .filter(|a| a.runs() > 0)
            .map(|a| a.count_per_run()),
    }
}

fn compare(a: &Row, b: &Row, sort: SortBy) -> Ordering {
    let largest_first = |x: f64, y: f64| y.total_cmp(&x);
    let duration = |d: Option<Duration>| d.map_or(-1.0, |d| d.as_secs_f64());
    let by = match sort {
        SortBy::Timer => return a.timer.cmp(&b.timer),
        SortBy::Runs => largest_first(a.runs_per_second, b.runs_per_second),
        SortBy::Busy => largest_first(a.cores, b.cores),
        SortBy::P50 => largest_first(duration(a.p50), duration(b.p50)),
        SortBy::P99 => largest_first(duration(a.p99), duration(b.p99)),
        SortBy::Max => largest_first(duration(a.max), duration(b.max)),
        SortBy::InFlight => b.in_flight.cmp(&a.in_flight),
        SortBy::Errors => largest_first(a.errors_per_second, b.errors_per_second),
        SortBy::Slow => b.slow_polls.cmp(&a.slow_polls),
        SortBy::Allocs => largest_first(
            a.allocs_per_run.unwrap_or(-1.0),
            b.allocs_per_run.unwrap_or(-1.0),
        ),
    };
    by.then_with(|| a.timer.cmp(&b.timer))
}

/// The column heads, in order.
pub const COLUMNS: [&str; 12] = [
    "timer",
    "runs/s",
    "busy",
    "share",
    "p50",
    "p99",
    "max",
    "in flight",
    "err/s",
    "cancel/s",
    "slow",
    "allocs/run",
];

/// The columns as a narrow terminal keeps them, most important first:
/// the last is dropped first. The name and runs/s are always kept.
const KEPT_FIRST: [usize; 12] = [0, 1, 2, 5, 4, 6, 3, 7, 8, 10, 9, 11];

/// Spaces between two columns.
pub const GAP: usize = 2;

/// A name is shortened to this many columns before a column is dropped,
/// and to no fewer than `NAME_LEAST` to keep runs/s.
const NAME_SHORT: usize = 12;
const NAME_LEAST: usize = 4;

/// The display width of `text`: a CJK character or an emoji is two
/// columns, a combining mark none.
pub fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// `name` as shown: control characters (a newline, an escape) and the
/// bidirectional overrides written as escapes, so that a name is one line
/// that moves nothing around it.
pub fn shown_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else if matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` in at most `columns` display columns: whole if it fits, else
/// cut and ended with `…`.
pub fn shorten(text: &str, columns: usize) -> String {
    if width(text) <= columns {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > columns {
            break;
        }
        out.push(c);
        used += w;
    }
    if columns > 0 {
        out.push('…');
    }
    out
}

/// A row's cells, each figure written once, in `COLUMNS` order: the name
/// escaped, numbers with their units.
pub fn cells(r: &Row) -> [String; 12] {
    [
        shown_name(&r.timer),
        rate(r.runs_per_second),
        // As top's %CPU: 100 % is one core kept busy.
        format!("{}%", sig3(r.cores * 100.0)),
        format!("{:.1}%", r.share * 100.0),
        duration(r.p50),
        duration(r.p99),
        duration(r.max),
        extra(r, r.in_flight.to_string()),
        extra(r, rate(r.errors_per_second)),
        extra(r, rate(r.cancelled_per_second)),
        extra(r, r.slow_polls.to_string()),
        r.allocs_per_run.map_or_else(|| "-".to_owned(), sig3),
    ]
}

/// Which columns a table shows, and each one's width (the name's may be
/// less than its longest: names are then shortened with `…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    /// Indexes into `COLUMNS`, in order.
    pub columns: Vec<usize>,
    pub widths: Vec<usize>,
}

/// The columns of `cells` that fit in `width` display columns (`None`:
/// no limit): numbers are never cut, so the least important columns are
/// dropped first and names shortened. `None` if not even the names and
/// runs/s fit.
pub fn fit(cells: &[[String; 12]], limit: Option<usize>) -> Option<Fit> {
    let mut natural = COLUMNS.map(width);
    for row in cells {
        for (w, cell) in natural.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let Some(limit) = limit else {
        return Some(Fit {
            columns: (0..COLUMNS.len()).collect(),
            widths: natural.to_vec(),
        });
    };
    let others =
        |kept: &[usize]| -> usize { kept[1..].iter().map(|&c| natural[c] + GAP).sum::<usize>() };
    let mut kept = KEPT_FIRST.len();
    // Drop columns until the name fits at its short width…
    while kept > 2 && natural[0].min(NAME_SHORT) + others(&KEPT_FIRST[..kept]) > limit {
        kept -= 1;
    }
    // …and then shorten it further, down to its least.
    let room = limit.checked_sub(others(&KEPT_FIRST[..kept]))?;
    let name = natural[0].min(room);
    if name < natural[0].min(NAME_LEAST) {
        return None;
    }
    let mut columns = KEPT_FIRST[..kept].to_vec();
    columns.sort_unstable();
    let widths = columns
        .iter()
        .map(|&c| if c == 0 { name } else { natural[c] })
        .collect();
    Some(Fit { columns, widths })
}

/// The table: a header naming each column, then a row per timer, columns
/// two spaces apart, the name left-aligned and the numbers right-aligned,
/// by display width.
pub fn table(rows: &[Row]) -> String {
    let cells: Vec<[String; 12]> = rows.iter().map(cells).collect();
    let fit = fit(&cells, None).expect("without a limit, every column fits");
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut text = String::new();
        for (i, (&c, &w)) in fit.columns.iter().zip(&fit.widths).enumerate() {
            let cell = shorten(&cells[c], w);
            let pad = " ".repeat(w.saturating_sub(width(&cell)));
            if i == 0 {
                text.push_str(&cell);
                text.push_str(&pad);
            } else {
                text.push_str(&" ".repeat(GAP));
                text.push_str(&pad);
                text.push_str(&cell);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&COLUMNS.map(str::to_owned));
    for row in &cells {
        line(row);
    }
    out
}

/// A figure only our endpoint has, or `-`.
fn extra(row: &Row, text: String) -> String {
    if row.extras {
        text
    } else {
        "-".to_owned()
    }
}

/// A rate with a unit prefix at 3 significant figures: `0.50`, `12.3`,
/// `1.02k`, `3.40M`, `1.50G`, rounding over to the next prefix
/// (999.6 is `1.00k`, never `1000`).
pub fn rate(per_second: f64) -> String {
    if !per_second.is_finite() {
        return "-".to_owned();
    }
    const PREFIXES: [&str; 5] = ["", "k", "M", "G", "T"];
    let mut step = 0;
    let mut value = per_second;
    loop {
        // The text at 3 figures; past 999.5 it rounds to 1000: a prefix up.
        let text = match value.abs() {
            v if v >= 99.95 => format!("{value:.0}"),
            v if v >= 9.995 => format!("{value:.1}"),
            _ => format!("{value:.2}"),
        };
        if value.abs() < 999.5 || step == PREFIXES.len() - 1 {
            return format!("{text}{}", PREFIXES[step]);
        }
        value /= 1e3;
        step += 1;
    }
}

/// Three significant figures, no unit prefix: `0.00270`, `0.0500`, `1.50`.
pub fn sig3(x: f64) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    let decimals = (2 - x.abs().log10().floor() as i32).clamp(0, 9) as usize;
    format!("{x:.decimals$}")
}

fn duration(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".to_owned(), |d| ReportDuration(d).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registry with known runs, snapshotted before and after a second's
    /// worth of them.
    fn two_snapshots() -> (Snapshot, Snapshot) {
        let registry = perf_timer::Registry::new();
        let db = registry.timer("db");
        let web = registry.timer("web");
        db.record(Duration::from_secs(5)); // before the interval: not in it
        let then = registry.snapshot();
        // In the interval: db 100 runs of 1..=100 µs, web 10 runs of 2 ms.
        for us in 1..=100 {
            db.record(Duration::from_micros(us));
        }
        for _ in 0..10 {
            web.record(Duration::from_millis(2));
        }
        (then, registry.snapshot())
    }

    #[test]
    fn rows_hold_the_intervals_rates_shares_and_exact_percentiles() {
        let (then, now) = two_snapshots();
        let rows = rows(Some(&then), &now, Duration::from_millis(500), SortBy::Busy);
        let names: Vec<&str> = rows.iter().map(|r| r.timer.as_str()).collect();
        assert_eq!(names, ["web", "db"], "web spent 20 ms, db 5.05 ms");
        let (web, db) = (&rows[0], &rows[1]);
        assert_eq!(db.runs_per_second, 200.0);
        assert_eq!(web.runs_per_second, 20.0);
        // 20 ms of 25.05 ms busy, over half a second.
        assert!((web.cores - 0.040).abs() < 1e-12);
        assert!((web.share - 20.0 / 25.05).abs() < 1e-12);
        // The interval's percentiles leave out the 5 s run before it: they
        // are what a registry of the interval's runs alone says.
        let alone = perf_timer::Registry::new();
        for us in 1..=100 {
            alone.timer("db").record(Duration::from_micros(us));
        }
        let db_alone = alone.stats("db").unwrap();
        assert_eq!(db.p50, Some(db_alone.quantile(0.5)));
        assert_eq!(db.p99, Some(db_alone.quantile(0.99)));
        assert_eq!(db.max, Some(db_alone.max()));
        assert_eq!(db.p99.unwrap().as_micros(), 99);
        assert_eq!(web.p99.unwrap().as_micros(), 2_000);
        let by_runs = super::rows(Some(&then), &now, Duration::from_secs(1), SortBy::Runs);
        assert_eq!(by_runs[0].timer, "db");
        let by_name = super::rows(Some(&then), &now, Duration::from_secs(1), SortBy::Timer);
        assert_eq!(by_name[0].timer, "db");
    }

    #[test]
    fn a_counter_going_down_is_a_restart() {
        let (then, now) = two_snapshots();
        assert!(is_continuation(&then, &now));
        assert!(!is_continuation(&now, &then));
        let fresh = perf_timer::Registry::new().snapshot();
        assert!(!is_continuation(&now, &fresh), "a timer gone: restarted");
    }

    #[test]
    fn the_table_names_each_column_and_keeps_two_spaces_between() {
        let (then, now) = two_snapshots();
        let text = table(&rows(
            Some(&then),
            &now,
            Duration::from_secs(1),
            SortBy::Busy,
        ));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let heads: Vec<&str> = lines[0]
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(heads, COLUMNS);
        let web: Vec<&str> = lines[1]
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(web[0], "web");
        assert_eq!(web[1], "10.0");
        assert_eq!(web[2], "2.00%", "20 ms busy in a second");
        assert_eq!(web[4], "2.00 ms");
        assert_eq!(rate(1_020.0), "1.02k");
        assert_eq!(rate(0.5), "0.50");
        assert_eq!(rate(3_400_000.0), "3.40M");
        assert_eq!(rate(999.6), "1.00k");
        assert_eq!(rate(9.996), "10.0");
        assert_eq!(rate(99.96), "100");
        assert_eq!(rate(999_600.0), "1.00M");
        assert_eq!(rate(1.5e9), "1.50G");
        assert_eq!(rate(2.0e12), "2.00T");
        assert_eq!(rate(f64::INFINITY), "-");
        assert_eq!(
            (sig3(0.0027), sig3(0.05), sig3(1.5), sig3(0.0)),
            ("0.00270".into(), "0.0500".into(), "1.50".into(), "0".into())
        );
    }
}
