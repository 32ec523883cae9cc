//! The subcommands: each an `Args` of its own and a `run`, and the value
//! parsers they share.

mod diff;
mod html;
mod merge;
mod plot;
mod report;
mod top;

use std::process::ExitCode;

use clap::Subcommand;

use crate::error::CliError;

/// What `perf-timer` does.
#[derive(Subcommand)]
pub enum Command {
    Report(report::Args),
    Diff(diff::Args),
    Plot(plot::Args),
    Html(html::Args),
    Merge(merge::Args),
    Top(top::Args),
}

impl Command {
    /// Runs the subcommand: its exit status, or its error.
    pub fn run(self) -> Result<ExitCode, CliError> {
        match self {
            Command::Report(args) => report::run(args),
            Command::Diff(args) => diff::run(args),
            Command::Plot(args) => plot::run(args),
            Command::Html(args) => html::run(args),
            Command::Merge(args) => merge::run(args),
            Command::Top(args) => top::run(args),
        }
    }
}

/// `--threshold`: `5%`, `5` (both percent) or `2.5%`.
pub fn threshold(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
        _ => Err(format!(
            "--threshold takes a percentage such as 5% or 2.5, not {text:?}"
        )),
    }
}

/// Says on stderr when a `--threshold` below 0.5 (percent) looks like a
/// fraction meant as a percentage (0.05 for 5 %).
pub fn warn_of_threshold(percent: f64) {
    if let Some(warning) = threshold_warning(percent) {
        eprintln!("perf-timer: {warning}");
    }
}

fn threshold_warning(percent: f64) -> Option<String> {
    let trimmed = |x: f64| {
        let text = format!("{x:.6}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    };
    (percent > 0.0 && percent < 0.5).then(|| {
        let (given, meant) = (trimmed(percent), trimmed(percent * 100.0));
        format!(
            "--threshold {given} means {given} %, not a fraction; did you mean {meant} %? \
             (--threshold {meant}% for that)"
        )
    })
}

/// `--label k=v`, checked.
pub fn label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!(
            "--label takes key=value (e.g. --label commit=abc123), not {text:?}"
        )),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_is_a_percentage_with_or_without_its_sign() {
        assert_eq!(threshold("5%"), Ok(5.0));
        assert_eq!(threshold("5"), Ok(5.0));
        assert_eq!(threshold(" 2.5% "), Ok(2.5));
        assert!(threshold("-1").is_err() && threshold("five").is_err());
    }

    #[test]
    fn a_threshold_below_half_a_percent_asks_whether_a_fraction_was_meant() {
        assert_eq!(
            threshold_warning(0.05).as_deref(),
            Some("--threshold 0.05 means 0.05 %, not a fraction; did you mean 5 %? (--threshold 5% for that)")
        );
        assert!(threshold_warning(0.1)
            .unwrap()
            .contains("did you mean 10 %?"));
        assert_eq!(threshold_warning(0.5), None);
        assert_eq!(threshold_warning(5.0), None);
        assert_eq!(threshold_warning(0.0), None);
    }
}
