//! The read side (cold path): stats, snapshots and the report.

mod format;
mod report;
mod snapshot;
mod stats;

pub use report::{Detail, Report};
pub use snapshot::Snapshot;
pub(crate) use stats::Outcomes;
pub use stats::Stats;
