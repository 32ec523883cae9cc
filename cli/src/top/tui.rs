//! `perf-timer top`'s full-screen view (ratatui): the table of the last
//! interval, sorted and filtered at will, a detail pane for the selected
//! timer (its interval's percentile curve, and sparklines of its p99 and
//! runs/s over the last minutes), and the keys in a footer. Only bold and
//! reversed text, no colours of its own: it reads on dark and light
//! terminals alike.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{
    Block, Borders, Cell, Paragraph, Row as TableRow, Sparkline, Table, TableState,
};
use ratatui::Frame;

use super::frame::{self, Row, SortBy, COLUMNS};
use super::interval_log;
use super::prometheus;
use super::source::{Reading, Source, SourceError, Taken};

/// How many intervals the sparklines keep: five minutes at one a second.
const HISTORY: usize = 300;

/// The sort keys in the order `s` steps through them.
const SORTS: [SortBy; 9] = [
    SortBy::Busy,
    SortBy::Runs,
    SortBy::P50,
    SortBy::P99,
    SortBy::Max,
    SortBy::InFlight,
    SortBy::Errors,
    SortBy::Slow,
    SortBy::Timer,
];

/// What a key asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    Continue,
    Quit,
}

/// Everything the view shows, and the readings it was computed from.
pub struct View {
    pub source: String,
    pub sort: SortBy,
    pub filter: String,
    pub editing_filter: bool,
    pub paused: bool,
    /// Figures since the first reading (or the last restart) instead of
    /// the last interval.
    pub cumulative: bool,
    pub selected: usize,
    pub detail: bool,
    /// What the header says beside the interval: restarts, disconnections.
    pub status: String,
    first: Option<Taken>,
    then: Option<Taken>,
    now: Option<Taken>,
    /// p99 (ns) and runs/s per interval, by timer, newest last.
    history: BTreeMap<String, VecDeque<(u64, f64)>>,
}

impl View {
    pub fn new(source: &str, sort: SortBy) -> Self {
        View {
            source: source.to_owned(),
            sort,
            filter: String::new(),
            editing_filter: false,
            paused: false,
            cumulative: false,
            selected: 0,
            detail: false,
            status: "waiting for a second reading".to_owned(),
            first: None,
            then: None,
            now: None,
            history: BTreeMap::new(),
        }
    }

    /// A new reading: the interval from the last one, or a new baseline
    /// if the service restarted.
    pub fn update(&mut self, taken: Taken) {
        let continues = match (&self.now, &taken.reading) {
            (Some(prev), reading) => reading.follows(&prev.reading),
            (None, _) => false,
        };
        if !continues {
            if self.now.is_some() {
                self.status = "the service restarted: a new baseline".to_owned();
            }
            self.history.clear();
            self.first = Some(clone_taken(&taken));
            self.then = None;
            self.now = Some(taken);
            return;
        }
        self.status.clear();
        self.then = self.now.take();
        self.now = Some(taken);
        for row in self.interval_rows(SortBy::Timer) {
            let history = self.history.entry(row.timer.clone()).or_default();
            history.push_back((
                row.p99.map_or(0, |d| d.as_nanos() as u64),
                row.runs_per_second,
            ));
            if history.len() > HISTORY {
                history.pop_front();
            }
        }
    }

    /// The rows shown: the last interval's (or, cumulative, since the
    /// baseline), filtered and sorted.
    pub fn rows(&self) -> Vec<Row> {
        let rows = if self.cumulative {
            self.rows_between(self.first.as_ref(), self.now.as_ref(), self.sort)
        } else {
            self.interval_rows(self.sort)
        };
        rows.into_iter()
            .filter(|r| r.timer.contains(self.filter.as_str()))
            .collect()
    }

    fn interval_rows(&self, sort: SortBy) -> Vec<Row> {
        self.rows_between(self.then.as_ref(), self.now.as_ref(), sort)
    }

    fn rows_between(&self, then: Option<&Taken>, now: Option<&Taken>, sort: SortBy) -> Vec<Row> {
        if let Some(Taken {
            reading: Reading::Interval(interval),
            ..
        }) = now
        {
            return frame::sorted(interval_log::rows(interval), sort);
        }
        let (Some(then), Some(now)) = (then, now) else {
            return Vec::new();
        };
        let elapsed = now.at.saturating_sub(then.at);
        match (&then.reading, &now.reading) {
            (Reading::Run(a), Reading::Run(b)) => frame::rows(a, b, elapsed, sort),
            (Reading::Buckets(a), Reading::Buckets(b)) => {
                frame::sorted(prometheus::rows(a, b, elapsed), sort)
            }
            _ => Vec::new(),
        }
    }

    /// Handles one key press.
    pub fn key(&mut self, key: KeyEvent) -> Action {
        if key.kind != KeyEventKind::Press {
            return Action::Continue;
        }
        // Raw mode delivers Ctrl-C as a key: it quits, as everywhere.
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return Action::Quit;
        }
        if self.editing_filter {
            match key.code {
                KeyCode::Enter => self.editing_filter = false,
                KeyCode::Esc => {
                    self.editing_filter = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            self.selected = 0;
            return Action::Continue;
        }
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return Action::Quit,
            KeyCode::Char('s') => {
                let at = SORTS.iter().position(|&s| s == self.sort).unwrap_or(0);
                self.sort = SORTS[(at + 1) % SORTS.len()];
            }
            KeyCode::Char('/') => self.editing_filter = true,
            KeyCode::Char('p') | KeyCode::Char(' ') => self.paused = !self.paused,
            KeyCode::Char('c') => self.cumulative = !self.cumulative,
            KeyCode::Enter => self.detail = !self.detail,
            KeyCode::Down | KeyCode::Char('j') => self.selected = self.selected.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            _ => {}
        }
        Action::Continue
    }

    /// Draws the whole screen.
    pub fn render(&self, f: &mut Frame<'_>) {
        let rows = self.rows();
        let selected = self.selected.min(rows.len().saturating_sub(1));
        let detail = self.detail && !rows.is_empty();
        let [head, table, pane, foot] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(if detail { 12 } else { 0 }),
            Constraint::Length(1),
        ])
        .areas(f.area());
        f.render_widget(Paragraph::new(self.heading(&rows)), head);
        self.render_table(f, table, &rows, selected);
        if detail {
            self.render_detail(f, pane, &rows[selected]);
        }
        f.render_widget(
            Paragraph::new(self.footer()).style(Style::default().add_modifier(Modifier::REVERSED)),
            foot,
        );
    }

    fn heading(&self, rows: &[Row]) -> String {
        let what = if self.cumulative {
            "since the baseline"
        } else {
            "last interval"
        };
        let cores: f64 = rows.iter().map(|r| r.cores).sum();
        let elapsed = match (&self.then, &self.now, self.cumulative) {
            (_, Some(now), true) => self.first.as_ref().map(|f| now.at.saturating_sub(f.at)),
            (Some(then), Some(now), false) => Some(now.at.saturating_sub(then.at)),
            _ => None,
        };
        let mut text = format!(
            "perf-timer top {}  {what}{}  {} timers  {} cores busy",
            self.source,
            elapsed.map_or(String::new(), |e| format!(" {:.2} s", e.as_secs_f64())),
            rows.len(),
            frame::sig3(cores)
        );
        if matches!(
            self.now.as_ref().map(|n| &n.reading),
            Some(Reading::Buckets(_))
        ) {
            text.push_str("  percentiles are bucket bounds");
        }
        for flag in [
            (self.paused, "PAUSED"),
            (!self.status.is_empty(), self.status.as_str()),
        ] {
            if flag.0 {
                text.push_str("  ");
                text.push_str(flag.1);
            }
        }
        text
    }

    fn footer(&self) -> String {
        if self.editing_filter {
            return format!(" filter: {}▏  Enter keep  Esc clear", self.filter);
        }
        let sort = format!("{:?}", self.sort).to_lowercase();
        format!(
            " q quit  s sort ({sort})  / filter{}  p pause  c {}  Enter detail  ↑↓ select",
            if self.filter.is_empty() {
                String::new()
            } else {
                format!(" ({})", self.filter)
            },
            if self.cumulative {
                "interval"
            } else {
                "cumulative"
            },
        )
    }

    fn render_table(&self, f: &mut Frame<'_>, area: Rect, rows: &[Row], selected: usize) {
        // The plain table's cells: one way to write each figure.
        let text = frame::table(rows);
        let cells: Vec<Vec<String>> = rows
            .iter()
            .zip(text.lines().skip(1))
            .map(|(row, line)| cells_of(line, &row.timer))
            .collect();
        let widths = column_widths(&cells);
        let body: Vec<TableRow<'_>> = cells
            .into_iter()
            .map(|cells| {
                TableRow::new(cells.into_iter().enumerate().map(|(i, cell)| {
                    // The name left, the numbers right, as in the plain table.
                    let line = Line::from(cell);
                    Cell::from(if i == 0 {
                        line
                    } else {
                        line.alignment(Alignment::Right)
                    })
                }))
            })
            .collect();
        let header = TableRow::new(COLUMNS.iter().enumerate().map(|(i, c)| {
            let line = Line::from(*c);
            Cell::from(if i == 0 {
                line
            } else {
                line.alignment(Alignment::Right)
            })
        }))
        .style(Style::default().add_modifier(Modifier::BOLD));
        let table = Table::new(body, widths.map(Constraint::Length))
            .header(header)
            .column_spacing(2)
            .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
        let mut state = TableState::default().with_selected(Some(selected));
        f.render_stateful_widget(table, area, &mut state);
    }

    fn render_detail(&self, f: &mut Frame<'_>, area: Rect, row: &Row) {
        let block = Block::default()
            .borders(Borders::TOP)
            .title(format!(" {} ", row.timer));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let [curve, sparks] =
            Layout::horizontal([Constraint::Length(34), Constraint::Min(10)]).areas(inner);
        f.render_widget(Paragraph::new(self.curve(&row.timer)), curve);
        let [p99_label, p99, runs_label, runs] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(4),
            Constraint::Length(1),
            Constraint::Length(4),
        ])
        .areas(sparks);
        let history = self.history.get(&row.timer);
        let series = |pick: fn(&(u64, f64)) -> u64| -> Vec<u64> {
            history.map_or(Vec::new(), |h| h.iter().map(pick).collect())
        };
        f.render_widget(
            Paragraph::new(format!(
                "p99 over the last {} intervals",
                series(|p| p.0).len()
            )),
            p99_label,
        );
        f.render_widget(Sparkline::default().data(series(|p| p.0)), p99);
        f.render_widget(Paragraph::new("runs/s"), runs_label);
        f.render_widget(
            Sparkline::default().data(series(|p| (p.1 * 100.0) as u64)),
            runs,
        );
    }

    /// The interval's percentile curve of `timer`, a line per quantile.
    fn curve(&self, timer: &str) -> Vec<Line<'static>> {
        let (Some(then), Some(now)) = (self.then.as_ref(), self.now.as_ref()) else {
            return Vec::new();
        };
        let (Reading::Run(a), Reading::Run(b)) = (&then.reading, &now.reading) else {
            return vec![Line::from("(bucket bounds only: no curve)")];
        };
        let Some(window) = b.since(a).get(timer).cloned() else {
            return Vec::new();
        };
        if window.count() == 0 {
            return vec![Line::from("no runs this interval")];
        }
        let quantiles = [0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0];
        let values: Vec<Duration> = quantiles.iter().map(|&q| window.quantile(q)).collect();
        let top = values.last().map_or(1.0, |d| d.as_secs_f64().max(1e-12));
        quantiles
            .iter()
            .zip(&values)
            .map(|(q, v)| {
                let bar = "█".repeat(((v.as_secs_f64() / top) * 12.0).round() as usize);
                let label = if *q == 1.0 {
                    "max".to_owned()
                } else {
                    format!("p{}", q * 100.0)
                };
                Line::from(format!(
                    "{label:>6} {:>10} {bar}",
                    perf_timer::ReportDuration(*v).to_string()
                ))
            })
            .collect()
    }
}

fn clone_taken(taken: &Taken) -> Taken {
    Taken {
        reading: match &taken.reading {
            Reading::Run(s) => Reading::Run(s.clone()),
            Reading::Buckets(h) => Reading::Buckets(h.clone()),
            Reading::Interval(i) => Reading::Interval(i.clone()),
        },
        at: taken.at,
    }
}

/// A table line's cells: the name whole (it may hold two spaces), then
/// the numbers, split at two spaces.
fn cells_of(line: &str, timer: &str) -> Vec<String> {
    let rest = line.get(timer.len()..).unwrap_or_default();
    std::iter::once(timer.to_owned())
        .chain(
            rest.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
        )
        .collect()
}

/// Each column's width: its head's, or its widest cell's.
fn column_widths(cells: &[Vec<String>]) -> [u16; 11] {
    let mut widths = COLUMNS.map(|c| c.chars().count() as u16);
    for row in cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count() as u16);
        }
    }
    widths
}

/// Runs the full-screen view until `q`.
pub fn run(
    mut source: Source,
    name: &str,
    interval: Duration,
    sort: SortBy,
) -> Result<(), SourceError> {
    let mut view = View::new(name, sort);
    let mut terminal = ratatui::init();
    let result = (|| {
        let mut next_read = Instant::now();
        loop {
            if Instant::now() >= next_read {
                next_read += interval;
                if !view.paused {
                    match source.next() {
                        Ok(Some(taken)) => view.update(taken),
                        Ok(None) => view.status = "end of the file".to_owned(),
                        Err(SourceError::Unreachable { reason, .. }) => {
                            view.status = format!("disconnected ({reason}), retrying");
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            let _ = terminal.draw(|f| view.render(f));
            let wait = next_read.saturating_duration_since(Instant::now());
            if event::poll(wait).unwrap_or(false) {
                if let Ok(Event::Key(key)) = event::read() {
                    if view.key(key) == Action::Quit {
                        return Ok(());
                    }
                }
            }
        }
    })();
    ratatui::restore();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn press(view: &mut View, code: KeyCode) -> Action {
        view.key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn taken(registry: &perf_timer::Registry, at_ms: u64) -> Taken {
        Taken {
            reading: Reading::Run(registry.snapshot()),
            at: Duration::from_millis(at_ms),
        }
    }

    /// The screen as lines of text.
    fn screen(view: &View, width: u16, height: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| view.render(f)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buffer[(x, y)].symbol().to_owned())
                    .collect::<String>()
            })
            .collect()
    }

    /// Two timers over two one-second intervals with known runs.
    fn scripted() -> (perf_timer::Registry, View) {
        let registry = perf_timer::Registry::new();
        let (db, web) = (registry.timer("db.query"), registry.timer("web GET /"));
        let mut view = View::new("http://test/metrics", SortBy::Busy);
        view.update(taken(&registry, 0));
        for us in 1..=100 {
            db.record(Duration::from_micros(us)); // 100 runs, 5.05 ms busy
        }
        for _ in 0..4 {
            web.record(Duration::from_millis(5)); // 4 runs, 20 ms busy
        }
        view.update(taken(&registry, 1_000));
        (registry, view)
    }

    fn row_of<'a>(lines: &'a [String], timer: &str) -> Option<(usize, &'a String)> {
        lines.iter().enumerate().find(|(_, l)| l.starts_with(timer))
    }

    #[test]
    fn the_table_shows_the_intervals_rates_and_exact_percentiles_sorted() {
        let (registry, mut view) = scripted();
        let lines = screen(&view, 140, 20);
        assert!(
            lines[0].contains("last interval 1.00 s  2 timers"),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("timer"), "{lines:#?}");
        assert!(lines[1].contains("runs/s") && lines[1].contains("p99"));
        let (web_at, web) = row_of(&lines, "web GET /").unwrap();
        let (db_at, db) = row_of(&lines, "db.query").unwrap();
        assert!(web_at < db_at, "by busy: web (20 ms) above db (5.05 ms)");
        let cells = |line: &str, t: &str| cells_of(line.trim_end(), t);
        let db = cells(db, "db.query");
        assert_eq!(db[1], "100", "{db:?}");
        let p99 = registry.stats("db.query").unwrap().quantile(0.99);
        assert_eq!(db[5], perf_timer::ReportDuration(p99).to_string());
        assert_eq!(cells(web, "web GET /")[1], "4.00");
        // `s`: the next sort key, runs: db first.
        press(&mut view, KeyCode::Char('s'));
        assert_eq!(view.sort, SortBy::Runs);
        let lines = screen(&view, 140, 20);
        assert!(row_of(&lines, "db.query").unwrap().0 < row_of(&lines, "web GET /").unwrap().0);
        assert!(lines[19].contains("s sort (runs)"), "{}", lines[19]);
    }

    #[test]
    fn a_filter_pause_detail_and_cumulative_do_what_the_footer_says() {
        let (registry, mut view) = scripted();
        press(&mut view, KeyCode::Char('/'));
        for c in "web".chars() {
            press(&mut view, KeyCode::Char(c));
        }
        assert!(screen(&view, 140, 20)[19].contains("filter: web"));
        press(&mut view, KeyCode::Enter);
        let lines = screen(&view, 140, 20);
        assert!(row_of(&lines, "db.query").is_none() && row_of(&lines, "web GET /").is_some());
        assert!(lines[19].contains("/ filter (web)"));
        // Enter: the detail pane, with the percentile curve and sparklines.
        press(&mut view, KeyCode::Enter);
        let lines = screen(&view, 140, 24);
        assert!(
            lines.iter().any(|l| l.contains(" web GET / ")),
            "{lines:#?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("p99") && l.contains("5.00 ms")),
            "{lines:#?}"
        );
        assert!(lines
            .iter()
            .any(|l| l.contains("p99 over the last 1 intervals")));
        // p: paused; c: cumulative since the first reading.
        press(&mut view, KeyCode::Char('p'));
        assert!(screen(&view, 140, 20)[0].contains("PAUSED"));
        registry.timer("web GET /").record(Duration::from_millis(5));
        view.update(taken(&registry, 2_000));
        press(&mut view, KeyCode::Char('c'));
        let lines = screen(&view, 140, 20);
        assert!(
            lines[0].contains("since the baseline 2.00 s"),
            "{}",
            lines[0]
        );
        let web = cells_of(
            row_of(&lines, "web GET /").unwrap().1.trim_end(),
            "web GET /",
        );
        assert_eq!(web[1], "2.50", "5 runs in 2 s");
        assert_eq!(press(&mut view, KeyCode::Char('q')), Action::Quit);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(view.key(ctrl_c), Action::Quit);
    }

    #[test]
    #[ignore = "prints a screen to look at: cargo test -p perf-timer-cli --bins show_a_screen -- --ignored --nocapture"]
    fn show_a_screen() {
        let (_, mut view) = scripted();
        press(&mut view, KeyCode::Enter);
        for line in screen(&view, 120, 24) {
            println!("{line}");
        }
    }

    #[test]
    fn a_restart_starts_a_new_baseline() {
        let (_, mut view) = scripted();
        let fresh = perf_timer::Registry::new();
        fresh.timer("db.query");
        view.update(taken(&fresh, 3_000));
        let lines = screen(&view, 140, 20);
        assert!(
            lines[0].contains("the service restarted: a new baseline"),
            "{}",
            lines[0]
        );
        assert!(row_of(&lines, "db.query").is_none(), "no interval yet");
        fresh.timer("db.query").record(Duration::from_micros(7));
        view.update(taken(&fresh, 4_000));
        let lines = screen(&view, 140, 20);
        let db = cells_of(row_of(&lines, "db.query").unwrap().1.trim_end(), "db.query");
        assert_eq!(db[1], "1.00");
    }
}
