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
    /// Merge runs timed with different clocks (TSC and thread CPU time,
    /// say), whose busy times do not add up; the merged run names them all.
    #[arg(long)]
    pub allow_mixed_clocks: bool,
}

/// Appends the merged run and says what it holds.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let merged = merge::merge(&args.files, &args.output, args.allow_mixed_clocks)?;
    note!(
        "perf-timer: merged {} run(s) of {}, {} timer(s), into {}",
        merged.info().labels["merged_runs"],
        merged.info().labels["merged_programs"],
        merged.snapshot().len(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
