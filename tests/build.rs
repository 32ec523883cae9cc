//! Probes for the outside readers and servers some tests use, so that a
//! test without them shows as `ignored, needs …` in a plain `cargo test`
//! instead of passing with its note hidden. With `PERF_TIMER_INTEROP=require`
//! (as `.ci/run` sets) nothing is ignored: a missing tool fails its test.
//! The probe runs when the build script does; after installing a tool,
//! `touch tests/build.rs` (or `cargo clean -p perf-timer-tests`) probes again.

use std::process::{Command, Stdio};

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=PERF_TIMER_INTEROP");
    println!("cargo::rerun-if-env-changed=PATH");
    let require = std::env::var("PERF_TIMER_INTEROP").as_deref() == Ok("require");
    let probes = [
        (
            "perf_timer_no_python_readers",
            succeeds("python3", &["-c", "import hdrh, prometheus_client"]),
        ),
        (
            "perf_timer_no_prometheus",
            succeeds("prometheus", &["--version"]),
        ),
    ];
    for (cfg, found) in probes {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if !found && !require {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
