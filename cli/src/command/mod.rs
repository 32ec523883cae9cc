//! The subcommands: each an `Args` of its own and a `run`, and the value
//! parsers they share.

mod diff;
mod html;
mod merge;
mod plot;
mod report;
mod top;

use std::process::ExitCode;

use clap::Subcommand;

use crate::error::CliError;

/// What `perf-timer` does.
#[derive(Subcommand)]
pub enum Command {
    Report(report::Args),
    Diff(diff::Args),
    Plot(plot::Args),
    Html(html::Args),
    Merge(merge::Args),
    Top(top::Args),
}

impl Command {
    /// Runs the subcommand: its exit status, or its error.
    pub fn run(self) -> Result<ExitCode, CliError> {
        match self {
            Command::Report(args) => report::run(args),
            Command::Diff(args) => diff::run(args),
            Command::Plot(args) => plot::run(args),
            Command::Html(args) => html::run(args),
            Command::Merge(args) => merge::run(args),
            Command::Top(args) => top::run(args),
        }
    }
}

/// Writes `text` to stdout. A reader that went away (`| head`) ends the
/// command quietly, as a Unix filter does: no panic, no message.
fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => note!("perf-timer: cannot write the output: {e}"),
    }
}
