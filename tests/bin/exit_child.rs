//! A program for the exit path's tests (`tests/saved.rs`): it records a
//! little into the global registry with `report_at_exit` guards arranged as
//! `EXIT_MODE` says, and ends; its arguments are never read, so the tests
//! can pass ones that are not UTF-8.
//!
//! - `main`: one guard under `#[tokio::main]`, one timer.
//! - `two-guards`: a library's guard and the application's, both alive.
//! - `runtimes`: three runtimes one after the other, a guard in each (as
//!   `#[tokio::test]`s in one binary are).
//! - `fork`: records, forks; the child exits at once.

use std::time::Duration;

fn record(name: &str) {
    perf_timer::Timer::new(name).record(Duration::from_micros(40));
}

fn main() {
    let mode = std::env::var("EXIT_MODE").unwrap_or_default();
    match mode.as_str() {
        "two-guards" => {
            let _library = perf_timer::report_at_exit().label("from", "library");
            let _application = perf_timer::report_at_exit().label("from", "application");
            record("child.work");
        }
        "runtimes" => {
            for _ in 0..3 {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    let _report = perf_timer::report_at_exit();
                    record("child.work");
                });
            }
        }
        "fork" => {
            let _report = perf_timer::report_at_exit();
            record("child.work");
            // SAFETY: the child only exits (running the exit hooks, as a
            // forked worker that ends would).
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                std::process::exit(0);
            }
            let mut status = 0;
            // SAFETY: waits for the child just made.
            unsafe { libc::waitpid(pid, &mut status, 0) };
        }
        _ => tokio_main(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn tokio_main() {
    let _report = perf_timer::report_at_exit();
    record("child.work");
}
