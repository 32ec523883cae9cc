//! One saved run as one JSON line, and back.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::encode::{decode, encode, Decoded};
use super::{LineProblem, RunInfo, SavedError, SavedRun, SCHEMA};
use crate::clock::saturating_nanos;
use crate::read::{Distribution, ProcessTime, Snapshot, Stats};
use crate::record::{Layout, Reading, Totals};

/// Every counter of `Totals`, by its name (the one list `Totals` is
/// declared from, so that no counter is written and not read back).
fn totals_to_json(totals: &Totals) -> Value {
    let mut map = Map::new();
    totals.each(|name, value| {
        // Allocation counters only where counted: a line without them
        // reads them as 0, as a line saved before they existed does.
        if value > 0 || !name.contains("alloc") {
            map.insert(name.to_owned(), Value::from(value));
        }
    });
    Value::Object(map)
}

/// The line of `run`, without its newline. Written timer by timer into
/// the one string, so that saving holds the line and one timer's JSON at a
/// time, never a JSON tree of every timer.
pub(crate) fn to_line(run: &SavedRun) -> String {
    to_line_with(run, encode)
}

/// [`to_line`] with the histograms not deflated: for `perf-timer top`.
pub(crate) fn to_plain_line(run: &SavedRun) -> String {
    to_line_with(run, super::encode::encode_plain)
}

/// The line, each histogram written by `encode`.
fn to_line_with(run: &SavedRun, encode: fn(&Distribution) -> String) -> String {
    let snapshot = &run.snapshot;
    let mut line = head(
        &run.info,
        snapshot_layout(snapshot),
        snapshot.quantiles(),
        snapshot.is_switched_off(),
    );
    for (i, stats) in snapshot.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(&stats_to_json(stats, encode).to_string());
    }
    line.push(']');
    line.push_str(&super::why::paths_field(snapshot.paths()));
    line.push('}');
    line
}

/// A line's beginning, up to its timers' array, opened: the timers
/// follow, comma-separated, then `]}`.
pub(crate) fn head(
    info: &RunInfo,
    layout: Layout,
    quantiles: &[f64],
    switched_off: bool,
) -> String {
    let since_epoch = info.time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let process = info.process.as_ref().map(|p| {
        json!({
            "cpu_ns": saturating_nanos(p.cpu()),
            "wall_ns": saturating_nanos(p.wall()),
            "self_busy_ns": saturating_nanos(p.self_busy()),
        })
    });
    let head = json!({
        "perf_timer": SCHEMA,
        "time": rfc3339(since_epoch),
        "unix_ms": since_epoch.as_millis() as u64,
        "program": info.program,
        "args": info.args,
        "host": info.host,
        "pid": info.pid,
        "version": info.version,
        "labels": info.labels,
        "settings": {
            "clock": info.clock,
            "lowest_ns": layout.lowest,
            "highest_ns": layout.highest,
            "significant_figures": layout.significant_figures,
            "quantiles": quantiles,
            "switched_off": switched_off,
        },
        "process": process,
    });
    let mut line = head.to_string();
    // The object's closing brace gives way to the timers.
    line.pop();
    line.push_str(",\"timers\":[");
    line
}

/// One timer of a line, its histograms not deflated (as
/// [`to_plain_line`] writes them).
#[cfg(feature = "axum")]
pub(crate) fn plain_timer(stats: &Stats) -> String {
    stats_to_json(stats, super::encode::encode_plain).to_string()
}

/// The layout a line of `timers` says: the registry's, or with no timer
/// the default (as a snapshot of none says).
#[cfg(feature = "axum")]
pub(crate) fn layout_of(registry_layout: Layout, timers: usize) -> Layout {
    if timers == 0 {
        crate::record::Layout::default_range()
    } else {
        registry_layout
    }
}

fn stats_to_json(stats: &Stats, encode: fn(&Distribution) -> String) -> Value {
    let scheduled = stats.scheduled();
    let mut timer = json!({
        "name": stats.name(),
        "totals": totals_to_json(stats.totals()),
        "busy": encode(stats.busy()),
        "wall": encode(stats.wall()),
        "scheduled": (scheduled.count() > 0).then(|| json!({
            "total_ns": saturating_nanos(scheduled.total()),
            "histogram": encode(scheduled),
        })),
    });
    if let Some(slowest) = super::why::slowest_to_json(stats.slowest()) {
        timer["slowest"] = slowest;
    }
    // Bytes allocated per run, with a counting allocator installed (its
    // counts and sums are among the totals).
    if let (Some(a), Value::Object(map)) = (stats.allocations_ref(), &mut timer) {
        map.insert("allocated".into(), encode(a.distribution().inner()).into());
    }
    timer
}

/// The layout a snapshot's distributions count in (the default for a
/// snapshot with no timers, which has none to decode).
fn snapshot_layout(snapshot: &Snapshot) -> Layout {
    snapshot
        .iter()
        .next()
        .map(|stats| stats.busy().layout())
        .unwrap_or_else(crate::record::Layout::default_range)
}

/// A line's fields but its timers: who saved the run, when, and how.
pub(crate) struct Header {
    pub(crate) info: RunInfo,
    /// The schema the line was saved in (`perf_timer`).
    pub(crate) schema: u64,
    layout: Layout,
    quantiles: Arc<[f64]>,
    switched_off: bool,
}

/// Every field of a saved line that is read; `T` its timers: skipped
/// unread for a header ([`IgnoredAny`]), read for a run. Fields it does
/// not name (`time`, a newer schema's additions) are skipped.
#[derive(Deserialize)]
struct LineFields<T> {
    perf_timer: u64,
    unix_ms: u64,
    program: String,
    args: Vec<String>,
    host: String,
    pid: u32,
    version: String,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    settings: SettingsFields,
    #[serde(default)]
    process: Option<ProcessFields>,
    timers: T,
    /// Schema 3: the run's nesting paths.
    #[serde(default)]
    paths: Vec<super::why::PathFields>,
}

#[derive(Deserialize)]
struct SettingsFields {
    #[serde(default)]
    clock: Option<String>,
    lowest_ns: u64,
    highest_ns: u64,
    significant_figures: u8,
    quantiles: Vec<f64>,
    #[serde(default)]
    switched_off: bool,
}

#[derive(Deserialize)]
struct ProcessFields {
    cpu_ns: u64,
    wall_ns: u64,
    self_busy_ns: u64,
}

/// One timer of a line, its histograms still encoded (borrowed from the
/// line where they have no escapes, as the ones perf-timer writes).
#[derive(Deserialize)]
struct TimerFields<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    totals: TotalsFields,
    #[serde(borrow)]
    busy: Cow<'a, str>,
    #[serde(borrow)]
    wall: Cow<'a, str>,
    #[serde(default, borrow)]
    scheduled: Option<ScheduledFields<'a>>,
    /// Schema 3: the slowest runs kept, slowest first.
    #[serde(default)]
    slowest: Option<Vec<super::why::SlowRunFields>>,
    /// Absent from runs saved before allocations were counted, and
    /// without a counting allocator.
    #[serde(default, borrow)]
    allocated: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ScheduledFields<'a> {
    total_ns: u64,
    #[serde(borrow)]
    histogram: Cow<'a, str>,
}

/// A timer's counters, read into [`Totals`] by their names (the one list
/// `Totals` is declared from): a counter missing from the line reads as 0,
/// so that a line written before the counter existed still reads; one of
/// the wrong type is an error; one this version does not know is skipped.
struct TotalsFields(Totals);

impl<'de> Deserialize<'de> for TotalsFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Counters;
        impl<'de> serde::de::Visitor<'de> for Counters {
            type Value = TotalsFields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of counters")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<TotalsFields, A::Error> {
                let (mut totals, mut count_seen) = (Totals::default(), false);
                while let Some(name) = map.next_key::<Cow<'de, str>>()? {
                    match &*name {
                        // Schema 1 called the completed runs `runs`.
                        "runs" if !count_seen => totals.count = map.next_value()?,
                        "runs" => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        name => match totals.named_mut(name) {
                            Some(counter) => {
                                *counter = map.next_value()?;
                                count_seen |= name == "count";
                            }
                            None => {
                                map.next_value::<IgnoredAny>()?;
                            }
                        },
                    }
                }
                Ok(TotalsFields(totals))
            }
        }
        deserializer.deserialize_map(Counters)
    }
}

/// `line`'s fields, its timers read as `T`. A line that does not have our
/// shape says where it went wrong (`settings.lowest_ns: invalid type ...`),
/// unless it is not ours or of a newer schema, which say so instead.
fn fields<'a, T: Deserialize<'a>>(line: &'a str) -> Result<LineFields<T>, SavedError> {
    let mut json = serde_json::Deserializer::from_str(line);
    let read = serde_path_to_error::deserialize::<_, LineFields<T>>(&mut json);
    if read.is_ok() {
        // Anything after the object: not one JSON value.
        json.end()
            .map_err(|e| SavedError::from(LineProblem::NotJson(e.to_string())))?;
    }
    match read {
        Ok(fields) if fields.perf_timer > SCHEMA => Err(SavedError::NewerSchema {
            found: fields.perf_timer,
            supported: SCHEMA,
        }),
        Ok(fields) => Ok(fields),
        Err(e) => Err(shape_error(line, e)),
    }
}

/// Why `line` did not read, from the error at `e`'s path: only on the
/// error path is the line parsed again, for its schema field.
fn shape_error(line: &str, e: serde_path_to_error::Error<serde_json::Error>) -> SavedError {
    if !e.inner().is_data() {
        return LineProblem::NotJson(e.inner().to_string()).into();
    }
    // A line whose shape went wrong before its syntax did is still not
    // JSON.
    let value = match serde_json::from_str::<Value>(line) {
        Ok(value) => value,
        Err(e) => return LineProblem::NotJson(e.to_string()).into(),
    };
    match value.get("perf_timer").and_then(Value::as_u64) {
        None => LineProblem::NotOurs.into(),
        Some(found) if found > SCHEMA => SavedError::NewerSchema {
            found,
            supported: SCHEMA,
        },
        Some(_) => {
            let path = e.path().to_string();
            // serde_json's message ends with where in the line: the path
            // says where in the run.
            let message = e.inner().to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m);
            LineProblem::Shape {
                path: if path == "." { String::new() } else { path },
                problem: message.to_owned(),
            }
            .into()
        }
    }
}

/// The header of `line`, its timers skipped unread (no histogram decoded,
/// no timer parsed): what a reader needs to number, pick and filter runs.
pub(crate) fn header_of(line: &str) -> Result<Header, SavedError> {
    header(fields::<IgnoredAny>(line)?).map(|(header, ..)| header)
}

/// The header from a line's fields, checked: its settings make a layout,
/// its quantiles are in 0..=1.
fn header<T>(
    fields: LineFields<T>,
) -> Result<(Header, T, Vec<super::why::PathFields>), SavedError> {
    let settings = fields.settings;
    let layout = Layout::new(
        settings.lowest_ns,
        settings.highest_ns,
        settings.significant_figures,
    )
    .map_err(|e| SavedError::from(LineProblem::Settings(e)))?;
    if settings.quantiles.iter().any(|q| !(0.0..=1.0).contains(q)) {
        return Err(LineProblem::Quantile.into());
    }
    let process = fields.process.map(|p| {
        ProcessTime::from_parts(
            Duration::from_nanos(p.cpu_ns),
            Duration::from_nanos(p.wall_ns),
            Duration::from_nanos(p.self_busy_ns),
        )
    });
    let info = RunInfo {
        time: UNIX_EPOCH + Duration::from_millis(fields.unix_ms),
        program: fields.program,
        args: fields.args,
        host: fields.host,
        pid: fields.pid,
        version: fields.version,
        labels: fields.labels.unwrap_or_default(),
        clock: settings.clock,
        process,
    };
    let header = Header {
        info,
        schema: fields.perf_timer,
        layout,
        quantiles: settings.quantiles.into(),
        switched_off: settings.switched_off,
    };
    Ok((header, fields.timers, fields.paths))
}

/// The run of `line`: every timer, or only those named in `only`.
pub(crate) fn from_line(line: &str, only: Option<&[&str]>) -> Result<SavedRun, SavedError> {
    let (
        Header {
            info,
            layout,
            quantiles,
            switched_off,
            ..
        },
        timers,
        paths,
    ) = header(fields::<Vec<TimerFields<'_>>>(line)?)?;
    // Every histogram first: the run's layout must hold the last bucket of
    // any of them (a run at the top of the range, a clamped one, a wall
    // time beyond it, or a line merged from a wider range).
    let mut parsed = Vec::new();
    let mut last = None;
    for timer in timers {
        if only.is_some_and(|only| !only.contains(&&*timer.name)) {
            continue;
        }
        let timer = parse_timer(timer, &layout)?;
        last = last.max(timer.last());
        parsed.push(timer);
    }
    let layout = match last {
        Some(last) if last as usize >= layout.len() => {
            let highest = layout.highest.max(layout.highest_value(last as usize));
            Layout::new(layout.lowest, highest, layout.significant_figures)
                .map_err(|e| SavedError::from(LineProblem::Settings(e)))?
        }
        _ => layout,
    };
    let mut timers = Vec::with_capacity(parsed.len());
    for timer in parsed {
        timers.push(timer.into_stats(layout, quantiles.clone()));
    }
    timers.sort_unstable_by(|a, b| a.name().cmp(b.name()));
    if timers.windows(2).any(|w| w[0].name() == w[1].name()) {
        return Err(LineProblem::TimerTwice.into());
    }
    let paths = paths.into_iter().map(Into::into).collect();
    Ok(SavedRun {
        info,
        snapshot: Snapshot::new(timers, quantiles, switched_off).with_paths(paths),
    })
}

/// One timer of a line, its histograms decoded.
struct ParsedTimer<'a> {
    name: Cow<'a, str>,
    totals: Totals,
    busy: Decoded,
    wall: Decoded,
    scheduled: Option<(Decoded, u64)>,
    slowest: Vec<super::why::SlowRunFields>,
    allocated: Option<Decoded>,
}

fn parse_timer<'a>(timer: TimerFields<'a>, layout: &Layout) -> Result<ParsedTimer<'a>, SavedError> {
    let in_timer = |problem: LineProblem| SavedError::Malformed {
        timer: Some(timer.name.clone().into_owned()),
        problem,
    };
    let histogram_in = |text: &str, layout: &Layout| -> Result<Decoded, SavedError> {
        let decoded = decode(text).map_err(|e| match e {
            SavedError::Malformed { problem, .. } => in_timer(problem),
            other => other,
        })?;
        if !decoded.counts_in(layout) {
            return Err(in_timer(LineProblem::HistogramLayout {
                found_lowest: decoded.lowest,
                found_figures: decoded.significant_figures,
                lowest: layout.lowest,
                figures: layout.significant_figures,
            }));
        }
        Ok(decoded)
    };
    let histogram = |text: &str| histogram_in(text, layout);
    let totals = timer.totals.0;
    let allocated = match &timer.allocated {
        None => None,
        Some(text) => Some(histogram_in(text, crate::record::allocated_bytes())?),
    };
    if let Some(allocated) = &allocated {
        let counted = (allocated.buckets.iter()).fold(0_u64, |n, b| n.saturating_add(b.1));
        if counted != totals.alloc_runs {
            return Err(in_timer(LineProblem::AllocatedRunsDisagree {
                counted,
                runs: totals.alloc_runs,
            }));
        }
    }
    let busy = histogram(&timer.busy)?;
    let wall = histogram(&timer.wall)?;
    let scheduled = match &timer.scheduled {
        None => None,
        Some(s) => Some((histogram(&s.histogram)?, s.total_ns)),
    };
    let counted = busy
        .buckets
        .iter()
        .fold(0_u64, |n, b| n.saturating_add(b.1));
    if counted != totals.count {
        return Err(in_timer(LineProblem::RunsDisagree {
            counted,
            runs: totals.count,
        }));
    }
    Ok(ParsedTimer {
        name: timer.name,
        totals,
        busy,
        wall,
        scheduled,
        slowest: timer.slowest.unwrap_or_default(),
        allocated,
    })
}

impl ParsedTimer<'_> {
    /// The last non-empty bucket of any of its histograms.
    fn last(&self) -> Option<u32> {
        let scheduled = self.scheduled.as_ref().and_then(|s| s.0.last());
        self.busy.last().max(self.wall.last()).max(scheduled)
    }

    fn into_stats(self, layout: Layout, quantiles: Arc<[f64]>) -> Stats {
        let (scheduled, scheduled_nanos) = match self.scheduled {
            Some((decoded, total)) => (decoded.buckets, total),
            None => (Vec::new(), 0),
        };
        let reading = Reading {
            totals: self.totals,
            busy: self.busy.buckets,
            wall: self.wall.buckets,
            scheduled,
            scheduled_nanos,
            allocations_counted: self.allocated.is_some(),
            allocated: self.allocated.map_or_else(Vec::new, |a| a.buckets),
        };
        Stats::from_reading(&self.name, reading, layout, quantiles)
            .with_slowest(self.slowest.into_iter().map(Into::into).collect())
    }
}

/// `2026-11-29T23:59:01.123Z`: UTC, to the millisecond.
pub(crate) fn rfc3339(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since_epoch.subsec_millis()
    )
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil_dates() {
        assert_eq!(rfc3339(Duration::ZERO), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339(Duration::from_millis(1_796_083_141_123)),
            "2026-11-30T23:59:01.123Z"
        );
        assert_eq!(
            rfc3339(Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
    }
}
