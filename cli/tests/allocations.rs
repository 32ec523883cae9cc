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
    let file = Temp::new(name);
    let mut lines = String::new();
    for _ in 0..processes {
        let (clock, mock) = Clock::mock();
        let registry = Registry::builder().clock(clock).build().unwrap();
        let timer = registry.timer("parse");
        for _ in 0..100 {
            let _section = timer.start();
            for _ in 0..allocations {
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
    let page = Temp::new("allocs-html-page");
    let out = perf_timer(&["html", two.arg(), three.arg(), "-o", page.arg()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&page.0).unwrap();
    assert!(html.contains("<th>allocs/run</th>"), "no column");
    assert!(html.contains("2.0 → 3.0 (+50.0%)"), "no cell");
    assert!(html.contains("allocs/run +50.0%"), "no reason");
}
