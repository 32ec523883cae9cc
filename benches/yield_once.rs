//! Pending once (waking itself), then ready: what `yield_now` does,
//! without a runtime. Shared by the benches that drive a run of two polls
//! (`run_cost`, `alloc_cost`, `alloc_hotpath`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// See the module.
pub struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

pub fn yield_once() -> YieldOnce {
    YieldOnce(false)
}
