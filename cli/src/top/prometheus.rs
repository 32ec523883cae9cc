//! `perf-timer top` against any Prometheus text endpoint: every classic
//! histogram of seconds (`X_seconds_bucket{…,le="…"}`, `X_seconds_count`,
//! `X_seconds_sum`) is a row, its rates from the counts and sums, its
//! percentiles bounded by the buckets (the upper bound of the bucket that
//! holds the quantile). Histograms of anything else (`_bytes`, unitless)
//! are left out and named: they are not busy time. The reader never
//! panics: a line it cannot read is skipped and counted.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::frame::{self, Row, Window};

/// One histogram series: cumulative bucket counts by upper bound, count
/// and sum (seconds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub buckets: Vec<(f64, f64)>,
    pub count: f64,
    pub sum: f64,
}

/// Every histogram series of seconds in a scrape, by row name: the
/// `timer` label's value where there is one (our exporter's busy time),
/// else the family and its labels.
pub type Histograms = BTreeMap<String, Series>;

/// What a scrape holds for `top`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposition {
    pub histograms: Histograms,
    /// Histogram families not in seconds, left out (by name).
    pub left_out: BTreeSet<String>,
    /// Sample lines that do not read (malformed), skipped.
    pub skipped: usize,
    /// Histograms read with a repair: buckets whose counts went down as
    /// their bounds went up (read as their running maximum, as Prometheus
    /// does), or no `_count` (taken from the `+Inf` bucket).
    pub repaired: BTreeSet<String>,
}

impl Exposition {
    /// Why it holds no histogram `top` shows.
    pub fn why_empty(&self) -> String {
        let mut why = "its Prometheus text holds no histogram of seconds".to_owned();
        if !self.left_out.is_empty() {
            why.push_str(&format!(" (only {}, not times)", names(&self.left_out, 3)));
        }
        if self.skipped > 0 {
            why.push_str(&format!(
                "; {} malformed line{} skipped",
                self.skipped,
                plural(self.skipped)
            ));
        }
        why
    }

    /// What the heading says of what was left out, if anything.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.left_out.is_empty() {
            let n = self.left_out.len();
            notes.push(format!(
                "{n} histogram{} not in seconds left out ({})",
                plural(n),
                names(&self.left_out, 2)
            ));
        }
        if self.skipped > 0 {
            notes.push(format!(
                "{} malformed line{} skipped",
                self.skipped,
                plural(self.skipped)
            ));
        }
        if !self.repaired.is_empty() {
            let n = self.repaired.len();
            notes.push(format!(
                "{n} histogram{} with buckets out of order or no _count, repaired ({})",
                plural(n),
                names(&self.repaired, 2)
            ));
        }
        notes
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The first `most` names, and how many more.
fn names(all: &BTreeSet<String>, most: usize) -> String {
    let shown: Vec<&str> = all.iter().take(most).map(String::as_str).collect();
    let more = all.len().saturating_sub(most);
    if more > 0 {
        format!("{}, {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// One sample line read: metric name, labels, value.
struct Sample<'a> {
    name: &'a str,
    labels: Vec<(&'a str, String)>,
    value: f64,
}

/// The histograms of seconds of a text exposition (version 0.0.4).
pub fn parse(text: &str) -> Exposition {
    let mut out = Exposition::default();
    // `# TYPE` where given: a family typed other than histogram is not one.
    let mut types: BTreeMap<&str, &str> = BTreeMap::new();
    // The series that had a `_count` line.
    let mut counted: BTreeSet<String> = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.split_whitespace();
            if let (Some("TYPE"), Some(name), Some(kind)) =
                (words.next(), words.next(), words.next())
            {
                types.insert(name, kind);
            }
            continue;
        }
        let Some(sample) = sample(line) else {
            out.skipped += 1;
            continue;
        };
        let (family, part) = if let Some(f) = sample.name.strip_suffix("_bucket") {
            (f, Part::Bucket)
        } else if let Some(f) = sample.name.strip_suffix("_count") {
            (f, Part::Count)
        } else if let Some(f) = sample.name.strip_suffix("_sum") {
            (f, Part::Sum)
        } else {
            continue;
        };
        if types.get(family).is_some_and(|kind| *kind != "histogram") {
            continue;
        }
        // Wall time is its own histogram in our exporter: busy time is the row.
        if family.ends_with("_wall_seconds") {
            continue;
        }
        let le = sample.labels.iter().find(|(k, _)| *k == "le");
        if part == Part::Bucket && le.is_none() {
            out.skipped += 1;
            continue;
        }
        if !family.ends_with("_seconds") {
            // Only a family with buckets is a histogram (a summary's
            // `_count` and `_sum` are not).
            if part == Part::Bucket {
                out.left_out.insert(family.to_owned());
            }
            continue;
        }
        let entry = out
            .histograms
            .entry(row_name(family, &sample.labels))
            .or_default();
        match part {
            Part::Bucket => {
                let Some(bound) = le.and_then(|(_, v)| bound(v)) else {
                    out.skipped += 1;
                    continue;
                };
                entry.buckets.push((bound, sample.value));
            }
            Part::Count => {
                entry.count = sample.value;
                counted.insert(row_name(family, &sample.labels));
            }
            Part::Sum => entry.sum = sample.value,
        }
    }
    out.histograms.retain(|_, s| !s.buckets.is_empty());
    for (name, series) in &mut out.histograms {
        if repair(series, counted.contains(name.as_str())) {
            out.repaired.insert(name.clone());
        }
    }
    out
}

/// Puts a series' buckets in order of bound, one per bound, and makes it
/// a histogram: cumulative counts that never go down (each the running
/// maximum, as Prometheus's `histogram_quantile` reads them), and a count
/// (from the `+Inf` bucket, else the largest, when no `_count` came).
/// Whether anything had to be repaired.
fn repair(series: &mut Series, has_count: bool) -> bool {
    series.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    // The last line of a bound given twice wins, as a later sample would.
    series.buckets.reverse();
    series
        .buckets
        .dedup_by(|later, earlier| later.0 == earlier.0);
    series.buckets.reverse();
    let mut repaired = false;
    let mut most = f64::NEG_INFINITY;
    for (_, n) in &mut series.buckets {
        if n.is_nan() || *n < most {
            *n = most.max(0.0);
            repaired = true;
        }
        most = most.max(*n);
    }
    if !has_count {
        series.count = series.buckets.last().map_or(0.0, |b| b.1);
        repaired = true;
    }
    repaired
}

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Bucket,
    Count,
    Sum,
}

/// An `le` label's bound: a number or `+Inf`; `None` if neither.
fn bound(le: &str) -> Option<f64> {
    let bound: f64 = le.trim().parse().ok()?;
    (!bound.is_nan() && bound != f64::NEG_INFINITY).then_some(bound)
}

/// `name{label="value",…} value [timestamp]`; `None` if it does not read.
fn sample(line: &str) -> Option<Sample<'_>> {
    let name_end = line
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
        })
        .map_or(line.len(), |(i, _)| i);
    if name_end == 0 {
        return None;
    }
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (read, after) = label_set(after)?;
        labels = read;
        rest = after;
    }
    let mut words = rest.split_whitespace();
    let value: f64 = words.next()?.parse().ok()?;
    // A timestamp, if any, is an integer; anything else after the value
    // means the line is not what it seems.
    if let Some(timestamp) = words.next() {
        timestamp.parse::<i64>().ok()?;
    }
    if words.next().is_some() || !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// `k="v",k2="v2"}` (after the `{`), with `\"`, `\\` and `\n` unescaped:
/// the labels and what follows the `}`.
fn label_set(mut text: &str) -> Option<(Vec<(&str, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        text = text.trim_start();
        if let Some(after) = text.strip_prefix('}') {
            return Some((labels, after));
        }
        let key_end = text
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit())))
            .map_or(text.len(), |(i, _)| i);
        if key_end == 0 {
            return None;
        }
        let key = &text[..key_end];
        text = text[key_end..].trim_start().strip_prefix('=')?;
        text = text.trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = text.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '\\' => match chars.next()? {
                    (_, 'n') => value.push('\n'),
                    (_, other) => value.push(other),
                },
                '"' => break i + 1,
                c => value.push(c),
            }
        };
        labels.push((key, value));
        text = text[end..].trim_start();
        if let Some(after) = text.strip_prefix(',') {
            text = after;
        } else if !text.starts_with('}') {
            return None;
        }
    }
}

fn row_name(family: &str, labels: &[(&str, String)]) -> String {
    if let Some((_, timer)) = labels.iter().find(|(k, _)| *k == "timer") {
        return timer.clone();
    }
    let others: Vec<String> = labels
        .iter()
        .filter(|(k, _)| *k != "le")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    if others.is_empty() {
        family.to_owned()
    } else {
        format!("{family}{{{}}}", others.join(","))
    }
}

/// Whether `now` can follow `then` (no series gone, no count went down).
pub fn is_continuation(then: &Histograms, now: &Histograms) -> bool {
    then.iter().all(|(name, before)| {
        now.get(name)
            .is_some_and(|after| after.count >= before.count)
    })
}

/// The rows of the interval: rates from the counts and sums, percentiles
/// bounded by the buckets (the upper bound of the bucket holding them);
/// in flight, errors, cancelled and slow polls are not in a histogram.
/// `then`: `None` for a first reading (figures since the series began).
pub fn rows(then: Option<&Histograms>, now: &Histograms, elapsed: Duration) -> Vec<Row> {
    let delta = |name: &str, s: &Series| -> Series {
        let before = then.and_then(|t| t.get(name)).cloned().unwrap_or_default();
        Series {
            buckets: s
                .buckets
                .iter()
                .map(|&(le, n)| {
                    let was = before
                        .buckets
                        .iter()
                        .find(|b| b.0 == le)
                        .map_or(0.0, |b| b.1);
                    (le, n - was)
                })
                .collect(),
            count: s.count - before.count,
            sum: s.sum - before.sum,
        }
    };
    let windows = now
        .iter()
        .map(|(name, s)| {
            let w = delta(name, s);
            let window = Window {
                runs: finite_or_zero(w.count),
                busy_seconds: finite_or_zero(w.sum),
                p50: bound_of(&w, 0.5),
                p99: bound_of(&w, 0.99),
                max: bound_of(&w, 1.0),
            };
            (name.clone(), window)
        })
        .collect();
    frame::rows_of_windows(windows, elapsed.as_secs_f64())
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// The upper bound of the bucket that holds quantile `q` of the window;
/// `None` without runs, past the last finite bound, or beyond what a
/// duration holds.
fn bound_of(window: &Series, q: f64) -> Option<Duration> {
    if !(window.count > 0.0 && window.count.is_finite()) {
        return None;
    }
    let rank = (q * window.count).ceil().max(1.0);
    let (le, _) = window.buckets.iter().find(|(_, n)| *n >= rank)?;
    Duration::try_from_secs_f64(le.max(0.0)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const THEN: &str = r#"# HELP app_busy_seconds Busy time.
# TYPE app_busy_seconds histogram
app_busy_seconds_bucket{timer="GET /a",le="0.001"} 10
app_busy_seconds_bucket{timer="GET /a",le="0.0025"} 10
app_busy_seconds_bucket{timer="GET /a",le="+Inf"} 10
app_busy_seconds_sum{timer="GET /a"} 0.005
app_busy_seconds_count{timer="GET /a"} 10
app_wall_seconds_bucket{timer="GET /a",le="+Inf"} 10
app_wall_seconds_count{timer="GET /a"} 10
http_requests_duration_seconds_bucket{path="/x",le="0.1"} 0
http_requests_duration_seconds_bucket{path="/x",le="+Inf"} 0
http_requests_duration_seconds_count{path="/x"} 0
http_requests_duration_seconds_sum{path="/x"} 0
"#;

    /// A real Prometheus's own `/metrics` (2.42): histograms of seconds,
    /// of bytes and of unitless counts, summaries, counters and gauges.
    const PROMETHEUS: &str = include_str!("testdata/prometheus-2.42.txt");

    #[test]
    fn histograms_read_by_timer_or_by_family_and_labels() {
        let h = parse(THEN).histograms;
        let names: Vec<&str> = h.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["GET /a", "http_requests_duration_seconds{path=\"/x\"}"]
        );
        assert_eq!(
            h["GET /a"].buckets,
            [(0.001, 10.0), (0.0025, 10.0), (f64::INFINITY, 10.0)]
        );
        assert!(parse("x 1\n# just a counter\n").histograms.is_empty());
        let (labels, rest) = label_set(r#"a="x\"y", b = "z}" } 1"#).unwrap();
        assert_eq!(labels, [("a", "x\"y".into()), ("b", "z}".into())]);
        assert_eq!(rest, " 1");
    }

    #[test]
    fn rows_take_rates_from_counts_and_bound_percentiles_by_buckets() {
        let then = parse(THEN).histograms;
        // 100 more runs: 60 under 1 ms, 40 between 1 and 2.5 ms, 0.1 s busy.
        let now = parse(&THEN
            .replace("le=\"0.001\"} 10", "le=\"0.001\"} 70")
            .replace("le=\"0.0025\"} 10", "le=\"0.0025\"} 110")
            .replace("le=\"+Inf\"} 10\napp_busy_seconds_sum{timer=\"GET /a\"} 0.005\napp_busy_seconds_count{timer=\"GET /a\"} 10",
                     "le=\"+Inf\"} 110\napp_busy_seconds_sum{timer=\"GET /a\"} 0.105\napp_busy_seconds_count{timer=\"GET /a\"} 110"))
            .histograms;
        assert!(is_continuation(&then, &now));
        assert!(!is_continuation(&now, &then));
        let rows = rows(Some(&then), &now, Duration::from_secs(2));
        let a = rows.iter().find(|r| r.timer == "GET /a").unwrap();
        assert_eq!(a.runs_per_second, 50.0);
        assert!((a.cores - 0.05).abs() < 1e-12);
        assert_eq!(
            a.p50,
            Some(Duration::from_millis(1)),
            "60 of 100 under 1 ms"
        );
        assert_eq!(a.p99, Some(Duration::from_micros(2500)));
        let x = rows
            .iter()
            .find(|r| r.timer.starts_with("http_requests"))
            .unwrap();
        assert_eq!((x.runs_per_second, x.p50), (0.0, None));
    }

    /// Prometheus's own metrics: its request durations are rows (times),
    /// its response sizes in bytes and its chunk sample counts are not.
    #[test]
    fn only_histograms_of_seconds_are_times() {
        let read = parse(PROMETHEUS);
        assert_eq!(read.skipped, 0, "a real exposition reads whole");
        assert!(read
            .histograms
            .keys()
            .any(|k| k.starts_with("prometheus_http_request_duration_seconds{")));
        assert!(
            read.histograms.keys().all(|k| k.contains("_seconds")),
            "{:?}",
            read.histograms.keys()
        );
        assert!(read
            .left_out
            .contains("prometheus_http_response_size_bytes"));
        assert!(read
            .left_out
            .contains("prometheus_tsdb_compaction_chunk_samples"));
        assert!(
            read.notes()[0].contains("not in seconds left out"),
            "{:?}",
            read.notes()
        );
        let bytes_only = "# TYPE size_bytes histogram\nsize_bytes_bucket{le=\"100\"} 3\nsize_bytes_bucket{le=\"+Inf\"} 3\nsize_bytes_count 3\nsize_bytes_sum 120\n";
        let read = parse(bytes_only);
        assert!(read.histograms.is_empty());
        assert_eq!(
            read.why_empty(),
            "its Prometheus text holds no histogram of seconds (only size_bytes, not times)"
        );
    }

    /// The lines that once panicked, and others malformed: each skipped
    /// and counted, the good lines around them read.
    /// Buckets whose counts go down, a bound given twice and no `_count`
    /// are read as Prometheus reads them, and said in the heading.
    #[test]
    fn odd_histograms_are_repaired_and_said() {
        let text = "x_seconds_bucket{le=\"0.001\"} 5\n\
                    x_seconds_bucket{le=\"0.01\"} 3\n\
                    x_seconds_bucket{le=\"0.1\"} 10\n\
                    x_seconds_bucket{le=\"0.1\"} 8\n\
                    x_seconds_bucket{le=\"+Inf\"} 10\n\
                    x_seconds_sum 0.2\n\
                    y_seconds_bucket{le=\"0.5\"} 4\n\
                    y_seconds_count 4\n";
        let read = parse(text);
        let x = &read.histograms["x_seconds"];
        assert_eq!(
            x.buckets,
            vec![(0.001, 5.0), (0.01, 5.0), (0.1, 8.0), (f64::INFINITY, 10.0)]
        );
        assert_eq!(x.count, 10.0, "no _count: the +Inf bucket's");
        assert_eq!(read.histograms["y_seconds"].count, 4.0);
        assert_eq!(read.repaired.len(), 1, "{read:?}");
        let notes = read.notes().join("; ");
        assert!(
            notes.contains("1 histogram with buckets out of order"),
            "{notes}"
        );
        let rows = rows(None, &read.histograms, Duration::from_secs(1));
        let x = rows.iter().find(|r| r.timer == "x_seconds").unwrap();
        assert_eq!(
            x.p50,
            Some(Duration::from_millis(1)),
            "5 of 10 in the first"
        );
        assert_eq!(x.runs_per_second, 10.0);
    }

    #[test]
    fn malformed_lines_are_skipped_and_counted() {
        let text = "x_seconds_bucket{ 5\n\
                    é{le=\"1\"} 2\n\
                    x_seconds_bucket{le=\"1e20\"} 1\n\
                    x_seconds_bucket{le=\"+Inf\"} 1\n\
                    x_seconds_bucket{le=\"nan\"} 1\n\
                    x_seconds_bucket{le=\"0.5\" 1\n\
                    x_seconds_count 1\n\
                    x_seconds_sum 1e20\n\
                    x_seconds_count{} 1 2 3\n";
        let read = parse(text);
        assert_eq!(read.skipped, 5, "{read:?}");
        let then = read.histograms.clone();
        let now = parse(&text.replace("} 1\n", "} 9\n").replace("count 1", "count 9")).histograms;
        let rows = rows(Some(&then), &now, Duration::from_secs(1));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].runs_per_second, 8.0);
        assert_eq!(rows[0].p50, None, "a bound of 1e20 s is no duration");
    }

    /// Mutations of a valid exposition: a byte changed, a span cut out,
    /// a span repeated, lines swapped.
    fn mutated(valid: &'static str) -> impl Strategy<Value = Vec<u8>> {
        let bytes = valid.as_bytes().to_vec();
        let len = bytes.len();
        (0..len, 0..len, any::<u8>(), 0..4_u8).prop_map(move |(a, b, byte, how)| {
            let mut out = bytes.clone();
            let (lo, hi) = (a.min(b), a.max(b));
            match how {
                0 => out[a] = byte,
                1 => {
                    out.drain(lo..hi);
                }
                2 => {
                    let span = out[lo..hi.min(lo + 200)].to_vec();
                    out.splice(lo..lo, span);
                }
                _ => {
                    out.insert(a, byte);
                    out.insert(b, b'{');
                }
            }
            out
        })
    }

    /// Whatever the text, reading it and making rows of two readings of
    /// it never panics.
    fn reads_without_panic(bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let read = parse(&text);
        let _ = read.notes();
        let _ = read.why_empty();
        let first = parse(THEN).histograms;
        for then in [None, Some(&first), Some(&read.histograms)] {
            let rows = rows(then, &read.histograms, Duration::from_secs(1));
            let _ = frame::table(&rows);
        }
        let _ = is_continuation(&first, &read.histograms);
    }

    proptest! {
        // Bounded so that the suite stays quick (a few seconds).
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            reads_without_panic(&bytes);
        }

        #[test]
        fn random_text_of_the_grammar_never_panics(text in "[a-z_{}=\",. 0-9+Inf#\n\\\\é]{0,300}") {
            reads_without_panic(text.as_bytes());
        }

        #[test]
        fn mutated_expositions_never_panic(ours in mutated(THEN), theirs in mutated(PROMETHEUS)) {
            reads_without_panic(&ours);
            reads_without_panic(&theirs);
        }
    }
}
