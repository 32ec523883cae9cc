//! Our exports, read back by implementations we did not write: the Python
//! `hdrhistogram` package for interval logs, and the official Python
//! Prometheus client's parsers for the text format and OpenMetrics. The
//! packages come from PyPI (`.ci/run` installs them); without them these
//! tests are skipped with a note, unless `PERF_TIMER_INTEROP=require`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use perf_timer::export::{write_prometheus, IntervalLog};
use perf_timer::{Clock, Registry};

/// `python3` if it can import the readers. Without them the test is
/// skipped with a note, unless `PERF_TIMER_INTEROP=require` (as `.ci/run`
/// sets, after installing them): `cargo test` installs nothing.
fn python_with_readers() -> Option<&'static str> {
    let has = Command::new("python3")
        .args(["-c", "import hdrh, prometheus_client"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has {
        return Some("python3");
    }
    common::tool_missing(
        "python3 lacks the packages hdrhistogram and prometheus-client \
         (pip install hdrhistogram prometheus-client)",
    );
    None
}

/// Parses `text` with the Python client's Prometheus (or OpenMetrics)
/// parser: one `[family, type, sample, labels, value]` per sample.
fn parse_with_python(python: &str, text: &str, open_metrics: bool) -> Vec<serde_json::Value> {
    let mut command = Command::new(python);
    command.arg("interop/parse_prometheus.py");
    if open_metrics {
        command.arg("--openmetrics");
    }
    let output = common::pipe(&mut command, text).unwrap();
    assert!(
        output.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
#[cfg_attr(
    perf_timer_no_python_readers,
    ignore = "needs python3 with hdrhistogram and prometheus-client (pip install hdrhistogram prometheus-client)"
)]
fn the_python_hdrhistogram_package_reads_our_interval_log() {
    let Some(python) = python_with_readers() else {
        return;
    };
    let (clock, mock) = Clock::mock();
    let registry = Registry::builder().clock(clock).build().unwrap();
    let mut intervals = registry.intervals();
    let path = std::env::temp_dir().join(format!("perf-timer-{}.hlog", std::process::id()));
    let mut log = IntervalLog::new(std::fs::File::create(&path).unwrap()).unwrap();

    let fetch = registry.timer("fetch, v2"); // a comma and a space: sanitized in the tag
    for us in 1..=1000 {
        fetch.record(Duration::from_micros(us));
    }
    registry.timer("db").record(Duration::from_millis(3));
    mock.advance(Duration::from_secs(1));
    let first = intervals.next().unwrap();
    log.write_interval(&first).unwrap();

    for ms in 1..=50 {
        fetch.record(Duration::from_millis(ms));
    }
    mock.advance(Duration::from_secs(1));
    let second = intervals.next().unwrap();
    log.write_interval(&second).unwrap();
    log.into_inner().flush().unwrap();

    let output = Command::new(python)
        .arg("interop/read_hdr_log.py")
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_file(&path).ok();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Vec<String>> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect();

    let expected: Vec<(&str, &perf_timer::Stats)> = vec![
        ("db", first.get("db").unwrap()),
        ("fetch,_v2", first.get("fetch, v2").unwrap()),
        ("fetch,_v2", second.get("fetch, v2").unwrap()),
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:?}");
    for (line, (tag, stats)) in lines.iter().zip(expected) {
        assert_eq!(line[0], tag.replace(',', "_"));
        assert_eq!(line[1], stats.count().to_string());
        let h = stats.histogram();
        for (i, q) in [(2, 0.5), (3, 0.9), (4, 0.99)] {
            let theirs: u64 = line[i].parse().unwrap();
            assert!(
                h.equivalent(theirs, h.value_at_quantile(q)),
                "{tag} q{q}: theirs {theirs}, ours {}",
                h.value_at_quantile(q)
            );
        }
        let theirs_max: u64 = line[5].parse().unwrap();
        assert!(
            h.equivalent(theirs_max, h.max()),
            "{tag} max {theirs_max} vs {}",
            h.max()
        );
    }
}

#[test]
#[cfg_attr(
    perf_timer_no_python_readers,
    ignore = "needs python3 with hdrhistogram and prometheus-client (pip install hdrhistogram prometheus-client)"
)]
fn the_official_prometheus_parser_reads_our_text() {
    let Some(python) = python_with_readers() else {
        return;
    };
    let registry = Registry::new();
    let weird = "GET /a\"b\\c\nd";
    for us in [100, 200, 300] {
        registry.timer(weird).record(Duration::from_micros(us));
    }
    registry.timer("idle one");
    let mut text = String::new();
    write_prometheus(&mut text, &registry.snapshot(), "my-app").unwrap();

    let samples = parse_with_python(python, &text, false);
    let value = |family: &str, sample: &str, labels: serde_json::Value| -> f64 {
        let found = samples
            .iter()
            .find(|s| s[0] == family && s[2] == sample && s[3] == labels);
        found.unwrap_or_else(|| panic!("no {sample} {labels} in {samples:#?}"))[4]
            .as_f64()
            .unwrap()
    };
    // Every family keeps its own name and type through the parser.
    for (family, kind) in [
        ("my_app_poll_seconds", "counter"),
        ("my_app_in_flight", "gauge"),
    ] {
        assert!(samples.iter().any(|s| s[0] == family), "no {family}");
        assert!(samples
            .iter()
            .filter(|s| s[0] == family)
            .all(|s| s[1] == kind));
    }
    assert_eq!(
        value(
            "my_app_poll_seconds",
            "my_app_poll_seconds_total",
            serde_json::json!({"timer": weird})
        ),
        0.0006
    );
    let busy = "my_app_busy_seconds";
    assert!(samples
        .iter()
        .filter(|s| s[0] == busy)
        .all(|s| s[1] == "summary"));
    assert_eq!(
        value(
            busy,
            "my_app_busy_seconds_count",
            serde_json::json!({"timer": weird})
        ),
        3.0
    );
    let sum = value(
        busy,
        "my_app_busy_seconds_sum",
        serde_json::json!({"timer": weird}),
    );
    assert!((sum - 600e-6).abs() < 1e-12, "{sum}");
    let median = value(
        busy,
        busy,
        serde_json::json!({"timer": weird, "quantile": "0.5"}),
    );
    assert!((median - 200e-6).abs() < 200e-6 * 0.001, "{median}");
    let completed = serde_json::json!({"timer": weird, "outcome": "completed"});
    assert_eq!(value("my_app_runs", "my_app_runs_total", completed), 3.0);
    assert_eq!(
        value(
            "my_app_polls",
            "my_app_polls_total",
            serde_json::json!({"timer": weird})
        ),
        3.0
    );
    assert_eq!(
        value(
            busy,
            "my_app_busy_seconds_count",
            serde_json::json!({"timer": "idle one"})
        ),
        0.0
    );
    for family in [
        "my_app_runs",
        "my_app_polls",
        "my_app_wall_seconds",
        "my_app_slow_polls",
    ] {
        assert!(
            samples.iter().any(|s| s[0] == family && s[1] == "counter"),
            "{family} is not a counter family in {samples:#?}"
        );
    }
}

#[test]
fn stats_serialize_with_stable_names_in_nanoseconds() {
    let registry = Registry::new();
    let timer = registry.timer("db");
    timer.record(Duration::from_micros(250));
    timer.record(Duration::from_micros(750));
    let json = serde_json::to_value(registry.snapshot()).unwrap();
    let db = &json["timers"][0];
    assert_eq!(db["name"], "db");
    assert_eq!(db["count"], 2);
    assert_eq!(db["busy"]["count"], 2);
    assert_eq!(db["busy"]["total_ns"], 1_000_000);
    assert_eq!(db["busy"]["mean_ns"], 500_000);
    assert_eq!(db["wall"]["total_ns"], 1_000_000);
    assert_eq!(db["idle"]["total_ns"], 0);
    assert_eq!(db["self_time"]["mean_ns"], 500_000);
    assert_eq!(db["polls"], 2);
    assert_eq!(db["cancelled"], 0);
    assert!(
        db["busy"]["quantiles_ns"]["0.5"]
            .as_u64()
            .unwrap()
            .abs_diff(250_000)
            < 250
    );
    assert_eq!(json["quantiles"], serde_json::json!([0.5, 0.9, 0.99]));
}

#[test]
#[cfg_attr(
    perf_timer_no_python_readers,
    ignore = "needs python3 with hdrhistogram and prometheus-client (pip install hdrhistogram prometheus-client)"
)]
fn the_hgrm_footer_matches_the_python_writers() {
    let Some(python) = python_with_readers() else {
        return;
    };
    let registry = Registry::new();
    let timer = registry.timer("x");
    let values: Vec<u64> = (1..=1000).map(|i| i * 1_000 + i * i).collect();
    for &v in &values {
        timer.record(Duration::from_nanos(v));
    }
    let mut ours = Vec::new();
    perf_timer::export::write_hgrm(&mut ours, timer.stats().histogram()).unwrap();
    let ours = String::from_utf8(ours).unwrap();

    let script = "import io, sys\n\
        from hdrh.histogram import HdrHistogram\n\
        h = HdrHistogram(1, 3_600_000_000_000, 3)\n\
        for v in sys.stdin.read().split():\n    h.record_value(int(v))\n\
        out = io.BytesIO()\n\
        h.output_percentile_distribution(out, 1_000_000)\n\
        print('\\n'.join(out.getvalue().decode().rstrip().splitlines()[-3:]))\n";
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input: Vec<String> = values.iter().map(u64::to_string).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.join(" ").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let theirs = String::from_utf8(output.stdout).unwrap();
    // The footer's figures: mean, (stdev), max, count, buckets, sub-buckets.
    // The bucket count follows each histogram's own range (ours spans the
    // values recorded), and the Python writer prints the deviation unscaled,
    // so those two are left out.
    let figures = |text: &str| -> Vec<f64> {
        let footer: Vec<&str> = text.lines().rev().take(3).collect();
        footer
            .iter()
            .rev()
            .flat_map(|line| line.split(&['=', ',', ']'][..]).skip(1).step_by(2))
            .map(|f| f.trim().parse().unwrap())
            .collect()
    };
    let (ours, theirs) = (figures(&ours), figures(&theirs));
    assert_eq!(ours.len(), 6, "{ours:?}");
    for i in [0, 2, 3, 5] {
        assert_eq!(ours[i], theirs[i], "figure {i}: {ours:?} vs {theirs:?}");
    }
    assert_eq!(ours[5], 2048.0);
}

#[test]
#[cfg_attr(
    perf_timer_no_python_readers,
    ignore = "needs python3 with hdrhistogram and prometheus-client (pip install hdrhistogram prometheus-client)"
)]
fn histograms_and_open_metrics_read_back_through_the_official_parsers() {
    use perf_timer::export::Prometheus;
    let Some(python) = python_with_readers() else {
        return;
    };
    let registry = Registry::new();
    let timer = registry.timer("GET /users/{id}");
    for us in [1, 40, 40, 700, 3_000, 3_000, 3_000, 90_000] {
        timer.record(Duration::from_micros(us));
    }
    let snapshot = registry.snapshot();
    for open_metrics in [false, true] {
        let mut format = Prometheus::new("app").histograms();
        if open_metrics {
            format = format.open_metrics();
        }
        let samples = parse_with_python(python, &format.render(&snapshot), open_metrics);
        let of = |family: &'static str| samples.iter().filter(move |s| s[0] == family);
        assert!(of("app_busy_seconds").all(|s| s[1] == "histogram"));
        assert!(of("app_wall_seconds").all(|s| s[1] == "histogram"));
        assert!(of("app_poll_seconds").all(|s| s[1] == "counter"));
        let bucket = |le: &str| {
            of("app_busy_seconds")
                .find(|s| s[2] == "app_busy_seconds_bucket" && s[3]["le"] == le)
                .unwrap_or_else(|| panic!("no bucket le={le} in {samples:#?}"))[4]
                .as_f64()
                .unwrap()
        };
        // Cumulative: 1 µs; 40 µs twice by 50 µs; 700 µs by 1 ms; 3 ms
        // three times by 5 ms; 90 ms by 0.1 s.
        let le = |s: f64| s.to_string();
        assert_eq!(bucket(&le(1e-6)), 1.0);
        assert_eq!(bucket(&le(2.5e-5)), 1.0);
        assert_eq!(bucket(&le(5e-5)), 3.0);
        assert_eq!(bucket(&le(0.001)), 4.0);
        assert_eq!(bucket(&le(0.005)), 7.0);
        assert_eq!(bucket(&le(0.05)), 7.0);
        assert_eq!(bucket(&le(0.1)), 8.0);
        assert_eq!(bucket("+Inf"), 8.0);
        let count = of("app_busy_seconds")
            .find(|s| s[2] == "app_busy_seconds_count")
            .unwrap()[4]
            .as_f64()
            .unwrap();
        assert_eq!(count, 8.0);
    }
}

thread_local! {
    /// The trace id of the run being driven, for the registry's source.
    static TRACE: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
/// A trace id the label-value escapes apply to: a backslash and a line
/// feed. (A double quote is escaped too, as the unit tests check, but
/// prometheus-client 0.26's parser fails on `\"` in any exemplar's labels,
/// counters' included.)
const ESCAPED: &str = "a\\b\nc";

/// A registry on a mock clock whose trace ids are [`TRACE`]'s, with four
/// kept runs of timer `t`: (trace id, busy, wall) = (TRACE_ID, 3 ms, 40
/// ms), ("b", 4 ms, 4 ms), (none, 6.001 ms, 7.001 ms), (ESCAPED, 1 µs,
/// 1 µs), in that order.
fn traced_registry() -> Registry {
    use std::pin::pin;
    use std::task::Poll;
    let (clock, mock) = Clock::mock();
    let registry = Registry::builder()
        .clock(clock)
        .slowest_runs(8)
        .trace_ids(|| TRACE.get().map(str::to_owned))
        .build()
        .unwrap();
    let timer = registry.timer("t");
    let us = Duration::from_micros;
    let runs: [(Option<&'static str>, &[Duration], Duration); 4] = [
        (Some(TRACE_ID), &[us(1_000), us(2_000)], us(37_000)),
        (Some("b"), &[us(4_000)], Duration::ZERO),
        (None, &[us(1), us(6_000)], us(1_000)),
        (Some(ESCAPED), &[us(1)], Duration::ZERO),
    ];
    for (trace, steps, gap) in runs {
        TRACE.set(trace);
        let mut run = pin!(timer.time(common::Steps::new(&mock, steps)));
        while common::poll_once(run.as_mut()) == Poll::Pending {
            mock.advance(gap); // parked between polls
        }
    }
    TRACE.set(None);
    registry
}

#[test]
#[cfg_attr(
    perf_timer_no_python_readers,
    ignore = "needs python3 with hdrhistogram and prometheus-client (pip install hdrhistogram prometheus-client)"
)]
fn the_official_open_metrics_parser_reads_our_exemplars() {
    use perf_timer::export::Prometheus;
    let Some(python) = python_with_readers() else {
        return;
    };
    let registry = traced_registry();
    let stats = registry.stats("t").unwrap();
    assert_eq!(stats.slowest().len(), 4);
    let text = Prometheus::new("app")
        .histograms()
        .open_metrics()
        .render(&registry.snapshot());
    let samples = parse_with_python(python, &text, true);
    let mut found = Vec::new();
    for family in ["app_busy_seconds", "app_wall_seconds"] {
        // Buckets in order, each exemplar inside (previous le, le].
        let mut below = 0.0;
        for s in samples
            .iter()
            .filter(|s| s[2] == format!("{family}_bucket"))
        {
            let le = match s[3]["le"].as_str().unwrap() {
                "+Inf" => f64::INFINITY,
                le => le.parse().unwrap(),
            };
            if let Some(exemplar) = s[5].as_array() {
                let value = exemplar[1].as_f64().unwrap();
                assert!(below < value && value <= le, "{family} {s:?}");
                let id = exemplar[0]["trace_id"].as_str().unwrap().to_owned();
                assert_eq!(exemplar[0].as_object().unwrap().len(), 1);
                // When the run ended, to the millisecond.
                let run = stats.slowest().iter().find(|r| r.trace_id() == Some(&id));
                let ended = run.unwrap().ended().duration_since(std::time::UNIX_EPOCH);
                let ended = ended.unwrap().as_millis() as f64 / 1e3;
                assert!((exemplar[2].as_f64().unwrap() - ended).abs() < 1e-3);
                found.push((family, s[3]["le"].as_str().unwrap().to_owned(), id, value));
            }
            below = le;
        }
        // Nothing but buckets has one.
        assert!(samples
            .iter()
            .filter(|s| !s[2].as_str().unwrap().ends_with("_bucket"))
            .all(|s| s[5].is_null()));
    }
    let found: Vec<_> = (found.iter())
        .map(|(f, le, id, v)| (*f, le.as_str(), id.as_str(), *v))
        .collect();
    // One per bucket: in (2.5 ms, 5 ms] busy, 4 ms beats 3 ms; the run
    // without a trace id (busy 6.001 ms, wall 7.001 ms) gives none.
    assert_eq!(
        found,
        [
            ("app_busy_seconds", "0.000001", ESCAPED, 1e-6),
            ("app_busy_seconds", "0.005", "b", 0.004),
            ("app_wall_seconds", "0.000001", ESCAPED, 1e-6),
            ("app_wall_seconds", "0.005", "b", 0.004),
            ("app_wall_seconds", "0.05", TRACE_ID, 0.04),
        ]
    );
}

/// `metrics.proto`'s messages, as far as the exemplars and the native
/// histogram go, declared for prost: a decoder we did not write.
mod metrics_proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct MetricFamily {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(message, repeated, tag = "4")]
        pub metric: Vec<Metric>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Metric {
        #[prost(message, repeated, tag = "1")]
        pub label: Vec<LabelPair>,
        #[prost(message, optional, tag = "7")]
        pub histogram: Option<Histogram>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LabelPair {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(string, optional, tag = "2")]
        pub value: Option<String>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Histogram {
        #[prost(uint64, optional, tag = "1")]
        pub sample_count: Option<u64>,
        #[prost(sint32, optional, tag = "5")]
        pub schema: Option<i32>,
        #[prost(sint64, repeated, tag = "13")]
        pub positive_delta: Vec<i64>,
        #[prost(message, repeated, tag = "16")]
        pub exemplars: Vec<Exemplar>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Exemplar {
        #[prost(message, repeated, tag = "1")]
        pub label: Vec<LabelPair>,
        #[prost(double, optional, tag = "2")]
        pub value: Option<f64>,
        #[prost(message, optional, tag = "3")]
        pub timestamp: Option<Timestamp>,
    }
    /// `google.protobuf.Timestamp`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Timestamp {
        #[prost(int64, tag = "1")]
        pub seconds: i64,
        #[prost(int32, tag = "2")]
        pub nanos: i32,
    }
}

#[test]
fn prost_reads_the_exemplars_of_our_native_histograms() {
    use metrics_proto::MetricFamily;
    use perf_timer::export::Prometheus;
    use prost::Message as _;

    let registry = traced_registry();
    let stats = registry.stats("t").unwrap();
    let body = Prometheus::new("app")
        .protobuf()
        .encode(&registry.snapshot());
    let mut buf = body.as_slice();
    let mut families = Vec::new();
    while !buf.is_empty() {
        families.push(MetricFamily::decode_length_delimited(&mut buf).unwrap());
    }
    // Every kept run with a trace id, oldest first (the order they ran).
    let mut traced: Vec<_> = (stats.slowest().iter())
        .filter(|r| r.trace_id().is_some())
        .collect();
    traced.sort_by_key(|r| r.ended());
    assert_eq!(
        traced
            .iter()
            .map(|r| r.trace_id().unwrap())
            .collect::<Vec<_>>(),
        [TRACE_ID, "b", ESCAPED]
    );
    for (name, time) in [
        (
            "app_busy_seconds",
            perf_timer::SlowRun::busy as fn(&_) -> Duration,
        ),
        ("app_wall_seconds", perf_timer::SlowRun::wall),
    ] {
        let family = families
            .iter()
            .find(|f| f.name.as_deref() == Some(name))
            .unwrap();
        let histogram = family.metric[0].histogram.as_ref().unwrap();
        // Still a native histogram of the four runs.
        assert_eq!(
            (histogram.sample_count, histogram.schema),
            (Some(4), Some(3))
        );
        assert!(!histogram.positive_delta.is_empty());
        assert_eq!(histogram.exemplars.len(), traced.len(), "{name}");
        for (exemplar, run) in histogram.exemplars.iter().zip(&traced) {
            let label = &exemplar.label[..];
            assert_eq!(label.len(), 1);
            assert_eq!(label[0].name.as_deref(), Some("trace_id"));
            assert_eq!(label[0].value.as_deref(), run.trace_id());
            assert_eq!(exemplar.value, Some(time(run).as_nanos() as f64 / 1e9));
            let ended = run.ended().duration_since(std::time::UNIX_EPOCH).unwrap();
            let timestamp = exemplar.timestamp.as_ref().unwrap();
            assert_eq!(timestamp.seconds, ended.as_secs() as i64);
            assert_eq!(timestamp.nanos, ended.subsec_nanos() as i32);
        }
    }
}
