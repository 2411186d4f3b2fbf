//! End-of-line normalisation, as LuaSocket's `mime.normalize` does it.
//!
//! Every line break (CR, LF, CRLF or LFCR) becomes the marker (CRLF by default). A CR or
//! LF right after a different one completes a pair and adds nothing; the same character
//! twice is two line breaks. The state between chunks is the code of the last byte if it
//! was a CR or LF still looking for its partner, else 0, as in LuaSocket's `mime.eol`
//! (where, faithfully, the second of two identical breaks also resets the state, so
//! "\r\r\n" gives three markers).

use crate::error::Result;
use crate::ltn12::Filter;

/// The default marker.
pub const CRLF: &[u8] = b"\r\n";

fn is_break(c: i64) -> bool {
    c == b'\r' as i64 || c == b'\n' as i64
}

fn normalize(input: &[u8], ctx: &mut i64, marker: &[u8], out: &mut Vec<u8>) {
    out.reserve(input.len() + 8);
    let mut rest = input;
    while let Some(i) = memchr::memchr2(b'\r', b'\n', rest) {
        if i > 0 {
            out.extend_from_slice(&rest[..i]);
            *ctx = 0;
        }
        let c = rest[i] as i64;
        if is_break(*ctx) {
            if c == *ctx {
                out.extend_from_slice(marker);
            }
            *ctx = 0;
        } else {
            out.extend_from_slice(marker);
            *ctx = c;
        }
        rest = &rest[i + 1..];
    }
    if !rest.is_empty() {
        out.extend_from_slice(rest);
        *ctx = 0;
    }
}

/// End-of-line normalisation (`mime.normalize(marker)`).
#[derive(Debug, Clone)]
pub struct Normalize {
    marker: Vec<u8>,
    ctx: i64,
}

impl Normalize {
    /// Normalises line breaks to `marker`.
    pub fn new(marker: &[u8]) -> Self {
        Normalize {
            marker: marker.to_vec(),
            ctx: 0,
        }
    }
}

impl Default for Normalize {
    fn default() -> Self {
        Self::new(CRLF)
    }
}

impl Filter for Normalize {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        normalize(chunk, &mut self.ctx, &self.marker, out);
        Ok(())
    }
    fn end(&mut self, _out: &mut Vec<u8>) -> Result<()> {
        self.ctx = 0;
        Ok(())
    }
}

/// LuaSocket's `mime.eol(C, D, marker)`: normalises `d` given the state `ctx` left by the
/// previous call and returns the output and the new state. With `d` `None` it returns
/// `(None, 0)`.
pub fn eol(ctx: i64, d: Option<&[u8]>, marker: &[u8]) -> (Option<Vec<u8>>, i64) {
    match d {
        None => (None, 0),
        Some(d) => {
            let mut ctx = ctx;
            let mut out = Vec::new();
            normalize(d, &mut ctx, marker, &mut out);
            (Some(out), ctx)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltn12::filter_all;
    use crate::ltn12::testutil::run_split;
    use proptest::prelude::*;

    #[test]
    fn low_level_calls_match_luasocket() {
        let x = b"X";
        assert_eq!(
            eol(0, Some(b"a\rb\nc\r\nd\n\re\r\rf\n\ng"), x),
            (Some(b"aXbXcXdXeXXfXXg".to_vec()), 0)
        );
        assert_eq!(eol(0, Some(b"a\r"), x), (Some(b"aX".to_vec()), 13));
        assert_eq!(eol(13, Some(b"\nb"), x), (Some(b"b".to_vec()), 0));
        assert_eq!(eol(13, None, x), (None, 0));
        assert_eq!(eol(10, Some(b"\n"), x), (Some(b"X".to_vec()), 0));
        assert_eq!(eol(13, Some(b"\r"), x), (Some(b"X".to_vec()), 0));
        assert_eq!(eol(13, Some(b""), x), (Some(vec![]), 13));
        assert_eq!(eol(65, Some(b"\n"), x), (Some(b"X".to_vec()), 10));
        assert_eq!(eol(0, Some(b"a\nb"), CRLF), (Some(b"a\r\nb".to_vec()), 0));
        assert_eq!(eol(0, Some(b"\r\r\n"), x), (Some(b"XXX".to_vec()), 10));
    }

    #[test]
    fn every_break_style_becomes_the_marker() {
        for text in [&b"a\rb\r"[..], b"a\nb\n", b"a\r\nb\r\n", b"a\n\rb\n\r"] {
            assert_eq!(
                filter_all(&mut Normalize::default(), text).unwrap(),
                b"a\r\nb\r\n"
            );
        }
        assert_eq!(
            filter_all(&mut Normalize::new(b"\n"), b"a\r\nb").unwrap(),
            b"a\nb"
        );
    }

    proptest! {
        #[test]
        fn normalize_is_chunking_invariant(data in proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), any::<u8>()], 0..300),
            cuts in proptest::collection::vec(0usize..301, 0..10)) {
            let whole = filter_all(&mut Normalize::default(), &data).unwrap();
            prop_assert_eq!(run_split(&mut Normalize::default(), &data, &cuts), whole);
        }
    }
}
