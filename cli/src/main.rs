//! `perf-timer`: report, compare and merge runs saved by perf-timer
//! (`report_at_exit().save_to(path)` or `PERF_TIMER_SAVE=path`).
//!
//! Exit status: 0 done; 1 `diff` found a regression; 2 an error, said in
//! one sentence on stderr.

mod diff;
mod error;
mod load;
mod merge;
mod rank;
mod report;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use error::CliError;

/// Report, compare and merge runs saved by perf-timer.
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
    },
    /// Compare two saved runs timer by timer; exit status 1 if any regressed.
    Diff {
        /// The baseline: a file of saved runs (several are merged).
        base: PathBuf,
        /// The run to judge: a file of saved runs (several are merged).
        new: PathBuf,
        /// How far the mean busy time may move before it counts (e.g. 5%).
        #[arg(long, default_value = "5%")]
        threshold: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Only this timer; may be repeated.
        #[arg(long, value_name = "NAME")]
        timer: Vec<String>,
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
        Command::Report { file, run, label } => {
            let labels = label
                .iter()
                .map(|l| load::parse_label(l))
                .collect::<Result<Vec<_>, _>>()?;
            for line in report::report(&file, run, &labels)? {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            base,
            new,
            threshold,
            format,
            timer,
        } => {
            let threshold = diff::parse_threshold(&threshold).map_err(CliError::Usage)?;
            let base = load::Side::load(&base)?;
            let new = load::Side::load(&new)?;
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
            let diff = diff::diff(&base, &new, threshold, timers.as_ref());
            match format {
                Format::Text => print!("{}", diff.text()),
                Format::Markdown => print!("{}", diff.markdown()),
                Format::Json => println!("{:#}", diff.json()),
            }
            Ok(if diff.regressed() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
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
