//! The text writer: Prometheus' text format 0.0.4 and OpenMetrics 1.0.0,
//! busy and wall time as summaries or classic histograms (native ones
//! included: text carries them as classic buckets), then the common
//! families.

use std::fmt::{self, Write};

use super::exemplars::{self, Exemplar, Measure};
use super::families::{secs, Kind, COMMON};
use super::format::Encoding;
use super::{Prometheus, Shape};
use crate::figures::{figure, Figure, Id, WALL_TOTAL};
use crate::read::{Distribution, Snapshot, Stats};

/// Writes one family's samples for one timer.
type Metric = fn(&Stats, &mut dyn Write, &Line<'_>) -> fmt::Result;

/// What each sample line of one family and timer is written with.
struct Line<'a> {
    name: &'a str,
    timer: &'a str,
    quantiles: &'a [f64],
    bounds: &'a [Bound],
    /// The bounds' nanoseconds.
    nanos: &'a [u64],
    /// Whether histogram buckets carry exemplars (OpenMetrics only: they
    /// are not in the grammar of Prometheus' text format 0.0.4).
    exemplars: bool,
}

/// A histogram bucket's upper bound, and its `le` label.
struct Bound {
    nanos: u64,
    label: String,
}

/// `snapshot` in `format`'s text: OpenMetrics if it is chosen, else
/// Prometheus' text format (protobuf included).
pub(super) fn write(format: &Prometheus, out: &mut dyn Write, snapshot: &Snapshot) -> fmt::Result {
    let bounds = bounds(&format.shape, snapshot);
    let bounds = bounds.as_deref();
    // Busy and wall time: their families depend on the shape.
    let timed: [(&Figure, Kind, Metric); 2] = match bounds {
        None => [
            (figure(Id::Busy), Kind::Summary, summary),
            (&WALL_TOTAL, WALL_TOTAL.kind.into(), |s, o, l| {
                sample(o, l, None, secs(s.wall().total()))
            }),
        ],
        Some(_) => [
            (figure(Id::Busy), Kind::Histogram, |s, o, l| {
                histogram(s, Measure::Busy, o, l)
            }),
            (figure(Id::Wall), Kind::Histogram, |s, o, l| {
                histogram(s, Measure::Wall, o, l)
            }),
        ],
    };
    let open_metrics = format.encoding == Encoding::OpenMetrics;
    // Each timer's label escaped once, each bound's nanoseconds once:
    // the loops below write straight into `out`, allocating nothing
    // per series.
    let timers: Vec<String> = snapshot.iter().map(|s| label_value(s.name())).collect();
    let nanos: Vec<u64> = bounds.unwrap_or_default().iter().map(|b| b.nanos).collect();
    let mut name = String::new();
    let mut each_timer =
        |out: &mut dyn Write,
         suffix: &str,
         kind: Kind,
         help: &str,
         metric: &mut dyn FnMut(&Stats, &mut dyn Write, &Line<'_>) -> fmt::Result|
         -> fmt::Result {
            header(out, &format.namespace, open_metrics, suffix, kind, help)?;
            name.clear();
            let _ = write!(name, "{}_{suffix}", format.namespace);
            for (stats, timer) in snapshot.iter().zip(&timers) {
                let line = Line {
                    name: &name,
                    timer,
                    quantiles: snapshot.quantiles(),
                    bounds: bounds.unwrap_or_default(),
                    nanos: &nanos,
                    exemplars: open_metrics,
                };
                metric(stats, out, &line)?;
            }
            Ok(())
        };
    for (figure, kind, metric) in timed {
        each_timer(out, figure.prometheus, kind, figure.help, &mut |s, o, l| {
            metric(s, o, l)
        })?;
    }
    for family in &COMMON {
        each_timer(
            out,
            family.suffix(),
            family.kind(),
            family.help(),
            &mut |s, o, l| {
                let mut result = Ok(());
                (family.samples)(s, &mut |label, value| {
                    if result.is_ok() {
                        result = sample(o, l, label, value);
                    }
                });
                result
            },
        )?;
    }
    if open_metrics {
        writeln!(out, "# EOF")?;
    }
    Ok(())
}

/// A family's `# HELP` and `# TYPE` lines.
fn header(
    out: &mut dyn Write,
    namespace: &str,
    open_metrics: bool,
    suffix: &str,
    kind: Kind,
    help: &str,
) -> fmt::Result {
    let ns = namespace;
    // OpenMetrics names a counter family without its `_total`.
    let family = match (open_metrics, kind) {
        (true, Kind::Counter) => suffix.strip_suffix("_total").unwrap_or(suffix),
        _ => suffix,
    };
    writeln!(out, "# HELP {ns}_{family} {help}")?;
    writeln!(out, "# TYPE {ns}_{family} {}", type_name(kind))
}

/// A family's type, as `# TYPE` says it.
fn type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Summary => "summary",
        Kind::Histogram => "histogram",
    }
}

/// The classic histogram bounds in seconds and nanoseconds, if histograms.
fn bounds(shape: &Shape, snapshot: &Snapshot) -> Option<Vec<Bound>> {
    let bounds = shape.bounds()?;
    let nanos: Vec<u64> = match bounds {
        Some(bounds) => bounds
            .iter()
            .map(|&d| crate::clock::saturating_nanos(d))
            .collect(),
        None => {
            let highest = snapshot
                .iter()
                .next()
                .map_or(crate::defaults::HIGHEST.as_nanos() as u64, |s| {
                    s.busy().highest_trackable()
                });
            default_bounds(highest)
        }
    };
    let bounds = nanos
        .into_iter()
        .map(|n| Bound {
            nanos: n,
            label: Float(n as f64 / 1e9).to_string(),
        })
        .collect();
    Some(bounds)
}

/// 1, 2.5 and 5 times each power of ten from 1 µs, below `highest`
/// nanoseconds, then `highest` itself: every recorded value (at most
/// `highest`, clamped) lies in a finite bucket, so that a run at the top
/// of the range reads as such, not as `+Inf`.
fn default_bounds(highest: u64) -> Vec<u64> {
    let mut bounds = Vec::new();
    let mut decade = 1_000_u64;
    while decade < highest {
        for step in [2, 5, 10] {
            let bound = decade.saturating_mul(step) / 2;
            if bound < highest {
                bounds.push(bound);
            }
        }
        decade = decade.saturating_mul(10);
    }
    bounds.dedup();
    bounds.push(highest);
    bounds
}

fn summary(stats: &Stats, out: &mut dyn Write, line: &Line<'_>) -> fmt::Result {
    let (name, timer) = (line.name, line.timer);
    for &q in line.quantiles {
        let value = if stats.count() == 0 {
            f64::NAN
        } else {
            secs(stats.quantile(q))
        };
        writeln!(
            out,
            "{name}{{timer=\"{timer}\",quantile=\"{q}\"}} {}",
            Float(value)
        )?;
    }
    writeln!(
        out,
        "{name}_sum{{timer=\"{timer}\"}} {}",
        Float(secs(stats.total()))
    )?;
    writeln!(out, "{name}_count{{timer=\"{timer}\"}} {}", stats.count())
}

/// Cumulative buckets, `_sum` and `_count` of a timer's busy or wall
/// time; in OpenMetrics, with the exemplars of its kept runs.
fn histogram(stats: &Stats, measure: Measure, out: &mut dyn Write, line: &Line<'_>) -> fmt::Result {
    let distribution: &Distribution = match measure {
        Measure::Busy => stats.busy(),
        Measure::Wall => stats.wall(),
    };
    let (name, timer) = (line.name, line.timer);
    let counts = distribution.cumulative_counts(line.nanos);
    let count = distribution.count();
    let infinity = std::iter::once(("+Inf", count));
    let buckets = line.bounds.iter().map(|b| b.label.as_str()).zip(counts);
    let exemplars = if line.exemplars {
        exemplars::per_bucket(stats.slowest(), measure, line.nanos)
    } else {
        Vec::new()
    };
    let mut exemplars = exemplars.iter().peekable();
    // Pieces and `itoa`'s digits: `write!` per line spends more on its
    // argument machinery than on the text, 30 lines a timer.
    let mut digits = itoa::Buffer::new();
    for (i, (le, count)) in buckets.chain(infinity).enumerate() {
        out.write_str(name)?;
        out.write_str("_bucket{timer=\"")?;
        out.write_str(timer)?;
        out.write_str("\",le=\"")?;
        out.write_str(le)?;
        out.write_str("\"} ")?;
        out.write_str(digits.format(count))?;
        if let Some((_, exemplar)) = exemplars.next_if(|(bucket, _)| *bucket == i) {
            write_exemplar(out, exemplar)?;
        }
        out.write_char('\n')?;
    }
    writeln!(
        out,
        "{name}_sum{{timer=\"{timer}\"}} {}",
        Float(secs(distribution.total()))
    )?;
    writeln!(out, "{name}_count{{timer=\"{timer}\"}} {count}")
}

/// An OpenMetrics exemplar after a bucket's count:
/// ` # {trace_id="…"} value timestamp`, the timestamp in Unix seconds to
/// the millisecond (Prometheus keeps milliseconds).
fn write_exemplar(out: &mut dyn Write, exemplar: &Exemplar<'_>) -> fmt::Result {
    out.write_str(" # {")?;
    out.write_str(exemplars::LABEL)?;
    out.write_str("=\"")?;
    write_label_value(out, exemplar.trace_id)?;
    write!(out, "\"}} {}", Float(exemplar.seconds()))?;
    match exemplar.timestamp {
        Some(t) => write!(out, " {}.{:03}", t.as_secs(), t.subsec_millis()),
        None => Ok(()),
    }
}

/// One sample line, with `label` after the timer's if any.
fn sample(
    out: &mut dyn Write,
    line: &Line<'_>,
    label: Option<(&str, &str)>,
    value: f64,
) -> fmt::Result {
    out.write_str(line.name)?;
    out.write_str("{timer=\"")?;
    out.write_str(line.timer)?;
    if let Some((name, value)) = label {
        out.write_str("\",")?;
        out.write_str(name)?;
        out.write_str("=\"")?;
        out.write_str(value)?;
    }
    out.write_str("\"} ")?;
    writeln!(out, "{}", Float(value))
}

/// A sample value: Prometheus spells the special values its own way.
/// Written in place, never through a `String` of its own.
struct Float(f64);

impl fmt::Display for Float {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            v if v.is_nan() => f.write_str("NaN"),
            f64::INFINITY => f.write_str("+Inf"),
            f64::NEG_INFINITY => f.write_str("-Inf"),
            v => write!(f, "{v}"),
        }
    }
}

/// A label value: backslash, double quote and line feed escaped.
fn label_value(raw: &str) -> String {
    let mut value = String::with_capacity(raw.len());
    write_label_value(&mut value, raw).expect("writing to a String cannot fail");
    value
}

/// Writes `raw` as a label value, escaped as [`label_value`] does.
fn write_label_value(out: &mut dyn Write, raw: &str) -> fmt::Result {
    let mut rest = raw;
    while let Some(at) = rest.find(['\\', '"', '\n']) {
        out.write_str(&rest[..at])?;
        out.write_str(match rest.as_bytes()[at] {
            b'\\' => "\\\\",
            b'"' => "\\\"",
            _ => "\\n",
        })?;
        rest = &rest[at + 1..];
    }
    out.write_str(rest)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn default_bounds_run_1_2_5_from_a_microsecond_to_the_highest() {
        let bounds = default_bounds(3_600_000_000_000);
        assert_eq!(&bounds[..4], [1_000, 2_500, 5_000, 10_000]);
        assert_eq!(
            bounds[bounds.len() - 3..],
            [1_000_000_000_000, 2_500_000_000_000, 3_600_000_000_000]
        );
        assert_eq!(bounds.len(), 30);
        // A highest on the 1-2.5-5 grid is not given twice.
        assert_eq!(default_bounds(10_000), [1_000, 2_500, 5_000, 10_000]);
        assert_eq!(default_bounds(3_000), [1_000, 2_500, 3_000]);
        assert_eq!(default_bounds(500), [500]);
        assert!(default_bounds(u64::MAX).windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_run_at_the_top_of_the_range_lands_in_a_finite_bucket() {
        let registry = crate::registry::Registry::new(); // 1 h
        let timer = registry.timer("conn");
        timer.record(Duration::from_secs(3_600)); // the top of the range
        timer.record(Duration::from_secs(7_200)); // past it: counted at the top
        timer.record(Duration::from_secs(3_000));
        let text = Prometheus::new("app")
            .histograms()
            .render(&registry.snapshot());
        let bucket = |le: &str| {
            let line = format!("app_busy_seconds_bucket{{timer=\"conn\",le=\"{le}\"}} ");
            let at = text
                .find(&line)
                .unwrap_or_else(|| panic!("no le={le}: {text}"));
            text[at + line.len()..].lines().next().unwrap().to_owned()
        };
        assert_eq!(bucket("1000"), "0");
        assert_eq!(bucket("2500"), "0");
        assert_eq!(bucket("3600"), "3");
        assert_eq!(bucket("+Inf"), "3");
        assert!(text.contains("app_wall_seconds_bucket{timer=\"conn\",le=\"3600\"} 3\n"));
    }

    #[test]
    fn label_values_escape_what_the_format_reserves() {
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    use crate::export::prometheus::exemplars::tests::{run, snapshot};

    const ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    /// Each exemplar line of `text` as (family, le, trace id, value,
    /// timestamp), checking that its value lies in its bucket's range
    /// (the previous bucket's `le`, its `le`].
    fn exemplar_lines(text: &str) -> Vec<(String, String, String, f64, String)> {
        let mut found = Vec::new();
        let mut previous_le = 0.0;
        for line in text.lines() {
            let le = line
                .split_once("le=\"")
                .map(|(_, rest)| rest.split('"').next().unwrap().to_owned());
            let Some((_, exemplar)) = line.split_once(" # {") else {
                previous_le = le.map_or(0.0, |le| le.parse().unwrap_or(0.0));
                continue;
            };
            let le = le.expect("exemplars only on buckets");
            let family = line.split("_bucket{").next().unwrap().to_owned();
            let (labels, rest) = exemplar.split_once("} ").unwrap();
            let id = labels
                .strip_prefix("trace_id=\"")
                .unwrap()
                .strip_suffix('"');
            let (value, timestamp) = rest.split_once(' ').unwrap();
            let value: f64 = value.parse().unwrap();
            let upper: f64 = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            assert!(previous_le < value && value <= upper, "{line}");
            found.push((
                family,
                le.clone(),
                id.unwrap().to_owned(),
                value,
                timestamp.to_owned(),
            ));
            previous_le = upper;
        }
        found
    }

    #[test]
    fn open_metrics_buckets_carry_the_kept_runs_trace_ids() {
        let snapshot = snapshot(vec![
            run(3_000_000, 40_000_000, 1_733_140_000_123, Some(ID)), // busy 3 ms, wall 40 ms
            run(4_000_000, 30_000_000, 1_733_140_001_000, Some("b")), // busy 4 ms, wall 30 ms
            run(200_000, 35_000_000, 1_733_140_002_000, None),
            run(1_000, 1_000, 1_733_140_003_000, Some("c")), // 1 µs: the first bucket
        ]);
        let text = Prometheus::new("app")
            .histograms()
            .open_metrics()
            .render(&snapshot);
        // Busy: 3 ms and 4 ms share (2.5 ms, 5 ms]: the longer one's.
        assert!(text.contains(
            "app_busy_seconds_bucket{timer=\"t\",le=\"0.005\"} 4 # {trace_id=\"b\"} 0.004 1733140001.000\n"
        ));
        // Wall: 40 ms and 30 ms share (25 ms, 50 ms]; 35 ms has no trace id.
        let wall = format!(
            "app_wall_seconds_bucket{{timer=\"t\",le=\"0.05\"}} 4 # {{trace_id=\"{ID}\"}} 0.04 1733140000.123\n"
        );
        assert!(text.contains(&wall), "{text}");
        let found = exemplar_lines(&text);
        let at: Vec<_> = found
            .iter()
            .map(|(f, le, id, ..)| (f.as_str(), le.as_str(), id.as_str()))
            .collect();
        assert_eq!(
            at,
            [
                ("app_busy_seconds", "0.000001", "c"),
                ("app_busy_seconds", "0.005", "b"),
                ("app_wall_seconds", "0.000001", "c"),
                ("app_wall_seconds", "0.05", ID),
            ]
        );
        // Only buckets: no exemplar on _sum, _count or any other family.
        assert!(text
            .lines()
            .filter(|l| l.contains(" # {"))
            .all(|l| l.contains("_bucket{")));
    }

    #[test]
    fn prometheus_text_and_summaries_carry_no_exemplars() {
        let snapshot = snapshot(vec![run(
            3_000_000,
            40_000_000,
            1_733_140_000_123,
            Some(ID),
        )]);
        for format in [
            Prometheus::new("app").histograms(),
            Prometheus::new("app").native(),
            Prometheus::new("app").protobuf(), // renders text 0.0.4
            Prometheus::new("app").open_metrics(), // summaries
        ] {
            let text = format.render(&snapshot);
            assert!(!text.contains(" # {") && !text.contains(ID), "{text}");
        }
        // The same snapshot in OpenMetrics histograms does carry them.
        let open_metrics = Prometheus::new("app")
            .native()
            .open_metrics()
            .render(&snapshot);
        assert_eq!(exemplar_lines(&open_metrics).len(), 2);
    }

    #[test]
    fn runs_without_trace_ids_give_no_exemplars() {
        let snapshot = snapshot(vec![
            run(3_000_000, 40_000_000, 1_733_140_000_000, None),
            run(2_000_000, 20_000_000, 1_733_140_000_000, None),
        ]);
        let text = Prometheus::new("app")
            .histograms()
            .open_metrics()
            .render(&snapshot);
        assert!(!text.contains(" # {"), "{text}");
        // The same text as with no run kept at all.
        let none = snapshot.iter().map(|s| s.clone().with_slowest(Vec::new()));
        let none = Snapshot::new(none.collect(), snapshot.quantiles().into(), false);
        let format = Prometheus::new("app").histograms().open_metrics();
        assert_eq!(text, format.render(&none));
    }

    #[test]
    fn trace_ids_are_escaped_as_label_values() {
        let snapshot = snapshot(vec![run(3_000, 3_000, 1_000, Some("a\"b\\c\nd"))]);
        let text = Prometheus::new("app")
            .histograms()
            .open_metrics()
            .render(&snapshot);
        assert!(
            text.contains(" # {trace_id=\"a\\\"b\\\\c\\nd\"} 0.000003 1.000\n"),
            "{text}"
        );
    }
}
