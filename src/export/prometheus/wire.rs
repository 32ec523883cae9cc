//! The little of the protobuf wire format that Prometheus' `MetricFamily`
//! needs, written straight into one buffer: no schema compiler, no
//! per-message allocation.

/// Wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;

/// An encoder appending to `buf`.
pub(crate) struct Encoder<'a> {
    pub(crate) buf: &'a mut Vec<u8>,
}

impl Encoder<'_> {
    pub(crate) fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u8) {
        self.varint(u64::from(field << 3 | u32::from(wire)));
    }

    pub(crate) fn uint(&mut self, field: u32, v: u64) {
        self.key(field, VARINT);
        self.varint(v);
    }

    pub(crate) fn sint(&mut self, field: u32, v: i64) {
        self.key(field, VARINT);
        self.varint(zigzag(v));
    }

    pub(crate) fn double(&mut self, field: u32, v: f64) {
        self.key(field, FIXED64);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn string(&mut self, field: u32, s: &str) {
        self.key(field, LEN);
        self.varint(s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// A packed repeated `sint64`.
    pub(crate) fn packed_sint(&mut self, field: u32, values: impl Iterator<Item = i64>) {
        self.message(field, |e| values.for_each(|v| e.varint(zigzag(v))));
    }

    /// A length-delimited field (a nested message) written by `body`.
    pub(crate) fn message(&mut self, field: u32, body: impl FnOnce(&mut Encoder<'_>)) {
        self.key(field, LEN);
        self.delimited(body);
    }

    /// `body`, after its length as a varint: also the framing of each
    /// message of the `encoding=delimited` stream. The length is written
    /// after the body, which then moves up by the varint's extra bytes
    /// (none for bodies under 128 bytes).
    pub(crate) fn delimited(&mut self, body: impl FnOnce(&mut Encoder<'_>)) {
        let at = self.buf.len();
        self.buf.push(0);
        body(self);
        let len = (self.buf.len() - at - 1) as u64;
        let mut prefix = [0_u8; 10];
        let mut n = 0;
        let mut v = len;
        while v >= 0x80 {
            prefix[n] = v as u8 | 0x80;
            v >>= 7;
            n += 1;
        }
        prefix[n] = v as u8;
        n += 1;
        if n > 1 {
            let end = self.buf.len();
            self.buf.resize(end + n - 1, 0);
            self.buf.copy_within(at + 1..end, at + n);
        }
        self.buf[at..at + n].copy_from_slice(&prefix[..n]);
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_written_as_the_wire_format_says() {
        let mut buf = Vec::new();
        let mut e = Encoder { buf: &mut buf };
        e.uint(1, 150);
        assert_eq!(buf, [0x08, 0x96, 0x01]); // the protobuf docs' example
        buf.clear();
        Encoder { buf: &mut buf }.sint(5, -2);
        assert_eq!(buf, [0x28, 0x03]);
        buf.clear();
        Encoder { buf: &mut buf }.string(2, "testing");
        assert_eq!(buf, b"\x12\x07testing");
        buf.clear();
        Encoder { buf: &mut buf }.double(1, 1.0);
        assert_eq!(buf, [0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
        assert_eq!(
            [zigzag(0), zigzag(-1), zigzag(1), zigzag(i64::MIN)],
            [0, 1, 2, u64::MAX]
        );
    }

    #[test]
    fn a_long_message_moves_up_behind_its_length() {
        let mut buf = vec![0xaa];
        let body: Vec<u8> = (0..300_u32).map(|i| i as u8).collect();
        Encoder { buf: &mut buf }.message(4, |e| e.buf.extend_from_slice(&body));
        assert_eq!(&buf[..4], [0xaa, 0x22, 0xac, 0x02]); // 300 = 0xac 0x02
        assert_eq!(&buf[4..], &body[..]);
        let mut short = Vec::new();
        Encoder { buf: &mut short }.delimited(|e| e.uint(1, 1));
        assert_eq!(short, [2, 0x08, 1]);
    }
}
