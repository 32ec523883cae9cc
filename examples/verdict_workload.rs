//! A benchmark program for `perf-timer diff`: four timers of real CPU work
//! from about 1 µs to 100 µs, 2,000 runs each, saved at exit. Run it several
//! times into a base file and into a new one and diff them; with
//! `SLOW=name:factor` one timer does `factor` times its work (a regression
//! of known size).
//!
//! ```sh
//! cargo build --release --features save --example verdict_workload
//! for i in 1 2 3 4 5; do PERF_TIMER_SAVE=base.jsonl target/release/examples/verdict_workload; done
//! for i in 1 2 3 4 5; do SLOW=render:2 PERF_TIMER_SAVE=new.jsonl target/release/examples/verdict_workload; done
//! cargo run -p perf-timer-cli -- diff base.jsonl new.jsonl
//! ```

use std::hint::black_box;

use perf_timer::TimedExt as _;

/// `rounds` rounds of FNV-1a over 64 bytes: about 40 ns a round here.
fn work(rounds: u64) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for round in 0..rounds {
        for byte in 0..64_u64 {
            hash = (hash ^ black_box(byte ^ round)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// The timers and their rounds of work per run (two polls each).
const TIMERS: [(&str, u64); 4] = [
    ("parse", 17),
    ("hash", 170),
    ("render", 500),
    ("compress", 1_600),
];

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let _report = perf_timer::report_at_exit();
    let slow = std::env::var("SLOW").ok();
    let slow = slow.as_deref().and_then(|s| s.split_once(':'));
    let mut sink = 0_u64;
    for _ in 0..2_000 {
        for (name, rounds) in TIMERS {
            let rounds = match slow {
                Some((slow, factor)) if slow == name => {
                    (rounds as f64 * factor.parse::<f64>().expect("SLOW=name:factor")) as u64
                }
                _ => rounds,
            };
            sink ^= async {
                let first = work(rounds / 2);
                tokio::task::yield_now().await; // a second poll
                first ^ work(rounds - rounds / 2)
            }
            .timed(name)
            .await;
        }
    }
    black_box(sink);
}
