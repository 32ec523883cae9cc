//! Saved runs: a run written as one JSON line and read back figure for
//! figure; many processes appending to one file at once; lines that are
//! not saved runs skipped with their line numbers; `PERF_TIMER_SAVE` and
//! `save_to` at exit; and the file read by Python's `hdrh`.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use perf_timer::saved::{self, SavedError, SavedRun};
use perf_timer::{Folded, Registry, Stats};
use proptest::prelude::*;

/// A fresh path in the temp dir, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "perf-timer-saved-{name}-{}.jsonl",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        TempPath(path)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A registry with a bit of everything: runs of many polls, waits,
/// nested runs, cancelled and panicked runs, errors, wide spreads.
fn busy_registry() -> Registry {
    let (registry, mock) = mock_registry();
    let outer = registry.timer("api::handle");
    for i in 1..=200_u64 {
        let steps = [us(i), us(3 * i % 700), us(1)];
        poll_to_end(outer.time(Steps::new(&mock, &steps)));
    }
    for i in 0..50_u64 {
        registry
            .timer("db get")
            .record(Duration::from_nanos(1_000 + i * i * 997));
    }
    // A cancelled run.
    {
        let mut cancelled = pin!(registry.timer("cancelled").time(yield_once()));
        let _ = poll_once(cancelled.as_mut());
        mock.advance(ms(2));
    }
    // Nested runs.
    let inner = registry.timer("inner");
    let nested = registry.timer("outer").time(async {
        mock.advance(us(40));
        inner.time(work(&mock, us(25))).await;
    });
    poll_to_end(nested);
    // A panicked run.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        poll_to_end(registry.timer("panics").time(async { panic!("boom") }));
    }));
    registry.timer("never used");
    registry
}

/// Every figure of `a` and `b`, compared: the serialized stats (every
/// counter and quantile), the full histograms, and the printed lines.
fn assert_same(a: &Stats, b: &Stats) {
    assert_eq!(a.name(), b.name());
    // Every figure; the slowest runs (which carry when they ended) apart.
    let figures = |s: &Stats| {
        let mut value = serde_json::to_value(s).unwrap();
        value.as_object_mut().unwrap().remove("slowest");
        value
    };
    assert_eq!(figures(a), figures(b), "{}", a.name());
    assert_eq!(a.histogram(), b.histogram(), "{}", a.name());
    assert_eq!(a.wall().histogram(), b.wall().histogram(), "{}", a.name());
    assert_eq!(a.detail().to_string(), b.detail().to_string());
}

#[test]
fn a_saved_run_reads_back_figure_for_figure() {
    let registry = busy_registry();
    let run = SavedRun::capture(&registry).label("commit", "abc123");
    let line = run.to_json_line();
    assert!(!line.contains('\n'));
    let back = SavedRun::from_json_line(&line).unwrap();

    let (saved, read) = (run.snapshot(), back.snapshot());
    assert_eq!(saved.len(), read.len());
    for (a, b) in saved.iter().zip(read.iter()) {
        assert_same(a, b);
        assert_eq!(a.slowest(), b.slowest(), "{}", a.name());
    }
    // Every line, but the slowest run's, which saved runs do not carry (yet).
    let report = |snapshot: &perf_timer::Snapshot| -> String {
        let text = snapshot.clone().into_report().to_string();
        let kept = text.lines().filter(|l| !l.starts_with("  slowest "));
        kept.map(|l| format!("{l}\n")).collect()
    };
    assert_eq!(report(saved), report(read));
    assert!(read.get("cancelled").unwrap().cancelled() == 1);
    assert!(read.get("panics").unwrap().panicked() == 1);
    assert_eq!(read.quantiles(), registry.snapshot().quantiles());

    let (a, b) = (run.info(), back.info());
    assert_eq!(b.labels["commit"], "abc123");
    assert_eq!((b.pid, &b.program, &b.args), (a.pid, &a.program, &a.args));
    assert_eq!((&b.host, &b.version), (&a.host, &a.version));
    assert_eq!(b.clock.as_deref(), Some("Clock::mock"));
    let since = |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap();
    assert_eq!(since(b.time).as_millis(), since(a.time).as_millis());
    // Written again, the line read back is the same line.
    assert_eq!(back.to_json_line(), line);
    // Why runs were slow reads back: the slowest runs with their parts,
    // and the nesting paths.
    let outer = read.get("outer").unwrap();
    assert_eq!(outer.slowest(), saved.get("outer").unwrap().slowest());
    assert_eq!(outer.slowest()[0].parts()[0].name(), "inner");
    assert_eq!(outer.slowest()[0].parts()[0].busy(), us(25));
    for kind in [Folded::Busy, Folded::Idle, Folded::Wall] {
        assert_eq!(read.folded(kind), saved.folded(kind), "{kind:?}");
    }
    assert!(read.folded(Folded::Busy).contains("outer;inner 25000\n"));
}

/// A line of schema 1, where a timer's completed runs were `runs`, reads as
/// it did; a line of a schema newer than this version's says so.
#[test]
fn a_schema_1_line_still_reads() {
    let registry = busy_registry();
    let line = registry.snapshot().to_json_line();
    let mut json: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(json["perf_timer"], saved::SCHEMA);
    json["perf_timer"] = 1.into();
    for timer in json["timers"].as_array_mut().unwrap() {
        let totals = timer["totals"].as_object_mut().unwrap();
        let count = totals.remove("count").expect("schema 2 writes count");
        totals.insert("runs".into(), count);
    }
    let old = SavedRun::from_json_line(&json.to_string()).unwrap();
    for stats in registry.snapshot().iter() {
        assert_same(stats, old.snapshot().get(stats.name()).unwrap());
    }
    json["perf_timer"] = (saved::SCHEMA + 1).into();
    let newer = SavedRun::from_json_line(&json.to_string()).unwrap_err();
    assert!(matches!(newer, SavedError::NewerSchema { .. }), "{newer}");
}

#[test]
fn a_file_skips_what_is_not_a_saved_run_and_says_which_line() {
    let path = TempPath::new("skips");
    let registry = busy_registry();
    let line = SavedRun::capture(&registry).to_json_line();
    let schema = format!("\"perf_timer\":{}", saved::SCHEMA);
    let newer = line.replacen(&schema, "\"perf_timer\":99", 1);
    assert_ne!(newer, line);
    let mut file = std::fs::File::create(&path.0).unwrap();
    writeln!(file, "{line}").unwrap(); // 1
    writeln!(file, "hello").unwrap(); // 2
    writeln!(file).unwrap(); // 3: blank, not a complaint
    writeln!(file, "{{\"some\": \"json\"}}").unwrap(); // 4
    writeln!(file, "{}", &line[..line.len() / 2]).unwrap(); // 5: torn
    writeln!(file, "{newer}").unwrap(); // 6
    file.write_all(&[0xff, 0xfe, b'\n']).unwrap(); // 7
    writeln!(file, "{line}").unwrap(); // 8
    file.write_all(&line.as_bytes()[..100]).unwrap(); // 9: torn, no newline
    drop(file);

    let read = saved::read(&path.0).unwrap();
    assert_eq!(read.runs.len(), 2);
    let lines: Vec<usize> = read.skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, [2, 4, 5, 6, 7, 9]);
    let reasons: Vec<String> = read.skipped.iter().map(ToString::to_string).collect();
    assert!(
        reasons[0].starts_with("line 2 skipped: not a saved run: not JSON"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("not written by perf-timer"),
        "{reasons:?}"
    );
    assert!(
        reasons[3].contains(&format!(
            "schema 99, newer than this perf-timer reads ({})",
            saved::SCHEMA
        )),
        "{reasons:?}"
    );
    assert!(reasons[4].contains("not UTF-8"), "{reasons:?}");
}

#[test]
fn errors_say_what_is_wrong() {
    let missing = saved::read("/no/such/dir/runs.jsonl").unwrap_err();
    assert!(matches!(missing, SavedError::Io { .. }), "{missing}");
    assert!(missing.to_string().contains("No such file"), "{missing}");

    let empty = TempPath::new("empty");
    std::fs::write(&empty.0, "").unwrap();
    let error = saved::read(&empty.0).unwrap_err();
    assert!(
        matches!(error, SavedError::NoRuns { skipped: 0, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("PERF_TIMER_SAVE"), "{error}");

    let newer = TempPath::new("newer");
    let line = SavedRun::capture(&Registry::new()).to_json_line();
    std::fs::write(
        &newer.0,
        line.replacen(
            &format!("\"perf_timer\":{}", saved::SCHEMA),
            &format!("\"perf_timer\":{}", saved::SCHEMA + 1),
            1,
        ),
    )
    .unwrap();
    let error = saved::read(&newer.0).unwrap_err();
    assert!(
        matches!(
            error,
            SavedError::NewerSchema {
                found,
                supported,
            } if found == saved::SCHEMA + 1 && supported == saved::SCHEMA
        ),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("read it with a newer perf-timer"),
        "{error}"
    );

    // A file of only foreign lines says why the first was skipped.
    let foreign = TempPath::new("foreign");
    std::fs::write(&foreign.0, "{\"a\": 1}\n").unwrap();
    let error = saved::read(&foreign.0).unwrap_err();
    assert!(error.to_string().contains("(1 line(s) skipped; line 1 skipped: not a saved run: JSON, but not written by perf-timer"), "{error}");

    // A line from before a counter existed reads it as 0.
    let registry = Registry::new();
    registry.timer("old").record(us(3));
    let line = SavedRun::capture(&registry).to_json_line();
    let older = line.replacen("\"bytes\":0,", "", 1);
    assert_ne!(older, line);
    let back = SavedRun::from_json_line(&older).unwrap();
    assert_eq!(back.snapshot().get("old").unwrap().bytes(), 0);

    // A field of the wrong shape says where it is in the run.
    let registry = Registry::new();
    registry.timer("a").record(us(5));
    let line = SavedRun::capture(&registry).to_json_line();
    let cases = [
        (
            line.replacen("\"lowest_ns\":1", "\"lowest_ns\":\"1\"", 1),
            "settings.lowest_ns: invalid type: string \"1\", expected u64",
        ),
        (
            line.replacen("\"busy\":\"", "\"busy\":7,\"was\":\"", 1),
            "timers[0].busy: invalid type: integer `7`, expected a string",
        ),
        (
            line.replacen("\"count\":1", "\"count\":-1", 1),
            "timers[0].totals.count: invalid value: integer `-1`, expected u64",
        ),
        (
            line.replacen("\"host\":", "\"hostname\":", 1),
            "not a saved run: missing field `host`",
        ),
        (format!("{line} {{}}"), "not JSON (trailing characters"),
        (
            line.replacen("\"busy\":\"", "\"busy\":[\"", 1),
            "not JSON (expected `,` or `]`",
        ),
    ];
    for (damaged, says) in cases {
        assert_ne!(damaged, line, "{says}");
        let error = SavedRun::from_json_line(&damaged).unwrap_err();
        assert!(error.to_string().contains(says), "{says}: {error}");
        // Read lazily, the header says the same, but for a timer's
        // fields, which only the run's read finds.
        let file = TempPath::new("shape");
        std::fs::write(&file.0, &damaged).unwrap();
        let first = saved::read_lazily(&file.0).unwrap().next().unwrap();
        let reason = match first {
            Ok(lazy) => lazy.read().unwrap_err().to_string(),
            Err(skipped) => skipped.reason,
        };
        assert!(reason.contains(says), "{says}: {reason}");
        assert_eq!(first_is_run(&file.0), says.contains("timers["), "{says}");
    }

    // A histogram that does not count what the totals say.
    let registry = Registry::new();
    registry.timer("a").record(us(5));
    let line = SavedRun::capture(&registry).to_json_line();
    let lying = line.replacen("\"count\":1", "\"count\":2", 1);
    let error = SavedRun::from_json_line(&lying).unwrap_err();
    assert!(
        error.to_string().contains("counts 1 runs, its totals 2"),
        "{error}"
    );
}

/// Whether the first line of `path` reads as a run's header.
fn first_is_run(path: &Path) -> bool {
    saved::read_lazily(path).unwrap().next().unwrap().is_ok()
}

/// Set in a child process: append this many runs to the file named.
const APPEND_CHILD: &str = "PERF_TIMER_SAVED_APPEND_CHILD";

#[test]
fn processes_appending_at_once_never_tear_a_line() {
    if let Ok(path) = std::env::var(APPEND_CHILD) {
        // Long lines (well over a pipe's atomic 4 KiB), many of them.
        let registry = busy_registry();
        for i in 0..40 {
            registry.timer(&format!("extra {i}")).record(us(i + 1));
        }
        let run = SavedRun::capture(&registry);
        assert!(run.to_json_line().len() > 16_384);
        for _ in 0..25 {
            run.append_to(&path).unwrap();
        }
        return;
    }
    let path = TempPath::new("appenders");
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "processes_appending_at_once_never_tear_a_line",
                    "--exact",
                    "--test-threads=1",
                ])
                .env(APPEND_CHILD, &path.0)
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let read = saved::read(&path.0).unwrap();
    assert_eq!(read.skipped.len(), 0, "{:?}", read.skipped.first());
    assert_eq!(read.runs.len(), 100);
    let pids: std::collections::BTreeSet<u32> = read.runs.iter().map(|r| r.info().pid).collect();
    assert_eq!(pids.len(), 4);
}

/// Set in a child process: end with `report_at_exit` as a program would.
const EXIT_CHILD: &str = "PERF_TIMER_SAVED_EXIT_CHILD";

fn exit_child(test: &str, path: &Path) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([test, "--exact", "--test-threads=1"])
        .env(EXIT_CHILD, "1")
        .env("PERF_TIMER_SAVE", path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

#[test]
fn perf_timer_save_saves_any_program_that_reports_at_exit() {
    if std::env::var(EXIT_CHILD).is_ok() {
        let _report = perf_timer::report_at_exit();
        perf_timer::Timer::new("child.work").record(us(70));
        return;
    }
    let path = TempPath::new("env");
    let output = exit_child(
        "perf_timer_save_saves_any_program_that_reports_at_exit",
        &path.0,
    )
    .env("PERF_TIMER_LABELS", "commit=abc123, branch = main,bogus")
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let read = saved::read(&path.0).unwrap();
    let run = &read.runs[0];
    assert_eq!(run.snapshot().get("child.work").unwrap().total(), us(70));
    let labels: Vec<(&str, &str)> = (run.info().labels.iter())
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(labels, [("branch", "main"), ("commit", "abc123")]);
    assert!(run.info().args.iter().any(|a| a == "--exact"));
    assert!(run.info().process.is_some());
}

#[test]
fn save_to_and_labels_in_code_and_a_failed_save_is_one_line() {
    if std::env::var(EXIT_CHILD).is_ok() {
        let path = std::env::var("SAVE_TO").unwrap();
        let _report = perf_timer::report_at_exit()
            .save_to(path)
            .label("machine", "ci");
        perf_timer::Timer::new("child.code").record(us(9));
        return;
    }
    let path = TempPath::new("code");
    let ignored = TempPath::new("ignored");
    let test = "save_to_and_labels_in_code_and_a_failed_save_is_one_line";
    let output = exit_child(test, &ignored.0)
        .env("SAVE_TO", &path.0)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let saved_line = format!(
        "perf-timer: the run (1 timer) was appended to {}",
        path.0.display()
    );
    assert!(stderr.contains(&saved_line), "{stderr}");
    let run = &saved::read(&path.0).unwrap().runs[0];
    assert_eq!(run.info().labels["machine"], "ci");
    assert!(run.snapshot().get("child.code").is_some());
    assert!(
        !ignored.0.exists(),
        "save_to takes the place of PERF_TIMER_SAVE"
    );

    let output = exit_child(test, &ignored.0)
        .env("SAVE_TO", "/no/such/dir/runs.jsonl")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "perf-timer: the run was not saved: cannot append to /no/such/dir/runs.jsonl"
        ),
        "{stderr}"
    );
}

#[test]
#[cfg_attr(
    perf_timer_no_python_readers,
    ignore = "needs python3 with hdrhistogram (pip install hdrhistogram prometheus-client)"
)]
fn python_reads_a_saved_file_with_the_same_percentiles() {
    let has = Command::new("python3")
        .args(["-c", "import hdrh"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        return tool_missing("python3 lacks the package hdrhistogram (pip install hdrhistogram)");
    }
    let path = TempPath::new("python");
    let registry = busy_registry();
    let run = SavedRun::capture(&registry);
    run.append_to(&path.0).unwrap();
    let output = Command::new("python3")
        .arg("interop/read_saved_run.py")
        .arg(&path.0)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(lines.len(), run.snapshot().len());
    for (line, stats) in lines.iter().zip(run.snapshot().iter()) {
        assert_eq!(line[0], stats.name().replace(' ', "_"));
        assert_eq!(line[1], stats.count().to_string());
        if stats.count() == 0 {
            continue;
        }
        let h = stats.histogram();
        for (i, q) in [(2, 0.5), (3, 0.99)] {
            let theirs: u64 = line[i].parse().unwrap();
            assert!(
                h.equivalent(theirs, h.value_at_quantile(q)),
                "{} q{q}: theirs {theirs}, ours {}",
                stats.name(),
                h.value_at_quantile(q)
            );
        }
        let max: u64 = line[4].parse().unwrap();
        assert!(h.equivalent(max, h.max()), "{}", stats.name());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// No line, however damaged, makes the reader panic.
    #[test]
    fn the_reader_never_panics_on_any_line(text in ".{0,400}") {
        let _ = SavedRun::from_json_line(&text);
    }

    /// A real line cut or with one byte changed is an error or a run,
    /// never a panic.
    #[test]
    fn damaged_real_lines_never_panic(cut in 0.0..1.0_f64, at in 0.0..1.0_f64, byte in any::<u8>()) {
        let line = sample_line();
        let cut = (line.len() as f64 * cut) as usize;
        let _ = SavedRun::from_json_line(&line[..cut]);
        let mut bytes = line.clone().into_bytes();
        let at = ((bytes.len() - 1) as f64 * at) as usize;
        bytes[at] = byte;
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = SavedRun::from_json_line(text);
        }
    }
}

fn sample_line() -> &'static String {
    static LINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LINE.get_or_init(|| SavedRun::capture(&busy_registry()).to_json_line())
}

#[test]
fn merged_runs_equal_one_registry_that_saw_every_run() {
    let (one, one_mock) = mock_registry();
    let (a, a_mock) = mock_registry();
    let (b, b_mock) = mock_registry();
    for i in 1..=300_u64 {
        let (part, mock) = if i % 3 == 0 {
            (&a, &a_mock)
        } else {
            (&b, &b_mock)
        };
        let steps = [us(i * 7 % 900 + 1), us(i % 13 + 1)];
        poll_to_end(part.timer("handle").time(Steps::new(mock, &steps)));
        poll_to_end(one.timer("handle").time(Steps::new(&one_mock, &steps)));
        if i % 5 == 0 {
            b.timer("only b").record(us(i));
            one.timer("only b").record(us(i));
        }
    }
    // Through the file, as `perf-timer merge` reads them.
    let path = TempPath::new("merge");
    SavedRun::capture(&a).append_to(&path.0).unwrap();
    SavedRun::capture(&b).append_to(&path.0).unwrap();
    let file = saved::read(&path.0).unwrap();
    let merged = perf_timer::Snapshot::merge(file.runs.iter().map(SavedRun::snapshot));
    let whole = one.snapshot();
    assert_eq!(merged.len(), whole.len());
    // The slowest runs of the merge are the slowest of the whole.
    let walls = |s: &Stats| s.slowest().iter().map(|r| r.wall()).collect::<Vec<_>>();
    let handle = |s: &perf_timer::Snapshot| walls(s.get("handle").unwrap());
    assert_eq!(handle(&merged), handle(&whole));
    assert!(!handle(&whole).is_empty());
    for (m, w) in merged.iter().zip(whole.iter()) {
        assert_same(m, w);
    }
}

/// A registry of `highest`, `figures` and `lowest`, on a mock clock.
fn ranged(lowest: Duration, highest: Duration, figures: u8) -> (Registry, perf_timer::MockClock) {
    let (clock, mock) = perf_timer::Clock::mock();
    let registry = Registry::builder()
        .clock(clock)
        .lowest(lowest)
        .highest(highest)
        .significant_figures(figures)
        .build()
        .unwrap();
    (registry, mock)
}

/// `registry`'s run, through a line and back: every timer the same.
fn round_trip(snapshot: perf_timer::Snapshot) -> perf_timer::Snapshot {
    let line = SavedRun::of_snapshot(snapshot.clone()).to_json_line();
    let back = SavedRun::from_json_line(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let back = back.into_snapshot();
    assert_eq!(snapshot.len(), back.len());
    for (a, b) in snapshot.iter().zip(back.iter()) {
        assert_same(a, b);
    }
    back
}

#[test]
fn runs_at_the_top_of_the_range_clamped_or_with_long_wall_times_read_back() {
    // The default range, 1 h: a run just under it and one of 2 h (clamped).
    let registry = Registry::new();
    let accept = registry.timer("accept loop");
    accept.record(Duration::from_millis(3_599_500));
    accept.record(Duration::from_secs(7_200));
    accept.record(us(3));
    let back = round_trip(registry.snapshot());
    let stats = back.get("accept loop").unwrap();
    assert_eq!((stats.count(), stats.clamped()), (3, 1));
    // The clamped run at the clamp, 1 h; every poll in the poll total.
    assert_eq!(
        stats.total(),
        Duration::from_millis(3_599_500 + 3_600_000) + us(3)
    );
    assert_eq!(
        stats.poll_total(),
        Duration::from_millis(3_599_500 + 7_200_000) + us(3)
    );

    // A 60 µs run under a 50 µs range.
    let (narrow, _) = ranged(Duration::from_nanos(1), us(50), 3);
    narrow.timer("q").record(us(60));
    narrow.timer("q").record(us(50));
    let back = round_trip(narrow.snapshot());
    assert_eq!(back.get("q").unwrap().count(), 2);

    // A task whose wall time is far beyond the range: 10 µs of work in a
    // run of 5 ms under a 1 ms range.
    let (registry, mock) = ranged(Duration::from_nanos(1), ms(1), 3);
    let mut run = pin!(registry
        .timer("task")
        .time(Steps::new(&mock, &[us(5), us(5)])));
    let _ = poll_once(run.as_mut());
    mock.advance(ms(5));
    assert!(poll_once(run.as_mut()).is_ready());
    let back = round_trip(registry.snapshot());
    let stats = back.get("task").unwrap();
    assert_eq!((stats.count(), stats.total()), (1, us(10)));
    assert_eq!(stats.wall().count(), 1);
}

#[test]
fn a_merge_of_two_ranges_holds_every_value_and_reads_back() {
    let (narrow, _) = ranged(Duration::from_nanos(1), ms(1), 3);
    let wide = Registry::new();
    narrow.timer("get").record(us(900));
    wide.timer("get").record(Duration::from_secs(1_800));
    wide.timer("get").record(us(900));
    // The narrow run first: its range is the one the merge starts from.
    let merged = perf_timer::Snapshot::merge([&narrow.snapshot(), &wide.snapshot()]);
    let get = merged.get("get").unwrap().clone();
    assert_eq!(get.count(), 3);
    assert!(get.max() >= Duration::from_secs(1_799), "{:?}", get.max());
    let back = round_trip(merged);
    assert_eq!(back.get("get").unwrap().quantile(1.0), get.quantile(1.0));

    // Through a file, as `perf-timer merge` does.
    let path = TempPath::new("merge-ranges");
    SavedRun::capture(&narrow).append_to(&path.0).unwrap();
    SavedRun::capture(&wide).append_to(&path.0).unwrap();
    let file = saved::read(&path.0).unwrap();
    let merged = perf_timer::Snapshot::merge(file.runs.iter().map(SavedRun::snapshot));
    SavedRun::of_snapshot(merged).append_to(&path.0).unwrap();
    let file = saved::read(&path.0).unwrap();
    assert!(file.skipped.is_empty(), "{:?}", file.skipped);
    assert_eq!(file.runs[2].snapshot().get("get").unwrap().count(), 3);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any range and precision, any values (at the top of the range and
    /// beyond it too): a saved run reads back bucket for bucket, and so does
    /// the merge of two runs of different ranges.
    #[test]
    fn any_layout_and_values_round_trip(
        lowest in prop::sample::select(vec![1_u64, 1_000]),
        highest_ms in prop::sample::select(vec![1_u64, 50, 3_600_000]),
        figures in 1_u8..=4,
        values in prop::collection::vec(0.0..1.3_f64, 1..40),
        other_highest_ms in prop::sample::select(vec![2_u64, 7_200_000]),
    ) {
        let highest = Duration::from_millis(highest_ms);
        let (registry, _) = ranged(Duration::from_nanos(lowest), highest, figures);
        let (other, _) = ranged(Duration::from_nanos(lowest), Duration::from_millis(other_highest_ms), figures);
        let timer = registry.timer("t");
        // Fractions of the range: 1.0 is its top, above 1.0 clamped.
        for f in &values {
            timer.record(highest.mul_f64(*f));
            other.timer("t").record(highest.mul_f64(*f));
        }
        timer.record(highest);
        let back = round_trip(registry.snapshot());
        prop_assert_eq!(back.get("t").unwrap().count(), values.len() as u64 + 1);
        let merged = perf_timer::Snapshot::merge([&registry.snapshot(), &other.snapshot()]);
        let back = round_trip(merged);
        prop_assert_eq!(back.get("t").unwrap().count(), 2 * values.len() as u64 + 1);
    }
}

/// Runs `bin/exit_child.rs` in `mode`, saving to `path`, with a last
/// argument that is not UTF-8; returns its stderr after checking it exited 0.
fn exit_program(mode: &str, path: &Path, env: &[(&str, &str)]) -> String {
    use std::os::unix::ffi::OsStrExt as _;
    let output = Command::new(env!("CARGO_BIN_EXE_exit_child"))
        .arg("--name")
        .arg(std::ffi::OsStr::from_bytes(b"caf\xe9"))
        .env("EXIT_MODE", mode)
        .env("PERF_TIMER_SAVE", path)
        .env_remove("PERF_TIMER_LABELS")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{mode}: {output:?}");
    assert!(!stderr.contains("panicked"), "{mode}: {stderr}");
    stderr
}

/// The report lines of `stderr` for the child's timer.
fn reports(stderr: &str) -> usize {
    stderr.matches("timer \"child.work\"").count()
}

#[test]
fn an_argument_that_is_not_utf8_is_saved_lossily_under_tokio_main() {
    let path = TempPath::new("non-utf8");
    let stderr = exit_program("main", &path.0, &[]);
    assert_eq!(reports(&stderr), 1, "{stderr}");
    let file = saved::read(&path.0).unwrap();
    assert_eq!(file.runs.len(), 1);
    assert_eq!(file.runs[0].info().args, ["--name", "caf\u{fffd}"]);
}

#[test]
fn every_guard_of_a_registry_makes_one_report_and_one_saved_run() {
    for mode in ["two-guards", "runtimes", "fork"] {
        let path = TempPath::new(&format!("once-{mode}"));
        let stderr = exit_program(mode, &path.0, &[]);
        assert_eq!(reports(&stderr), 1, "{mode}: {stderr}");
        let file = saved::read(&path.0).unwrap();
        assert_eq!(file.runs.len(), 1, "{mode}: {stderr}");
        let runs = if mode == "runtimes" { 3 } else { 1 };
        let work = file.runs[0].snapshot().get("child.work").unwrap();
        assert_eq!(work.count(), runs, "{mode}");
        if mode == "two-guards" {
            // Labels of both guards; the later one's value for one key.
            assert_eq!(file.runs[0].info().labels["from"], "application");
        }
    }
}

#[test]
fn bad_labels_and_an_empty_save_path_are_each_one_line() {
    let path = TempPath::new("labels");
    let stderr = exit_program("main", &path.0, &[("PERF_TIMER_LABELS", r"noeq,=x,k=v\,w")]);
    assert!(
        stderr.contains(r#"perf-timer: PERF_TIMER_LABELS: "noeq" has no `=`"#),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"perf-timer: PERF_TIMER_LABELS: "=x" has no key"#),
        "{stderr}"
    );
    let file = saved::read(&path.0).unwrap();
    let labels: Vec<(&String, &String)> = file.runs[0].info().labels.iter().collect();
    assert_eq!(labels, [(&"k".to_owned(), &"v,w".to_owned())]);

    let stderr = exit_program("main", Path::new(""), &[]);
    assert!(
        stderr.contains("perf-timer: PERF_TIMER_SAVE is empty: set it to a file"),
        "{stderr}"
    );
}

#[test]
fn a_run_appended_after_a_torn_line_still_reads() {
    let path = TempPath::new("after-torn");
    let registry = Registry::new();
    registry.timer("t").record(us(5));
    let line = SavedRun::capture(&registry).to_json_line();
    // A writer that died half way through its line: no line ending.
    std::fs::write(&path.0, &line[..line.len() / 2]).unwrap();
    SavedRun::capture(&registry).append_to(&path.0).unwrap();
    let file = saved::read(&path.0).unwrap();
    assert_eq!(file.runs.len(), 1);
    assert_eq!(file.skipped.len(), 1, "{:?}", file.skipped);
    assert_eq!(file.skipped[0].line, 1);
}

/// The shapes real runs take that deflate far better than noise: each
/// value a run of a regular pattern. `(start, step, n, repeat)`.
fn pattern() -> impl Strategy<Value = Vec<u64>> {
    let sweep = (1_u64..100_000, 1_u64..1_000, 1_u64..20_000)
        .prop_map(|(start, step, n)| (0..n).map(|i| start + i * step).collect());
    // A clock-tick grid: multiples of a tick, a few ticks apart.
    let grid = (
        prop::sample::select(vec![10_u64, 30, 41, 1_000]),
        1_u64..3_000,
    )
        .prop_map(|(tick, n)| (0..n).map(|i| tick * (1 + i % 97)).collect());
    // The steps of a mock clock: whole microseconds.
    let steps = (1_u64..5_000).prop_map(|n| (1..=n).map(|i| i * 1_000).collect());
    // One bucket, many times.
    let one_bucket = (1_u64..10_000_000, 1_u64..50_000).prop_map(|(v, n)| vec![v; n as usize]);
    // Every value of a range once: each of the first 2,048 is a bucket.
    let every_value = (1_u64..40_000).prop_map(|n| (1..=n).collect());
    let random = prop::collection::vec(1_u64..3_600_000_000_000, 1..500);
    prop_oneof![sweep, grid, steps, one_bucket, every_value, random]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever pattern a run's values follow, however well it deflates,
    /// its saved line reads back bucket for bucket, alone, merged with
    /// another and through a file.
    #[test]
    fn runs_of_any_pattern_read_back(
        values in pattern(),
        other in pattern(),
        figures in 2_u8..=4,
    ) {
        let (registry, _) = ranged(Duration::from_nanos(1), Duration::from_secs(3_600), figures);
        let (second, _) = ranged(Duration::from_nanos(1), Duration::from_secs(3_600), figures);
        for &v in &values {
            registry.timer("t").record(Duration::from_nanos(v));
        }
        for &v in &other {
            second.timer("t").record(Duration::from_nanos(v));
            second.timer("u").record(Duration::from_nanos(v));
        }
        let back = round_trip(registry.snapshot());
        prop_assert_eq!(back.get("t").unwrap().count(), values.len() as u64);
        let merged = perf_timer::Snapshot::merge([&registry.snapshot(), &second.snapshot()]);
        round_trip(merged.clone());

        let path = TempPath::new("patterns");
        SavedRun::capture(&registry).append_to(&path.0).unwrap();
        SavedRun::of_snapshot(merged).append_to(&path.0).unwrap();
        let file = saved::read(&path.0).unwrap();
        prop_assert!(file.skipped.is_empty(), "{:?}", file.skipped);
        prop_assert_eq!(
            file.runs[1].snapshot().get("t").unwrap().count(),
            (values.len() + other.len()) as u64
        );
    }
}

#[test]
fn a_merge_of_different_precisions_is_the_same_in_any_order() {
    let (fine, _) = ranged(Duration::from_nanos(1), Duration::from_secs(10), 3);
    let (coarse, _) = ranged(Duration::from_nanos(1_000), Duration::from_secs(3_600), 1);
    for v in [1_100_u64, 1_550, 2_000, 90_000] {
        fine.timer("t").record(Duration::from_nanos(v));
        coarse.timer("t").record(Duration::from_nanos(v));
    }
    let ab = perf_timer::Snapshot::merge([&fine.snapshot(), &coarse.snapshot()]);
    let ba = perf_timer::Snapshot::merge([&coarse.snapshot(), &fine.snapshot()]);
    let (ab, ba) = (ab.get("t").unwrap(), ba.get("t").unwrap());
    assert_same(ab, ba);
    // The finest buckets of either: the fine part's values keep theirs.
    assert_eq!(ab.busy().significant_figures(), 3);
    assert_eq!(ab.count(), 8);
    assert!(ab.max() >= Duration::from_nanos(90_000), "{:?}", ab.max());
}
