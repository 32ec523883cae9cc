//! What the command's tests share: temp files that clean up after
//! themselves, and the command run as a process.
#![allow(dead_code)]

use std::future::Future;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use perf_timer::saved::SavedRun;
use perf_timer::{Clock, MockClock, Registry};

/// A temp file (`.jsonl`), removed when dropped.
pub struct Temp(pub PathBuf);

impl Temp {
    /// A fresh path named after `name` and this process.
    pub fn new(name: &str) -> Temp {
        let path = std::env::temp_dir().join(format!(
            "perf-timer-cli-{name}-{}.jsonl",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Temp(path)
    }

    /// The path as an argument.
    pub fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The `perf-timer` command run with `args`, to its end.
pub fn perf_timer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perf-timer"))
        .args(args)
        .output()
        .unwrap()
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Returns `Pending` once.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|_| {
        if std::mem::replace(&mut yielded, true) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// A run of "api" on `mock`: 1 ms of its own, then "db" for 2 ms, which
/// waits 5 ms (the clock moves between the two polls).
fn api_run(registry: &Registry, mock: &MockClock) {
    let db = registry.timer("db");
    let api = registry.timer("api").time(async {
        mock.advance(Duration::from_millis(1));
        db.time(async {
            mock.advance(Duration::from_millis(2));
            yield_once().await;
        })
        .await;
    });
    let mut api = std::pin::pin!(api);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(api.as_mut().poll(&mut cx).is_pending());
    mock.advance(Duration::from_millis(5));
    assert!(api.as_mut().poll(&mut cx).is_ready());
}

/// A file of two saved runs, of a program that ran `api` twice and of one
/// that ran it once, on mock clocks: 3 ms of api's own, 6 ms of db busy,
/// 15 ms parked in db in all.
pub fn nested_runs_file(name: &str) -> Temp {
    let file = Temp::new(name);
    for runs in [2, 1] {
        let (clock, mock) = Clock::mock();
        let registry = Registry::builder().clock(clock).build().unwrap();
        for _ in 0..runs {
            api_run(&registry, &mock);
        }
        SavedRun::capture(&registry).append_to(&file.0).unwrap();
    }
    file
}
