//! The report survives shutdown: printed after the runtime has dropped its
//! tasks, on `std::process::exit`, and on SIGTERM with `on_signals`. Each
//! test runs itself again as a child process and reads its stderr.
#![cfg(unix)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::runtime;
use perf_timer::TimedExt as _;

/// Set in the child: which scenario to play.
const SCENARIO: &str = "PERF_TIMER_SHUTDOWN_SCENARIO";

fn child(test: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `#[tokio::main]` pattern: the guard drops inside the runtime, the
/// runtime then drops the task still running.
fn main_with_a_task_still_running() {
    runtime(2).block_on(async {
        let _report = perf_timer::report_at_exit();
        tokio::spawn(
            async {
                loop {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            .timed("bg"),
        );
        async {}.timed("main work").await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    });
}

#[test]
fn tasks_still_running_when_main_returns_count_as_cancelled() {
    if std::env::var(SCENARIO).is_ok() {
        return main_with_a_task_still_running();
    }
    let output = child("tasks_still_running_when_main_returns_count_as_cancelled")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = stderr(&output);
    let lines: Vec<&str> = stderr.lines().collect();
    let bg = lines.iter().find(|l| l.starts_with("timer \"bg\""));
    let bg = bg.unwrap_or_else(|| panic!("no bg line in {stderr}"));
    assert!(bg.starts_with("timer \"bg\": 0 runs, 1 cancelled"), "{bg}");
    assert!(
        lines.iter().any(|l| l.starts_with("timer \"main work\": ")),
        "{stderr}"
    );
    let last = lines.last().copied().unwrap_or_default();
    assert!(last.starts_with("process: "), "{stderr}");
    assert!(last.contains(" CPU in ") && last.contains("% ("), "{last}");
}

#[test]
fn std_process_exit_still_prints_the_report() {
    if std::env::var(SCENARIO).is_ok() {
        let _report = perf_timer::report_at_exit();
        perf_timer::Timer::new("before exit").record(Duration::from_micros(5));
        std::process::exit(3);
    }
    let output = child("std_process_exit_still_prints_the_report")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stderr = stderr(&output);
    assert!(
        stderr.contains("timer \"before exit\": 5.00 µs in 1 run\n"),
        "{stderr}"
    );
    assert!(stderr.contains("\nprocess: "), "{stderr}");
}

#[test]
fn sigterm_with_on_signals_prints_the_report_and_ends_as_sigterm_would() {
    if std::env::var(SCENARIO).is_ok() {
        let _report = perf_timer::report_at_exit().on_signals();
        perf_timer::Timer::new("served").record(Duration::from_micros(7));
        println!("ready");
        std::thread::sleep(Duration::from_secs(30));
        panic!("SIGTERM never came");
    }
    let mut process = child("sigterm_with_on_signals_prints_the_report_and_ends_as_sigterm_would")
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(process.stdout.take().unwrap());
    let mut line = String::new();
    // The harness prints "test <name> ... " before the child's own line.
    while !line.ends_with("ready\n") {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the child ended");
    }
    // SAFETY: a plain kill(2) of our own child.
    assert_eq!(unsafe { libc::kill(process.id() as i32, libc::SIGTERM) }, 0);
    let output = process.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt as _;
    // Killed by SIGTERM itself, which a shell reports as 143.
    assert_eq!(output.status.signal(), Some(libc::SIGTERM), "{output:?}");
    let stderr = stderr(&output);
    assert!(
        stderr.contains("timer \"served\": 7.00 µs in 1 run\n"),
        "{stderr}"
    );
    assert!(stderr.contains("\nprocess: "), "{stderr}");
}
