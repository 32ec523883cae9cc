//! Why runs were slow, in a saved line: each timer's slowest runs with
//! their parts (`"slowest"` of a timer) and the run's nesting paths
//! (`"paths"`, after the timers). Both are left out when empty, and a line
//! without them (schema 2 and older) reads with none.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::clock::saturating_nanos;
use crate::read::{Part, SlowRun};
use crate::state::paths::PathLine;

/// A timer's slowest runs as JSON, `None` when it kept none.
pub(crate) fn slowest_to_json(slowest: &[SlowRun]) -> Option<Value> {
    (!slowest.is_empty()).then(|| {
        Value::Array(
            (slowest.iter())
                .map(|run| {
                    let ended = run.ended.duration_since(UNIX_EPOCH).unwrap_or_default();
                    json!({
                        "wall_ns": run.wall,
                        "busy_ns": run.busy,
                        "self_ns": run.self_time,
                        "idle_untimed_ns": run.idle_untimed,
                        "ended_unix_ns": saturating_nanos(ended),
                        "trace_id": run.trace_id,
                        "error": run.error,
                        "parts": (run.parts.iter())
                            .map(|part| json!({
                                "name": &*part.name,
                                "busy_ns": part.busy,
                                "idle_ns": part.idle,
                                "runs": part.runs,
                            }))
                            .collect::<Vec<_>>(),
                    })
                })
                .collect(),
        )
    })
}

/// The run's nesting paths as the JSON text of the line's `"paths"`
/// field (with its leading comma), empty when it has none.
pub(crate) fn paths_field(paths: &[PathLine]) -> String {
    if paths.is_empty() {
        return String::new();
    }
    let paths: Vec<Value> = (paths.iter())
        .map(|line| {
            json!({
                "path": line.names.iter().map(|n| &**n).collect::<Vec<_>>(),
                "runs": line.runs,
                "self_busy_ns": line.self_busy,
                "parked_ns": line.parked,
            })
        })
        .collect();
    format!(",\"paths\":{}", Value::Array(paths))
}

/// One kept run of a line.
#[derive(Deserialize)]
pub(crate) struct SlowRunFields {
    wall_ns: u64,
    busy_ns: u64,
    self_ns: u64,
    idle_untimed_ns: u64,
    ended_unix_ns: u64,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    error: bool,
    #[serde(default)]
    parts: Vec<PartFields>,
}

#[derive(Deserialize)]
struct PartFields {
    name: String,
    busy_ns: u64,
    idle_ns: u64,
    runs: u64,
}

impl From<SlowRunFields> for SlowRun {
    fn from(run: SlowRunFields) -> SlowRun {
        SlowRun {
            wall: run.wall_ns,
            busy: run.busy_ns,
            self_time: run.self_ns,
            idle_untimed: run.idle_untimed_ns,
            parts: (run.parts.into_iter())
                .map(|part| Part {
                    name: part.name.into(),
                    busy: part.busy_ns,
                    idle: part.idle_ns,
                    runs: part.runs,
                })
                .collect(),
            ended: UNIX_EPOCH + Duration::from_nanos(run.ended_unix_ns),
            trace_id: run.trace_id,
            error: run.error,
        }
    }
}

/// One nesting path of a line.
#[derive(Deserialize)]
pub(crate) struct PathFields {
    path: Vec<String>,
    runs: u64,
    self_busy_ns: u64,
    parked_ns: u64,
}

impl From<PathFields> for PathLine {
    fn from(line: PathFields) -> PathLine {
        PathLine {
            names: line.path.into_iter().map(Arc::from).collect(),
            runs: line.runs,
            self_busy: line.self_busy_ns,
            parked: line.parked_ns,
        }
    }
}
