//! Busy and parked time by nesting path, as folded stacks
//! (`api;service;db 1234567`), the input of flamegraph tools.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::snapshot::Snapshot;
use crate::state::paths::PathLine;

/// Which time [`Snapshot::folded`] writes per nesting path.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use perf_timer::Folded;
/// let registry = perf_timer::Registry::new();
/// let db = registry.timer("db");
/// registry.timer("api").time(async { db.time(async {}).await }).await;
/// let busy = registry.snapshot().folded(Folded::Busy);
/// assert!(busy.lines().any(|line| line.starts_with("api;db ")));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Folded {
    /// Self busy time per path: the time a timer's own code ran there,
    /// its timed children left out. A flamegraph of it shows inclusive
    /// busy time as widths, and the lines under a root sum to the root
    /// timer's busy total (but for paths past the cap: see
    /// [`Snapshot::folded`]).
    Busy,
    /// Each nanosecond an outermost run was parked (idle while a timed
    /// child was pending), once, at the deepest timed path that was
    /// pending. Idle time in no timed child is not in it.
    Idle,
    /// Both: the busy lines, and the parked ones with a `[parked]` frame
    /// under the path they were parked in.
    Wall,
}

/// The frame that marks parked time in [`Folded::Wall`].
pub(crate) const PARKED: &str = "[parked]";

impl Snapshot {
    /// Busy and parked time by nesting path, one folded-stack line per
    /// path with time in it, `path nanoseconds\n`, sorted by path: the
    /// input of `inferno-flamegraph` or `flamegraph.pl`.
    ///
    /// A path is the chain of timer names from an outermost timed run to
    /// a nested one (`api;service;db`): a timed future polled inside
    /// another's poll is its child, as is a sync section begun in that
    /// poll or inside another section of it; a future polled by a task of
    /// its own
    /// (spawned) starts its own root. Paths are kept by the registry of
    /// the outermost run, so a timer of another registry nested in one of
    /// this registry's runs shows here by name, with what nests in it.
    /// Paths count the parts of every run that ended (cancelled and
    /// panicked ones too), and at once the children past a run's seven
    /// named parts and the sync sections ended inside other sections;
    /// a root's own line is its timer's self time over completed runs
    /// less the time its runs spent nested elsewhere. Past the registry's
    /// cap on paths (1,024), a new path counts in its timer's overflow
    /// path `(other);NAME`, and so does any path under an overflow path:
    /// the time still shows by timer, and its root line leaves it out as
    /// it does any nested time, so the lines still sum to the busy time,
    /// though no longer under the roots the runs were nested in (a
    /// registry that nests that many distinct paths wants fewer names).
    /// A timer of another registry nested past the cap counts in `(other)`
    /// alone. A `;` in a name is written `:`.
    ///
    /// Where the lines do not sum to the busy time exactly: a timer's
    /// cancelled or panicked runs nested in another's count in their path,
    /// while its root line, over completed runs, is less all its nested
    /// time, so it falls short by theirs; a timer whose runs were all
    /// nested has no root line up to its poll count in nanoseconds (the
    /// rounding of per-poll conversions); and a timer nested in another
    /// registry's run counts there and, as a root, here too.
    ///
    /// ```
    /// use std::time::Duration;
    /// use perf_timer::Folded;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = perf_timer::Registry::new();
    /// let db = registry.timer("db");
    /// registry
    ///     .timer("api")
    ///     .time(async { db.time(tokio::time::sleep(Duration::from_millis(5))).await })
    ///     .await;
    /// let snapshot = registry.snapshot();
    /// let under_api: u64 = (snapshot.folded(Folded::Busy).lines())
    ///     .filter(|l| l.starts_with("api ") || l.starts_with("api;"))
    ///     .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
    ///     .sum();
    /// assert_eq!(under_api, snapshot.get("api").unwrap().total().as_nanos() as u64);
    /// assert!(snapshot.folded(Folded::Idle).starts_with("api;db "));
    /// assert!(snapshot.folded(Folded::Wall).contains("api;db;[parked] "));
    /// # }
    /// ```
    pub fn folded(&self, kind: Folded) -> String {
        let mut lines: BTreeMap<String, u64> = BTreeMap::new();
        if kind != Folded::Idle {
            for (path, nanos) in self.busy_lines() {
                *lines.entry(path).or_default() += nanos;
            }
        }
        if kind != Folded::Busy {
            for line in self.paths().iter().filter(|l| l.parked > 0) {
                let mut path = joined(line);
                if kind == Folded::Wall {
                    path.push(';');
                    path.push_str(PARKED);
                }
                *lines.entry(path).or_default() += line.parked;
            }
        }
        let mut out = String::new();
        for (path, nanos) in lines.into_iter().filter(|(_, n)| *n > 0) {
            let _ = writeln!(out, "{path} {nanos}");
        }
        out
    }

    /// Self busy nanoseconds per path: the nested paths as counted, and
    /// each root as its timer's self time less what its runs spent
    /// nested.
    fn busy_lines(&self) -> Vec<(String, u64)> {
        // Per timer: its self time nested elsewhere, and its runs there.
        let mut nested_self: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        let mut lines = Vec::new();
        for line in self.paths().iter().filter(|l| l.names.len() > 1) {
            let leaf = line.names.last().map_or("", |n| &**n);
            let nested = nested_self.entry(leaf).or_default();
            nested.0 += line.self_busy;
            nested.1 += line.runs;
            lines.push((joined(line), line.self_busy));
        }
        for line in self.paths().iter().filter(|l| l.names.len() == 1) {
            // The `(other)` path (another registry's timers past the
            // cap), or a root whose counters something recorded: as
            // counted.
            lines.push((joined(line), line.self_busy));
        }
        for stats in self {
            let own = stats.self_time().total().as_nanos() as u64;
            let (elsewhere, runs_elsewhere) =
                nested_self.get(stats.name()).copied().unwrap_or((0, 0));
            let mut root = own.saturating_sub(elsewhere);
            // A timer's total converts its ticks once, a path's each poll's:
            // up to a nanosecond a poll apart, which is no root time when
            // every run was nested (a timer with runs of its own as roots
            // keeps what it has, however many polls nested).
            if elsewhere > 0 && root <= stats.polls() && runs_elsewhere >= stats.count() {
                root = 0;
            }
            lines.push((escaped(stats.name()), root));
        }
        lines
    }
}

/// The names of a path, escaped, joined by `;`.
fn joined(line: &PathLine) -> String {
    let names: Vec<String> = line.names.iter().map(|n| escaped(n)).collect();
    names.join(";")
}

/// A name as one frame: `;` separates frames and a line ends the record.
fn escaped(name: &str) -> String {
    name.replace(';', ":").replace(['\n', '\r'], " ")
}
