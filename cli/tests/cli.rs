//! The `perf-timer` command on runs saved by real program runs: this test
//! binary runs itself as the program (a child process that records runs
//! and saves them through `PERF_TIMER_SAVE` at exit), then runs the command
//! on the files and checks what it prints and its exit status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use proptest::prelude::*;

/// Set in the child: `seed,runs,scale` of the work to record.
const PROGRAM: &str = "PERF_TIMER_CLI_PROGRAM";

/// The program: `runs` runs of "handle" whose busy times are drawn from
/// one log-uniform distribution (100 µs to 1 ms) by a seeded generator,
/// times `scale`; a tenth as many of "flush". On a mock clock, so that
/// the figures are exact and the same seed gives the same run.
fn program(spec: &str) {
    let parts: Vec<u64> = spec.split(',').map(|p| p.parse().unwrap()).collect();
    let (mut seed, runs, scale) = (parts[0], parts[1], parts[2]);
    let (clock, _mock) = perf_timer::Clock::mock();
    let registry = perf_timer::Registry::builder()
        .clock(clock)
        .build()
        .unwrap();
    let _report = registry.report_at_exit();
    let handle = registry.timer("handle");
    let flush = registry.timer("flush");
    for i in 0..runs {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let unit = (seed >> 11) as f64 / (1_u64 << 53) as f64;
        let micros = 100.0 * 10_f64.powf(unit);
        handle.record(Duration::from_nanos((micros * 1e3) as u64 * scale));
        if i % 10 == 0 {
            flush.record(Duration::from_micros(50));
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

/// A temp file, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Temp {
        let path = std::env::temp_dir().join(format!(
            "perf-timer-cli-{name}-{}.jsonl",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Temp(path)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs the program once, saving to `file`; returns what it printed.
fn run_program(file: &Path, seed: u64, runs: u64, scale: u64, labels: &str) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["child_program", "--exact", "--ignored", "--test-threads=1"])
        .env(PROGRAM, format!("{seed},{runs},{scale}"))
        .env("PERF_TIMER_SAVE", file)
        .env("PERF_TIMER_LABELS", labels)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stderr).unwrap()
}

fn perf_timer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perf-timer"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
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

#[test]
fn diff_fails_on_a_real_regression_and_passes_on_the_same_program() {
    let (base, same, slower) = (Temp::new("base"), Temp::new("same"), Temp::new("slower"));
    run_program(&base.0, 11, 300, 1, "");
    run_program(&same.0, 22, 300, 1, ""); // other samples, same distribution
    run_program(&slower.0, 33, 300, 2, ""); // the work doubles

    let out = perf_timer(&["diff", path(&base), path(&same)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let report = text(&out.stdout);
    assert!(report.contains("timer \"handle\": no change"), "{report}");
    assert!(
        report.ends_with("0 regressed, 0 improved, 2 no change\n"),
        "{report}"
    );

    let out = perf_timer(&["diff", path(&base), path(&slower)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let report = text(&out.stdout);
    assert!(
        report.contains("timer \"handle\": regressed (mean +"),
        "{report}"
    );
    assert!(report.contains("p < 0.001"), "{report}");
    assert!(report.contains("timer \"flush\": no change"), "{report}");

    // The other way round it improved, and nothing regressed.
    let out = perf_timer(&["diff", path(&slower), path(&base)]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("timer \"handle\": improved"));

    // A threshold above the change: no regression.
    let out = perf_timer(&["diff", path(&base), path(&slower), "--threshold", "150%"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn diff_speaks_markdown_and_json_and_merges_several_runs_a_side() {
    let (base, new) = (Temp::new("md-base"), Temp::new("md-new"));
    run_program(&base.0, 5, 200, 1, "");
    run_program(&base.0, 6, 200, 1, "");
    run_program(&new.0, 7, 200, 3, "");

    let out = perf_timer(&["diff", path(&base), path(&new), "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1));
    let md = text(&out.stdout);
    assert!(md.contains("(2 runs merged)"), "{md}");
    assert!(
        md.contains("| timer | verdict | runs | mean | p50 | p90 | p99 | max |"),
        "{md}"
    );
    assert!(
        md.contains("| `handle` | **regressed** | 400 → 200 |"),
        "{md}"
    );
    assert!(md.contains("| `flush` | no change | 40 → 20 |"), "{md}");

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
    assert_eq!(json["regressed"], true);
    assert_eq!(json["base"]["runs"], 2);
    let timers = json["timers"].as_array().unwrap();
    assert_eq!(timers.len(), 1, "--timer keeps only that timer");
    assert_eq!(timers[0]["timer"], "handle");
    assert_eq!(timers[0]["verdict"], "regressed");
    assert_eq!(timers[0]["base"]["runs"], 400);
    let change = timers[0]["change_percent"]["mean"].as_f64().unwrap();
    assert!((150.0..250.0).contains(&change), "{change}");
    assert!(timers[0]["p_larger"].as_f64().unwrap() < 0.001);
}

#[test]
fn diff_lists_timers_on_one_side_as_added_or_removed() {
    let (base, new) = (Temp::new("ar-base"), Temp::new("ar-new"));
    run_program(&base.0, 1, 5, 1, ""); // "flush" runs once: too few
    run_program(&new.0, 1, 200, 1, "");
    let out = perf_timer(&["diff", path(&base), path(&new)]);
    let report = text(&out.stdout);
    assert!(report.contains("timer \"flush\": too few runs"), "{report}");
    std::fs::write(&base.0, "").unwrap();
    let out = perf_timer(&["diff", path(&new), path(&base)]);
    assert_eq!(out.status.code(), Some(2), "an empty file is an error");
}

#[test]
fn merge_equals_one_process_that_recorded_every_run() {
    let (a, b, whole, merged) = (
        Temp::new("ma"),
        Temp::new("mb"),
        Temp::new("mw"),
        Temp::new("mm"),
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
        text(&out.stderr).contains("merged 2 run(s), 2 timer(s)"),
        "{out:?}"
    );
    let out = perf_timer(&["merge", path(&whole), "-o", path(&whole)]);
    assert!(out.status.success(), "{out:?}");

    let merged_report = text(&perf_timer(&["report", path(&merged)]).stdout);
    let whole_report = text(&perf_timer(&["report", path(&whole)]).stdout);
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
        line.replacen("\"perf_timer\":1", "\"perf_timer\":7", 1),
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
    ];
    for (args, says) in cases {
        let out = perf_timer(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.starts_with("perf-timer: "), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
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
    assert_eq!(lines, 2 + 2, "a line per file, and its legend mark");
    assert!(doc.contains("99.999%") && doc.contains("busy time per run (ms)"));
    let file_name = base.0.file_name().unwrap().to_str().unwrap();
    assert!(doc.contains(file_name), "the legend names the files");

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
