//! The encodings a [`Prometheus`] format is written in, their media types,
//! and which of them a scraper gets: content negotiation over the offers
//! (the `Accept` header itself is parsed in `export/accept.rs`).

use super::Prometheus;
use crate::export::accept::{Accept, Offer};

/// What [`Prometheus::encode`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    /// Prometheus' text format 0.0.4.
    Text,
    /// OpenMetrics text 1.0.0.
    OpenMetrics,
    /// Prometheus' protobuf format: length-delimited `MetricFamily`
    /// messages, busy and wall time as native histograms. Only with the
    /// native shape.
    Protobuf,
}

/// The media type of Prometheus' text format 0.0.4.
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The media type of OpenMetrics text 1.0.0.
const OPEN_METRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The media type of Prometheus' protobuf format: length-delimited
/// `MetricFamily` messages.
const PROTOBUF: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// [`TEXT`], [`OPEN_METRICS`] and [`PROTOBUF`] as content negotiation
/// weighs them: text for any client (`*/*`), the others only for one
/// that names them.
const TEXT_OFFER: Offer = Offer {
    essence: "text/plain",
    params: &[("version", "0.0.4"), ("charset", "utf-8")],
    required: &[],
    by_wildcard: true,
};
const OPEN_METRICS_OFFER: Offer = Offer {
    essence: "application/openmetrics-text",
    params: &[("version", "1.0.0"), ("charset", "utf-8")],
    required: &[],
    by_wildcard: false,
};
const PROTOBUF_OFFER: Offer = Offer {
    essence: "application/vnd.google.protobuf",
    params: &[
        ("proto", "io.prometheus.client.MetricFamily"),
        ("encoding", "delimited"),
    ],
    required: &["proto", "encoding"],
    by_wildcard: false,
};

impl Encoding {
    /// The media type, for a `Content-Type` header.
    pub(super) fn media_type(self) -> &'static str {
        match self {
            Encoding::Text => TEXT,
            Encoding::OpenMetrics => OPEN_METRICS,
            Encoding::Protobuf => PROTOBUF,
        }
    }

    /// The encoding `offer` stands for: text unless it is protobuf's or
    /// OpenMetrics'.
    fn of(offer: &Offer) -> Self {
        if offer.essence == PROTOBUF_OFFER.essence {
            Encoding::Protobuf
        } else if offer.essence == OPEN_METRICS_OFFER.essence {
            Encoding::OpenMetrics
        } else {
            Encoding::Text
        }
    }
}

impl Prometheus {
    /// The media types this format can be written in, the one preferred
    /// among equally wanted first: protobuf only with native histograms.
    pub(super) fn offers(&self) -> &'static [Offer] {
        if self.shape.is_native() {
            &[PROTOBUF_OFFER, OPEN_METRICS_OFFER, TEXT_OFFER]
        } else {
            &[OPEN_METRICS_OFFER, TEXT_OFFER]
        }
    }

    /// Of this format's [`offers`](Self::offers), the one `accept` weighs
    /// highest; text if it takes none.
    pub(super) fn negotiated(self, accept: Option<&str>) -> Self {
        let offers = self.offers();
        let offer = Accept::parse(accept)
            .best(offers)
            .map_or(TEXT_OFFER, |i| offers[i]);
        self.written_as(&offer)
    }

    /// This format, written as `offer` (one of its [`offers`](Self::offers)).
    pub(super) fn written_as(mut self, offer: &Offer) -> Self {
        self.encoding = Encoding::of(offer);
        self
    }
}
