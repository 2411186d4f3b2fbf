//! LTN12: sources, sinks, filters and pumps.
//!
//! The model is LuaSocket's LTN12, with its contract kept exactly:
//!
//! - A [`Source`] yields a chunk, the end, or an error each time it is pulled. Once it has
//!   reported the end it keeps reporting the end; once it has reported an error it is not
//!   pulled again by anything in this module (and the composite sources here repeat the
//!   error without pulling their parts again).
//! - A [`Filter`] is given every chunk, then the end, and appends its output for each to a
//!   caller's buffer. It may append nothing (LTN12's empty chunks). Its output does not
//!   depend on how its input was split into chunks.
//! - A [`Sink`] receives chunks, then either the end or the error that stopped the source.
//! - A pump ([`pump::step`], [`pump::all`]) moves chunks from a source to a sink. `all`
//!   returns the first error, with everything before it already delivered.
//!
//! Chunks are borrowed, not allocated: a source hands out a slice of its own buffer that
//! stays valid until it is pulled again, and filters append to buffers that are reused, so
//! a pipeline of native stages does not allocate in steady state and copies nothing beyond
//! what a filter itself transforms.
//!
//! The pump passes a chunk size (default [`BLOCKSIZE`], LuaSocket's 2048) to the source as
//! a hint: sources that read (strings, files, streams) return at most that many bytes;
//! filtered sources may return more.

pub mod chunked;
pub mod filter;
pub mod legacy;
pub mod pump;
pub mod sink;
pub mod source;
pub mod stream;

use crate::error::{Error, Result};

/// LuaSocket's `ltn12.BLOCKSIZE`: the default chunk size of pumps and reading sources.
pub const BLOCKSIZE: usize = 2048;

/// A producer of chunks.
pub trait Source {
    /// The next chunk (`Ok(Some)`), the end (`Ok(None)`), or an error.
    ///
    /// `hint` is the pump's chunk size (at least 1): sources that read or slice data return
    /// at most `hint` bytes; a filtered source may return more. The chunk is borrowed from
    /// the source and valid until the next call. After `Ok(None)` the source keeps
    /// returning `Ok(None)`. A chunk may be empty.
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>>;

    /// The total number of bytes this source will still produce, when it is known in
    /// advance (a string, a file, a LuaSocket 1.3b send callback). The default is unknown.
    fn size(&mut self) -> Result<Option<u64>> {
        Ok(None)
    }
}

/// A consumer of chunks.
pub trait Sink {
    /// Takes one chunk (possibly empty).
    fn put(&mut self, chunk: &[u8]) -> Result<()>;

    /// The data has ended successfully. Sinks that own a resource release it here.
    fn end(&mut self) -> Result<()>;

    /// The source failed with `err`; no more calls follow. The data put so far stays
    /// delivered. The default does nothing.
    fn fail(&mut self, err: &Error) {
        let _ = err;
    }
}

/// A transformation of a stream of chunks.
pub trait Filter {
    /// Transforms `chunk`, appending the output (possibly nothing) to `out`.
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()>;

    /// The input has ended: appends whatever output is still held back to `out`.
    fn end(&mut self, out: &mut Vec<u8>) -> Result<()>;
}

impl<T: Source + ?Sized> Source for Box<T> {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        (**self).pull(hint)
    }
    fn size(&mut self) -> Result<Option<u64>> {
        (**self).size()
    }
}

impl<T: Source + ?Sized> Source for &mut T {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        (**self).pull(hint)
    }
    fn size(&mut self) -> Result<Option<u64>> {
        (**self).size()
    }
}

impl<T: Sink + ?Sized> Sink for Box<T> {
    fn put(&mut self, chunk: &[u8]) -> Result<()> {
        (**self).put(chunk)
    }
    fn end(&mut self) -> Result<()> {
        (**self).end()
    }
    fn fail(&mut self, err: &Error) {
        (**self).fail(err)
    }
}

impl<T: Sink + ?Sized> Sink for &mut T {
    fn put(&mut self, chunk: &[u8]) -> Result<()> {
        (**self).put(chunk)
    }
    fn end(&mut self) -> Result<()> {
        (**self).end()
    }
    fn fail(&mut self, err: &Error) {
        (**self).fail(err)
    }
}

impl<T: Filter + ?Sized> Filter for Box<T> {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        (**self).put(chunk, out)
    }
    fn end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        (**self).end(out)
    }
}

impl<T: Filter + ?Sized> Filter for &mut T {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        (**self).put(chunk, out)
    }
    fn end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        (**self).end(out)
    }
}

/// A `Vec<u8>` is LTN12's table sink: chunks are appended; the end and errors change
/// nothing.
impl Sink for Vec<u8> {
    fn put(&mut self, chunk: &[u8]) -> Result<()> {
        self.extend_from_slice(chunk);
        Ok(())
    }
    fn end(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A boxed source that can cross threads (what the C API holds).
pub type BoxSource = Box<dyn Source + Send>;
/// A boxed sink that can cross threads.
pub type BoxSink = Box<dyn Sink + Send>;
/// A boxed filter that can cross threads.
pub type BoxFilter = Box<dyn Filter + Send>;

/// Runs `input` through `filter` as one chunk followed by the end and returns the output.
pub fn filter_all<F: Filter + ?Sized>(filter: &mut F, input: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    filter.put(input, &mut out)?;
    filter.end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers for the filter tests: feed input split at given points.
    use super::Filter;

    /// Runs `input` through `f`, split at the (sorted, deduplicated) `cuts`.
    pub fn run_split<F: Filter + ?Sized>(f: &mut F, input: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut out = Vec::new();
        let mut start = 0;
        for c in cuts {
            f.put(&input[start..c], &mut out).unwrap();
            start = c;
        }
        f.put(&input[start..], &mut out).unwrap();
        f.end(&mut out).unwrap();
        out
    }
}
