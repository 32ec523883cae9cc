//! Helpers shared by the integration tests: futures that move a mock clock,
//! a way to poll by hand, spins bound by wall or CPU time, and (in
//! `serve.rs`) runtimes, apps served on 127.0.0.1 and an HTTP client.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use perf_timer::{Clock, MockClock, Registry};

mod serve;
#[allow(unused_imports)] // each test binary uses some
pub use serve::{client, runtime, serve};

/// A registry on a mock clock.
pub fn mock_registry() -> (Registry, MockClock) {
    let (clock, mock) = Clock::mock();
    (Registry::builder().clock(clock).build().unwrap(), mock)
}

pub fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// An outside tool a test reads our output with is missing (`what`, and
/// how to get it): the test is skipped with a note, or fails when
/// `PERF_TIMER_INTEROP=require` (as `.ci/run` sets after installing them).
pub fn tool_missing(what: &str) {
    if std::env::var("PERF_TIMER_INTEROP").as_deref() == Ok("require") {
        panic!("PERF_TIMER_INTEROP=require, but {what}");
    }
    eprintln!("skipped: {what}; set PERF_TIMER_INTEROP=require to fail instead");
}

/// Runs `command` with `text` on its stdin: its output, or the error of
/// starting it (the tool is missing).
#[allow(dead_code)] // not every test binary pipes
pub fn pipe(
    command: &mut std::process::Command,
    text: &str,
) -> std::io::Result<std::process::Output> {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .expect("stdin was piped")
        .write_all(text.as_bytes())?;
    child.wait_with_output()
}

/// Each poll moves the clock by the next step (time spent "running"); the
/// last poll returns `Ready`, the others `Pending`.
pub struct Steps {
    mock: MockClock,
    steps: Vec<Duration>,
    next: usize,
}

impl Steps {
    pub fn new(mock: &MockClock, steps: &[Duration]) -> Self {
        Steps {
            mock: mock.clone(),
            steps: steps.to_vec(),
            next: 0,
        }
    }
}

impl Future for Steps {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let step = self.steps[self.next];
        self.mock.advance(step);
        self.next += 1;
        if self.next == self.steps.len() {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Moves the clock by `by` in a single poll, then is ready.
pub async fn work(mock: &MockClock, by: Duration) {
    mock.advance(by);
}

/// Returns `Pending` once, so that the test can move the clock between polls.
pub async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Polls `future` once with a no-op waker.
pub fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls `future` with a no-op waker until it is ready.
pub fn poll_to_end<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = poll_once(future.as_mut()) {
            return out;
        }
    }
}

/// Spins the CPU for `d` of wall time.
pub fn spin(d: Duration) {
    let start = std::time::Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// This thread's CPU time so far.
#[cfg(unix)]
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(status, 0, "CLOCK_THREAD_CPUTIME_ID");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Spins until this thread has had `d` of CPU time, however long that
/// takes on a loaded machine; returns (CPU, wall) time it took.
#[cfg(unix)]
pub fn spin_cpu(d: Duration) -> (Duration, Duration) {
    let (cpu, wall) = (thread_cpu(), std::time::Instant::now());
    while thread_cpu() - cpu < d {
        for _ in 0..1_000 {
            std::hint::spin_loop();
        }
    }
    (thread_cpu() - cpu, wall.elapsed())
}

/// Keeps every WARN event's fields as `name=value` text.
#[derive(Clone, Default)]
pub struct Warnings(pub Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl tracing::Subscriber for Warnings {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() == tracing::Level::WARN {
            let mut fields = Fields(String::new());
            event.record(&mut fields);
            self.0.lock().unwrap().push(fields.0);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
