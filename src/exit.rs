//! `report_at_exit`: print the report when the program ends, after the
//! runtime has dropped its tasks, on `std::process::exit`, and, opted in,
//! on SIGINT and SIGTERM.

use std::fmt;
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use crate::poison::lock;
use crate::registry::{Registry, RegistryId};

/// A registry's report waiting for the end of the program: one per
/// registry and process, shared by every guard of that registry.
struct Pending {
    /// Until it prints: then the registry is let go, its identity kept.
    registry: Option<Registry>,
    id: RegistryId,
    log: Box<dyn FnMut(&str) + Send>,
    printed: bool,
    /// Guards of this report not dropped yet: the last one prints.
    guards: usize,
    /// The process that made it: a forked child prints nothing of it.
    pid: u32,
    /// Where to append the run (`save_to`; else `PERF_TIMER_SAVE`).
    #[cfg(feature = "save")]
    save_to: Option<std::path::PathBuf>,
    #[cfg(feature = "save")]
    labels: Vec<(String, String)>,
}

impl Pending {
    /// Prints the report and the process line, and saves the run, once.
    fn print(&mut self) {
        // A forked child inherits the parent's reports (and its exit hook)
        // with the parent's runs in them: they are the parent's to print.
        if self.pid != std::process::id() || std::mem::replace(&mut self.printed, true) {
            return;
        }
        let Some(registry) = self.registry.take() else {
            return;
        };
        // One reading for the lines printed and the run saved, so that
        // the saved run reports exactly what was printed.
        let snapshot = registry.snapshot();
        let process = registry.process();
        let report = snapshot.into_report();
        for line in report.lines() {
            (self.log)(&line);
        }
        if let Some(process) = &process {
            (self.log)(&process.to_string());
        }
        self.save(&registry, report.into_snapshot(), process);
    }

    /// Appends the run where `save_to` or `PERF_TIMER_SAVE` says; a
    /// failure is one line of the report, never a panic.
    #[cfg(feature = "save")]
    fn save(
        &mut self,
        registry: &Registry,
        snapshot: crate::read::Snapshot,
        process: Option<crate::read::ProcessTime>,
    ) {
        let path = match (self.save_to.clone(), std::env::var_os(SAVE_VAR)) {
            (Some(path), _) => path,
            (None, Some(path)) if path.is_empty() => {
                (self.log)(
                    "perf-timer: PERF_TIMER_SAVE is empty: set it to a file to append the run to; \
                     the run was not saved",
                );
                return;
            }
            (None, Some(path)) => std::path::PathBuf::from(path),
            (None, None) => return,
        };
        for warning in crate::saved::label_warnings() {
            (self.log)(&format!("perf-timer: {warning}"));
        }
        let mut run = crate::saved::SavedRun::of_registry(registry, snapshot, process);
        for (key, value) in &self.labels {
            run = run.label(key.clone(), value.clone());
        }
        // One line either way, so that whoever set PERF_TIMER_SAVE can tell
        // it worked and where the run went.
        match run.append_to(&path) {
            Ok(()) => (self.log)(&format!(
                "perf-timer: the run ({} timer{}) was appended to {}",
                run.snapshot().len(),
                if run.snapshot().len() == 1 { "" } else { "s" },
                path.display()
            )),
            Err(error) => (self.log)(&format!("perf-timer: the run was not saved: {error}")),
        }
    }

    /// Without the `save` feature, `PERF_TIMER_SAVE` is said to do nothing.
    #[cfg(not(feature = "save"))]
    fn save(
        &mut self,
        _: &Registry,
        _: crate::read::Snapshot,
        _: Option<crate::read::ProcessTime>,
    ) {
        if std::env::var_os(SAVE_VAR).is_some() {
            (self.log)(
                "perf-timer: PERF_TIMER_SAVE is set, but this program is built without \
                 perf-timer's `save` feature: the run was not saved",
            );
        }
    }
}

/// The environment variable naming a file to append the run to.
const SAVE_VAR: &str = "PERF_TIMER_SAVE";

/// Every report waiting for the end of the program, one per registry,
/// printed by the exit hook and the signal thread.
static PENDING: Mutex<Vec<Arc<Mutex<Pending>>>> = Mutex::new(Vec::new());

/// Prints every report not printed yet.
fn print_pending() {
    let pending: Vec<_> = lock(&PENDING).clone();
    for report in pending {
        lock(&report).print();
    }
}

/// Whether the reports will print at process exit: a hook registered once.
fn exit_hook_armed() -> bool {
    #[cfg(unix)]
    {
        static ARMED: OnceLock<bool> = OnceLock::new();
        extern "C" fn at_exit() {
            // Never unwind into libc: a panicking sink loses the report,
            // not the exit status.
            let _ = std::panic::catch_unwind(print_pending);
        }
        // SAFETY: `at_exit` is an `extern "C" fn()` that never unwinds.
        *ARMED.get_or_init(|| unsafe { libc::atexit(at_exit) } == 0)
    }
    #[cfg(not(unix))]
    false
}

/// The guard that prints a registry's report, then a [`ProcessTime`]
/// line, when the program ends; made by [`report_at_exit`] or
/// [`Registry::report_at_exit`].
///
/// When it prints, at the first of:
///
/// * **the process exiting** (Unix): after `main` returns, so after
///   `#[tokio::main]` has dropped its runtime, and tasks still running are
///   counted as cancelled; on `std::process::exit`, which runs no
///   destructors but does run exit hooks; after a panic in `main` (exit
///   code 101). A guard dropped inside a tokio runtime (the end of
///   `#[tokio::main]`'s body) leaves the printing to this moment.
/// * **the guard dropping outside a runtime**: at the end of a plain
///   `main`, a test, or a scope of your own.
/// * **SIGINT or SIGTERM**, with [`on_signals`](ExitReport::on_signals).
///
/// **One report per registry and process.** Every guard of one registry
/// (a library's and the application's, one per `#[tokio::test]` runtime)
/// shares one report: it prints, and saves, once, when the last guard
/// alive drops (or at exit). Settings add up: labels of every guard are
/// kept (a later guard's value wins for the same key); a later guard's
/// [`log_with`](ExitReport::log_with) and [`save_to`](ExitReport::save_to)
/// replace an earlier one's; [`on_signals`](ExitReport::on_signals) from
/// any guard holds for all. Once printed, a registry's report is done for
/// the process: guards made afterwards print nothing, so keep one alive
/// for as long as the work it reports. A child made with `fork` prints and
/// saves nothing of the reports its parent made (their runs are the
/// parent's).
///
/// Nothing prints when the process is killed by another signal or aborts.
/// Printing never changes how the program exits: a report that cannot be
/// written (stderr closed, or on a full disk) is dropped, where `eprintln!`
/// would panic.
///
/// Bind it to a named variable (`let _report = ...`): `let _ = ...` drops
/// it at once, which outside a runtime prints at once.
///
/// ```
/// let _report = perf_timer::report_at_exit()
///     .log_with(|line| eprintln!("[perf] {line}")); // e.g. tracing::info!("{line}")
/// // ... the program; the lines are logged when it ends.
/// ```
///
/// [`ProcessTime`]: crate::read::ProcessTime
#[must_use = "the report prints when the program ends; bind it with `let _report = ...`"]
pub struct ExitReport {
    pending: Arc<Mutex<Pending>>,
}

/// Prints the [global](crate::registry::global) registry's report to stderr when the
/// program ends (see [`ExitReport`]).
///
/// ```
/// use perf_timer::TimedExt as _;
///
/// #[tokio::main]
/// async fn main() {
///     let _report = perf_timer::report_at_exit();
///     async { /* work */ }.timed("work").await;
/// } // after the runtime is dropped: timer "work": 40.0 ns in 1 run
///   //                                process: 1.52 ms CPU in 3.10 ms, ...
/// ```
pub fn report_at_exit() -> ExitReport {
    crate::registry::global().report_at_exit()
}

// Here rather than with the rest of `Registry`: the exit report sits
// above the registry (it may save a run), and the registry knows nothing
// of it.
impl Registry {
    /// Prints this registry's report, and the [`process`](Registry::process)
    /// line, to stderr when the program ends: see [`ExitReport`](ExitReport).
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// let _report = registry.report_at_exit();
    /// ```
    pub fn report_at_exit(&self) -> ExitReport {
        ExitReport::new(self.clone())
    }
}

impl ExitReport {
    pub(crate) fn new(registry: Registry) -> Self {
        let mut all = lock(&PENDING);
        let pid = std::process::id();
        // Printed reports of registries that are gone are done with.
        all.retain(|p| {
            let p = lock(p);
            !(p.printed && p.id.is_gone())
        });
        // A forked child's reports are its own: the parent's stay unprinted.
        let existing = all.iter().find(|p| {
            let p = lock(p);
            p.id.is(&registry) && p.pid == pid
        });
        if let Some(pending) = existing {
            let pending = pending.clone();
            lock(&pending).guards += 1;
            return ExitReport { pending };
        }
        let pending = Arc::new(Mutex::new(Pending {
            id: registry.id(),
            registry: Some(registry),
            log: Box::new(write_to_stderr),
            printed: false,
            guards: 1,
            pid,
            #[cfg(feature = "save")]
            save_to: None,
            #[cfg(feature = "save")]
            labels: Vec::new(),
        }));
        // Kept whether or not the exit hook is armed: it is how the
        // registry's other guards find this report.
        all.push(pending.clone());
        drop(all);
        exit_hook_armed();
        ExitReport { pending }
    }

    /// Hands each report line to `log` instead of printing it to stderr.
    ///
    /// ```
    /// let _report = perf_timer::report_at_exit().log_with(|line| println!("{line}"));
    /// ```
    pub fn log_with(self, log: impl FnMut(&str) + Send + 'static) -> Self {
        lock(&self.pending).log = Box::new(log);
        self
    }

    /// Also appends the run to `path` when the report prints, as one line
    /// of JSON (see [`saved`](crate::saved)); this takes the place of
    /// `PERF_TIMER_SAVE`. Feature `save`.
    ///
    /// ```no_run
    /// let _report = perf_timer::report_at_exit().save_to("runs.jsonl");
    /// ```
    #[cfg(feature = "save")]
    #[cfg_attr(docsrs, doc(cfg(feature = "save")))]
    pub fn save_to(self, path: impl Into<std::path::PathBuf>) -> Self {
        lock(&self.pending).save_to = Some(path.into());
        self
    }

    /// Labels the saved run (with [`save_to`](Self::save_to) or
    /// `PERF_TIMER_SAVE`), beside those of `PERF_TIMER_LABELS`. Feature `save`.
    ///
    /// ```no_run
    /// let _report = perf_timer::report_at_exit()
    ///     .save_to("runs.jsonl")
    ///     .label("commit", option_env!("GIT_COMMIT").unwrap_or("dev"));
    /// ```
    #[cfg(feature = "save")]
    #[cfg_attr(docsrs, doc(cfg(feature = "save")))]
    pub fn label(self, key: impl Into<String>, value: impl Into<String>) -> Self {
        lock(&self.pending).labels.push((key.into(), value.into()));
        self
    }

    /// Also prints the report on SIGINT (Ctrl-C) and SIGTERM (what
    /// container orchestrators send), then ends the process the way the
    /// signal would have: killed by it, exit status 128 + its number to a
    /// shell (143 for SIGTERM). Unix only; elsewhere it does nothing.
    ///
    /// The signals are received through `signal-hook`, the registry tokio
    /// uses too, so `tokio::signal` listeners still hear them; but the
    /// process ends right after the report. An application that shuts
    /// down gracefully on these signals itself should not call this: when
    /// its shutdown returns from `main`, the report prints at exit anyway.
    ///
    /// ```no_run
    /// #[tokio::main]
    /// async fn main() {
    ///     let _report = perf_timer::report_at_exit().on_signals();
    ///     std::future::pending::<()>().await; // a server, until SIGTERM
    /// }
    /// ```
    pub fn on_signals(self) -> Self {
        #[cfg(unix)]
        {
            if let Err(error) = catch_signals() {
                tracing::warn!(%error, "perf-timer: cannot catch SIGINT and SIGTERM");
            }
        }
        self
    }
}

/// Starts, once, the thread that prints the reports on SIGINT and SIGTERM.
#[cfg(unix)]
fn catch_signals() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    static STARTED: Mutex<bool> = Mutex::new(false);
    let mut started = lock(&STARTED);
    if *started {
        return Ok(());
    }
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("perf-timer-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                print_pending();
                // Resets the default action and raises the signal again.
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        })?;
    *started = true;
    Ok(())
}

impl Drop for ExitReport {
    fn drop(&mut self) {
        let mut pending = lock(&self.pending);
        pending.guards = pending.guards.saturating_sub(1);
        if pending.guards > 0 {
            return; // another guard of this registry prints it
        }
        if exit_hook_armed() && in_runtime() {
            return; // the runtime is about to drop its tasks: print at exit
        }
        pending.print();
    }
}

/// Whether this thread is inside a tokio runtime.
fn in_runtime() -> bool {
    #[cfg(feature = "tokio")]
    return tokio::runtime::Handle::try_current().is_ok();
    #[cfg(not(feature = "tokio"))]
    false
}

impl fmt::Debug for ExitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pending = lock(&self.pending);
        f.debug_struct("ExitReport")
            .field("registry", &pending.registry)
            .field("printed", &pending.printed)
            .field("guards", &pending.guards)
            .finish_non_exhaustive()
    }
}

/// The default sink: one line to stderr, a failed write ignored (see
/// [`ExitReport`]).
fn write_to_stderr(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
