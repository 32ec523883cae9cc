//! Exports to the systems users already run (cold path): Prometheus (text,
//! OpenMetrics, and protobuf with native histograms),
//! HdrHistogram's percentile distribution (`.hgrm`) and interval log, and
//! `serde` for everything else.

mod accept;
mod hgrm;
#[cfg(feature = "hdr-log")]
mod interval_log;
mod native;
mod prometheus;
#[cfg(all(feature = "axum", feature = "save"))]
mod run_line;
#[cfg(feature = "serde")]
mod serde;

pub use hgrm::{write_hgrm, Hgrm};
#[cfg(feature = "hdr-log")]
#[cfg_attr(docsrs, doc(cfg(feature = "hdr-log")))]
pub use interval_log::{IntervalLog, IntervalLogError};
#[cfg(feature = "axum")]
pub use prometheus::metrics_route;
#[cfg(all(feature = "axum", feature = "save"))]
pub use prometheus::RUN_MEDIA_TYPE;
pub use prometheus::{write_prometheus, BucketsError, Prometheus};
