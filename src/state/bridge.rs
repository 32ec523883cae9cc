//! The one shape of a bridge, what forwards a timer's runs elsewhere: the
//! `metrics` facade's, OpenTelemetry's, and their twin when a feature is
//! off (`bridge_off.rs`). `forward.rs` holds one of each per timer.

use std::sync::Arc;

use crate::record::{End, RunSample};
use crate::state::settings::Settings;

/// What a bridge is told of one timer's runs.
pub(crate) trait Bridge: Sized {
    /// The timer `name`'s forwarding, if its registry's `settings` forward
    /// to this bridge.
    fn new(name: &Arc<str>, settings: &Settings) -> Option<Self>;

    /// A completed run, `unflushed` nanoseconds of its busy time not yet
    /// forwarded as poll time.
    fn run(&self, timer: &str, run: &RunSample, unflushed: u64, is_error: bool);

    /// A run in flight flushed `busy` nanoseconds; `first`: it counts in
    /// flight from now.
    fn flushed(&self, timer: &str, busy: u64, first: bool);

    /// Bytes a run handled (`add_bytes`).
    fn bytes(&self, timer: &str, n: u64);

    /// A run ended without a sample, `unflushed` nanoseconds of its busy
    /// time not yet forwarded, `was_active` if it counted in flight.
    fn ended(&self, timer: &str, end: End, unflushed: u64, was_active: bool);
}
