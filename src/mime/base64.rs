//! Base64 (RFC 2045 section 6.8, RFC 4648 section 4), encoding and decoding.
//!
//! The decoder follows LuaSocket: characters outside the alphabet (line breaks, spaces,
//! anything else) are skipped; `=` counts as a character of its 4-character group with
//! value 0, and a group with `=` in its third place yields one byte, with `=` in its
//! fourth place two bytes, otherwise three. An incomplete group at the end is dropped.
//! Both directions are table driven and work on whole groups at a time.

use crate::error::Result;
use crate::ltn12::Filter;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Two output characters for every 12-bit value.
static PAIRS: [[u8; 2]; 4096] = {
    let mut t = [[0u8; 2]; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = [ALPHABET[i >> 6], ALPHABET[i & 63]];
        i += 1;
    }
    t
};

/// Marks a byte that is not part of the alphabet and not `=`.
const SKIP: u8 = 0xFF;
/// Marks `=`.
const PAD: u8 = 0x40;

/// Value of each byte: 0..63 for the alphabet, `PAD` for '=', `SKIP` otherwise.
static DECODE: [u8; 256] = {
    let mut t = [SKIP; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t[b'=' as usize] = PAD;
    t
};

/// Set in a shifted value for a byte that is not in the alphabet (`=` included).
const BAD: u32 = 0x8000_0000;

/// `DECODE` shifted into place for each of the four positions of a group, with `BAD` for
/// bytes outside the alphabet, so that a group decodes with four look-ups and three ORs.
static SHIFTED: [[u32; 256]; 4] = {
    let mut t = [[BAD; 256]; 4];
    let mut i = 0;
    while i < 256 {
        let v = DECODE[i];
        if v < 64 {
            t[0][i] = (v as u32) << 18;
            t[1][i] = (v as u32) << 12;
            t[2][i] = (v as u32) << 6;
            t[3][i] = v as u32;
        }
        i += 1;
    }
    t
};

/// The 24 bits of a group of four alphabet characters, or a value with `BAD` set.
#[inline(always)]
fn group(g: &[u8]) -> u32 {
    SHIFTED[0][g[0] as usize]
        | SHIFTED[1][g[1] as usize]
        | SHIFTED[2][g[2] as usize]
        | SHIFTED[3][g[3] as usize]
}

/// Encodes whole 3-byte groups of `input` (its length must be a multiple of 3).
fn encode_groups(input: &[u8], out: &mut Vec<u8>) {
    debug_assert!(input.len() % 3 == 0);
    let start = out.len();
    out.resize(start + input.len() / 3 * 4, 0);
    let dst = &mut out[start..];
    // Four groups (12 bytes in, 16 out) per step.
    let mut src_big = input.chunks_exact(12);
    let mut dst_big = dst.chunks_exact_mut(16);
    for (s, d) in (&mut src_big).zip(&mut dst_big) {
        for k in 0..4 {
            let v =
                (s[3 * k] as usize) << 16 | (s[3 * k + 1] as usize) << 8 | s[3 * k + 2] as usize;
            let hi = PAIRS[v >> 12];
            let lo = PAIRS[v & 0xFFF];
            d[4 * k..4 * k + 4].copy_from_slice(&[hi[0], hi[1], lo[0], lo[1]]);
        }
    }
    let s = src_big.remainder();
    let d = dst_big.into_remainder();
    for (s, d) in s.chunks_exact(3).zip(d.chunks_exact_mut(4)) {
        let v = (s[0] as usize) << 16 | (s[1] as usize) << 8 | s[2] as usize;
        let hi = PAIRS[v >> 12];
        let lo = PAIRS[v & 0xFFF];
        d.copy_from_slice(&[hi[0], hi[1], lo[0], lo[1]]);
    }
}

/// Encodes the last 1 or 2 bytes with `=` padding.
fn encode_tail(rest: &[u8], out: &mut Vec<u8>) {
    match *rest {
        [a] => {
            let v = (a as usize) << 4;
            out.extend_from_slice(&[ALPHABET[v >> 6], ALPHABET[v & 63], b'=', b'=']);
        }
        [a, b] => {
            let v = ((a as usize) << 8 | b as usize) << 2;
            out.extend_from_slice(&[
                ALPHABET[v >> 12],
                ALPHABET[(v >> 6) & 63],
                ALPHABET[v & 63],
                b'=',
            ]);
        }
        _ => {}
    }
}

/// Streaming base64 encoder (LuaSocket's `mime.encode("base64")`).
#[derive(Debug, Default, Clone)]
pub struct Base64Encoder {
    rest: [u8; 2],
    n: usize,
}

impl Base64Encoder {
    /// A new encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes held back (fewer than 3) waiting for more input.
    pub fn pending(&self) -> &[u8] {
        &self.rest[..self.n]
    }

    /// Encodes `input`, holding back up to 2 bytes.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        if self.n > 0 {
            let mut atom = [0u8; 3];
            atom[..self.n].copy_from_slice(&self.rest[..self.n]);
            let take = (3 - self.n).min(input.len());
            atom[self.n..self.n + take].copy_from_slice(&input[..take]);
            input = &input[take..];
            if self.n + take < 3 {
                self.rest[..self.n + take].copy_from_slice(&atom[..self.n + take]);
                self.n += take;
                return;
            }
            encode_groups(&atom, out);
            self.n = 0;
        }
        let whole = input.len() / 3 * 3;
        encode_groups(&input[..whole], out);
        let tail = &input[whole..];
        self.rest[..tail.len()].copy_from_slice(tail);
        self.n = tail.len();
    }

    /// Encodes what is held back, with padding.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        encode_tail(&self.rest[..self.n], out);
        self.n = 0;
    }
}

impl Filter for Base64Encoder {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.feed(chunk, out);
        Ok(())
    }
    fn end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.finish(out);
        Ok(())
    }
}

/// Streaming base64 decoder (LuaSocket's `mime.decode("base64")`).
#[derive(Debug, Default, Clone)]
pub struct Base64Decoder {
    atom: [u8; 4],
    n: usize,
}

impl Base64Decoder {
    /// A new decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The characters of the incomplete group held back (alphabet and `=` only).
    pub fn pending(&self) -> &[u8] {
        &self.atom[..self.n]
    }

    /// Adds one character (already known to be in the alphabet or `=`) to the group.
    #[inline]
    fn push_char(&mut self, c: u8, out: &mut Vec<u8>) {
        self.atom[self.n] = c;
        self.n += 1;
        if self.n == 4 {
            self.n = 0;
            let a = self.atom;
            let val = |c: u8| (DECODE[c as usize] & 63) as u32;
            let v = val(a[0]) << 18 | val(a[1]) << 12 | val(a[2]) << 6 | val(a[3]);
            let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
            let len = if a[2] == b'=' {
                1
            } else if a[3] == b'=' {
                2
            } else {
                3
            };
            out.extend_from_slice(&bytes[..len]);
        }
    }

    /// Decodes `input`, holding back an incomplete group.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + input.len() / 4 * 3 + 4, 0);
        let mut w = start;
        let mut i = 0;
        let len = input.len();
        while i < len {
            if self.n == 0 {
                // Fast path: whole groups of four alphabet characters, two at a time; each
                // group is stored as 4 bytes of which 3 count (the output has a byte of
                // slack for that).
                while i + 8 <= len {
                    let a = group(&input[i..i + 4]);
                    let b = group(&input[i + 4..i + 8]);
                    if (a | b) & BAD != 0 {
                        break;
                    }
                    out[w..w + 4].copy_from_slice(&(a << 8).to_be_bytes());
                    out[w + 3..w + 7].copy_from_slice(&(b << 8).to_be_bytes());
                    w += 6;
                    i += 8;
                }
                while i + 4 <= len {
                    let a = group(&input[i..i + 4]);
                    if a & BAD != 0 {
                        break;
                    }
                    out[w..w + 4].copy_from_slice(&(a << 8).to_be_bytes());
                    w += 3;
                    i += 4;
                }
                if i >= len {
                    break;
                }
            }
            // Slow path: one character (skipped, '=', or part of a split group).
            let c = input[i];
            i += 1;
            if DECODE[c as usize] == SKIP {
                continue;
            }
            out.truncate(w);
            self.push_char(c, out);
            w = out.len();
            let need = w + (len - i) / 4 * 3 + 4;
            if out.len() < need {
                out.resize(need, 0);
            }
        }
        out.truncate(w);
    }

    /// Drops an incomplete group (LuaSocket ignores it).
    pub fn finish(&mut self) {
        self.n = 0;
    }
}

impl Filter for Base64Decoder {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.feed(chunk, out);
        Ok(())
    }
    fn end(&mut self, _out: &mut Vec<u8>) -> Result<()> {
        self.finish();
        Ok(())
    }
}

/// LuaSocket's `mime.b64(C, D)`: encodes the largest prefix of `C..D` that can be encoded
/// without padding and returns it with the bytes left over. When `d` is `None` (the last
/// call) the rest is encoded with padding, the remainder is `None`, and an empty result
/// is `None`. When `c` is `None` the result is `(None, None)`.
pub fn b64(c: Option<&[u8]>, d: Option<&[u8]>) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let Some(c) = c else {
        return (None, None);
    };
    let mut enc = Base64Encoder::new();
    let mut out = Vec::with_capacity((c.len() + d.map_or(0, |d| d.len())) / 3 * 4 + 4);
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

/// LuaSocket's `mime.unb64(C, D)`: decodes the complete groups of `C..D` and returns the
/// characters of the incomplete group. When `d` is `None` the incomplete group is dropped,
/// the remainder is `None` and an empty result is `None`. When `c` is `None` the result
/// is `(None, None)`.
pub fn unb64(c: Option<&[u8]>, d: Option<&[u8]>) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let Some(c) = c else {
        return (None, None);
    };
    let mut dec = Base64Decoder::new();
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

pub(crate) fn non_empty(v: Vec<u8>) -> Option<Vec<u8>> {
    if v.is_empty() {
        None
    } else {
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltn12::filter_all;
    use crate::ltn12::testutil::run_split;
    use proptest::prelude::*;

    fn enc(s: &[u8]) -> Vec<u8> {
        filter_all(&mut Base64Encoder::new(), s).unwrap()
    }
    fn dec(s: &[u8]) -> Vec<u8> {
        filter_all(&mut Base64Decoder::new(), s).unwrap()
    }

    #[test]
    fn rfc4648_vectors() {
        let v: &[(&[u8], &[u8])] = &[
            (b"", b""),
            (b"f", b"Zg=="),
            (b"fo", b"Zm8="),
            (b"foo", b"Zm9v"),
            (b"foob", b"Zm9vYg=="),
            (b"fooba", b"Zm9vYmE="),
            (b"foobar", b"Zm9vYmFy"),
        ];
        for (plain, coded) in v {
            assert_eq!(enc(plain), *coded);
            assert_eq!(dec(coded), *plain);
        }
        // RFC 4648 section 9 examples.
        assert_eq!(enc(&[0x14, 0xfb, 0x9c, 0x03, 0xd9, 0x7e]), b"FPucA9l+");
        assert_eq!(enc(&[0x14, 0xfb, 0x9c, 0x03, 0xd9]), b"FPucA9k=");
        assert_eq!(enc(&[0x14, 0xfb, 0x9c, 0x03]), b"FPucAw==");
    }

    #[test]
    fn rfc2045_decoding_ignores_characters_outside_the_alphabet() {
        // RFC 2045 6.8: line breaks and other characters not in the alphabet are ignored.
        assert_eq!(dec(b"Zm9v\r\nYmFy"), b"foobar");
        assert_eq!(dec(b"Z m 9 v\tY*m!F~y"), b"foobar");
        assert_eq!(dec(b"Zm9vYg==\r\n"), b"foob");
        let all: Vec<u8> = (0..=255).collect();
        let mut wrapped = Vec::new();
        for line in enc(&all).chunks(76) {
            wrapped.extend_from_slice(line);
            wrapped.extend_from_slice(b"\r\n");
        }
        assert_eq!(dec(&wrapped), all);
    }

    #[test]
    fn luasocket_decoding_quirks() {
        assert_eq!(dec(b"YQ=a"), b"a");
        assert_eq!(dec(b"YQ==YWJj"), b"aabc");
        assert_eq!(dec(b"Y=Jj"), [0x60, 0x02, 0x63]);
        assert_eq!(dec(b"===="), [0]);
        assert_eq!(dec(b"YWJ"), b"");
    }

    #[test]
    fn low_level_calls_match_luasocket() {
        assert_eq!(b64(None, Some(b"x")), (None, None));
        assert_eq!(b64(Some(b""), None), (None, None));
        assert_eq!(b64(Some(b""), Some(b"")), (Some(vec![]), Some(vec![])));
        assert_eq!(b64(Some(b"a"), None), (Some(b"YQ==".to_vec()), None));
        assert_eq!(
            b64(Some(b"a"), Some(b"")),
            (Some(vec![]), Some(b"a".to_vec()))
        );
        assert_eq!(
            b64(Some(b"abcdefg"), Some(b"h")),
            (Some(b"YWJjZGVm".to_vec()), Some(b"gh".to_vec()))
        );
        assert_eq!(unb64(Some(b"YQ"), None), (None, None));
        assert_eq!(
            unb64(Some(b"YQ"), Some(b"")),
            (Some(vec![]), Some(b"YQ".to_vec()))
        );
        assert_eq!(
            unb64(Some(b"Y!Q"), Some(b"")),
            (Some(vec![]), Some(b"YQ".to_vec()))
        );
        assert_eq!(unb64(Some(b"Y!Q*=.="), None), (Some(b"a".to_vec()), None));
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..1000)) {
            let e = enc(&data);
            prop_assert_eq!(e.len(), data.len().div_ceil(3) * 4);
            prop_assert_eq!(dec(&e), data);
        }

        #[test]
        fn encoder_is_chunking_invariant(data in proptest::collection::vec(any::<u8>(), 0..300),
                                         cuts in proptest::collection::vec(0usize..301, 0..10)) {
            prop_assert_eq!(run_split(&mut Base64Encoder::new(), &data, &cuts), enc(&data));
        }

        #[test]
        fn decoder_is_chunking_invariant(data in proptest::collection::vec(any::<u8>(), 0..300),
                                         cuts in proptest::collection::vec(0usize..301, 0..10)) {
            // Random bytes: mostly skipped characters, some '=', some alphabet.
            prop_assert_eq!(run_split(&mut Base64Decoder::new(), &data, &cuts), dec(&data));
            let coded = enc(&data);
            prop_assert_eq!(run_split(&mut Base64Decoder::new(), &coded, &cuts), data);
        }

        #[test]
        fn decoder_matches_a_simple_model(data in proptest::collection::vec(
            prop_oneof![Just(b'='), Just(b'\n'), Just(b'A'), Just(b'z'), Just(b'/'), any::<u8>()], 0..200)) {
            // The obvious one-character-at-a-time algorithm.
            let mut atom = Vec::new();
            let mut want = Vec::new();
            for &c in &data {
                if DECODE[c as usize] == SKIP { continue; }
                atom.push(c);
                if atom.len() == 4 {
                    let v = atom.iter().fold(0u32, |acc, &c| acc << 6 | (DECODE[c as usize] & 63) as u32);
                    let n = if atom[2] == b'=' { 1 } else if atom[3] == b'=' { 2 } else { 3 };
                    want.extend_from_slice(&v.to_be_bytes()[1..1 + n]);
                    atom.clear();
                }
            }
            prop_assert_eq!(dec(&data), want);
        }

        #[test]
        fn low_level_equals_filter(c in proptest::collection::vec(any::<u8>(), 0..20),
                                   d in proptest::collection::vec(any::<u8>(), 0..20)) {
            let mut whole = c.clone();
            whole.extend_from_slice(&d);
            let (a, b) = b64(Some(&c), Some(&d));
            let (a2, _) = b64(b.as_deref(), None);
            let mut joined = a.unwrap();
            joined.extend(a2.unwrap_or_default());
            prop_assert_eq!(joined, enc(&whole));
        }
    }
}
