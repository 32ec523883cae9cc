//! The `perf-timer` command on runs saved by real program runs: this test
//! binary runs itself as the program (a child process that records runs
//! and saves them through `PERF_TIMER_SAVE` at exit), then runs the command
//! on the files and checks what it prints and its exit status.

mod common;

use std::future::Future as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::{perf_timer, text, Temp};
use proptest::prelude::*;

/// Set in the child: `seed,runs,scale[,flags]` of the work to record.
const PROGRAM: &str = "PERF_TIMER_CLI_PROGRAM";

/// The program: `runs` runs of "handle" whose busy times are drawn from
/// one log-uniform distribution (100 µs to 1 ms) by a seeded generator,
/// times `scale`; a tenth as many of "flush". On a mock clock, so that the
/// figures are exact and the same seed gives the same run. Flags: `o` a
/// tenth as many of "req" (20 µs) and "api" (30 µs) too, `c` as `o` but every
/// "req" run is cancelled (a timeout), `e` as `o` but every "api" run returns
/// `Err`, `s` the standard clock instead of the mock one (the figures are
/// then tiny and real), `w` 900 more timers (a long output).
fn program(spec: &str) {
    let parts: Vec<&str> = spec.split(',').collect();
    let number = |i: usize| parts[i].parse::<u64>().unwrap();
    let (mut seed, runs, scale) = (number(0), number(1), number(2));
    let flags = parts.get(3).copied().unwrap_or("");
    let (clock, mock) = perf_timer::Clock::mock();
    let clock = if flags.contains('s') {
        perf_timer::Clock::std()
    } else {
        clock
    };
    let registry = perf_timer::Registry::builder()
        .clock(clock)
        .build()
        .unwrap();
    let _report = registry.report_at_exit();
    let (handle, flush) = (registry.timer("handle"), registry.timer("flush"));
    let outcomes = flags
        .contains(['o', 'c', 'e'])
        .then(|| (registry.timer("req"), registry.timer("api")));
    let mut cx = Context::from_waker(Waker::noop());
    for i in 0..runs {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let unit = (seed >> 11) as f64 / (1_u64 << 53) as f64;
        let micros = 100.0 * 10_f64.powf(unit);
        handle.record(Duration::from_nanos((micros * 1e3) as u64 * scale));
        if i % 10 != 0 {
            continue;
        }
        flush.record(Duration::from_micros(50));
        let Some((req, api)) = &outcomes else {
            continue;
        };
        // A request of 20 µs of work that either completes or is dropped
        // after its first poll.
        let cancelled = flags.contains('c');
        let mut request = Box::pin(req.time(std::future::poll_fn(|_| {
            mock.advance(Duration::from_micros(20));
            if cancelled {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })));
        let _ = request.as_mut().poll(&mut cx);
        drop(request);
        let failing = flags.contains('e');
        let mut call = Box::pin(
            api.time(std::future::poll_fn(|_| {
                mock.advance(Duration::from_micros(30));
                Poll::Ready(if failing { Err("refused") } else { Ok(()) })
            }))
            .classify::<perf_timer::ErrOutput>(),
        );
        let _ = call.as_mut().poll(&mut cx);
    }
    if flags.contains('w') {
        for i in 0..900 {
            let name = format!("wide.timer.with.a.long.name.{i:04}");
            registry.timer(&name).record(Duration::from_micros(10));
        }
    }
}

/// The child's entry point, not a test of its own: run only by
/// `run_program`, with `--ignored`.
#[test]
#[ignore = "the program the other tests run as a child process"]
fn child_program() {
    let spec = std::env::var(PROGRAM).expect("run by run_program, which sets the program");
    program(&spec);
}

/// Runs the program once, saving to `file`; returns what it printed.
fn run_program(file: &Path, seed: u64, runs: u64, scale: u64, labels: &str) -> String {
    run_program_with(file, &format!("{seed},{runs},{scale}"), labels)
}

/// Runs the program as `spec` says (see [`program`]), saving to `file`;
/// returns its report (its stderr but the saved-run line).
fn run_program_with(file: &Path, spec: &str, labels: &str) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["child_program", "--exact", "--ignored", "--test-threads=1"])
        .env(PROGRAM, spec)
        .env("PERF_TIMER_SAVE", file)
        .env("PERF_TIMER_LABELS", labels)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // The report, without the line that says where the run was saved.
    let stderr = String::from_utf8(output.stderr).unwrap();
    let saved = "perf-timer: the run (";
    assert!(stderr.contains(saved), "{stderr}");
    stderr
        .lines()
        .filter(|line| !line.starts_with(saved))
        .map(|line| format!("{line}\n"))
        .collect()
}

fn path(p: &Temp) -> &str {
    p.0.to_str().unwrap()
}

#[test]
fn report_prints_the_run_as_the_program_printed_it_at_exit() {
    let file = Temp::new("report");
    let first = run_program(&file.0, 1, 200, 1, "commit=aaa");
    let second = run_program(&file.0, 2, 100, 1, "commit=bbb");

    let out = perf_timer(&["report", path(&file)]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stdout), second, "the last run, by default");
    assert!(text(&out.stderr).contains("holds 2 runs; this is run 2"));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("perf-timer: run 2: 20") && stderr.contains("Z, "),
        "{stderr}"
    );
    assert!(stderr.contains(", labels commit=bbb"), "{stderr}");

    let out = perf_timer(&["report", path(&file), "--run", "1"]);
    assert_eq!(text(&out.stdout), first);
    let out = perf_timer(&["report", path(&file), "--label", "commit=bbb"]);
    assert_eq!(text(&out.stdout), second);
    assert!(first.contains("timer \"handle\": avg "), "{first}");
    let out = perf_timer(&["report", path(&file), "--run", "1", "--grouped"]);
    let grouped = text(&out.stdout);
    assert!(grouped.starts_with("(all): "), "{grouped}");
    assert!(grouped.contains("in 220 runs of 2 timers"), "{grouped}");
    assert_eq!(grouped.lines().count(), first.lines().count() + 1);
    assert!(
        first.lines().last().unwrap().starts_with("process: "),
        "{first}"
    );
}

/// `runs` process runs of the program into `file`, seeds from `seed`.
fn save_runs(file: &Path, seed: u64, runs: u64, samples: u64, scale: u64, flags: &str) {
    for i in 0..runs {
        run_program_with(file, &format!("{},{samples},{scale},{flags}", seed + i), "");
    }
}

#[test]
fn diff_judges_process_runs_and_says_what_it_cannot_tell() {
    let (base, same, slower) = (Temp::new("base"), Temp::new("same"), Temp::new("slower"));
    // Three process runs a side of 1,000 samples each: each run's mean busy
    // time of "handle" varies by about 2 % between runs (other seeds).
    save_runs(&base.0, 10, 3, 1_000, 1, "o");
    save_runs(&same.0, 20, 3, 1_000, 1, "o");
    save_runs(&slower.0, 30, 3, 1_000, 2, "o"); // the work doubles

    // The same program: at ±5 % it cannot be told, as each run's median of
    // 1,000 samples spread over 10× is itself uncertain by about ±10 %;
    // the reason says so. Not a regression either way.
    let out = perf_timer(&["diff", path(&base), path(&same)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let report = text(&out.stdout);
    assert!(
        report.contains("timer \"handle\": inconclusive: p50 "),
        "{report}"
    );
    assert!(
        report.contains("the p50 of single runs is uncertain: its interval spans 2")
            && report.contains("more runs cannot tell"),
        "{report}"
    );
    assert!(
        report.contains("\n  runs                 3           3\n"),
        "{report}"
    );
    // "flush" is the same 50 µs in every run: no change, its interval as
    // wide as the histogram's precision (0.1 %) allows, never a point.
    assert!(
        report.contains("timer \"flush\": no change: p50 +0.0% [-0.1%, +0.1%], within ±5%"),
        "{report}"
    );
    // A threshold the spread allows: no change.
    let out = perf_timer(&["diff", path(&base), path(&same), "--threshold", "20%"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).ends_with("0 regressed, 0 improved, 0 inconclusive, 4 no change\n"),
        "{}",
        text(&out.stdout)
    );

    let out = perf_timer(&["diff", path(&base), path(&slower)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let report = text(&out.stdout);
    assert!(
        report.contains("timer \"handle\": regressed: p50 +"),
        "{report}"
    );
    assert!(report.contains("beyond ±5%"), "{report}");
    assert!(report.contains("timer \"flush\": no change"), "{report}");
    assert!(
        report.ends_with("1 regressed, 0 improved, 0 inconclusive, 3 no change\n"),
        "{report}"
    );

    // The other way round it improved, and nothing regressed.
    let out = perf_timer(&["diff", path(&slower), path(&base)]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("timer \"handle\": improved"));

    // A threshold above the change: no regression.
    let out = perf_timer(&["diff", path(&base), path(&slower), "--threshold", "150%"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn one_run_a_side_is_inconclusive_unless_beyond_twice() {
    let (base, same, triple) = (
        Temp::new("one-base"),
        Temp::new("one-same"),
        Temp::new("one-x3"),
    );
    run_program(&base.0, 11, 300, 1, "");
    run_program(&same.0, 22, 300, 1, "");
    run_program(&triple.0, 33, 300, 3, "");
    let out = perf_timer(&["diff", path(&base), path(&same)]);
    assert_eq!(out.status.code(), Some(0));
    let report = text(&out.stdout);
    assert!(
        report.contains("one run a side gives no estimate of run-to-run noise"),
        "{report}"
    );
    let out = perf_timer(&["diff", path(&base), path(&triple)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("beyond 2× with one run a side"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn more_cancelled_or_failed_runs_are_a_regression_with_the_reason() {
    let (base, timeouts, failures) = (Temp::new("oc-base"), Temp::new("oc-c"), Temp::new("oc-e"));
    save_runs(&base.0, 40, 2, 2_000, 1, "o");
    save_runs(&timeouts.0, 50, 2, 2_000, 1, "c");
    save_runs(&failures.0, 60, 2, 2_000, 1, "e");

    // Every "req" now ends cancelled: not "removed" but regressed.
    let out = perf_timer(&["diff", path(&base), path(&timeouts)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let report = text(&out.stdout);
    assert!(
        report.contains("timer \"req\": regressed: cancelled 0 → 400"),
        "{report}"
    );
    assert!(
        report.contains("\n  cancelled            0         400\n"),
        "{report}"
    );

    // Every "api" call now returns Err: same busy time, still regressed.
    let out = perf_timer(&["diff", path(&base), path(&failures)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let report = text(&out.stdout);
    assert!(
        report.contains("timer \"api\": regressed: errors 0 → 400; p50 +0.0% [-0.4%, +0.4%]"),
        "{report}"
    );
    // The other way round, fewer errors is not a regression.
    let out = perf_timer(&["diff", path(&failures), path(&base)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn runs_on_different_clocks_are_not_compared_unless_asked() {
    let (mock, std_clock) = (Temp::new("clk-mock"), Temp::new("clk-std"));
    run_program_with(&mock.0, "1,50,1", "");
    run_program_with(&std_clock.0, "1,50,1,s", "");
    let out = perf_timer(&["diff", path(&mock), path(&std_clock)]);
    assert_eq!(out.status.code(), Some(2));
    let error = text(&out.stderr);
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.contains("was timed with Clock::mock and")
            && error.contains(
                "with Clock::std: their busy times are not comparable; give --allow-mixed-clocks"
            ),
        "{error}"
    );
    let out = perf_timer(&[
        "diff",
        path(&mock),
        path(&std_clock),
        "--allow-mixed-clocks",
    ]);
    assert_ne!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out.stdout).contains("clocks differ (base Clock::mock, new Clock::std)"));
}

#[test]
fn diff_speaks_markdown_and_json() {
    let (base, new) = (Temp::new("md-base"), Temp::new("md-new"));
    save_runs(&base.0, 5, 3, 500, 1, "o");
    save_runs(&new.0, 15, 3, 500, 3, "o");

    let out = perf_timer(&["diff", path(&base), path(&new), "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1));
    let md = text(&out.stdout);
    assert!(
        md.starts_with("**perf-timer: 1 regressed, 0 improved, 0 inconclusive, 3 no change** ❌\n"),
        "{md}"
    );
    // The changed timer in the open table, the others folded.
    let (open, folded) = md.split_once("<details>").unwrap();
    assert!(open.contains("| `handle` | **regressed** | +2"), "{md}");
    assert!(open.contains("| 3 → 3 |"), "{md}");
    assert!(!open.contains("`flush`"), "{md}");
    assert!(
        folded.starts_with("<summary>3 timer(s) with no change</summary>"),
        "{md}"
    );
    assert!(folded.contains("| `flush` | no change |"), "{md}");

    let out = perf_timer(&[
        "diff",
        path(&base),
        path(&new),
        "--format",
        "json",
        "--timer",
        "handle",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], "perf-timer-diff");
    assert_eq!(json["version"], 2);
    assert_eq!(json["regressed"], true);
    assert_eq!(json["base"]["runs"], 3);
    assert_eq!(json["summary"]["regressed"], 1);
    let timers = json["timers"].as_array().unwrap();
    assert_eq!(timers.len(), 1, "--timer keeps only that timer");
    let handle = &timers[0];
    assert_eq!(handle["timer"], "handle");
    assert_eq!(handle["verdict"], "regressed");
    assert_eq!(handle["base"]["runs"], 3);
    assert_eq!(handle["base"]["samples"], 1_500);
    assert_eq!(handle["base"]["run_values_ns"].as_array().unwrap().len(), 3);
    assert_eq!(handle["base"]["quantiles_ns"][2]["q"], 0.99);
    let change = &handle["change"];
    assert_eq!(change["basis"], "p50");
    let (low, mid, high) = (
        change["low_percent"].as_f64().unwrap(),
        change["percent"].as_f64().unwrap(),
        change["high_percent"].as_f64().unwrap(),
    );
    assert!(5.0 < low && low < mid && mid < high, "{change}");
    assert!((150.0..250.0).contains(&mid), "{mid}");
}

#[test]
fn diff_lists_timers_on_one_side_as_added_or_removed() {
    let (base, new) = (Temp::new("ar-base"), Temp::new("ar-new"));
    run_program(&base.0, 1, 200, 1, "");
    run_program_with(&new.0, "1,200,1,w", "");
    let out = perf_timer(&["diff", path(&base), path(&new)]);
    let report = text(&out.stdout);
    assert!(
        report.contains("timer \"wide.timer.with.a.long.name.0000\": added\n"),
        "{report}"
    );
    let out = perf_timer(&["diff", path(&new), path(&base)]);
    assert!(
        text(&out.stdout).contains("900 removed"),
        "{}",
        text(&out.stdout)
    );
    std::fs::write(&base.0, "").unwrap();
    let out = perf_timer(&["diff", path(&new), path(&base)]);
    assert_eq!(out.status.code(), Some(2), "an empty file is an error");
}

/// `perf-timer diff … | head -c 10`: the reader goes away early; the
/// command ends quietly, no panic, with its own exit status.
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::io::Read as _;
    let (base, new) = (Temp::new("pipe-base"), Temp::new("pipe-new"));
    run_program_with(&base.0, "1,20,1,w", "");
    run_program_with(&new.0, "2,20,1,w", "");
    for command in [
        vec!["diff", path(&base), path(&new)],
        vec!["report", path(&new)],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_perf-timer"))
            .args(&command)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0_u8; 10];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap();
        // The read end is closed here: more than a pipe's buffer is left.
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{command:?}: {stderr}");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{command:?}: {out:?}"
        );
    }
}

#[test]
fn merge_equals_one_process_that_recorded_every_run() {
    let (a, b, whole, merged, whole_merged) = (
        Temp::new("ma"),
        Temp::new("mb"),
        Temp::new("mw"),
        Temp::new("mm"),
        Temp::new("mwm"),
    );
    // The same seed, in two halves and whole: the halves' runs together
    // are exactly the whole run's when the generator restarts at the same
    // place, so record the same 100 runs twice instead.
    run_program(&a.0, 9, 100, 1, "commit=x,host=a");
    run_program(&b.0, 9, 100, 1, "commit=x,host=b");
    run_program(&whole.0, 9, 100, 1, "");
    run_program(&whole.0, 9, 100, 1, "");
    let out = perf_timer(&["merge", path(&a), path(&b), "-o", path(&merged)]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        text(&out.stderr).contains("merged 2 run(s) of ")
            && text(&out.stderr).contains(", 2 timer(s)"),
        "{out:?}"
    );
    // Into one of its own inputs, under any name: refused, the file untouched.
    let before = std::fs::read(&whole.0).unwrap();
    let dir = whole.0.parent().unwrap();
    let same = dir
        .join("..")
        .join(dir.file_name().unwrap())
        .join(whole.0.file_name().unwrap());
    let out = perf_timer(&[
        "merge",
        path(&a),
        path(&whole),
        "-o",
        same.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        text(&out.stderr).contains("is one of the files to merge"),
        "{out:?}"
    );
    assert_eq!(std::fs::read(&whole.0).unwrap(), before);
    let out = perf_timer(&["merge", path(&whole), "-o", path(&whole_merged)]);
    assert!(out.status.success(), "{out:?}");

    let merged_report = text(&perf_timer(&["report", path(&merged)]).stdout);
    let whole_report = text(&perf_timer(&["report", path(&whole_merged)]).stdout);
    assert!(merged_report.contains("in 200 runs"), "{merged_report}");
    assert_eq!(merged_report, whole_report);
    let read = perf_timer::saved::read(&merged.0).unwrap();
    let labels = &read.runs[0].info().labels;
    assert_eq!(labels["commit"], "x", "shared labels are kept");
    assert!(!labels.contains_key("host"), "differing labels are not");
    assert_eq!(labels["merged_runs"], "2");
}

#[test]
fn errors_are_sentences_with_exit_status_two() {
    let file = Temp::new("errors");
    run_program(&file.0, 1, 20, 1, "");
    let newer = Temp::new("errors-newer");
    let line = std::fs::read_to_string(&file.0).unwrap();
    std::fs::write(
        &newer.0,
        line.replacen(
            &format!("\"perf_timer\":{}", perf_timer::saved::SCHEMA),
            "\"perf_timer\":99",
            1,
        ),
    )
    .unwrap();
    let empty = Temp::new("errors-empty");
    std::fs::write(&empty.0, "").unwrap();

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["report", "/no/such/file.jsonl"],
            "cannot read /no/such/file.jsonl",
        ),
        (vec!["report", path(&empty)], "holds no saved run"),
        (
            vec!["report", path(&newer)],
            "read it with a newer perf-timer",
        ),
        (
            vec!["report", path(&file), "--run", "3"],
            "holds 1 run(s), so there is no run 3",
        ),
        (
            vec!["report", path(&file), "--label", "nolabel"],
            "--label takes key=value",
        ),
        (vec!["report", path(&file), "--label", "a=b"], "no run in"),
        (
            vec!["diff", path(&file), path(&file), "--timer", "nope"],
            "no timer is named \"nope\"; the timers are: flush, handle",
        ),
        (
            vec!["diff", path(&file), path(&file), "--threshold", "lots"],
            "--threshold takes a percentage",
        ),
        (
            vec!["diff", path(&file), "--bogus"],
            "unexpected argument '--bogus' found; `perf-timer --help` says more",
        ),
        (
            vec!["diff", path(&file), path(&file), "--by", "p200"],
            "--by takes mean, median or a percentile",
        ),
    ];
    for (args, says) in cases {
        let out = perf_timer(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with("perf-timer: "), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one sentence: {stderr}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever a file holds, the command answers with a report or an
    /// error, never a panic (exit status 101).
    #[test]
    fn no_file_makes_the_command_panic(lines in proptest::collection::vec(".{0,200}", 0..4)) {
        let file = Temp::new("fuzz");
        std::fs::write(&file.0, lines.join("\n")).unwrap();
        for args in [vec!["report", path(&file)], vec!["diff", path(&file), path(&file)]] {
            let out = perf_timer(&args);
            prop_assert!(matches!(out.status.code(), Some(0 | 2)), "{:?}", out);
        }
    }
}

/// The plot and html commands need a font for the charts' text (Debian's
/// fonts-dejavu-core, which `.ci/run` installs): without one they say so,
/// and these tests are skipped unless `PERF_TIMER_INTEROP=require`.
fn font_missing(out: &Output) -> bool {
    if !text(&out.stderr).contains("no font to draw the chart's text") {
        return false;
    }
    assert_ne!(
        std::env::var("PERF_TIMER_INTEROP").as_deref(),
        Ok("require"),
        "PERF_TIMER_INTEROP=require, but no font: {}",
        text(&out.stderr)
    );
    eprintln!("skipped: no font for the charts (apt install fonts-dejavu-core)");
    true
}

/// A temp file of another extension, removed when dropped.
fn temp_out(name: &str) -> Temp {
    Temp(std::env::temp_dir().join(format!("perf-timer-cli-{}-{name}", std::process::id())))
}

#[test]
fn plot_draws_valid_svg_and_png() {
    let (base, new) = (Temp::new("plot-a"), Temp::new("plot-b"));
    run_program(&base.0, 1, 300, 1, "");
    run_program(&new.0, 2, 300, 2, "");
    let svg = temp_out("chart.svg");
    let out = perf_timer(&[
        "plot",
        path(&base),
        path(&new),
        "--timer",
        "handle",
        "-o",
        path(&svg),
    ]);
    if font_missing(&out) {
        return;
    }
    assert!(out.status.success(), "{out:?}");
    let doc = std::fs::read_to_string(&svg.0).unwrap();
    assert!(
        doc.trim_start().starts_with("<svg") && doc.trim_end().ends_with("</svg>"),
        "{doc}"
    );
    let lines = doc.matches("stroke-width=\"2\" points=").count();
    assert_eq!(lines, 2, "a line per file");
    let marks = doc.matches("stroke-width=\"3\" points=").count();
    assert_eq!(marks, 2, "a legend mark per file");
    assert!(doc.contains("busy time per run (ms)"));
    // 300 runs tell percentiles up to 99.7 %: the axis stops there.
    let texts: Vec<&str> = doc.lines().map(str::trim).collect();
    assert!(texts.contains(&"99%") && !doc.contains("99.9%"), "{doc}");
    let file_name = base.0.file_name().unwrap().to_str().unwrap();
    assert!(doc.contains(file_name), "the legend names the files");
    // The legend sits right of the plotted area, never over a line.
    let legend_x = text_x(&doc, file_name);
    assert!(legend_x >= 960 - 300, "legend at x = {legend_x}");

    // Where busy time goes, two files: bars side by side, self busy time.
    let out = perf_timer(&[
        "plot",
        path(&base),
        path(&new),
        "--by-timer",
        "-o",
        path(&svg),
    ]);
    assert!(out.status.success(), "{out:?}");
    let doc = std::fs::read_to_string(&svg.0).unwrap();
    assert!(doc.contains("self busy time (ms)"), "{doc}");
    assert!(text_x(&doc, file_name) >= 960 - 300, "{doc}");
    assert!(
        doc.contains(" vs "),
        "the title names both files, not a sum"
    );

    // One file: a line per timer.
    let out = perf_timer(&["plot", path(&base), "-o", path(&svg)]);
    assert!(out.status.success(), "{out:?}");
    let doc = std::fs::read_to_string(&svg.0).unwrap();
    let texts: Vec<&str> = doc.lines().map(str::trim).collect();
    assert!(
        texts.contains(&"handle") && texts.contains(&"flush"),
        "{doc}"
    );

    // One file of two runs, one timer: a line per run, named by its labels.
    let two = Temp::new("plot-two");
    run_program(&two.0, 1, 100, 1, "commit=aaa");
    run_program(&two.0, 2, 100, 2, "commit=bbb");
    let out = perf_timer(&["plot", path(&two), "--timer", "handle", "-o", path(&svg)]);
    assert!(out.status.success(), "{out:?}");
    let doc = std::fs::read_to_string(&svg.0).unwrap();
    let texts: Vec<&str> = doc.lines().map(str::trim).collect();
    assert!(
        texts.contains(&"run 1 (commit=aaa)") && texts.contains(&"run 2 (commit=bbb)"),
        "{doc}"
    );

    let png = temp_out("chart.png");
    for args in [
        vec!["plot", path(&base), path(&new), "--timer", "handle"],
        vec!["plot", path(&base), path(&new), "--by-timer"],
    ] {
        let mut args = args.clone();
        args.extend(["-o", path(&png)]);
        let out = perf_timer(&args);
        assert!(out.status.success(), "{out:?}");
        let bytes = std::fs::read(&png.0).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        assert_eq!(width, 960);
    }

    let out = perf_timer(&["plot", path(&base), path(&new), "-o", path(&svg)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("choose the one to compare with --timer NAME (flush, handle)")
    );
    let out = perf_timer(&["plot", path(&base), "-o", "chart.jpg"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("must end in .svg or .png"));
}

/// The x of the last SVG `<text>` element whose text contains `needle`.
fn text_x(doc: &str, needle: &str) -> i32 {
    let at = doc
        .rfind(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in {doc}"));
    let tag = doc[..at].rfind("<text").unwrap();
    let x = &doc[tag..at];
    let x = &x[x.find("x=\"").unwrap() + 3..];
    x[..x.find('"').unwrap()].parse().unwrap()
}

/// The CI recipe (docs/ci/perf.yml) runs docs/ci/perf.sh: the same script
/// here, on the child program as the baseline and the change, 3 runs each.
#[test]
fn the_ci_recipe_runs_end_to_end() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/ci/perf.sh");
    let exe = std::env::current_exe().unwrap();
    let program = |spec: &str| {
        format!(
            "env {PROGRAM}={spec} {} child_program --exact --ignored --test-threads=1",
            exe.display()
        )
    };
    let recipe = |name: &str, base: &str, new: &str| {
        let dir = std::env::temp_dir().join(format!("perf-timer-ci-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("sh")
            .arg(&script)
            .args([program(base), program(new), "3".into()])
            .env("PERF_TIMER", env!("CARGO_BIN_EXE_perf-timer"))
            .current_dir(&dir)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        let found = (
            status.code(),
            read("perf.md"),
            read("base.jsonl"),
            read("new.jsonl"),
        );
        let _ = std::fs::remove_dir_all(&dir);
        found
    };

    // The change doubles "handle": exit 1, and the comment says so first.
    let (code, comment, base, new) = recipe("slower", "7,500,1,o", "8,500,2,o");
    assert_eq!(code, Some(1), "{comment}");
    assert!(
        comment
            .starts_with("**perf-timer: 1 regressed, 0 improved, 0 inconclusive, 3 no change** ❌"),
        "{comment}"
    );
    assert!(
        comment.contains("| `handle` | **regressed** |"),
        "{comment}"
    );
    assert_eq!((base.lines().count(), new.lines().count()), (3, 3));
    assert!(base.contains("\"side\":\"base\"") && new.contains("\"side\":\"new\""));

    // The same program on both sides: exit 0.
    let (code, comment, _, _) = recipe("same", "7,500,1,o", "7,500,1,o");
    assert_eq!(code, Some(0), "{comment}");
    assert!(
        comment.starts_with("**perf-timer: 0 regressed"),
        "{comment}"
    );
}

/// One run of timer "cache" saved through the library into `file`:
/// `fast` calls spread over 10.0–10.2 µs, the rest of 2,000 over
/// 99.0–100.6 µs (a cache hit or miss).
fn save_two_mode_run(file: &Path, fast: u64) {
    let registry = perf_timer::Registry::new();
    let timer = registry.timer("cache");
    let slow = 2_000 - fast;
    for i in 0..fast {
        timer.record(Duration::from_nanos(10_000 + 200 * i / fast));
    }
    for i in 0..slow {
        timer.record(Duration::from_nanos(99_000 + 1_600 * i / slow));
    }
    perf_timer::saved::SavedRun::capture(&registry)
        .append_to(file)
        .unwrap();
}

/// The change in a timer's block: (the verdict line's, the `label` row's).
fn headline_and_row(report: &str, label: &str) -> (String, String) {
    let verdict = report.lines().find(|l| l.starts_with("timer ")).unwrap();
    let headline = verdict.split(&format!(": {label} ")).nth(1).unwrap();
    let headline = headline.split([' ', ',', ':']).next().unwrap();
    (headline.to_owned(), row_change(report, label))
}

/// The change in the `label` row of a timer's block.
fn row_change(report: &str, label: &str) -> String {
    let row = (report.lines())
        .find(|l| l.trim_start().starts_with(&format!("{label} ")))
        .unwrap();
    row.split_whitespace().last().unwrap().to_owned()
}

#[test]
fn a_two_mode_timer_whose_median_flips_is_inconclusive_and_says_why() {
    // The same program three times a side: each run's median lands on the
    // mode with a few more calls, fast in base and slow in new (1 time in
    // 32 for three runs a side), with no spread within a side.
    let (base, new) = (Temp::new("modes-base"), Temp::new("modes-new"));
    for _ in 0..3 {
        save_two_mode_run(&base.0, 1_010);
        save_two_mode_run(&new.0, 990);
    }
    let out = perf_timer(&["diff", path(&base), path(&new)]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(
        report.contains("timer \"cache\": inconclusive: p50 +8")
            && report.contains(
                "the p50 of single runs is uncertain: its interval spans 10.2 µs–99.2 µs"
            ),
        "{report}"
    );
    // The headline is the table's own figure.
    let (headline, row) = headline_and_row(&report, "p50");
    assert!(headline.starts_with("+8"), "{report}");
    assert_eq!(headline, row, "{report}");

    // Judged by the mean, the two sides are within 10 %. The median's
    // move is no evidence either: the line does not call it moved.
    let args = ["diff", path(&base), path(&new), "--by", "mean"];
    let out = perf_timer(&[&args[..], &["--threshold", "10"]].concat());
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    let (mean, row) = headline_and_row(&report, "mean");
    assert_eq!(mean, row, "{report}");
    assert!(
        report.contains(&format!("timer \"cache\": no change: mean {mean} ["))
            && !report.contains("moved beyond"),
        "{report}"
    );

    // A threshold that looks like a fraction: said, as given.
    let out = perf_timer(&["diff", path(&base), path(&new), "--threshold", "0.05"]);
    assert!(
        text(&out.stderr)
            .contains("--threshold 0.05 means 0.05 %, not a fraction; did you mean 5 %?"),
        "{}",
        text(&out.stderr)
    );
}

/// One run of timer "query" saved through the library into `file`: 2,000
/// calls spread over 1.00–1.10 µs × `scale`, of which `slow` take 20 µs.
fn save_tail_run(file: &Path, scale: f64, slow: u64) {
    let registry = perf_timer::Registry::new();
    let timer = registry.timer("query");
    for i in 0..2_000 {
        let ns = if i < slow {
            20_000.0
        } else {
            (1_000.0 + i as f64 / 20.0) * scale
        };
        timer.record(Duration::from_nanos(ns as u64));
    }
    perf_timer::saved::SavedRun::capture(&registry)
        .append_to(file)
        .unwrap();
}

#[test]
fn a_tail_that_moved_beside_a_steady_median_is_said_with_the_flag_to_judge_it() {
    // Three runs a side, 1 % apart; in new, 3 % of the calls take 20 µs:
    // the median moves by a few tenths of a percent, the p99 by 18×.
    let (base, new) = (Temp::new("tail-base"), Temp::new("tail-new"));
    for scale in [0.99, 1.0, 1.01] {
        save_tail_run(&base.0, scale, 0);
        save_tail_run(&new.0, scale, 60);
    }
    let out = perf_timer(&["diff", path(&base), path(&new)]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    let (p50, row) = headline_and_row(&report, "p50");
    assert_eq!(p50, row, "{report}");
    let p99 = row_change(&report, "p99");
    assert!(p99.starts_with("+17") || p99.starts_with("+18"), "{report}");
    assert!(
        report.contains(&format!("timer \"query\": no change: p50 {p50} ["))
            && report.contains(&format!(
                "within ±5%; but p99 {p99} moved beyond ±5% (judge it with --by p99)"
            )),
        "{report}"
    );
    // Judged by the p99, it regressed.
    let out = perf_timer(&["diff", path(&base), path(&new), "--by", "p99"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains(&format!("timer \"query\": regressed: p99 {p99} [")),
        "{}",
        text(&out.stdout)
    );
    // JSON: the same numbers.
    let out = perf_timer(&["diff", path(&base), path(&new), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let query = &json["timers"][0];
    assert_eq!(query["verdict"], "no change");
    assert_eq!(query["also_moved"][0]["figure"], "p99");
    let percent = query["also_moved"][0]["percent"].as_f64().unwrap();
    assert_eq!(format!("{percent:+.1}%"), p99);
    let typical = |side: &str| query[side]["quantiles_ns"][2]["ns"].as_f64().unwrap();
    assert_eq!(query["base"]["quantiles_ns"][2]["q"], 0.99);
    assert!(
        ((typical("new") / typical("base") - 1.0) * 100.0 - percent).abs() < 1e-9,
        "{query}"
    );
    let change = query["change"]["percent"].as_f64().unwrap();
    assert_eq!(format!("{change:+.1}%"), p50);
}

#[test]
fn a_timer_without_completed_runs_says_so() {
    let (a, b) = (Temp::new("all-cancelled-a"), Temp::new("all-cancelled-b"));
    // Every "req" run cancelled, 200 to 230 of them a process.
    for (file, samples) in [(&a, [2_000, 2_300]), (&b, [2_100, 2_200])] {
        for n in samples {
            run_program_with(&file.0, &format!("70,{n},1,c"), "");
        }
    }
    let out = perf_timer(&["diff", path(&a), path(&b)]);
    let report = text(&out.stdout);
    let req = report
        .lines()
        .find(|l| l.starts_with("timer \"req\""))
        .unwrap();
    assert!(req.contains("inconclusive: poll total +0.2% ["), "{report}");
    // The spread of the poll totals (±9.9 % and ±3.3 %), not of busy
    // times no run completed.
    assert!(
        req.contains(
            "straddles ±5%: no completed run on either side, so each run's poll total is \
             compared; runs too few for the spread between runs (±9.9%); about"
        ),
        "{req}"
    );
}
