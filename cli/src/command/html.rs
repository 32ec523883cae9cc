//! `perf-timer html`: one self-contained page of saved runs.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::error::CliError;
use crate::html;
use crate::judging::{self, Judging};
use crate::load::Side;

/// Write one self-contained HTML page: the reports, the comparison of
/// two files (of each file against the first, for more), and the charts.
#[derive(clap::Args)]
pub struct Args {
    /// Files of saved runs (each file's runs are merged).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The page to write, an .html (or .htm) file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// For the comparisons, as with `diff`.
    #[command(flatten)]
    pub judging: Judging,
    /// Charts for at most this many timers, those with the most busy
    /// time (every timer is in the tables).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub charts: usize,
}

/// Writes the page.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let html = (args.output.extension())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
    if !html {
        return Err(CliError::Usage(format!(
            "html writes a web page, not {}: give -o NAME.html (or .htm)",
            args.output.display()
        )));
    }
    judging::warn_of_threshold(args.judging.threshold);
    let sides = args
        .files
        .iter()
        .map(|f| Side::load(f, args.judging.by))
        .collect::<Result<Vec<_>, _>>()?;
    let page = html::page(&sides, args.judging, args.charts)?;
    std::fs::write(&args.output, page).map_err(|source| CliError::Write {
        path: args.output.clone(),
        source,
    })?;
    note!("perf-timer: wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
