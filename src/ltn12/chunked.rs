//! The HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1) as two filters.
//!
//! [`ChunkedEncoder`] frames every non-empty chunk as `<HEX>\r\n<data>\r\n` (upper-case
//! hex, as LuaSocket writes it) and at the end writes the last chunk `0\r\n`, optional
//! trailer fields and the final `\r\n`. [`ChunkedDecoder`] removes the coding, accepting
//! chunk extensions (ignored), upper- or lower-case hex, and bare LF line ends; the trailer
//! section is handed to the caller. Malformed input is a `Protocol` error.

use super::Filter;
use crate::error::{Error, ErrorKind, Result};

/// Longest chunk-size line (with extensions) the decoder accepts.
pub const MAX_SIZE_LINE: usize = 4096;
/// Largest trailer section the decoder accepts.
pub const MAX_TRAILERS: usize = 64 * 1024;

fn protocol(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Protocol, msg)
}

/// What is wrong with a chunk-size line (see [`chunk_size_line`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeLineError {
    /// Not hex digits followed by optional whitespace and `;extensions`.
    Malformed,
    /// More significant hex digits than allowed.
    TooLong,
}

/// Parses a chunk-size line (without its LF; a CR at its end is dropped): hex digits,
/// then optional whitespace and `;extensions`, with at most `max_digits` significant
/// digits (leading zeros do not count). The one parser of chunk sizes: the LTN12 decoder
/// and the HTTP body reader word its errors each their own way.
pub fn chunk_size_line(line: &[u8], max_digits: usize) -> std::result::Result<u64, SizeLineError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let digits_end = line
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(line.len());
    let (digits, rest) = line.split_at(digits_end);
    let tail = rest.iter().position(|&b| b != b' ' && b != b'\t');
    if digits.is_empty() || tail.is_some_and(|i| rest[i] != b';') {
        return Err(SizeLineError::Malformed);
    }
    let significant = digits
        .iter()
        .position(|&b| b != b'0')
        .map_or(&digits[digits.len()..], |i| &digits[i..]);
    if significant.len() > max_digits {
        return Err(SizeLineError::TooLong);
    }
    Ok(significant.iter().fold(0u64, |n, &d| {
        (n << 4) | u64::from((d as char).to_digit(16).unwrap_or(0))
    }))
}

/// Parses a chunk-size line for the LTN12 decoder (at most 15 significant digits).
pub fn parse_size_line(line: &[u8]) -> Result<u64> {
    chunk_size_line(line, 15).map_err(|e| match e {
        SizeLineError::Malformed => protocol(format!(
            "chunked coding: bad chunk size line {:?}",
            String::from_utf8_lossy(&line[..line.len().min(40)])
        )),
        SizeLineError::TooLong => protocol("chunked coding: chunk size too large"),
    })
}

/// Checks one trailer field line (without its line end): `name: value`, no NUL or CR.
pub fn check_trailer_line(line: &[u8]) -> Result<()> {
    let colon = line.iter().position(|&b| b == b':');
    let ok_name = match colon {
        Some(0) | None => false,
        Some(i) => line[..i].iter().all(|&b| b.is_ascii_graphic()),
    };
    if !ok_name || line.iter().any(|&b| b == 0 || b == b'\r' || b == b'\n') {
        return Err(protocol(format!(
            "chunked coding: bad trailer field {:?}",
            String::from_utf8_lossy(&line[..line.len().min(40)])
        )));
    }
    Ok(())
}

/// Splits a trailer section (as handed out by the decoder: `name: value\r\n` lines) into
/// name and value pairs, values trimmed of surrounding blanks.
pub fn parse_trailers(raw: &[u8]) -> Vec<(String, String)> {
    raw.split(|&b| b == b'\n')
        .filter_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let i = line.iter().position(|&b| b == b':')?;
            let name = String::from_utf8_lossy(&line[..i]).into_owned();
            let value = String::from_utf8_lossy(&line[i + 1..])
                .trim_matches(|c| c == ' ' || c == '\t')
                .to_string();
            Some((name, value))
        })
        .collect()
}

/// Appends `n` in upper-case hex.
pub(crate) fn push_hex(out: &mut Vec<u8>, n: usize) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut tmp = [0u8; 16];
    let mut i = tmp.len();
    let mut v = n;
    loop {
        i -= 1;
        tmp[i] = DIGITS[v & 15];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Applies the chunked coding.
#[derive(Debug, Default, Clone)]
pub struct ChunkedEncoder {
    trailers: Vec<u8>,
    ended: bool,
}

impl ChunkedEncoder {
    /// An encoder with no trailer fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a trailer field written after the last chunk. Names must be tokens and
    /// values free of CR, LF and NUL.
    pub fn trailer(mut self, name: &str, value: &str) -> Result<Self> {
        let ok_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !ok_name || value.bytes().any(|b| b == 0 || b == b'\r' || b == b'\n') {
            return Err(Error::invalid(format!("bad trailer field {name:?}")));
        }
        self.trailers.extend_from_slice(name.as_bytes());
        self.trailers.extend_from_slice(b": ");
        self.trailers.extend_from_slice(value.as_bytes());
        self.trailers.extend_from_slice(b"\r\n");
        Ok(self)
    }
}

impl Filter for ChunkedEncoder {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        out.reserve(chunk.len() + 20);
        push_hex(out, chunk.len());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
        Ok(())
    }

    fn end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        if !self.ended {
            self.ended = true;
            out.extend_from_slice(b"0\r\n");
            out.extend_from_slice(&self.trailers);
            out.extend_from_slice(b"\r\n");
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecState {
    SizeLine,
    Data(u64),
    DataEnd { seen_cr: bool },
    Trailers,
    Done,
    Failed,
}

/// A callback that receives the raw trailer section.
pub type TrailerFn = Box<dyn FnMut(&[u8]) + Send>;

/// Removes the chunked coding. The trailer section (the `name: value\r\n` lines after the
/// last chunk, possibly none) is kept and available from [`ChunkedDecoder::trailers`]
/// and, when set, handed to the [`ChunkedDecoder::on_trailers`] callback as soon as the
/// last chunk has been read. Bytes after the end of the coding, or an input that ends
/// before it, are `Protocol` errors.
pub struct ChunkedDecoder {
    state: DecState,
    line: Vec<u8>,
    trailers: Vec<u8>,
    on_trailers: Option<TrailerFn>,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub fn new() -> Self {
        ChunkedDecoder {
            state: DecState::SizeLine,
            line: Vec::new(),
            trailers: Vec::new(),
            on_trailers: None,
        }
    }

    /// Calls `f` with the trailer section when the body's end has been read.
    pub fn on_trailers(mut self, f: impl FnMut(&[u8]) + Send + 'static) -> Self {
        self.on_trailers = Some(Box::new(f));
        self
    }

    /// The trailer section read so far (complete once the decoder is done).
    pub fn trailers(&self) -> &[u8] {
        &self.trailers
    }

    /// Whether the whole coding, last chunk and trailers included, has been read.
    pub fn is_done(&self) -> bool {
        self.state == DecState::Done
    }

    fn fail(&mut self, e: Error) -> Error {
        self.state = DecState::Failed;
        e
    }

    /// Takes bytes into `self.line` up to and including a LF; returns how many bytes of
    /// `input` were used and whether the line is complete.
    fn take_line(&mut self, input: &[u8], limit: usize) -> Result<(usize, bool)> {
        let (used, done) = match memchr::memchr(b'\n', input) {
            Some(i) => (i + 1, true),
            None => (input.len(), false),
        };
        if self.line.len() + used > limit {
            return Err(protocol("chunked coding: line too long"));
        }
        self.line.extend_from_slice(&input[..used]);
        if done {
            self.line.pop();
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
        }
        Ok((used, done))
    }

    fn run(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        while !input.is_empty() {
            match self.state {
                DecState::SizeLine => {
                    let (used, done) = self.take_line(input, MAX_SIZE_LINE)?;
                    input = &input[used..];
                    if done {
                        let n = parse_size_line(&self.line)?;
                        self.line.clear();
                        self.state = if n == 0 {
                            DecState::Trailers
                        } else {
                            DecState::Data(n)
                        };
                    }
                }
                DecState::Data(left) => {
                    let take = (left.min(input.len() as u64)) as usize;
                    out.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        DecState::DataEnd { seen_cr: false }
                    } else {
                        DecState::Data(left)
                    };
                }
                DecState::DataEnd { seen_cr } => {
                    let b = input[0];
                    input = &input[1..];
                    match (seen_cr, b) {
                        (false, b'\r') => self.state = DecState::DataEnd { seen_cr: true },
                        (_, b'\n') => self.state = DecState::SizeLine,
                        _ => {
                            return Err(protocol("chunked coding: chunk data not followed by CRLF"))
                        }
                    }
                }
                DecState::Trailers => {
                    let room = MAX_TRAILERS.saturating_sub(self.trailers.len());
                    let (used, done) = self
                        .take_line(input, room.min(MAX_SIZE_LINE * 2))
                        .map_err(|_| protocol("chunked coding: trailer section too large"))?;
                    input = &input[used..];
                    if done {
                        if self.line.is_empty() {
                            self.state = DecState::Done;
                            if let Some(f) = self.on_trailers.as_mut() {
                                f(&self.trailers);
                            }
                        } else {
                            check_trailer_line(&self.line)?;
                            if self.trailers.len() + self.line.len() + 2 > MAX_TRAILERS {
                                return Err(protocol("chunked coding: trailer section too large"));
                            }
                            self.trailers.extend_from_slice(&self.line);
                            self.trailers.extend_from_slice(b"\r\n");
                            self.line.clear();
                        }
                    }
                }
                DecState::Done => {
                    return Err(protocol("chunked coding: data after the last chunk"));
                }
                DecState::Failed => return Err(protocol("chunked coding: decoder has failed")),
            }
        }
        Ok(())
    }
}

impl Filter for ChunkedDecoder {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.run(chunk, out).map_err(|e| self.fail(e))
    }

    fn end(&mut self, _out: &mut Vec<u8>) -> Result<()> {
        match self.state {
            DecState::Done => Ok(()),
            DecState::Failed => Err(protocol("chunked coding: decoder has failed")),
            _ => Err(self.fail(Error::new(
                ErrorKind::Closed,
                "chunked coding: body ended before its last chunk",
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltn12::filter_all;
    use crate::ltn12::testutil::run_split;
    use proptest::prelude::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn encoder_frames_chunks_and_ends() {
        let mut e = ChunkedEncoder::new();
        let mut out = Vec::new();
        e.put(b"hello", &mut out).unwrap();
        e.put(b"", &mut out).unwrap();
        e.put(&[b'x'; 26], &mut out).unwrap();
        e.end(&mut out).unwrap();
        e.end(&mut out).unwrap();
        let want = [&b"5\r\nhello\r\n1A\r\n"[..], &[b'x'; 26], b"\r\n0\r\n\r\n"].concat();
        assert_eq!(out, want);
        let mut e = ChunkedEncoder::new().trailer("Expires", "never").unwrap();
        assert_eq!(
            filter_all(&mut e, b"").unwrap(),
            b"0\r\nExpires: never\r\n\r\n"
        );
        assert!(ChunkedEncoder::new().trailer("A", "b\r\nc").is_err());
        assert!(ChunkedEncoder::new().trailer("A B", "c").is_err());
    }

    #[test]
    fn decoder_handles_extensions_case_lf_and_trailers() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let mut d =
            ChunkedDecoder::new().on_trailers(move |t| s2.lock().unwrap().extend_from_slice(t));
        let body = b"4;name=val\r\nWiki\r\n5 \r\npedia\r\ne\n in\r\n\r\nchunks.\n000\r\nX-A: 1\r\nX-B:  two \n\r\n";
        let out = filter_all(&mut d, body).unwrap();
        assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.");
        assert!(d.is_done());
        assert_eq!(d.trailers(), b"X-A: 1\r\nX-B:  two \r\n");
        assert_eq!(&*seen.lock().unwrap(), b"X-A: 1\r\nX-B:  two \r\n");
        assert_eq!(
            parse_trailers(d.trailers()),
            vec![("X-A".into(), "1".into()), ("X-B".into(), "two".into())]
        );
    }

    #[test]
    fn decoder_rejects_malformed_input() {
        let bad: &[&[u8]] = &[
            b"g\r\n",
            b"\r\n",
            b"5\r\nabcdeX\r\n",
            b"1x\r\n",
            b"1234567890abcdef0\r\n",
            b"0\r\nbad trailer\r\n\r\n",
            b"0\r\n\r\nextra",
        ];
        for b in bad {
            let e = filter_all(&mut ChunkedDecoder::new(), b).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Protocol, "{:?}: {}", b, e.msg);
        }
        let e = filter_all(&mut ChunkedDecoder::new(), b"5\r\nab").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Closed);
        let long = vec![b'1'; MAX_SIZE_LINE + 10];
        assert!(filter_all(&mut ChunkedDecoder::new(), &long).is_err());
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        assert!(d.put(b"zz\r\n", &mut out).is_err());
        assert!(
            d.put(b"1\r\na\r\n", &mut out).is_err(),
            "failed stays failed"
        );
    }

    #[test]
    fn size_line_parsing() {
        assert_eq!(parse_size_line(b"0").unwrap(), 0);
        assert_eq!(parse_size_line(b"00000000000000000001a").unwrap(), 26);
        assert_eq!(parse_size_line(b"fFfF ; x=y").unwrap(), 0xffff);
        assert_eq!(parse_size_line(b"10\r").unwrap(), 16);
        assert!(parse_size_line(b"").is_err());
        assert!(parse_size_line(b" 1").is_err());
        assert!(parse_size_line(b"1 2").is_err());
        assert!(parse_size_line(b"1000000000000000").is_err());
    }

    proptest! {
        #[test]
        fn chunked_round_trip_and_chunking_invariance(
            data in proptest::collection::vec(any::<u8>(), 0..600),
            cuts in proptest::collection::vec(0usize..601, 0..10),
            cuts2 in proptest::collection::vec(0usize..2000, 0..10),
        ) {
            let whole = run_split(&mut ChunkedEncoder::new(), &data, &[]);
            let split = run_split(&mut ChunkedEncoder::new(), &data, &cuts);
            // The framing depends on the chunks (it is the coding's purpose), the payload does not.
            let back = run_split(&mut ChunkedDecoder::new(), &split, &cuts2);
            prop_assert_eq!(&back, &data);
            let back = run_split(&mut ChunkedDecoder::new(), &whole, &[]);
            prop_assert_eq!(&back, &data);
        }
    }
}
