//! The ways in (layer 7): what users wrap their code with. The `Timer`
//! handle's methods, a future wrapper (`Timed`), a stream wrapper
//! (`TimedItems`), a sync section (`TimerGuard`), `spawn`, and the bytes a
//! run handled.

pub(crate) mod bytes;
pub(crate) mod guard;
pub(crate) mod sections;
#[cfg(feature = "tokio")]
pub(crate) mod spawn;
pub(crate) mod stream;
pub(crate) mod timed;
pub(crate) mod timer;
