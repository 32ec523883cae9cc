//! `perf-timer top` against any Prometheus text endpoint: every classic
//! histogram (`X_bucket{…,le="…"}`, `X_count`, `X_sum`) is a row, its
//! rates from the counts and sums, its percentiles bounded by the buckets
//! (the upper bound of the bucket that holds the quantile).

use std::collections::BTreeMap;
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

/// Every histogram series of a scrape, by row name: the `timer` label's
/// value where there is one (our exporter's busy time), else the family
/// and its labels.
pub type Histograms = BTreeMap<String, Series>;

/// The classic histograms of a text exposition; `None` if it holds none.
pub fn parse(text: &str) -> Option<Histograms> {
    let mut out = Histograms::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((series, value)) = split_sample(line) else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match series.find('{') {
            Some(at) => (
                &series[..at],
                parse_labels(&series[at + 1..series.len().saturating_sub(1)]),
            ),
            None => (series, Vec::new()),
        };
        let (family, part) = if let Some(f) = name.strip_suffix("_bucket") {
            (f, "bucket")
        } else if let Some(f) = name.strip_suffix("_count") {
            (f, "count")
        } else if let Some(f) = name.strip_suffix("_sum") {
            (f, "sum")
        } else {
            continue;
        };
        // Wall time is its own histogram in our exporter: busy time is the row.
        if family.ends_with("_wall_seconds") {
            continue;
        }
        let le = labels
            .iter()
            .find(|(k, _)| k == "le")
            .map(|(_, v)| v.clone());
        let key = row_name(family, &labels);
        let entry = out.entry(key).or_default();
        match (part, le) {
            ("bucket", Some(le)) => {
                let bound = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap_or(f64::NAN)
                };
                entry.buckets.push((bound, value));
            }
            ("count", _) => entry.count = value,
            ("sum", _) => entry.sum = value,
            _ => {}
        }
    }
    out.retain(|_, s| !s.buckets.is_empty());
    for series in out.values_mut() {
        series.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    (!out.is_empty()).then_some(out)
}

/// A sample line's series and value (a timestamp after it is ignored).
fn split_sample(line: &str) -> Option<(&str, &str)> {
    let end = match line.rfind('}') {
        Some(at) => at + 1,
        None => line.find(char::is_whitespace)?,
    };
    let value = line[end..].split_whitespace().next()?;
    Some((&line[..end], value))
}

/// `k="v",k2="v2"`, with `\"`, `\\` and `\n` unescaped.
fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_owned();
        let after = &rest[eq + 1..];
        let Some(body) = after.strip_prefix('"') else {
            break;
        };
        let mut value = String::new();
        let mut chars = body.char_indices();
        let mut end = body.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, other)) => value.push(other),
                    None => {}
                },
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        labels.push((key, value));
        rest = &body[end..];
    }
    labels
}

fn row_name(family: &str, labels: &[(String, String)]) -> String {
    if let Some((_, timer)) = labels.iter().find(|(k, _)| k == "timer") {
        return timer.clone();
    }
    let others: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k != "le")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    if others.is_empty() {
        family.to_owned()
    } else {
        format!("{family}{{{}}}", others.join(","))
    }
}

/// Whether `now` can follow `then` (no count went down).
pub fn is_continuation(then: &Histograms, now: &Histograms) -> bool {
    then.iter().all(|(name, before)| {
        now.get(name)
            .is_some_and(|after| after.count >= before.count)
    })
}

/// The rows of the interval: rates from the counts and sums, percentiles
/// bounded by the buckets (the upper bound of the bucket holding them);
/// in flight, errors, cancelled and slow polls are not in a histogram.
pub fn rows(then: &Histograms, now: &Histograms, elapsed: Duration) -> Vec<Row> {
    let delta = |name: &str, s: &Series| -> Series {
        let before = then.get(name).cloned().unwrap_or_default();
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
                runs: w.count,
                busy_seconds: w.sum,
                p50: bound_of(&w, 0.5),
                p99: bound_of(&w, 0.99),
                max: bound_of(&w, 1.0),
            };
            (name.clone(), window)
        })
        .collect();
    frame::rows_of_windows(windows, elapsed.as_secs_f64())
}

/// The upper bound of the bucket that holds quantile `q` of the window;
/// `None` without runs, or past the last finite bound.
fn bound_of(window: &Series, q: f64) -> Option<Duration> {
    if window.count <= 0.0 {
        return None;
    }
    let rank = (q * window.count).ceil().max(1.0);
    let (le, _) = window.buckets.iter().find(|(_, n)| *n >= rank)?;
    le.is_finite().then(|| Duration::from_secs_f64(le.max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn histograms_read_by_timer_or_by_family_and_labels() {
        let h = parse(THEN).unwrap();
        let names: Vec<&str> = h.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["GET /a", "http_requests_duration_seconds{path=\"/x\"}"]
        );
        assert_eq!(
            h["GET /a"].buckets,
            [(0.001, 10.0), (0.0025, 10.0), (f64::INFINITY, 10.0)]
        );
        assert!(parse("x 1\n# just a counter\n").is_none());
        assert_eq!(
            parse_labels(r#"a="x\"y",b="z""#),
            [("a".into(), "x\"y".into()), ("b".into(), "z".into())]
        );
    }

    #[test]
    fn rows_take_rates_from_counts_and_bound_percentiles_by_buckets() {
        let then = parse(THEN).unwrap();
        // 100 more runs: 60 under 1 ms, 40 between 1 and 2.5 ms, 0.1 s busy.
        let now = parse(&THEN
            .replace("le=\"0.001\"} 10", "le=\"0.001\"} 70")
            .replace("le=\"0.0025\"} 10", "le=\"0.0025\"} 110")
            .replace("le=\"+Inf\"} 10\napp_busy_seconds_sum{timer=\"GET /a\"} 0.005\napp_busy_seconds_count{timer=\"GET /a\"} 10",
                     "le=\"+Inf\"} 110\napp_busy_seconds_sum{timer=\"GET /a\"} 0.105\napp_busy_seconds_count{timer=\"GET /a\"} 110"))
            .unwrap();
        assert!(is_continuation(&then, &now));
        assert!(!is_continuation(&now, &then));
        let rows = rows(&then, &now, Duration::from_secs(2));
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
}
