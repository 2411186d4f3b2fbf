//! SMTP dot-stuffing (RFC 5321 section 4.5.2), as LuaSocket's `mime.stuff` does it, with an
//! optional end-of-data line.
//!
//! A `.` at the start of a line (after CRLF, or at the very start) gets a second `.`. The
//! state between chunks counts how much of a CRLF was just seen: 2 at the start of a
//! line, 1 after a CR, 0 otherwise, as in LuaSocket's `mime.dot`.

use crate::error::Result;
use crate::ltn12::Filter;

fn stuff(input: &[u8], state: &mut i64, out: &mut Vec<u8>) {
    out.reserve(input.len() + 8);
    let mut rest = input;
    while let Some(i) = memchr::memchr3(b'\r', b'\n', b'.', rest) {
        if i > 0 {
            out.extend_from_slice(&rest[..i]);
            *state = 0;
        }
        let c = rest[i];
        out.push(c);
        *state = match c {
            b'\r' => 1,
            b'\n' => {
                if *state == 1 {
                    2
                } else {
                    0
                }
            }
            _ => {
                if *state == 2 {
                    out.push(b'.');
                }
                0
            }
        };
        rest = &rest[i + 1..];
    }
    if !rest.is_empty() {
        out.extend_from_slice(rest);
        *state = 0;
    }
}

/// Dot-stuffing (`mime.stuff()`), optionally followed by the end-of-data line.
#[derive(Debug, Clone)]
pub struct DotStuff {
    state: i64,
    final_line: bool,
}

impl DotStuff {
    /// LuaSocket's `mime.stuff()`: stuffs, adds nothing at the end.
    pub fn new() -> Self {
        DotStuff {
            state: 2,
            final_line: false,
        }
    }

    /// Stuffs and ends the data as SMTP's DATA command needs: `.\r\n` when the data ended
    /// with CRLF (or was empty), `\r\n.\r\n` otherwise.
    pub fn smtp() -> Self {
        DotStuff {
            state: 2,
            final_line: true,
        }
    }
}

impl Default for DotStuff {
    fn default() -> Self {
        Self::new()
    }
}

impl Filter for DotStuff {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        stuff(chunk, &mut self.state, out);
        Ok(())
    }
    fn end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        if self.final_line {
            if self.state != 2 {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b".\r\n");
        }
        self.state = 2;
        Ok(())
    }
}

/// LuaSocket's `mime.dot(m, C)`: stuffs `c` given the state `m` and returns the output and
/// the new state. With `c` `None` it returns `(None, 2)`.
pub fn dot(state: i64, c: Option<&[u8]>) -> (Option<Vec<u8>>, i64) {
    match c {
        None => (None, 2),
        Some(c) => {
            let mut state = state;
            let mut out = Vec::new();
            stuff(c, &mut state, &mut out);
            (Some(out), state)
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
        assert_eq!(
            dot(2, Some(b".a\r\n.b\r\n..c\n.d")),
            (Some(b"..a\r\n..b\r\n...c\n.d".to_vec()), 0)
        );
        assert_eq!(dot(0, Some(b".a")), (Some(b".a".to_vec()), 0));
        assert_eq!(dot(1, None), (None, 2));
        assert_eq!(dot(1, Some(b"\n.x\r")), (Some(b"\n..x\r".to_vec()), 1));
        assert_eq!(dot(2, Some(b"")), (Some(vec![]), 2));
        assert_eq!(dot(5, Some(b".a")), (Some(b".a".to_vec()), 0));
        assert_eq!(
            dot(2, Some(b"\r\n.\r\n")),
            (Some(b"\r\n..\r\n".to_vec()), 2)
        );
    }

    #[test]
    fn smtp_end_of_data() {
        assert_eq!(filter_all(&mut DotStuff::smtp(), b"").unwrap(), b".\r\n");
        assert_eq!(
            filter_all(&mut DotStuff::smtp(), b"hi\r\n").unwrap(),
            b"hi\r\n.\r\n"
        );
        assert_eq!(
            filter_all(&mut DotStuff::smtp(), b".hi").unwrap(),
            b"..hi\r\n.\r\n"
        );
        assert_eq!(filter_all(&mut DotStuff::new(), b".hi").unwrap(), b"..hi");
    }

    proptest! {
        #[test]
        fn stuffing_is_chunking_invariant(data in proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'.'), any::<u8>()], 0..300),
            cuts in proptest::collection::vec(0usize..301, 0..10)) {
            let whole = filter_all(&mut DotStuff::smtp(), &data).unwrap();
            prop_assert_eq!(run_split(&mut DotStuff::smtp(), &data, &cuts), whole);
            // Removing the dot at the start of each line gives the data back.
            let stuffed = filter_all(&mut DotStuff::new(), &data).unwrap();
            let mut back = Vec::new();
            let mut start = true;
            let mut i = 0;
            while i < stuffed.len() {
                if start && stuffed[i] == b'.' {
                    prop_assert_eq!(stuffed.get(i + 1), Some(&b'.'));
                    i += 1;
                }
                back.push(stuffed[i]);
                start = back.ends_with(b"\r\n");
                i += 1;
            }
            prop_assert_eq!(back, data);
        }
    }
}
