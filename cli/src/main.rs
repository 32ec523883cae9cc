//! `perf-timer`: report, compare, merge and plot runs saved by perf-timer
//! (`report_at_exit().save_to(path)` or `PERF_TIMER_SAVE=path`).
//!
//! Exit status: 0 done; 1 `diff` found a regression; 2 an error, said in
//! one sentence on stderr.

mod charts;
mod diff;
mod error;
mod evidence;
mod html;
mod load;
mod merge;
mod plot;
mod report;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use error::CliError;

/// Report, compare, merge and plot runs saved by perf-timer.
#[derive(Parser)]
#[command(name = "perf-timer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a saved run's report, as the program printed it at exit.
    Report {
        /// A file of saved runs (JSON lines).
        file: PathBuf,
        /// Which run of the file, from 1 (default: the last).
        #[arg(long)]
        run: Option<usize>,
        /// Only runs with this label (key=value); may be repeated.
        #[arg(long, value_name = "KEY=VALUE")]
        label: Vec<String>,
        /// Group rows (timers under one `::` prefix) above their members,
        /// with an (all) row first.
        #[arg(long)]
        grouped: bool,
    },
    /// Compare two files of saved runs timer by timer; exit status 1 if any regressed.
    ///
    /// The unit of evidence is the process run: each run saved in a file
    /// (one line) gives one observation per timer, its median busy time.
    /// Samples of one process share its machine state, so only the spread
    /// between runs of the same side tells noise from change.
    ///
    /// Per timer: a 99% interval for the change of the runs' median busy
    /// time (--by; Welch's t on its log, run by run). regressed / improved: the whole interval
    /// lies beyond ±threshold; no change: it lies within; inconclusive:
    /// it straddles the threshold (with how many runs a side would tell),
    /// or one run a side (no noise estimate; called only beyond 2×). More
    /// cancelled, panicked or error runs, beyond noise, is a regression
    /// with that reason. The same files always get the same verdict.
    ///
    /// Measured on a 2-core VM (benches/verdict.sh), the same program run
    /// 20 times: no false regression among 15 disjoint 1-vs-1, 3-vs-3 and
    /// 5-vs-5 comparisons, quiet or with two busy loops beside; a timer 2x
    /// and one 20% slower caught, alone, at 5-vs-5 in 5 of 5 trials. Save
    /// 5 or more runs a side; an inconclusive verdict says how many would
    /// tell. README: "How diff decides" and the CI recipe.
    Diff {
        /// The baseline: a file of saved runs, each run one observation.
        base: PathBuf,
        /// The change to judge: a file of saved runs, each run one observation.
        new: PathBuf,
        /// How far the judged figure (--by) may move, either way, before it
        /// counts (e.g. 5%: 1.05x slower or faster).
        #[arg(long, default_value = "5%")]
        threshold: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Only this timer; may be repeated.
        #[arg(long, value_name = "NAME")]
        timer: Vec<String>,
        /// The figure of each run's busy time to judge: median (default:
        /// steady on a loaded machine), mean (total CPU), or a percentile
        /// such as p90 or p99.
        #[arg(long, default_value = "median", value_parser = diff::By::parse)]
        by: diff::By,
        /// Compare runs saved with different clocks (TSC, thread CPU, …)
        /// instead of refusing.
        #[arg(long)]
        allow_mixed_clocks: bool,
    },
    /// Draw busy time against percentile (a line per file; per run of one
    /// file with --timer; per timer of one file without), or with
    /// --by-timer where busy time goes.
    Plot {
        /// Files of saved runs (each file's runs are merged).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The chart: a .svg or .png file.
        #[arg(short, long)]
        output: PathBuf,
        /// The timer to draw (needed with several files of several timers).
        #[arg(long, value_name = "NAME")]
        timer: Option<String>,
        /// Total busy time per timer, largest first, instead.
        #[arg(long)]
        by_timer: bool,
    },
    /// Write one self-contained HTML page: the reports, the comparison of
    /// two files, and the charts.
    Html {
        /// Files of saved runs (each file's runs are merged).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The page to write.
        #[arg(short, long)]
        output: PathBuf,
        /// For the comparison of two files, as with `diff`.
        #[arg(long, default_value = "5%")]
        threshold: String,
        /// As with `diff`: the figure of each run's busy time to judge.
        #[arg(long, default_value = "median", value_parser = diff::By::parse)]
        by: diff::By,
        /// As with `diff`: compare runs saved with different clocks.
        #[arg(long)]
        allow_mixed_clocks: bool,
        /// Charts for at most this many timers, those with the most busy
        /// time (every timer is in the tables).
        #[arg(long, default_value_t = 20, value_name = "N")]
        charts: usize,
    },
    /// Merge runs from many processes or machines into one run.
    Merge {
        /// Files of saved runs.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The file to append the merged run to.
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Markdown,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("perf-timer: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Report {
            file,
            run,
            label,
            grouped,
        } => {
            let labels = label
                .iter()
                .map(|l| load::parse_label(l))
                .collect::<Result<Vec<_>, _>>()?;
            let mut text = String::new();
            for line in report::report(&file, run, &labels, grouped)? {
                text.push_str(&line);
                text.push('\n');
            }
            emit(&text);
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            base,
            new,
            threshold,
            format,
            timer,
            by,
            allow_mixed_clocks,
        } => {
            let threshold = diff::parse_threshold(&threshold).map_err(CliError::Usage)?;
            let base = load::Side::load(&base, by)?;
            let new = load::Side::load(&new, by)?;
            let timers: Option<BTreeSet<String>> =
                (!timer.is_empty()).then(|| timer.into_iter().collect());
            if let Some(wanted) = &timers {
                let known: BTreeSet<String> = (base.snapshot.iter())
                    .chain(new.snapshot.iter())
                    .map(|s| s.name().to_owned())
                    .collect();
                if let Some(missing) = wanted.iter().find(|w| !known.contains(*w)) {
                    return Err(CliError::NoTimer {
                        name: missing.clone(),
                        known: known.into_iter().collect(),
                    });
                }
            }
            let diff = diff::diff(
                &base,
                &new,
                threshold,
                by,
                timers.as_ref(),
                allow_mixed_clocks,
            )?;
            match format {
                Format::Text => emit(&diff.text()),
                Format::Markdown => emit(&diff.markdown()),
                Format::Json => emit(&format!("{:#}\n", diff.json())),
            }
            Ok(if diff.regressed() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Plot {
            files,
            output,
            timer,
            by_timer,
        } => {
            let out = plot::Output::of(&output)?;
            let sides = files
                .iter()
                .map(|f| load::Side::load(f, diff::By::Quantile(0.5)))
                .collect::<Result<Vec<_>, _>>()?;
            if by_timer {
                let title = format!("where busy time goes: {}", describe(&sides, " vs "));
                let (bars, timers) = charts::bars(&sides, MOST_BARS);
                let title = if timers > bars.rows.len() {
                    format!("{title}, the top {} of {timers} timers", bars.rows.len())
                } else {
                    title
                };
                plot::busy_to(out, &title, &bars)?;
            } else {
                let (title, curves) = charts::curves(&sides, timer.as_deref())?;
                plot::percentiles_to(out, &title, &curves)?;
            }
            eprintln!("perf-timer: drew {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Html {
            files,
            output,
            threshold,
            by,
            allow_mixed_clocks,
            charts,
        } => {
            let threshold = diff::parse_threshold(&threshold).map_err(CliError::Usage)?;
            let sides = files
                .iter()
                .map(|f| load::Side::load(f, by))
                .collect::<Result<Vec<_>, _>>()?;
            let page = html::page(&sides, threshold, by, allow_mixed_clocks, charts)?;
            std::fs::write(&output, page).map_err(|source| CliError::Write {
                path: output.clone(),
                source,
            })?;
            eprintln!("perf-timer: wrote {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Merge { files, output } => {
            let merged = merge::merge(&files, &output)?;
            eprintln!(
                "perf-timer: merged {} run(s), {} timer(s), into {}",
                merged.info().labels["merged_runs"],
                merged.snapshot().len(),
                output.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// At most this many timers in `plot --by-timer`: those with the most self
/// busy time.
const MOST_BARS: usize = 40;

/// Writes `text` to stdout. A reader that went away (`| head`) ends the
/// command quietly, as a Unix filter does: no panic, no message.
fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => eprintln!("perf-timer: cannot write the output: {e}"),
    }
}

/// The files of a chart, for its title.
fn describe(sides: &[load::Side], between: &str) -> String {
    sides
        .iter()
        .map(load::Side::describe)
        .collect::<Vec<_>>()
        .join(between)
}
