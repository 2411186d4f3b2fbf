//! The built-in sinks: writers (files, descriptors), null, error, chain (filter + sink) and
//! callback. A `Vec<u8>` is the table/concat sink (see the `Sink` impl in the parent).

use super::{Filter, Sink};
use crate::error::{Error, ErrorKind, Result};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes every chunk to a writer (a file, a descriptor, a pipe). At the end the writer
/// is flushed and dropped (closing what it owns), as LTN12's file sink closes its
/// handle; when the source fails, what was written is flushed and the writer dropped.
pub struct WriteSink<W: Write> {
    writer: Option<W>,
    what: String,
}

impl<W: Write> WriteSink<W> {
    /// A sink writing to `writer`; `what` names it in error messages ("write <what>").
    pub fn new(writer: W, what: impl Into<String>) -> Self {
        WriteSink {
            writer: Some(writer),
            what: what.into(),
        }
    }

    fn closed(&self) -> Error {
        Error::new(
            ErrorKind::Closed,
            format!("write {}: the sink has ended", self.what),
        )
    }
}

impl WriteSink<BufWriter<File>> {
    /// Creates (or truncates, or with `append` appends to) the file at `path`. Writes are
    /// buffered in 64 KiB.
    pub fn create(path: impl AsRef<Path>, append: bool) -> Result<Self> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let mut opts = OpenOptions::new();
        opts.create(true);
        if append {
            opts.append(true);
        } else {
            opts.write(true).truncate(true);
        }
        let file = opts
            .open(path)
            .map_err(|e| Error::io(&format!("open {shown}"), &e))?;
        Ok(WriteSink::new(
            BufWriter::with_capacity(1 << 16, file),
            shown,
        ))
    }
}

impl<W: Write> Sink for WriteSink<W> {
    fn put(&mut self, chunk: &[u8]) -> Result<()> {
        let Some(w) = self.writer.as_mut() else {
            return Err(self.closed());
        };
        w.write_all(chunk)
            .map_err(|e| Error::io(&format!("write {}", self.what), &e))
    }

    fn end(&mut self) -> Result<()> {
        let Some(mut w) = self.writer.take() else {
            return Ok(());
        };
        w.flush()
            .map_err(|e| Error::io(&format!("write {}", self.what), &e))
    }

    fn fail(&mut self, _err: &Error) {
        if let Some(mut w) = self.writer.take() {
            let _ = w.flush();
        }
    }
}

/// LTN12's null sink: discards everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl Sink for NullSink {
    fn put(&mut self, _chunk: &[u8]) -> Result<()> {
        Ok(())
    }
    fn end(&mut self) -> Result<()> {
        Ok(())
    }
}

/// LTN12's error sink: every chunk and the end fail with the same error.
#[derive(Debug, Clone)]
pub struct ErrorSink(Error);

impl ErrorSink {
    /// A sink that fails with `err`.
    pub fn new(err: Error) -> Self {
        ErrorSink(err)
    }
}

impl Sink for ErrorSink {
    fn put(&mut self, _chunk: &[u8]) -> Result<()> {
        Err(self.0.clone())
    }
    fn end(&mut self) -> Result<()> {
        Err(self.0.clone())
    }
}

/// LTN12's chained sink: chunks pass through a filter before reaching the sink. Empty
/// filter outputs are not passed on; output a filter made before failing is. At the end
/// the filter's held-back output is put before the sink is ended. When the source fails, the filter is not ended (its input
/// is incomplete; ending it could, for example, write a chunked body's last chunk): the
/// error goes straight to the sink, and everything filtered before it has been delivered.
pub struct ChainSink<F, K> {
    filter: F,
    sink: K,
    buf: Vec<u8>,
}

impl<F: Filter, K: Sink> ChainSink<F, K> {
    /// `sink` behind `filter`.
    pub fn new(filter: F, sink: K) -> Self {
        ChainSink {
            filter,
            sink,
            buf: Vec::new(),
        }
    }

    /// The inner sink.
    pub fn sink_mut(&mut self) -> &mut K {
        &mut self.sink
    }
}

impl<F: Filter, K: Sink> Sink for ChainSink<F, K> {
    fn put(&mut self, chunk: &[u8]) -> Result<()> {
        self.buf.clear();
        let r = self.filter.put(chunk, &mut self.buf);
        if !self.buf.is_empty() {
            // Output made before a filter error is delivered too.
            let delivered = self.sink.put(&self.buf);
            r.as_ref().map_err(Clone::clone)?;
            return delivered;
        }
        r
    }

    fn end(&mut self) -> Result<()> {
        self.buf.clear();
        self.filter.end(&mut self.buf)?;
        if !self.buf.is_empty() {
            self.sink.put(&self.buf)?;
        }
        self.sink.end()
    }

    fn fail(&mut self, err: &Error) {
        self.sink.fail(err)
    }
}

/// What a callback sink is told.
#[derive(Debug, Clone, Copy)]
pub enum SinkEvent<'a> {
    /// A chunk.
    Chunk(&'a [u8]),
    /// The end of the data.
    End,
    /// The source failed; nothing follows.
    Error(&'a Error),
}

/// A sink that hands every event to a closure. An error returned for a chunk or the end
/// stops the pump; what it returns for `Error` is ignored.
pub struct CallbackSink<F> {
    f: F,
}

impl<F: FnMut(SinkEvent<'_>) -> Result<()>> CallbackSink<F> {
    /// A sink calling `f`.
    pub fn new(f: F) -> Self {
        CallbackSink { f }
    }
}

impl<F: FnMut(SinkEvent<'_>) -> Result<()>> Sink for CallbackSink<F> {
    fn put(&mut self, chunk: &[u8]) -> Result<()> {
        (self.f)(SinkEvent::Chunk(chunk))
    }
    fn end(&mut self) -> Result<()> {
        (self.f)(SinkEvent::End)
    }
    fn fail(&mut self, err: &Error) {
        let _ = (self.f)(SinkEvent::Error(err));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltn12::filter::CallbackFilter;
    use crate::ltn12::pump;
    use crate::ltn12::source::{ErrorSource, StringSource};

    fn upper() -> impl Filter {
        CallbackFilter::new(|c: Option<&[u8]>, out: &mut Vec<u8>| {
            if let Some(c) = c {
                out.extend(c.iter().map(|b| b.to_ascii_uppercase()));
            } else {
                out.extend_from_slice(b"!");
            }
            Ok(())
        })
    }

    #[test]
    fn write_sink_writes_a_file_and_flushes_at_end() {
        let path = std::env::temp_dir().join(format!("sockit-sink-{}", std::process::id()));
        let mut k = WriteSink::create(&path, false).unwrap();
        k.put(b"abc").unwrap();
        k.put(b"").unwrap();
        k.put(b"def").unwrap();
        k.end().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abcdef");
        assert_eq!(k.put(b"x").unwrap_err().kind, ErrorKind::Closed);
        let mut k = WriteSink::create(&path, true).unwrap();
        k.put(b"gh").unwrap();
        k.fail(&Error::kind(ErrorKind::Timeout));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"abcdefgh",
            "flushed on failure"
        );
        std::fs::remove_file(&path).unwrap();
        let dir = std::env::temp_dir().join("sockit-no-such-dir/x");
        assert!(WriteSink::create(&dir, false).is_err());
    }

    #[test]
    fn null_and_error_sinks() {
        let mut n = NullSink;
        assert!(n.put(b"x").is_ok() && n.end().is_ok());
        let mut e = ErrorSink::new(Error::new(ErrorKind::Refused, "no"));
        assert_eq!(e.put(b"x").unwrap_err().msg, "no");
        assert_eq!(e.end().unwrap_err().msg, "no");
    }

    #[test]
    fn chain_sink_filters_and_flushes_at_end() {
        let mut k = ChainSink::new(upper(), Vec::new());
        pump::all(&mut StringSource::new(b"hello".to_vec()), &mut k, 2).unwrap();
        assert_eq!(k.sink_mut(), b"HELLO!");
    }

    #[test]
    fn chain_sink_does_not_end_the_filter_on_error() {
        let mut got = Vec::new();
        let mut err = None;
        let inner = CallbackSink::new(|ev: SinkEvent<'_>| {
            match ev {
                SinkEvent::Chunk(c) => got.extend_from_slice(c),
                SinkEvent::End => panic!("not ended"),
                SinkEvent::Error(e) => err = Some(e.msg.clone()),
            }
            Ok(())
        });
        let mut k = ChainSink::new(upper(), inner);
        k.put(b"ab").unwrap();
        let e = pump::all(
            &mut ErrorSource::new(Error::new(ErrorKind::Timeout, "t")),
            &mut k,
            4,
        )
        .unwrap_err();
        drop(k);
        assert_eq!(e.msg, "t");
        assert_eq!(got, b"AB");
        assert_eq!(err.as_deref(), Some("t"));
    }
}
