//! A kept run as read: its parts named, its times in nanoseconds, its
//! trace id asked for. The cold path of a run entering the slowest.

use std::sync::Arc;

use crate::poll::parts::{Parts, OTHER_PART};
use crate::read::{Part, SlowRun};
use crate::state::timer::TimerCore;

/// The name of a part whose path cannot be named (not expected: a run
/// holds the table its paths are in).
const ELSEWHERE: &str = "(another registry)";

/// A completed run of `core` of `wall` and `busy` nanoseconds with its
/// `parts`, as kept.
pub(crate) fn slow_run(
    core: &TimerCore,
    wall: u64,
    busy: u64,
    parts: Option<&Parts>,
    error: bool,
) -> SlowRun {
    let clock = core.clock();
    let mut named = Vec::new();
    if let Some(parts) = parts {
        let paths = parts.paths(&core.settings.paths);
        for slot in parts.slots() {
            let name: Arc<str> = if slot.timer.is_null() {
                OTHER_PART.into()
            } else if let Some(paths) = paths {
                paths.name(slot.path).unwrap_or_else(|| ELSEWHERE.into())
            } else {
                ELSEWHERE.into()
            };
            named.push(Part {
                name,
                busy: slot.busy,
                idle: clock.ticks_to_nanos(slot.idle),
                runs: u64::from(slot.runs),
            });
        }
    }
    let nested = named.iter().fold(0_u64, |a, p| a.saturating_add(p.busy));
    let parked = named.iter().fold(0_u64, |a, p| a.saturating_add(p.idle));
    SlowRun {
        wall,
        busy,
        self_time: busy.saturating_sub(nested),
        idle_untimed: wall.saturating_sub(busy).saturating_sub(parked),
        parts: named,
        ended: std::time::SystemTime::now(),
        trace_id: trace_id(core),
        error,
    }
}

/// The kept run's trace id from the registry's source, if it has one. A
/// source that panics gives none: the run it was asked for is the user's,
/// and must end as it would have without us (the panic hook still says
/// what happened).
fn trace_id(core: &TimerCore) -> Option<String> {
    let source = core.settings.trace_ids.as_ref()?;
    // A source that times something itself: the runs it keeps get no id
    // (asking again would recurse without end).
    thread_local!(static ASKING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if ASKING
        .try_with(|asking| asking.replace(true))
        .unwrap_or(true)
    {
        return None;
    }
    let id = std::panic::catch_unwind(|| (source.0)()).unwrap_or(None);
    let _ = ASKING.try_with(|asking| asking.set(false));
    id
}
