//! LuaSocket 1.3b's receive and send callbacks as a sink and a source.
//!
//! - A *receive callback* gets each chunk, then an empty chunk at the end, or no chunk and
//!   an error message when the transfer fails. It aborts the transfer by returning an
//!   error. [`ReceiveCbSink`] adapts one to the `Sink` contract (empty chunks are not
//!   passed on, since an empty chunk means the end to such a callback).
//! - A *send callback* returns the next chunk and the total number of bytes that will be
//!   sent, which protocols need before the body (an HTTP Content-Length). It aborts by
//!   returning an error. [`SendCbSource`] reports that total through `Source::size`
//!   (calling the callback once early if needed, keeping that chunk) and stops once the
//!   total has been produced, as LuaSocket 1.3b does; a callback that returns an empty
//!   chunk before the total is reached, or more bytes than the total, is an error.

use super::{Sink, Source};
use crate::error::{Error, ErrorKind, Result};

/// A 1.3b receive callback as a sink. The closure gets `(Some(chunk), None)` for data,
/// `(Some(b""), None)` at the end and `(None, Some(message))` when the source failed.
pub struct ReceiveCbSink<F> {
    f: F,
}

impl<F: FnMut(Option<&[u8]>, Option<&str>) -> Result<()>> ReceiveCbSink<F> {
    /// A sink calling `f`.
    pub fn new(f: F) -> Self {
        ReceiveCbSink { f }
    }
}

impl<F: FnMut(Option<&[u8]>, Option<&str>) -> Result<()>> Sink for ReceiveCbSink<F> {
    fn put(&mut self, chunk: &[u8]) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        (self.f)(Some(chunk), None)
    }
    fn end(&mut self) -> Result<()> {
        (self.f)(Some(b""), None)
    }
    fn fail(&mut self, err: &Error) {
        let _ = (self.f)(None, Some(&err.msg));
    }
}

/// A 1.3b send callback as a source. The closure appends the next chunk to the buffer it
/// is given (which arrives empty) and returns the total size of the data.
pub struct SendCbSource<F> {
    f: F,
    buf: Vec<u8>,
    total: Option<u64>,
    sent: u64,
    stashed: bool,
    failed: Option<Error>,
}

impl<F: FnMut(&mut Vec<u8>) -> Result<u64>> SendCbSource<F> {
    /// A source calling `f`.
    pub fn new(f: F) -> Self {
        SendCbSource {
            f,
            buf: Vec::new(),
            total: None,
            sent: 0,
            stashed: false,
            failed: None,
        }
    }

    /// Calls the callback for the next chunk into `self.buf`, checking it against the total.
    fn call(&mut self) -> Result<()> {
        self.buf.clear();
        let total = (self.f)(&mut self.buf)?;
        let total = *self.total.get_or_insert(total);
        let len = self.buf.len() as u64;
        if self.buf.is_empty() && self.sent < total {
            return Err(Error::new(
                ErrorKind::Aborted,
                format!("send callback ended after {} of {} bytes", self.sent, total),
            ));
        }
        if self.sent + len > total {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("send callback produced more than its total of {total} bytes"),
            ));
        }
        Ok(())
    }

    fn sticky<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }
}

impl<F: FnMut(&mut Vec<u8>) -> Result<u64>> Source for SendCbSource<F> {
    fn pull(&mut self, _hint: usize) -> Result<Option<&[u8]>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if !self.stashed {
            if matches!(self.total, Some(t) if self.sent >= t) {
                return Ok(None);
            }
            let r = self.call();
            self.sticky(r)?;
            if self.total == Some(0) {
                return Ok(None);
            }
        }
        self.stashed = false;
        self.sent += self.buf.len() as u64;
        Ok(Some(&self.buf))
    }

    fn size(&mut self) -> Result<Option<u64>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.total.is_none() {
            let r = self.call();
            self.sticky(r)?;
            self.stashed = self.total != Some(0);
        }
        Ok(self.total.map(|t| t - self.sent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltn12::pump;
    use crate::ltn12::source::{collect, ErrorSource, StringSource};

    #[test]
    fn receive_cb_sees_chunks_then_empty_string() {
        let mut log: Vec<String> = Vec::new();
        let mut k = ReceiveCbSink::new(|c: Option<&[u8]>, e: Option<&str>| {
            log.push(format!(
                "{:?}/{:?}",
                c.map(|c| String::from_utf8_lossy(c).into_owned()),
                e
            ));
            Ok(())
        });
        pump::all(&mut StringSource::new(b"abcde".to_vec()), &mut k, 2).unwrap();
        pump::all(
            &mut ErrorSource::new(Error::new(ErrorKind::Timeout, "timeout")),
            &mut k,
            2,
        )
        .unwrap_err();
        assert_eq!(
            log,
            [
                "Some(\"ab\")/None",
                "Some(\"cd\")/None",
                "Some(\"e\")/None",
                "Some(\"\")/None",
                "None/Some(\"timeout\")"
            ]
        );
    }

    #[test]
    fn receive_cb_can_abort() {
        let mut k = ReceiveCbSink::new(|_: Option<&[u8]>, _: Option<&str>| {
            Err(Error::new(ErrorKind::Aborted, "stop"))
        });
        let e = pump::all(&mut StringSource::new(b"abc".to_vec()), &mut k, 2).unwrap_err();
        assert_eq!(e.msg, "stop");
    }

    /// A 1.3b-style file sender over `data` in `block`-sized pieces.
    fn sender(data: Vec<u8>, block: usize) -> impl FnMut(&mut Vec<u8>) -> Result<u64> {
        let mut pos = 0;
        move |buf: &mut Vec<u8>| {
            let end = (pos + block).min(data.len());
            buf.extend_from_slice(&data[pos..end]);
            pos = end;
            Ok(data.len() as u64)
        }
    }

    #[test]
    fn send_cb_reports_total_and_stops_there() {
        let data: Vec<u8> = (0..100u8).collect();
        let mut s = SendCbSource::new(sender(data.clone(), 30));
        assert_eq!(s.size().unwrap(), Some(100));
        assert_eq!(s.size().unwrap(), Some(100));
        assert_eq!(s.pull(8).unwrap().unwrap().len(), 30);
        assert_eq!(s.size().unwrap(), Some(70));
        let rest = collect(&mut s, 8).unwrap();
        assert_eq!(rest, &data[30..]);
        assert_eq!(s.pull(8).unwrap(), None);

        let mut s = SendCbSource::new(sender(Vec::new(), 30));
        assert_eq!(s.size().unwrap(), Some(0));
        assert_eq!(s.pull(8).unwrap(), None);
    }

    #[test]
    fn send_cb_errors() {
        // Ends early.
        let mut n = 0;
        let mut s = SendCbSource::new(|buf: &mut Vec<u8>| {
            n += 1;
            if n == 1 {
                buf.extend_from_slice(b"abc");
            }
            Ok(10)
        });
        assert_eq!(s.pull(8).unwrap(), Some(&b"abc"[..]));
        let e = s.pull(8).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Aborted);
        assert_eq!(e.msg, "send callback ended after 3 of 10 bytes");
        assert_eq!(s.pull(8).unwrap_err(), e);
        // Too much.
        let mut s = SendCbSource::new(|buf: &mut Vec<u8>| {
            buf.extend_from_slice(b"abcdef");
            Ok(4)
        });
        assert_eq!(s.size().unwrap_err().kind, ErrorKind::Protocol);
        // Aborts with a message.
        let mut s =
            SendCbSource::new(|_: &mut Vec<u8>| Err(Error::new(ErrorKind::Aborted, "no file")));
        assert_eq!(s.pull(8).unwrap_err().msg, "no file");
    }
}
