//! The read shapes every stream serves, driven over a [`ReadBuf`] and any [`Source`] of
//! bytes: LuaSocket receive patterns (line, word, all, count) and Moonbridge reads and
//! drains (maxlen + terminator -> term / maxlen / eof / block).
//!
//! The drivers know nothing about sockets or waiting: a `Source` reads once, waiting as it
//! was told to, and reports end of stream as `Ok(0)`. That keeps every rule here testable
//! with a scripted source (see the tests, which cut inputs at every possible point).
//!
//! Nothing received is lost: every driver appends to the caller's `out` as it goes, so when
//! a source fails (timeout, would block, reset) the bytes read so far are already there.

use super::readbuf::{LineMode, ReadBuf, ScanState};
use crate::error::{Error, ErrorKind, Result};

/// A request with at least this many bytes still wanted, made while the read buffer is
/// empty, reads straight into the caller's output (one copy, from the kernel).
///
/// cbindgen:ignore
pub const DIRECT_MIN: usize = 8 * 1024;

/// A LuaSocket receive pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// A line ending at LF ("*l", "*lu"); the LF is not returned.
    Line(LineMode),
    /// LuaSocket 1.3b "*w": skip leading white space, then read up to the next white space
    /// (which stays unread).
    Word,
    /// "*a": everything until the peer closes.
    All,
    /// A number: exactly that many bytes.
    Count(usize),
}

/// How a Moonbridge read or drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    /// The last byte returned is the terminator ("term").
    Term,
    /// `maxlen` bytes were returned without a terminator ("maxlen").
    MaxLen,
    /// The peer closed before either ("eof").
    Eof,
    /// A non-blocking read stopped because it would block ("block").
    Block,
}

impl ReadEnd {
    /// Moonbridge's status string.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadEnd::Term => "term",
            ReadEnd::MaxLen => "maxlen",
            ReadEnd::Eof => "eof",
            ReadEnd::Block => "block",
        }
    }
}

/// Where the bytes come from.
pub trait Source {
    /// Reads once into `buf` (never empty), waiting as the source was told to. `Ok(0)` is
    /// end of stream; `Err(WouldBlock)` means "not now" for a source that must not wait.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize>;

    /// Reads once, appending at most `max` bytes to `out`; same results as `read`.
    fn read_into(&mut self, out: &mut Vec<u8>, max: usize) -> Result<usize>;
}

fn closed() -> Error {
    Error::kind(ErrorKind::Closed)
}

/// LuaSocket receive: appends what `pat` asks for to `out`.
///
/// - `Line` and `Word` succeed when their delimiter arrives; `Count(n)` when `n` bytes are
///   there. If the peer closes first they fail with `Closed`, the partial data appended.
/// - `All` succeeds when the peer closes (whatever was read, possibly nothing).
/// - `Count(0)` succeeds at once when input is buffered; otherwise it waits until some
///   arrives (which it leaves unread) and fails with `Closed` at end of stream, like
///   LuaSocket 3.
/// - Errors from the source (`Timeout`, ...) come back as they are, partial data appended.
pub fn receive<S: Source>(
    rb: &mut ReadBuf,
    src: &mut S,
    pat: Pattern,
    out: &mut Vec<u8>,
) -> Result<()> {
    match pat {
        Pattern::Line(mode) => receive_line(rb, src, mode, out, &mut ScanState::default()),
        Pattern::Word => {
            let mut st = ScanState::default();
            loop {
                if rb.take_word(out, &mut st) {
                    return Ok(());
                }
                if rb.fill_with(|b| src.read(b))? == 0 {
                    return Err(closed());
                }
            }
        }
        Pattern::All => {
            rb.take(usize::MAX, out);
            while src.read_into(out, usize::MAX)? > 0 {}
            Ok(())
        }
        Pattern::Count(0) => {
            if rb.is_empty() && rb.fill_with(|b| src.read(b))? == 0 {
                return Err(closed());
            }
            Ok(())
        }
        Pattern::Count(n) => {
            let mut got = rb.take(n, out);
            while got < n {
                let left = n - got;
                if left >= DIRECT_MIN {
                    let k = src.read_into(out, left)?;
                    if k == 0 {
                        return Err(closed());
                    }
                    got += k;
                } else {
                    if rb.fill_with(|b| src.read(b))? == 0 {
                        return Err(closed());
                    }
                    got += rb.take(left, out);
                }
            }
            Ok(())
        }
    }
}

/// The line pattern of [`receive`], continuing a line whose start a caller may already
/// have taken from `rb` with `st` (a fresh `ScanState` otherwise).
pub fn receive_line<S: Source>(
    rb: &mut ReadBuf,
    src: &mut S,
    mode: LineMode,
    out: &mut Vec<u8>,
    st: &mut ScanState,
) -> Result<()> {
    loop {
        if rb.take_line(mode, out, st) {
            return Ok(());
        }
        if rb.fill_with(|b| src.read(b))? == 0 {
            return Err(closed());
        }
    }
}

/// Moonbridge read (with `out`) or drain (without): consumes up to `maxlen` bytes (`None`:
/// no limit), stopping after the first `term` byte, which is included.
///
/// Returns how many bytes were consumed, and the end: `Term` when the last byte is the
/// terminator, `MaxLen` when `maxlen` bytes came without one, `Eof` when the peer closed
/// first, `Block` when the source reported `WouldBlock`. `maxlen == Some(0)` returns
/// `(0, MaxLen)` at once without reading, as Moonbridge does. Other source errors come back
/// as `Err`, with the bytes read so far already appended to `out` (and counted).
pub fn read<S: Source>(
    rb: &mut ReadBuf,
    src: &mut S,
    maxlen: Option<usize>,
    term: Option<u8>,
    mut out: Option<&mut Vec<u8>>,
) -> (usize, Result<ReadEnd>) {
    let mut got = 0usize;
    loop {
        let limit = maxlen.map_or(usize::MAX, |m| m - got);
        let (n, found) = rb.take_until(limit, term, out.as_deref_mut());
        got += n;
        if found {
            return (got, Ok(ReadEnd::Term));
        }
        if maxlen == Some(got) {
            return (got, Ok(ReadEnd::MaxLen));
        }
        // The buffer is empty now: read more.
        let left = limit - n;
        let r = match out.as_deref_mut() {
            Some(o) if term.is_none() && left >= DIRECT_MIN => src.read_into(o, left).map(|k| {
                got += k;
                k
            }),
            _ => rb.fill_with(|b| src.read(b)),
        };
        match r {
            Ok(0) => return (got, Ok(ReadEnd::Eof)),
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::WouldBlock => return (got, Ok(ReadEnd::Block)),
            Err(e) => return (got, Err(e)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::io::readbuf::is_space;
    use std::collections::VecDeque;

    /// A scripted source: each step hands out (part of) one chunk, or one error. When the
    /// script runs out it reports end of stream forever.
    pub struct Script {
        steps: VecDeque<std::result::Result<Vec<u8>, ErrorKind>>,
        pub reads: usize,
    }

    impl Script {
        pub fn new(chunks: &[&[u8]]) -> Script {
            Script {
                steps: chunks
                    .iter()
                    .filter(|c| !c.is_empty())
                    .map(|c| Ok(c.to_vec()))
                    .collect(),
                reads: 0,
            }
        }

        pub fn then_err(mut self, kind: ErrorKind) -> Script {
            self.steps.push_back(Err(kind));
            self
        }

        pub fn then(mut self, chunk: &[u8]) -> Script {
            self.steps.push_back(Ok(chunk.to_vec()));
            self
        }

        fn next(&mut self, max: usize) -> Result<Vec<u8>> {
            self.reads += 1;
            match self.steps.pop_front() {
                None => Ok(Vec::new()),
                Some(Err(k)) => Err(Error::kind(k)),
                Some(Ok(mut c)) => {
                    if c.len() > max {
                        let rest = c.split_off(max);
                        self.steps.push_front(Ok(rest));
                    }
                    Ok(c)
                }
            }
        }
    }

    impl Source for Script {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
            let c = self.next(buf.len())?;
            buf[..c.len()].copy_from_slice(&c);
            Ok(c.len())
        }

        fn read_into(&mut self, out: &mut Vec<u8>, max: usize) -> Result<usize> {
            let c = self.next(max)?;
            out.extend_from_slice(&c);
            Ok(c.len())
        }
    }

    /// One receive result: Ok or the error kind, plus the bytes appended.
    pub(crate) type Got = (std::result::Result<(), ErrorKind>, Vec<u8>);

    fn run(src: &mut Script, rb: &mut ReadBuf, pat: Pattern) -> Got {
        let mut out = Vec::new();
        let r = receive(rb, src, pat, &mut out).map_err(|e| e.kind);
        (r, out)
    }

    /// A byte-at-a-time model of each pattern over the whole input, written independently
    /// of the scanners: the expected result sequence until the stream is exhausted.
    pub(crate) fn model(input: &[u8], pat: Pattern, pos: &mut usize) -> Got {
        let rest = &input[*pos..];
        match pat {
            Pattern::Line(mode) => match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    *pos += i + 1;
                    let mut line = rest[..i].to_vec();
                    match mode {
                        LineMode::Raw => {}
                        LineMode::StripAllCr => line.retain(|&b| b != b'\r'),
                        LineMode::StripCrBeforeLf => {
                            if line.last() == Some(&b'\r') {
                                line.pop();
                            }
                        }
                    }
                    (Ok(()), line)
                }
                None => {
                    *pos = input.len();
                    let mut line = rest.to_vec();
                    if mode == LineMode::StripAllCr {
                        line.retain(|&b| b != b'\r');
                    }
                    (Err(ErrorKind::Closed), line)
                }
            },
            Pattern::Word => {
                let start = rest.iter().position(|&b| !is_space(b));
                match start {
                    None => {
                        *pos = input.len();
                        (Err(ErrorKind::Closed), Vec::new())
                    }
                    Some(s) => match rest[s..].iter().position(|&b| is_space(b)) {
                        Some(e) => {
                            *pos += s + e;
                            (Ok(()), rest[s..s + e].to_vec())
                        }
                        None => {
                            *pos = input.len();
                            (Err(ErrorKind::Closed), rest[s..].to_vec())
                        }
                    },
                }
            }
            Pattern::All => {
                *pos = input.len();
                (Ok(()), rest.to_vec())
            }
            Pattern::Count(n) => {
                if n == 0 {
                    let r = if rest.is_empty() {
                        Err(ErrorKind::Closed)
                    } else {
                        Ok(())
                    };
                    return (r, Vec::new());
                }
                let k = n.min(rest.len());
                *pos += k;
                let r = if k == n {
                    Ok(())
                } else {
                    Err(ErrorKind::Closed)
                };
                (r, rest[..k].to_vec())
            }
        }
    }

    pub(crate) const INPUTS: &[&[u8]] = &[
        b"",
        b"\n",
        b"abc",
        b"line one\r\nline two\n\nlast",
        b"a\r\r\nb\rc\n\r\n\rx\r",
        b"nul\x00inside\x00\nand\r\x00\r\n",
        b"  leading words\tand\x0bmore\x0c\r\n  spaced   ",
        b"\r\n\r\n\n\r",
    ];

    pub(crate) fn patterns() -> Vec<Pattern> {
        vec![
            Pattern::Line(LineMode::StripAllCr),
            Pattern::Line(LineMode::StripCrBeforeLf),
            Pattern::Line(LineMode::Raw),
            Pattern::Word,
            Pattern::All,
            Pattern::Count(1),
            Pattern::Count(3),
            Pattern::Count(7),
            Pattern::Count(0),
        ]
    }

    /// Applies `pat` until the model says the input is used up, under the given chunking,
    /// and compares every result with the model.
    fn check_chunking(input: &[u8], chunks: &[&[u8]], pat: Pattern) {
        let mut src = Script::new(chunks);
        let mut rb = ReadBuf::new();
        let mut pos = 0;
        for round in 0..input.len() + 2 {
            let want = model(input, pat, &mut pos);
            let got = run(&mut src, &mut rb, pat);
            assert_eq!(
                got,
                want,
                "pattern {pat:?}, input {:?}, chunks {chunks:?}, round {round}",
                String::from_utf8_lossy(input)
            );
            if want.0.is_err() || pat == Pattern::All {
                break;
            }
        }
    }

    #[test]
    fn every_pattern_at_every_split_point() {
        for input in INPUTS {
            for pat in patterns() {
                check_chunking(input, &[input], pat);
                for k in 0..=input.len() {
                    let (a, b) = input.split_at(k);
                    check_chunking(input, &[a, b], pat);
                }
            }
        }
    }

    #[test]
    fn byte_by_byte_chunks() {
        for input in INPUTS {
            let chunks: Vec<&[u8]> = input.chunks(1).collect();
            for pat in patterns() {
                check_chunking(input, &chunks, pat);
            }
        }
    }

    #[test]
    fn random_splits() {
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 300,
            ..ProptestConfig::default()
        });
        let alphabet = prop::sample::select(vec![b'a', b'b', b'\r', b'\n', b' ', b'\t', 0u8]);
        let strat = (
            prop::collection::vec(alphabet, 0..200),
            prop::collection::vec(1usize..40, 1..20),
            0usize..9,
        );
        runner
            .run(&strat, |(input, cuts, pi)| {
                let mut chunks: Vec<&[u8]> = Vec::new();
                let mut rest = &input[..];
                for c in cuts {
                    let (a, b) = rest.split_at(c.min(rest.len()));
                    chunks.push(a);
                    rest = b;
                }
                chunks.push(rest);
                check_chunking(&input, &chunks, patterns()[pi]);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn mixed_patterns_share_the_buffer() {
        let mut src = Script::new(&[b"HEAD 12\r\nword1  word2\nabcdefXYZ", b"tail"]);
        let mut rb = ReadBuf::new();
        let r = run(&mut src, &mut rb, Pattern::Word);
        assert_eq!(r, (Ok(()), b"HEAD".to_vec()));
        let r = run(&mut src, &mut rb, Pattern::Line(LineMode::StripAllCr));
        assert_eq!(r, (Ok(()), b" 12".to_vec()));
        let r = run(&mut src, &mut rb, Pattern::Word);
        assert_eq!(r, (Ok(()), b"word1".to_vec()));
        let r = run(&mut src, &mut rb, Pattern::Line(LineMode::Raw));
        assert_eq!(r, (Ok(()), b"  word2".to_vec()));
        let r = run(&mut src, &mut rb, Pattern::Count(6));
        assert_eq!(r, (Ok(()), b"abcdef".to_vec()));
        let r = run(&mut src, &mut rb, Pattern::All);
        assert_eq!(r, (Ok(()), b"XYZtail".to_vec()));
    }

    #[test]
    fn lines_longer_than_the_buffer() {
        let long: Vec<u8> = (0..1_200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let mut input = long.clone();
        input.extend_from_slice(b"\r\nnext\n");
        // Delivered in pieces bigger and smaller than the buffer.
        let chunks: Vec<&[u8]> = input.chunks(100_000).collect();
        let mut src = Script::new(&chunks);
        let mut rb = ReadBuf::new();
        let r = run(&mut src, &mut rb, Pattern::Line(LineMode::StripCrBeforeLf));
        assert_eq!(r.0, Ok(()));
        assert_eq!(r.1, long);
        // The buffer stays at its largest chunk size, far below the line's length.
        assert!(rb.capacity() <= 2 * crate::io::readbuf::MAX_READ_CHUNK);
        let r = run(&mut src, &mut rb, Pattern::Line(LineMode::StripCrBeforeLf));
        assert_eq!(r, (Ok(()), b"next".to_vec()));
    }

    #[test]
    fn errors_keep_the_partial_data() {
        for pat in [
            Pattern::Line(LineMode::StripAllCr),
            Pattern::Word,
            Pattern::All,
            Pattern::Count(10),
        ] {
            let mut src = Script::new(&[b"part"]).then_err(ErrorKind::Timeout);
            let mut rb = ReadBuf::new();
            let r = run(&mut src, &mut rb, pat);
            assert_eq!(r, (Err(ErrorKind::Timeout), b"part".to_vec()), "{pat:?}");
        }
        // The rest arrives later and a new call picks up where the data is.
        let mut src = Script::new(&[b"ab"])
            .then_err(ErrorKind::Timeout)
            .then(b"c\n");
        let mut rb = ReadBuf::new();
        let pat = Pattern::Line(LineMode::Raw);
        assert_eq!(
            run(&mut src, &mut rb, pat),
            (Err(ErrorKind::Timeout), b"ab".to_vec())
        );
        assert_eq!(run(&mut src, &mut rb, pat), (Ok(()), b"c".to_vec()));
    }

    #[test]
    fn large_counts_read_directly_into_the_output() {
        let big = vec![7u8; 200_000];
        let mut src = Script::new(&[&big[..1000], &big[1000..]]);
        let mut rb = ReadBuf::new();
        let mut out = Vec::new();
        receive(&mut rb, &mut src, Pattern::Count(150_000), &mut out).unwrap();
        assert_eq!(out.len(), 150_000);
        // Never went through the read buffer: it was not even allocated.
        assert_eq!(rb.capacity(), 0);
        assert_eq!(src.reads, 2);
        out.clear();
        receive(&mut rb, &mut src, Pattern::All, &mut out).unwrap();
        assert_eq!(out.len(), 50_000);
        assert_eq!(rb.capacity(), 0);
    }

    fn mb(
        src: &mut Script,
        rb: &mut ReadBuf,
        maxlen: Option<usize>,
        term: Option<u8>,
    ) -> (Vec<u8>, std::result::Result<ReadEnd, ErrorKind>) {
        let mut out = Vec::new();
        let (n, r) = read(rb, src, maxlen, term, Some(&mut out));
        assert_eq!(n, out.len());
        (out, r.map_err(|e| e.kind))
    }

    #[test]
    fn moonbridge_read_statuses() {
        let mut src = Script::new(&[b"GET / HTTP/1.1\r\nHost: x\r", b"\n\r\nbody"])
            .then_err(ErrorKind::WouldBlock)
            .then(b"more");
        let mut rb = ReadBuf::new();
        let t = Some(b'\n');
        assert_eq!(
            mb(&mut src, &mut rb, None, t),
            (b"GET / HTTP/1.1\r\n".to_vec(), Ok(ReadEnd::Term))
        );
        assert_eq!(
            mb(&mut src, &mut rb, Some(4), t),
            (b"Host".to_vec(), Ok(ReadEnd::MaxLen))
        );
        // The terminator arrives in the next chunk.
        assert_eq!(
            mb(&mut src, &mut rb, Some(100), t),
            (b": x\r\n".to_vec(), Ok(ReadEnd::Term))
        );
        assert_eq!(
            mb(&mut src, &mut rb, Some(0), t),
            (Vec::new(), Ok(ReadEnd::MaxLen))
        );
        assert_eq!(
            mb(&mut src, &mut rb, Some(2), t),
            (b"\r\n".to_vec(), Ok(ReadEnd::Term))
        );
        assert_eq!(
            mb(&mut src, &mut rb, None, t),
            (b"body".to_vec(), Ok(ReadEnd::Block))
        );
        assert_eq!(
            mb(&mut src, &mut rb, None, None),
            (b"more".to_vec(), Ok(ReadEnd::Eof))
        );
        assert_eq!(
            mb(&mut src, &mut rb, None, t),
            (Vec::new(), Ok(ReadEnd::Eof))
        );
    }

    #[test]
    fn moonbridge_read_errors_and_drain() {
        let mut src = Script::new(&[b"abc"]).then_err(ErrorKind::Timeout);
        let mut rb = ReadBuf::new();
        assert_eq!(
            mb(&mut src, &mut rb, Some(10), None),
            (b"abc".to_vec(), Err(ErrorKind::Timeout))
        );
        let mut src = Script::new(&[b"12345\n678", b"90"]);
        let mut rb = ReadBuf::new();
        let (n, r) = read(&mut rb, &mut src, None, Some(b'\n'), None);
        assert_eq!((n, r.unwrap()), (6, ReadEnd::Term));
        let (n, r) = read(&mut rb, &mut src, Some(4), None, None);
        assert_eq!((n, r.unwrap()), (4, ReadEnd::MaxLen));
        let (n, r) = read(&mut rb, &mut src, None, None, None);
        assert_eq!((n, r.unwrap()), (1, ReadEnd::Eof));
    }

    #[test]
    fn moonbridge_read_every_split_point() {
        let input: &[u8] = b"ab\ncdef\n\nxyz";
        for k in 0..=input.len() {
            let (a, b) = input.split_at(k);
            for maxlen in [None, Some(1), Some(2), Some(3), Some(5)] {
                let mut src = Script::new(&[a, b]);
                let mut rb = ReadBuf::new();
                let mut all = Vec::new();
                for _ in 0..input.len() + 2 {
                    let (out, r) = mb(&mut src, &mut rb, maxlen, Some(b'\n'));
                    let r = r.unwrap();
                    match r {
                        ReadEnd::Term => assert_eq!(out.last(), Some(&b'\n')),
                        ReadEnd::MaxLen => {
                            assert_eq!(Some(out.len()), maxlen);
                            assert!(!out.contains(&b'\n'));
                        }
                        ReadEnd::Eof => assert!(!out.contains(&b'\n')),
                        ReadEnd::Block => unreachable!(),
                    }
                    if let Some(m) = maxlen {
                        assert!(out.len() <= m);
                    }
                    assert!(out.iter().filter(|&&b| b == b'\n').count() <= 1);
                    all.extend_from_slice(&out);
                    if r == ReadEnd::Eof {
                        break;
                    }
                }
                assert_eq!(all, input, "split {k} maxlen {maxlen:?}");
            }
        }
    }
}

#[cfg(test)]
mod bench {
    use super::*;
    use std::time::Instant;

    /// An in-memory source that hands out `total` bytes of `block`, repeated.
    struct Mem<'a> {
        block: &'a [u8],
        pos: usize,
        left: usize,
    }

    impl Source for Mem<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
            let n = buf.len().min(self.left).min(self.block.len() - self.pos);
            buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
            self.pos = (self.pos + n) % self.block.len();
            self.left -= n;
            Ok(n)
        }
        fn read_into(&mut self, out: &mut Vec<u8>, max: usize) -> Result<usize> {
            let n = max.min(self.left).min(self.block.len() - self.pos);
            out.extend_from_slice(&self.block[self.pos..self.pos + n]);
            self.pos = (self.pos + n) % self.block.len();
            self.left -= n;
            Ok(n)
        }
    }

    #[test]
    #[ignore]
    fn bench_line_scan_cpu() {
        let mut block = Vec::new();
        for i in 0..10_000 {
            let mut line = format!("{i:08} ").into_bytes();
            line.resize(79, b'x');
            line.push(b'\n');
            block.extend_from_slice(&line);
        }
        const LINES: usize = 10_000_000;
        for mode in [
            LineMode::StripAllCr,
            LineMode::StripCrBeforeLf,
            LineMode::Raw,
        ] {
            let mut src = Mem {
                block: &block,
                pos: 0,
                left: LINES * 80,
            };
            let mut rb = ReadBuf::new();
            let mut out = Vec::with_capacity(256);
            let t = Instant::now();
            let mut sum = 0;
            for _ in 0..LINES {
                out.clear();
                receive(&mut rb, &mut src, Pattern::Line(mode), &mut out).unwrap();
                sum += out.len();
            }
            let el = t.elapsed();
            assert_eq!(sum, LINES * 79);
            eprintln!(
                "{mode:?}: {:.1} ns/line",
                el.as_nanos() as f64 / LINES as f64
            );
        }
        // Baseline: the same copies, one memchr per line.
        let mut src = Mem {
            block: &block,
            pos: 0,
            left: LINES * 80,
        };
        let mut buf = vec![0u8; 65536];
        let (mut start, mut end, mut lines, mut sum) = (0, 0, 0, 0);
        let mut line = Vec::with_capacity(256);
        let t = Instant::now();
        while lines < LINES {
            match memchr::memchr(b'\n', &buf[start..end]) {
                Some(i) => {
                    line.clear();
                    line.extend_from_slice(&buf[start..start + i]);
                    sum += line.len();
                    start += i + 1;
                    lines += 1;
                }
                None => {
                    buf.copy_within(start..end, 0);
                    end -= start;
                    start = 0;
                    end += src.read(&mut buf[end..]).unwrap();
                }
            }
        }
        let el = t.elapsed();
        assert_eq!(sum, LINES * 79);
        eprintln!(
            "baseline: {:.1} ns/line",
            el.as_nanos() as f64 / LINES as f64
        );
    }
}
