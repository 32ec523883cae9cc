//! Scheduling delay, opt-in (`RegistryBuilder::scheduling_delay`): on one
//! run in `every`, each poll hands the inner future a waker of ours that
//! notes when it was woken, and the next poll records the time from that
//! wake to itself: how long the run waited for a worker thread, apart from
//! how long it waited for its I/O. The cold path; unsampled runs never
//! come here.

use std::task::{Context, Poll, Waker};

use crate::poll::run::{PollScope, Run};
use crate::poll::wake_marks::{self, WakeMark};
use crate::state::timer::Timer;

/// One timed poll of a sampled run: records the delay since the wake that
/// led to it, and polls `inner` with a waker that marks the next wake.
/// Returns the output and the wall reading at the end of the poll.
#[cold]
#[inline(never)]
pub(crate) fn poll_sampled<T>(
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    cx: &mut Context<'_>,
    run: &mut Run,
    timer: &Timer,
) -> (Poll<T>, u64) {
    let core = timer.core();
    let now = core.clock().wall_now();
    let mark = WakeMark::new(cx.waker().clone(), timer.clone());
    if let Some(woke_at) = wake_marks::replace(run.key(), mark.clone()) {
        core.record_scheduled(now.saturating_sub(woke_at));
    }
    let waker = Waker::from(mark);
    let mut cx = Context::from_waker(&waker);
    let scope = PollScope::enter(run, core);
    let output = poll(&mut cx);
    let end = scope.exit(output.is_pending());
    (output, end)
}
