//! `perf-timer top`: a live view of a running service from the
//! `/metrics` route it already serves, or a replay of a file of saved runs:
//! per timer, the last interval's rates, busy share and exact percentiles.

pub mod frame;
pub mod interval_log;
pub mod prometheus;
pub mod reader;
pub mod source;
pub mod timeline;
pub mod tui;
