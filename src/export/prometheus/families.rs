//! What both writers write, in order: busy and wall time (whose family
//! depends on the shape, so each writer lays them out), then the
//! [`COMMON`] families, each a figure of the figure table with a timer's
//! samples in it.

use crate::figures::{self, figure, Id, OUTCOMES};
use crate::read::Stats;

/// A metric family's type; the text writer names it, the protobuf writer
/// numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Counter,
    Gauge,
    Summary,
    Histogram,
}

impl From<figures::Kind> for Kind {
    fn from(kind: figures::Kind) -> Self {
        match kind {
            figures::Kind::Counter => Kind::Counter,
            figures::Kind::Gauge => Kind::Gauge,
            figures::Kind::Histogram => Kind::Histogram,
        }
    }
}

/// A figure whose samples do not depend on the shape or the format: its
/// name, kind and help are the figure table's.
pub(super) struct Family {
    id: Id,
    pub(super) samples: Samples,
}

impl Family {
    pub(super) fn suffix(&self) -> &'static str {
        figure(self.id).prometheus
    }

    pub(super) fn kind(&self) -> Kind {
        figure(self.id).kind.into()
    }

    pub(super) fn help(&self) -> &'static str {
        figure(self.id).help
    }
}

/// Calls `emit` with each of a timer's samples in a family: its extra
/// label (name, value), if any, and its value. One table for the text and
/// the protobuf writers.
pub(super) type Samples = fn(&Stats, &mut dyn FnMut(Option<(&'static str, &'static str)>, f64));

/// The figures after busy and wall time, in the figure table's order.
pub(super) const COMMON: [Family; 13] = [
    Family {
        id: Id::Idle,
        samples: |s, emit| emit(None, secs(s.idle().total())),
    },
    Family {
        id: Id::Polls,
        samples: |s, emit| emit(None, s.polls() as f64),
    },
    Family {
        id: Id::Runs,
        samples: |s, emit| {
            let counts = [s.count(), s.cancelled(), s.panicked(), s.errors()];
            for (outcome, n) in OUTCOMES.into_iter().zip(counts) {
                emit(Some(("outcome", outcome)), n as f64);
            }
        },
    },
    Family {
        id: Id::SlowPolls,
        samples: |s, emit| emit(None, s.slow_polls() as f64),
    },
    Family {
        id: Id::BlockedPolls,
        samples: |s, emit| emit(None, s.blocked_polls() as f64),
    },
    Family {
        id: Id::Clamped,
        samples: |s, emit| emit(None, s.clamped() as f64),
    },
    Family {
        id: Id::LongestPoll,
        samples: |s, emit| {
            // Always known in a snapshot since the start.
            if let Some(longest) = s.longest_poll() {
                emit(None, secs(longest));
            }
        },
    },
    Family {
        id: Id::PollTime,
        samples: |s, emit| emit(None, secs(s.poll_total())),
    },
    Family {
        id: Id::InFlight,
        samples: |s, emit| emit(None, s.in_flight() as f64),
    },
    Family {
        id: Id::Bytes,
        samples: |s, emit| emit(None, s.bytes() as f64),
    },
    Family {
        id: Id::CpuShare,
        samples: |s, emit| {
            if let Some(share) = s.cpu_share() {
                emit(None, share);
            }
        },
    },
    Family {
        id: Id::Allocations,
        samples: |s, emit| {
            if let Some(allocations) = s.allocations_ref() {
                emit(None, allocations.count() as f64);
            }
        },
    },
    Family {
        id: Id::AllocatedBytes,
        samples: |s, emit| {
            if let Some(allocations) = s.allocations_ref() {
                emit(None, allocations.bytes() as f64);
            }
        },
    },
];

/// Durations are written in seconds.
pub(super) fn secs(d: std::time::Duration) -> f64 {
    d.as_secs_f64()
}
