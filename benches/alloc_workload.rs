//! The workload of the allocation benches (`alloc_cost`, `alloc_hotpath`),
//! shared so that both binaries run the same code: a future that
//! allocates one `Vec` per poll, two polls per run, driven by the
//! cheapest executor there is.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub use super::yield_once::yield_once;

/// Polls `future` to the end with a waker that does nothing.
#[inline(always)]
pub fn drive<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// One `Vec` of 64 bytes per poll, two polls.
#[inline(always)]
pub async fn vec_per_poll(x: u64) -> u64 {
    let a = black_box(vec![x as u8; 64]);
    yield_once().await;
    let b = black_box(vec![x as u8; 64]);
    u64::from(a[0]) + u64::from(b[63])
}

/// One allocation of 64 bytes and its deallocation, straight through `alloc`.
#[inline(always)]
pub fn alloc_dealloc<A: GlobalAlloc>(alloc: &A) {
    let layout = Layout::from_size_align(64, 8).unwrap();
    // SAFETY: a valid layout; the block is freed with the same layout.
    unsafe {
        let block = black_box(alloc.alloc(layout));
        alloc.dealloc(block, layout);
    }
}
