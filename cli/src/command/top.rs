//! `perf-timer top`: the live view (or a replay), one frame per interval.

use std::process::ExitCode;
use std::time::Duration;

use super::emit;
use crate::error::CliError;
use crate::top::frame::{self, SortBy};
use crate::top::prometheus;
use crate::top::source::{Reading, Source, SourceError, Taken};

/// Show what each timer of a running service did in the last interval:
/// runs/s, busy (100 % = one core) and share, p50 / p99 / max (exact, from its
/// histograms), in flight, errors, cancelled and slow polls per timer.
///
/// Reads the service's `export::metrics_route` (features `axum` and
/// `save`) as a saved run every interval, or replays a file of saved runs,
/// one frame per pair of runs. On a terminal, a full-screen view (keys in
/// its footer: sort, filter, pause, cumulative, a detail pane); with
/// `--once`, `--frames` or output to a pipe or file, plain-text frames one
/// after another. A service that restarts starts a new baseline.
#[derive(clap::Args)]
pub struct Args {
    /// A service's metrics route (`http://127.0.0.1:3000/metrics`), or a
    /// file of saved runs to replay.
    pub source: String,
    /// How long an interval is: `1s`, `500ms`, `2.5s`.
    #[arg(long, default_value = "1s", value_parser = interval)]
    pub interval: Duration,
    /// Print one frame (after two snapshots an interval apart) and exit.
    #[arg(long)]
    pub once: bool,
    /// The column to sort by, largest first.
    #[arg(long, value_enum, default_value = "busy")]
    pub sort: SortBy,
    /// Stop after this many frames.
    #[arg(long)]
    pub frames: Option<usize>,
}

/// `--interval`: a number and `ms` or `s` (`s` if none).
pub fn interval(text: &str) -> Result<Duration, String> {
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
            "--interval takes a duration from 10ms to 3600s such as 1s or 500ms, not {text:?}"
        )),
    }
}

/// Prints frames until the source ends, `--frames` are shown, or (live,
/// without `--once`) forever.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let mut source = Source::open(&args.source)?;
    let live = source.is_live();
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout())
        && std::io::IsTerminal::is_terminal(&std::io::stdin());
    if !args.once && args.frames.is_none() && terminal {
        crate::top::tui::run(source, &args.source, args.interval, args.sort)?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(mut then) = source.next()? else {
        return Err(CliError::Top(source.no_runs()));
    };
    let limit = if args.once { Some(1) } else { args.frames };
    let mut shown = 0;
    // An interval log's first reading is a window already: a frame.
    if matches!(then.reading, Reading::Interval(_)) {
        emit(&show(&then, &then, args.sort));
        shown += 1;
    }
    let mut disconnected = false;
    while limit.is_none_or(|n| shown < n) {
        if live {
            std::thread::sleep(args.interval);
        }
        let now = match source.next() {
            Ok(Some(now)) => now,
            Ok(None) => break,
            Err(SourceError::Unreachable { url, reason }) if live && !args.once => {
                if !disconnected {
                    emit(&format!("{url}: disconnected ({reason}), retrying\n\n"));
                    disconnected = true;
                }
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if disconnected {
            emit("connected again: a new baseline\n\n");
            disconnected = false;
            then = now;
            continue;
        }
        if !now.reading.follows(&then.reading) {
            emit("the service restarted: a new baseline\n\n");
            then = now;
            continue;
        }
        emit(&show(&then, &now, args.sort));
        shown += 1;
        then = now;
    }
    Ok(ExitCode::SUCCESS)
}

/// One frame: a line saying the interval, then the table.
fn show(then: &Taken, now: &Taken, sort: SortBy) -> String {
    let elapsed = now.at.saturating_sub(then.at);
    if let Reading::Interval(interval) = &now.reading {
        let rows = frame::sorted(crate::top::interval_log::rows(interval), sort);
        return format!(
            "interval log at {:.1} s, {:.2} s long, {} timers\n{}\n",
            interval.start.as_secs_f64(),
            interval.length.as_secs_f64(),
            rows.len(),
            frame::table(&rows)
        );
    }
    let (rows, bounded) = match (&then.reading, &now.reading) {
        (Reading::Run(a), Reading::Run(b)) => (frame::rows(a, b, elapsed, sort), false),
        (Reading::Buckets(a), Reading::Buckets(b)) => {
            (frame::sorted(prometheus::rows(a, b, elapsed), sort), true)
        }
        _ => (Vec::new(), false),
    };
    let seconds = elapsed.as_secs_f64();
    let cores: f64 = rows.iter().map(|r| r.cores).sum();
    let note = if bounded {
        "; not a perf-timer endpoint: percentiles are bucket bounds (≤), in flight, errors and slow polls unknown (-)"
    } else {
        ""
    };
    format!(
        "interval {seconds:.2} s, {} timers, {} cores busy{note}\n{}\n",
        rows.len(),
        frame::sig3(cores),
        frame::table(&rows)
    )
}

#[cfg(test)]
mod tests {
    use super::interval;
    use std::time::Duration;

    #[test]
    fn intervals_read_in_seconds_or_milliseconds() {
        assert_eq!(interval("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(interval("2.5"), Ok(Duration::from_millis(2500)));
        assert!(interval("0s").is_err());
        assert!(interval("fast").is_err());
    }
}
