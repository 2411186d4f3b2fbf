//! The read buffer of a stream: one `Vec<u8>` with start/end cursors, and the scanners that
//! take a line, a word or a Moonbridge read out of it.
//!
//! Bytes live in `buf[start..end]`. The buffer is refilled in chunks of at least
//! [`READ_CHUNK`] bytes; a stream whose reads keep filling the whole chunk (a bulk
//! transfer) doubles its chunk up to [`MAX_READ_CHUNK`], and one whose reads come back
//! small halves it again, so idle and chatty sockets stay small while bulk ones make a
//! quarter as many system calls (on loopback this halves the time of a 1 GiB HTTP
//! download). When room runs out at the end it compacts (moves the unread bytes to
//! the front) before it grows. Scanners look for delimiters with memchr and move whole runs
//! of bytes with one copy each; a scanner that does not find its delimiter hands out
//! everything it holds, so a line longer than the buffer is never a problem and the buffer
//! is empty again before the next refill.

use crate::sys::scan::{find_lf, LfScan};
use memchr::memchr;

/// The smallest read the stream asks the kernel for when it refills the buffer.
///
/// cbindgen:ignore
pub const READ_CHUNK: usize = 64 * 1024;

/// The largest read a bulk transfer grows to (see the module documentation).
///
/// cbindgen:ignore
pub const MAX_READ_CHUNK: usize = 256 * 1024;

/// How lines end and what is dropped from them. In every mode the LF ends the line and is
/// not part of the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineMode {
    /// LuaSocket 2+ "*l": every CR in the line is dropped.
    StripAllCr,
    /// LuaSocket 1.3b "*l": a CR right before the LF is dropped, other CRs are kept.
    StripCrBeforeLf,
    /// LuaSocket 1.3b "*lu": nothing is dropped.
    Raw,
}

/// State a line or word scan carries from one buffer refill to the next.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanState {
    /// `StripCrBeforeLf`: the last byte this line appended to the output is a CR, which must
    /// go if the next byte is the LF.
    cr_pending: bool,
    /// Word: the leading white space has been skipped.
    in_word: bool,
}

/// C `isspace` in the "C" locale: space, \t, \n, \v, \f, \r.
static SPACE: [bool; 256] = {
    let mut t = [false; 256];
    t[b' ' as usize] = true;
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t[0x0b] = true;
    t[0x0c] = true;
    t[b'\r' as usize] = true;
    t
};

/// True for the bytes C's `isspace` accepts in the "C" locale.
#[inline]
pub fn is_space(b: u8) -> bool {
    SPACE[b as usize]
}

/// Appends `seg` to `out` without its CR bytes.
#[inline]
fn extend_without_cr(out: &mut Vec<u8>, seg: &[u8]) {
    let mut rest = seg;
    while let Some(j) = memchr(b'\r', rest) {
        out.extend_from_slice(&rest[..j]);
        rest = &rest[j + 1..];
    }
    out.extend_from_slice(rest);
}

/// A growable byte buffer with read (`start`) and write (`end`) cursors.
#[derive(Debug, Default)]
pub struct ReadBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// No CR in `buf[start..cr_hint]` (when `cr_hint > start`): "*l" lines that end before
    /// it are copied without looking for CRs again, so CR-free input is scanned for CRs
    /// once per refill instead of once per line.
    cr_hint: usize,
    /// The size of the next refill (0 before the first: [`READ_CHUNK`]).
    chunk: usize,
}

impl ReadBuf {
    /// An empty buffer; storage is allocated at the first refill.
    pub fn new() -> ReadBuf {
        ReadBuf::default()
    }

    /// The unread bytes.
    #[inline]
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// How many unread bytes there are.
    #[inline]
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True when no unread bytes are left.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The size of the storage (for tests and statistics).
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Drops the first `n` unread bytes (at most all of them).
    #[inline]
    pub fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.start == self.end {
            self.clear();
        }
    }

    /// Drops every unread byte.
    #[inline]
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.cr_hint = 0;
    }

    /// Drops the unread bytes and frees the storage.
    pub fn release(&mut self) {
        *self = ReadBuf::default();
    }

    /// The size the next refill asks for.
    #[inline]
    pub fn chunk(&self) -> usize {
        self.chunk.max(READ_CHUNK)
    }

    /// Free space after the unread bytes, at least `min` bytes (and at least
    /// [`READ_CHUNK`] once storage exists): an empty buffer rewinds, a buffer short of room
    /// compacts first and grows only when compacting is not enough.
    pub fn spare(&mut self, min: usize) -> &mut [u8] {
        let min = min.max(1);
        if self.start == self.end {
            self.clear();
        }
        if self.buf.len() - self.end < min {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.cr_hint = self.cr_hint.saturating_sub(self.start);
                self.start = 0;
            }
            if self.buf.len() - self.end < min {
                let want = (self.end + min)
                    .max(READ_CHUNK)
                    .max(self.buf.len().saturating_mul(2));
                self.buf.resize(want, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// Marks `n` bytes of the space returned by [`spare`](Self::spare) as filled.
    #[inline]
    pub fn commit(&mut self, n: usize) {
        debug_assert!(self.end + n <= self.buf.len());
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Refills: hands `read` at least [`chunk`](Self::chunk) bytes of free space and
    /// commits what it reports as read. Returns that count (0 means end of stream). A read
    /// that fills the whole chunk doubles the next one (up to [`MAX_READ_CHUNK`]); one
    /// that brings less than a quarter of it halves it (down to [`READ_CHUNK`]).
    pub fn fill_with<E>(
        &mut self,
        read: impl FnOnce(&mut [u8]) -> Result<usize, E>,
    ) -> Result<usize, E> {
        let want = self.chunk();
        let n = read(self.spare(want))?;
        self.commit(n);
        if n >= want {
            self.chunk = (want * 2).min(MAX_READ_CHUNK);
        } else if n < want / 4 {
            self.chunk = (want / 2).max(READ_CHUNK);
        }
        Ok(n)
    }

    /// Appends up to `max` unread bytes to `out` and consumes them. Returns how many.
    #[inline]
    pub fn take(&mut self, max: usize, out: &mut Vec<u8>) -> usize {
        let n = self.len().min(max);
        out.extend_from_slice(&self.buf[self.start..self.start + n]);
        self.consume(n);
        n
    }

    /// Moonbridge read over the buffered bytes: consumes up to `limit` bytes, stopping after
    /// the first `term` byte (which is included). The bytes go to `out` when given
    /// (otherwise they are drained). Returns how many bytes were consumed and whether the
    /// terminator was among them. When neither the limit nor the terminator is reached
    /// the buffer is left empty.
    #[inline]
    pub fn take_until(
        &mut self,
        limit: usize,
        term: Option<u8>,
        out: Option<&mut Vec<u8>>,
    ) -> (usize, bool) {
        let avail = &self.buf[self.start..self.end];
        let window = &avail[..avail.len().min(limit)];
        let (n, found) = match term.and_then(|t| memchr(t, window)) {
            Some(i) => (i + 1, true),
            None => (window.len(), false),
        };
        if let Some(out) = out {
            out.extend_from_slice(&window[..n]);
        }
        self.consume(n);
        (n, found)
    }

    /// Moves the next line (or as much of it as is buffered) to `out`. Returns true when
    /// the line is complete: its LF was found and consumed. Otherwise every buffered byte
    /// was moved, the buffer is empty, and `st` remembers what the next call needs.
    #[inline]
    pub fn take_line(&mut self, mode: LineMode, out: &mut Vec<u8>, st: &mut ScanState) -> bool {
        match find_lf(self.data()) {
            Some(i) => {
                self.take_line_at(mode, i, out, st);
                true
            }
            None => {
                self.take_partial_line(mode, out, st);
                false
            }
        }
    }

    /// Completes a line whose LF is at `data()[i]`: moves the bytes before it to `out`
    /// (as `mode` says) and consumes the LF too.
    #[inline]
    pub fn take_line_at(
        &mut self,
        mode: LineMode,
        i: usize,
        out: &mut Vec<u8>,
        st: &mut ScanState,
    ) {
        let (a, lf) = (self.start, self.start + i);
        match mode {
            LineMode::Raw => out.extend_from_slice(&self.buf[a..lf]),
            LineMode::StripCrBeforeLf => {
                if i == 0 {
                    if st.cr_pending {
                        out.pop();
                    }
                } else if self.buf[lf - 1] == b'\r' {
                    out.extend_from_slice(&self.buf[a..lf - 1]);
                } else {
                    out.extend_from_slice(&self.buf[a..lf]);
                }
                st.cr_pending = false;
            }
            LineMode::StripAllCr => {
                if self.has_cr(lf) {
                    extend_without_cr(out, &self.buf[a..lf]);
                } else {
                    out.extend_from_slice(&self.buf[a..lf]);
                }
            }
        }
        self.consume(i + 1);
    }

    /// Looks at up to `max` complete lines at the front of the buffer without consuming
    /// them: calls `f(line, size)` for each, `line` being what `take_line` in `mode` would
    /// give and `size` the bytes the line occupies (its LF included). Stops before a line
    /// that `mode` would have to change in the middle (a CR inside a `StripAllCr` line
    /// other than one right before the LF), so every `line` is a slice of the buffer.
    /// Returns how many lines it saw.
    pub fn peek_lines(&self, mode: LineMode, max: usize, mut f: impl FnMut(&[u8], usize)) -> usize {
        let mut n = 0;
        let mut at = self.start;
        // No CR in buf[at..clean]: from take_line's hint (which stays where it is, for the
        // lines this call does not consume), then advanced one CR at a time.
        let mut clean = self.cr_hint.max(self.start).min(self.end);
        let mut lfs = LfScan::new(&self.buf[self.start..self.end]);
        while n < max {
            let Some(i) = lfs.next() else {
                break;
            };
            let lf = self.start + i;
            let before_cr = lf > at && self.buf[lf - 1] == b'\r';
            let line = match mode {
                LineMode::Raw => at..lf,
                LineMode::StripCrBeforeLf if before_cr => at..lf - 1,
                LineMode::StripCrBeforeLf => at..lf,
                LineMode::StripAllCr => {
                    // A CR before the LF (CRLF text) is dropped by ending the view early;
                    // one inside the line would need the bytes changed.
                    let end = if before_cr { lf - 1 } else { lf };
                    if clean < end {
                        let from = clean.max(at);
                        clean =
                            memchr(b'\r', &self.buf[from..self.end]).map_or(self.end, |p| from + p);
                        if clean < end {
                            break;
                        }
                    }
                    at..end
                }
            };
            f(&self.buf[line], lf + 1 - at);
            at = lf + 1;
            n += 1;
        }
        n
    }

    /// No LF buffered: moves everything to `out` (as `mode` says) and empties the buffer.
    fn take_partial_line(&mut self, mode: LineMode, out: &mut Vec<u8>, st: &mut ScanState) {
        let data = &self.buf[self.start..self.end];
        match mode {
            LineMode::Raw => out.extend_from_slice(data),
            LineMode::StripCrBeforeLf => {
                if let Some(&last) = data.last() {
                    st.cr_pending = last == b'\r';
                    out.extend_from_slice(data);
                }
            }
            LineMode::StripAllCr => extend_without_cr(out, data),
        }
        self.clear();
    }

    /// True when `buf[start..until]` holds a CR. Scans from where the last scan stopped to
    /// the next CR (or the end of the data), remembering where that is.
    #[inline]
    fn has_cr(&mut self, until: usize) -> bool {
        let from = self.cr_hint.max(self.start);
        if until <= from {
            return false;
        }
        match memchr(b'\r', &self.buf[from..self.end]) {
            Some(p) => {
                self.cr_hint = from + p;
                from + p < until
            }
            None => {
                self.cr_hint = self.end;
                false
            }
        }
    }

    /// Moves the next word (LuaSocket 1.3b "*w") to `out`: leading white space is skipped,
    /// then bytes up to the next white space are taken; that white space stays in the
    /// buffer. Returns true when the word is complete; otherwise the buffer is empty and
    /// `st` remembers whether the word has started.
    #[inline]
    pub fn take_word(&mut self, out: &mut Vec<u8>, st: &mut ScanState) -> bool {
        let data = &self.buf[self.start..self.end];
        let mut pos = 0;
        if !st.in_word {
            match data.iter().position(|&b| !is_space(b)) {
                Some(i) => {
                    pos = i;
                    st.in_word = true;
                }
                None => {
                    self.clear();
                    return false;
                }
            }
        }
        match data[pos..].iter().position(|&b| is_space(b)) {
            Some(j) => {
                out.extend_from_slice(&data[pos..pos + j]);
                self.consume(pos + j);
                st.in_word = false;
                true
            }
            None => {
                out.extend_from_slice(&data[pos..]);
                self.clear();
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peek_all(rb: &mut ReadBuf, mode: LineMode, max: usize) -> Vec<(Vec<u8>, usize)> {
        let mut v = Vec::new();
        let n = rb.peek_lines(mode, max, |l, size| v.push((l.to_vec(), size)));
        assert_eq!(n, v.len());
        v
    }

    #[test]
    fn peek_lines_gives_what_take_line_would_without_consuming() {
        let data = b"a\r\nb\n\nc\rd\ne\r\r\nf";
        let mut rb = filled(&[data]);
        let l = |s: &str, n| (s.as_bytes().to_vec(), n);
        // 2.0 "*l": CRLF lines are views ending before the CR; "c\rd" needs its CR cut
        // out of the middle, so the look stops there.
        assert_eq!(
            peek_all(&mut rb, LineMode::StripAllCr, 10),
            vec![l("a", 3), l("b", 2), l("", 1)]
        );
        assert_eq!(
            peek_all(&mut rb, LineMode::Raw, 10),
            vec![
                l("a\r", 3),
                l("b", 2),
                l("", 1),
                l("c\rd", 4),
                l("e\r\r", 4)
            ]
        );
        assert_eq!(
            peek_all(&mut rb, LineMode::StripCrBeforeLf, 10),
            vec![l("a", 3), l("b", 2), l("", 1), l("c\rd", 4), l("e\r", 4)]
        );
        assert_eq!(peek_all(&mut rb, LineMode::Raw, 2).len(), 2);
        assert_eq!(peek_all(&mut rb, LineMode::Raw, 0).len(), 0);
        assert_eq!(rb.data(), data, "nothing consumed");
        // Consuming what was seen and taking the next line agree with the views.
        rb.consume(3 + 2 + 1);
        let mut out = Vec::new();
        assert!(rb.take_line(LineMode::StripAllCr, &mut out, &mut ScanState::default()));
        assert_eq!(out, b"cd");
        // "e\r\r": the first CR is inside the line.
        assert!(peek_all(&mut rb, LineMode::StripAllCr, 10).is_empty());
        out.clear();
        assert!(rb.take_line(LineMode::StripAllCr, &mut out, &mut ScanState::default()));
        assert_eq!(out, b"e");
        // An incomplete line is never seen.
        assert!(peek_all(&mut rb, LineMode::Raw, 10).is_empty());
        assert_eq!(rb.data(), b"f");
    }

    #[test]
    fn peeking_past_a_crlf_line_leaves_the_cr_to_the_next_take() {
        // The look-ahead must not move take_line's CR hint past a CR it accepted.
        let mut rb = filled(&[b"x\ny\nz\r\nw\nv"]);
        let mut out = Vec::new();
        assert!(rb.take_line(LineMode::StripAllCr, &mut out, &mut ScanState::default()));
        assert_eq!(peek_all(&mut rb, LineMode::StripAllCr, 10).len(), 3);
        rb.consume(2);
        out.clear();
        assert!(rb.take_line(LineMode::StripAllCr, &mut out, &mut ScanState::default()));
        assert_eq!(out, b"z");
        out.clear();
        assert!(rb.take_line(LineMode::StripAllCr, &mut out, &mut ScanState::default()));
        assert_eq!(out, b"w");
    }

    #[test]
    fn peek_lines_after_a_scan_for_cr_stopped_mid_buffer() {
        // take_line leaves the CR hint on a CR further on; peeking from there must not
        // see that CR as inside a line before it, nor miss it in its own line.
        let mut rb = filled(&[b"x\ny\nz\r\nw\rv\nq\n"]);
        let mut out = Vec::new();
        assert!(rb.take_line(LineMode::StripAllCr, &mut out, &mut ScanState::default()));
        assert_eq!(out, b"x");
        let l = |s: &str, n| (s.as_bytes().to_vec(), n);
        assert_eq!(
            peek_all(&mut rb, LineMode::StripAllCr, 10),
            vec![l("y", 2), l("z", 3)]
        );
        rb.consume(5);
        assert!(peek_all(&mut rb, LineMode::StripAllCr, 10).is_empty());
        out.clear();
        assert!(rb.take_line(LineMode::StripAllCr, &mut out, &mut ScanState::default()));
        assert_eq!(out, b"wv");
        assert_eq!(peek_all(&mut rb, LineMode::StripAllCr, 10), vec![l("q", 2)]);
    }

    #[test]
    fn refill_size_follows_the_traffic() {
        let mut rb = ReadBuf::new();
        let mut sizes = Vec::new();
        // Bulk: every read fills the space it is given.
        for _ in 0..4 {
            let n = rb
                .fill_with(|space| -> Result<usize, ()> {
                    sizes.push(space.len());
                    Ok(space.len())
                })
                .unwrap();
            rb.consume(n);
        }
        assert_eq!(sizes[0], READ_CHUNK);
        assert!(sizes[1] >= 2 * READ_CHUNK, "{sizes:?}");
        assert_eq!(rb.chunk(), MAX_READ_CHUNK);
        assert!(rb.capacity() <= 2 * MAX_READ_CHUNK);
        // Chatty: small reads bring the refill size back down, step by step.
        for _ in 0..4 {
            let n = rb.fill_with(|space| -> Result<usize, ()> {
                space[..10].fill(b'x');
                Ok(10)
            });
            rb.consume(n.unwrap());
        }
        assert_eq!(rb.chunk(), READ_CHUNK);
        // A read between a quarter and all of the chunk keeps it.
        let n = rb
            .fill_with(|_| -> Result<usize, ()> { Ok(READ_CHUNK / 2) })
            .unwrap();
        rb.consume(n);
        assert_eq!(rb.chunk(), READ_CHUNK);
    }

    fn filled(chunks: &[&[u8]]) -> ReadBuf {
        let mut rb = ReadBuf::new();
        for c in chunks {
            let s = rb.spare(c.len());
            s[..c.len()].copy_from_slice(c);
            rb.commit(c.len());
        }
        rb
    }

    #[test]
    fn cursors_rewind_compact_and_grow() {
        let mut rb = filled(&[b"hello world"]);
        assert_eq!(rb.capacity(), READ_CHUNK);
        rb.consume(6);
        assert_eq!(rb.data(), b"world");
        // Asking for more room than is left at the end compacts first.
        let room = rb.spare(READ_CHUNK - 5).len();
        assert_eq!(room, READ_CHUNK - 5);
        assert_eq!(rb.data(), b"world");
        assert_eq!(rb.capacity(), READ_CHUNK);
        // Asking for more than the storage can hold grows it.
        let room = rb.spare(READ_CHUNK).len();
        assert!(room >= READ_CHUNK);
        assert_eq!(rb.data(), b"world");
        rb.consume(5);
        assert!(rb.is_empty());
        assert_eq!(rb.spare(1).len(), rb.capacity());
        rb.consume(100);
        assert!(rb.is_empty());
    }

    #[test]
    fn fill_with_commits_what_was_read() {
        let mut rb = ReadBuf::new();
        let n = rb
            .fill_with(|b| -> Result<usize, ()> {
                assert!(b.len() >= READ_CHUNK);
                b[..3].copy_from_slice(b"abc");
                Ok(3)
            })
            .unwrap();
        assert_eq!(n, 3);
        assert_eq!(rb.data(), b"abc");
        assert!(rb.fill_with(|_| Err::<usize, _>("x")).is_err());
        assert_eq!(rb.data(), b"abc");
    }

    #[test]
    fn lines_in_each_mode() {
        let input: &[u8] = b"a\r\r\nb\rc\n\nx\ry\r\n";
        let cases: [(LineMode, [&[u8]; 3]); 3] = [
            (LineMode::StripAllCr, [b"a", b"bc", b""]),
            (LineMode::StripCrBeforeLf, [b"a\r", b"b\rc", b""]),
            (LineMode::Raw, [b"a\r\r", b"b\rc", b""]),
        ];
        for (mode, want) in cases {
            let mut rb = filled(&[input]);
            let mut st = ScanState::default();
            for w in want {
                let mut out = Vec::new();
                assert!(rb.take_line(mode, &mut out, &mut st));
                assert_eq!(out, w, "{mode:?}");
            }
            let mut out = Vec::new();
            assert!(rb.take_line(mode, &mut out, &mut st));
            let last: &[u8] = match mode {
                LineMode::StripAllCr => b"xy",
                LineMode::StripCrBeforeLf => b"x\ry",
                LineMode::Raw => b"x\ry\r",
            };
            assert_eq!(out, last, "{mode:?}");
            assert!(rb.is_empty());
        }
    }

    #[test]
    fn crlf_split_across_refills() {
        let mut rb = filled(&[b"abc\r"]);
        let mut st = ScanState::default();
        let mut out = b"prefix:".to_vec();
        assert!(!rb.take_line(LineMode::StripCrBeforeLf, &mut out, &mut st));
        assert_eq!(out, b"prefix:abc\r");
        let s = rb.spare(2);
        s[..2].copy_from_slice(b"\nz");
        rb.commit(2);
        assert!(rb.take_line(LineMode::StripCrBeforeLf, &mut out, &mut st));
        assert_eq!(out, b"prefix:abc");
        assert_eq!(rb.data(), b"z");
        // A CR that belongs to the caller's prefix is never removed.
        let mut rb = filled(&[b"\nrest"]);
        let mut out = b"pre\r".to_vec();
        assert!(rb.take_line(
            LineMode::StripCrBeforeLf,
            &mut out,
            &mut ScanState::default()
        ));
        assert_eq!(out, b"pre\r");
    }

    #[test]
    fn words_skip_space_and_leave_the_delimiter() {
        let mut rb = filled(&[b" \t\r\n\x0b\x0chello world\x00x\n"]);
        let mut st = ScanState::default();
        let mut out = Vec::new();
        assert!(rb.take_word(&mut out, &mut st));
        assert_eq!(out, b"hello");
        assert_eq!(rb.data()[0], b' ');
        out.clear();
        assert!(rb.take_word(&mut out, &mut st));
        assert_eq!(out, b"world\x00x");
        out.clear();
        assert!(!rb.take_word(&mut out, &mut st));
        assert!(out.is_empty());
        assert!(rb.is_empty());
    }

    #[test]
    fn take_until_limits_and_terminators() {
        let mut rb = filled(&[b"ab\ncd\nef"]);
        let mut out = Vec::new();
        assert_eq!(rb.take_until(2, Some(b'\n'), Some(&mut out)), (2, false));
        assert_eq!(rb.take_until(10, Some(b'\n'), Some(&mut out)), (1, true));
        assert_eq!(out, b"ab\n");
        // The terminator at the last allowed position counts as found.
        assert_eq!(rb.take_until(3, Some(b'\n'), None), (3, true));
        assert_eq!(
            rb.take_until(usize::MAX, Some(b'\n'), Some(&mut out)),
            (2, false)
        );
        assert!(rb.is_empty());
        assert_eq!(out, b"ab\nef");
        assert_eq!(rb.take_until(5, None, Some(&mut out)), (0, false));
    }

    #[test]
    fn cr_memory_survives_compaction() {
        let mut rb = filled(&[b"x\ny\rz"]);
        let mut st = ScanState::default();
        let mut out = Vec::new();
        assert!(rb.take_line(LineMode::StripAllCr, &mut out, &mut st));
        assert_eq!(out, b"x");
        // Forces the unread "y\rz" to the front of the storage.
        let s = rb.spare(READ_CHUNK);
        s[..2].copy_from_slice(b"w\n");
        rb.commit(2);
        out.clear();
        assert!(rb.take_line(LineMode::StripAllCr, &mut out, &mut st));
        assert_eq!(out, b"yzw");
    }

    /// Appends the next piece of `rest` (as long as the next cut says) to `rb`, as a read
    /// would; false when nothing is left.
    fn append_piece(
        rb: &mut ReadBuf,
        rest: &mut &[u8],
        cuts: &mut impl Iterator<Item = usize>,
    ) -> bool {
        if rest.is_empty() {
            return false;
        }
        let n = cuts.next().unwrap_or(rest.len()).min(rest.len());
        rb.spare(READ_CHUNK)[..n].copy_from_slice(&rest[..n]);
        rb.commit(n);
        *rest = &rest[n..];
        true
    }

    #[test]
    fn peeked_lines_match_the_lines_taken_after_them() {
        // Any input, appended in any pieces, with lines taken and looked at in turns:
        // each line a look saw is exactly what take_line then returns, and occupies the
        // size the look said; the look stops only where a line is incomplete or (2.0
        // "*l") a CR must be cut from its middle.
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 300,
            ..ProptestConfig::default()
        });
        let byte = prop::sample::select(vec![b'a', b'b', b'\r', b'\n']);
        let strat = (
            prop::collection::vec(byte, 0..400),
            prop::collection::vec(1usize..60, 1..30),
            0usize..3,
        );
        runner
            .run(&strat, |(input, cuts, m)| {
                let mode = [
                    LineMode::StripAllCr,
                    LineMode::StripCrBeforeLf,
                    LineMode::Raw,
                ][m];
                let mut rb = ReadBuf::new();
                let mut rest = &input[..];
                let mut cuts = cuts.into_iter();
                let mut out = Vec::new();
                loop {
                    let mut seen = Vec::new();
                    rb.peek_lines(mode, usize::MAX, |l, size| seen.push((l.to_vec(), size)));
                    for (line, size) in &seen {
                        let before = rb.len();
                        out.clear();
                        prop_assert!(rb.take_line(mode, &mut out, &mut ScanState::default()));
                        prop_assert_eq!(&out, line);
                        prop_assert_eq!(before - rb.len(), *size);
                    }
                    // Where the look stopped: an incomplete line, or a CR inside.
                    if let Some(i) = rb.data().iter().position(|&b| b == b'\n') {
                        let line = &rb.data()[..i];
                        let inner = &line[..line.len().saturating_sub(1)];
                        prop_assert!(mode == LineMode::StripAllCr && inner.contains(&b'\r'));
                        out.clear();
                        prop_assert!(rb.take_line(mode, &mut out, &mut ScanState::default()));
                        continue;
                    }
                    if !append_piece(&mut rb, &mut rest, &mut cuts) {
                        break;
                    }
                }
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn lines_while_appending_with_compaction() {
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 200,
            ..ProptestConfig::default()
        });
        let byte = prop::sample::select(vec![b'a', b'\r', b'\n']);
        let strat = (
            prop::collection::vec(byte, 0..300),
            prop::collection::vec(1usize..50, 1..30),
        );
        runner
            .run(&strat, |(input, cuts)| {
                // Expected: every complete line with its CRs removed.
                let mut want: Vec<Vec<u8>> = input
                    .split(|&b| b == b'\n')
                    .map(|l| l.iter().copied().filter(|&b| b != b'\r').collect())
                    .collect();
                want.pop();
                let mut rb = ReadBuf::new();
                let mut got = Vec::new();
                let mut out = Vec::new();
                let mut st = ScanState::default();
                let mut rest = &input[..];
                let mut cuts = cuts.into_iter();
                loop {
                    // Take one line only when the buffer holds a full one, so that unread
                    // data stays behind and the next append has to compact.
                    if rb.data().contains(&b'\n') {
                        assert!(rb.take_line(LineMode::StripAllCr, &mut out, &mut st));
                        got.push(std::mem::take(&mut out));
                        continue;
                    }
                    if !append_piece(&mut rb, &mut rest, &mut cuts) {
                        break;
                    }
                }
                prop_assert_eq!(got, want);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn space_table_matches_c_isspace() {
        for b in 0..=255u8 {
            let c = matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
            assert_eq!(is_space(b), c, "{b}");
        }
    }
}
