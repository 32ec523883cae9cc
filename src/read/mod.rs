//! The read side (cold path): stats, snapshots and the report.

mod format;
mod report;
mod snapshot;
mod stats;

pub use report::Report;
pub use snapshot::Snapshot;
pub use stats::Stats;
