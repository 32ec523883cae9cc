//! A distribution as HdrHistogram's V2 compressed form in base64, the
//! interchange form HdrHistogram's implementations read (Java, C, Go,
//! Python's `hdrh`), and back into our buckets.

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use hdrhistogram::Histogram;

use super::SavedError;
use crate::record::Layout;
use crate::Distribution;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `distribution`'s histogram, V2-deflate encoded, in base64.
pub(crate) fn encode(distribution: &Distribution) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(distribution.histogram(), &mut bytes)
        .expect("a histogram of a valid layout encodes into memory");
    BASE64.encode(bytes)
}

/// (counter index, count) of every non-empty bucket of an encoded
/// histogram, in `layout`'s buckets, which must be the histogram's own.
pub(crate) fn decode(text: &str, layout: Layout) -> Result<Vec<(u32, u64)>, SavedError> {
    let bad = |what: String| SavedError::Malformed(format!("a histogram {what}"));
    let bytes = BASE64
        .decode(text)
        .map_err(|e| bad(format!("is not base64 ({e})")))?;
    let histogram: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| bad(format!("does not decode ({e:?})")))?;
    if histogram.low() != layout.lowest || histogram.sigfig() != layout.significant_figures {
        return Err(bad(format!(
            "has a range or precision ({} ns, {} figures) other than its run's ({} ns, {} figures)",
            histogram.low(),
            histogram.sigfig(),
            layout.lowest,
            layout.significant_figures
        )));
    }
    let mut buckets = Vec::new();
    for value in histogram.iter_recorded() {
        let at = value.value_iterated_to();
        if at > layout.highest {
            return Err(bad(format!(
                "holds {at} ns, above its run's range ({} ns)",
                layout.highest
            )));
        }
        buckets.push((layout.index(at) as u32, value.count_at_value()));
    }
    Ok(buckets)
}
