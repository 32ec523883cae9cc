//! HTTP content negotiation for the `/metrics` route: which of the media
//! types we serve a client's `Accept` header prefers (RFC 9110, 12.5.1).
//! Types, subtypes and parameter names are compared without regard to
//! case; each media range carries a weight `q` (1 when left out), and
//! `q=0` refuses what it names. A type is weighed by the most specific
//! range that matches it, so `text/plain;q=0, */*` refuses text.

/// A media type we can serve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Offer {
    /// `type/subtype`, lower case.
    pub(crate) essence: &'static str,
    /// Parameters that a range naming them must match (lower-case names).
    pub(crate) params: &'static [(&'static str, &'static str)],
    /// Parameters a range must name to match at all: a type we serve only
    /// to clients that ask for exactly it.
    pub(crate) required: &'static [&'static str],
    /// Whether `*/*` or `type/*` selects it, or only its own name.
    pub(crate) by_wildcard: bool,
}

/// The media ranges of an `Accept` header.
#[derive(Debug)]
pub(crate) struct Accept<'a> {
    /// `None`: no header (or an empty one), which accepts anything.
    ranges: Option<Vec<Range<'a>>>,
}

#[derive(Debug)]
struct Range<'a> {
    kind: &'a str,
    subtype: &'a str,
    params: Vec<(&'a str, &'a str)>,
    q: f64,
}

impl<'a> Accept<'a> {
    pub(crate) fn parse(header: Option<&'a str>) -> Self {
        let header = header.map(str::trim).filter(|h| !h.is_empty());
        Accept {
            ranges: header.map(|h| h.split(',').filter_map(Range::parse).collect()),
        }
    }

    /// How much the client wants `offer`, from 0 (refused, or not asked
    /// for) to 1.
    pub(crate) fn quality(&self, offer: &Offer) -> f64 {
        let Some(ranges) = &self.ranges else {
            return if offer.by_wildcard { 1.0 } else { 0.0 };
        };
        ranges
            .iter()
            .filter_map(|r| r.specificity(offer).map(|s| (s, r.q)))
            // The most specific range decides; among equals, the highest q.
            .max_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
            .map_or(0.0, |(_, q)| q)
    }

    /// Of `offers`, the one the client wants most (the first among equals),
    /// if it accepts any: its index.
    pub(crate) fn best(&self, offers: &[Offer]) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (i, offer) in offers.iter().enumerate() {
            let q = self.quality(offer);
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((i, q));
            }
        }
        best.map(|(i, _)| i)
    }
}

impl<'a> Range<'a> {
    /// One media range, `type/subtype;name=value;q=0.5`; `None` if it is
    /// not one.
    fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.split(';').map(str::trim);
        let (kind, subtype) = parts.next()?.split_once('/')?;
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() || (kind == "*" && subtype != "*") {
            return None;
        }
        let mut q = 1.0;
        let mut params = Vec::new();
        for param in parts.filter(|p| !p.is_empty()) {
            let (name, value) = param.split_once('=')?;
            let (name, value) = (name.trim(), value.trim().trim_matches('"'));
            if name.eq_ignore_ascii_case("q") {
                // A weight that does not parse refuses nothing: 1.
                q = value
                    .parse::<f64>()
                    .ok()
                    .filter(|q| q.is_finite())
                    .map_or(1.0, |q| q.clamp(0.0, 1.0));
            } else {
                params.push((name, value));
            }
        }
        Some(Range {
            kind,
            subtype,
            params,
            q,
        })
    }

    /// How specifically this range names `offer` (more is more specific),
    /// or `None` if it does not.
    fn specificity(&self, offer: &Offer) -> Option<u32> {
        let (kind, subtype) = offer.essence.split_once('/')?;
        let wild_kind = self.kind == "*";
        let wild_subtype = self.subtype == "*";
        if (wild_kind || wild_subtype) && !offer.by_wildcard {
            return None;
        }
        if !wild_kind && !self.kind.eq_ignore_ascii_case(kind) {
            return None;
        }
        if !wild_subtype && !self.subtype.eq_ignore_ascii_case(subtype) {
            return None;
        }
        let named = |name: &str| {
            self.params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|&(_, v)| v)
        };
        if offer.required.iter().any(|name| named(name).is_none()) {
            return None;
        }
        // Parameters we do not define (say `escaping`) neither match nor
        // refuse; those we do must agree.
        let mut matched = 0;
        for &(name, value) in offer.params {
            match named(name) {
                Some(asked) if asked.eq_ignore_ascii_case(value) => matched += 1,
                Some(_) => return None,
                None => {}
            }
        }
        Some(u32::from(!wild_kind) * 1000 + u32::from(!wild_subtype) * 100 + matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: Offer = Offer {
        essence: "text/plain",
        params: &[("version", "0.0.4")],
        required: &[],
        by_wildcard: true,
    };
    const OPEN_METRICS: Offer = Offer {
        essence: "application/openmetrics-text",
        params: &[("version", "1.0.0")],
        required: &[],
        by_wildcard: false,
    };
    const PROTOBUF: Offer = Offer {
        essence: "application/vnd.google.protobuf",
        params: &[
            ("proto", "io.prometheus.client.MetricFamily"),
            ("encoding", "delimited"),
        ],
        required: &["proto", "encoding"],
        by_wildcard: false,
    };
    const ALL: [Offer; 3] = [PROTOBUF, OPEN_METRICS, TEXT];

    fn best(header: Option<&str>) -> Option<&'static str> {
        Accept::parse(header).best(&ALL).map(|i| ALL[i].essence)
    }

    #[test]
    fn the_highest_q_wins_among_what_is_served() {
        assert_eq!(best(None), Some("text/plain"));
        assert_eq!(best(Some("")), Some("text/plain"));
        assert_eq!(best(Some("*/*")), Some("text/plain"));
        // What Prometheus sends with native histograms.
        let prometheus = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        assert_eq!(
            best(Some(prometheus)),
            Some("application/vnd.google.protobuf")
        );
        let open = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        assert_eq!(best(Some(open)), Some("application/openmetrics-text"));
        // Text preferred by weight.
        let text_first = "application/openmetrics-text;q=0.2, text/plain;q=0.9";
        assert_eq!(best(Some(text_first)), Some("text/plain"));
        // Equal weights: ours, in order.
        assert_eq!(
            best(Some("text/plain, application/openmetrics-text")),
            Some("application/openmetrics-text")
        );
    }

    #[test]
    fn q_zero_refuses_even_where_a_wildcard_accepts() {
        assert_eq!(best(Some("text/plain;q=0")), None);
        assert_eq!(best(Some("text/plain;q=0, */*")), None);
        assert_eq!(
            best(Some("text/plain;q=0, application/openmetrics-text;q=0.1")),
            Some("application/openmetrics-text")
        );
        assert_eq!(best(Some("*/*;q=0")), None);
        assert_eq!(best(Some("text/*;q=0, */*;q=1")), None);
        // The protobuf a native-histogram scrape asks for, refused.
        let refused = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0,text/plain;q=0.5";
        assert_eq!(best(Some(refused)), Some("text/plain"));
        // A client that accepts only what we do not serve.
        assert_eq!(best(Some("application/json")), None);
    }

    #[test]
    fn case_is_ignored_in_types_subtypes_and_parameter_names() {
        assert_eq!(
            best(Some("Application/OpenMetrics-Text; Version=1.0.0")),
            Some("application/openmetrics-text")
        );
        assert_eq!(
            best(Some("TEXT/PLAIN;Q=0, application/openmetrics-text;q=0.1")),
            Some("application/openmetrics-text")
        );
        let shouting = "APPLICATION/VND.GOOGLE.PROTOBUF; PROTO=io.prometheus.client.MetricFamily; ENCODING=delimited";
        assert_eq!(
            best(Some(shouting)),
            Some("application/vnd.google.protobuf")
        );
    }

    #[test]
    fn specific_types_are_served_only_when_named_and_parameters_must_agree() {
        // Protobuf needs its proto and encoding named.
        assert_eq!(best(Some("application/vnd.google.protobuf")), None);
        let text_encoding =
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text";
        assert_eq!(best(Some(text_encoding)), None);
        assert_eq!(best(Some("application/*")), None);
        assert_eq!(best(Some("text/*")), Some("text/plain"));
        assert_eq!(best(Some("text/plain;version=9")), None);
        // Junk ranges are skipped, not fatal.
        assert_eq!(
            best(Some("garbage, ;;, text/plain;q=abc")),
            Some("text/plain")
        );
        // The more specific range decides, whatever the order.
        assert_eq!(
            Accept::parse(Some(
                "text/plain;version=0.0.4;q=0.2, text/plain;q=0.9, */*;q=1"
            ))
            .quality(&TEXT),
            0.2
        );
    }
}
