//! Allocations per run (layer 1): the counting allocator an application
//! installs, and the counters it keeps for each thread, which timed polls
//! and sync sections read on entry and exit.

pub(crate) mod counting;
pub(crate) mod thread;
