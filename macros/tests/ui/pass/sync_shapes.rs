//! Every shape of plain `fn` users write, timed, compiled with warnings
//! denied: it must build clean and count each call.
#![deny(warnings)]

use std::fmt::Display;

use perf_timer::timed;

#[path = "../shared/count.rs"]
mod count;
use count::count_of;

#[timed]
fn literal() -> u32 {
    7
}

#[timed]
fn range() -> std::ops::Range<u32> {
    0..3
}

#[timed]
fn opaque() -> impl Display {
    5
}

#[timed]
fn opaque_iterator(n: u32) -> impl Iterator<Item = u32> {
    (0..n).map(|i| i * 2)
}

#[timed]
fn early(fail: bool) -> Result<u32, String> {
    if fail {
        return Err("early".to_owned());
    }
    let n: u32 = "4".parse().map_err(|_| "parse".to_owned())?;
    Ok(n)
}

#[timed]
fn generic<T>(value: T) -> Vec<T>
where
    T: Clone,
{
    vec![value.clone(), value]
}

#[timed]
unsafe fn raw_read(p: *const u8) -> u8 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { *p }
}

#[timed]
fn inner_attribute() -> u8 {
    #![allow(clippy::let_and_return)]
    let x = 3;
    x
}

#[timed]
fn lifetimes<'a>(a: &'a str, _b: &str) -> &'a str {
    a
}

fn main() {
    assert_eq!(literal(), 7);
    assert_eq!(range(), 0..3);
    assert_eq!(opaque().to_string(), "5");
    assert_eq!(opaque_iterator(3).sum::<u32>(), 6);
    assert_eq!(early(false), Ok(4));
    assert!(early(true).is_err());
    assert_eq!(generic('x'), ['x', 'x']);
    let byte = 9_u8;
    // SAFETY: a valid pointer to a live byte.
    assert_eq!(unsafe { raw_read(&byte) }, 9);
    assert_eq!(inner_attribute(), 3);
    assert_eq!(lifetimes("a", "b"), "a");
    assert_eq!(caller_line(), line!());
    assert_eq!(caller_line_in_result(), Ok(line!()));

    for (name, count) in [
        ("literal", 1),
        ("range", 1),
        ("opaque", 1),
        ("opaque_iterator", 1),
        ("early", 2),
        ("generic", 1),
        ("raw_read", 1),
        ("inner_attribute", 1),
        ("lifetimes", 1),
        ("caller_line", 1),
        ("caller_line_in_result", 1),
    ] {
        assert_eq!(count_of(name), Some(count), "{name}");
    }
}


/// `#[track_caller]` keeps the caller: the guard path has no closure.
#[timed]
#[track_caller]
fn caller_line() -> u32 {
    std::panic::Location::caller().line()
}

/// The same with a `Result` whose errors are not counted.
#[timed(errors = false)]
#[track_caller]
fn caller_line_in_result() -> Result<u32, ()> {
    Ok(std::panic::Location::caller().line())
}
