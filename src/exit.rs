//! `report_at_exit`: print the report when `main` returns.

use std::fmt;
use std::io::Write as _;

use crate::Registry;

/// A guard that prints a registry's report when dropped; made by
/// [`report_at_exit`] or [`Registry::report_at_exit`].
///
/// Printing never changes how the program exits: a report that cannot be
/// written (stderr closed, or on a full disk) is dropped, where `eprintln!`
/// would panic, turning a normal return into exit code 101 and a panicking
/// `main` into an abort.
///
/// Bind it to a named variable (`let _report = ...`): `let _ = ...` drops it,
/// and prints, at once. It prints on an ordinary return from `main` and while
/// unwinding from a panic in `main`, not on `std::process::exit`.
///
/// ```
/// let _report = perf_timer::report_at_exit()
///     .log_with(|line| eprintln!("[perf] {line}")); // e.g. tracing::info!("{line}")
/// // ... the program; the lines are logged when `_report` goes out of scope.
/// ```
#[must_use = "the report prints when this guard drops; bind it with `let _report = ...`"]
pub struct ExitReport {
    registry: Registry,
    log: Box<dyn FnMut(&str) + Send>,
}

/// Prints the [global](crate::global) registry's report to stderr when the
/// returned guard drops at the end of `main`.
///
/// ```
/// use perf_timer::TimedExt as _;
///
/// #[tokio::main]
/// async fn main() {
///     let _report = perf_timer::report_at_exit();
///     async { /* work */ }.timed("work").await;
/// } // prints: timer "work": 40.0 ns in 1 run
/// ```
pub fn report_at_exit() -> ExitReport {
    crate::global().report_at_exit()
}

impl ExitReport {
    pub(crate) fn new(registry: Registry) -> Self {
        ExitReport {
            registry,
            log: Box::new(write_to_stderr),
        }
    }

    /// Hands each report line to `log` instead of printing it to stderr.
    ///
    /// ```
    /// let _report = perf_timer::report_at_exit().log_with(|line| println!("{line}"));
    /// ```
    pub fn log_with(mut self, log: impl FnMut(&str) + Send + 'static) -> Self {
        self.log = Box::new(log);
        self
    }
}

impl Drop for ExitReport {
    fn drop(&mut self) {
        for line in self.registry.report().lines() {
            (self.log)(&line);
        }
    }
}

impl fmt::Debug for ExitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExitReport")
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

/// The default sink: one line to stderr, a failed write ignored (see
/// [`ExitReport`]).
fn write_to_stderr(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
