//! The per-run accounting of polls (layer 5, the hot path): where a poll
//! is timed (`run`), the timer being polled on this thread (`frame`), and
//! the scheduling delay of sampled runs (`scheduled`, `wake_marks`).

pub(crate) mod allocations;
pub(crate) mod frame;
pub(crate) mod parts;
pub(crate) mod run;
pub(crate) mod scheduled;
pub(crate) mod wake_marks;
