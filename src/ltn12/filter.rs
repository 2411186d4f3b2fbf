//! Filter combinators: chain (any number of filters, one after the other) and callback.
//! The MIME filters live in `crate::mime`, the HTTP chunked coding in `chunked`.

use super::Filter;
use crate::error::{Error, Result};

/// LTN12's filter chain: each filter's output is the next one's input. At the end each
/// filter in turn gets the held-back output of the one before it, then its own end.
/// Intermediate buffers are kept and reused. An empty chain passes chunks through. When a
/// stage fails, the output it made before failing still goes through the later stages,
/// then the error is returned.
pub struct ChainFilter<F> {
    filters: Vec<F>,
    scratch: Vec<Vec<u8>>,
}

impl<F: Filter> ChainFilter<F> {
    /// Chains `filters` (the first one sees the input first).
    pub fn new(filters: Vec<F>) -> Self {
        let n = filters.len().saturating_sub(1);
        ChainFilter {
            filters,
            scratch: vec![Vec::new(); n],
        }
    }
}

impl<F: Filter> Filter for ChainFilter<F> {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let n = self.filters.len();
        if n == 0 {
            out.extend_from_slice(chunk);
            return Ok(());
        }
        let mut first_err: Option<Error> = None;
        for i in 0..n {
            let (done, rest) = self.scratch.split_at_mut(i);
            let input: &[u8] = if i == 0 { chunk } else { &done[i - 1] };
            if i > 0 && input.is_empty() {
                // Nothing came out of the stage before: nothing to pass on.
                break;
            }
            let output: &mut Vec<u8> = if i == n - 1 {
                out
            } else {
                let o = &mut rest[0];
                o.clear();
                o
            };
            if let Err(e) = self.filters[i].put(input, output) {
                if first_err.is_some() {
                    break;
                }
                // The output made before the error still goes through the later stages.
                first_err = Some(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    fn end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let n = self.filters.len();
        for i in 0..n {
            let (done, rest) = self.scratch.split_at_mut(i);
            let output: &mut Vec<u8> = if i == n - 1 {
                out
            } else {
                let o = &mut rest[0];
                o.clear();
                o
            };
            if i > 0 && !done[i - 1].is_empty() {
                self.filters[i].put(&done[i - 1], output)?;
            }
            self.filters[i].end(output)?;
        }
        Ok(())
    }
}

/// A filter whose work is done by a closure: called with `Some(chunk)` for each chunk and
/// `None` at the end, it appends its output to the buffer it is given.
pub struct CallbackFilter<F> {
    f: F,
}

impl<F: FnMut(Option<&[u8]>, &mut Vec<u8>) -> Result<()>> CallbackFilter<F> {
    /// A filter calling `f`.
    pub fn new(f: F) -> Self {
        CallbackFilter { f }
    }
}

impl<F: FnMut(Option<&[u8]>, &mut Vec<u8>) -> Result<()>> Filter for CallbackFilter<F> {
    fn put(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        (self.f)(Some(chunk), out)
    }
    fn end(&mut self, out: &mut Vec<u8>) -> Result<()> {
        (self.f)(None, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltn12::testutil::run_split;
    use crate::ltn12::BoxFilter;
    use proptest::prelude::*;

    /// Doubles every byte.
    fn double() -> BoxFilter {
        Box::new(CallbackFilter::new(
            |c: Option<&[u8]>, out: &mut Vec<u8>| {
                for &b in c.unwrap_or(b"") {
                    out.extend_from_slice(&[b, b]);
                }
                Ok(())
            },
        ))
    }

    /// Holds the last byte back until the next chunk or the end; appends "$" at the end.
    fn lag() -> BoxFilter {
        let mut held: Option<u8> = None;
        Box::new(CallbackFilter::new(
            move |c: Option<&[u8]>, out: &mut Vec<u8>| {
                match c {
                    Some(c) => {
                        if let Some((&last, head)) = c.split_last() {
                            out.extend(held.take());
                            out.extend_from_slice(head);
                            held = Some(last);
                        }
                    }
                    None => {
                        out.extend(held.take());
                        out.push(b'$');
                    }
                }
                Ok(())
            },
        ))
    }

    #[test]
    fn empty_chain_passes_through() {
        let mut c: ChainFilter<BoxFilter> = ChainFilter::new(vec![]);
        assert_eq!(run_split(&mut c, b"abc", &[1]), b"abc");
    }

    #[test]
    fn chain_ends_each_stage_in_order() {
        let mut c = ChainFilter::new(vec![lag(), double(), lag()]);
        // lag: "ab" then "$" at the end; double: "aabb$$"; lag: "aabb$$$".
        assert_eq!(run_split(&mut c, b"ab", &[1]), b"aabb$$$");
    }

    #[test]
    fn output_before_a_stage_error_goes_through_later_stages() {
        use crate::ltn12::chunked::ChunkedDecoder;
        let mut c = ChainFilter::new(vec![Box::new(ChunkedDecoder::new()) as BoxFilter, double()]);
        let mut out = Vec::new();
        let e = c.put(b"2\r\nab\r\nzz\r\n", &mut out).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::Protocol);
        assert_eq!(out, b"aabb");
    }

    proptest! {
        #[test]
        fn chain_is_chunking_invariant(data in proptest::collection::vec(any::<u8>(), 0..200),
                                       cuts in proptest::collection::vec(0usize..201, 0..8)) {
            let whole = run_split(&mut ChainFilter::new(vec![lag(), double(), lag(), lag()]), &data, &[]);
            let split = run_split(&mut ChainFilter::new(vec![lag(), double(), lag(), lag()]), &data, &cuts);
            prop_assert_eq!(whole, split);
        }
    }
}
