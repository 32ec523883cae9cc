//! Groups: timers under one `::` prefix read as one, and the grouped
//! report, with nested runs never counted twice in a group's own time.

mod common;

use common::*;

#[test]
fn a_group_adds_its_members_and_its_own_time_counts_nested_runs_once() {
    let (registry, mock) = mock_registry();
    let inner = registry.timer("app::db::get");
    let outer = registry.timer("app::handle");
    for _ in 0..10 {
        // 40 µs of the handler's own work around a 25 µs query.
        poll_to_end(outer.time(async {
            mock.advance(us(15));
            inner.time(work(&mock, us(25))).await;
            mock.advance(us(25));
        }));
    }
    registry.timer("other").record(us(100));

    let snapshot = registry.snapshot();
    let app = snapshot.group("app").unwrap();
    assert_eq!(app.count(), 20, "runs of both members");
    assert_eq!(
        app.total(),
        us(10 * (65 + 25)),
        "inclusive: the query in both"
    );
    assert_eq!(app.self_time().total(), us(10 * 65), "its own time: once");
    // The distribution is the members' added: ten of 25 µs, ten of 65 µs.
    let h = app.histogram();
    assert_eq!(h.count_between(25_000, 25_000), 10);
    assert_eq!(h.count_between(65_000, 65_000), 10);
    assert_eq!(snapshot.group("app::db").unwrap().count(), 10);
    assert!(snapshot.group("ap").is_none());

    let text = registry.report().grouped().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], "(all): 750 µs self busy in 21 runs of 3 timers",
        "{text}"
    );
    assert_eq!(
        lines[1], "group \"app\": 650 µs self busy in 20 runs of 2 timers, 87% of all",
        "{text}"
    );
    assert!(
        lines[2].starts_with("  timer \"app::db::get\": avg 25.0 µs"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("  timer \"app::handle\": avg 65.0 µs"),
        "{text}"
    );
    assert!(lines[3].contains("self avg 40.0 µs"), "{text}");
    assert_eq!(lines[4], "timer \"other\": 100 µs in 1 run");
    assert_eq!(
        lines.len(),
        5,
        "a one-member prefix (app::db) is no group: {text}"
    );
}
