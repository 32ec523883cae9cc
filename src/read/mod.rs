//! The read side (cold path): stats, snapshots and the report.

mod allocations;
mod counts;
mod distribution;
mod folded;
mod format;
mod group;
mod merge;
mod process;
mod report;
mod slowest;
mod snapshot;
mod stats;

pub use allocations::{Allocations, ByteDistribution};
pub use distribution::Distribution;
pub use folded::Folded;
pub use format::ReportDuration;
pub use group::Grouped;
pub(crate) use process::process_cpu;
pub use process::ProcessTime;
pub(crate) use report::runs_per_second;
pub use report::{Detail, Report};
pub use slowest::{Part, SlowRun};
pub use snapshot::Snapshot;
pub use stats::{Stats, Sum};
