//! `perf-timer merge`: many runs appended as one.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::error::CliError;
use crate::merge;

/// Merge runs from many processes or machines into one run.
#[derive(clap::Args)]
pub struct Args {
    /// Files of saved runs.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The file to append the merged run to.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Appends the merged run and says what it holds.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let merged = merge::merge(&args.files, &args.output)?;
    eprintln!(
        "perf-timer: merged {} run(s), {} timer(s), into {}",
        merged.info().labels["merged_runs"],
        merged.snapshot().len(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
