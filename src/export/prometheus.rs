//! Prometheus text exposition format (version 0.0.4).

use std::fmt::{self, Write};

use crate::{Snapshot, Stats};

/// Writes `snapshot` in the Prometheus text exposition format, every metric
/// named `{namespace}_…` (the namespace is sanitized to the metric-name rules)
/// and labelled `timer="<name>"` (escaped to the label-value rules), so that
/// any timer name is safe:
///
/// * `{ns}_busy_seconds`: a summary of busy time per run, with the
///   registry's quantiles, `_sum` and `_count`;
/// * `{ns}_wall_seconds_total`, `{ns}_idle_seconds_total`, `{ns}_polls_total`;
/// * `{ns}_runs_total{outcome="completed|cancelled|panicked|error"}`;
/// * `{ns}_slow_polls_total`, `{ns}_blocked_polls_total`, `{ns}_clamped_total`;
/// * `{ns}_longest_poll_seconds`: a gauge;
/// * `{ns}_poll_seconds_total`: every poll's time, runs in flight, cancelled
///   and panicked included ([`Stats::poll_total`]): `rate()` of it is the
///   busy seconds per second of the timer's code (CPU-seconds per second
///   where [`cpu_share`](Stats::cpu_share) is near 1, or with the CPU
///   clock). Not `busy_seconds_total`: parsers drop a counter's `_total`,
///   which would give it the name of the `busy_seconds` summary;
/// * `{ns}_in_flight`: a gauge of runs started and not ended;
/// * `{ns}_cpu_share`: a gauge, for timers whose polls were sampled on both
///   clocks ([`Stats::cpu_share`]).
///
/// ```
/// let registry = perf_timer::Registry::new();
/// registry.timer("GET /users").record(std::time::Duration::from_micros(250));
/// let mut text = String::new();
/// perf_timer::export::write_prometheus(&mut text, &registry.snapshot(), "my-app")?;
/// assert!(text.contains("my_app_busy_seconds_count{timer=\"GET /users\"} 1\n"));
/// # Ok::<(), std::fmt::Error>(())
/// ```
pub fn write_prometheus(out: &mut impl Write, snapshot: &Snapshot, namespace: &str) -> fmt::Result {
    let ns = metric_name(namespace);
    let families: [(&str, &str, &str, Metric); 12] = [
        (
            "busy_seconds",
            "summary",
            "Busy time (sum of poll times) per completed run.",
            busy,
        ),
        (
            "wall_seconds_total",
            "counter",
            "Wall time (first poll to Ready) of completed runs.",
            |s, o, l| sample(o, l, "", secs(s.wall().total())),
        ),
        (
            "idle_seconds_total",
            "counter",
            "Idle time (wall - busy) of completed runs.",
            |s, o, l| sample(o, l, "", secs(s.idle().total())),
        ),
        (
            "polls_total",
            "counter",
            "Polls of completed runs.",
            |s, o, l| sample(o, l, "", s.polls() as f64),
        ),
        (
            "runs_total",
            "counter",
            "Runs by outcome; errors are also completed.",
            |s, o, l| {
                for (outcome, n) in [
                    ("completed", s.count()),
                    ("cancelled", s.cancelled()),
                    ("panicked", s.panicked()),
                    ("error", s.errors()),
                ] {
                    sample(o, l, &format!(",outcome=\"{outcome}\""), n as f64)?;
                }
                Ok(())
            },
        ),
        (
            "slow_polls_total",
            "counter",
            "Polls longer than the slow-poll threshold.",
            |s, o, l| sample(o, l, "", s.slow_polls() as f64),
        ),
        (
            "blocked_polls_total",
            "counter",
            "Sampled polls found blocked inside poll.",
            |s, o, l| sample(o, l, "", s.blocked_polls() as f64),
        ),
        (
            "clamped_total",
            "counter",
            "Runs longer than the histogram range.",
            |s, o, l| sample(o, l, "", s.clamped() as f64),
        ),
        (
            "longest_poll_seconds",
            "gauge",
            "The longest single poll.",
            |s, o, l| sample(o, l, "", secs(s.longest_poll())),
        ),
        (
            "poll_seconds_total",
            "counter",
            "Time of every poll, runs in flight, cancelled and panicked included.",
            |s, o, l| sample(o, l, "", secs(s.poll_total())),
        ),
        (
            "in_flight",
            "gauge",
            "Runs started and not yet ended.",
            |s, o, l| sample(o, l, "", s.in_flight() as f64),
        ),
        (
            "cpu_share",
            "gauge",
            "CPU time over wall time of the polls sampled on both clocks.",
            |s, o, l| match s.cpu_share() {
                Some(share) => sample(o, l, "", share),
                None => Ok(()),
            },
        ),
    ];
    for (suffix, kind, help, metric) in families {
        writeln!(out, "# HELP {ns}_{suffix} {help}")?;
        writeln!(out, "# TYPE {ns}_{suffix} {kind}")?;
        for stats in snapshot.iter() {
            let line = Line {
                name: format!("{ns}_{suffix}"),
                timer: label_value(stats.name()),
                quantiles: snapshot.quantiles(),
            };
            metric(stats, out, &line)?;
        }
    }
    Ok(())
}

/// Writes one family's samples for one timer.
type Metric = fn(&Stats, &mut dyn Write, &Line<'_>) -> fmt::Result;

struct Line<'a> {
    name: String,
    timer: String,
    quantiles: &'a [f64],
}

fn busy(stats: &Stats, out: &mut dyn Write, line: &Line<'_>) -> fmt::Result {
    let (name, timer) = (&line.name, &line.timer);
    for &q in line.quantiles {
        let value = if stats.count() == 0 {
            f64::NAN
        } else {
            secs(stats.quantile(q))
        };
        writeln!(
            out,
            "{name}{{timer=\"{timer}\",quantile=\"{q}\"}} {}",
            float(value)
        )?;
    }
    writeln!(
        out,
        "{name}_sum{{timer=\"{timer}\"}} {}",
        float(secs(stats.total()))
    )?;
    writeln!(out, "{name}_count{{timer=\"{timer}\"}} {}", stats.count())
}

fn sample(out: &mut dyn Write, line: &Line<'_>, labels: &str, value: f64) -> fmt::Result {
    writeln!(
        out,
        "{}{{timer=\"{}\"{labels}}} {}",
        line.name,
        line.timer,
        float(value)
    )
}

fn secs(d: std::time::Duration) -> f64 {
    d.as_secs_f64()
}

/// A sample value: Prometheus spells the special values its own way.
fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else {
        format!("{v}")
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`: anything else becomes `_`, and a leading
/// digit gets a `_` before it.
fn metric_name(raw: &str) -> String {
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// A label value: backslash, double quote and line feed escaped.
fn label_value(raw: &str) -> String {
    let mut value = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '\\' => value.push_str("\\\\"),
            '"' => value.push_str("\\\""),
            '\n' => value.push_str("\\n"),
            c => value.push(c),
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_metric_name_rules() {
        assert_eq!(metric_name("my-app.v2"), "my_app_v2");
        assert_eq!(metric_name("2fast"), "_2fast");
        assert_eq!(metric_name(""), "_");
        assert_eq!(metric_name("ns:sub_1"), "ns:sub_1");
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
