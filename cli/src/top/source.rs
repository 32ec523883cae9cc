//! Where `perf-timer top` reads snapshots: a service's `/metrics` route
//! asked for the registry as a saved run (`export::metrics_route` with the
//! feature `save`) over HTTP or HTTPS, or a file replayed (saved runs or an
//! HdrHistogram interval log).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use perf_timer::saved::{self, LazyFile, SavedRun, MEDIA_TYPE as RUN_MEDIA_TYPE};
use perf_timer::Snapshot;

use super::interval_log::{self, Interval};
use super::prometheus::{self, Exposition};

/// The most of an answer `top` reads: a registry of 10,000 timers is a
/// few MiB; anything much larger is not a registry, and must not fill the
/// memory of the machine watching it.
pub const BODY_LIMIT: u64 = 64 << 20;

/// Whether `url` is read over TLS.
fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

/// How many redirects are followed.
const REDIRECTS: u32 = 5;

/// Why a snapshot could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The service did not answer (in time): worth retrying.
    #[error("{url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// It answered, but not with a registry: retrying will not help.
    #[error("{url} is not a perf-timer endpoint: {reason} (serve it with export::metrics_route, with the features axum and save)")]
    NotOurs { url: String, reason: String },
    /// Its answer is larger than `top` reads.
    #[error("{url} answered more than {} MiB, the most `top` reads: not a registry's metrics", BODY_LIMIT >> 20)]
    TooLarge { url: String },
    /// The URL is not one this command reads.
    #[error(
        "{0:?} is neither a file of saved runs or an interval log, nor an http:// or https:// URL"
    )]
    BadSource(String),
    /// An interval log with a header and no interval.
    #[error("{0} is an interval log of no interval: nothing to replay")]
    EmptyLog(String),
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
    Buckets(Exposition),
    /// One interval of an HdrHistogram interval log: a window already.
    Interval(Interval),
    /// A process's registry as it started: empty.
    Start,
}

/// Which process a run came from: a run of another process is never
/// subtracted from this one's.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub host: String,
    pub pid: u32,
    /// When its registry was made (the run's save time less its wall
    /// time), where the run says its wall time.
    pub started: Option<SystemTime>,
}

impl Process {
    /// The process of `run`.
    pub fn of(run: &SavedRun) -> Process {
        let info = run.info();
        Process {
            host: info.host.clone(),
            pid: info.pid,
            started: info
                .process
                .as_ref()
                .and_then(|p| info.time.checked_sub(p.wall())),
        }
    }

    /// Whether `self` and `other` are one process: same host and pid, and
    /// registries made within a second of each other (the save time is
    /// kept to the millisecond, and the wall clock may be stepped a
    /// little between two reads).
    pub fn is(&self, other: &Process) -> bool {
        let near = match (self.started, other.started) {
            (Some(a), Some(b)) => {
                let apart = a.duration_since(b).or_else(|_| b.duration_since(a));
                apart.is_ok_and(|d| d <= Duration::from_secs(1))
            }
            _ => true,
        };
        self.host == other.host && self.pid == other.pid && near
    }
}

impl Reading {
    /// Whether this reading follows `then` of the same service (else it
    /// restarted, and an interval must start again from here).
    pub fn follows(&self, then: &Reading) -> bool {
        match (then, self) {
            (Reading::Run(a), Reading::Run(b)) => super::frame::is_continuation(a, b),
            (Reading::Start, Reading::Run(_)) => true,
            (Reading::Buckets(a), Reading::Buckets(b)) => {
                prometheus::is_continuation(&a.histograms, &b.histograms)
            }
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
    /// The process the reading came from, where it says.
    pub process: Option<Process>,
}

impl Taken {
    /// Whether this reading follows `then` of one process with no restart
    /// between: same process, no counter gone down.
    pub fn follows(&self, then: &Taken) -> bool {
        let same = match (&then.process, &self.process) {
            (Some(a), Some(b)) => a.is(b),
            _ => true,
        };
        same && self.at >= then.at && self.reading.follows(&then.reading)
    }

    /// The reading a process started from: its registry empty, at age 0
    /// (a run's figures since its start are its figures less these).
    pub fn start_of(&self) -> Option<Taken> {
        let Reading::Run(_) = &self.reading else {
            return None;
        };
        // Where the run does not say its age, its start is unknown.
        self.process.as_ref()?.started?;
        Some(Taken {
            reading: Reading::Start,
            at: Duration::ZERO,
            process: self.process.clone(),
        })
    }
}

/// A source of successive snapshots.
pub enum Source {
    Http(Http),
    Replay {
        file: LazyFile,
    },
    Log {
        intervals: std::vec::IntoIter<Interval>,
    },
}

/// A live service read over HTTP(S).
pub struct Http {
    url: String,
    agent: ureq::Agent,
    timeout: Duration,
    started: Instant,
}

impl Source {
    /// `source` as an http(s):// URL (`/metrics` if it names no path) or
    /// a file of saved runs or an interval log; `timeout`: the most one
    /// whole read of a URL may take.
    pub fn open(source: &str, timeout: Duration) -> Result<Source, SourceError> {
        let lower = source.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(Source::Http(Http::new(source, timeout)?));
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
                    if intervals.is_empty() {
                        return Err(SourceError::EmptyLog(source.to_owned()));
                    }
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
            Source::Log { .. } => SourceError::EmptyLog("the interval log".into()),
            Source::Http(http) => SourceError::Unreachable {
                url: http.url.clone(),
                reason: "no answer".into(),
            },
        }
    }

    /// Whether snapshots come live (and the command waits between them).
    pub fn is_live(&self) -> bool {
        matches!(self, Source::Http(_))
    }

    /// The next snapshot; `Ok(None)`: a replayed file has no more runs.
    pub fn next(&mut self) -> Result<Option<Taken>, SourceError> {
        match self {
            Source::Http(http) => http.read().map(Some),
            Source::Log { intervals } => Ok(intervals.next().map(|interval| Taken {
                at: interval.start + interval.length,
                reading: Reading::Interval(interval),
                process: None,
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
                        Err(e) => note!("perf-timer: line {} skipped: {e}", lazy.line()),
                    }
                };
                Ok(Some(Taken {
                    at: age_of(&run),
                    process: Some(Process::of(&run)),
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

impl Http {
    fn new(url: &str, timeout: Duration) -> Result<Http, SourceError> {
        // `http://host:port` alone: the route is `/metrics`.
        let scheme_end = url.find("://").map_or(0, |at| at + 3);
        let url = if url[scheme_end..].contains('/') {
            url.to_owned()
        } else {
            format!("{url}/metrics")
        };
        match url.parse::<ureq::http::Uri>() {
            Ok(uri) if uri.host().is_some_and(|h| !h.is_empty()) => {}
            _ => return Err(SourceError::BadSource(url)),
        }
        let agent = ureq::Agent::config_builder()
            // One deadline for the whole read: connecting, redirects,
            // the header and the whole body.
            .timeout_global(Some(timeout))
            .max_redirects(REDIRECTS)
            .http_status_as_error(false)
            .user_agent(concat!("perf-timer-top/", env!("CARGO_PKG_VERSION")))
            .accept(format!("{RUN_MEDIA_TYPE}, text/plain;version=0.0.4;q=0.5"))
            .build()
            .new_agent();
        Ok(Http {
            url,
            agent,
            timeout,
            started: Instant::now(),
        })
    }

    /// The URL read.
    #[cfg(test)]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// One read: a saved run if the endpoint is ours, else the
    /// Prometheus text's histograms.
    fn read(&mut self) -> Result<Taken, SourceError> {
        let arrived = || self.started.elapsed();
        let url = &self.url;
        let unreachable = |reason: String| SourceError::Unreachable {
            url: url.clone(),
            reason,
        };
        let not_ours = |reason: String| SourceError::NotOurs {
            url: url.clone(),
            reason,
        };
        let failed = |e: ureq::Error| match e {
            ureq::Error::BodyExceedsLimit(_) => SourceError::TooLarge { url: url.clone() },
            ureq::Error::Timeout(_) => unreachable(format!(
                "no whole answer within {:?} (--timeout)",
                self.timeout
            )),
            ureq::Error::TooManyRedirects => not_ours(format!("more than {REDIRECTS} redirects")),
            // A plain HTTP service read over https:// answers bytes TLS
            // cannot parse: say what to try, not only what rustls saw.
            ureq::Error::Io(io)
                if io.kind() == std::io::ErrorKind::InvalidData && is_https(url) =>
            {
                unreachable(format!("{io}: if it serves plain HTTP, use http://"))
            }
            ureq::Error::Rustls(tls) if is_https(url) => unreachable(format!(
                "TLS failed ({tls}): if it serves plain HTTP, use http://"
            )),
            ureq::Error::Io(io) => unreachable(io.to_string()),
            other => unreachable(other.to_string()),
        };
        let mut response = self.agent.get(url.as_str()).call().map_err(failed)?;
        let status = response.status();
        if status != ureq::http::StatusCode::OK {
            // A service failing for now (a proxy's 502 during a deploy, a
            // 503 under load, a 429) may answer again: retried like one
            // that went away. Anything else will not change by asking again.
            let passing = status.is_server_error()
                || status == ureq::http::StatusCode::TOO_MANY_REQUESTS
                || status == ureq::http::StatusCode::REQUEST_TIMEOUT;
            let reason = format!("it answered {status}");
            return Err(if passing {
                unreachable(reason)
            } else {
                not_ours(reason)
            });
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let body = response
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_vec()
            .map_err(failed)?;
        let text =
            String::from_utf8(body).map_err(|_| not_ours("a body that is not UTF-8".into()))?;
        if content_type.starts_with(RUN_MEDIA_TYPE) {
            let run =
                SavedRun::from_json_line(text.trim_end()).map_err(|e| not_ours(e.to_string()))?;
            return Ok(Taken {
                at: run
                    .info()
                    .process
                    .as_ref()
                    .map_or_else(arrived, |p| p.wall()),
                process: Some(Process::of(&run)),
                reading: Reading::Run(run.into_snapshot()),
            });
        }
        if content_type.starts_with("text/plain") {
            let exposition = prometheus::parse(&text);
            if exposition.histograms.is_empty() {
                return Err(not_ours(exposition.why_empty()));
            }
            return Ok(Taken {
                at: arrived(),
                process: None,
                reading: Reading::Buckets(exposition),
            });
        }
        Err(not_ours(format!(
            "it answered {content_type:?}, neither {RUN_MEDIA_TYPE} nor Prometheus text"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn sources_are_urls_or_files() {
        assert!(matches!(
            Source::open("ftp://x/metrics", SECOND),
            Err(SourceError::BadSource(_))
        ));
        assert!(matches!(
            Source::open("http://", SECOND),
            Err(SourceError::BadSource(_))
        ));
        let url = |s: &str| match Source::open(s, SECOND) {
            Ok(Source::Http(http)) => http.url().to_owned(),
            _ => panic!("{s}: an http URL"),
        };
        assert_eq!(url("http://127.0.0.1:9/m"), "http://127.0.0.1:9/m");
        assert_eq!(url("http://localhost"), "http://localhost/metrics");
        assert_eq!(url("https://[::1]:9090"), "https://[::1]:9090/metrics");
    }

    #[test]
    fn one_process_is_its_host_pid_and_start() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let p = |host: &str, pid, started| Process {
            host: host.into(),
            pid,
            started,
        };
        let a = p("h", 7, Some(t0));
        assert!(a.is(&p("h", 7, Some(t0 + Duration::from_millis(3)))));
        assert!(!a.is(&p("h", 8, Some(t0))), "another pid");
        assert!(!a.is(&p("g", 7, Some(t0))), "another host");
        assert!(
            !a.is(&p("h", 7, Some(t0 + 5 * SECOND))),
            "restarted, same pid"
        );
        assert!(
            a.is(&p("h", 7, None)),
            "a start unknown: pid and host decide"
        );
    }
}
