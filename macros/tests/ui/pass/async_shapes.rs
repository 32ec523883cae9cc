//! Every shape of `async fn` users write, timed, compiled with warnings
//! denied: it must build clean and count each call.
#![deny(warnings)]

use std::fmt::Display;

use perf_timer::timed;

#[path = "../shared/count.rs"]
mod count;
use count::count_of;

#[timed]
async fn unit() {}

#[timed]
async fn literal() -> u32 {
    7
}

#[timed]
async fn opaque() -> impl Display {
    5
}

#[timed]
async fn opaque_in_result(fail: bool) -> Result<impl Display, String> {
    if fail {
        return Err("early".to_owned());
    }
    Ok("fine")
}

#[timed]
async fn question_mark(input: &str) -> Result<u32, Box<dyn std::error::Error>> {
    let n: u32 = input.parse()?;
    Ok(n * 2)
}

#[timed]
async fn generic<T: Clone + Send, U>(value: T, _other: U) -> (T, T)
where
    U: Into<String>,
{
    (value.clone(), value)
}

#[timed]
async fn range() -> std::ops::Range<u32> {
    0..3
}

#[timed]
async fn with_param_attribute(#[allow(unused_variables)] unused: u8) -> bool {
    #![allow(clippy::needless_return)]
    return true;
}

#[timed("named")]
async unsafe fn raw_read(p: *const u8) -> u8 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { *p }
}

async fn run() {
    unit().await;
    assert_eq!(literal().await, 7);
    assert_eq!(opaque().await.to_string(), "5");
    assert_eq!(opaque_in_result(false).await.unwrap().to_string(), "fine");
    assert!(opaque_in_result(true).await.is_err());
    assert_eq!(question_mark("21").await.unwrap(), 42);
    assert!(question_mark("x").await.is_err());
    assert_eq!(generic(1, "a").await, (1, 1));
    assert_eq!(range().await, 0..3);
    assert!(with_param_attribute(0).await);
    let byte = 9_u8;
    // SAFETY: a valid pointer to a live byte.
    assert_eq!(unsafe { raw_read(&byte) }.await, 9);

    for (name, count) in [
        ("unit", 1),
        ("literal", 1),
        ("opaque", 1),
        ("opaque_in_result", 2),
        ("question_mark", 2),
        ("generic", 1),
        ("range", 1),
        ("with_param_attribute", 1),
        ("named", 1),
    ] {
        assert_eq!(count_of(name), Some(count), "{name}");
    }
}

fn main() {
    count::block_on(run());
}

