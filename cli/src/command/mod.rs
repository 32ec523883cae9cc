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

/// `--label k=v`, checked; with the escapes of `PERF_TIMER_LABELS`
/// (`\=`, `\,` and `\\` for an equals sign, a comma and a backslash), so
/// that a label saved with them is asked for as it was written.
pub fn label(text: &str) -> Result<(String, String), String> {
    let (mut key, mut value) = (String::new(), None::<String>);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let c = match (c, chars.clone().next()) {
            ('\\', Some(e @ ('=' | ',' | '\\'))) => {
                chars.next();
                Some(e)
            }
            ('=', _) if value.is_none() => {
                value = Some(String::new());
                None
            }
            (c, _) => Some(c),
        };
        if let Some(c) = c {
            value.as_mut().unwrap_or(&mut key).push(c);
        }
    }
    match value {
        Some(value) if !key.is_empty() => Ok((key, value)),
        _ => Err(format!(
            "--label takes key=value (e.g. --label commit=abc123; \\= and \\, escape an equals sign \
             and a comma), not {text:?}"
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
        Err(e) => note!("perf-timer: cannot write the output: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_take_the_escapes_that_perf_timer_labels_takes() {
        let pair = |k: &str, v: &str| Ok((k.to_owned(), v.to_owned()));
        assert_eq!(label("commit=abc"), pair("commit", "abc"));
        assert_eq!(label("a=b=c"), pair("a", "b=c"));
        assert_eq!(label(r"k\=1=v\,w"), pair("k=1", "v,w"));
        assert_eq!(label(r"path=c:\\x\y"), pair("path", r"c:\x\y"));
        assert!(label("noeq").is_err() && label("=v").is_err());
    }
}
