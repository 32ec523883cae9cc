//! One saved run as one JSON line, and back.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

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
        map.insert(name.to_owned(), Value::from(value));
    });
    Value::Object(map)
}

/// A counter missing from the line reads as 0, so that a line written
/// before the counter existed still reads; one of the wrong type is an
/// error.
fn totals_from_json(value: &Value) -> Result<Totals, SavedError> {
    let mut totals = Totals::default();
    for &name in Totals::NAMES {
        // Schema 1 called the completed runs `runs`.
        let name = match name {
            "count" if value.get("count").is_none() => "runs",
            name => name,
        };
        if value.get(name).is_some() {
            let read = u64_field(value, name)?;
            let counter = if name == "runs" { "count" } else { name };
            if let Some(counter) = totals.named_mut(counter) {
                *counter = read;
            }
        }
    }
    Ok(totals)
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
    let info = &run.info;
    let snapshot = &run.snapshot;
    let layout = snapshot_layout(snapshot);
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
            "quantiles": snapshot.quantiles(),
            "switched_off": snapshot.is_switched_off(),
        },
        "process": process,
    });
    let mut line = head.to_string();
    // The object's closing brace gives way to the timers.
    line.pop();
    line.push_str(",\"timers\":[");
    for (i, stats) in snapshot.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(&stats_to_json(stats, encode).to_string());
    }
    line.push_str("]}");
    line
}

fn stats_to_json(stats: &Stats, encode: fn(&Distribution) -> String) -> Value {
    let scheduled = stats.scheduled();
    json!({
        "name": stats.name(),
        "totals": totals_to_json(stats.totals()),
        "busy": encode(stats.busy()),
        "wall": encode(stats.wall()),
        "scheduled": (scheduled.count() > 0).then(|| json!({
            "total_ns": saturating_nanos(scheduled.total()),
            "histogram": encode(scheduled),
        })),
    })
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
    layout: Layout,
    quantiles: Arc<[f64]>,
    switched_off: bool,
}

/// The header of `line`, its timers skipped unread (no histogram decoded,
/// no JSON tree of them built): what a reader needs to number, pick and
/// filter runs.
pub(crate) fn header_of(line: &str) -> Result<Header, SavedError> {
    let fields: HeaderFields = serde_json::from_str(line)
        .map_err(|e| SavedError::from(LineProblem::NotJson(e.to_string())))?;
    let header = header(&fields.0)?;
    if fields.1 {
        return Err(malformed("timers"));
    }
    Ok(header)
}

/// Every field of a line but `timers` (skipped as it is read), and whether
/// the line had no `timers` at all.
struct HeaderFields(Map<String, Value>, bool);

impl<'de> serde::Deserialize<'de> for HeaderFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = HeaderFields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<HeaderFields, A::Error> {
                let (mut fields, mut timers) = (Map::new(), false);
                while let Some(key) = map.next_key::<String>()? {
                    if key == "timers" {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        timers = true;
                    } else {
                        let value: Value = map.next_value()?;
                        fields.insert(key, value);
                    }
                }
                Ok(HeaderFields(fields, !timers))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// The header from a line's fields (`timers` among them or not).
fn header(value: &Map<String, Value>) -> Result<Header, SavedError> {
    let Some(schema) = value.get("perf_timer").and_then(Value::as_u64) else {
        return Err(LineProblem::NotOurs.into());
    };
    if schema > SCHEMA {
        return Err(SavedError::NewerSchema {
            found: schema,
            supported: SCHEMA,
        });
    }
    let top = |name: &str| value.get(name).ok_or_else(|| malformed(name));
    let top_u64 = |name: &str| top(name)?.as_u64().ok_or_else(|| malformed(name));
    let top_str = |name: &str| top(name)?.as_str().ok_or_else(|| malformed(name));
    let settings = top("settings")?;
    let layout = Layout::new(
        u64_field(settings, "lowest_ns")?,
        u64_field(settings, "highest_ns")?,
        u8::try_from(u64_field(settings, "significant_figures")?)
            .map_err(|_| malformed("significant_figures"))?,
    )
    .map_err(|e| SavedError::from(LineProblem::Settings(e)))?;
    let quantiles: Arc<[f64]> = array_field(settings, "quantiles")?
        .iter()
        .map(|q| {
            q.as_f64()
                .filter(|q| (0.0..=1.0).contains(q))
                .ok_or_else(|| SavedError::from(LineProblem::Quantile))
        })
        .collect::<Result<_, _>>()?;
    let switched_off = settings
        .get("switched_off")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let process = match value.get("process") {
        None | Some(Value::Null) => None,
        Some(p) => Some(ProcessTime::from_parts(
            Duration::from_nanos(u64_field(p, "cpu_ns")?),
            Duration::from_nanos(u64_field(p, "wall_ns")?),
            Duration::from_nanos(u64_field(p, "self_busy_ns")?),
        )),
    };
    let labels: BTreeMap<String, String> = match value.get("labels") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                Ok((
                    k.clone(),
                    v.as_str().ok_or_else(|| malformed("labels"))?.to_owned(),
                ))
            })
            .collect::<Result<_, SavedError>>()?,
        Some(_) => return Err(malformed("labels")),
    };
    let info = RunInfo {
        time: UNIX_EPOCH + Duration::from_millis(top_u64("unix_ms")?),
        program: top_str("program")?.to_owned(),
        args: (top("args")?.as_array().ok_or_else(|| malformed("args"))?)
            .iter()
            .map(|a| {
                a.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| malformed("args"))
            })
            .collect::<Result<_, _>>()?,
        host: top_str("host")?.to_owned(),
        pid: u32::try_from(top_u64("pid")?).map_err(|_| malformed("pid"))?,
        version: top_str("version")?.to_owned(),
        labels,
        clock: settings
            .get("clock")
            .and_then(Value::as_str)
            .map(str::to_owned),
        process,
    };
    Ok(Header {
        info,
        layout,
        quantiles,
        switched_off,
    })
}

/// The run of `line`: every timer, or only those named in `only`.
pub(crate) fn from_line(line: &str, only: Option<&[&str]>) -> Result<SavedRun, SavedError> {
    let value: Value = serde_json::from_str(line)
        .map_err(|e| SavedError::from(LineProblem::NotJson(e.to_string())))?;
    let Value::Object(fields) = &value else {
        return Err(LineProblem::NotOurs.into());
    };
    let Header {
        info,
        layout,
        quantiles,
        switched_off,
    } = header(fields)?;
    // Every histogram first: the run's layout must hold the last bucket of
    // any of them (a run at the top of the range, a clamped one, a wall
    // time beyond it, or a line merged from a wider range).
    let mut parsed = Vec::new();
    let mut last = None;
    for timer in array_field(&value, "timers")? {
        if let Some(only) = only {
            let name = str_field(timer, "name")?;
            if !only.contains(&name) {
                continue;
            }
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
    Ok(SavedRun {
        info,
        snapshot: Snapshot::new(timers, quantiles, switched_off),
    })
}

/// One timer of a line, its histograms decoded.
struct ParsedTimer<'a> {
    name: &'a str,
    totals: Totals,
    busy: Decoded,
    wall: Decoded,
    scheduled: Option<(Decoded, u64)>,
}

fn parse_timer<'a>(value: &'a Value, layout: &Layout) -> Result<ParsedTimer<'a>, SavedError> {
    let name = str_field(value, "name")?;
    let in_timer = |e: SavedError| match e {
        SavedError::Malformed {
            timer: None,
            problem,
        } => SavedError::Malformed {
            timer: Some(name.to_owned()),
            problem,
        },
        other => other,
    };
    let histogram = |text: &str| -> Result<Decoded, SavedError> {
        let decoded = decode(text).map_err(in_timer)?;
        if !decoded.counts_in(layout) {
            return Err(in_timer(
                LineProblem::HistogramLayout {
                    found_lowest: decoded.lowest,
                    found_figures: decoded.significant_figures,
                    lowest: layout.lowest,
                    figures: layout.significant_figures,
                }
                .into(),
            ));
        }
        Ok(decoded)
    };
    let totals = totals_from_json(field(value, "totals")?).map_err(in_timer)?;
    let busy = histogram(str_field(value, "busy")?)?;
    let wall = histogram(str_field(value, "wall")?)?;
    let scheduled = match value.get("scheduled") {
        None | Some(Value::Null) => None,
        Some(s) => Some((
            histogram(str_field(s, "histogram")?)?,
            u64_field(s, "total_ns")?,
        )),
    };
    let counted = busy
        .buckets
        .iter()
        .fold(0_u64, |n, b| n.saturating_add(b.1));
    if counted != totals.count {
        return Err(in_timer(
            LineProblem::RunsDisagree {
                counted,
                runs: totals.count,
            }
            .into(),
        ));
    }
    Ok(ParsedTimer {
        name,
        totals,
        busy,
        wall,
        scheduled,
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
        };
        Stats::from_reading(self.name, reading, layout, quantiles)
    }
}

fn malformed(what: &str) -> SavedError {
    LineProblem::Field(what.to_owned()).into()
}

fn field<'a>(value: &'a Value, name: &str) -> Result<&'a Value, SavedError> {
    value.get(name).ok_or_else(|| malformed(name))
}

fn u64_field(value: &Value, name: &str) -> Result<u64, SavedError> {
    field(value, name)?.as_u64().ok_or_else(|| malformed(name))
}

fn str_field<'a>(value: &'a Value, name: &str) -> Result<&'a str, SavedError> {
    field(value, name)?.as_str().ok_or_else(|| malformed(name))
}

fn array_field<'a>(value: &'a Value, name: &str) -> Result<&'a Vec<Value>, SavedError> {
    field(value, name)?
        .as_array()
        .ok_or_else(|| malformed(name))
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
