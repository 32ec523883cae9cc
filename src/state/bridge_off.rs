//! A bridge's twin when its feature is off: a type with no value, so that
//! a timer's `Option<Off>` is always `None`, takes no bytes, and every call
//! below is code the compiler knows cannot run.

use std::sync::Arc;

use crate::record::{End, RunSample};
use crate::state::bridge::Bridge;
use crate::state::settings::Settings;

/// No bridge: the feature is off.
pub(crate) enum Off {}

// Forwarding without the features costs a timer nothing.
const _: () = assert!(std::mem::size_of::<Option<Off>>() == 0);

impl Bridge for Off {
    #[inline(always)]
    fn new(_: &Arc<str>, _: &Settings) -> Option<Self> {
        None
    }

    #[inline(always)]
    fn run(&self, _: &str, _: &RunSample, _: u64, _: bool) {
        match *self {}
    }

    #[inline(always)]
    fn flushed(&self, _: &str, _: u64, _: bool) {
        match *self {}
    }

    #[inline(always)]
    fn bytes(&self, _: &str, _: u64) {
        match *self {}
    }

    #[inline(always)]
    fn ended(&self, _: &str, _: End, _: u64, _: bool) {
        match *self {}
    }
}
