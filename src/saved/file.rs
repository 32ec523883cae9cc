//! A file of saved runs: appended to by many processes at once, read back
//! line by line with what is not a saved run skipped and said.

use std::io::{BufRead as _, Write as _};
use std::path::Path;

use super::{SavedError, SavedRun};

/// Appends `line` and a line ending with one `write`, in append mode,
/// holding an exclusive lock on the file (Unix), so that lines from
/// processes saving at once never interleave.
pub(crate) fn append_line(path: &Path, line: &str) -> Result<(), SavedError> {
    let io = |source| SavedError::Io {
        action: "append to",
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    let _lock = Lock::exclusive(&file);
    file.write_all(&bytes).map_err(io)?;
    Ok(())
}

/// An advisory lock held while it lives.
struct Lock {
    #[cfg(unix)]
    fd: std::os::fd::RawFd,
}

impl Lock {
    fn exclusive(file: &std::fs::File) -> Lock {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd as _;
            let fd = file.as_raw_fd();
            // SAFETY: `fd` is an open descriptor for the lock's life. A
            // failed lock still appends in one write, which O_APPEND keeps
            // whole on local file systems.
            unsafe { libc::flock(fd, libc::LOCK_EX) };
            Lock { fd }
        }
        #[cfg(not(unix))]
        {
            let _ = file;
            Lock {}
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // SAFETY: as in `exclusive`; the file outlives the lock.
        #[cfg(unix)]
        unsafe {
            libc::flock(self.fd, libc::LOCK_UN)
        };
    }
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
    let path = path.as_ref();
    let io = |source| SavedError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    let mut newer = None;
    let mut reader = std::io::BufReader::new(file);
    let mut bytes = Vec::new();
    for number in 1.. {
        bytes.clear();
        if reader.read_until(b'\n', &mut bytes).map_err(io)? == 0 {
            break;
        }
        let Ok(text) = std::str::from_utf8(&bytes) else {
            skipped.push(Skipped {
                line: number,
                reason: "not UTF-8".into(),
            });
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match SavedRun::from_json_line(text) {
            Ok(run) => runs.push(run),
            Err(e) => {
                skipped.push(Skipped {
                    line: number,
                    reason: e.to_string(),
                });
                if let SavedError::NewerSchema { .. } = e {
                    newer = Some(e);
                }
            }
        }
    }
    if runs.is_empty() {
        // Only runs from a newer perf-timer: say that, not "no runs".
        return Err(match newer {
            Some(e) if skipped.len() == 1 => e,
            _ => SavedError::NoRuns {
                path: path.to_owned(),
                skipped: skipped.len(),
                first: skipped.first().map(ToString::to_string),
            },
        });
    }
    Ok(SavedFile { runs, skipped })
}
