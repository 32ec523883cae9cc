//! A distribution as HdrHistogram's V2 compressed form in base64, the
//! interchange form HdrHistogram's implementations read (Java, C, Go,
//! Python's `hdrh`), written from and read into sparse buckets: (counter
//! index, count) of the non-empty buckets only, never a dense counts array,
//! so that saving or reading a timer costs what its runs hold, not a full
//! histogram sized to its largest value.
//!
//! The form: a 4-byte cookie and a 4-byte length, then the zlib-deflated V2
//! form, which is a 40-byte header (cookie, payload length, normalizing
//! offset 0, significant figures, lowest, highest, integer-to-double ratio
//! 1.0) and the counts from index 0 to the last non-empty one as zig-zag
//! LEB128 varints, a run of two or more empty buckets as one negative
//! number. A test checks the bytes against the `hdrhistogram` crate's own
//! encoder.

use std::io::Write as _;

use base64::Engine as _;
use flate2::write::ZlibEncoder;
use flate2::Compression;

use super::{LineProblem, SavedError};
use crate::read::Distribution;
use crate::record::Layout;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const V2_COOKIE: u32 = 0x1c84_9303 | 0x10;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9304 | 0x10;
const HEADER: usize = 40;

/// `distribution`'s buckets, V2-deflate encoded, in base64.
pub(crate) fn encode(distribution: &Distribution) -> String {
    encode_buckets(distribution.layout(), distribution.buckets())
}

/// `distribution`'s buckets, V2 encoded without deflating, in base64: for
/// a line read at once over a network (`perf-timer top`), where deflate
/// would cost the service most of the work (the V2 form, varint counts,
/// is compact already). Every reader of ours reads both.
pub(crate) fn encode_plain(distribution: &Distribution) -> String {
    BASE64.encode(v2_of(distribution.layout(), distribution.buckets()))
}

/// `buckets` (by index, in `layout`'s counters), V2-deflate encoded, in
/// base64. The header's highest value covers the last bucket, so a value
/// at the top of the range or clamped to it reads back in any
/// implementation.
pub(crate) fn encode_buckets(layout: Layout, buckets: impl Iterator<Item = (u32, u64)>) -> String {
    let v2 = v2_of(layout, buckets);
    let mut compressed = Vec::with_capacity(8 + v2.len() / 2);
    compressed.extend_from_slice(&V2_COMPRESSED_COOKIE.to_be_bytes());
    compressed.extend_from_slice(&0_u32.to_be_bytes());
    let mut zlib = ZlibEncoder::new(compressed, Compression::default());
    zlib.write_all(&v2).expect("writing into memory");
    let mut compressed = zlib.finish().expect("writing into memory");
    let length = (compressed.len() - 8) as u32;
    compressed[4..8].copy_from_slice(&length.to_be_bytes());
    BASE64.encode(compressed)
}

/// The uncompressed V2 form of `buckets`.
fn v2_of(layout: Layout, buckets: impl Iterator<Item = (u32, u64)>) -> Vec<u8> {
    let mut counts = Vec::new();
    let mut next = 0_u64; // the index the next varint stands for
    let mut last = None;
    for (index, count) in buckets.filter(|b| b.1 > 0) {
        let gap = u64::from(index) - next;
        match gap {
            0 => {}
            // One empty bucket is a literal 0, as HdrHistogram writes it.
            1 => varint(&mut counts, 0),
            _ => varint(&mut counts, zig_zag(-(gap.min(i64::MAX as u64) as i64))),
        }
        // Counts above i64::MAX cannot be zig-zag encoded: saturate.
        varint(&mut counts, zig_zag(count.min(i64::MAX as u64) as i64));
        next = u64::from(index) + 1;
        last = Some(index);
    }
    if last.is_none() {
        varint(&mut counts, 0); // an empty histogram: one empty bucket
    }
    let highest = last.map_or(layout.highest, |i| {
        layout.highest.max(layout.highest_value(i as usize))
    });
    let mut v2 = Vec::with_capacity(HEADER + counts.len());
    v2.extend_from_slice(&V2_COOKIE.to_be_bytes());
    v2.extend_from_slice(&(counts.len() as u32).to_be_bytes());
    v2.extend_from_slice(&0_u32.to_be_bytes()); // normalizing index offset
    v2.extend_from_slice(&u32::from(layout.significant_figures).to_be_bytes());
    v2.extend_from_slice(&layout.lowest.to_be_bytes());
    v2.extend_from_slice(&highest.to_be_bytes());
    v2.extend_from_slice(&1.0_f64.to_be_bytes()); // integer to double ratio
    v2.extend_from_slice(&counts);
    v2
}

/// An encoded histogram, read back.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) lowest: u64,
    pub(crate) significant_figures: u8,
    /// (counter index, count) of every non-empty bucket, by index.
    pub(crate) buckets: Vec<(u32, u64)>,
}

impl Decoded {
    /// Whether its buckets are `layout`'s: the same lowest value and
    /// precision (the highest only says how many counters there are).
    pub(crate) fn counts_in(&self, layout: &Layout) -> bool {
        self.lowest == layout.lowest && self.significant_figures == layout.significant_figures
    }

    /// The last non-empty bucket.
    pub(crate) fn last(&self) -> Option<u32> {
        self.buckets.last().map(|b| b.0)
    }
}

/// Reads an encoded histogram (V2, deflated or not, in base64) into its
/// non-empty buckets, without a dense counts array.
pub(crate) fn decode(text: &str) -> Result<Decoded, SavedError> {
    let bad = |what: String| SavedError::from(LineProblem::Histogram(what));
    let bytes = BASE64
        .decode(text)
        .map_err(|e| bad(format!("is not base64 ({e})")))?;
    let cookie = be_u32(&bytes, 0).ok_or_else(|| bad("is cut short".into()))?;
    let inflated;
    let v2: &[u8] = match cookie {
        V2_COMPRESSED_COOKIE => {
            inflated = inflate(bytes.get(8..).unwrap_or_default())
                .map_err(|e| bad(format!("does not inflate ({e})")))?;
            &inflated
        }
        V2_COOKIE => &bytes,
        other => return Err(bad(format!("has an unknown cookie {other:#x}"))),
    };
    if be_u32(v2, 0) != Some(V2_COOKIE) || v2.len() < HEADER {
        return Err(bad("is not HdrHistogram's V2 form".into()));
    }
    let length = be_u32(v2, 4).unwrap_or(0) as usize;
    let offset = be_u32(v2, 8).unwrap_or(0);
    let figures = be_u32(v2, 12).unwrap_or(0);
    let lowest = be_u64(v2, 16).unwrap_or(0);
    if offset != 0 {
        return Err(bad(
            "has a normalizing offset, which perf-timer never writes".into(),
        ));
    }
    let significant_figures =
        u8::try_from(figures).map_err(|_| bad(format!("has {figures} significant figures")))?;
    let payload = v2
        .get(HEADER..HEADER + length)
        .ok_or_else(|| bad("is cut short".into()))?;
    // No index can lie beyond the counters of the widest layout there is.
    let limit = counters_at_most(lowest, figures) as u64;
    let mut buckets = Vec::new();
    let (mut index, mut at) = (0_u64, 0);
    while at < payload.len() {
        let (zz, used) = read_varint(&payload[at..]).ok_or_else(|| bad("is cut short".into()))?;
        at += used;
        let value = zig_unzag(zz);
        if value < 0 {
            index = index.saturating_add(value.unsigned_abs());
            continue;
        }
        if value > 0 {
            if index >= limit {
                return Err(bad(format!("counts at index {index}, beyond any range")));
            }
            buckets.push((index as u32, value as u64));
        }
        index += 1;
    }
    Ok(Decoded {
        lowest,
        significant_figures,
        buckets,
    })
}

/// `compressed` (zlib) inflated, with this thread's decompressor: its
/// tables are made once per thread and reset, not zeroed for each of the
/// many small histograms of a file.
///
/// The output grows as the stream needs, whatever its ratio: regular
/// counts (a sweep, a clock-tick grid, every bucket once) deflate far
/// better than noisy ones. Asking for the whole output in one call
/// (`FlushDecompress::Finish`) fails when the buffer is short and leaves
/// the stream unusable, so the stream is fed in steps. The V2 header's
/// payload length bounds the output: a stream that inflates past it is an
/// error, not an allocation as large as the stream can make.
fn inflate(compressed: &[u8]) -> Result<Vec<u8>, String> {
    use flate2::{Decompress, FlushDecompress, Status};
    thread_local! {
        static DECOMPRESS: std::cell::RefCell<Decompress> = std::cell::RefCell::new(Decompress::new(true));
    }
    DECOMPRESS.with(|cell| {
        let mut decompress = cell.borrow_mut();
        decompress.reset(true);
        let mut out = Vec::with_capacity((compressed.len() * 4).clamp(HEADER, 1 << 16));
        loop {
            let before = (decompress.total_in(), decompress.total_out());
            let read = (before.0 as usize).min(compressed.len());
            let status = decompress
                .decompress_vec(&compressed[read..], &mut out, FlushDecompress::None)
                .map_err(|e| e.to_string())?;
            let declared = bound(&out);
            if declared.is_some_and(|whole| out.len() > whole) {
                return Err("it inflates past the length its header allows".into());
            }
            if status == Status::StreamEnd {
                return Ok(out);
            }
            if out.len() == out.capacity() {
                // Double, but never past what the header declares (plus
                // one byte, to see a stream that goes on): a damaged length
                // asks for no more memory than the stream really makes.
                let double = out.len().max(64);
                let room = declared.map_or(double, |whole| (whole + 1 - out.len()).min(double));
                out.reserve(room.max(1));
            } else if (decompress.total_in(), decompress.total_out()) == before {
                return Err("the data ends before its stream does".into());
            }
        }
    })
}

/// The most bytes the V2 form starting `v2` can have, once its header's
/// length, precision and lowest value have arrived: the header and the
/// payload length it declares, but never more than a varint of the widest
/// size for every counter its precision can have, so that a header that
/// claims gigabytes of zeros costs no more than a real histogram of its
/// precision (about 500 KB at 3 significant figures).
fn bound(v2: &[u8]) -> Option<usize> {
    let length = be_u32(v2, 4)? as usize;
    let figures = be_u32(v2, 12)?;
    let lowest = be_u64(v2, 16)?;
    let counters = counters_at_most(lowest, figures);
    Some(HEADER + length.min(counters.saturating_mul(9)))
}

/// How many counters a histogram of `lowest` and `figures` can have at
/// most, whatever its highest value: no index of it lies beyond.
fn counters_at_most(lowest: u64, figures: u32) -> usize {
    let figures = u8::try_from(figures.min(5)).unwrap_or(5);
    Layout::new(lowest.max(1), u64::MAX / 2, figures).map_or(u32::MAX as usize, |l| l.len())
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

fn zig_zag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn zig_unzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// HdrHistogram's LEB128: 7 bits a byte, low first, at most 9 bytes (the
/// ninth carries 8 bits).
fn varint(out: &mut Vec<u8>, mut value: u64) {
    for _ in 0..8 {
        if value < 0x80 {
            out.push(value as u8);
            return;
        }
        out.push(0x80 | (value & 0x7f) as u8);
        value >>= 7;
    }
    out.push(value as u8);
}

fn read_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0_u64;
    for i in 0..9 {
        let byte = *bytes.get(i)?;
        if i == 8 {
            return Some((value | (u64::from(byte) << 56), 9));
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::ZlibDecoder;
    use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
    use hdrhistogram::Histogram;
    use std::io::Read as _;

    fn layout() -> Layout {
        Layout::new(1, 3_600_000_000_000, 3).unwrap()
    }

    fn buckets_of(layout: Layout, values: &[(u64, u64)]) -> Vec<(u32, u64)> {
        let mut map = std::collections::BTreeMap::new();
        for &(value, count) in values {
            *map.entry(layout.index(value) as u32).or_insert(0) += count;
        }
        map.into_iter().collect()
    }

    #[test]
    fn the_uncompressed_form_is_hdrhistograms_byte_for_byte() {
        let layout = layout();
        let values = [
            (1, 3),
            (2, 1),
            (5, 7),
            (1_000, 2),
            (1_003, 1),
            (30_000_000, 4),
        ];
        let mut reference = layout.histogram_up_to(30_000_000);
        for &(v, n) in &values {
            reference.record_n(v, n).unwrap();
        }
        let mut theirs = Vec::new();
        V2Serializer::new()
            .serialize(&reference, &mut theirs)
            .unwrap();
        let ours = BASE64
            .decode(encode_buckets(
                layout,
                buckets_of(layout, &values).into_iter(),
            ))
            .unwrap();
        let mut inflated = Vec::new();
        ZlibDecoder::new(&ours[8..])
            .read_to_end(&mut inflated)
            .unwrap();
        // Everything but the header's highest, which is ours (the range)
        // where theirs is the auto-resized histogram's.
        assert_eq!(inflated[..24], theirs[..24]);
        assert_eq!(inflated[32..], theirs[32..]);
    }

    #[test]
    fn hdrhistogram_reads_what_we_write_and_we_read_what_it_writes() {
        let layout = layout();
        let values = [(7, 1), (250_000, 5), (3_600_000_000_000, 1)];
        let text = encode_buckets(layout, buckets_of(layout, &values).into_iter());
        let bytes = BASE64.decode(&text).unwrap();
        let theirs: Histogram<u64> = Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .unwrap();
        assert_eq!(theirs.len(), 7);
        assert_eq!(theirs.count_at(250_000), 5);
        // The top of the range: its bucket reaches past the range's end.
        assert!(theirs.max() >= 3_600_000_000_000);

        let mut reference = layout.histogram_up_to(1_000_000);
        reference.record_n(999, 3).unwrap();
        let mut written = Vec::new();
        hdrhistogram::serialization::V2DeflateSerializer::new()
            .serialize(&reference, &mut written)
            .unwrap();
        let decoded = decode(&BASE64.encode(written)).unwrap();
        assert_eq!(decoded.buckets, buckets_of(layout, &[(999, 3)]));
        assert!(decoded.counts_in(&layout));
    }

    #[test]
    fn round_trips_keep_every_bucket() {
        let layout = layout();
        for values in [
            vec![],
            vec![(1, 1)],
            vec![(1, 1), (3, 1)],
            vec![(2, u64::MAX >> 2), (3_600_000_000_000, 2)],
        ] {
            let buckets = buckets_of(layout, &values);
            let decoded = decode(&encode_buckets(layout, buckets.clone().into_iter())).unwrap();
            assert_eq!(decoded.buckets, buckets);
            assert_eq!((decoded.lowest, decoded.significant_figures), (1, 3));
        }
    }

    /// Regular counts deflate far past 4:1 (every bucket once: about
    /// 1,000:1): each reads back, however well it compresses.
    #[test]
    fn counts_that_compress_well_read_back() {
        let layout = layout();
        let len = layout.len() as u32;
        let every_bucket_once: Vec<(u32, u64)> = (0..len).map(|i| (i, 1)).collect();
        let sweep: Vec<(u32, u64)> = (0..len / 3).map(|i| (i * 3, 7)).collect();
        let one_bucket = vec![(1_000, 5_000_000)];
        for buckets in [every_bucket_once, sweep, one_bucket] {
            let text = encode_buckets(layout, buckets.clone().into_iter());
            let compressed = BASE64.decode(&text).unwrap().len();
            let decoded = decode(&text).unwrap_or_else(|e| panic!("{e} ({compressed} bytes)"));
            assert_eq!(decoded.buckets, buckets);
        }
    }

    /// A stream that inflates past its header's length is an error, and a
    /// header that claims 4 GiB asks for no more than the stream makes.
    #[test]
    fn a_stream_longer_or_shorter_than_its_header_is_an_error() {
        let layout = layout();
        let v2 = v2_of(layout, (0..1_000).map(|i| (i, 1)));
        for claimed in [10_u32, u32::MAX - 64] {
            // (The second also claims more than any 3-figure histogram
            // holds: bounded by its precision, not by the claim.)
            let mut lying = v2.clone();
            lying[4..8].copy_from_slice(&claimed.to_be_bytes());
            let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
            zlib.write_all(&lying).unwrap();
            let mut bytes = V2_COMPRESSED_COOKIE.to_be_bytes().to_vec();
            bytes.extend_from_slice(&0_u32.to_be_bytes());
            bytes.extend_from_slice(&zlib.finish().unwrap());
            assert!(decode(&BASE64.encode(&bytes)).is_err(), "{claimed}");
            // Cut short: the stream ends before its end marker.
            bytes.truncate(bytes.len() - 6);
            assert!(decode(&BASE64.encode(&bytes)).is_err(), "{claimed} cut");
        }
    }

    /// A header that claims gigabytes of zeros is inflated no further than
    /// a histogram of its precision can be.
    #[test]
    fn a_stream_of_zeros_stops_at_what_its_precision_allows() {
        let mut v2 = v2_of(layout(), [(1, 1)].into_iter());
        v2[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        v2.resize(v2.len() + (16 << 20), 0); // 16 MiB of zeros: counts of 0
        let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
        zlib.write_all(&v2).unwrap();
        let mut bytes = V2_COMPRESSED_COOKIE.to_be_bytes().to_vec();
        bytes.extend_from_slice(&0_u32.to_be_bytes());
        bytes.extend_from_slice(&zlib.finish().unwrap());
        assert!(bytes.len() < 200_000, "{}", bytes.len());
        let error = decode(&BASE64.encode(&bytes)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("past the length its header allows"),
            "{error}"
        );
        assert!(bound(&v2).unwrap() < 1 << 20, "{:?}", bound(&v2));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for text in [
            "",
            "AAAA",
            "not base64!",
            &BASE64.encode([0x1c, 0x84, 0x93, 0x14, 0, 0]),
        ] {
            assert!(decode(text).is_err(), "{text}");
        }
    }
}
