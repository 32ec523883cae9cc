//! Error outcomes: runs that end in an error are counted and stay samples;
//! a classifier decides what an error is.

mod common;

use std::pin::pin;

use common::*;
use perf_timer::{Classify, TimedExt as _};

#[test]
fn results_count_errors_and_stay_samples() {
    let (registry, mock) = mock_registry();
    let timer = registry.timer("connect");
    for i in 0..5_u32 {
        let m = mock.clone();
        let fut = registry.timer("connect").time(async move {
            m.advance(us(3));
            if i % 2 == 0 {
                Err("refused")
            } else {
                Ok(i)
            }
        });
        let mut fut = pin!(fut.classify::<perf_timer::ErrOutput>());
        assert!(poll_once(fut.as_mut()).is_ready());
    }
    let mut plain = pin!(async { Err::<(), ()>(()) }.timed_result("global connect"));
    assert!(poll_once(plain.as_mut()).is_ready());

    let stats = timer.stats();
    assert_eq!((stats.count(), stats.errors()), (5, 3));
    assert_eq!(stats.total(), us(15));
    assert!(registry
        .report()
        .to_string()
        .contains("in 5 runs, 3 errors\n"));
    assert_eq!(
        perf_timer::global()
            .stats("global connect")
            .unwrap()
            .errors(),
        1
    );
}

#[test]
fn a_custom_classifier_decides_what_an_error_is() {
    struct ServerError;
    impl Classify<u16> for ServerError {
        fn is_error(status: &u16) -> bool {
            *status >= 500
        }
    }
    let (registry, _mock) = mock_registry();
    for status in [200_u16, 404, 500, 503] {
        let mut fut = pin!(registry
            .timer("http")
            .time(async move { status })
            .classify::<ServerError>());
        assert!(poll_once(fut.as_mut()).is_ready());
    }
    assert_eq!(registry.stats("http").unwrap().errors(), 2);
}
