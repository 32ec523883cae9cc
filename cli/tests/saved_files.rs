//! Files of saved runs as teams keep them: a damaged run among good ones,
//! runs of different clocks merged, runs that compress far better than
//! noisy ones. Every command reads what can be read and says what cannot.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use base64::Engine as _;
use common::{perf_timer, text, Temp};
use perf_timer::saved::SavedRun;
use perf_timer::{Clock, Registry};

/// The line of a run of "get" and "put", `runs` runs each of `micros` µs,
/// on `clock`.
fn run_line(clock: Clock, runs: u64, micros: u64) -> String {
    let registry = Registry::builder().clock(clock).build().unwrap();
    for i in 0..runs {
        registry
            .timer("get")
            .record(Duration::from_micros(micros + i % 7));
        registry
            .timer("put")
            .record(Duration::from_micros(2 * micros + i % 5));
    }
    SavedRun::capture(&registry).to_json_line()
}

/// `line` with the busy histogram of its first timer damaged: cut in half
/// (its deflate stream ends early) or, with `not_base64`, not base64.
fn damaged(line: &str, not_base64: bool) -> String {
    let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
    let busy = &mut value["timers"][0]["busy"];
    let encoded = busy.as_str().unwrap();
    let damaged = if not_base64 {
        format!("!!{}", &encoded[2..])
    } else {
        let engine = base64::engine::general_purpose::STANDARD;
        let mut bytes = engine.decode(encoded).unwrap();
        bytes.truncate(bytes.len() / 2);
        engine.encode(bytes)
    };
    *busy = serde_json::Value::String(damaged);
    value.to_string()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// The runs of a file whose second and third runs are damaged: 100, then
/// 300 runs of each timer.
fn file_with_damage_in_the_middle(name: &str) -> Temp {
    let file = Temp::new(name);
    let good = run_line(Clock::mock().0, 100, 50);
    let lines = [
        good.clone(),
        damaged(&good, false),
        damaged(&good, true),
        run_line(Clock::mock().0, 300, 50),
    ];
    write_lines(&file.0, &lines);
    file
}

fn assert_says_lines_skipped(out: &Output) {
    let stderr = text(&out.stderr);
    for line in [2, 3] {
        assert!(
            stderr.contains(&format!(
                "line {line} skipped: not a saved run: timer \"get\": a histogram"
            )),
            "line {line}: {stderr}"
        );
    }
}

#[test]
fn a_damaged_run_in_the_middle_never_takes_the_file_with_it() {
    let file = file_with_damage_in_the_middle("middle");
    let good = Temp::new("middle-good");
    write_lines(&good.0, &[run_line(Clock::mock().0, 100, 50)]);

    // report: the last run, which reads.
    let out = perf_timer(&["report", file.arg()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(text(&out.stdout).contains("in 300 runs"), "{out:?}");
    // A damaged run asked for by number is an error that says why.
    let out = perf_timer(&["report", file.arg(), "--run", "2"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        text(&out.stderr)
            .contains("line 2 does not read: not a saved run: timer \"get\": a histogram"),
        "{out:?}"
    );

    // diff: the two good runs against one, with both skips said.
    let out = perf_timer(&["diff", good.arg(), file.arg()]);
    assert_ne!(out.status.code(), Some(2), "{out:?}");
    assert_says_lines_skipped(&out);
    assert!(text(&out.stdout).contains("(2 runs merged)"), "{out:?}");

    // merge: the two good runs, 400 of each timer.
    let merged = Temp::new("middle-merged");
    let out = perf_timer(&["merge", file.arg(), "-o", merged.arg()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_says_lines_skipped(&out);
    let read = perf_timer::saved::read(&merged.0).unwrap();
    assert_eq!(read.runs[0].info().labels["merged_runs"], "2");
    assert_eq!(read.runs[0].snapshot().get("get").unwrap().count(), 400);

    // top: a replay of the file, one frame between the two good runs.
    let out = perf_timer(&["top", file.arg()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_says_lines_skipped(&out);
    assert!(text(&out.stdout).contains("get"), "{out:?}");

    // plot and html: drawn from the good runs (when a font is there).
    let svg = std::env::temp_dir().join(format!("perf-timer-files-{}.svg", std::process::id()));
    let html = svg.with_extension("html");
    for args in [
        vec![
            "plot",
            file.arg(),
            "--timer",
            "get",
            "-o",
            svg.to_str().unwrap(),
        ],
        vec!["html", good.arg(), file.arg(), "-o", html.to_str().unwrap()],
    ] {
        let out = perf_timer(&args);
        if text(&out.stderr).contains("no font to draw the chart's text") {
            assert_ne!(
                std::env::var("PERF_TIMER_INTEROP").as_deref(),
                Ok("require"),
                "no font: {out:?}"
            );
            continue;
        }
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert_says_lines_skipped(&out);
    }
    let _ = std::fs::remove_file(&svg);
    let _ = std::fs::remove_file(&html);
}

#[test]
fn a_file_where_no_run_reads_is_one_error_and_a_damaged_last_run_gives_way() {
    let good = run_line(Clock::mock().0, 100, 50);
    let none = Temp::new("none");
    write_lines(&none.0, &[damaged(&good, false), damaged(&good, true)]);
    for args in [
        vec!["report", none.arg()],
        vec!["diff", none.arg(), none.arg()],
        vec!["merge", none.arg(), "-o", "/dev/null"],
    ] {
        let out = perf_timer(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("holds 2 saved run(s) and none reads; line 1: not a saved run")
                || stderr.contains("line 2 does not read"),
            "{args:?}: {stderr}"
        );
    }

    // The last run damaged: the report is the run before it, said so.
    let last = Temp::new("last");
    write_lines(
        &last.0,
        &[
            good.clone(),
            run_line(Clock::mock().0, 7, 9),
            damaged(&good, false),
        ],
    );
    let out = perf_timer(&["report", last.arg()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("reporting the last run that reads"),
        "{stderr}"
    );
    assert!(stderr.contains("run 2:"), "{stderr}");
    assert!(text(&out.stdout).contains("in 7 runs"), "{out:?}");
}

#[test]
fn merge_keeps_the_clock_and_refuses_mixed_clocks_unless_asked() {
    let (mock_a, mock_b, std_clock) = (Temp::new("clk-a"), Temp::new("clk-b"), Temp::new("clk-s"));
    write_lines(&mock_a.0, &[run_line(Clock::mock().0, 10, 50)]);
    write_lines(&mock_b.0, &[run_line(Clock::mock().0, 20, 50)]);
    write_lines(&std_clock.0, &[run_line(Clock::std(), 30, 50)]);

    // Same clock: the merged run keeps it, and the program's name.
    let merged = Temp::new("clk-merged");
    let out = perf_timer(&["merge", mock_a.arg(), mock_b.arg(), "-o", merged.arg()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let run = &perf_timer::saved::read(&merged.0).unwrap().runs[0];
    assert_eq!(run.info().clock.as_deref(), Some("Clock::mock"));
    let program = std::env::current_exe().unwrap();
    assert_eq!(run.info().program, program.to_string_lossy());
    assert_eq!(run.info().labels["merged_runs"], "2");
    assert_eq!(
        run.info().labels["merged_programs"],
        program.to_string_lossy()
    );
    // ... so that diff still refuses it against another clock.
    let out = perf_timer(&["diff", merged.arg(), std_clock.arg()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    // Mixed clocks: refused in one sentence, nothing written.
    let mixed = Temp::new("clk-mixed");
    let out = perf_timer(&["merge", mock_a.arg(), std_clock.arg(), "-o", mixed.arg()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("different clocks (Clock::mock in")
            && stderr.contains("Clock::std in")
            && stderr.contains("--allow-mixed-clocks"),
        "{stderr}"
    );
    assert!(!mixed.0.exists());
    // Asked for: merged, the clocks named, and still not comparable to
    // either clock without asking.
    let out = perf_timer(&[
        "merge",
        mock_a.arg(),
        std_clock.arg(),
        "-o",
        mixed.arg(),
        "--allow-mixed-clocks",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let run = &perf_timer::saved::read(&mixed.0).unwrap().runs[0];
    assert_eq!(run.info().clock.as_deref(), Some("Clock::mock+Clock::std"));
    let out = perf_timer(&["diff", mixed.arg(), std_clock.arg()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn html_of_three_files_compares_each_with_the_first() {
    let files: Vec<Temp> = (0..3).map(|i| Temp::new(&format!("three-{i}"))).collect();
    for (i, file) in files.iter().enumerate() {
        write_lines(
            &file.0,
            &[run_line(Clock::mock().0, 50, 50 * (i as u64 + 1))],
        );
    }
    let page = std::env::temp_dir().join(format!("perf-timer-three-{}.html", std::process::id()));
    let out = perf_timer(&[
        "html",
        files[0].arg(),
        files[1].arg(),
        files[2].arg(),
        "-o",
        page.to_str().unwrap(),
    ]);
    if text(&out.stderr).contains("no font to draw the chart's text") {
        assert_ne!(
            std::env::var("PERF_TIMER_INTEROP").as_deref(),
            Ok("require")
        );
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    let _ = std::fs::remove_file(&page);
    assert!(
        html.contains("<section id=\"diff\">"),
        "the first comparison"
    );
    assert!(
        html.contains("<section id=\"diff-2\">"),
        "the second comparison"
    );
    for new in [&files[1], &files[2]] {
        let title = format!("Comparison: {} against {}", new.arg(), files[0].arg());
        assert!(html.contains(&title), "{title}");
    }
}

#[test]
fn merge_reads_past_a_file_of_no_readable_run_and_names_each_clock_once() {
    let good = run_line(Clock::mock().0, 100, 50);
    let (bad, fine) = (Temp::new("merge-bad"), Temp::new("merge-fine"));
    write_lines(&bad.0, &[damaged(&good, false)]);
    write_lines(&fine.0, std::slice::from_ref(&good));
    let merged = Temp::new("merge-past");
    let out = perf_timer(&["merge", bad.arg(), fine.arg(), "-o", merged.arg()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        text(&out.stderr).contains("merging the other files"),
        "{out:?}"
    );
    let run = &perf_timer::saved::read(&merged.0).unwrap().runs[0];
    assert_eq!(run.snapshot().get("get").unwrap().count(), 100);

    // A merge of mixed clocks merged again with one of them: each clock
    // named once.
    let std_clock = Temp::new("merge-std");
    write_lines(&std_clock.0, &[run_line(Clock::std(), 10, 50)]);
    let (mixed, again) = (Temp::new("merge-mixed"), Temp::new("merge-again"));
    for (inputs, out_file) in [
        (vec![fine.arg(), std_clock.arg()], &mixed),
        (vec![mixed.arg(), std_clock.arg()], &again),
    ] {
        let mut args = vec!["merge"];
        args.extend(inputs);
        args.extend(["-o", out_file.arg(), "--allow-mixed-clocks"]);
        let out = perf_timer(&args);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
    let run = &perf_timer::saved::read(&again.0).unwrap().runs[0];
    assert_eq!(run.info().clock.as_deref(), Some("Clock::mock+Clock::std"));
}

#[test]
fn a_byte_order_mark_before_the_first_run_is_not_part_of_it() {
    let file = Temp::new("bom");
    let line = run_line(Clock::mock().0, 10, 50);
    std::fs::write(&file.0, format!("\u{feff}{line}\n{line}\n")).unwrap();
    let out = perf_timer(&["report", file.arg(), "--run", "1"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!text(&out.stderr).contains("skipped"), "{out:?}");
}

#[test]
fn counts_beyond_any_real_run_never_make_the_command_panic() {
    let line = run_line(Clock::mock().0, 10, 50);
    let huge = line.replacen("\"cancelled\":0", &format!("\"cancelled\":{}", u64::MAX), 1);
    assert_ne!(huge, line);
    let file = Temp::new("huge-counts");
    write_lines(&file.0, &[huge.clone(), huge]);
    for args in [
        vec!["diff", file.arg(), file.arg()],
        vec!["report", file.arg()],
    ] {
        let out = perf_timer(&args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {out:?}"
        );
    }
}

#[test]
fn a_run_copied_twice_into_a_file_is_one_observation() {
    let (once, twice) = (Temp::new("copied-once"), Temp::new("copied-twice"));
    let line = run_line(Clock::mock().0, 100, 50);
    write_lines(&once.0, std::slice::from_ref(&line));
    write_lines(&twice.0, &[line.clone(), line]);
    let out = perf_timer(&["diff", once.arg(), twice.arg()]);
    assert!(
        text(&out.stderr).contains("line 2 is the run of line 1 again"),
        "{out:?}"
    );
    // One run a side, not two: the header says so.
    assert!(!text(&out.stdout).contains("2 runs merged"), "{out:?}");
    // And a merge counts its runs once.
    let merged = Temp::new("copied-merged");
    let out = perf_timer(&["merge", twice.arg(), "-o", merged.arg()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let run = &perf_timer::saved::read(&merged.0).unwrap().runs[0];
    assert_eq!(run.snapshot().get("get").unwrap().count(), 100);

    // Thirty copies: one line says so, not twenty-nine.
    let thirty = Temp::new("copied-thirty");
    write_lines(&thirty.0, &vec![run_line(Clock::mock().0, 100, 50); 30]);
    let out = perf_timer(&["diff", once.arg(), thirty.arg()]);
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "29 repeated runs counted once (lines 2, 3, 4, …, 30 are each the run of an earlier line again"
        ),
        "{stderr}"
    );
}

#[test]
fn a_note_on_a_closed_stderr_never_panics() {
    let file = Temp::new("closed-stderr");
    let line = run_line(Clock::mock().0, 10, 50);
    write_lines(&file.0, &[line.clone(), line]);
    // stderr a pipe whose reader is gone before the notes are written.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_perf-timer"))
        .args(["report", file.arg()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
}

/// The line of a run of `runs` runs of "get" and "put" from `host` running
/// `program`.
fn run_line_from(host: &str, program: &str, runs: u64) -> String {
    let registry = Registry::builder().clock(Clock::mock().0).build().unwrap();
    for _ in 0..runs {
        registry.timer("get").record(Duration::from_micros(50));
    }
    let mut run = SavedRun::capture(&registry);
    run.info_mut().host = host.to_owned();
    run.info_mut().program = program.to_owned();
    run.to_json_line()
}

#[test]
fn a_merged_run_merged_again_counts_the_runs_it_holds() {
    let two = Temp::new("remerge-two");
    write_lines(
        &two.0,
        &[
            run_line_from("h1", "api", 100),
            run_line_from("h2", "api", 100),
        ],
    );
    let merged = Temp::new("remerge-merged");
    let out = perf_timer(&["merge", two.arg(), "-o", merged.arg()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let third = Temp::new("remerge-third");
    write_lines(&third.0, &[run_line_from("h3", "worker", 100)]);

    let again = Temp::new("remerge-again");
    let out = perf_timer(&["merge", merged.arg(), third.arg(), "-o", again.arg()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        text(&out.stderr).contains("merged 3 run(s) of api,worker"),
        "{out:?}"
    );
    let read = perf_timer::saved::read(&again.0).unwrap();
    let run = &read.runs[0];
    let labels = &run.info().labels;
    assert_eq!(labels["merged_runs"], "3");
    assert_eq!(labels["merged_hosts"], "h1,h2,h3");
    assert_eq!(labels["merged_programs"], "api,worker");
    assert_eq!(run.info().program, "3 runs of api,worker");
    assert_eq!(run.snapshot().get("get").unwrap().count(), 300);

    // The same as merging the three runs at once.
    let all = Temp::new("remerge-all");
    write_lines(
        &all.0,
        &[
            run_line_from("h1", "api", 100),
            run_line_from("h2", "api", 100),
            run_line_from("h3", "worker", 100),
        ],
    );
    let flat = Temp::new("remerge-flat");
    let out = perf_timer(&["merge", all.arg(), "-o", flat.arg()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let flat = perf_timer::saved::read(&flat.0).unwrap();
    assert_eq!(&flat.runs[0].info().labels, labels);
    assert_eq!(flat.runs[0].info().program, run.info().program);
}
