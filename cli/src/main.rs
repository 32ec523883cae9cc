//! `perf-timer`: report, compare, merge, plot and page (html) runs saved by perf-timer
//! (`report_at_exit().save_to(path)` or `PERF_TIMER_SAVE=path`), and
//! watch a running service live (`top`).
//!
//! Exit status: 0 done; 1 `diff` found a regression; 2 an error, said in
//! one sentence on stderr.
//!
//! `command/` holds the subcommands (their arguments and what they call);
//! the modules beside it do the work: `load` reads saved runs, `diff` and
//! `evidence` compare them (`figure` names what is judged, `judging` the
//! options), `report`, `merge`, `html` and `plot` present them (`markup`
//! holds HTML's small parts), `top` reads a live service or replays a file.

/// `eprintln!` that never panics: a note on a stderr whose reader went
/// away (`2>&1 | head`) is dropped, as output on a closed stdout is.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod charts;
mod command;
mod diff;
mod error;
mod evidence;
mod figure;
mod html;
mod judging;
mod labels;
mod load;
mod markup;
mod merge;
mod plot;
mod report;
mod top;

use std::process::ExitCode;

use clap::Parser;

/// Report, compare, merge, plot and page runs saved by perf-timer; watch a
/// running service (top).
#[derive(Parser)]
#[command(name = "perf-timer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: command::Command,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage(&error),
    };
    match cli.command.run() {
        Ok(code) => code,
        Err(error) => {
            note!("perf-timer: {error}");
            ExitCode::from(2)
        }
    }
}

/// `--help` and `--version` as clap prints them; any other argument error
/// as one sentence on stderr, exit status 2, like every other error.
fn usage(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
    }
    let text = error.to_string();
    let first = text.lines().next().unwrap_or_default();
    let sentence = first.strip_prefix("error: ").unwrap_or(first);
    note!("perf-timer: {sentence}; `perf-timer --help` says more");
    ExitCode::from(2)
}
