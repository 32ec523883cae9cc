//! A file of saved runs: appended to by many processes at once, read back
//! line by line with what is not a saved run skipped and said.

use std::io::{BufRead as _, Write as _};
use std::path::Path;

use super::{RunInfo, SavedError, SavedRun};

/// Appends `line` and a line ending with one `write`, in append mode,
/// holding an exclusive lock on the file (`File::lock`), so that lines from
/// processes saving at once never interleave. A line left without its
/// ending (a writer that died mid-line) is ended first, so that it cannot
/// take this line down with it.
/// Whether `file` is empty or its last byte ends a line (unreadable counts
/// as ended: nothing is added then).
fn ends_a_line(file: &mut std::fs::File) -> bool {
    use std::io::{Read as _, Seek as _, SeekFrom};
    if file.metadata().map_or(true, |m| m.len() == 0) {
        return true;
    }
    let mut last = [0_u8];
    let read = file
        .seek(SeekFrom::End(-1))
        .and_then(|_| file.read_exact(&mut last));
    read.is_err() || last[0] == b'\n'
}

pub(crate) fn append_line(path: &Path, line: &str) -> Result<(), SavedError> {
    let io = |source| SavedError::Io {
        action: "append to",
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .map_err(io)?;
    // An exclusive lock for the write: other perf-timer processes appending
    // to the same file wait. Where locking is not supported, the one write
    // in append mode still keeps the line whole on local file systems.
    let locked = file.lock().is_ok();
    let mut bytes = Vec::with_capacity(line.len() + 2);
    if !ends_a_line(&mut file) {
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    let written = file.write_all(&bytes).map_err(io);
    if locked {
        let _ = file.unlock();
    }
    written
}

/// The saved runs of a file, in file order, and the lines that were not.
///
/// ```
/// let path = std::env::temp_dir().join(format!("perf-timer-doc-file-{}.jsonl", std::process::id()));
/// let run = perf_timer::saved::SavedRun::capture(&perf_timer::Registry::new());
/// run.append_to(&path).unwrap();
/// let file = perf_timer::saved::read(&path).unwrap();
/// assert_eq!((file.runs.len(), file.skipped.len()), (1, 0));
/// # std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SavedFile {
    /// The saved runs, in the order they were appended.
    pub runs: Vec<SavedRun>,
    /// Lines that were not saved runs (torn by a crash, written by
    /// something else, or from a newer perf-timer), by line number.
    pub skipped: Vec<Skipped>,
}

/// A line of a file of saved runs that was not one.
///
/// ```
/// let path = std::env::temp_dir().join(format!("perf-timer-doc-skip-{}.jsonl", std::process::id()));
/// std::fs::write(&path, "hello\n").unwrap();
/// let error = perf_timer::saved::read(&path).unwrap_err();
/// assert!(error.to_string().contains("holds no saved run (1 line(s) skipped; line 1 skipped: not a saved run: not JSON"));
/// # std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Skipped {
    /// The line number, from 1.
    pub line: usize,
    /// Why it was skipped.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} skipped: {}", self.line, self.reason)
    }
}

/// A file of saved runs read one line at a time, each line's header (who,
/// when, labels, clock) read at once and its timers only when
/// [`LazyRun::read`] asks: numbering, picking and filtering the runs of a
/// long file costs a scan of it, not the decoding of every histogram. Made
/// by [`read_lazily`]; each item is a run or a [`Skipped`] line.
///
/// ```
/// use std::time::Duration;
/// use perf_timer::saved::{self, SavedRun};
///
/// let path = std::env::temp_dir().join(format!("perf-timer-doc-lazy-{}.jsonl", std::process::id()));
/// let registry = perf_timer::Registry::new();
/// for commit in ["a1", "b2"] {
///     registry.timer("get").record(Duration::from_micros(5));
///     SavedRun::capture(&registry).label("commit", commit).append_to(&path).unwrap();
/// }
/// let mut file = saved::read_lazily(&path).unwrap();
/// let second = file.find_map(|line| line.ok().filter(|run| run.info().labels["commit"] == "b2"));
/// let run = second.unwrap().read().unwrap(); // only this line's timers decoded
/// assert_eq!(run.snapshot().get("get").unwrap().count(), 2);
/// # std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Debug)]
pub struct LazyFile {
    path: std::path::PathBuf,
    reader: Option<std::io::BufReader<std::fs::File>>,
    number: usize,
    skipped: usize,
    first_skipped: Option<Skipped>,
    newer: Option<SavedError>,
}

/// One line of a [`LazyFile`] that is a saved run: its header read, its
/// timers not yet.
#[derive(Debug, Clone)]
pub struct LazyRun {
    line: usize,
    text: String,
    info: RunInfo,
    schema: u64,
}

impl LazyRun {
    /// Its line number in the file, from 1.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("perf-timer-doc-lazy-line-{}.jsonl", std::process::id()));
    /// # perf_timer::saved::SavedRun::capture(&perf_timer::Registry::new()).append_to(&path).unwrap();
    /// let first = perf_timer::saved::read_lazily(&path).unwrap().next().unwrap().unwrap();
    /// assert_eq!(first.line(), 1);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn line(&self) -> usize {
        self.line
    }

    /// Who saved the run, when, with which labels and clock.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("perf-timer-doc-lazy-info-{}.jsonl", std::process::id()));
    /// # perf_timer::saved::SavedRun::capture(&perf_timer::Registry::new()).append_to(&path).unwrap();
    /// let first = perf_timer::saved::read_lazily(&path).unwrap().next().unwrap().unwrap();
    /// assert_eq!(first.info().pid, std::process::id());
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn info(&self) -> &RunInfo {
        &self.info
    }

    /// The schema the run was saved in (the line's `perf_timer`, at most
    /// [`SCHEMA`](super::SCHEMA)): runs saved before schema 3 keep no
    /// nesting paths and no slowest runs.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("perf-timer-doc-lazy-schema-{}.jsonl", std::process::id()));
    /// # perf_timer::saved::SavedRun::capture(&perf_timer::Registry::new()).append_to(&path).unwrap();
    /// let first = perf_timer::saved::read_lazily(&path).unwrap().next().unwrap().unwrap();
    /// assert_eq!(first.schema(), perf_timer::saved::SCHEMA);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn schema(&self) -> u64 {
        self.schema
    }

    /// The whole run, its timers decoded.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("perf-timer-doc-lazy-read-{}.jsonl", std::process::id()));
    /// # let registry = perf_timer::Registry::new();
    /// # registry.timer("x").record(std::time::Duration::from_nanos(9));
    /// # perf_timer::saved::SavedRun::capture(&registry).append_to(&path).unwrap();
    /// let first = perf_timer::saved::read_lazily(&path).unwrap().next().unwrap().unwrap();
    /// assert_eq!(first.read().unwrap().snapshot().get("x").unwrap().count(), 1);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn read(&self) -> Result<SavedRun, SavedError> {
        super::line::from_line(&self.text, None)
    }

    /// The run with only the timers named in `names` decoded (the others
    /// are parsed past, their histograms never inflated): for a reader that
    /// needs a few timers of every run of a large file, such as a chart of
    /// them run by run. A name the run does not have is left out.
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("perf-timer-doc-lazy-some-{}.jsonl", std::process::id()));
    /// # let registry = perf_timer::Registry::new();
    /// # registry.timer("x").record(std::time::Duration::from_nanos(9));
    /// # registry.timer("y").record(std::time::Duration::from_nanos(9));
    /// # perf_timer::saved::SavedRun::capture(&registry).append_to(&path).unwrap();
    /// let first = perf_timer::saved::read_lazily(&path).unwrap().next().unwrap().unwrap();
    /// let run = first.read_timers(&["x", "nope"]).unwrap();
    /// assert_eq!(run.snapshot().len(), 1);
    /// assert_eq!(run.snapshot().get("x").unwrap().count(), 1);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn read_timers(&self, names: &[&str]) -> Result<SavedRun, SavedError> {
        super::line::from_line(&self.text, Some(names))
    }
}

/// Opens `path` to be read one run at a time (see [`LazyFile`]).
///
/// ```
/// let error = perf_timer::saved::read_lazily("/no/such/file.jsonl").unwrap_err();
/// assert!(error.to_string().starts_with("cannot read /no/such/file.jsonl"));
/// ```
pub fn read_lazily(path: impl AsRef<Path>) -> Result<LazyFile, SavedError> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| SavedError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })?;
    Ok(LazyFile {
        path: path.to_owned(),
        reader: Some(std::io::BufReader::new(file)),
        number: 0,
        skipped: 0,
        first_skipped: None,
        newer: None,
    })
}

impl LazyFile {
    /// What a file that held no run is, once read through: which lines
    /// were skipped and why, or that its runs are of a newer schema.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("perf-timer-doc-lazy-none-{}.jsonl", std::process::id()));
    /// std::fs::write(&path, "not a run\n").unwrap();
    /// let mut file = perf_timer::saved::read_lazily(&path).unwrap();
    /// assert!(file.by_ref().all(|line| line.is_err()));
    /// assert!(file.no_runs().to_string().contains("holds no saved run (1 line(s) skipped; line 1 skipped"));
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn no_runs(&mut self) -> SavedError {
        match self.newer.take() {
            Some(e) if self.skipped == 1 => e,
            _ => SavedError::NoRuns {
                path: self.path.clone(),
                skipped: self.skipped,
                first: self.first_skipped.as_ref().map(ToString::to_string),
            },
        }
    }

    fn skip_line(&mut self, reason: String) -> Skipped {
        let skipped = Skipped {
            line: self.number,
            reason,
        };
        self.skipped += 1;
        if self.first_skipped.is_none() {
            self.first_skipped = Some(skipped.clone());
        }
        skipped
    }
}

impl Iterator for LazyFile {
    type Item = Result<LazyRun, Skipped>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut bytes = Vec::new();
        loop {
            let reader = self.reader.as_mut()?;
            bytes.clear();
            self.number += 1;
            match reader.read_until(b'\n', &mut bytes) {
                Ok(0) => {
                    self.reader = None;
                    return None;
                }
                Ok(_) => {}
                Err(e) => {
                    // The rest of the file cannot be read: one line says so.
                    self.reader = None;
                    return Some(Err(self.skip_line(format!("cannot read from here on: {e}"))));
                }
            }
            let Ok(text) = std::str::from_utf8(&bytes) else {
                return Some(Err(self.skip_line("not UTF-8".into())));
            };
            // A byte-order mark, as some editors write before the first
            // line, is not part of the run.
            let text = text.trim_start_matches('\u{feff}').trim();
            if text.is_empty() {
                continue;
            }
            return Some(match super::line::header_of(text) {
                Ok(header) => Ok(LazyRun {
                    line: self.number,
                    text: text.to_owned(),
                    info: header.info,
                    schema: header.schema,
                }),
                Err(e) => {
                    let reason = e.to_string();
                    if let SavedError::NewerSchema { .. } = e {
                        self.newer = Some(e);
                    }
                    Err(self.skip_line(reason))
                }
            });
        }
    }
}

/// Reads every saved run of `path`. Lines that are not saved runs are
/// skipped and listed in [`SavedFile::skipped`], never a failure; a file
/// with no saved run at all is [`SavedError::NoRuns`].
///
/// ```
/// use std::time::Duration;
///
/// let path = std::env::temp_dir().join(format!("perf-timer-doc-read-{}.jsonl", std::process::id()));
/// let registry = perf_timer::Registry::new();
/// registry.timer("load").record(Duration::from_millis(2));
/// perf_timer::saved::SavedRun::capture(&registry).append_to(&path).unwrap();
/// let file = perf_timer::saved::read(&path).unwrap();
/// let load = file.runs[0].snapshot().get("load").unwrap();
/// assert_eq!(load.total(), Duration::from_millis(2));
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn read(path: impl AsRef<Path>) -> Result<SavedFile, SavedError> {
    let mut file = read_lazily(path)?;
    let (mut runs, mut skipped) = (Vec::new(), Vec::new());
    while let Some(line) = file.next() {
        match line.map(|lazy| lazy.read()) {
            Ok(Ok(run)) => runs.push(run),
            // A header that reads with timers that do not: the line just read.
            Ok(Err(e)) => skipped.push(file.skip_line(e.to_string())),
            Err(line) => skipped.push(line),
        }
    }
    if runs.is_empty() {
        return Err(file.no_runs());
    }
    Ok(SavedFile { runs, skipped })
}
