//! Printing the exit report never changes how the program exits, even when
//! stderr cannot be written. Each test runs itself again as a child whose
//! stderr is `/dev/full` (writes fail with "no space left").
#![cfg(unix)]

use std::process::{Command, Stdio};
use std::time::Duration;

/// Set in the child: which scenario to play.
const SCENARIO: &str = "PERF_TIMER_EXIT_SCENARIO";

fn play() {
    let registry = perf_timer::Registry::new();
    let _report = registry.report_at_exit();
    registry.timer("work").record(Duration::from_micros(2));
    if std::env::var(SCENARIO).as_deref() == Ok("panic") {
        panic!("main failed");
    }
}

/// Runs test `name` of this binary as a child, stderr on `/dev/full`.
fn child_status(name: &str, scenario: &str) -> std::process::ExitStatus {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux");
    Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, scenario)
        .stdout(Stdio::null())
        .stderr(full)
        .status()
        .unwrap()
}

#[test]
fn a_normal_return_still_exits_zero_when_stderr_is_full() {
    if std::env::var(SCENARIO).is_ok() {
        return play();
    }
    let status = child_status("a_normal_return_still_exits_zero_when_stderr_is_full", "ok");
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_panic_still_fails_normally_when_stderr_is_full() {
    if std::env::var(SCENARIO).is_ok() {
        return play();
    }
    let status = child_status("a_panic_still_fails_normally_when_stderr_is_full", "panic");
    // The test harness reports the panic as a failure (exit code 101); a
    // panic inside the report while unwinding would abort instead (a signal,
    // no exit code).
    assert_eq!(status.code(), Some(101), "{status:?}");
}
