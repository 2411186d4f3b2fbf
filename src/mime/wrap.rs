//! Line wrapping, as LuaSocket's `mime.wrap` does it.
//!
//! - Text (and base64) wrapping ([`TextWrap`], `wrp`): CR is dropped, LF becomes CRLF and
//!   starts a new line; a CRLF is inserted before a byte that would make the line longer
//!   than `length`. At the end a CRLF is added if the last line is not empty.
//! - Quoted-printable wrapping ([`QpWrap`], `qpwrp`): the same, but the breaks inserted
//!   are soft (`=\r\n`) and leave room for them, and an `=XX` sequence is never split (a
//!   break comes before an `=` when fewer than 4 columns are left). At the end a soft
//!   break is added if the last line is not empty.
//!
//! The state is the number of columns left on the current line, as in LuaSocket, where it
//! is a signed number (a zero or negative length wraps before every byte).

use super::base64::non_empty;
use crate::error::Result;
use crate::ltn12::Filter;

/// The default line length, `mime.wrap`'s 76.
pub const DEFAULT_LENGTH: i64 = 76;

/// Wraps a run of bytes that need no special treatment. A byte is put on a new line when
/// `left <= threshold` (0 for text, 1 for quoted-printable, which keeps a column for `=`).
fn wrap_plain(
    mut run: &[u8],
    left: &mut i64,
    length: i64,
    threshold: i64,
    brk: &[u8],
    out: &mut Vec<u8>,
) {
    while !run.is_empty() {
        if *left <= threshold {
            out.extend_from_slice(brk);
            *left = length;
            out.push(run[0]);
            *left = left.saturating_sub(1);
            run = &run[1..];
            continue;
        }
        let room = (*left - threshold) as u64;
        let k = (run.len() as u64).min(room) as usize;
        out.extend_from_slice(&run[..k]);
        *left -= k as i64;
        run = &run[k..];
    }
}

fn text_wrap(input: &[u8], left: &mut i64, length: i64, out: &mut Vec<u8>) {
    out.reserve(input.len() + input.len() / (length.max(1) as usize) * 2 + 2);
    let mut rest = input;
    while let Some(i) = memchr::memchr2(b'\r', b'\n', rest) {
        wrap_plain(&rest[..i], left, length, 0, b"\r\n", out);
        if rest[i] == b'\n' {
            out.extend_from_slice(b"\r\n");
            *left = length;
        }
        rest = &rest[i + 1..];
    }
    wrap_plain(rest, left, length, 0, b"\r\n", out);
}

fn qp_wrap(input: &[u8], left: &mut i64, length: i64, out: &mut Vec<u8>) {
    out.reserve(input.len() + input.len() / (length.max(1) as usize) * 3 + 3);
    let mut rest = input;
    while let Some(i) = memchr::memchr3(b'\r', b'\n', b'=', rest) {
        wrap_plain(&rest[..i], left, length, 1, b"=\r\n", out);
        match rest[i] {
            b'\n' => {
                out.extend_from_slice(b"\r\n");
                *left = length;
            }
            b'=' => {
                if *left <= 3 {
                    out.extend_from_slice(b"=\r\n");
                    *left = length;
                }
                out.push(b'=');
                *left = left.saturating_sub(1);
            }
            _ => {}
        }
        rest = &rest[i + 1..];
    }
    wrap_plain(rest, left, length, 1, b"=\r\n", out);
}

/// Text and base64 line wrapping (`mime.wrap("text", length)`, `mime.wrap("base64")`).
#[derive(Debug, Clone)]
pub struct TextWrap {
    length: i64,
    left: i64,
}

impl TextWrap {
    /// Wraps at `length` columns.
    pub fn new(length: i64) -> Self {
        TextWrap {
            length,
            left: length,
        }
    }
}

impl Default for TextWrap {
    fn default() -> Self {
        Self::new(DEFAULT_LENGTH)
    }
}

impl Filter for TextWrap {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        text_wrap(chunk, &mut self.left, self.length, out);
        Ok(())
    }
    fn end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        if self.left < self.length {
            out.extend_from_slice(b"\r\n");
        }
        self.left = self.length;
        Ok(())
    }
}

/// Quoted-printable line wrapping with soft line breaks (`mime.wrap("quoted-printable")`).
#[derive(Debug, Clone)]
pub struct QpWrap {
    length: i64,
    left: i64,
}

impl QpWrap {
    /// Wraps at `length` columns.
    pub fn new(length: i64) -> Self {
        QpWrap {
            length,
            left: length,
        }
    }
}

impl Default for QpWrap {
    fn default() -> Self {
        Self::new(DEFAULT_LENGTH)
    }
}

impl Filter for QpWrap {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        qp_wrap(chunk, &mut self.left, self.length, out);
        Ok(())
    }
    fn end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        if self.left < self.length {
            out.extend_from_slice(b"=\r\n");
        }
        self.left = self.length;
        Ok(())
    }
}

/// LuaSocket's `mime.wrp(n, C, length)`: wraps `c` with `n` columns left on the current
/// line and returns the output and the columns left. With `c` `None` (the end) it returns
/// a CRLF if the line is not empty (else `None`) and `length`.
pub fn wrp(left: i64, c: Option<&[u8]>, length: i64) -> (Option<Vec<u8>>, i64) {
    match c {
        None => (
            if left < length {
                Some(b"\r\n".to_vec())
            } else {
                None
            },
            length,
        ),
        Some(c) => {
            let mut left = left;
            let mut out = Vec::new();
            text_wrap(c, &mut left, length, &mut out);
            (Some(out), left)
        }
    }
}

/// LuaSocket's `mime.qpwrp(n, C, length)`: as [`wrp`] with soft line breaks.
pub fn qpwrp(left: i64, c: Option<&[u8]>, length: i64) -> (Option<Vec<u8>>, i64) {
    match c {
        None => (
            non_empty(if left < length {
                b"=\r\n".to_vec()
            } else {
                Vec::new()
            }),
            length,
        ),
        Some(c) => {
            let mut left = left;
            let mut out = Vec::new();
            qp_wrap(c, &mut left, length, &mut out);
            (Some(out), left)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltn12::filter_all;
    use crate::ltn12::testutil::run_split;
    use proptest::prelude::*;

    fn some(s: &[u8]) -> Option<Vec<u8>> {
        Some(s.to_vec())
    }

    #[test]
    fn low_level_calls_match_luasocket() {
        assert_eq!(wrp(76, Some(b"abc"), 76), (some(b"abc"), 73));
        assert_eq!(wrp(2, Some(b"abcde"), 3), (some(b"ab\r\ncde"), 0));
        assert_eq!(wrp(2, None, 3), (some(b"\r\n"), 3));
        assert_eq!(wrp(3, None, 3), (None, 3));
        assert_eq!(
            wrp(3, Some(b"ab\r\ncd\nefgh\rij"), 3),
            (some(b"ab\r\ncd\r\nefg\r\nhij"), 0)
        );
        assert_eq!(wrp(0, Some(b"abc"), 0), (some(b"\r\na\r\nb\r\nc"), -1));
        assert_eq!(wrp(5, Some(b""), 5), (some(b""), 5));
        assert_eq!(
            qpwrp(5, Some(b"ab=3Dcd=3Def"), 5),
            (some(b"ab=\r\n=3Dc=\r\nd=3D=\r\nef"), 3)
        );
        assert_eq!(
            qpwrp(5, Some(b"abcdefghijk"), 5),
            (some(b"abcd=\r\nefgh=\r\nijk"), 2)
        );
        assert_eq!(
            qpwrp(5, Some(b"ab\r\ncdefg=\r\nh"), 5),
            (some(b"ab\r\ncdef=\r\ng=\r\nh"), 4)
        );
        assert_eq!(qpwrp(2, None, 5), (some(b"=\r\n"), 5));
        assert_eq!(qpwrp(5, None, 5), (None, 5));
        assert_eq!(qpwrp(0, Some(b"ab"), 0), (some(b"=\r\na=\r\nb"), -1));
        assert_eq!(qpwrp(3, Some(b"=3D"), 3), (some(b"=\r\n=3=\r\nD"), 2));
    }

    #[test]
    fn base64_lines_are_76_columns() {
        let data = vec![b'x'; 200];
        let out = filter_all(&mut TextWrap::default(), &data).unwrap();
        let lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
        assert_eq!(lines[0].len(), 77);
        assert_eq!(lines[1].len(), 77);
        assert_eq!(lines[2], [&[b'x'; 48][..], b"\r"].concat().as_slice());
        assert!(out.ends_with(b"x\r\n"));
    }

    proptest! {
        #[test]
        fn wraps_are_chunking_invariant(data in proptest::collection::vec(
            prop_oneof![Just(b'='), Just(b'\r'), Just(b'\n'), any::<u8>()], 0..300),
            cuts in proptest::collection::vec(0usize..301, 0..10),
            length in -2i64..20) {
            let whole = filter_all(&mut TextWrap::new(length), &data).unwrap();
            prop_assert_eq!(run_split(&mut TextWrap::new(length), &data, &cuts), whole);
            let whole = filter_all(&mut QpWrap::new(length), &data).unwrap();
            prop_assert_eq!(run_split(&mut QpWrap::new(length), &data, &cuts), whole);
        }

        #[test]
        fn text_wrap_matches_a_byte_model(data in proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), any::<u8>()], 0..200), left in -2i64..10, length in -2i64..10) {
            let mut want = Vec::new();
            let mut l = left;
            for &c in &data {
                match c {
                    b'\r' => {}
                    b'\n' => { want.extend_from_slice(b"\r\n"); l = length; }
                    _ => {
                        if l <= 0 { want.extend_from_slice(b"\r\n"); l = length; }
                        want.push(c);
                        l -= 1;
                    }
                }
            }
            prop_assert_eq!(wrp(left, Some(&data), length), (Some(want), l));
        }

        #[test]
        fn qp_wrap_matches_a_byte_model(data in proptest::collection::vec(
            prop_oneof![Just(b'='), Just(b'\r'), Just(b'\n'), any::<u8>()], 0..200), left in -2i64..10, length in -2i64..10) {
            let mut want = Vec::new();
            let mut l = left;
            for &c in &data {
                match c {
                    b'\r' => {}
                    b'\n' => { want.extend_from_slice(b"\r\n"); l = length; }
                    b'=' => {
                        if l <= 3 { want.extend_from_slice(b"=\r\n"); l = length; }
                        want.push(c);
                        l -= 1;
                    }
                    _ => {
                        if l <= 1 { want.extend_from_slice(b"=\r\n"); l = length; }
                        want.push(c);
                        l -= 1;
                    }
                }
            }
            prop_assert_eq!(qpwrp(left, Some(&data), length), (Some(want), l));
        }
    }
}
