//! `perf-timer html` in a real browser: headless Chromium renders the
//! page; the test reads the DOM after its script ran and keeps a
//! screenshot. Without Chromium the test is skipped with a note, unless
//! `PERF_TIMER_BROWSER=require` (which `.ci/run` sets after installing it).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Chromium's path, if installed.
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = Command::new("which")
            .arg(name)
            .stderr(Stdio::null())
            .output();
        if let Ok(out) = found {
            if out.status.success() {
                return Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
            }
        }
    }
    None
}

/// Chromium, or `None` after a note that the test is skipped; with
/// `PERF_TIMER_BROWSER=require` a missing Chromium fails the test instead.
fn chromium_or_skip() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        if std::env::var("PERF_TIMER_BROWSER").as_deref() == Ok("require") {
            panic!("PERF_TIMER_BROWSER=require, but no chromium on PATH");
        }
        eprintln!("skipped: no chromium (apt install chromium); set PERF_TIMER_BROWSER=require to fail instead");
    }
    found
}

/// Headless Chromium with no network side traffic and a fresh profile.
fn headless(browser: &Path, profile: &Path) -> Command {
    let mut command = Command::new(browser);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,2400",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

fn perf_timer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perf-timer"))
        .args(args)
        .output()
        .unwrap()
}

/// Saves one run of `runs` "handle" runs of `micros` each and a few others.
fn save(path: &Path, micros: u64, extra_timer: &str) {
    let registry = perf_timer::Registry::new();
    let handle = registry.timer("handle");
    for i in 0..200 {
        handle.record(std::time::Duration::from_micros(micros + i % 17));
    }
    registry
        .timer("flush")
        .record(std::time::Duration::from_micros(40));
    registry
        .timer("flush")
        .record(std::time::Duration::from_micros(60));
    registry
        .timer(extra_timer)
        .record(std::time::Duration::from_micros(7));
    perf_timer::saved::SavedRun::capture(&registry)
        .append_to(path)
        .unwrap();
}

#[test]
fn the_html_page_renders_in_chromium_with_every_table_row_and_chart() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("perf-timer-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (base, new, page) = (
        dir.join("base.jsonl"),
        dir.join("new.jsonl"),
        dir.join("report.html"),
    );
    // A 3-vs-3 comparison: three process runs a side, a little apart.
    for run in 0..3 {
        save(&base, 100 + run, "only <base>");
        save(&new, 300 + 2 * run, "only new");
    }
    let out = perf_timer(&[
        "html",
        base.to_str().unwrap(),
        new.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");

    // The DOM after the page's script ran, sorted by the mean, largest first.
    let url = format!("file://{}#sort=mean-desc", page.display());
    let dom = headless(&browser, &dir.join("profile"))
        .arg("--dump-dom")
        .arg(&url)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(dom.status.success(), "{dom:?}");
    let dom = String::from_utf8(dom.stdout).unwrap();
    assert!(
        dom.contains("<html lang=\"en\" data-ready=\"yes\">"),
        "the script ran: {}",
        &dom[..200.min(dom.len())]
    );

    let rows = |section: &str| -> Vec<String> {
        let start = dom
            .find(section)
            .unwrap_or_else(|| panic!("{section} in the page"));
        let body = &dom[start..];
        let end = body.find("</table>").unwrap();
        body[..end]
            .split("<tr data-timer=\"")
            .skip(1)
            .map(|row| row[..row.find('"').unwrap()].to_owned())
            .collect()
    };
    // The comparison: every timer of either side, one on each side only.
    let diff = rows("<section id=\"diff\">");
    assert_eq!(diff.len(), 4, "{diff:?}");
    assert_eq!(
        diff[0], "handle",
        "sorted by the mean's change, largest first: {diff:?}"
    );
    assert!(dom.contains("class=\"regressed\""), "handle tripled");
    // Its row says why: the change with its interval, the runs and their
    // spread, and the reason.
    let handle_row = &dom[dom
        .find("<tr data-timer=\"handle\" class=\"regressed\"")
        .unwrap()..];
    let handle_row = &handle_row[..handle_row.find("</tr>").unwrap()];
    assert!(handle_row.contains("3 → 3"), "{handle_row}");
    assert!(
        handle_row.contains("±"),
        "the spread between runs: {handle_row}"
    );
    assert!(
        handle_row.contains("p50 +") && handle_row.contains(", beyond ±5%"),
        "{handle_row}"
    );
    // Each file's report: its timers, by mean, largest first.
    let base_rows = rows("base.jsonl (3 runs merged)</h2>");
    assert_eq!(base_rows, ["handle", "flush", "only &lt;base&gt;"]);
    let new_rows = rows("new.jsonl (3 runs merged)</h2>");
    assert_eq!(new_rows, ["handle", "flush", "only new"]);
    // One chart per timer, each an inline SVG, and the busy-time chart.
    let charts: Vec<&str> = dom
        .split("<figure class=\"chart\" data-timer=\"")
        .skip(1)
        .collect();
    assert_eq!(charts.len(), 4);
    for chart in &charts {
        let end = chart.find("</figure>").unwrap();
        assert!(chart[..end].contains("<svg"), "{chart}");
    }
    // Three runs a file: a thin line for each run under each file's line.
    let handle_chart = charts.iter().find(|c| c.starts_with("handle\"")).unwrap();
    let handle_chart = &handle_chart[..handle_chart.find("</figure>").unwrap()];
    let thin = (handle_chart.split("<polyline").skip(1))
        .filter(|line| line.contains("opacity=\"0.45\"") && line.contains("stroke-width=\"1\""))
        .count();
    assert_eq!(thin, 6, "{handle_chart}");
    assert!(dom.contains("<figure class=\"busy\"><svg"));
    // Self-contained: nothing to fetch (the SVG namespace is a name only).
    for fetch in ["src=\"http", "href=\"http", "<link", "url(http", "@import"] {
        assert!(!dom.contains(fetch), "{fetch} in the page");
    }

    // A screenshot, kept beside the build for a look.
    let shot_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let shot = shot_dir.join("perf-timer-report.png");
    let _ = std::fs::remove_file(&shot);
    let out = headless(&browser, &dir.join("profile"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "a page with tables and charts, not a blank one"
    );
    eprintln!("screenshot: {}", shot.display());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two files of 1,200 timers: the comparison shows 500 rows at once (the
/// rest wait in a template behind a button), charts only the top 20, and
/// `#all` shows every row.
#[test]
fn a_page_of_many_timers_shows_the_first_rows_and_the_rest_on_demand() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("perf-timer-browser-many-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (base, new, page) = (
        dir.join("base.jsonl"),
        dir.join("new.jsonl"),
        dir.join("many.html"),
    );
    for (path, scale) in [(&base, 1), (&new, 2)] {
        let registry = perf_timer::Registry::builder()
            .max_timers(2_000)
            .build()
            .unwrap();
        for t in 0..1_200_u64 {
            let timer = registry.timer(&format!("many::timer_{t:04}"));
            timer.record(std::time::Duration::from_micros((t + 1) * scale));
        }
        perf_timer::saved::SavedRun::capture(&registry)
            .append_to(path)
            .unwrap();
    }
    let out = perf_timer(&[
        "html",
        base.to_str().unwrap(),
        new.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 2_000_000, "{size} bytes");

    let dom = |hash: &str| {
        let url = format!("file://{}{hash}", page.display());
        let out = headless(&browser, &dir.join("profile"))
            .arg("--dump-dom")
            .arg(&url)
            .stderr(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let shown = |dom: &str| {
        let start = dom.find("<section id=\"diff\">").unwrap();
        let end = start + dom[start..].find("</table>").unwrap();
        dom[start..end].matches("<tr data-timer=").count()
    };
    let first = dom("");
    assert_eq!(shown(&first), 500);
    assert!(first.contains("show the other 700 timers"), "the button");
    assert_eq!(first.matches("<figure class=\"chart\"").count(), 20);
    assert!(first.contains("The 20 timers with the most busy time, of 1200"));
    let all = dom("#all");
    assert_eq!(shown(&all), 1_200);
    assert!(!all.contains("show the other"), "the button is gone");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `perf-timer flame`'s SVG opens in Chromium with inferno's script run
/// (every frame titled with its time), and `html` of nested runs shows
/// the same drawing in a frame of its own.
#[test]
fn the_flamegraph_renders_alone_and_in_the_page() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("perf-timer-browser-flame-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = common::nested_runs_file("browser-flame");
    let (svg, page) = (dir.join("flame.svg"), dir.join("flame.html"));
    let out = perf_timer(&["flame", file.arg(), "--wall", "-o", svg.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let dom = headless(&browser, &dir.join("profile"))
        .arg("--dump-dom")
        .arg(format!("file://{}", svg.display()))
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(dom.status.success(), "{dom:?}");
    let dom = String::from_utf8(dom.stdout).unwrap();
    for frame in [
        "api (24,000,000 ns, 100.00%)",
        "db (21,000,000 ns, 87.50%)",
        "[parked] (15,000,000 ns, 62.50%)",
    ] {
        assert!(dom.contains(frame), "{frame} in {dom}");
    }

    let out = perf_timer(&["html", file.arg(), "-o", page.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("<iframe class=\"flame\""),
        "the page holds the drawing"
    );
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("perf-timer-flame.png");
    let _ = std::fs::remove_file(&shot);
    let out = headless(&browser, &dir.join("profile"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    eprintln!("screenshot: {}", shot.display());
    let _ = std::fs::remove_dir_all(&dir);
}
