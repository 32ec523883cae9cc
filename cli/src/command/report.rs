//! `perf-timer report`: one saved run's report.

use std::path::PathBuf;
use std::process::ExitCode;

use super::emit;
use crate::error::CliError;
use crate::report;

/// Print a saved run's report, as the program printed it at exit.
#[derive(clap::Args)]
pub struct Args {
    /// A file of saved runs (JSON lines).
    pub file: PathBuf,
    /// Which run of the file, from 1 (default: the last).
    #[arg(long)]
    pub run: Option<usize>,
    /// Only runs with this label (key=value); may be repeated.
    #[arg(long, value_name = "KEY=VALUE", value_parser = crate::labels::label)]
    pub label: Vec<(String, String)>,
    /// Group rows (timers under one `::` prefix) above their members,
    /// with an (all) row first.
    #[arg(long)]
    pub grouped: bool,
}

/// Prints the chosen run's report lines.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let mut text = String::new();
    for line in report::report(&args.file, args.run, &args.label, args.grouped)? {
        text.push_str(&line);
        text.push('\n');
    }
    emit(&text);
    Ok(ExitCode::SUCCESS)
}
