//! Quoted-printable (RFC 2045 section 6.7), encoding and decoding, as LuaSocket does it.
//!
//! Encoding: bytes 33..=126 except `=` stay as they are; a space or tab stays unless a
//! CRLF follows it (then it is quoted); CRLF becomes the line-break marker (CRLF in text
//! mode, `=0D=0A` in binary mode); every other byte, a lone CR or LF included, becomes
//! `=XX`. The input is expected in canonical form (see the `eol` filter). At the end, the
//! held-back bytes are written (quoted unless plain) followed by a soft line break `=\r\n`.
//! Line length is the job of the `qpwrp` filter.
//!
//! Decoding: `=XX` (either case) becomes the byte, `=\r\n` (a soft line break) disappears,
//! an `=` followed by anything else is kept with the two bytes after it; CRLF is kept, a
//! CR followed by anything else is dropped with that byte; tab and bytes 32..=126 are kept,
//! all other bytes are dropped. Trailing white space is not removed. Unfinished sequences
//! at the end are dropped.
//!
//! Both directions decide each byte by looking at most two bytes ahead; a chunk's last
//! bytes are held back until that is possible, so the output does not depend on chunking.

use super::base64::non_empty;
use crate::error::Result;
use crate::ltn12::Filter;

const PLAIN: u8 = 0;
const QUOTED: u8 = 1;
const IF_LAST: u8 = 2;
const CR: u8 = 3;

/// The encoder's class of each byte.
static CLASS: [u8; 256] = {
    let mut t = [QUOTED; 256];
    let mut i = 33;
    while i <= 126 {
        t[i] = PLAIN;
        i += 1;
    }
    t[b'=' as usize] = QUOTED;
    t[b' ' as usize] = IF_LAST;
    t[b'\t' as usize] = IF_LAST;
    t[b'\r' as usize] = CR;
    t
};

/// `=XX` for every byte.
static QUOTE: [[u8; 3]; 256] = {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut t = [[0u8; 3]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [b'=', HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    t
};

/// The line-break marker of text mode.
pub const TEXT_MARKER: &[u8] = b"\r\n";
/// The line-break marker of binary mode.
pub const BINARY_MARKER: &[u8] = b"=0D=0A";

/// For bytes that need no look-ahead: the output as little-endian bytes of a `u32` (the
/// byte itself, or `=XX`) in the low 24 bits and its length (1 or 3) in the top 8; 0 for
/// the bytes that need look-ahead (CR, space, tab).
static ENCODED: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match CLASS[i] {
            PLAIN => (1 << 24) | i as u32,
            QUOTED => {
                let q = QUOTE[i];
                (3 << 24) | (q[2] as u32) << 16 | (q[1] as u32) << 8 | q[0] as u32
            }
            _ => 0,
        };
        i += 1;
    }
    t
};

/// Whether all 8 bytes of `x` are plain (33..=126 except `=`), without branching per byte.
#[inline(always)]
fn all_plain(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let y = x & !HIGH; // the low 7 bits of each byte; no sum below carries across bytes
    let ge33 = y + ONES * (128 - 33); // high bit set where y >= 33
    let le126 = !(y + ONES); // high bit set where y <= 126
    let not_eq = (y ^ (ONES * b'=' as u64)) + ONES * 127; // high bit set where y != '='
    ge33 & le126 & not_eq & !x & HIGH == HIGH
}

/// Encodes `data` from its start while each byte can be decided; returns how many bytes
/// were consumed (the rest must wait for more input or the end). Runs of 8 plain bytes
/// are copied at once (text); other bytes take one table look-up and one unconditional
/// 4-byte store each, without branching on the byte (random binary input would defeat
/// the branch predictor).
fn encode_run(data: &[u8], marker: &[u8], out: &mut Vec<u8>) -> usize {
    let len = data.len();
    // Worst case per input byte: 3 (quoted), or a marker for 2 bytes, or "=XX"+marker
    // for 3; plus room for the last 4-byte store.
    let start = out.len();
    out.resize(start + len * 3.max(marker.len()) + 8, 0);
    let buf = &mut out[start..];
    let mut w = 0;
    let mut i = 0;
    'outer: while i < len {
        if i + 8 <= len {
            let block: [u8; 8] = data[i..i + 8].try_into().unwrap_or_default();
            if all_plain(u64::from_le_bytes(block)) {
                buf[w..w + 8].copy_from_slice(&block);
                w += 8;
                i += 8;
                continue;
            }
            let codes: [u32; 8] = std::array::from_fn(|k| ENCODED[block[k] as usize]);
            if codes.iter().all(|&e| e != 0) {
                // No byte needs look-ahead: eight stores, no branch on the data.
                let dst = &mut buf[w..w + 28];
                let mut o = 0;
                for e in codes {
                    dst[o..o + 4].copy_from_slice(&e.to_le_bytes());
                    o += (e >> 24) as usize;
                }
                w += o;
                i += 8;
                continue;
            }
        }
        let stop = (i + 8).min(len);
        while i < stop {
            let c = data[i];
            let e = ENCODED[c as usize];
            if e != 0 {
                buf[w..w + 4].copy_from_slice(&e.to_le_bytes());
                w += (e >> 24) as usize;
                i += 1;
                continue;
            }
            if c == b'\r' {
                if i + 1 >= len {
                    break 'outer;
                }
                if data[i + 1] == b'\n' {
                    buf[w..w + marker.len()].copy_from_slice(marker);
                    w += marker.len();
                    i += 2;
                } else {
                    buf[w..w + 3].copy_from_slice(&QUOTE[c as usize]);
                    w += 3;
                    i += 1;
                }
            } else {
                // A space or tab, quoted only before CRLF.
                if i + 2 >= len {
                    break 'outer;
                }
                if data[i + 1] == b'\r' && data[i + 2] == b'\n' {
                    buf[w..w + 3].copy_from_slice(&QUOTE[c as usize]);
                    w += 3;
                    buf[w..w + marker.len()].copy_from_slice(marker);
                    w += marker.len();
                    i += 3;
                } else {
                    buf[w] = c;
                    w += 1;
                    i += 1;
                }
            }
        }
    }
    out.truncate(start + w);
    i
}

/// Writes the held-back bytes at the end, then a soft line break if there were any.
fn encode_pad(rest: &[u8], out: &mut Vec<u8>) {
    for &c in rest {
        if CLASS[c as usize] == PLAIN {
            out.push(c);
        } else {
            out.extend_from_slice(&QUOTE[c as usize]);
        }
    }
    if !rest.is_empty() {
        out.extend_from_slice(b"=\r\n");
    }
}

/// Runs a look-ahead machine (`run` consumes a prefix and returns its length) over
/// `pending ++ input`, leaving the unconsumed tail in `pending`. Only a few bytes are
/// copied to join the pending bytes with the new input.
fn feed_with_pending(
    pending: &mut Vec<u8>,
    input: &[u8],
    out: &mut Vec<u8>,
    mut run: impl FnMut(&[u8], &mut Vec<u8>) -> usize,
) {
    let mut input = input;
    if !pending.is_empty() {
        let p = pending.len();
        let k = input.len().min(3);
        let mut tmp = [0u8; 8];
        tmp[..p].copy_from_slice(pending);
        tmp[p..p + k].copy_from_slice(&input[..k]);
        let used = run(&tmp[..p + k], out);
        if k == input.len() {
            // Everything is in tmp: keep what it did not consume.
            pending.clear();
            pending.extend_from_slice(&tmp[used..p + k]);
            return;
        }
        if used < p {
            // Cannot happen with a look-ahead of at most two bytes, but stay correct.
            let mut joined = pending[used..].to_vec();
            joined.extend_from_slice(input);
            let used = run(&joined, out);
            pending.clear();
            pending.extend_from_slice(&joined[used..]);
            return;
        }
        pending.clear();
        input = &input[used - p..];
    }
    let used = run(input, out);
    pending.extend_from_slice(&input[used..]);
}

/// Streaming quoted-printable encoder (LuaSocket's `mime.encode("quoted-printable")`).
#[derive(Debug, Clone)]
pub struct QpEncoder {
    marker: Vec<u8>,
    pending: Vec<u8>,
}

impl QpEncoder {
    /// Text mode: CRLF line breaks stay CRLF.
    pub fn text() -> Self {
        Self::with_marker(TEXT_MARKER)
    }

    /// Binary mode: CRLF is encoded as `=0D=0A`.
    pub fn binary() -> Self {
        Self::with_marker(BINARY_MARKER)
    }

    /// CRLF is replaced by `marker`.
    pub fn with_marker(marker: &[u8]) -> Self {
        QpEncoder {
            marker: marker.to_vec(),
            pending: Vec::with_capacity(8),
        }
    }

    /// The bytes held back waiting for more input.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// Encodes `input`, holding back up to 2 bytes.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let marker = &self.marker;
        feed_with_pending(&mut self.pending, input, out, |d, o| {
            encode_run(d, marker, o)
        });
    }

    /// Writes the held-back bytes and, if there were any, a soft line break.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        encode_pad(&self.pending, out);
        self.pending.clear();
    }
}

impl Filter for QpEncoder {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.feed(chunk, out);
        Ok(())
    }
    fn end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.finish(out);
        Ok(())
    }
}

/// Decoder classes: 0 = kept, 1 = dropped, 2 = '=', 3 = CR.
static DCLASS: [u8; 256] = {
    let mut t = [1u8; 256];
    let mut i = 32;
    while i <= 126 {
        t[i] = 0;
        i += 1;
    }
    t[b'\t' as usize] = 0;
    t[b'=' as usize] = 2;
    t[b'\r' as usize] = 3;
    t
};

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn decode_run(data: &[u8], out: &mut Vec<u8>) -> usize {
    let len = data.len();
    let start = out.len();
    out.resize(start + len, 0);
    let buf = &mut out[start..];
    let mut w = 0;
    let mut i = 0;
    while i < len {
        match DCLASS[data[i] as usize] {
            0 => {
                let mut j = i + 1;
                while j < len && DCLASS[data[j] as usize] == 0 {
                    j += 1;
                }
                buf[w..w + (j - i)].copy_from_slice(&data[i..j]);
                w += j - i;
                i = j;
            }
            1 => i += 1,
            2 => {
                if i + 2 >= len {
                    break;
                }
                let (a, b) = (data[i + 1], data[i + 2]);
                if a == b'\r' && b == b'\n' {
                    // Soft line break.
                } else if let (Some(h), Some(l)) = (hex_value(a), hex_value(b)) {
                    buf[w] = h << 4 | l;
                    w += 1;
                } else {
                    buf[w..w + 3].copy_from_slice(&data[i..i + 3]);
                    w += 3;
                }
                i += 3;
            }
            _ => {
                if i + 1 >= len {
                    break;
                }
                if data[i + 1] == b'\n' {
                    buf[w..w + 2].copy_from_slice(b"\r\n");
                    w += 2;
                }
                i += 2;
            }
        }
    }
    out.truncate(start + w);
    i
}

/// Streaming quoted-printable decoder (LuaSocket's `mime.decode("quoted-printable")`).
#[derive(Debug, Default, Clone)]
pub struct QpDecoder {
    pending: Vec<u8>,
}

impl QpDecoder {
    /// A new decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes of an unfinished sequence held back.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// Decodes `input`, holding back an unfinished `=XX` or CR sequence.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        feed_with_pending(&mut self.pending, input, out, decode_run);
    }

    /// Drops an unfinished sequence.
    pub fn finish(&mut self) {
        self.pending.clear();
    }
}

impl Filter for QpDecoder {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.feed(chunk, out);
        Ok(())
    }
    fn end(&mut self, _out: &mut Vec<u8>) -> Result<()> {
        self.finish();
        Ok(())
    }
}

/// LuaSocket's `mime.qp(C, D, marker)`: encodes `C..D` as far as it can be decided and
/// returns the bytes left over; with `d` `None` the rest is padded, the remainder is
/// `None` and an empty result is `None`. `c` `None` gives `(None, None)`.
pub fn qp(c: Option<&[u8]>, d: Option<&[u8]>, marker: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let Some(c) = c else {
        return (None, None);
    };
    let mut enc = QpEncoder::with_marker(marker);
    let mut out = Vec::new();
    enc.feed(c, &mut out);
    match d {
        Some(d) => {
            enc.feed(d, &mut out);
            (Some(out), Some(enc.pending().to_vec()))
        }
        None => {
            enc.finish(&mut out);
            (non_empty(out), None)
        }
    }
}

/// LuaSocket's `mime.unqp(C, D)`: decodes `C..D` and returns the bytes of an unfinished
/// sequence; with `d` `None` they are dropped, the remainder is `None` and an empty result
/// is `None`. `c` `None` gives `(None, None)`.
pub fn unqp(c: Option<&[u8]>, d: Option<&[u8]>) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let Some(c) = c else {
        return (None, None);
    };
    let mut dec = QpDecoder::new();
    let mut out = Vec::new();
    dec.feed(c, &mut out);
    match d {
        Some(d) => {
            dec.feed(d, &mut out);
            (Some(out), Some(dec.pending().to_vec()))
        }
        None => (non_empty(out), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltn12::filter_all;
    use crate::ltn12::testutil::run_split;
    use proptest::prelude::*;

    fn enc(s: &[u8]) -> Vec<u8> {
        filter_all(&mut QpEncoder::text(), s).unwrap()
    }
    fn dec(s: &[u8]) -> Vec<u8> {
        filter_all(&mut QpDecoder::new(), s).unwrap()
    }
    fn some(s: &[u8]) -> Option<Vec<u8>> {
        Some(s.to_vec())
    }

    #[test]
    fn rfc2045_rules() {
        // Rule 1: general 8-bit representation; rule 2: literal representation.
        assert_eq!(enc(b"caf\xe9 = ok"), b"caf=E9 =3D ok");
        // Rule 3: white space before a line break is quoted.
        assert_eq!(enc(b"a \r\nb\t\r\n"), b"a=20\r\nb=09\r\n");
        // Rule 4: line breaks are CRLF; lone CR and LF are quoted.
        assert_eq!(enc(b"a\rb\nc"), b"a=0Db=0Ac");
        // Rule 5: soft line breaks disappear when decoding.
        assert_eq!(
            dec(b"Now's the time =\r\nfor all folk"),
            b"Now's the time for all folk"
        );
        assert_eq!(dec(b"caf=E9 =3D ok=3d"), b"caf\xe9 = ok=");
        assert_eq!(enc(b"x "), b"x=20=\r\n");
    }

    #[test]
    fn binary_mode_marker() {
        let mut e = QpEncoder::binary();
        assert_eq!(filter_all(&mut e, b"a\r\nb").unwrap(), b"a=0D=0Ab");
        assert_eq!(
            filter_all(&mut QpEncoder::binary(), b"a \r\n").unwrap(),
            b"a=20=0D=0A"
        );
        assert_eq!(
            filter_all(&mut QpEncoder::binary(), b"a ").unwrap(),
            b"a=20=\r\n"
        );
    }

    #[test]
    fn low_level_calls_match_luasocket() {
        assert_eq!(
            qp(Some(b"a b "), None, TEXT_MARKER),
            (some(b"a b=20=\r\n"), None)
        );
        assert_eq!(
            qp(Some(b"a b "), Some(b""), TEXT_MARKER),
            (some(b"a b"), some(b" "))
        );
        assert_eq!(qp(Some(b""), None, TEXT_MARKER), (None, None));
        assert_eq!(qp(None, Some(b"x"), TEXT_MARKER), (None, None));
        assert_eq!(
            qp(Some(b"\0\xff\x7f~ \t"), None, TEXT_MARKER),
            (some(b"=00=FF=7F~=20=09=\r\n"), None)
        );
        assert_eq!(
            qp(Some(b"a\r"), Some(b""), TEXT_MARKER),
            (some(b"a"), some(b"\r"))
        );
        assert_eq!(
            qp(Some(b"  a"), Some(b""), TEXT_MARKER),
            (some(b" "), some(b" a"))
        );
        assert_eq!(qp(Some(b" \rx"), None, TEXT_MARKER), (some(b" =0Dx"), None));
        assert_eq!(
            unqp(Some(b"a=3Db=\r\nc=3d=4X=\nq"), None),
            (some(b"a=bc==4X=\nq"), None)
        );
        assert_eq!(unqp(Some(b"a=3"), Some(b"")), (some(b"a"), some(b"=3")));
        assert_eq!(unqp(Some(b"a=3"), None), (some(b"a"), None));
        assert_eq!(unqp(Some(b"=\r"), None), (None, None));
        assert_eq!(unqp(Some(b"a\rb\nc"), None), (some(b"ac"), None));
        assert_eq!(
            unqp(Some(b"\x80a\x7fb\tc\0d\x01e"), None),
            (some(b"ab\tcde"), None)
        );
        assert_eq!(unqp(Some(b"a\r\r\nb"), Some(b"")), (some(b"ab"), some(b"")));
        assert_eq!(
            unqp(Some(b"=\r\rb"), Some(b"")),
            (some(b"=\r\rb"), some(b""))
        );
    }

    #[test]
    fn all_plain_matches_the_class_table() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let mut block = [b'a'; 8];
                block[pos] = b;
                let want = CLASS[b as usize] == PLAIN;
                assert_eq!(
                    all_plain(u64::from_le_bytes(block)),
                    want,
                    "byte {b} at {pos}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn encoder_is_chunking_invariant(data in proptest::collection::vec(
            prop_oneof![Just(b' '), Just(b'\r'), Just(b'\n'), Just(b'\t'), Just(b'='), any::<u8>()], 0..300),
            cuts in proptest::collection::vec(0usize..301, 0..10)) {
            prop_assert_eq!(run_split(&mut QpEncoder::text(), &data, &cuts), enc(&data));
            let bin = filter_all(&mut QpEncoder::binary(), &data).unwrap();
            prop_assert_eq!(run_split(&mut QpEncoder::binary(), &data, &cuts), bin);
        }

        #[test]
        fn decoder_is_chunking_invariant(data in proptest::collection::vec(
            prop_oneof![Just(b'='), Just(b'\r'), Just(b'\n'), Just(b'A'), Just(b'f'), any::<u8>()], 0..300),
            cuts in proptest::collection::vec(0usize..301, 0..10)) {
            prop_assert_eq!(run_split(&mut QpDecoder::new(), &data, &cuts), dec(&data));
        }

        #[test]
        fn binary_mode_round_trips(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            // Binary mode keeps CRLF as =0D=0A, so every byte sequence comes back; the
            // final soft line break disappears when decoding.
            let e = filter_all(&mut QpEncoder::binary(), &data).unwrap();
            prop_assert!(e.iter().all(|&b| b == b'\r' || b == b'\n' || b == b'\t' || (32..=126).contains(&b)));
            prop_assert_eq!(dec(&e), data);
        }

        #[test]
        fn text_mode_round_trips_canonical_text(lines in proptest::collection::vec(
            proptest::collection::vec(prop_oneof![Just(b' '), Just(b'\t'), Just(b'='), 33u8..127, 128u8..=255], 0..40), 0..8)) {
            let data = lines.join(&b"\r\n"[..]);
            prop_assert_eq!(dec(&enc(&data)), data);
        }

        #[test]
        fn low_level_equals_filter(c in proptest::collection::vec(
            prop_oneof![Just(b' '), Just(b'\r'), Just(b'\n'), any::<u8>()], 0..12),
            d in proptest::collection::vec(prop_oneof![Just(b' '), Just(b'\r'), Just(b'\n'), any::<u8>()], 0..12)) {
            let mut whole = c.clone();
            whole.extend_from_slice(&d);
            let (a, b) = qp(Some(&c), Some(&d), TEXT_MARKER);
            let (a2, _) = qp(b.as_deref(), None, TEXT_MARKER);
            let mut joined = a.unwrap();
            joined.extend(a2.unwrap_or_default());
            prop_assert_eq!(joined, enc(&whole));
            let (a, b) = unqp(Some(&c), Some(&d));
            let (a2, _) = unqp(b.as_deref(), None);
            let mut joined = a.unwrap();
            joined.extend(a2.unwrap_or_default());
            prop_assert_eq!(joined, dec(&whole));
        }
    }
}
