//! `perf-timer diff`: two files of saved runs compared, exit status 1 on a
//! regression.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use super::emit;
use crate::diff;
use crate::error::CliError;
use crate::judging::{self, Judging};
use crate::load::Side;

/// Compare two files of saved runs timer by timer; exit status 1 if any regressed.
///
/// The unit of evidence is the process run: each run saved in a file
/// (one line) gives one observation per timer, its median busy time.
/// Samples of one process share its machine state, so only the spread
/// between runs of the same side tells noise from change.
///
/// Per timer: a 99% interval for the change of the runs' median busy
/// time (--by; Welch's t on its log, run by run), at least as wide as
/// each run's own uncertainty from its samples (the order-statistic
/// interval of its median, a clock step, the histogram's precision).
/// regressed / improved: the whole interval lies beyond ±threshold; no
/// change: it lies within; inconclusive: it straddles the threshold
/// (with how many runs a side would tell), or one run a side (no noise
/// estimate; called only beyond 2×), or the figure of single runs is
/// too uncertain (a two-mode timer whose median flips; the widest run's
/// interval is given). More cancelled, panicked or error runs, beyond
/// noise, is a regression with that reason. The same files always get
/// the same verdict. The table's figures are the typical run's
/// (geometric mean over runs), so a verdict's change is its row's.
///
/// Measured on a 2-core VM (benches/verdict.sh), the same program run
/// 110 times, with a two-mode timer and one of a clock tick or a few: no
/// false regression among 40 disjoint 1-vs-1 and 10 one-vs-ten
/// comparisons, quiet or with two busy loops beside; a timer 2x and one
/// 20% slower caught, alone, at 5-vs-5 with runs alternated. Save 5 or
/// more runs a side, alternating base and new; an inconclusive verdict
/// says how many would tell, or why no count would. README: "How diff
/// decides" and the CI recipe.
#[derive(clap::Args)]
pub struct Args {
    /// The baseline: a file of saved runs, each run one observation.
    pub base: PathBuf,
    /// The change to judge: a file of saved runs, each run one observation.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Only this timer; may be repeated.
    #[arg(long, value_name = "NAME")]
    pub timer: Vec<String>,
    #[command(flatten)]
    pub judging: Judging,
}

/// Output formats.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// Compares the two files; 1 when a timer regressed.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let judging = args.judging;
    judging::warn_of_threshold(judging.threshold);
    let base = Side::load(&args.base, judging.by)?;
    let new = Side::load(&args.new, judging.by)?;
    let timers: Option<BTreeSet<String>> =
        (!args.timer.is_empty()).then(|| args.timer.into_iter().collect());
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
    let diff = diff::diff(&base, &new, judging, timers.as_ref())?;
    match args.format {
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
