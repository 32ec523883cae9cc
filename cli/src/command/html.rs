//! `perf-timer html`: one self-contained page of saved runs.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::diff::By;
use crate::error::CliError;
use crate::html;
use crate::load::Side;

/// Write one self-contained HTML page: the reports, the comparison of
/// two files (of each file against the first, for more), and the charts.
#[derive(clap::Args)]
pub struct Args {
    /// Files of saved runs (each file's runs are merged).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The page to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// For the comparison of two files, as with `diff`.
    #[arg(long, default_value = "5%", value_parser = super::threshold)]
    pub threshold: f64,
    /// As with `diff`: the figure of each run's busy time to judge.
    #[arg(long, default_value = "median", value_parser = By::parse)]
    pub by: By,
    /// As with `diff`: compare runs saved with different clocks.
    #[arg(long)]
    pub allow_mixed_clocks: bool,
    /// Charts for at most this many timers, those with the most busy
    /// time (every timer is in the tables).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub charts: usize,
}

/// Writes the page.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    super::warn_of_threshold(args.threshold);
    let sides = args
        .files
        .iter()
        .map(|f| Side::load(f, args.by))
        .collect::<Result<Vec<_>, _>>()?;
    let page = html::page(
        &sides,
        args.threshold,
        args.by,
        args.allow_mixed_clocks,
        args.charts,
    )?;
    std::fs::write(&args.output, page).map_err(|source| CliError::Write {
        path: args.output.clone(),
        source,
    })?;
    eprintln!("perf-timer: wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
