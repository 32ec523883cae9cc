//! `perf-timer flame`: the saved runs' timer paths as a flamegraph of busy,
//! parked or wall time, and as folded lines, exact on a mock clock.

mod common;

use std::time::Duration;

use common::{nested_runs_file, perf_timer, text, Temp};
use perf_timer::saved::SavedRun;
use perf_timer::Registry;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn folded_lines_are_the_runs_paths_merged() {
    let file = nested_runs_file("flame-folded");
    let folded = |kind: &[&str]| {
        let mut args = vec!["flame", file.arg(), "--folded"];
        args.extend(kind);
        let out = perf_timer(&args);
        assert!(out.status.success(), "{out:?}");
        text(&out.stdout)
    };
    // Three runs: 3 ms of api's own, 6 ms of db, 15 ms parked in db.
    assert_eq!(folded(&[]), "api 3000000\napi;db 6000000\n");
    assert_eq!(folded(&["--idle"]), "api;db 15000000\n");
    assert_eq!(
        folded(&["--wall"]),
        "api 3000000\napi;db 6000000\napi;db;[parked] 15000000\n"
    );
}

#[test]
fn the_flamegraph_holds_each_timer_with_its_time() {
    let file = nested_runs_file("flame-svg");
    let svg = Temp(Temp::new("flame-out").0.with_extension("svg"));
    let out = perf_timer(&["flame", file.arg(), "--wall", "-o", svg.arg()]);
    assert!(out.status.success(), "{out:?}");
    assert!(text(&out.stderr).contains("drew"), "{out:?}");
    let drawn = std::fs::read_to_string(&svg.0).unwrap();
    assert!(drawn.starts_with("<?xml"));
    // Inclusive widths: api holds everything, db its busy and parked time.
    assert!(drawn.contains("api (24,000,000 ns, 100.00%)"), "{drawn}");
    assert!(drawn.contains("db (21,000,000 ns, 87.50%)"), "{drawn}");
    assert!(
        drawn.contains("[parked] (15,000,000 ns, 62.50%)"),
        "{drawn}"
    );
    assert!(drawn.contains("(2 runs merged)"), "the file is named");
}

#[test]
fn nothing_to_draw_is_one_sentence_and_status_2() {
    // A run with no nesting was never parked in a timed child.
    let file = Temp::new("flame-flat");
    let registry = Registry::new();
    registry.timer("flat").record(ms(1));
    SavedRun::capture(&registry).append_to(&file.0).unwrap();
    let out = perf_timer(&["flame", file.arg(), "--idle", "--folded"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no run was parked in a timed child"), "{err}");
    // A picture that is not SVG: said before reading anything.
    let out = perf_timer(&["flame", file.arg(), "-o", "flame.png"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        text(&out.stderr).contains("flame draws SVG, not flame.png"),
        "{out:?}"
    );
    // Without -o and without --folded: a usage error.
    let out = perf_timer(&["flame", file.arg()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // html as flame: a page's name, said before reading anything.
    let out = perf_timer(&["html", file.arg(), "-o", "r.txt"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        text(&out.stderr).contains("html writes a web page, not r.txt: give -o NAME.html"),
        "{out:?}"
    );
    assert!(!std::path::Path::new("r.txt").exists());
}

/// `file`'s runs as schema 2 saved them (in another process): no nesting
/// paths, no slowest runs.
fn as_schema_2(file: &Temp, name: &str) -> Temp {
    let old = Temp::new(name);
    let mut lines = String::new();
    for line in std::fs::read_to_string(&file.0).unwrap().lines() {
        let mut run: serde_json::Value = serde_json::from_str(line).unwrap();
        run["perf_timer"] = 2.into();
        run["pid"] = (run["pid"].as_u64().unwrap() + 1).into();
        run.as_object_mut().unwrap().remove("paths");
        for timer in run["timers"].as_array_mut().unwrap() {
            timer.as_object_mut().unwrap().remove("slowest");
        }
        lines.push_str(&run.to_string());
        lines.push('\n');
    }
    std::fs::write(&old.0, lines).unwrap();
    old
}

#[test]
fn runs_saved_before_paths_are_drawn_flat_and_said_so() {
    let file = nested_runs_file("flame-schema-3");
    let old = as_schema_2(&file, "flame-schema-2");
    for kind in [&[][..], &["--wall"]] {
        let mut args = vec!["flame", old.arg(), "--folded"];
        args.extend(kind);
        let out = perf_timer(&args);
        assert!(out.status.success(), "{out:?}");
        // Each timer its own self busy time, none inside another.
        assert_eq!(text(&out.stdout), "api 3000000\ndb 6000000\n");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(
                "its runs keep no nesting paths (saved before schema 3), so the graph is flat"
            ),
            "{err}"
        );
    }
    // Parked time: nothing to draw, the error says why.
    let out = perf_timer(&["flame", old.arg(), "--idle", "--folded"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out.stderr).contains("schema before 3"), "{out:?}");
    // A file of both: how many of its runs.
    let both = Temp::new("flame-schema-both");
    let lines =
        std::fs::read_to_string(&file.0).unwrap() + &std::fs::read_to_string(&old.0).unwrap();
    std::fs::write(&both.0, lines).unwrap();
    let out = perf_timer(&["flame", both.arg(), "--folded"]);
    let err = text(&out.stderr);
    assert!(
        err.contains("2 of its 4 runs keep no nesting paths"),
        "{err}"
    );
    // Runs that keep their paths: nothing said.
    let out = perf_timer(&["flame", file.arg(), "--folded"]);
    assert_eq!(text(&out.stderr), "", "{out:?}");

    // The page says why it has no flamegraph of the old file.
    let page = Temp(Temp::new("flame-schema-page").0.with_extension("html"));
    let out = perf_timer(&["html", file.arg(), old.arg(), "-o", page.arg()]);
    assert!(out.status.success(), "{out:?}");
    let html = std::fs::read_to_string(&page.0).unwrap();
    assert_eq!(html.matches("<iframe class=\"flame\"").count(), 1, "{html}");
    assert!(
        html.contains(&format!(
            "No flamegraph of {} (2 runs merged): its runs keep no nesting paths",
            old.arg()
        )),
        "{html}"
    );
}

#[test]
fn an_overflow_path_reads_by_timer_and_leaves_the_root_line_out() {
    // The runs as a registry past its cap on paths keeps them: `db` in its
    // overflow path `(other);db`.
    let file = nested_runs_file("flame-overflow");
    let overflow = Temp::new("flame-overflow-paths");
    let mut lines = String::new();
    for line in std::fs::read_to_string(&file.0).unwrap().lines() {
        let mut run: serde_json::Value = serde_json::from_str(line).unwrap();
        for path in run["paths"].as_array_mut().unwrap() {
            if path["path"] == serde_json::json!(["api", "db"]) {
                path["path"] = serde_json::json!(["(other)", "db"]);
            }
        }
        lines.push_str(&run.to_string());
        lines.push('\n');
    }
    assert_eq!(lines.matches("[\"(other)\",\"db\"]").count(), 2, "{lines}");
    std::fs::write(&overflow.0, lines).unwrap();
    let folded = |kind: &[&str]| {
        let mut args = vec!["flame", overflow.arg(), "--folded"];
        args.extend(kind);
        let out = perf_timer(&args);
        assert!(out.status.success(), "{out:?}");
        text(&out.stdout)
    };
    // db's time once, in its overflow path, not again as a root of its own.
    assert_eq!(folded(&[]), "(other);db 6000000\napi 3000000\n");
    assert_eq!(folded(&["--idle"]), "(other);db 15000000\n");
    let page = Temp(Temp::new("flame-overflow-page").0.with_extension("html"));
    let out = perf_timer(&["html", overflow.arg(), "-o", page.arg()]);
    assert!(out.status.success(), "{out:?}");
    let html = std::fs::read_to_string(&page.0).unwrap();
    assert_eq!(html.matches("<iframe class=\"flame\"").count(), 1, "{html}");
}
