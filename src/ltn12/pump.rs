//! Pumps: move chunks from a source to a sink.

use super::{Sink, Source};
use crate::error::{Error, Result};

/// What one pump step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A chunk of this many bytes went from the source to the sink.
    Chunk(usize),
    /// The source ended and the sink was told so.
    End,
}

fn check_size(chunk_size: usize) -> Result<()> {
    if chunk_size == 0 {
        return Err(Error::invalid("pump: chunk size must be at least 1"));
    }
    Ok(())
}

/// Pulls one chunk from `src` (asking for at most `chunk_size` bytes) and hands it to
/// `snk`: a chunk is put, the end ends the sink, an error is passed to the sink's `fail`
/// and returned. A sink error is returned as is.
pub fn step<S, K>(src: &mut S, snk: &mut K, chunk_size: usize) -> Result<Step>
where
    S: Source + ?Sized,
    K: Sink + ?Sized,
{
    check_size(chunk_size)?;
    match src.pull(chunk_size) {
        Ok(Some(chunk)) => {
            snk.put(chunk)?;
            Ok(Step::Chunk(chunk.len()))
        }
        Ok(None) => {
            snk.end()?;
            Ok(Step::End)
        }
        Err(e) => {
            snk.fail(&e);
            Err(e)
        }
    }
}

/// Steps until the source ends (returns the number of bytes moved) or a step fails
/// (returns that first error; every chunk before it has been delivered to the sink).
pub fn all<S, K>(src: &mut S, snk: &mut K, chunk_size: usize) -> Result<u64>
where
    S: Source + ?Sized,
    K: Sink + ?Sized,
{
    check_size(chunk_size)?;
    let mut total = 0u64;
    loop {
        match step(src, snk, chunk_size)? {
            Step::Chunk(n) => total += n as u64,
            Step::End => return Ok(total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::ltn12::sink::{CallbackSink, SinkEvent};
    use crate::ltn12::source::{ErrorSource, StringSource};
    use crate::ltn12::{Source, BLOCKSIZE};

    /// Yields its chunks, then an error, and counts pulls after the error.
    struct Failing {
        chunks: Vec<Vec<u8>>,
        i: usize,
        pulls_after_error: usize,
    }
    impl Source for Failing {
        fn pull(&mut self, _hint: usize) -> Result<Option<&[u8]>> {
            if self.i < self.chunks.len() {
                self.i += 1;
                return Ok(Some(&self.chunks[self.i - 1]));
            }
            if self.i > self.chunks.len() {
                self.pulls_after_error += 1;
            }
            self.i += 1;
            Err(Error::new(ErrorKind::Timeout, "read: timeout"))
        }
    }

    #[test]
    fn all_moves_everything_in_blocksize_chunks() {
        let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let mut src = StringSource::new(data.clone());
        let mut sizes = Vec::new();
        let mut got = Vec::new();
        let mut ended = false;
        let mut snk = CallbackSink::new(|ev: SinkEvent<'_>| {
            match ev {
                SinkEvent::Chunk(c) => {
                    sizes.push(c.len());
                    got.extend_from_slice(c)
                }
                SinkEvent::End => ended = true,
                SinkEvent::Error(_) => panic!("no error expected"),
            }
            Ok(())
        });
        assert_eq!(all(&mut src, &mut snk, BLOCKSIZE).unwrap(), 5000);
        assert_eq!(got, data);
        assert_eq!(sizes, vec![2048, 2048, 904]);
        assert!(ended);
    }

    #[test]
    fn chunk_size_is_settable_and_zero_is_refused() {
        let mut src = StringSource::new(vec![7u8; 10]);
        let mut out = Vec::new();
        assert_eq!(step(&mut src, &mut out, 3).unwrap(), Step::Chunk(3));
        assert_eq!(step(&mut src, &mut out, 100).unwrap(), Step::Chunk(7));
        assert_eq!(step(&mut src, &mut out, 100).unwrap(), Step::End);
        assert_eq!(step(&mut src, &mut out, 100).unwrap(), Step::End);
        assert_eq!(
            all(&mut src, &mut out, 0).unwrap_err().kind,
            ErrorKind::Invalid
        );
    }

    #[test]
    fn all_returns_first_error_with_everything_before_delivered() {
        let mut src = Failing {
            chunks: vec![b"ab".to_vec(), b"cd".to_vec()],
            i: 0,
            pulls_after_error: 0,
        };
        let mut got = Vec::new();
        let mut failed = None;
        let mut snk = CallbackSink::new(|ev: SinkEvent<'_>| {
            match ev {
                SinkEvent::Chunk(c) => got.extend_from_slice(c),
                SinkEvent::End => panic!("no end expected"),
                SinkEvent::Error(e) => failed = Some(e.clone()),
            }
            Ok(())
        });
        let e = all(&mut src, &mut snk, BLOCKSIZE).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(got, b"abcd");
        assert_eq!(failed.unwrap().msg, "read: timeout");
        assert_eq!(src.pulls_after_error, 0, "nothing is pulled after an error");
    }

    #[test]
    fn sink_error_stops_the_pump() {
        let mut src = StringSource::new(vec![1u8; 10]);
        let mut n = 0;
        let mut snk = CallbackSink::new(|ev: SinkEvent<'_>| {
            if let SinkEvent::Chunk(_) = ev {
                n += 1;
                if n == 2 {
                    return Err(Error::new(ErrorKind::Aborted, "enough"));
                }
            }
            Ok(())
        });
        let e = all(&mut src, &mut snk, 4).unwrap_err();
        assert_eq!(e.msg, "enough");
        assert_eq!(n, 2);
    }

    #[test]
    fn error_source_reaches_the_sink() {
        let mut src = ErrorSource::new(Error::new(ErrorKind::Closed, "gone"));
        let mut out = Vec::new();
        assert_eq!(all(&mut src, &mut out, 8).unwrap_err().msg, "gone");
        assert!(out.is_empty());
    }
}
