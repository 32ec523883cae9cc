//! `perf-timer flame`: where saved runs' time went by timer path, as a
//! flamegraph (SVG) or as folded-stack lines.

use std::path::PathBuf;
use std::process::ExitCode;

use perf_timer::Folded;

use crate::error::CliError;
use crate::figure::By;
use crate::flame::{self, Shows, PARKED};
use crate::load::Side;

/// Draw a flamegraph of busy time by timer path (the file's runs merged):
/// each frame a timer, nested inside the timed run that polled it; with
/// --idle where runs were parked, with --wall both.
#[derive(clap::Args)]
pub struct Args {
    /// A file of saved runs (its runs are merged).
    pub file: PathBuf,
    /// The flamegraph, an .svg file (or, with --folded, the folded lines;
    /// without -o they go to stdout).
    #[arg(short, long, required_unless_present = "folded")]
    pub output: Option<PathBuf>,
    /// Where runs were parked: each nanosecond an outermost run was idle,
    /// at the deepest timed child that was pending.
    #[arg(long, conflicts_with = "wall")]
    pub idle: bool,
    /// Busy and parked time together, the parked frames blue.
    #[arg(long)]
    pub wall: bool,
    /// Write the folded-stack lines (`api;db 1234567`, nanoseconds), the
    /// input of inferno, flamegraph.pl or speedscope, instead of an SVG.
    #[arg(long)]
    pub folded: bool,
}

/// Draws the flamegraph, or writes the folded lines.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let (kind, shows) = match (args.idle, args.wall) {
        (true, _) => (Folded::Idle, Shows::Idle),
        (_, true) => (Folded::Wall, Shows::Wall),
        _ => (Folded::Busy, Shows::Busy),
    };
    if let (Some(path), false) = (&args.output, args.folded) {
        let svg = (path.extension()).is_some_and(|e| e.eq_ignore_ascii_case("svg"));
        if !svg {
            return Err(CliError::Usage(format!(
                "flame draws SVG, not {}: give -o NAME.svg (or --folded for the lines)",
                path.display()
            )));
        }
    }
    let side = Side::load(&args.file, By::Quantile(0.5))?;
    // Busy time is drawn from runs without paths too, each timer a root:
    // a flat graph, said so. Parked time has nothing of theirs to draw:
    // said where other runs have some (none at all is an error below).
    match (side.flat_because(), shows) {
        (Some(flat), Shows::Busy | Shows::Wall) => note!("perf-timer: {flat}"),
        (Some(_), Shows::Idle) if side.without_paths < side.runs() => note!(
            "perf-timer: {}: {} of its {} runs keep no nesting paths (saved before schema 3): \
             where they were parked is in no frame",
            args.file.display(),
            side.without_paths,
            side.runs()
        ),
        _ => {}
    }
    let folded = side.snapshot.folded(kind);
    let nothing = || CliError::NothingToDraw {
        path: args.file.clone(),
        what: match shows {
            Shows::Idle => "no run was parked in a timed child",
            _ => "no timer ran",
        },
    };
    if folded.is_empty() {
        return Err(nothing());
    }
    if args.folded {
        match &args.output {
            Some(path) => write(path, folded.as_bytes())?,
            None => super::emit(&folded),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let about = side.describe();
    let parked = (shows == Shows::Wall).then_some(PARKED);
    let svg = flame::svg(&folded, shows, parked, &about)
        .map_err(|e| CliError::Usage(format!("the flamegraph could not be drawn: {e}")))?
        .ok_or_else(nothing)?;
    // Required unless --folded, which returned above.
    let output = args.output.unwrap_or_default();
    write(&output, &svg)?;
    note!("perf-timer: drew {}", output.display());
    Ok(ExitCode::SUCCESS)
}

fn write(path: &std::path::Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|source| CliError::Write {
        path: path.to_owned(),
        source,
    })
}
