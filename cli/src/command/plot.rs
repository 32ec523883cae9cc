//! `perf-timer plot`: a chart of saved runs, SVG or PNG.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::charts;
use crate::error::CliError;
use crate::figure::By;
use crate::load::Side;
use crate::plot;

/// At most this many timers in `plot --by-timer`: those with the most self
/// busy time.
const MOST_BARS: usize = 40;

/// Draw busy time against percentile (a line per file; per run of one
/// file with --timer; per timer of one file without), or with
/// --by-timer where busy time goes.
#[derive(clap::Args)]
pub struct Args {
    /// Files of saved runs (each file's runs are merged).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The chart: a .svg or .png file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The timer to draw (needed with several files of several timers).
    #[arg(long, value_name = "NAME")]
    pub timer: Option<String>,
    /// Total busy time per timer, largest first, instead.
    #[arg(long)]
    pub by_timer: bool,
}

/// Draws the chart the arguments ask for.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let out = plot::Output::of(&args.output)?;
    let sides = args
        .files
        .iter()
        .map(|f| Side::load(f, By::Quantile(0.5)))
        .collect::<Result<Vec<_>, _>>()?;
    if args.by_timer {
        let names: Vec<String> = sides.iter().map(Side::describe).collect();
        let title = format!("where busy time goes: {}", names.join(" vs "));
        let (bars, timers) = charts::bars(&sides, MOST_BARS);
        let title = if timers > bars.rows.len() {
            format!("{title}, the top {} of {timers} timers", bars.rows.len())
        } else {
            title
        };
        plot::busy_to(out, &title, &bars)?;
    } else {
        let (title, curves) = charts::curves(&sides, args.timer.as_deref())?;
        plot::percentiles_to(out, &title, &curves)?;
    }
    note!("perf-timer: drew {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
