//! `perf-timer top`: the live view (or a replay), one frame per interval.

use std::process::ExitCode;
use std::time::Duration;

use super::emit;
use crate::error::CliError;
use crate::top::frame::SortBy;
use crate::top::source::{Source, SourceError};
use crate::top::timeline::{Change, Timeline};

/// Watch a running service live, or replay a file of saved runs or an interval log (.hlog)
///
/// Per timer, what it did in the last interval: runs/s, busy (100 % = one
/// core) and share, p50 / p99 / max (exact, from its histograms), in
/// flight, errors, cancelled and slow polls.
///
/// SOURCE is one of:
///
/// - a service's `export::metrics_route` (features `axum` and `save`),
///   read as a saved run every interval over http:// or https://; any
///   other Prometheus endpoint is read from its histograms of seconds
///   (percentiles then bucket bounds);
///
/// - a file of saved runs (`PERF_TIMER_SAVE=runs.jsonl`, or
///   `SavedRun::capture(registry).append_to(path)` every so often),
///   replayed: each process's first run is a frame of its figures since
///   it started, its next runs frames of the intervals between;
///
/// - an HdrHistogram interval log (`.hlog`, `export::IntervalLog`), a
///   frame per interval.
///
/// On a terminal, a full-screen view (keys in its footer: sort, filter,
/// pause, cumulative, a detail pane); with `--once`, `--frames` or output
/// to a pipe or file, plain-text frames one after another. A service that
/// restarts (another pid or start, or counters gone down) starts a new
/// baseline. Errors are one line on stderr and exit status 2.
#[derive(clap::Args)]
pub struct Args {
    /// A service's metrics route (`http://127.0.0.1:3000/metrics`), a
    /// file of saved runs, or an interval log (`.hlog`) to replay.
    pub source: String,
    /// How long an interval is: `1s`, `500ms`, `2.5s`.
    #[arg(long, default_value = "1s", value_parser = interval)]
    pub interval: Duration,
    /// The most one read of a URL may take, whole (connecting, redirects,
    /// the answer to its last byte): `5s`, `500ms`.
    #[arg(long, default_value = "5s", value_parser = timeout)]
    pub timeout: Duration,
    /// Print one frame (after two reads an interval apart) and exit.
    #[arg(long)]
    pub once: bool,
    /// The column to sort by, largest first.
    #[arg(long, value_enum, default_value = "busy")]
    pub sort: SortBy,
    /// Stop after this many frames.
    #[arg(long)]
    pub frames: Option<usize>,
}

/// A number and `ms` or `s` (`s` if none), from 10 ms to an hour.
fn duration(flag: &str, text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, scale) = match t.strip_suffix("ms") {
        Some(n) => (n, 1e-3),
        None => (t.strip_suffix('s').unwrap_or(t), 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n * scale >= 0.01 && n * scale <= 3600.0 => {
            Ok(Duration::from_secs_f64(n * scale))
        }
        _ => Err(format!(
            "{flag} takes a duration from 10ms to 3600s such as 1s or 500ms, not {text:?}"
        )),
    }
}

/// `--interval`.
pub fn interval(text: &str) -> Result<Duration, String> {
    duration("--interval", text)
}

/// `--timeout`.
pub fn timeout(text: &str) -> Result<Duration, String> {
    duration("--timeout", text)
}

/// Prints frames until the source ends, `--frames` are shown, or (live,
/// without `--once`) forever.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let mut source = Source::open(&args.source, args.timeout)?;
    let live = source.is_live();
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::io::IsTerminal::is_terminal(&std::io::stdin());
    if !args.once && args.frames.is_none() && terminal {
        match ratatui::crossterm::terminal::size() {
            Ok((width, height)) if width > 0 && height > 0 => {
                crate::top::tui::run(source, &args.source, args.interval, args.sort)?;
                return Ok(ExitCode::SUCCESS);
            }
            // A pseudo-terminal without a size: nothing could be drawn.
            _ => note!(
                "perf-timer: the terminal has no size (0×0): plain frames instead of the full-screen view"
            ),
        }
    }
    let limit = if args.once { Some(1) } else { args.frames };
    let mut timeline = Timeline::new(!live);
    let (mut shown, mut reads, mut disconnected) = (0, 0, false);
    // Retrying is for a service that was reached and went away; one never
    // reached is an error, as with `--once`.
    let mut reached = false;
    while limit.is_none_or(|n| shown < n) {
        if live && reads > 0 {
            std::thread::sleep(args.interval);
        }
        reads += 1;
        let taken = match source.next() {
            Ok(Some(taken)) => taken,
            Ok(None) => break,
            Err(SourceError::Unreachable { url, reason }) if live && !args.once && reached => {
                if !disconnected {
                    emit(&format!("{url}: disconnected ({reason}), retrying\n\n"));
                    disconnected = true;
                    timeline.rebase();
                }
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        reached = true;
        if std::mem::take(&mut disconnected) {
            emit("connected again: a new baseline\n\n");
        }
        match timeline.push(taken) {
            Change::Interval | Change::SinceStart { .. } => {
                emit(&timeline.frame(args.sort, false).plain());
                shown += 1;
            }
            Change::Baseline { restart: true } => {
                emit("the service restarted: a new baseline\n\n");
            }
            Change::Baseline { restart: false } => {}
        }
    }
    if shown == 0 && !live {
        // A file of no run that reads, or of runs no frame can be made of.
        return Err(CliError::Top(source.no_runs()));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::{interval, timeout};
    use std::time::Duration;

    #[test]
    fn durations_read_in_seconds_or_milliseconds() {
        assert_eq!(interval("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(interval("2.5"), Ok(Duration::from_millis(2500)));
        assert!(interval("0s").is_err());
        assert!(interval("fast").is_err());
        assert_eq!(timeout("300ms"), Ok(Duration::from_millis(300)));
        assert!(timeout("0").unwrap_err().starts_with("--timeout takes"));
    }
}
