//! C API of the MIME transforms: filter constructors, and the low-level incremental calls
//! of LuaSocket's `mime.core` (`sockit_mime_b64` is `mime.b64`, and so on) for the Lua
//! glue and other hosts.
//!
//! Conventions of the low-level calls, mirroring Lua's nil: a NULL input pointer is nil
//! (pass a non-NULL pointer with length 0 for an empty string). LuaSocket returns nil for
//! A exactly when the input chunk is nil and A would be empty (or, for `b64`, `unb64`,
//! `qp` and `unqp`, when C is nil), and nil for B exactly when D is nil (or C is nil); the
//! buffers are then left empty. Outputs are written after the inputs have been read, so an
//! input may point into an output buffer. Output buffers are cleared first and must be
//! two different buffers. None of these calls blocks.

#![allow(clippy::missing_safety_doc)] // each exported function documents its contract in its doc comment

use super::boundary::{bytes_arg, guard, handle_out, out_arg};
use super::buffer::sockit_buffer;
use super::ltn12::{new_filter, sockit_filter};
use super::status::sockit_status;
use crate::error::{Error, Result};
use crate::mime::{self, eol::CRLF, qp::TEXT_MARKER};

/// An optional byte argument: NULL is nil.
unsafe fn opt_bytes<'a>(p: *const u8, len: usize, name: &str) -> Result<Option<&'a [u8]>> {
    if p.is_null() {
        if len != 0 {
            return Err(Error::invalid(format!(
                "{name} is NULL but its length is {len}"
            )));
        }
        return Ok(None);
    }
    bytes_arg(p, len, name).map(Some)
}

/// Replaces the contents of `buf` with `v` (nothing for `None`).
unsafe fn store(buf: *mut sockit_buffer, v: Option<Vec<u8>>) -> Result<()> {
    sockit_buffer::with(buf, |b| {
        b.clear();
        if let Some(v) = v {
            b.extend_from_slice(&v);
        }
        Ok(())
    })
}

/// Stores an (A, B) pair of results.
unsafe fn store_pair(a: *mut sockit_buffer, b: *mut sockit_buffer, r: Pair) -> Result<()> {
    if a == b {
        return Err(Error::invalid("a and b must be different buffers"));
    }
    sockit_buffer::with(b, |_| Ok(()))?;
    store(a, r.0)?;
    store(b, r.1)
}

/// A result of `mime.core`: A (or nil) and B (or nil).
type Pair = (Option<Vec<u8>>, Option<Vec<u8>>);

/// A (C, D) -> (A, B) call of `mime.core`.
type PairFn = fn(Option<&[u8]>, Option<&[u8]>) -> Pair;

/// The body of the (C, D) -> (A, B) calls: reads the C and D arguments, runs `f`, stores
/// its results.
unsafe fn pair_call(
    c: *const u8,
    c_len: usize,
    d: *const u8,
    d_len: usize,
    a: *mut sockit_buffer,
    b: *mut sockit_buffer,
    f: PairFn,
) -> sockit_status {
    guard(|| {
        let r = f(opt_bytes(c, c_len, "c")?, opt_bytes(d, d_len, "d")?);
        store_pair(a, b, r)
    })
}

/// `mime.b64(C, D)`: A is the base64 encoding of the largest prefix of C..D that needs
/// no padding, B the bytes left over; with D NULL (nil) the rest is encoded with padding
/// (see the conventions above). Writes A into `a` and B into `b`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mime_b64(
    c: *const u8,
    c_len: usize,
    d: *const u8,
    d_len: usize,
    a: *mut sockit_buffer,
    b: *mut sockit_buffer,
) -> sockit_status {
    pair_call(c, c_len, d, d_len, a, b, mime::b64)
}

/// `mime.unb64(C, D)`: A is the decoding of the complete 4-character groups of C..D
/// (characters outside the base64 alphabet are skipped), B the characters of the
/// incomplete group; with D NULL (nil) the incomplete group is dropped. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mime_unb64(
    c: *const u8,
    c_len: usize,
    d: *const u8,
    d_len: usize,
    a: *mut sockit_buffer,
    b: *mut sockit_buffer,
) -> sockit_status {
    pair_call(c, c_len, d, d_len, a, b, mime::unb64)
}

/// `mime.qp(C, D, marker)`: quoted-printable encoding of C..D as far as it can be decided,
/// CRLF replaced by `marker` (`marker_len` bytes; NULL: CRLF, text mode; "=0D=0A" is
/// binary mode); B holds the undecided bytes. With D NULL the rest is encoded and ends
/// with a soft line break. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mime_qp(
    c: *const u8,
    c_len: usize,
    d: *const u8,
    d_len: usize,
    marker: *const u8,
    marker_len: usize,
    a: *mut sockit_buffer,
    b: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let marker = opt_bytes(marker, marker_len, "marker")?.unwrap_or(TEXT_MARKER);
        let r = mime::qp(opt_bytes(c, c_len, "c")?, opt_bytes(d, d_len, "d")?, marker);
        store_pair(a, b, r)
    })
}

/// `mime.unqp(C, D)`: quoted-printable decoding of C..D; B holds an unfinished `=XX` or
/// CR sequence, which is dropped when D is NULL. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mime_unqp(
    c: *const u8,
    c_len: usize,
    d: *const u8,
    d_len: usize,
    a: *mut sockit_buffer,
    b: *mut sockit_buffer,
) -> sockit_status {
    pair_call(c, c_len, d, d_len, a, b, mime::unqp)
}

/// Stores an (A, number) pair of results.
unsafe fn store_num(
    a: *mut sockit_buffer,
    n_out: *mut i64,
    r: (Option<Vec<u8>>, i64),
) -> Result<()> {
    let n_out = out_arg(n_out, "out number")?;
    store(a, r.0)?;
    *n_out = r.1;
    Ok(())
}

/// `mime.wrp(n, C, length)`: wraps C at `length` columns with `left` columns left on the
/// current line (CR dropped, LF becomes CRLF); `*left_out` receives the columns left. With
/// C NULL (the end) A is CRLF when the line is not empty, and `*left_out` is `length`.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mime_wrp(
    left: i64,
    c: *const u8,
    c_len: usize,
    length: i64,
    a: *mut sockit_buffer,
    left_out: *mut i64,
) -> sockit_status {
    guard(|| {
        let r = mime::wrp(left, opt_bytes(c, c_len, "c")?, length);
        store_num(a, left_out, r)
    })
}

/// `mime.qpwrp(n, C, length)`: as `sockit_mime_wrp` with quoted-printable soft line
/// breaks (`=\r\n`), never splitting an `=XX` sequence. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mime_qpwrp(
    left: i64,
    c: *const u8,
    c_len: usize,
    length: i64,
    a: *mut sockit_buffer,
    left_out: *mut i64,
) -> sockit_status {
    guard(|| {
        let r = mime::qpwrp(left, opt_bytes(c, c_len, "c")?, length);
        store_num(a, left_out, r)
    })
}

/// `mime.eol(C, D, marker)`: normalises the line breaks of D (CR, LF, CRLF, LFCR) to
/// `marker` (NULL: CRLF), given the state `ctx` of the previous call (0 at the start);
/// `*ctx_out` receives the new state. With D NULL, A is nil and the state 0. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mime_eol(
    ctx: i64,
    d: *const u8,
    d_len: usize,
    marker: *const u8,
    marker_len: usize,
    a: *mut sockit_buffer,
    ctx_out: *mut i64,
) -> sockit_status {
    guard(|| {
        let marker = opt_bytes(marker, marker_len, "marker")?.unwrap_or(CRLF);
        let r = mime::eol(ctx, opt_bytes(d, d_len, "d")?, marker);
        store_num(a, ctx_out, r)
    })
}

/// `mime.dot(m, C)`: SMTP dot-stuffing of C given the state `state` (2 at the start of the
/// data); `*state_out` receives the new state. With C NULL, A is nil and the state 2.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mime_dot(
    state: i64,
    c: *const u8,
    c_len: usize,
    a: *mut sockit_buffer,
    state_out: *mut i64,
) -> sockit_status {
    guard(|| {
        let r = mime::dot(state, opt_bytes(c, c_len, "c")?);
        store_num(a, state_out, r)
    })
}

/// Base64 encoding filter (`mime.encode("base64")`). The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_base64_encode(
    out: *mut *mut sockit_filter,
) -> sockit_status {
    guard(|| {
        *handle_out(out, "out")? = new_filter(mime::Base64Encoder::new());
        Ok(())
    })
}

/// Base64 decoding filter (`mime.decode("base64")`): characters outside the alphabet are
/// skipped. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_base64_decode(
    out: *mut *mut sockit_filter,
) -> sockit_status {
    guard(|| {
        *handle_out(out, "out")? = new_filter(mime::Base64Decoder::new());
        Ok(())
    })
}

/// Quoted-printable encoding filter (`mime.encode("quoted-printable", mode)`): text mode
/// keeps CRLF line breaks, `binary` mode encodes them as `=0D=0A`. Expects canonical
/// (CRLF) line breaks; lines are not wrapped (chain `sockit_filter_qp_wrap`). The caller
/// owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_qp_encode(
    binary: bool,
    out: *mut *mut sockit_filter,
) -> sockit_status {
    guard(|| {
        let f = if binary {
            mime::QpEncoder::binary()
        } else {
            mime::QpEncoder::text()
        };
        *handle_out(out, "out")? = new_filter(f);
        Ok(())
    })
}

/// Quoted-printable decoding filter (`mime.decode("quoted-printable")`). The caller owns
/// `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_qp_decode(out: *mut *mut sockit_filter) -> sockit_status {
    guard(|| {
        *handle_out(out, "out")? = new_filter(mime::QpDecoder::new());
        Ok(())
    })
}

/// Text (and base64) line wrapping at `length` columns (`mime.wrap("text", length)`;
/// `mime.wrap("base64")` is length 76). The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_wrap(
    length: i64,
    out: *mut *mut sockit_filter,
) -> sockit_status {
    guard(|| {
        *handle_out(out, "out")? = new_filter(mime::TextWrap::new(length));
        Ok(())
    })
}

/// Quoted-printable line wrapping with soft line breaks at `length` columns
/// (`mime.wrap("quoted-printable")` is 76). The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_qp_wrap(
    length: i64,
    out: *mut *mut sockit_filter,
) -> sockit_status {
    guard(|| {
        *handle_out(out, "out")? = new_filter(mime::QpWrap::new(length));
        Ok(())
    })
}

/// End-of-line normalisation (`mime.normalize(marker)`): CR, LF, CRLF and LFCR become
/// `marker` (`marker_len` bytes; NULL: CRLF). The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_normalize(
    marker: *const u8,
    marker_len: usize,
    out: *mut *mut sockit_filter,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        let marker = opt_bytes(marker, marker_len, "marker")?.unwrap_or(CRLF);
        *out = new_filter(mime::Normalize::new(marker));
        Ok(())
    })
}

/// SMTP dot-stuffing (`mime.stuff()`); with `end_of_data` the filter also writes the
/// final `.` line (`.\r\n`, preceded by CRLF when the data did not end with one). The
/// caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_dot_stuff(
    end_of_data: bool,
    out: *mut *mut sockit_filter,
) -> sockit_status {
    guard(|| {
        let f = if end_of_data {
            mime::DotStuff::smtp()
        } else {
            mime::DotStuff::new()
        };
        *handle_out(out, "out")? = new_filter(f);
        Ok(())
    })
}
