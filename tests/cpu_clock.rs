//! CPU time told from waiting: with `Clock::thread_cpu` busy time is CPU
//! time while wall, idle and intervals stay wall time; with the default
//! clock, the sampled CPU share shows how much of busy time was on the CPU.
//! Real threads and sleeps, since that is the point; wide tolerances.
#![cfg(target_os = "linux")]

mod common;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Instant;

use common::{ms, spin};
use perf_timer::{Clock, Registry};

#[test]
fn the_cpu_clock_keeps_wall_idle_and_intervals_in_wall_time() {
    let registry = Registry::builder()
        .clock(Clock::thread_cpu())
        .blocking_detection(1)
        .build()
        .unwrap();
    let mut intervals = registry.intervals();
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(registry.timer("sleeper").time(async {
        spin(ms(2));
        tokio::time::sleep(ms(50)).await; // waiting: idle, not busy
        spin(ms(2));
    }));
    rt.block_on(registry.timer("blocker").time(async {
        std::thread::sleep(ms(20)); // blocked inside poll: off the CPU
    }));
    let real = started.elapsed();
    let stats = registry.stats("sleeper").unwrap();
    assert!(
        stats.total() < ms(20),
        "busy is CPU time: {:?}",
        stats.total()
    );
    assert!(
        stats.wall().max() >= ms(50),
        "wall: {:?}",
        stats.wall().max()
    );
    assert!(
        stats.idle().total() >= ms(45),
        "idle: {:?}",
        stats.idle().total()
    );
    let blocker = registry.stats("blocker").unwrap();
    assert!(blocker.total() < ms(10), "{:?}", blocker.total());
    assert_eq!(blocker.blocked_polls(), 1, "blocking detection works too");
    assert!(blocker.cpu_share().unwrap() < 0.5);
    let interval = intervals.next().unwrap();
    assert!(
        interval.elapsed() >= ms(70) && interval.elapsed() <= real + ms(5),
        "interval {:?}, real {real:?}",
        interval.elapsed()
    );
}

/// Pins the calling thread to `cpu`.
fn pin_to(cpu: usize) {
    // SAFETY: a zeroed `cpu_set_t` is an empty set; the calls only read
    // and write the set passed to them.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        assert_eq!(
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set),
            0
        );
    }
}

/// The CPU share of polls that each spin 5 ms of wall time on `cpu`.
fn share_of_spinning_polls(registry: &Registry, name: &str) -> f64 {
    let timer = registry.timer(name);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for _ in 0..10 {
        rt.block_on(timer.time(async { spin(ms(5)) }));
    }
    timer.stats().cpu_share().unwrap()
}

#[test]
fn the_cpu_share_falls_when_the_thread_shares_its_core() {
    let registry = Registry::builder().blocking_detection(1).build().unwrap();
    let cpu = 0;
    std::thread::scope(|s| {
        s.spawn(|| {
            pin_to(cpu);
            let alone = share_of_spinning_polls(&registry, "alone");
            let stop = AtomicBool::new(false);
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        pin_to(cpu);
                        while !stop.load(Relaxed) {
                            std::hint::spin_loop();
                        }
                    });
                }
                // Let the spinners start.
                std::thread::sleep(ms(20));
                let crowded = share_of_spinning_polls(&registry, "crowded");
                stop.store(true, Relaxed);
                // Two spinners beside it: about a third of the CPU.
                assert!(crowded < 0.75, "crowded {crowded:.2}, alone {alone:.2}");
                assert!(crowded < alone, "crowded {crowded:.2}, alone {alone:.2}");
            });
        });
    });
    let report = registry.report().to_string();
    let crowded = report.lines().find(|l| l.contains("\"crowded\"")).unwrap();
    assert!(crowded.contains(", cpu "), "{report}");
}
