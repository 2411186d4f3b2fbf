//! The built-in sources: bytes (owned or borrowed), readers (files, descriptors), empty,
//! error, rewind, cat, chain (source + filter) and callback.

use super::{Filter, Source};
use crate::error::{Error, Result};
use std::fs::File;
use std::io::{ErrorKind as IoKind, Read};
use std::path::Path;

/// Yields the bytes of `B` in chunks of at most the pump's chunk size, then the end.
///
/// `BytesSource<Vec<u8>>` (alias [`StringSource`]) owns a copy, `BytesSource<&[u8]>`
/// borrows. The data is dropped (for a borrow: no longer touched) as soon as the source
/// reports its end.
pub struct BytesSource<B: AsRef<[u8]>> {
    data: Option<B>,
    pos: usize,
}

/// LTN12's string source: an owned copy of the bytes.
pub type StringSource = BytesSource<Vec<u8>>;

impl<B: AsRef<[u8]>> BytesSource<B> {
    /// A source over `data`.
    pub fn new(data: B) -> Self {
        BytesSource {
            data: Some(data),
            pos: 0,
        }
    }
}

impl<B: AsRef<[u8]>> Source for BytesSource<B> {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        let len = match &self.data {
            Some(d) => d.as_ref().len(),
            None => return Ok(None),
        };
        if self.pos >= len {
            self.data = None;
            return Ok(None);
        }
        let start = self.pos;
        let end = start + hint.max(1).min(len - start);
        self.pos = end;
        Ok(self.data.as_ref().map(|d| &d.as_ref()[start..end]))
    }

    fn size(&mut self) -> Result<Option<u64>> {
        Ok(Some(match &self.data {
            Some(d) => (d.as_ref().len() - self.pos) as u64,
            None => 0,
        }))
    }
}

/// Reads chunks of at most the pump's chunk size from a reader (a file, a descriptor, a
/// pipe) until it reports end of file. The reader is dropped (closing what it owns) when
/// the source ends or fails, as LTN12's file source closes its handle.
pub struct ReadSource<R: Read> {
    reader: Option<R>,
    buf: Vec<u8>,
    size: Option<u64>,
    what: String,
    failed: Option<Error>,
}

impl<R: Read> ReadSource<R> {
    /// A source reading from `reader`; `what` names it in error messages ("read <what>").
    pub fn new(reader: R, what: impl Into<String>) -> Self {
        ReadSource {
            reader: Some(reader),
            buf: Vec::new(),
            size: None,
            what: what.into(),
            failed: None,
        }
    }

    /// Declares the number of bytes the reader will produce (reported by `size`).
    pub fn with_size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }
}

impl ReadSource<File> {
    /// Opens the file at `path` for reading; its size is known.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|e| Error::io(&format!("open {shown}"), &e))?;
        let meta = file
            .metadata()
            .map_err(|e| Error::io(&format!("stat {shown}"), &e))?;
        let src = ReadSource::new(file, shown);
        Ok(if meta.is_file() {
            src.with_size(meta.len())
        } else {
            src
        })
    }
}

impl<R: Read> Source for ReadSource<R> {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        let hint = hint.max(1);
        if self.buf.len() != hint {
            self.buf.resize(hint, 0);
        }
        loop {
            match reader.read(&mut self.buf) {
                Ok(0) => {
                    self.reader = None;
                    self.size = Some(0);
                    return Ok(None);
                }
                Ok(n) => {
                    if let Some(s) = self.size.as_mut() {
                        *s = s.saturating_sub(n as u64);
                    }
                    return Ok(Some(&self.buf[..n]));
                }
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(e) => {
                    let err = Error::io(&format!("read {}", self.what), &e);
                    self.reader = None;
                    self.failed = Some(err.clone());
                    return Err(err);
                }
            }
        }
    }

    fn size(&mut self) -> Result<Option<u64>> {
        Ok(self.size)
    }
}

/// LTN12's empty source: the end, at once.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmptySource;

impl Source for EmptySource {
    fn pull(&mut self, _hint: usize) -> Result<Option<&[u8]>> {
        Ok(None)
    }
    fn size(&mut self) -> Result<Option<u64>> {
        Ok(Some(0))
    }
}

/// LTN12's error source: fails with the same error every time it is pulled.
#[derive(Debug, Clone)]
pub struct ErrorSource(Error);

impl ErrorSource {
    /// A source that fails with `err`.
    pub fn new(err: Error) -> Self {
        ErrorSource(err)
    }
}

impl Source for ErrorSource {
    fn pull(&mut self, _hint: usize) -> Result<Option<&[u8]>> {
        Err(self.0.clone())
    }
}

/// LTN12's rewindable source: chunks pushed back with [`RewindSource::unget`] are
/// returned first (the last pushed first), then the inner source continues.
pub struct RewindSource<S> {
    inner: S,
    pushed: Vec<Vec<u8>>,
    current: Vec<u8>,
}

impl<S: Source> RewindSource<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        RewindSource {
            inner,
            pushed: Vec::new(),
            current: Vec::new(),
        }
    }

    /// Pushes `chunk` back: the next pull returns it.
    pub fn unget(&mut self, chunk: &[u8]) {
        self.pushed.push(chunk.to_vec());
    }
}

impl<S: Source> Source for RewindSource<S> {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        if let Some(chunk) = self.pushed.pop() {
            self.current = chunk;
            return Ok(Some(&self.current));
        }
        self.inner.pull(hint)
    }

    fn size(&mut self) -> Result<Option<u64>> {
        let pushed: u64 = self.pushed.iter().map(|c| c.len() as u64).sum();
        Ok(self.inner.size()?.map(|s| s + pushed))
    }
}

/// LTN12's cat source: the chunks of each source in turn, as if they were concatenated.
/// The first error is returned (and repeated) without pulling any later source.
pub struct CatSource<S> {
    sources: Vec<S>,
    index: usize,
    failed: Option<Error>,
}

impl<S: Source> CatSource<S> {
    /// Concatenates `sources`.
    pub fn new(sources: Vec<S>) -> Self {
        CatSource {
            sources,
            index: 0,
            failed: None,
        }
    }
}

impl<S: Source> Source for CatSource<S> {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        let CatSource {
            sources,
            index,
            failed,
        } = self;
        if let Some(e) = failed {
            return Err(e.clone());
        }
        let start = (*index).min(sources.len());
        for src in sources[start..].iter_mut() {
            match src.pull(hint) {
                Ok(Some(chunk)) => return Ok(Some(chunk)),
                Ok(None) => *index += 1,
                Err(e) => {
                    *failed = Some(e.clone());
                    return Err(e);
                }
            }
        }
        Ok(None)
    }

    fn size(&mut self) -> Result<Option<u64>> {
        let mut total = 0u64;
        let start = self.index.min(self.sources.len());
        for s in self.sources[start..].iter_mut() {
            match s.size()? {
                Some(n) => total += n,
                None => return Ok(None),
            }
        }
        Ok(Some(total))
    }
}

/// LTN12's chained source: the chunks of a source passed through a filter. Empty filter
/// outputs are skipped (the source pulls again), so every chunk it returns is non-empty.
/// A source or filter error is returned and then repeated without pulling again; output
/// the filter made before failing is returned first, as a chunk.
pub struct ChainSource<S, F> {
    src: S,
    filter: F,
    out: Vec<u8>,
    state: ChainState,
}

enum ChainState {
    Running,
    Ended,
    Failed(Error),
}

impl<S: Source, F: Filter> ChainSource<S, F> {
    /// `src` filtered by `filter`.
    pub fn new(src: S, filter: F) -> Self {
        ChainSource {
            src,
            filter,
            out: Vec::new(),
            state: ChainState::Running,
        }
    }

    fn fail(&mut self, e: Error) -> Error {
        self.state = ChainState::Failed(e.clone());
        e
    }
}

impl<S: Source, F: Filter> Source for ChainSource<S, F> {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        match &self.state {
            ChainState::Running => {}
            ChainState::Ended => return Ok(None),
            ChainState::Failed(e) => return Err(e.clone()),
        }
        loop {
            self.out.clear();
            let step = match self.src.pull(hint) {
                Ok(Some(chunk)) => self.filter.put(chunk, &mut self.out).map(|_| true),
                Ok(None) => self.filter.end(&mut self.out).map(|_| false),
                Err(e) => Err(e),
            };
            match step {
                Err(e) => {
                    let e = self.fail(e);
                    // Output the filter made before failing is delivered first.
                    if !self.out.is_empty() {
                        return Ok(Some(&self.out));
                    }
                    return Err(e);
                }
                Ok(more) => {
                    if !more {
                        self.state = ChainState::Ended;
                    }
                    if !self.out.is_empty() {
                        return Ok(Some(&self.out));
                    }
                    if !more {
                        return Ok(None);
                    }
                }
            }
        }
    }
}

/// A source whose chunks come from a closure. The closure gets an empty buffer and
/// appends the next chunk to it, returning `Ok(true)`, or returns `Ok(false)` at the end,
/// or an error. After the end or an error it is not called again.
pub struct CallbackSource<F> {
    f: F,
    buf: Vec<u8>,
    state: ChainState,
}

impl<F: FnMut(&mut Vec<u8>) -> Result<bool>> CallbackSource<F> {
    /// A source calling `f` for each chunk.
    pub fn new(f: F) -> Self {
        CallbackSource {
            f,
            buf: Vec::new(),
            state: ChainState::Running,
        }
    }
}

impl<F: FnMut(&mut Vec<u8>) -> Result<bool>> Source for CallbackSource<F> {
    fn pull(&mut self, _hint: usize) -> Result<Option<&[u8]>> {
        match &self.state {
            ChainState::Running => {}
            ChainState::Ended => return Ok(None),
            ChainState::Failed(e) => return Err(e.clone()),
        }
        self.buf.clear();
        match (self.f)(&mut self.buf) {
            Ok(true) => Ok(Some(&self.buf)),
            Ok(false) => {
                self.state = ChainState::Ended;
                Ok(None)
            }
            Err(e) => {
                self.state = ChainState::Failed(e.clone());
                Err(e)
            }
        }
    }
}

/// Drains `src` into a vector (a test and convenience helper).
pub fn collect<S: Source + ?Sized>(src: &mut S, hint: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = src.pull(hint)? {
        out.extend_from_slice(chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::ltn12::filter::CallbackFilter;

    #[test]
    fn bytes_source_slices_and_reports_size() {
        let data = b"hello world".to_vec();
        let mut s = BytesSource::new(&data[..]);
        assert_eq!(s.size().unwrap(), Some(11));
        assert_eq!(s.pull(4).unwrap(), Some(&b"hell"[..]));
        assert_eq!(s.size().unwrap(), Some(7));
        assert_eq!(collect(&mut s, 4).unwrap(), b"o world");
        assert_eq!(s.pull(4).unwrap(), None);
        assert_eq!(s.size().unwrap(), Some(0));
        let mut empty = StringSource::new(Vec::new());
        assert_eq!(empty.pull(10).unwrap(), None);
    }

    #[test]
    fn read_source_reads_a_file_and_closes_at_end() {
        let path = std::env::temp_dir().join(format!("sockit-src-{}", std::process::id()));
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let mut s = ReadSource::open(&path).unwrap();
        assert_eq!(s.size().unwrap(), Some(10_000));
        assert_eq!(s.pull(3000).unwrap().unwrap().len(), 3000);
        assert_eq!(s.size().unwrap(), Some(7000));
        let rest = collect(&mut s, 3000).unwrap();
        assert_eq!(rest, &data[3000..]);
        assert!(s.reader.is_none(), "closed at the end");
        std::fs::remove_file(&path).unwrap();
        let e = ReadSource::open(&path).err().unwrap();
        assert!(e.msg.starts_with("open "), "{}", e.msg);
        assert!(e.msg.contains("sockit-src"), "{}", e.msg);
    }

    #[test]
    fn read_source_errors_are_sticky() {
        struct Bad(usize);
        impl Read for Bad {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                self.0 += 1;
                Err(std::io::Error::from_raw_os_error(libc::EIO))
            }
        }
        let mut s = ReadSource::new(Bad(0), "bad");
        let e = s.pull(10).unwrap_err();
        assert_eq!(e.kind, ErrorKind::System);
        assert!(e.msg.starts_with("read bad: "), "{}", e.msg);
        assert_eq!(s.pull(10).unwrap_err(), e);
    }

    #[test]
    fn empty_and_error_sources() {
        assert_eq!(EmptySource.pull(1).unwrap(), None);
        let mut e = ErrorSource::new(Error::new(ErrorKind::Protocol, "bad"));
        assert_eq!(e.pull(1).unwrap_err().msg, "bad");
        assert_eq!(e.pull(1).unwrap_err().msg, "bad");
    }

    #[test]
    fn rewind_returns_pushed_chunks_last_first() {
        let mut s = RewindSource::new(StringSource::new(b"xyz".to_vec()));
        assert_eq!(s.pull(1).unwrap(), Some(&b"x"[..]));
        s.unget(b"x");
        s.unget(b"AB");
        assert_eq!(s.size().unwrap(), Some(5));
        assert_eq!(s.pull(1).unwrap(), Some(&b"AB"[..]));
        assert_eq!(s.pull(1).unwrap(), Some(&b"x"[..]));
        assert_eq!(collect(&mut s, 1).unwrap(), b"yz");
        s.unget(b"late");
        assert_eq!(s.pull(1).unwrap(), Some(&b"late"[..]));
        assert_eq!(s.pull(1).unwrap(), None);
    }

    #[test]
    fn cat_concatenates_and_stops_at_the_first_error() {
        let parts: Vec<Box<dyn Source>> = vec![
            Box::new(StringSource::new(b"ab".to_vec())),
            Box::new(EmptySource),
            Box::new(StringSource::new(b"cde".to_vec())),
        ];
        let mut c = CatSource::new(parts);
        assert_eq!(c.size().unwrap(), Some(5));
        assert_eq!(collect(&mut c, 2).unwrap(), b"abcde");
        assert_eq!(c.pull(2).unwrap(), None);

        let parts: Vec<Box<dyn Source>> = vec![
            Box::new(StringSource::new(b"ab".to_vec())),
            Box::new(ErrorSource::new(Error::new(ErrorKind::Closed, "x"))),
            Box::new(StringSource::new(b"never".to_vec())),
        ];
        let mut c = CatSource::new(parts);
        assert_eq!(c.size().unwrap(), None);
        assert_eq!(c.pull(10).unwrap(), Some(&b"ab"[..]));
        assert_eq!(c.pull(10).unwrap_err().msg, "x");
        assert_eq!(c.pull(10).unwrap_err().msg, "x");
        assert_eq!(c.index, 1);
    }

    #[test]
    fn chain_source_skips_empty_outputs_and_flushes_at_end() {
        // A filter that holds everything back until the end, then upper-cases it.
        let mut held = Vec::new();
        let f = CallbackFilter::new(move |chunk: Option<&[u8]>, out: &mut Vec<u8>| {
            match chunk {
                Some(c) => held.extend_from_slice(c),
                None => out.extend(held.iter().map(|b| b.to_ascii_uppercase())),
            }
            Ok(())
        });
        let mut s = ChainSource::new(StringSource::new(b"hello".to_vec()), f);
        assert_eq!(s.pull(2).unwrap(), Some(&b"HELLO"[..]));
        assert_eq!(s.pull(2).unwrap(), None);
        assert_eq!(s.pull(2).unwrap(), None);
    }

    #[test]
    fn chain_source_errors_are_sticky() {
        let mut calls = 0;
        let f = CallbackFilter::new(|chunk: Option<&[u8]>, out: &mut Vec<u8>| {
            calls += 1;
            match chunk {
                Some(b"bad") => Err(Error::new(ErrorKind::Protocol, "bad chunk")),
                Some(c) => {
                    out.extend_from_slice(c);
                    Ok(())
                }
                None => Ok(()),
            }
        });
        let parts: Vec<Box<dyn Source>> = vec![
            Box::new(StringSource::new(b"ok".to_vec())),
            Box::new(StringSource::new(b"bad".to_vec())),
            Box::new(StringSource::new(b"more".to_vec())),
        ];
        let mut s = ChainSource::new(CatSource::new(parts), f);
        assert_eq!(s.pull(100).unwrap(), Some(&b"ok"[..]));
        assert_eq!(s.pull(100).unwrap_err().msg, "bad chunk");
        assert_eq!(s.pull(100).unwrap_err().msg, "bad chunk");
        drop(s);
        assert_eq!(calls, 2);
    }

    #[test]
    fn chain_source_delivers_output_made_before_a_filter_error() {
        use crate::ltn12::chunked::ChunkedDecoder;
        let src = StringSource::new(b"3\r\nabc\r\nzz\r\n".to_vec());
        let mut s = ChainSource::new(src, ChunkedDecoder::new());
        assert_eq!(s.pull(2048).unwrap(), Some(&b"abc"[..]));
        assert_eq!(s.pull(2048).unwrap_err().kind, ErrorKind::Protocol);
        assert_eq!(s.pull(2048).unwrap_err().kind, ErrorKind::Protocol);
    }

    #[test]
    fn callback_source_ends_and_fails_once() {
        let mut n = 0;
        let mut s = CallbackSource::new(|buf: &mut Vec<u8>| {
            n += 1;
            if n <= 2 {
                buf.extend_from_slice(b"c");
                Ok(true)
            } else {
                Ok(false)
            }
        });
        assert_eq!(collect(&mut s, 1).unwrap(), b"cc");
        assert_eq!(s.pull(1).unwrap(), None);
        drop(s);
        assert_eq!(n, 3);
        let mut s = CallbackSource::new(|_: &mut Vec<u8>| Err(Error::kind(ErrorKind::Aborted)));
        assert_eq!(s.pull(1).unwrap_err().kind, ErrorKind::Aborted);
        assert_eq!(s.pull(1).unwrap_err().kind, ErrorKind::Aborted);
    }
}
