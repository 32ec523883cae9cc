//! `perf-timer diff` on allocations per run: saved runs of a program that
//! counted its allocations (this test binary installs the counting
//! allocator), busy time held equal by a mock clock so that allocations
//! alone decide.

mod common;

use std::time::Duration;

use common::{perf_timer, text, Temp};
use perf_timer::saved::SavedRun;
use perf_timer::{Clock, CountingAllocator, Registry};

#[global_allocator]
static ALLOC: CountingAllocator<std::alloc::System> = CountingAllocator::new(std::alloc::System);

/// A file of `processes` saved runs of a program whose timer "parse"
/// makes `allocations` allocations in each of its 100 runs, each run 10 µs
/// of busy time.
fn saved(name: &str, processes: usize, allocations: usize) -> Temp {
    saved_with(name, processes, |_| allocations)
}

/// As [`saved`], the `i`-th of each process's 100 runs making
/// `allocations(i)` allocations.
fn saved_with(name: &str, processes: usize, allocations: impl Fn(usize) -> usize) -> Temp {
    let file = Temp::new(name);
    let mut lines = String::new();
    for _ in 0..processes {
        let (clock, mock) = Clock::mock();
        let registry = Registry::builder().clock(clock).build().unwrap();
        let timer = registry.timer("parse");
        for run in 0..100 {
            let _section = timer.start();
            for _ in 0..allocations(run) {
                drop(std::hint::black_box(Vec::<u8>::with_capacity(32)));
            }
            mock.advance(Duration::from_micros(10));
        }
        lines.push_str(&SavedRun::capture(&registry).to_json_line());
        lines.push('\n');
        // Another process's run, as far as the file says: the same pid and
        // figures at the same millisecond would be one run copied.
        std::thread::sleep(Duration::from_millis(2));
    }
    std::fs::write(&file.0, lines).unwrap();
    file
}

#[test]
fn more_allocations_a_run_is_a_regression_and_fewer_an_improvement() {
    let (two, three) = (saved("allocs-two", 3, 2), saved("allocs-three", 3, 3));
    let out = perf_timer(&["diff", two.arg(), three.arg()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("regressed"), "{stdout}");
    assert!(stdout.contains("allocs/run +50.0%"), "{stdout}");
    assert!(stdout.contains("beyond ±5%"), "{stdout}");

    let out = perf_timer(&["diff", three.arg(), two.arg()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("improved"), "{stdout}");
    assert!(stdout.contains("allocs/run -33.3%"), "{stdout}");

    // The same counts: no change, though no run's count varies at all.
    let again = saved("allocs-two-again", 3, 2);
    let out = perf_timer(&["diff", two.arg(), again.arg(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let timer = &json["timers"][0];
    assert_eq!(timer["verdict"], "no change", "{json}");
    assert_eq!(timer["allocations_change"]["percent"], 0.0);
    assert_eq!(timer["new"]["allocations_per_run"], 2.0);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn allocations_from_none_are_judged_on_the_counts_themselves() {
    let none = saved("allocs-none", 5, 0);
    // None on either side: no change, not a count of 1 read for 0.
    let out = perf_timer(&["diff", none.arg(), none.arg(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let timer = &json["timers"][0];
    assert_eq!(timer["verdict"], "no change", "{json}");
    assert_eq!(timer["new"]["allocations_per_run"], 0.0, "{json}");
    assert_eq!(timer["allocations_change"]["difference"], 0.0, "{json}");

    // One allocation a run where there were none, in each of 5 runs a side.
    let one = saved("allocs-one", 5, 1);
    let out = perf_timer(&["diff", none.arg(), one.arg()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("allocs/run new, +1.0 a run ["), "{stdout}");
    assert!(stdout.contains("beyond ±0.5 allocation a run"), "{stdout}");

    // Ten from none: new, not the +900 % of 1 → 10.
    let ten = saved("allocs-ten", 3, 10);
    let out = perf_timer(&["diff", none.arg(), ten.arg(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let timer = &json["timers"][0];
    assert_eq!(timer["verdict"], "regressed", "{json}");
    assert_eq!(
        timer["allocations_change"]["percent"],
        serde_json::Value::Null
    );
    assert_eq!(timer["allocations_change"]["difference"], 10.0, "{json}");
    assert!(!timer["reason"].as_str().unwrap().contains("900"), "{json}");
}

#[test]
fn one_more_allocation_on_ten_is_a_regression_given_the_runs() {
    // +10 % at the threshold of 5 %, twelve runs a side: the floor of
    // half an allocation a run enters the mean of twelve runs.
    let (ten, eleven) = (
        saved("allocs-ten-12", 12, 10),
        saved("allocs-eleven-12", 12, 11),
    );
    let out = perf_timer(&["diff", ten.arg(), eleven.arg()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("allocs/run +10.0% ["), "{stdout}");
    assert!(stdout.contains("beyond ±5%"), "{stdout}");
    // The same count: no change, within an interval narrower than three
    // runs a side give (±4.1 %).
    let again = saved("allocs-ten-12-again", 12, 10);
    let out = perf_timer(&["diff", ten.arg(), again.arg(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let change = &json["timers"][0]["allocations_change"];
    assert_eq!(json["timers"][0]["verdict"], "no change", "{json}");
    let high = change["high_percent"].as_f64().unwrap();
    assert!(high > 1.0 && high < 2.1, "{json}");

    // A change on the limit itself (10 → 10.5 a run): more runs cannot
    // tell, and the reason says so rather than asking for them.
    let half = saved_with("allocs-ten-and-a-half", 3, |run| 10 + run % 2);
    let out = perf_timer(&["diff", ten.arg(), half.arg()]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("allocs/run +5.0% ["), "{stdout}");
    assert!(stdout.contains("more runs cannot tell"), "{stdout}");
    assert!(!stdout.contains("would tell"), "{stdout}");
}

#[test]
fn the_runs_a_side_advised_do_tell() {
    // +1.0 a run in every run, two runs a side: [+0.5, +1.5] straddles
    // ±0.5, and three a side of the same counts tell.
    let (none, one) = (
        saved("allocs-advise-0", 2, 0),
        saved("allocs-advise-1", 2, 1),
    );
    let out = perf_timer(&["diff", none.arg(), one.arg(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let timer = &json["timers"][0];
    let change = &timer["allocations_change"];
    assert_eq!(change["doubt"], "too few runs", "{json}");
    assert_eq!(change["runs_needed"], 3, "{json}");
    assert_eq!(change["limit"], 0.5, "{json}");
    // The same times, but allocations that cannot tell: no "no change".
    assert_eq!(timer["verdict"], "inconclusive", "{json}");
    assert!(timer["reason"]
        .as_str()
        .unwrap()
        .contains("about 3 runs a side would tell"));
    let (none, one) = (
        saved("allocs-advised-0", 3, 0),
        saved("allocs-advised-1", 3, 1),
    );
    let out = perf_timer(&["diff", none.arg(), one.arg(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["timers"][0]["verdict"], "regressed", "{json}");
    assert_eq!(
        json["timers"][0]["allocations_change"]["doubt"],
        serde_json::Value::Null
    );

    // One run a side: the runs that would tell, in the JSON too.
    let (two, three) = (
        saved("allocs-advise-2", 1, 2),
        saved("allocs-advise-3", 1, 3),
    );
    let out = perf_timer(&["diff", two.arg(), three.arg(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let change = &json["timers"][0]["allocations_change"];
    assert_eq!(change["doubt"], "one run a side", "{json}");
    assert_eq!(change["runs_needed"], 3, "{json}");
}

#[test]
fn one_run_a_side_calls_only_a_doubling() {
    let (two, three) = (
        saved("allocs-one-two", 1, 2),
        saved("allocs-one-three", 1, 3),
    );
    let out = perf_timer(&["diff", two.arg(), three.arg()]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("allocs/run +50.0%: one run a side"),
        "{stdout}"
    );
    let ten = saved("allocs-one-ten", 1, 10);
    let out = perf_timer(&["diff", two.arg(), ten.arg()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    // 2 → 5 is beyond 2×, but not with half an allocation either side.
    let five = saved("allocs-one-five", 1, 5);
    let out = perf_timer(&["diff", two.arg(), five.arg()]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("too few allocations a run to tell"),
        "{stdout}"
    );
}

/// `file`'s runs as a program without a counting allocator would save
/// them, the allocation counters left in: each timer's histogram of bytes
/// allocated per run taken out by hand.
fn without_allocated(file: &Temp, name: &str) -> Temp {
    let stripped = Temp::new(name);
    let mut lines = String::new();
    for line in std::fs::read_to_string(&file.0).unwrap().lines() {
        let mut run: serde_json::Value = serde_json::from_str(line).unwrap();
        for timer in run["timers"].as_array_mut().unwrap() {
            assert!(timer.as_object_mut().unwrap().remove("allocated").is_some());
        }
        lines.push_str(&run.to_string());
        lines.push('\n');
    }
    std::fs::write(&stripped.0, lines).unwrap();
    stripped
}

#[test]
fn a_merge_of_runs_with_and_without_allocations_reads_back() {
    let two = saved("allocs-merge-two", 2, 2);
    let uncounted = without_allocated(&saved("allocs-merge-five", 3, 5), "allocs-merge-none");
    let merged = Temp::new("allocs-merge-out");
    let out = perf_timer(&["merge", uncounted.arg(), two.arg(), "-o", merged.arg()]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("merged 5 run(s)"), "{stderr}");
    assert!(
        stderr.contains("3 of the 5 runs counted no allocations"),
        "{stderr}"
    );
    // It reads back: every run of the five, allocations over the two
    // that counted them.
    let out = perf_timer(&["report", merged.arg()]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("in 500 runs"), "{stdout}");
    assert!(stdout.contains("allocs 2/run"), "{stdout}");
    let file = perf_timer::saved::read(&merged.0).unwrap();
    let stats = file.runs[0].snapshot().get("parse").unwrap().clone();
    let a = stats.allocations().unwrap();
    assert_eq!(stats.count(), 500);
    assert_eq!((a.runs(), a.count(), a.bytes()), (200, 400, 400 * 32));
    assert_eq!(a.distribution().count(), 200);
}

#[test]
fn top_shows_allocations_per_run_of_each_interval() {
    let file = Temp::new("allocs-top");
    let registry = Registry::new();
    let timer = registry.timer("parse");
    let save = || SavedRun::capture(&registry).append_to(&file.0).unwrap();
    let runs = |allocations: usize| {
        for _ in 0..10 {
            let _section = timer.start();
            for _ in 0..allocations {
                drop(std::hint::black_box(Vec::<u8>::with_capacity(8)));
            }
        }
    };
    save();
    runs(2);
    save();
    runs(5);
    save();
    let out = perf_timer(&["top", file.arg()]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("allocs/run"), "{stdout}");
    // Each frame's row ends with its interval's allocations per run.
    let ends: Vec<&str> = (stdout.lines())
        .filter(|l| l.starts_with("parse"))
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert_eq!(ends, ["-", "2.00", "5.00"], "{stdout}");
}

#[test]
fn html_shows_allocations_per_run_where_counted() {
    let (two, three) = (
        saved("allocs-html-two", 3, 2),
        saved("allocs-html-three", 3, 3),
    );
    let page = Temp(Temp::new("allocs-html-page").0.with_extension("html"));
    let out = perf_timer(&["html", two.arg(), three.arg(), "-o", page.arg()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&page.0).unwrap();
    assert!(html.contains("<th>allocs/run</th>"), "no column");
    assert!(html.contains("2.0 → 3.0 (+50.0%)"), "no cell");
    assert!(html.contains("allocs/run +50.0%"), "no reason");
}

#[test]
fn markdown_shows_allocations_per_run_beside_the_busy_change() {
    // The same busy time, one allocation a run more: regressed by its
    // allocations alone.
    let (two, three) = (saved("allocs-md-two", 3, 2), saved("allocs-md-three", 3, 3));
    let out = perf_timer(&["diff", two.arg(), three.arg(), "--format", "markdown"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let header = stdout.lines().find(|l| l.starts_with("| timer")).unwrap();
    assert!(
        header.contains("| busy change (99% interval) |") && header.contains("| allocs/run |"),
        "{header}"
    );
    let row = stdout.lines().find(|l| l.starts_with("| `parse`")).unwrap();
    let cells: Vec<&str> = row.split(" | ").collect();
    let columns: Vec<&str> = header.split(" | ").collect();
    assert_eq!(cells.len(), columns.len(), "{header}\n{row}");
    let at = columns.iter().position(|c| *c == "allocs/run").unwrap();
    assert_eq!(cells[at], "2.0 → 3.0 (+50.0%)", "{row}");
    assert!(cells[1].contains("regressed"), "{row}");
}
