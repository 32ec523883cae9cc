//! What a nesting path costs in memory, measured by a counting allocator.

mod common;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{live, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

use common::*;
use perf_timer::Folded;

#[test]
fn a_path_costs_at_most_256_bytes() {
    // A mock clock that moves 1 µs per child: every child's run is the
    // same, so the timers' histograms do not grow with the runs measured.
    let (registry, mock) = mock_registry();
    let api = registry.timer("api");
    let children: Vec<_> = (0..512)
        .map(|i| registry.timer(&format!("child.{i:03}")))
        .collect();
    // Each timer and this thread's buffers, made before measuring.
    for child in &children {
        poll_to_end(child.time(work(&mock, us(1))));
    }
    poll_to_end(api.time(async {
        for _ in 0..7 {
            children[0].time(work(&mock, us(1))).await;
        }
    }));
    let before = live();
    for chunk in children[1..].chunks(7) {
        poll_to_end(api.time(async {
            for child in chunk {
                child.time(work(&mock, us(1))).await;
            }
        }));
    }
    let bytes = live() - before;
    let paths = 511;
    let per_path = bytes / paths;
    eprintln!("{bytes} bytes for {paths} paths: {per_path} per path");
    assert!(
        per_path <= 256,
        "{bytes} bytes for {paths} paths: {per_path} per path"
    );
    // And they are paths: each child shows under api.
    let snapshot = registry.snapshot();
    let names: Vec<String> = (snapshot.folded(Folded::Wall).lines())
        .map(|l| l.rsplit_once(' ').unwrap().0.to_owned())
        .collect();
    let under_api = names.iter().filter(|n| n.starts_with("api;child.")).count();
    assert_eq!(under_api, 512);
}
