//! `perf-timer top`'s full-screen view (ratatui): the table of the last
//! interval, sorted and filtered at will, a detail pane for the selected
//! timer (its interval's percentile curve, and sparklines of its p99 and
//! runs/s over the last minutes), and the keys in a footer. Only bold and
//! reversed text, no colours of its own: it reads on dark and light
//! terminals alike.
//!
//! Shaped as ratatui's applications are: an [`App`] of private state,
//! [`App::handle_events`] for keys, `impl Widget for &App` to draw. Reads
//! run on a thread of their own ([`Reader`]): keys are answered within a
//! poll (50 ms) whatever the endpoint does.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{
    Block, Borders, Cell, Paragraph, Row as TableRow, Sparkline, StatefulWidget, Table, TableState,
    Widget, Wrap,
};

use super::frame::{self, Row, SortBy, COLUMNS, GAP};
use super::reader::{Answer, Reader};
use super::source::{Source, SourceError};
use super::timeline::{count, Change, Timeline};

/// Lines of the detail pane for where the selected timer's slowest run
/// went.
const SLOWEST_LINES: u16 = 3;

/// How many intervals the sparklines keep: five minutes at one a second.
const HISTORY: usize = 300;

/// How long the key loop waits for a key before it looks for a reading.
const POLL: Duration = Duration::from_millis(50);

/// The smallest screen drawn: below it, one line says so.
pub const MIN_WIDTH: u16 = 24;
pub const MIN_HEIGHT: u16 = 5;

/// The sort keys in the order `s` steps through them.
const SORTS: [SortBy; 10] = [
    SortBy::Busy,
    SortBy::Runs,
    SortBy::P50,
    SortBy::P99,
    SortBy::Max,
    SortBy::InFlight,
    SortBy::Errors,
    SortBy::Slow,
    SortBy::Allocs,
    SortBy::Timer,
];

/// What a key asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    Continue,
    Quit,
}

/// The view: what it shows, and the readings it was computed from.
pub struct App {
    source: String,
    sort: SortBy,
    filter: String,
    editing_filter: bool,
    paused: bool,
    /// Figures since the baseline instead of the last interval.
    cumulative: bool,
    selected: usize,
    detail: bool,
    /// What the heading says beside the figures: restarts, disconnections.
    status: String,
    /// How long the read under way has been waited for.
    waiting: Option<Duration>,
    timeline: Timeline,
    /// p99 (ns) and runs/s per interval, by timer, newest last.
    history: BTreeMap<String, VecDeque<(u64, f64)>>,
    /// An answer that ends the view (not a perf-timer endpoint, …).
    fatal: Option<SourceError>,
}

impl App {
    /// A view of `source` sorted by `sort`; `replay`: its readings come
    /// from a file.
    pub fn new(source: &str, sort: SortBy, replay: bool) -> Self {
        App {
            source: source.to_owned(),
            sort,
            filter: String::new(),
            editing_filter: false,
            paused: false,
            cumulative: false,
            selected: 0,
            detail: false,
            status: "waiting for a first reading".to_owned(),
            waiting: None,
            timeline: Timeline::new(replay),
            history: BTreeMap::new(),
            fatal: None,
        }
    }

    /// What a read answered.
    pub fn answer(&mut self, answer: Answer) {
        self.waiting = None;
        match answer {
            Ok(Some(taken)) => self.update(taken),
            Ok(None) => self.status = "end of the file".to_owned(),
            Err(SourceError::Unreachable { reason, .. }) => {
                self.status = format!("disconnected ({reason}), retrying");
                self.timeline.rebase();
            }
            Err(e) => self.fatal = Some(e),
        }
    }

    /// A new reading: the interval from the last one, or a new baseline.
    pub fn update(&mut self, taken: super::source::Taken) {
        match self.timeline.push(taken) {
            Change::Interval => self.status.clear(),
            Change::SinceStart { restart } => {
                self.history.clear();
                self.status = if restart {
                    "another process: its figures since its start".to_owned()
                } else {
                    String::new()
                };
            }
            Change::Baseline { restart } => {
                self.history.clear();
                self.status = if restart {
                    "the service restarted: a new baseline".to_owned()
                } else {
                    "waiting for a second reading".to_owned()
                };
                return;
            }
        }
        for row in self.timeline.interval_rows() {
            let history = self.history.entry(row.timer.clone()).or_default();
            history.push_back((
                row.p99
                    .map_or(0, |d| d.as_nanos().min(u64::MAX as u128) as u64),
                row.runs_per_second,
            ));
            if history.len() > HISTORY {
                history.pop_front();
            }
        }
    }

    /// Says that a read has been under way this long.
    pub fn waiting(&mut self, for_: Option<Duration>) {
        self.waiting = for_;
    }

    /// Whether reads are paused.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// The rows shown: the last interval's (or, cumulative, since the
    /// baseline), filtered and sorted.
    fn rows(&self) -> Vec<Row> {
        self.timeline
            .frame(self.sort, self.cumulative)
            .rows
            .into_iter()
            .filter(|r| r.timer.contains(self.filter.as_str()))
            .collect()
    }

    /// Waits up to `timeout` for a key and handles it.
    pub fn handle_events(&mut self, timeout: Duration) -> std::io::Result<Action> {
        if event::poll(timeout)? {
            if let Event::Key(key) = event::read()? {
                return Ok(self.handle_key(key));
            }
        }
        Ok(Action::Continue)
    }

    /// Handles one key press.
    pub fn handle_key(&mut self, key: KeyEvent) -> Action {
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
            KeyCode::Char('q') => return Action::Quit,
            // Esc steps back (the detail pane, then a kept filter), never
            // out of the program: `q` and Ctrl-C quit.
            KeyCode::Esc if self.detail => self.detail = false,
            KeyCode::Esc => self.filter.clear(),
            KeyCode::Char('s') => {
                let at = SORTS.iter().position(|&s| s == self.sort).unwrap_or(0);
                self.sort = SORTS[(at + 1) % SORTS.len()];
            }
            KeyCode::Char('/') => self.editing_filter = true,
            KeyCode::Char('p') | KeyCode::Char(' ') => {
                self.paused = !self.paused;
                if !self.paused {
                    // The next interval starts now, not before the pause.
                    self.timeline.rebase();
                    self.status = "resumed: the next interval starts now".to_owned();
                }
            }
            KeyCode::Char('c') => self.cumulative = !self.cumulative,
            KeyCode::Enter => self.detail = !self.detail,
            KeyCode::Down | KeyCode::Char('j') => self.selected = self.selected.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            _ => {}
        }
        Action::Continue
    }

    /// The heading: the parts that fit whole in `columns`, in order.
    fn heading(&self, rows: &[Row], columns: usize) -> String {
        let shown = self.timeline.frame(self.sort, self.cumulative);
        // The source takes at most a third of a narrow line: the figures
        // after it matter more.
        let source = frame::shorten(&frame::shown_name(&self.source), (columns / 3).max(16));
        let mut parts = vec![format!("perf-timer top {source}")];
        if self.timeline.has_frame() {
            let mut figures = shown.heading;
            if self.cumulative {
                if let Some(span) = figures.first_mut() {
                    *span = span.replacen("interval", "since the baseline", 1);
                }
            }
            // The rows shown, after the filter.
            if let Some(timers) = figures.get_mut(1) {
                *timers = count(rows.len(), "timer");
            }
            parts.extend(figures);
        }
        if self.paused {
            parts.push("PAUSED".to_owned());
        }
        if let Some(waited) = self.waiting {
            if waited >= Duration::from_millis(300) {
                parts.push(format!(
                    "waiting {:.1} s for {}",
                    waited.as_secs_f64(),
                    frame::shown_name(&self.source)
                ));
            }
        }
        if !self.status.is_empty() {
            parts.push(self.status.clone());
        }
        fit_parts(&parts, columns)
    }

    fn footer(&self) -> String {
        if self.editing_filter {
            return format!(
                " filter: {}▏  Enter keep  Esc clear",
                frame::shown_name(&self.filter)
            );
        }
        let sort = format!("{:?}", self.sort).to_lowercase();
        format!(
            " q quit  s sort ({sort})  / filter{}  p pause  c {}  Enter detail  ↑↓ select",
            if self.filter.is_empty() {
                String::new()
            } else {
                format!(" ({})", frame::shown_name(&self.filter))
            },
            if self.cumulative {
                "interval"
            } else {
                "cumulative"
            },
        )
    }

    fn render_table(&self, area: Rect, buf: &mut Buffer, rows: &[Row], selected: usize) {
        let cells: Vec<[String; 12]> = rows.iter().map(frame::cells).collect();
        let Some(fit) = frame::fit(&cells, Some(area.width as usize)) else {
            Paragraph::new(fit_parts(
                &["too narrow for the table".to_owned()],
                area.width as usize,
            ))
            .render(area, buf);
            return;
        };
        let line = |i: usize, text: String| {
            let line = Line::from(text);
            // The name left, the numbers right, as in the plain table.
            if i == 0 {
                line
            } else {
                line.alignment(Alignment::Right)
            }
        };
        let body: Vec<TableRow<'_>> = cells
            .iter()
            .map(|cells| {
                TableRow::new(
                    fit.columns
                        .iter()
                        .zip(&fit.widths)
                        .enumerate()
                        .map(|(i, (&c, &w))| Cell::from(line(i, frame::shorten(&cells[c], w)))),
                )
            })
            .collect();
        let header = TableRow::new(
            fit.columns
                .iter()
                .enumerate()
                .map(|(i, &c)| Cell::from(line(i, COLUMNS[c].to_owned()))),
        )
        .style(Style::default().add_modifier(Modifier::BOLD));
        let table = Table::new(
            body,
            fit.widths.iter().map(|&w| Constraint::Length(w as u16)),
        )
        .header(header)
        .column_spacing(GAP as u16)
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED));
        let mut state = TableState::default().with_selected(Some(selected));
        StatefulWidget::render(table, area, buf, &mut state);
    }

    fn render_detail(&self, area: Rect, buf: &mut Buffer, row: &Row, slowest: Option<&str>) {
        let title = frame::shorten(
            &frame::shown_name(&row.timer),
            area.width.saturating_sub(2) as usize,
        );
        let block = Block::default()
            .borders(Borders::TOP)
            .title(format!(" {title} "));
        let inner = block.inner(area);
        block.render(area, buf);
        // Where the slowest run's time went, under the curve and sparklines.
        let [inner, slow] = Layout::vertical([
            Constraint::Min(0),
            Constraint::Length(if slowest.is_some() { SLOWEST_LINES } else { 0 }),
        ])
        .areas(inner);
        if let Some(text) = slowest {
            Paragraph::new(text.to_owned())
                .wrap(Wrap { trim: true })
                .render(slow, buf);
        }
        // The curve's lines are 6 + 1 + 10 columns before their bar:
        // drawn only where they fit whole.
        let curve_width = if inner.width >= 18 {
            inner.width.min(34)
        } else {
            0
        };
        let [curve, sparks] =
            Layout::horizontal([Constraint::Length(curve_width), Constraint::Min(0)]).areas(inner);
        if curve_width > 0 {
            Paragraph::new(self.curve(&row.timer, curve_width as usize)).render(curve, buf);
        }
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
        let label = format!(
            "p99 over the last {}",
            count(series(|p| p.0).len(), "interval")
        );
        Paragraph::new(fit_parts(&[label], sparks.width as usize)).render(p99_label, buf);
        Sparkline::default().data(series(|p| p.0)).render(p99, buf);
        Paragraph::new(fit_parts(&["runs/s".to_owned()], sparks.width as usize))
            .render(runs_label, buf);
        Sparkline::default()
            .data(series(|p| (p.1 * 100.0) as u64))
            .render(runs, buf);
    }

    /// Where `timer`'s slowest kept run went, in words: the one that ended
    /// this interval, else the slowest since the start.
    fn slowest_text(&self, timer: &str) -> Option<String> {
        let (run, this_interval) = self.timeline.slowest(timer)?;
        let when = if this_interval {
            "slowest this interval"
        } else {
            "slowest since start"
        };
        let trace = run
            .trace_id()
            .map(|id| format!(", trace {id}"))
            .unwrap_or_default();
        Some(format!("{when} {run}{trace}"))
    }

    /// The interval's percentile curve of `timer`, a line per quantile.
    fn curve(&self, timer: &str, columns: usize) -> Vec<Line<'static>> {
        if self.timeline.is_buckets() {
            return vec![Line::from(fit_parts(
                &["(bucket bounds only: no curve)".to_owned()],
                columns,
            ))];
        }
        let Some(values) = self.timeline.curve(timer) else {
            return vec![Line::from(fit_parts(
                &["no runs this interval".to_owned()],
                columns,
            ))];
        };
        let top = values
            .last()
            .map_or(1.0, |(_, d)| d.as_secs_f64().max(1e-12));
        let room = columns.saturating_sub(18).min(12) as f64;
        values
            .iter()
            .map(|(q, v)| {
                let bar = "█".repeat(((v.as_secs_f64() / top) * room).round() as usize);
                let label = if *q == 1.0 {
                    "max".to_owned()
                } else {
                    crate::figure::quantile_name(*q)
                };
                Line::from(format!(
                    "{label:>6} {:>10} {bar}",
                    perf_timer::ReportDuration(*v).to_string()
                ))
            })
            .collect()
    }
}

/// `parts` two spaces apart, as many whole parts as fit in `columns`
/// (a part that does not fit is left out, never cut through a number);
/// the first is shortened with `…` if it alone does not fit.
fn fit_parts(parts: &[String], columns: usize) -> String {
    let mut text = String::new();
    for (i, part) in parts.iter().enumerate() {
        let sep = if text.is_empty() { 0 } else { 2 };
        if frame::width(&text) + sep + frame::width(part) <= columns {
            if sep > 0 {
                text.push_str("  ");
            }
            text.push_str(part);
        } else if i == 0 {
            text = frame::shorten(part, columns);
        }
    }
    text
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let say = format!(
                "terminal too small ({}×{}): top needs {MIN_WIDTH}×{MIN_HEIGHT}",
                area.width, area.height
            );
            Paragraph::new(fit_parts(&[say], area.width as usize)).render(area, buf);
            return;
        }
        let rows = self.rows();
        let selected = self.selected.min(rows.len().saturating_sub(1));
        // The detail pane where there is room for it beside the table.
        let detail = self.detail && !rows.is_empty() && area.height >= 16;
        // The selected timer's slowest run, where the pane has room for it.
        let slowest = (detail && area.height >= 16 + SLOWEST_LINES)
            .then(|| self.slowest_text(&rows[selected].timer))
            .flatten();
        let pane_height = match (detail, &slowest) {
            (false, _) => 0,
            (true, None) => 12,
            (true, Some(_)) => 12 + SLOWEST_LINES,
        };
        let [head, table, pane, foot] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(pane_height),
            Constraint::Length(1),
        ])
        .areas(area);
        Paragraph::new(self.heading(&rows, head.width as usize)).render(head, buf);
        self.render_table(table, buf, &rows, selected);
        if detail {
            self.render_detail(pane, buf, &rows[selected], slowest.as_deref());
        }
        Paragraph::new(self.footer())
            .style(Style::default().add_modifier(Modifier::REVERSED))
            .render(foot, buf);
    }
}

/// Runs the full-screen view until `q` (or Ctrl-C).
pub fn run(
    source: Source,
    name: &str,
    interval: Duration,
    sort: SortBy,
) -> Result<(), SourceError> {
    let mut app = App::new(name, sort, !source.is_live());
    let mut reader = Reader::spawn(source);
    let mut terminal = ratatui::init();
    let result = (|| {
        let mut next_read = Instant::now();
        loop {
            if let Some(answer) = reader.answer() {
                app.answer(answer);
                if let Some(fatal) = app.fatal.take() {
                    return Err(fatal);
                }
            }
            if Instant::now() >= next_read && reader.waiting().is_none() {
                // A read that took longer than an interval delays the
                // next, never piles them up.
                next_read = Instant::now().max(next_read) + interval;
                if !app.paused() {
                    reader.ask();
                }
            }
            app.waiting(reader.waiting());
            let _ = terminal.draw(|f| f.render_widget(&app, f.area()));
            if app.handle_events(POLL).unwrap_or(Action::Continue) == Action::Quit {
                return Ok(());
            }
        }
    })();
    ratatui::restore();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::top::source::{Reading, Taken};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn press(app: &mut App, code: KeyCode) -> Action {
        app.handle_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn taken(registry: &perf_timer::Registry, at_ms: u64) -> Taken {
        Taken {
            reading: Reading::Run(registry.snapshot()),
            at: Duration::from_millis(at_ms),
            process: None,
        }
    }

    /// The screen as lines of text, a wide character once (the cell it
    /// hides skipped).
    fn screen(app: &App, width: u16, height: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| f.render_widget(app, f.area())).unwrap();
        let buffer = terminal.backend().buffer().clone();
        (0..height)
            .map(|y| {
                let mut line = String::new();
                let mut x = 0;
                while x < width {
                    let symbol = buffer[(x, y)].symbol();
                    line.push_str(symbol);
                    x += frame::width(symbol).max(1) as u16;
                }
                line
            })
            .collect()
    }

    /// A line's cells: split at two spaces or more.
    fn columns(line: &str) -> Vec<&str> {
        line.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect()
    }

    /// Two timers over two one-second intervals with known runs.
    fn scripted() -> (perf_timer::Registry, App) {
        let registry = perf_timer::Registry::new();
        let (db, web) = (registry.timer("db.query"), registry.timer("web GET /"));
        let mut app = App::new("http://test/metrics", SortBy::Busy, false);
        app.update(taken(&registry, 0));
        for us in 1..=100 {
            db.record(Duration::from_micros(us)); // 100 runs, 5.05 ms busy
        }
        for _ in 0..4 {
            web.record(Duration::from_millis(5)); // 4 runs, 20 ms busy
        }
        app.update(taken(&registry, 1_000));
        (registry, app)
    }

    fn row_of<'a>(lines: &'a [String], timer: &str) -> Option<(usize, Vec<&'a str>)> {
        lines
            .iter()
            .enumerate()
            .find(|(_, l)| l.starts_with(timer))
            .map(|(i, l)| (i, columns(l)))
    }

    #[test]
    fn the_table_shows_the_intervals_rates_and_exact_percentiles_sorted() {
        let (registry, mut app) = scripted();
        let lines = screen(&app, 140, 20);
        assert!(
            lines[0].contains("interval 1.00 s  2 timers"),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("timer"), "{lines:#?}");
        assert!(lines[1].contains("runs/s") && lines[1].contains("p99"));
        let (web_at, web) = row_of(&lines, "web GET /").unwrap();
        let (db_at, db) = row_of(&lines, "db.query").unwrap();
        assert!(web_at < db_at, "by busy: web (20 ms) above db (5.05 ms)");
        assert_eq!(db[1], "100", "{db:?}");
        let p99 = registry.stats("db.query").unwrap().quantile(0.99);
        assert_eq!(db[5], perf_timer::ReportDuration(p99).to_string());
        assert_eq!(web[1], "4.00");
        // `s`: the next sort key, runs: db first.
        press(&mut app, KeyCode::Char('s'));
        assert_eq!(app.sort, SortBy::Runs);
        let lines = screen(&app, 140, 20);
        assert!(row_of(&lines, "db.query").unwrap().0 < row_of(&lines, "web GET /").unwrap().0);
        assert!(lines[19].contains("s sort (runs)"), "{}", lines[19]);
    }

    #[test]
    fn esc_steps_back_and_never_quits() {
        let (_registry, mut app) = scripted();
        press(&mut app, KeyCode::Char('/'));
        press(&mut app, KeyCode::Char('w'));
        press(&mut app, KeyCode::Enter); // the filter kept
        press(&mut app, KeyCode::Enter); // the detail pane
        assert!(app.detail);
        assert!(matches!(press(&mut app, KeyCode::Esc), Action::Continue));
        assert!(!app.detail && app.filter == "w");
        assert!(matches!(press(&mut app, KeyCode::Esc), Action::Continue));
        assert!(app.filter.is_empty());
        assert!(matches!(press(&mut app, KeyCode::Esc), Action::Continue));
        assert!(matches!(press(&mut app, KeyCode::Char('q')), Action::Quit));
    }

    #[test]
    fn a_filter_pause_detail_and_cumulative_do_what_the_footer_says() {
        let (registry, mut app) = scripted();
        press(&mut app, KeyCode::Char('/'));
        for c in "web".chars() {
            press(&mut app, KeyCode::Char(c));
        }
        assert!(screen(&app, 140, 20)[19].contains("filter: web"));
        press(&mut app, KeyCode::Enter);
        let lines = screen(&app, 140, 20);
        assert!(row_of(&lines, "db.query").is_none() && row_of(&lines, "web GET /").is_some());
        assert!(lines[19].contains("/ filter (web)"));
        assert!(lines[0].contains("1 timer "), "{}", lines[0]);
        // Enter: the detail pane, with the percentile curve and sparklines.
        press(&mut app, KeyCode::Enter);
        let lines = screen(&app, 140, 24);
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
            .any(|l| l.contains("p99 over the last 1 interval ")));
        // p: paused; c: cumulative since the first reading.
        press(&mut app, KeyCode::Char('p'));
        assert!(screen(&app, 140, 20)[0].contains("PAUSED"));
        registry.timer("web GET /").record(Duration::from_millis(5));
        app.update(taken(&registry, 2_000));
        press(&mut app, KeyCode::Char('c'));
        let lines = screen(&app, 140, 20);
        assert!(
            lines[0].contains("since the baseline 2.00 s"),
            "{}",
            lines[0]
        );
        assert_eq!(
            row_of(&lines, "web GET /").unwrap().1[1],
            "2.50",
            "5 runs in 2 s"
        );
        assert_eq!(press(&mut app, KeyCode::Char('q')), Action::Quit);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(app.handle_key(ctrl_c), Action::Quit);
    }

    /// The detail pane says where the selected timer's slowest run went:
    /// the one that ended this interval, else the slowest since the start.
    #[test]
    fn the_detail_pane_says_where_the_slowest_run_went() {
        use std::future::Future as _;
        use std::task::{Context, Poll, Waker};
        let (clock, mock) = perf_timer::Clock::mock();
        let registry = perf_timer::Registry::builder()
            .clock(clock)
            .build()
            .unwrap();
        let mut app = App::new("http://test/metrics", SortBy::Busy, false);
        app.update(taken(&registry, 0));
        // "api": 1 ms of its own, "db" 2 ms busy and 5 ms waited on.
        let db = registry.timer("db");
        let mut yielded = false;
        let api = registry.timer("api").time(async {
            mock.advance(Duration::from_millis(1));
            db.time(async {
                mock.advance(Duration::from_millis(2));
                std::future::poll_fn(|_| match std::mem::replace(&mut yielded, true) {
                    true => Poll::Ready(()),
                    false => Poll::Pending,
                })
                .await;
            })
            .await;
        });
        let mut api = std::pin::pin!(api);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(api.as_mut().poll(&mut cx).is_pending());
        mock.advance(Duration::from_millis(5));
        assert!(api.as_mut().poll(&mut cx).is_ready());
        app.update(taken(&registry, 1_000));
        press(&mut app, KeyCode::Char('/'));
        for c in "api".chars() {
            press(&mut app, KeyCode::Char(c));
        }
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Enter); // the detail pane
        let text = screen(&app, 120, 30).join("\n");
        assert!(
            text.contains("slowest this interval 8.00 ms: parked 5.00 ms in db; busy 3.00 ms"),
            "{text}"
        );
        // An interval with no new run: the slowest since the start.
        app.update(taken(&registry, 2_000));
        let text = screen(&app, 120, 30).join("\n");
        assert!(text.contains("slowest since start 8.00 ms"), "{text}");
        // A short terminal keeps the pane without it.
        let text = screen(&app, 120, 17).join("\n");
        assert!(!text.contains("slowest"), "{text}");
    }

    /// After a pause, the next interval starts when the view resumes: its
    /// runs/s counts none of the runs made while paused.
    #[test]
    fn the_interval_after_a_pause_starts_when_the_view_resumes() {
        let (registry, mut app) = scripted();
        press(&mut app, KeyCode::Char('p'));
        let db = registry.timer("db.query");
        for _ in 0..1_000 {
            db.record(Duration::from_micros(3)); // while paused: not shown
        }
        press(&mut app, KeyCode::Char('p'));
        app.update(taken(&registry, 60_000));
        assert!(screen(&app, 140, 20)[0].contains("waiting for a second reading"));
        for _ in 0..10 {
            db.record(Duration::from_micros(3));
        }
        app.update(taken(&registry, 61_000));
        let lines = screen(&app, 140, 20);
        assert!(lines[0].contains("interval 1.00 s"), "{}", lines[0]);
        assert_eq!(row_of(&lines, "db.query").unwrap().1[1], "10.0");
    }

    #[test]
    #[ignore = "prints a screen to look at: cargo test -p perf-timer-cli --bins show_a_screen -- --ignored --nocapture"]
    fn show_a_screen() {
        let (_, mut app) = scripted();
        press(&mut app, KeyCode::Enter);
        for line in screen(&app, 120, 24) {
            println!("{line}");
        }
        let mut app = awkward();
        press(&mut app, KeyCode::Enter);
        for (w, h) in [(80, 24), (40, 12)] {
            for line in screen(&app, w, h) {
                println!("{line}|");
            }
        }
    }

    #[test]
    fn a_restart_starts_a_new_baseline() {
        let (_, mut app) = scripted();
        let fresh = perf_timer::Registry::new();
        fresh.timer("db.query");
        app.update(taken(&fresh, 3_000));
        let lines = screen(&app, 140, 20);
        assert!(
            lines[0].contains("the service restarted: a new baseline"),
            "{}",
            lines[0]
        );
        assert!(row_of(&lines, "db.query").is_none(), "no interval yet");
        fresh.timer("db.query").record(Duration::from_micros(7));
        app.update(taken(&fresh, 4_000));
        let lines = screen(&app, 140, 20);
        assert_eq!(row_of(&lines, "db.query").unwrap().1[1], "1.00");
    }

    /// Names that once moved other rows or cut numbers: a newline, CJK,
    /// an emoji, a long path; figures whose digits were cut from the left
    /// (`28.6 µs`, `106 µs`, `0.00935%`).
    fn awkward() -> App {
        let registry = perf_timer::Registry::new();
        let mut app = App::new("http://test/metrics", SortBy::Timer, false);
        let names = [
            "a\nb",
            "数据库查询",
            "🚀 launch",
            "GET /api/v1/organisations/{org}/projects/{project}/members",
            "zzz",
        ];
        for name in names {
            registry.timer(name);
        }
        app.update(taken(&registry, 0));
        let runs: [(&str, u64, u64); 5] = [
            ("a\nb", 90, 1_000_000),
            ("数据库查询", 7, 28_600),
            ("🚀 launch", 3, 106_000),
            (
                "GET /api/v1/organisations/{org}/projects/{project}/members",
                1,
                93_500,
            ),
            ("zzz", 12, 2_000),
        ];
        for (name, n, ns) in runs {
            for _ in 0..n {
                registry.timer(name).record(Duration::from_nanos(ns));
            }
        }
        app.update(taken(&registry, 1_000));
        app
    }

    /// At each size, every row is where its data puts it and every figure
    /// shown is the whole figure: a column is dropped, never cut.
    #[test]
    fn every_size_shows_whole_numbers_and_rows_in_place() {
        let app = awkward();
        let rows = app.rows();
        assert_eq!(rows.len(), 5);
        for (width, height, least) in [(160, 45, 11), (80, 24, 4), (40, 12, 2)] {
            let lines = screen(&app, width, height);
            let shown = format!("{width}×{height}:\n{}", lines.join("\n"));
            let heads = columns(&lines[1]);
            assert!(heads.len() >= least, "{shown}");
            let at: Vec<usize> = heads
                .iter()
                .map(|h| COLUMNS.iter().position(|c| c == h).expect(&shown))
                .collect();
            assert_eq!(at[..2], [0, 1], "the name and runs/s first\n{shown}");
            for (i, row) in rows.iter().enumerate() {
                let expected = frame::cells(row);
                let line = &lines[2 + i];
                let cells = columns(line);
                assert_eq!(cells.len(), at.len(), "{shown}");
                let name = cells[0];
                assert!(
                    name == expected[0]
                        || (name.ends_with('…')
                            && expected[0].starts_with(name.trim_end_matches('…'))),
                    "row {i}: {name:?} is not {:?}\n{shown}",
                    expected[0]
                );
                for (cell, &c) in cells.iter().zip(&at).skip(1) {
                    assert_eq!(*cell, expected[c], "row {i} column {}\n{shown}", COLUMNS[c]);
                }
                assert!(frame::width(line) <= width as usize, "{shown}");
            }
            // The newline is shown escaped, on its row; "zzz" keeps its own.
            let at_of = |name: &str| 2 + rows.iter().position(|r| r.timer == name).unwrap();
            assert!(lines[at_of("a\nb")].starts_with("a\\nb"), "{shown}");
            let zzz = columns(&lines[at_of("zzz")]);
            assert_eq!(zzz[0], "zzz", "{shown}");
            assert_eq!(zzz[1], "12.0", "{shown}");
        }
        let wide = screen(&app, 160, 45);
        assert!(wide.iter().any(|l| l.contains("28.6 µs")), "{wide:#?}");
        assert!(wide.iter().any(|l| l.contains("106 µs")));
    }

    #[test]
    fn a_screen_too_small_says_so_and_none_draws_nothing() {
        let app = awkward();
        let lines = screen(&app, 20, 3);
        assert!(lines[0].starts_with("terminal too small"), "{lines:?}");
        assert!(screen(&app, 0, 0).is_empty());
        for (w, h) in [(1, 1), (24, 5), (30, 40), (200, 2)] {
            let lines = screen(&app, w, h);
            assert_eq!(lines.len(), h as usize);
        }
    }
}
