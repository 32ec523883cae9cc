//! Where `perf-timer top` reads snapshots: a service's `/metrics` route
//! asked for the registry as a saved run (`export::metrics_route` with the
//! feature `save`), over plain HTTP/1.1, or a file of saved runs replayed.

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::path::Path;
use std::time::{Duration, Instant};

use perf_timer::saved::{self, LazyFile, SavedRun, MEDIA_TYPE as RUN_MEDIA_TYPE};
use perf_timer::Snapshot;

use super::interval_log::{self, Interval};
use super::prometheus::{self, Histograms};

/// Why a snapshot could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The service did not answer: worth retrying.
    #[error("{url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// It answered, but not with a registry: retrying will not help.
    #[error("{url} is not a perf-timer endpoint: {reason} (serve it with export::metrics_route, with the features axum and save)")]
    NotOurs { url: String, reason: String },
    /// The URL is not one this command reads.
    #[error("{0:?} is neither a file of saved runs nor an http:// URL")]
    BadSource(String),
    /// A replayed file could not be read.
    #[error(transparent)]
    Saved(#[from] saved::SavedError),
}

/// What one read gives.
pub enum Reading {
    /// Our registry, whole: exact percentiles.
    Run(Snapshot),
    /// Any other Prometheus endpoint's classic histograms: percentiles
    /// bounded by its buckets.
    Buckets(Histograms),
    /// One interval of an HdrHistogram interval log: a window already.
    Interval(Interval),
}

impl Reading {
    /// Whether this reading follows `then` of the same service (else it
    /// restarted, and an interval must start again from here).
    pub fn follows(&self, then: &Reading) -> bool {
        match (then, self) {
            (Reading::Run(a), Reading::Run(b)) => super::frame::is_continuation(a, b),
            (Reading::Buckets(a), Reading::Buckets(b)) => prometheus::is_continuation(a, b),
            // Each interval of a log is a window of its own.
            (Reading::Interval(_), Reading::Interval(_)) => true,
            _ => false,
        }
    }
}

/// One reading and when it was taken: the registry's age (its process
/// wall time) where the run says it, else when it arrived.
pub struct Taken {
    pub reading: Reading,
    pub at: Duration,
}

/// A source of successive snapshots.
pub enum Source {
    Http {
        url: String,
        host: String,
        path: String,
        started: Instant,
    },
    Replay {
        file: LazyFile,
    },
    Log {
        intervals: std::vec::IntoIter<Interval>,
    },
}

impl Source {
    /// `source` as an http:// URL or a file of saved runs.
    pub fn open(source: &str) -> Result<Source, SourceError> {
        if let Some(rest) = source.strip_prefix("http://") {
            let (host, path) = match rest.find('/') {
                Some(at) => (&rest[..at], &rest[at..]),
                None => (rest, "/metrics"),
            };
            if host.is_empty() {
                return Err(SourceError::BadSource(source.to_owned()));
            }
            let host = if host.contains(':') {
                host.to_owned()
            } else {
                format!("{host}:80")
            };
            return Ok(Source::Http {
                url: source.to_owned(),
                host,
                path: path.to_owned(),
                started: Instant::now(),
            });
        }
        if source.contains("://") {
            return Err(SourceError::BadSource(source.to_owned()));
        }
        let path = Path::new(source);
        // A file of saved runs starts with `{`; an interval log does not.
        let mut head = [0_u8; 1];
        let starts_with_brace = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .is_ok_and(|n| n == 1 && head[0] == b'{');
        if !starts_with_brace {
            if let Ok(text) = std::fs::read(path) {
                if let Some(intervals) = interval_log::parse(&text) {
                    return Ok(Source::Log {
                        intervals: intervals.into_iter(),
                    });
                }
            }
        }
        Ok(Source::Replay {
            file: saved::read_lazily(path)?,
        })
    }

    /// Why a replayed file gave no reading: its lines, skipped, and why.
    pub fn no_runs(&mut self) -> SourceError {
        match self {
            Source::Replay { file } => SourceError::Saved(file.no_runs()),
            Source::Log { .. } => SourceError::BadSource("an interval log of no interval".into()),
            Source::Http { url, .. } => SourceError::Unreachable {
                url: url.clone(),
                reason: "no answer".into(),
            },
        }
    }

    /// Whether snapshots come live (and the command waits between them).
    pub fn is_live(&self) -> bool {
        matches!(self, Source::Http { .. })
    }

    /// The next snapshot; `Ok(None)`: a replayed file has no more runs.
    pub fn next(&mut self) -> Result<Option<Taken>, SourceError> {
        match self {
            Source::Http {
                url,
                host,
                path,
                started,
            } => {
                let arrived = started.elapsed();
                Ok(Some(match fetch(url, host, path)? {
                    Fetched::Run(run) => Taken {
                        at: run.info().process.as_ref().map_or(arrived, |p| p.wall()),
                        reading: Reading::Run(run.into_snapshot()),
                    },
                    Fetched::Buckets(histograms) => Taken {
                        at: arrived,
                        reading: Reading::Buckets(histograms),
                    },
                }))
            }
            Source::Log { intervals } => Ok(intervals.next().map(|interval| Taken {
                at: interval.start + interval.length,
                reading: Reading::Interval(interval),
            })),
            Source::Replay { file } => {
                // Lines that are not saved runs are skipped, as `report`
                // does, and so are runs that do not read (said once each):
                // one damaged run never ends the replay.
                let run = loop {
                    let Some(lazy) = file.by_ref().find_map(Result::ok) else {
                        return Ok(None);
                    };
                    match lazy.read() {
                        Ok(run) => break run,
                        Err(e) => eprintln!("perf-timer: line {} skipped: {e}", lazy.line()),
                    }
                };
                Ok(Some(Taken {
                    at: age_of(&run),
                    reading: Reading::Run(run.into_snapshot()),
                }))
            }
        }
    }
}

/// When a saved run was taken: its registry's age where the run says it
/// (intervals then measure the process's own wall time), else its save
/// time.
fn age_of(run: &SavedRun) -> Duration {
    match &run.info().process {
        Some(process) => process.wall(),
        None => run
            .info()
            .time
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default(),
    }
}

/// What an endpoint answered.
enum Fetched {
    Run(Box<SavedRun>),
    Buckets(Histograms),
}

/// GET `path` from `host`, asking for a saved run first and Prometheus'
/// text after it.
fn fetch(url: &str, host: &str, path: &str) -> Result<Fetched, SourceError> {
    let unreachable = |reason: String| SourceError::Unreachable {
        url: url.to_owned(),
        reason,
    };
    let not_ours = |reason: String| SourceError::NotOurs {
        url: url.to_owned(),
        reason,
    };
    let addr = host
        .to_socket_addrs()
        .map_err(|e| unreachable(e.to_string()))?
        .next()
        .ok_or_else(|| unreachable("no address".into()))?;
    let timeout = Duration::from_secs(5);
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| unreachable(e.to_string()))?;
    let _ = stream.set_read_timeout(Some(timeout));
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {RUN_MEDIA_TYPE}, text/plain;version=0.0.4;q=0.5\r\nConnection: close\r\nUser-Agent: perf-timer-top\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| unreachable(e.to_string()))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| unreachable(e.to_string()))?;
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(unreachable(
            "the connection closed before a response".into(),
        ));
    };
    let head = String::from_utf8_lossy(&response[..end]).into_owned();
    let body = &response[end + 4..];
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(not_ours(format!("it answered {status:?}")));
    }
    let header = |name: &str| {
        head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let content_type = header("content-type").unwrap_or_default();
    let body = if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        dechunk(body).ok_or_else(|| unreachable("a chunked body was cut short".into()))?
    } else {
        body.to_vec()
    };
    let text = String::from_utf8(body).map_err(|_| not_ours("a body that is not UTF-8".into()))?;
    if content_type.starts_with(RUN_MEDIA_TYPE) {
        return SavedRun::from_json_line(text.trim_end())
            .map(|run| Fetched::Run(Box::new(run)))
            .map_err(|e| not_ours(e.to_string()));
    }
    if content_type.starts_with("text/plain") {
        return prometheus::parse(&text)
            .map(Fetched::Buckets)
            .ok_or_else(|| not_ours("its Prometheus text holds no histogram".into()));
    }
    Err(not_ours(format!(
        "it answered {content_type:?}, neither {RUN_MEDIA_TYPE} nor Prometheus text"
    )))
}

/// A chunked HTTP body, joined.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = body.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&body[..end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        body = &body[end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_body_joins() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
        assert!(dechunk(b"5\r\nab").is_none());
    }

    #[test]
    fn sources_are_urls_or_files() {
        assert!(matches!(
            Source::open("https://x/metrics"),
            Err(SourceError::BadSource(_))
        ));
        let Ok(Source::Http { host, path, .. }) = Source::open("http://127.0.0.1:9/m") else {
            panic!("an http URL")
        };
        assert_eq!((host.as_str(), path.as_str()), ("127.0.0.1:9", "/m"));
        let Ok(Source::Http { host, path, .. }) = Source::open("http://localhost") else {
            panic!("an http URL")
        };
        assert_eq!((host.as_str(), path.as_str()), ("localhost:80", "/metrics"));
    }
}
