//! `SavedRun`: one program run's snapshot with what identifies the run.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use super::{file, line, SavedError};
use crate::read::{ProcessTime, Snapshot};
use crate::registry::Registry;

/// What identifies a saved run: when, which program with which
/// arguments, where, and the labels it was given.
///
/// ```
/// let run = perf_timer::saved::SavedRun::capture(&perf_timer::Registry::new());
/// assert_eq!(run.info().pid, std::process::id());
/// assert_eq!(run.info().version, env!("CARGO_PKG_VERSION"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunInfo {
    /// When the run was saved (kept to the millisecond).
    pub time: SystemTime,
    /// The program: its path as started (`argv[0]`).
    pub program: String,
    /// The program's arguments, without the program.
    pub args: Vec<String>,
    /// The machine's host name (empty where it cannot be read).
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// The version of perf-timer that saved the run.
    pub version: String,
    /// Labels given with [`SavedRun::label`], `ExitReport::label` or
    /// `PERF_TIMER_LABELS=k=v,k=v`.
    pub labels: BTreeMap<String, String>,
    /// The registry's clock (`Clock::tsc`, …), where known.
    pub clock: Option<String>,
    /// The process's CPU and wall time and the timers' share of it (the
    /// exit report's last line), where known.
    pub process: Option<ProcessTime>,
}

impl RunInfo {
    /// This process now, with the labels of `PERF_TIMER_LABELS`; no clock
    /// or process time.
    pub(crate) fn now() -> RunInfo {
        // Arguments that are not UTF-8 are kept lossily: saving never fails
        // (nor panics) on them.
        let mut args = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
        RunInfo {
            time: SystemTime::now(),
            program: args.next().unwrap_or_default(),
            args: args.collect(),
            host: host_name(),
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            labels: env_labels(),
            clock: None,
            process: None,
        }
    }

    /// `registry`'s run now: this process, its clock and `process` time.
    #[cfg(feature = "axum")]
    pub(crate) fn of_registry(registry: &Registry, process: Option<ProcessTime>) -> RunInfo {
        RunInfo {
            clock: Some(format!("{:?}", registry.clock())),
            process,
            ..RunInfo::now()
        }
    }

    /// [`time`](RunInfo::time) in RFC 3339, UTC, to the millisecond, as the
    /// saved line's `time` field: `2026-11-29T23:59:01.123Z`.
    ///
    /// ```
    /// let run = perf_timer::saved::SavedRun::capture(&perf_timer::Registry::new());
    /// let time = run.info().time_rfc3339();
    /// assert!(time.ends_with('Z') && time.len() == 24, "{time}");
    /// ```
    pub fn time_rfc3339(&self) -> String {
        let since = self
            .time
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        super::line::rfc3339(since)
    }
}

/// One program run as saved: its [`RunInfo`] and its [`Snapshot`], with
/// every timer's full busy and wall distributions. Saved as one JSON line
/// (see [the module](crate::saved) for the schema); read back exactly.
///
/// ```
/// use std::time::Duration;
/// use perf_timer::saved::SavedRun;
///
/// let registry = perf_timer::Registry::new();
/// registry.timer("parse").record(Duration::from_micros(120));
/// let run = SavedRun::capture(&registry).label("commit", "abc123");
/// let line = run.to_json_line();
/// let back = SavedRun::from_json_line(&line).unwrap();
/// assert_eq!(back.info().labels["commit"], "abc123");
/// assert_eq!(back.snapshot().get("parse").unwrap().total(), Duration::from_micros(120));
/// ```
#[derive(Debug, Clone)]
pub struct SavedRun {
    pub(crate) info: RunInfo,
    pub(crate) snapshot: Snapshot,
}

impl SavedRun {
    /// `registry`'s snapshot now, with this process's details and the
    /// labels of `PERF_TIMER_LABELS`.
    ///
    /// ```
    /// let run = perf_timer::saved::SavedRun::capture(perf_timer::global());
    /// assert!(run.snapshot().is_empty());
    /// ```
    pub fn capture(registry: &Registry) -> SavedRun {
        // One reading: the process's self time from the same snapshot.
        let snapshot = registry.snapshot();
        let process = registry.process_of(&snapshot);
        SavedRun::of_registry(registry, snapshot, process)
    }

    /// `registry`'s run from a reading already taken (the exit report's).
    pub(crate) fn of_registry(
        registry: &Registry,
        snapshot: Snapshot,
        process: Option<ProcessTime>,
    ) -> SavedRun {
        let mut run = SavedRun::of_snapshot(snapshot);
        run.info.clock = Some(format!("{:?}", registry.clock()));
        run.info.process = process;
        run
    }

    /// `snapshot` with this process's details and the labels of
    /// `PERF_TIMER_LABELS`.
    ///
    /// ```
    /// let snapshot = perf_timer::Registry::new().snapshot();
    /// let run = perf_timer::saved::SavedRun::of_snapshot(snapshot);
    /// assert!(run.info().process.is_none());
    /// ```
    pub fn of_snapshot(snapshot: Snapshot) -> SavedRun {
        SavedRun {
            info: RunInfo::now(),
            snapshot,
        }
    }

    /// Adds a label (`commit`, `branch`, `machine`, …), replacing one of the
    /// same key.
    ///
    /// ```
    /// let run = perf_timer::saved::SavedRun::capture(&perf_timer::Registry::new())
    ///     .label("branch", "main");
    /// assert_eq!(run.info().labels["branch"], "main");
    /// ```
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.info.labels.insert(key.into(), value.into());
        self
    }

    /// What identifies the run.
    ///
    /// ```
    /// let run = perf_timer::saved::SavedRun::capture(&perf_timer::Registry::new());
    /// assert!(!run.info().program.is_empty());
    /// ```
    pub fn info(&self) -> &RunInfo {
        &self.info
    }

    /// What identifies the run, to change: a tool that makes a run of
    /// others (a merge, say) gives it their program and clock.
    ///
    /// ```
    /// let mut run = perf_timer::saved::SavedRun::capture(&perf_timer::Registry::new());
    /// run.info_mut().program = "my-service".to_owned();
    /// assert_eq!(run.info().program, "my-service");
    /// ```
    pub fn info_mut(&mut self) -> &mut RunInfo {
        &mut self.info
    }

    /// Every timer of the run.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("a").record(std::time::Duration::from_micros(3));
    /// let run = perf_timer::saved::SavedRun::capture(&registry);
    /// assert_eq!(run.snapshot().len(), 1);
    /// ```
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The run's snapshot, taken out.
    ///
    /// ```
    /// let run = perf_timer::saved::SavedRun::capture(&perf_timer::Registry::new());
    /// let report = run.into_snapshot().into_report();
    /// assert_eq!(report.to_string(), "perf-timer: nothing was recorded\n");
    /// ```
    pub fn into_snapshot(self) -> Snapshot {
        self.snapshot
    }

    /// The run as one line of JSON, without a line ending.
    ///
    /// ```
    /// let run = perf_timer::saved::SavedRun::capture(&perf_timer::Registry::new());
    /// assert!(run.to_json_line().starts_with("{\"args\":"));
    /// ```
    pub fn to_json_line(&self) -> String {
        line::to_line(self)
    }

    /// The line with its histograms not deflated: larger, and several
    /// times cheaper to make, for a line sent at once rather than kept
    /// (`export::metrics_route` serves it to `perf-timer top`). It reads
    /// back the same.
    ///
    /// ```
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("a").record(std::time::Duration::from_micros(7));
    /// let run = perf_timer::saved::SavedRun::capture(&registry);
    /// let back = perf_timer::saved::SavedRun::from_json_line(&run.to_uncompressed_json_line()).unwrap();
    /// assert_eq!(back.snapshot().get("a").unwrap().max(), run.snapshot().get("a").unwrap().max());
    /// ```
    pub fn to_uncompressed_json_line(&self) -> String {
        line::to_plain_line(self)
    }

    /// A run from one line of JSON, as [`to_json_line`](Self::to_json_line)
    /// wrote it.
    ///
    /// ```
    /// let error = perf_timer::saved::SavedRun::from_json_line("{\"a\": 1}").unwrap_err();
    /// assert!(error.to_string().contains("not written by perf-timer"));
    /// ```
    pub fn from_json_line(line: &str) -> Result<SavedRun, SavedError> {
        line::from_line(line, None)
    }

    /// Appends the run to `path` as one line, creating the file if needed.
    /// Several processes may append to one file at once: each line is
    /// written whole, under an exclusive lock of the file, with one
    /// `write` in append mode.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("perf-timer-doc-{}.jsonl", std::process::id()));
    /// let run = perf_timer::saved::SavedRun::capture(&perf_timer::Registry::new());
    /// run.append_to(&path).unwrap();
    /// assert_eq!(perf_timer::saved::read(&path).unwrap().runs.len(), 1);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn append_to(&self, path: impl AsRef<Path>) -> Result<(), SavedError> {
        file::append_line(path.as_ref(), &self.to_json_line())
    }
}

/// `PERF_TIMER_LABELS=k=v,k=v`, ignoring entries without `=`.
fn env_labels() -> BTreeMap<String, String> {
    let Ok(text) = std::env::var(LABELS_VAR) else {
        return BTreeMap::new();
    };
    parse_labels(&text).0
}

/// The environment variable of labels, `k=v,k=v`.
const LABELS_VAR: &str = "PERF_TIMER_LABELS";

/// One sentence per pair of `PERF_TIMER_LABELS` that is not a label (or
/// one if the variable is not Unicode): the exit report logs them.
pub(crate) fn label_warnings() -> Vec<String> {
    match std::env::var(LABELS_VAR) {
        Ok(text) => parse_labels(&text).1,
        Err(std::env::VarError::NotPresent) => Vec::new(),
        Err(std::env::VarError::NotUnicode(_)) => {
            vec![format!(
                "{LABELS_VAR} is not UTF-8: no label was read from it"
            )]
        }
    }
}

/// `k=v,k=v` into labels, with `\,`, `\=` and `\\` for a comma, an equals
/// sign and a backslash inside a key or value; keys and values trimmed.
/// Pairs without `=` or with an empty key are left out, each with a
/// warning.
fn parse_labels(text: &str) -> (BTreeMap<String, String>, Vec<String>) {
    let (mut labels, mut warnings) = (BTreeMap::new(), Vec::new());
    // Each pair as (key, value): the first unescaped `=` splits them.
    let mut pairs: Vec<(String, Option<String>, String)> = Vec::new();
    let (mut key, mut value, mut raw) = (String::new(), None::<String>, String::new());
    let push = |key: &mut String, value: &mut Option<String>, c: char| match value {
        Some(value) => value.push(c),
        None => key.push(c),
    };
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                raw.push(c);
                match chars.next() {
                    Some(e @ (',' | '=' | '\\')) => {
                        push(&mut key, &mut value, e);
                        raw.push(e);
                    }
                    Some(other) => {
                        push(&mut key, &mut value, '\\');
                        push(&mut key, &mut value, other);
                        raw.push(other);
                    }
                    None => push(&mut key, &mut value, '\\'),
                }
            }
            ',' => pairs.push((
                std::mem::take(&mut key),
                value.take(),
                std::mem::take(&mut raw),
            )),
            '=' if value.is_none() => {
                value = Some(String::new());
                raw.push(c);
            }
            c => {
                push(&mut key, &mut value, c);
                raw.push(c);
            }
        }
    }
    pairs.push((key, value, raw));
    for (key, value, raw) in pairs {
        if raw.trim().is_empty() {
            continue; // `a=1,,b=2` or a trailing comma
        }
        match value {
            None => warnings.push(format!(
                "{LABELS_VAR}: {:?} has no `=`: write key=value (\\, and \\= escape a comma and an equals sign); it was left out",
                raw.trim()
            )),
            Some(_) if key.trim().is_empty() => warnings.push(format!(
                "{LABELS_VAR}: {:?} has no key before its `=`; it was left out",
                raw.trim()
            )),
            Some(value) => {
                labels.insert(key.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
    (labels, warnings)
}

#[cfg(unix)]
fn host_name() -> String {
    let mut buffer = [0_u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at
    // most that many bytes.
    if unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) } != 0 {
        return String::new();
    }
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

#[cfg(not(unix))]
fn host_name() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_default()
}

impl Snapshot {
    /// This snapshot as a saved run's JSON line, with this process's
    /// details (see [`SavedRun::of_snapshot`]); read it back with
    /// [`SavedRun::from_json_line`]. Feature `save`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let registry = perf_timer::Registry::new();
    /// registry.timer("a").record(Duration::from_micros(7));
    /// let line = registry.snapshot().to_json_line();
    /// let back = perf_timer::saved::SavedRun::from_json_line(&line).unwrap();
    /// assert_eq!(back.snapshot().get("a").unwrap().total(), Duration::from_micros(7));
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "save")))]
    pub fn to_json_line(&self) -> String {
        SavedRun::of_snapshot(self.clone()).to_json_line()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_labels;

    fn labels(text: &str) -> (Vec<(String, String)>, Vec<String>) {
        let (labels, warnings) = parse_labels(text);
        (labels.into_iter().collect(), warnings)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn labels_split_on_unescaped_commas_and_equals_signs() {
        let (found, warnings) = labels("commit=abc123, branch = main");
        assert_eq!(found, pairs(&[("branch", "main"), ("commit", "abc123")]));
        assert!(warnings.is_empty());
        let (found, _) = labels(r"k=v\,w,eq=a\=b,path=C:\\x,url=http://h/?a=1");
        assert_eq!(
            found,
            pairs(&[
                ("eq", "a=b"),
                ("k", "v,w"),
                ("path", r"C:\x"),
                ("url", "http://h/?a=1")
            ])
        );
        assert_eq!(labels("a=1,,b=2,").0, pairs(&[("a", "1"), ("b", "2")]));
        assert_eq!(labels(r"a=\n").0, pairs(&[("a", r"\n")]));
    }

    #[test]
    fn a_malformed_pair_is_left_out_with_a_warning_naming_it() {
        let (found, warnings) = labels("noeq,=x,ok=1");
        assert_eq!(found, pairs(&[("ok", "1")]));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains(r#""noeq" has no `=`"#), "{warnings:?}");
        assert!(warnings[1].contains(r#""=x" has no key"#), "{warnings:?}");
    }
}
