//! C API of LTN12: `sockit_source`, `sockit_sink`, `sockit_filter`, the pumps, callback
//! stages and LuaSocket 1.3b's receive/send callbacks.
//!
//! Ownership: every constructor hands the caller a new handle, released with the
//! matching `_free`. Composite constructors (`sockit_source_chain`, `sockit_source_cat`,
//! `sockit_source_rewind`, `sockit_sink_chain`, `sockit_filter_chain`) take ownership of
//! the handles they are given, even when they fail: those handles are consumed and must
//! not be used or freed again. Callback constructors likewise own `userdata` from the
//! call on: `free_userdata(userdata)` (when not NULL) runs exactly once, when the stage is
//! freed, or at once if the constructor fails. Socket sources and sinks BORROW their
//! socket handle (`sockit_source_socket`): they lock it for each transfer, never while
//! waiting, and a freed socket makes them fail with `SOCKIT_INVALID`.
//!
//! Callbacks run on the thread that pumps (or pulls, puts), while the handles of the
//! pipeline they belong to are locked: they must not call sockit functions on those
//! handles (that would deadlock), must not free the buffer they are lent, and must return
//! normally (no longjmp across sockit: a Lua host calls Lua through lua_pcall).

#![allow(clippy::missing_safety_doc)] // each exported function documents its contract in its doc comment

use super::boundary::{bytes_arg, guard, out_arg, put};
use super::buffer::{set_text, sockit_buffer};
use super::handle::{impl_handle, Shell};
use super::socket::sockit_socket;
use super::status::{kind_of, sockit_status, status_from_raw};
use crate::error::{Error, ErrorKind, Result};
use crate::ltn12::chunked::{ChunkedDecoder, ChunkedEncoder};
use crate::ltn12::filter::{CallbackFilter, ChainFilter};
use crate::ltn12::legacy::{ReceiveCbSink, SendCbSource};
use crate::ltn12::pump::{self, Step};
use crate::ltn12::sink::{
    CallbackSink, ChainSink, ErrorSink, FdWriter, NullSink, SinkEvent, WriteSink,
};
use crate::ltn12::socket::{SharedSocket, SocketCell};
use crate::ltn12::source::{
    BytesSource, CallbackSource, CatSource, ChainSource, EmptySource, ErrorSource, ReadSource,
    RewindSource, StringSource,
};
use crate::ltn12::stream::{
    ByLengthSource, ChunkedSink, ChunkedSource, SinkMode, StreamSink, UntilClosedSource,
};
use crate::ltn12::{BoxFilter, BoxSink, BoxSource, Filter, Sink, Source, BLOCKSIZE};
use crate::net::socket::Socket;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString, OsStr};
use std::fs::File;
use std::io::Read;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;

// ----- handles -------------------------------------------------------------------------

/// An LTN12 source: produces chunks, then the end, or an error. Created by the
/// `sockit_source_*` constructors, moved with `sockit_pump_step` / `sockit_pump_all` or
/// pulled with `sockit_source_pull`, released with `sockit_source_free`.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_source(Shell<SourceObj>);
impl_handle!(sockit_source, SourceObj, "source");

/// An LTN12 sink: receives chunks, then the end or an error. Created by the
/// `sockit_sink_*` constructors, released with `sockit_sink_free`.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_sink(Shell<BoxSink>);
impl_handle!(sockit_sink, BoxSink, "sink");

/// An LTN12 filter: transforms a stream of chunks. Created by the `sockit_filter_*`
/// constructors (MIME, chunked coding, chain, callback), used in `sockit_source_chain` /
/// `sockit_sink_chain` or driven with `sockit_filter_put` / `sockit_filter_end`, released
/// with `sockit_filter_free`.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_filter(Shell<BoxFilter>);
impl_handle!(sockit_filter, BoxFilter, "filter");

/// What a `sockit_source` holds: rewindable sources are kept apart so that
/// `sockit_source_unget` can reach them.
pub(crate) enum SourceObj {
    Plain(BoxSource),
    Rewind(RewindSource<BoxSource>),
    /// An http-chunked socket source, kept apart so that `sockit_source_trailers` can
    /// reach its trailers.
    Chunked(ChunkedSource<SharedSocket<SocketRef>>),
}

impl SourceObj {
    fn source(&mut self) -> &mut (dyn Source + Send) {
        match self {
            SourceObj::Plain(s) => s.as_mut(),
            SourceObj::Rewind(r) => r,
            SourceObj::Chunked(c) => c,
        }
    }
    fn into_box(self) -> BoxSource {
        match self {
            SourceObj::Plain(s) => s,
            SourceObj::Rewind(r) => Box::new(r),
            SourceObj::Chunked(c) => Box::new(c),
        }
    }
}

fn new_source(s: impl Source + Send + 'static) -> *mut sockit_source {
    sockit_source::new(SourceObj::Plain(Box::new(s)))
}

fn new_sink(s: impl Sink + Send + 'static) -> *mut sockit_sink {
    sockit_sink::new(Box::new(s))
}

pub(crate) fn new_filter(f: impl Filter + Send + 'static) -> *mut sockit_filter {
    sockit_filter::new(Box::new(f))
}

/// Clears a constructor's out-parameter and returns it.
pub(crate) unsafe fn out_handle<'a, T>(out: *mut *mut T) -> Result<&'a mut *mut T> {
    let o = out_arg(out, "out")?;
    *o = ptr::null_mut();
    Ok(o)
}

/// Takes the object out of a source handle and frees the handle.
/// Takes the source out of a source handle and frees the handle (composite
/// constructors and protocol calls own the sources they are given).
pub(crate) unsafe fn take_source(p: *mut sockit_source, what: &str) -> Result<BoxSource> {
    let obj = sockit_source::with(p, |s| {
        Ok(std::mem::replace(
            s,
            SourceObj::Plain(Box::new(EmptySource)),
        ))
    })
    .map_err(|e| e.context(what))?;
    sockit_source::free(p);
    Ok(obj.into_box())
}

/// Takes the sink out of a sink handle and frees the handle.
pub(crate) unsafe fn take_sink(p: *mut sockit_sink, what: &str) -> Result<BoxSink> {
    let obj = sockit_sink::with(p, |s| Ok(std::mem::replace(s, Box::new(NullSink))))
        .map_err(|e| e.context(what))?;
    sockit_sink::free(p);
    Ok(obj)
}

unsafe fn take_filter(p: *mut sockit_filter, what: &str) -> Result<BoxFilter> {
    let obj = sockit_filter::with(p, |f| {
        Ok(std::mem::replace(
            f,
            Box::new(ChainFilter::<BoxFilter>::new(vec![])),
        ))
    })
    .map_err(|e| e.context(what))?;
    sockit_filter::free(p);
    Ok(obj)
}

// ----- callbacks -----------------------------------------------------------------------

/// The `free_userdata` argument of callback constructors.
pub(crate) type FreeFn = Option<unsafe extern "C" fn(userdata: *mut c_void)>;

/// A host's userdata pointer with its release function, called once on drop (also used
/// by the server's handlers).
pub(crate) struct UserData {
    pub(crate) ptr: *mut c_void,
    pub(crate) free: FreeFn,
}

// SAFETY: the pointer is only handed back to the host's callbacks; the host promises
// (documented) that its callbacks may run on whichever thread drives the stage.
unsafe impl Send for UserData {}

impl UserData {
    /// The pointer. A method, so that closures capture the whole `UserData` (and with it
    /// the duty to release it), never just the pointer field.
    pub(crate) fn ptr(&self) -> *mut c_void {
        self.ptr
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        if let Some(f) = self.free.take() {
            // SAFETY: the host gave this function for this pointer.
            unsafe { f(self.ptr) }
        }
    }
}

/// A `sockit_buffer` owned by a callback stage and lent to its callback.
struct StageBuffer(*mut sockit_buffer);

// SAFETY: a buffer handle may be used from any thread, one at a time (its documented
// contract); a nested use is caught by the handle's busy flag.
unsafe impl Send for StageBuffer {}

impl StageBuffer {
    fn new() -> Self {
        StageBuffer(sockit_buffer::new(Vec::new()))
    }
    /// The handle, lent to a callback. A method, so that closures capture the whole
    /// `StageBuffer`.
    fn handle(&self) -> *mut sockit_buffer {
        self.0
    }
    fn with<R>(&self, f: impl FnOnce(&mut Vec<u8>) -> Result<R>) -> Result<R> {
        // SAFETY: the handle was made by `new` and is freed only by `drop`.
        unsafe { sockit_buffer::with(self.0, f) }
            .map_err(|e| e.context("callback stage buffer (freed by the callback?)"))
    }
}

impl Drop for StageBuffer {
    fn drop(&mut self) {
        // SAFETY: as in `with`.
        unsafe { sockit_buffer::free(self.0) }
    }
}

thread_local! {
    static CALLBACK_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Gives the error of the callback now running its message: a callback stage that is
/// about to return a failure status may call this first; the pump then fails with that
/// status and `sockit_last_error()` returns `message` (copied). Without it the message
/// is "<stage> callback failed: <status string>". A server handler that fails
/// (`sockit_server_pool_set_handlers`) may call it too: the worker logs the message.
/// Never blocks; NULL clears the message.
#[no_mangle]
pub unsafe extern "C" fn sockit_callback_error(message: *const c_char) {
    let msg = if message.is_null() {
        None
    } else {
        Some(CStr::from_ptr(message).to_string_lossy().into_owned())
    };
    CALLBACK_ERROR.with(|c| *c.borrow_mut() = msg);
}

/// Clears the message a callback may give with `sockit_callback_error` (before calling
/// one) and takes it (after).
pub(crate) fn take_callback_error() -> Option<String> {
    CALLBACK_ERROR.with(|c| c.borrow_mut().take())
}

/// The failure kind of a status value coming from C (`None` for `SOCKIT_OK` and values
/// that are no status).
fn kind_from_status(raw: c_int) -> Option<ErrorKind> {
    status_from_raw(raw).and_then(kind_of)
}

/// Calls a host callback: clears the pending message, runs `call`, turns its status into
/// a result. A value that is no status counts as `SOCKIT_ABORTED`.
fn run_callback(what: &str, call: impl FnOnce() -> c_int) -> Result<()> {
    take_callback_error();
    let status = call();
    if status == 0 {
        return Ok(());
    }
    let kind = kind_from_status(status).unwrap_or(ErrorKind::Aborted);
    let msg = CALLBACK_ERROR
        .with(|c| c.borrow_mut().take())
        .unwrap_or_else(|| format!("{what} callback failed: {}", kind.as_str()));
    Err(Error::new(kind, msg))
}

fn c_message(e: &Error) -> CString {
    CString::new(e.msg.replace('\0', "\\0")).unwrap_or_default()
}

/// Source callback. It gets an empty `chunk` buffer and `*end == false`; it appends the
/// next chunk to `chunk` and returns `SOCKIT_OK`, or sets `*end = true` at the end of the
/// data, or returns another status to fail (see `sockit_callback_error`). It is not called
/// again after the end or a failure. Callbacks run on the thread that drives the stage,
/// while the pipeline's handles are locked: they must not call sockit functions on those
/// handles (that would deadlock), must not free the buffer they are lent, and must return
/// normally (no longjmp across sockit; a Lua host calls Lua through lua_pcall).
#[allow(non_camel_case_types)]
pub type sockit_source_fn = Option<
    unsafe extern "C" fn(userdata: *mut c_void, chunk: *mut sockit_buffer, end: *mut bool) -> c_int,
>;

/// Sink callback, LTN12's sink(chunk, err): a chunk comes as `chunk`/`len` (`chunk` is
/// never NULL then, `len` may be 0); the end as `chunk == NULL, error == NULL`; a failure
/// of the source as `chunk == NULL` and its message in `error` (valid during the call).
/// Return `SOCKIT_OK` to go on, another status to stop the pump with it (ignored after
/// a failure). The rules of `sockit_source_fn` apply.
#[allow(non_camel_case_types)]
pub type sockit_sink_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        chunk: *const u8,
        len: usize,
        error: *const c_char,
    ) -> c_int,
>;

/// Filter callback: called with each chunk (`chunk` never NULL, `len` may be 0) and
/// finally once with `chunk == NULL` for the end; it appends its output (possibly
/// nothing) to `out`, which arrives empty, and returns `SOCKIT_OK` or a failure status
/// (what it appended before failing is kept). The rules of `sockit_source_fn` apply.
#[allow(non_camel_case_types)]
pub type sockit_filter_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        chunk: *const u8,
        len: usize,
        out: *mut sockit_buffer,
    ) -> c_int,
>;

/// LuaSocket 1.3b receive callback: called with each chunk (`len > 0`), then with an
/// empty chunk (`chunk` not NULL, `len == 0`) at the end; on a failure with
/// `chunk == NULL` and the message in `error`. Return `SOCKIT_OK` to go on, another status
/// (usually `SOCKIT_ABORTED`, message with `sockit_callback_error`) to abort. The rules of
/// `sockit_source_fn` apply.
#[allow(non_camel_case_types)]
pub type sockit_receive_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        chunk: *const u8,
        len: usize,
        error: *const c_char,
    ) -> c_int,
>;

/// LuaSocket 1.3b send callback: appends the next chunk to `chunk` (which arrives empty),
/// stores the total number of bytes of the whole data in `*total` and returns `SOCKIT_OK`;
/// or returns another status to abort. It is called until `*total` bytes have been
/// produced; an empty chunk before that, or more than `*total` bytes, fails the transfer.
/// The rules of `sockit_source_fn` apply.
#[allow(non_camel_case_types)]
pub type sockit_send_cb = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        chunk: *mut sockit_buffer,
        total: *mut u64,
    ) -> c_int,
>;

// ----- helpers for files and descriptors -------------------------------------------------

/// A filesystem path argument (any bytes but NUL).
unsafe fn path_arg<'a>(p: *const c_char, name: &str) -> Result<&'a Path> {
    if p.is_null() {
        return Err(Error::invalid(format!("{name} is NULL")));
    }
    Ok(Path::new(OsStr::from_bytes(CStr::from_ptr(p).to_bytes())))
}

/// A descriptor given by the host, closed on drop only when owned.
struct Fd {
    file: ManuallyDrop<File>,
    owned: bool,
}

impl Fd {
    /// Checks that `fd` is open.
    unsafe fn new(fd: c_int, owned: bool) -> Result<Fd> {
        if fd < 0 {
            return Err(Error::invalid(format!("fd {fd} is negative")));
        }
        let mut f = Fd {
            file: ManuallyDrop::new(File::from_raw_fd(fd)),
            owned: false,
        };
        f.file
            .metadata()
            .map_err(|e| Error::io(&format!("fd {fd}"), &e))?;
        f.owned = owned;
        Ok(f)
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: dropped exactly once, here.
            unsafe { ManuallyDrop::drop(&mut self.file) }
        }
    }
}

impl Read for Fd {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        (&*self.file).read(buf)
    }
}

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

/// Bytes borrowed from the host until the source ends.
struct Borrowed {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the host promises (documented) that the bytes stay valid and unchanged until
// the source ends; they are only read.
unsafe impl Send for Borrowed {}

impl AsRef<[u8]> for Borrowed {
    fn as_ref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: see the Send impl; `ptr` is non-NULL when `len > 0` (checked).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// A sink appending to a host's buffer handle.
struct BufferSink(*mut sockit_buffer);

// SAFETY: a buffer handle may be used from any thread, one at a time (its documented
// contract); a nested use is caught by the handle's busy flag.
unsafe impl Send for BufferSink {}

impl BufferSink {
    /// Replaces the buffer's contents with `text` (NUL-terminated); a freed buffer is
    /// ignored.
    fn set_text(&self, text: &[u8]) {
        // SAFETY: a freed or bad handle is caught by `with`.
        let _ = unsafe {
            sockit_buffer::with(self.0, |v| {
                set_text(v, text);
                Ok(())
            })
        };
    }
}

impl Sink for BufferSink {
    fn put(&mut self, chunk: &[u8]) -> Result<()> {
        // SAFETY: a freed or bad handle is caught by `with`.
        unsafe {
            sockit_buffer::with(self.0, |v| {
                v.try_reserve(chunk.len())
                    .map_err(|_| Error::new(ErrorKind::NoMem, "buffer sink: out of memory"))?;
                v.extend_from_slice(chunk);
                Ok(())
            })
        }
    }
    fn end(&mut self) -> Result<()> {
        Ok(())
    }
}

fn status_arg(status: c_int) -> Result<ErrorKind> {
    kind_from_status(status)
        .ok_or_else(|| Error::invalid(format!("status {status} is not a failure status")))
}

unsafe fn message_arg(message: *const c_char, kind: ErrorKind) -> String {
    if message.is_null() {
        kind.as_str().to_string()
    } else {
        CStr::from_ptr(message).to_string_lossy().into_owned()
    }
}

fn chunk_size_arg(chunk_size: usize) -> usize {
    if chunk_size == 0 {
        BLOCKSIZE
    } else {
        chunk_size
    }
}

// ----- sources -------------------------------------------------------------------------

/// A source of a copy of `len` bytes at `data` (LTN12's string source), in chunks of at
/// most the pump's chunk size. `data` may be NULL when `len` is 0. Its size is known
/// (`sockit_source_size`). The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_string(
    data: *const u8,
    len: usize,
    out: *mut *mut sockit_source,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        // A copy: the caller's bytes are not used after this call.
        let copy: Vec<u8> = bytes_arg(data, len, "data")?.to_vec();
        *out = new_source(StringSource::new(copy));
        Ok(())
    })
}

/// A source of the `len` bytes at `data` without copying them: the bytes are BORROWED and
/// must stay valid and unchanged until the source has reported its end (or an error), or
/// is freed, whichever comes first; after its end the source no longer touches them.
/// The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_bytes(
    data: *const u8,
    len: usize,
    out: *mut *mut sockit_source,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        bytes_arg(data, len, "data")?;
        *out = new_source(BytesSource::new(Borrowed { ptr: data, len }));
        Ok(())
    })
}

/// A source reading descriptor `fd` (a file, pipe or socket) in chunks of at most the
/// pump's chunk size until end of file (LTN12's file source). With `take_ownership` the
/// source closes `fd` when it ends, fails or is freed; otherwise `fd` is never closed.
/// A pull blocks as a read(2) of `fd` does. Returns `SOCKIT_INVALID` when `fd` is not an
/// open descriptor (then an owned `fd` is not closed). The caller owns `*out`.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_fd(
    fd: c_int,
    take_ownership: bool,
    out: *mut *mut sockit_source,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        let f = Fd::new(fd, take_ownership)?;
        *out = new_source(ReadSource::new(f, format!("fd {fd}")));
        Ok(())
    })
}

/// A source reading the file at `path` (opened now, closed at its end, failure or free).
/// Its size is known for regular files. Fails with the open(2) error ("open <path>: ...").
/// The caller owns `*out`. Pulls block on disk reads only.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_file(
    path: *const c_char,
    out: *mut *mut sockit_source,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        let path = path_arg(path, "path")?;
        *out = new_source(ReadSource::open(path)?);
        Ok(())
    })
}

/// LTN12's empty source: ends at once. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_empty(out: *mut *mut sockit_source) -> sockit_status {
    guard(|| {
        *out_handle(out)? = new_source(EmptySource);
        Ok(())
    })
}

/// LTN12's error source: every pull fails with `status` (a failure status, not
/// `SOCKIT_OK`) and `message` (copied; NULL uses the status string). The caller owns
/// `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_error(
    status: c_int,
    message: *const c_char,
    out: *mut *mut sockit_source,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        let kind = status_arg(status)?;
        let msg = message_arg(message, kind);
        *out = new_source(ErrorSource::new(Error::new(kind, msg)));
        Ok(())
    })
}

/// LTN12's rewindable source over `src`, which it TAKES (even on failure). Chunks given
/// to `sockit_source_unget` come out first, the last one first. The caller owns `*out`.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_rewind(
    src: *mut sockit_source,
    out: *mut *mut sockit_source,
) -> sockit_status {
    guard(|| {
        let inner = take_source(src, "src");
        let out = out_handle(out)?;
        *out = sockit_source::new(SourceObj::Rewind(RewindSource::new(inner?)));
        Ok(())
    })
}

/// Pushes a copy of `len` bytes at `data` back into a rewindable source (made by
/// `sockit_source_rewind`): the next pull returns them. Other sources give
/// `SOCKIT_INVALID`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_unget(
    src: *mut sockit_source,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let bytes = bytes_arg(data, len, "data")?;
        sockit_source::with(src, |s| match s {
            SourceObj::Rewind(r) => {
                r.unget(bytes);
                Ok(())
            }
            SourceObj::Plain(_) | SourceObj::Chunked(_) => Err(Error::invalid(
                "source is not rewindable (make it with sockit_source_rewind)",
            )),
        })
    })
}

/// LTN12's cat source: the chunks of `n` sources in turn, as if concatenated. TAKES every
/// source in `sources[0..n)` (even on failure: a NULL or bad entry fails the call, and the
/// others are freed). The first error of a part is returned and no later part is pulled.
/// `sources` may be NULL when `n` is 0. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_cat(
    sources: *const *mut sockit_source,
    n: usize,
    out: *mut *mut sockit_source,
) -> sockit_status {
    guard(|| {
        if sources.is_null() && n > 0 {
            return Err(Error::invalid(format!("sources is NULL but n is {n}")));
        }
        let mut parts = Vec::with_capacity(n);
        let mut first_err = None;
        for i in 0..n {
            match take_source(*sources.add(i), &format!("sources[{i}]")) {
                Ok(s) => parts.push(s),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        let out = out_handle(out)?;
        if let Some(e) = first_err {
            return Err(e);
        }
        *out = new_source(CatSource::new(parts));
        Ok(())
    })
}

/// LTN12's chained source: the chunks of `src` passed through `filter`. TAKES both (even
/// on failure). Empty filter outputs are skipped. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_chain(
    src: *mut sockit_source,
    filter: *mut sockit_filter,
    out: *mut *mut sockit_source,
) -> sockit_status {
    guard(|| {
        let s = take_source(src, "src");
        let f = take_filter(filter, "filter");
        let out = out_handle(out)?;
        *out = new_source(ChainSource::new(s?, f?));
        Ok(())
    })
}

/// A source whose chunks come from `fn` (see `sockit_source_fn`). Owns `userdata` from
/// this call on (see the top of this section). `fn` runs on the thread that pulls. The
/// caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_callback(
    r#fn: sockit_source_fn,
    userdata: *mut c_void,
    free_userdata: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
    out: *mut *mut sockit_source,
) -> sockit_status {
    guard(|| {
        let ud = UserData {
            ptr: userdata,
            free: free_userdata,
        };
        let out = out_handle(out)?;
        let f = r#fn.ok_or_else(|| Error::invalid("fn is NULL"))?;
        let buf = StageBuffer::new();
        *out = new_source(CallbackSource::new(move |chunk: &mut Vec<u8>| {
            buf.with(|v| {
                v.clear();
                Ok(())
            })?;
            let mut end = false;
            run_callback("source", || unsafe { f(ud.ptr(), buf.handle(), &mut end) })?;
            if end {
                return Ok(false);
            }
            buf.with(|v| {
                std::mem::swap(v, chunk);
                Ok(())
            })?;
            Ok(true)
        }));
        Ok(())
    })
}

/// LuaSocket 1.3b's send callback as a source (see `sockit_send_cb`), which also reports
/// the total size through `sockit_source_size` (calling `fn` once early if needed; that
/// chunk is kept). Owns `userdata` from this call on. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_send_cb(
    r#fn: sockit_send_cb,
    userdata: *mut c_void,
    free_userdata: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
    out: *mut *mut sockit_source,
) -> sockit_status {
    guard(|| {
        let ud = UserData {
            ptr: userdata,
            free: free_userdata,
        };
        let out = out_handle(out)?;
        let f = r#fn.ok_or_else(|| Error::invalid("fn is NULL"))?;
        let buf = StageBuffer::new();
        *out = new_source(SendCbSource::new(move |chunk: &mut Vec<u8>| {
            buf.with(|v| {
                v.clear();
                Ok(())
            })?;
            let mut total = 0u64;
            run_callback("send", || unsafe { f(ud.ptr(), buf.handle(), &mut total) })?;
            buf.with(|v| {
                std::mem::swap(v, chunk);
                Ok(())
            })?;
            Ok(total)
        }));
        Ok(())
    })
}

/// Pulls one chunk of at most `max` bytes (0: 2048) from `src` into `chunk` (cleared
/// first): `*end` is false and `chunk` holds the chunk (possibly empty), or `*end` is true
/// at the end. On failure the status is returned and nothing more should be pulled.
/// Blocks as the source does (reads, callbacks).
#[no_mangle]
pub unsafe extern "C" fn sockit_source_pull(
    src: *mut sockit_source,
    max: usize,
    chunk: *mut sockit_buffer,
    end: *mut bool,
) -> sockit_status {
    guard(|| {
        let end = out_arg(end, "end")?;
        *end = false;
        // The buffer is locked only after the pull, so that a stage writing to the same
        // buffer (a chunked decoder's trailers) cannot deadlock.
        sockit_buffer::with(chunk, |v| {
            v.clear();
            Ok(())
        })?;
        sockit_source::with(src, |s| {
            let pulled = s.source().pull(chunk_size_arg(max))?;
            sockit_buffer::with(chunk, |v| {
                match pulled {
                    Some(c) => v.extend_from_slice(c),
                    None => *end = true,
                }
                Ok(())
            })
        })
    })
}

/// The number of bytes `src` will still produce, when known in advance: `*known` tells
/// whether `*size` holds it (strings, byte sources, regular files, cats of known sources,
/// 1.3b send callbacks). May call a send callback once. Blocks as that callback does.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_size(
    src: *mut sockit_source,
    size: *mut u64,
    known: *mut bool,
) -> sockit_status {
    guard(|| {
        let known = out_arg(known, "known")?;
        *known = false;
        put(size, 0);
        let n = sockit_source::with(src, |s| s.source().size())?;
        if let Some(n) = n {
            *known = true;
            put(size, n);
        }
        Ok(())
    })
}

/// Frees `src` and everything it owns (closing owned descriptors, calling
/// `free_userdata`). NULL or a freed handle is ignored.
/// Never blocks, beyond what `free_userdata` does.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_free(src: *mut sockit_source) {
    sockit_source::free(src)
}

// ----- sinks ---------------------------------------------------------------------------

/// LTN12's table sink: appends every chunk to `buf`, which the caller keeps owning (the
/// sink does not clear it and must not outlive it: a freed buffer makes the sink fail
/// with `SOCKIT_INVALID`). The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_buffer(
    buf: *mut sockit_buffer,
    out: *mut *mut sockit_sink,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        sockit_buffer::with(buf, |_| Ok(()))?;
        *out = new_sink(BufferSink(buf));
        Ok(())
    })
}

/// A sink writing every chunk to descriptor `fd` (all of it, retrying short writes). With
/// `take_ownership` the sink closes `fd` at the end, on a source failure, or when freed.
/// Writes block as write(2) on `fd` does. Never raises SIGPIPE: writing to a pipe whose
/// reader has gone, or to a socket whose peer has, fails with `SOCKIT_CLOSED` (SIGPIPE is
/// blocked for the writing thread around each write(2) and the signal that write raised
/// is consumed; a SIGPIPE the host already had pending is left alone). The caller owns
/// `*out`.
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_fd(
    fd: c_int,
    take_ownership: bool,
    out: *mut *mut sockit_sink,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        let f = Fd::new(fd, take_ownership)?;
        *out = new_sink(WriteSink::new(FdWriter::new(f), format!("fd {fd}")));
        Ok(())
    })
}

/// A sink writing to the file at `path`, created if needed (mode 0666 less the umask),
/// truncated, or appended to with `append`. Writes are buffered (64 KiB) and flushed at
/// the end or when the source fails; the file is then closed. Fails with the open(2)
/// error. Never raises SIGPIPE (`path` may name a FIFO: see `sockit_sink_fd`). The
/// caller owns `*out`. Blocks only in open(2).
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_file(
    path: *const c_char,
    append: bool,
    out: *mut *mut sockit_sink,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        let path = path_arg(path, "path")?;
        *out = new_sink(WriteSink::create(path, append)?);
        Ok(())
    })
}

/// LTN12's null sink: discards everything. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_null(out: *mut *mut sockit_sink) -> sockit_status {
    guard(|| {
        *out_handle(out)? = new_sink(NullSink);
        Ok(())
    })
}

/// LTN12's error sink: every chunk and the end fail with `status` (a failure status) and
/// `message` (copied; NULL uses the status string). The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_error(
    status: c_int,
    message: *const c_char,
    out: *mut *mut sockit_sink,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        let kind = status_arg(status)?;
        let msg = message_arg(message, kind);
        *out = new_sink(ErrorSink::new(Error::new(kind, msg)));
        Ok(())
    })
}

/// LTN12's chained sink: chunks pass through `filter` into `sink`. TAKES both (even on
/// failure). At the end the filter's held-back output is delivered before the sink ends;
/// when the source fails the filter is not ended and the error goes to the sink. The
/// caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_chain(
    filter: *mut sockit_filter,
    sink: *mut sockit_sink,
    out: *mut *mut sockit_sink,
) -> sockit_status {
    guard(|| {
        let f = take_filter(filter, "filter");
        let k = take_sink(sink, "sink");
        let out = out_handle(out)?;
        *out = new_sink(ChainSink::new(f?, k?));
        Ok(())
    })
}

/// A sink handing everything to `fn` (see `sockit_sink_fn`). Owns `userdata` from this
/// call on. `fn` runs on the thread that pumps. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_callback(
    r#fn: sockit_sink_fn,
    userdata: *mut c_void,
    free_userdata: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
    out: *mut *mut sockit_sink,
) -> sockit_status {
    guard(|| {
        let ud = UserData {
            ptr: userdata,
            free: free_userdata,
        };
        let out = out_handle(out)?;
        let f = r#fn.ok_or_else(|| Error::invalid("fn is NULL"))?;
        *out = new_sink(CallbackSink::new(move |ev: SinkEvent<'_>| match ev {
            SinkEvent::Chunk(c) => run_callback("sink", || unsafe {
                f(ud.ptr(), c.as_ptr(), c.len(), ptr::null())
            }),
            SinkEvent::End => run_callback("sink", || unsafe {
                f(ud.ptr(), ptr::null(), 0, ptr::null())
            }),
            SinkEvent::Error(e) => {
                let msg = c_message(e);
                run_callback("sink", || unsafe {
                    f(ud.ptr(), ptr::null(), 0, msg.as_ptr())
                })
            }
        }));
        Ok(())
    })
}

/// LuaSocket 1.3b's receive callback as a sink (see `sockit_receive_cb`). Owns `userdata`
/// from this call on. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_receive_cb(
    r#fn: sockit_receive_cb,
    userdata: *mut c_void,
    free_userdata: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
    out: *mut *mut sockit_sink,
) -> sockit_status {
    guard(|| {
        let ud = UserData {
            ptr: userdata,
            free: free_userdata,
        };
        let out = out_handle(out)?;
        let f = r#fn.ok_or_else(|| Error::invalid("fn is NULL"))?;
        *out = new_sink(ReceiveCbSink::new(
            move |chunk: Option<&[u8]>, err: Option<&str>| match chunk {
                Some(c) => run_callback("receive", || unsafe {
                    f(ud.ptr(), c.as_ptr(), c.len(), ptr::null())
                }),
                None => {
                    let msg =
                        CString::new(err.unwrap_or("").replace('\0', "\\0")).unwrap_or_default();
                    run_callback("receive", || unsafe {
                        f(ud.ptr(), ptr::null(), 0, msg.as_ptr())
                    })
                }
            },
        ));
        Ok(())
    })
}

/// Puts a chunk (`len` bytes at `data`, which must not point into a buffer the sink
/// writes to) into `snk` directly. Blocks as the sink does.
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_put(
    snk: *mut sockit_sink,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let bytes = bytes_arg(data, len, "data")?;
        sockit_sink::with(snk, |k| k.put(bytes))
    })
}

/// Tells `snk` that the data has ended (flushing and closing what it owns). Blocks as
/// the sink does.
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_end(snk: *mut sockit_sink) -> sockit_status {
    guard(|| sockit_sink::with(snk, |k| k.end()))
}

/// Tells `snk` that its source failed with `message` (NULL: "aborted"); nothing more
/// should be put. Returns `SOCKIT_OK` unless `snk` is bad.
/// Blocks as the sink does when it flushes or closes what it owns.
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_fail(
    snk: *mut sockit_sink,
    message: *const c_char,
) -> sockit_status {
    guard(|| {
        let msg = message_arg(message, ErrorKind::Aborted);
        sockit_sink::with(snk, |k| {
            k.fail(&Error::new(ErrorKind::Aborted, msg));
            Ok(())
        })
    })
}

/// Frees `snk` and everything it owns (flushing nothing: end the sink first). NULL or a
/// freed handle is ignored. Never blocks, beyond what `free_userdata` does.
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_free(snk: *mut sockit_sink) {
    sockit_sink::free(snk)
}

// ----- socket sources and sinks ------------------------------------------------------------

/// A socket handle borrowed by a socket source or sink: locked for each operation (never
/// while waiting), so a freed handle fails the next pull or put with `SOCKIT_INVALID`.
pub(crate) struct SocketRef(*mut sockit_socket);

// SAFETY: socket handles are type-stable and locked on every access; they may be used
// from any thread.
unsafe impl Send for SocketRef {}

impl SocketCell for SocketRef {
    fn with_socket<R>(&self, f: impl FnOnce(&mut Socket) -> Result<R>) -> Result<R> {
        // SAFETY: a NULL, freed or bad handle is caught by `with`.
        unsafe { sockit_socket::with(self.0, f) }
    }
}

/// Checks that `s` is a live socket handle and borrows it.
unsafe fn socket_arg(s: *mut sockit_socket) -> Result<SharedSocket<SocketRef>> {
    sockit_socket::with(s, |_| Ok(())).map_err(|e| e.context("s"))?;
    Ok(SharedSocket::new(SocketRef(s)))
}

/// The mode of `sockit_source_socket`: one of the `SOCKIT_SOURCE_*` values.
#[allow(non_camel_case_types)]
pub type sockit_source_mode = c_int;
/// LuaSocket's "by-length": exactly `length` bytes, then the end. If the peer closes
/// first, the bytes received come as a last chunk and the next pull fails with
/// `SOCKIT_CLOSED`. Nothing past `length` bytes is read from the socket.
pub const SOCKIT_SOURCE_BY_LENGTH: sockit_source_mode = 0;
/// LuaSocket's "until-closed": everything until the peer closes the connection, which is
/// the end (not an error); the socket is then CLOSED (`sockit_socket_close`, not freed).
pub const SOCKIT_SOURCE_UNTIL_CLOSED: sockit_source_mode = 1;
/// LuaSocket's "http-chunked": an HTTP/1.1 chunked body with the coding removed
/// (extensions ignored). It ends after the last chunk and the trailer section (see
/// `sockit_source_trailers`) and reads nothing past them, so the socket can carry the
/// next message. Malformed coding: `SOCKIT_PROTOCOL`; the peer closing mid-body:
/// `SOCKIT_CLOSED` (the data before it delivered first).
pub const SOCKIT_SOURCE_HTTP_CHUNKED: sockit_source_mode = 2;

/// The mode of `sockit_sink_socket`: one of the `SOCKIT_SINK_*` values.
#[allow(non_camel_case_types)]
pub type sockit_sink_mode = c_int;
/// LuaSocket's "keep-open": every chunk is sent; the socket stays open at the end.
pub const SOCKIT_SINK_KEEP_OPEN: sockit_sink_mode = 0;
/// LuaSocket's "close-when-done": every chunk is sent; at the end, or when the source
/// fails, the socket is CLOSED (`sockit_socket_close`: flushed and closed, not freed).
pub const SOCKIT_SINK_CLOSE_WHEN_DONE: sockit_sink_mode = 1;
/// LuaSocket's "http-chunked": each non-empty chunk is sent with the HTTP/1.1 chunked
/// coding (`<HEX>\r\n<data>\r\n`), the last chunk `0\r\n\r\n` at the end. When the source
/// fails nothing more is sent, so the peer sees an unfinished body. The socket stays open.
pub const SOCKIT_SINK_HTTP_CHUNKED: sockit_sink_mode = 2;

/// LTN12's socket source (LuaSocket's `socket.source(mode, sock, length)`): reads the
/// connected socket `s` in chunks of the pump's chunk size, as `mode` says
/// (`SOCKIT_SOURCE_BY_LENGTH` with `length` bytes, `SOCKIT_SOURCE_UNTIL_CLOSED`,
/// `SOCKIT_SOURCE_HTTP_CHUNKED`; `length` is ignored by the last two).
///
/// The source BORROWS `s`: the caller keeps owning it and must not free it before the
/// source is freed. `s` is locked only while bytes move, never while waiting, so other
/// threads may use it meanwhile (a sink on the same socket can pump the other way). A
/// socket freed under a live source makes the next pull fail with `SOCKIT_INVALID`, never
/// a crash (but once a new socket reuses the freed handle, the source would read that
/// one: free sources and sinks before their socket).
/// Reads go through the socket's read buffer, so they mix with `sockit_socket_receive`
/// and the like. A pull blocks until a full chunk (or the end) has come, honouring the
/// socket's timeouts (`sockit_socket_settimeout`, clock started per pull): on
/// `SOCKIT_TIMEOUT` or `SOCKIT_CLOSED` the bytes received come first as a chunk, then the
/// failure. A socket that is not connected fails the first pull.
///
/// Returns `SOCKIT_INVALID` for a NULL or freed `s`, an unknown `mode` or a NULL `out`.
/// The caller owns `*out`. Does not touch the network (it only waits for `s`'s lock if
/// another thread is in a call on it).
#[no_mangle]
pub unsafe extern "C" fn sockit_source_socket(
    s: *mut sockit_socket,
    mode: sockit_source_mode,
    length: u64,
    out: *mut *mut sockit_source,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        let stream = socket_arg(s)?;
        *out = match mode {
            SOCKIT_SOURCE_BY_LENGTH => new_source(ByLengthSource::new(stream, length)),
            SOCKIT_SOURCE_UNTIL_CLOSED => new_source(UntilClosedSource::new(stream)),
            SOCKIT_SOURCE_HTTP_CHUNKED => {
                sockit_source::new(SourceObj::Chunked(ChunkedSource::new(stream)))
            }
            _ => return Err(Error::invalid(format!("mode {mode} is not a source mode"))),
        };
        Ok(())
    })
}

/// The trailer section of an http-chunked socket source (`SOCKIT_SOURCE_HTTP_CHUNKED`)
/// whose end has been reached: `trailers` is cleared and receives the trailer fields as
/// `name: value\r\n` lines (possibly none), NUL-terminated (`sockit_buffer_cstr`).
/// Returns `SOCKIT_INVALID` before the end (pull until `end` first) and for other kinds
/// of sources. A source given to a composite constructor (chain, rewind, cat) is gone
/// with its handle: to filter the body and still read the trailers, put the filters on
/// the sink side (`sockit_sink_chain`). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_source_trailers(
    src: *mut sockit_source,
    trailers: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let text = sockit_source::with(src, |s| match s {
            SourceObj::Chunked(c) if c.is_done() => Ok(c.trailers().to_vec()),
            SourceObj::Chunked(_) => Err(Error::invalid(
                "the chunked body has not been read to its end yet",
            )),
            _ => Err(Error::invalid(
                "source is not an http-chunked socket source",
            )),
        })?;
        sockit_buffer::with(trailers, |v| {
            set_text(v, &text);
            Ok(())
        })
        .map_err(|e| e.context("trailers"))
    })
}

/// LTN12's socket sink (LuaSocket's `socket.sink(mode, sock)`): sends every chunk on the
/// connected socket `s`, as `mode` says (`SOCKIT_SINK_KEEP_OPEN`,
/// `SOCKIT_SINK_CLOSE_WHEN_DONE`, `SOCKIT_SINK_HTTP_CHUNKED`).
///
/// The sink BORROWS `s` on the terms of `sockit_source_socket` (keep it alive until the
/// sink is freed; a freed socket fails the next put with `SOCKIT_INVALID`; locked only
/// while bytes move). A put blocks until the chunk has been handed to the kernel,
/// honouring the socket's timeouts; a peer that has gone gives `SOCKIT_CLOSED`, never
/// SIGPIPE. Bytes still in the socket's Moonbridge write buffer go out first.
///
/// Returns `SOCKIT_INVALID` for a NULL or freed `s`, an unknown `mode` or a NULL `out`.
/// The caller owns `*out`. Does not touch the network (as `sockit_source_socket`).
#[no_mangle]
pub unsafe extern "C" fn sockit_sink_socket(
    s: *mut sockit_socket,
    mode: sockit_sink_mode,
    out: *mut *mut sockit_sink,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        let stream = socket_arg(s)?;
        *out = match mode {
            SOCKIT_SINK_KEEP_OPEN => new_sink(StreamSink::new(stream, SinkMode::KeepOpen)),
            SOCKIT_SINK_CLOSE_WHEN_DONE => {
                new_sink(StreamSink::new(stream, SinkMode::CloseWhenDone))
            }
            SOCKIT_SINK_HTTP_CHUNKED => new_sink(ChunkedSink::new(stream)),
            _ => return Err(Error::invalid(format!("mode {mode} is not a sink mode"))),
        };
        Ok(())
    })
}

// ----- filters -------------------------------------------------------------------------

/// LTN12's filter chain: `filters[0..n)` one after the other. TAKES every filter (even on
/// failure: a NULL or bad entry fails the call and the others are freed). With `n == 0`
/// the chain passes chunks through. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_chain(
    filters: *const *mut sockit_filter,
    n: usize,
    out: *mut *mut sockit_filter,
) -> sockit_status {
    guard(|| {
        if filters.is_null() && n > 0 {
            return Err(Error::invalid(format!("filters is NULL but n is {n}")));
        }
        let mut parts = Vec::with_capacity(n);
        let mut first_err = None;
        for i in 0..n {
            match take_filter(*filters.add(i), &format!("filters[{i}]")) {
                Ok(f) => parts.push(f),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        let out = out_handle(out)?;
        if let Some(e) = first_err {
            return Err(e);
        }
        *out = new_filter(ChainFilter::new(parts));
        Ok(())
    })
}

/// A filter whose work is done by `fn` (see `sockit_filter_fn`). Owns `userdata` from
/// this call on. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_callback(
    r#fn: sockit_filter_fn,
    userdata: *mut c_void,
    free_userdata: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
    out: *mut *mut sockit_filter,
) -> sockit_status {
    guard(|| {
        let ud = UserData {
            ptr: userdata,
            free: free_userdata,
        };
        let out = out_handle(out)?;
        let f = r#fn.ok_or_else(|| Error::invalid("fn is NULL"))?;
        let buf = StageBuffer::new();
        *out = new_filter(CallbackFilter::new(
            move |chunk: Option<&[u8]>, output: &mut Vec<u8>| {
                buf.with(|v| {
                    v.clear();
                    Ok(())
                })?;
                let (p, n) = match chunk {
                    Some(c) => (c.as_ptr(), c.len()),
                    None => (ptr::null(), 0),
                };
                let r = run_callback("filter", || unsafe { f(ud.ptr(), p, n, buf.handle()) });
                // Output appended before a failure is kept too.
                buf.with(|v| {
                    output.extend_from_slice(v);
                    Ok(())
                })?;
                r
            },
        ));
        Ok(())
    })
}

/// The HTTP chunked coding as a filter: each non-empty chunk becomes
/// `<HEX>\r\n<data>\r\n`, the end `0\r\n\r\n`. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_chunked_encode(
    out: *mut *mut sockit_filter,
) -> sockit_status {
    guard(|| {
        *out_handle(out)? = new_filter(ChunkedEncoder::new());
        Ok(())
    })
}

/// Removes the HTTP chunked coding. When the last chunk has been read, the trailer
/// section (`name: value\r\n` lines, possibly none) replaces the contents of `trailers`
/// (NUL-terminated, see `sockit_buffer_cstr`) if it is not NULL; the caller keeps owning
/// that buffer and must keep it alive while the filter is in use. Malformed input fails
/// with `SOCKIT_PROTOCOL`, input ending before the last chunk with `SOCKIT_CLOSED`.
/// The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_chunked_decode(
    trailers: *mut sockit_buffer,
    out: *mut *mut sockit_filter,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        let mut dec = ChunkedDecoder::new();
        if !trailers.is_null() {
            sockit_buffer::with(trailers, |_| Ok(()))?;
            let target = BufferSink(trailers);
            dec = dec.on_trailers(move |t| target.set_text(t));
        }
        *out = new_filter(dec);
        Ok(())
    })
}

/// Runs a filter step into the (cleared) vector of `out` without holding `out`'s lock
/// meanwhile (a stage may write to it, as a chunked decoder does with its trailers).
unsafe fn run_filter(
    out: *mut sockit_buffer,
    step: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    let mut v = sockit_buffer::with(out, |b| {
        b.clear();
        Ok(std::mem::take(b))
    })?;
    let r = step(&mut v);
    sockit_buffer::with(out, |b| {
        if b.is_empty() {
            *b = v;
        } else {
            // A stage wrote to `out` meanwhile: keep that, then the output.
            b.extend_from_slice(&v);
        }
        Ok(())
    })?;
    r
}

/// Runs a chunk (`len` bytes at `data`) through `filter`; `out` is cleared and receives
/// the output (possibly nothing). `data` must not point into `out`.
/// Never blocks (a callback filter runs its callback).
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_put(
    filter: *mut sockit_filter,
    data: *const u8,
    len: usize,
    out: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let bytes = bytes_arg(data, len, "data")?;
        sockit_filter::with(filter, |f| run_filter(out, |v| f.put(bytes, v)))
    })
}

/// Ends `filter`'s input; `out` is cleared and receives what the filter held back.
/// Never blocks (a callback filter runs its callback).
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_end(
    filter: *mut sockit_filter,
    out: *mut sockit_buffer,
) -> sockit_status {
    guard(|| sockit_filter::with(filter, |f| run_filter(out, |v| f.end(v))))
}

/// Frees `filter` and everything it owns. NULL or a freed handle is ignored.
/// Never blocks, beyond what `free_userdata` does.
#[no_mangle]
pub unsafe extern "C" fn sockit_filter_free(filter: *mut sockit_filter) {
    sockit_filter::free(filter)
}

// ----- pumps ---------------------------------------------------------------------------

/// Moves one chunk of at most `chunk_size` bytes (0: LuaSocket's 2048) from `src` to
/// `snk`: `*more` is true when a chunk moved, false when the source ended (and the sink
/// was ended). A source failure is passed to the sink and returned; a sink failure is
/// returned. Neither handle is consumed. Blocks as the stages do.
#[no_mangle]
pub unsafe extern "C" fn sockit_pump_step(
    src: *mut sockit_source,
    snk: *mut sockit_sink,
    chunk_size: usize,
    more: *mut bool,
) -> sockit_status {
    guard(|| {
        put(more, false);
        let step = sockit_source::with(src, |s| {
            sockit_sink::with(snk, |k| {
                pump::step(s.source(), k, chunk_size_arg(chunk_size))
            })
        })?;
        put(more, matches!(step, Step::Chunk(_)));
        Ok(())
    })
}

/// Moves every chunk (at most `chunk_size` bytes each, 0: 2048) from `src` to `snk` until
/// the source ends, then ends the sink. Returns the first failure, with every chunk
/// before it delivered; `*bytes` (may be NULL) receives the number of bytes moved, also
/// on failure. Neither handle is consumed. Blocks as the stages do.
#[no_mangle]
pub unsafe extern "C" fn sockit_pump_all(
    src: *mut sockit_source,
    snk: *mut sockit_sink,
    chunk_size: usize,
    bytes: *mut u64,
) -> sockit_status {
    guard(|| {
        put(bytes, 0);
        let n = chunk_size_arg(chunk_size);
        sockit_source::with(src, |s| {
            sockit_sink::with(snk, |k| {
                let mut total = 0u64;
                loop {
                    let r = pump::step(s.source(), k, n);
                    match r {
                        Ok(Step::Chunk(c)) => total += c as u64,
                        Ok(Step::End) => {
                            put(bytes, total);
                            return Ok(());
                        }
                        Err(e) => {
                            put(bytes, total);
                            return Err(e);
                        }
                    }
                }
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::buffer::{
        sockit_buffer_data, sockit_buffer_free, sockit_buffer_len, sockit_buffer_new,
    };

    unsafe fn contents(b: *mut sockit_buffer) -> Vec<u8> {
        std::slice::from_raw_parts(sockit_buffer_data(b), sockit_buffer_len(b)).to_vec()
    }

    #[test]
    fn string_through_chunked_coding_into_a_buffer() {
        unsafe {
            let buf = sockit_buffer_new();
            let mut src = ptr::null_mut();
            assert_eq!(
                sockit_source_string(b"hello".as_ptr(), 5, &mut src),
                sockit_status::SOCKIT_OK
            );
            let mut f = ptr::null_mut();
            sockit_filter_chunked_encode(&mut f);
            let mut chained = ptr::null_mut();
            assert_eq!(
                sockit_source_chain(src, f, &mut chained),
                sockit_status::SOCKIT_OK
            );
            let mut snk = ptr::null_mut();
            sockit_sink_buffer(buf, &mut snk);
            let mut n = 0u64;
            assert_eq!(
                sockit_pump_all(chained, snk, 2, &mut n),
                sockit_status::SOCKIT_OK
            );
            assert_eq!(n, 25);
            assert_eq!(contents(buf), b"2\r\nhe\r\n2\r\nll\r\n1\r\no\r\n0\r\n\r\n");
            sockit_source_free(chained);
            sockit_sink_free(snk);
            sockit_buffer_free(buf);
        }
    }

    #[test]
    fn composite_constructors_take_their_parts_even_on_failure() {
        unsafe {
            let mut a = ptr::null_mut();
            sockit_source_empty(&mut a);
            let mut out = ptr::null_mut();
            let parts = [a, ptr::null_mut()];
            assert_eq!(
                sockit_source_cat(parts.as_ptr(), 2, &mut out),
                sockit_status::SOCKIT_INVALID
            );
            assert!(out.is_null());
            // `a` was consumed: using it now fails cleanly.
            let mut end = false;
            let b = sockit_buffer_new();
            assert_eq!(
                sockit_source_pull(a, 0, b, &mut end),
                sockit_status::SOCKIT_INVALID
            );
            sockit_buffer_free(b);
        }
    }

    /// A connected loopback pair (client, accepted) of socket handles.
    unsafe fn socket_pair() -> (*mut sockit_socket, *mut sockit_socket) {
        use crate::ffi::socket::{sockit_socket_accept, sockit_socket_getsockname};
        use crate::ffi::socket::{sockit_socket_free, sockit_tcp_bind, sockit_tcp_connect};
        let mut srv = ptr::null_mut();
        let host = c"127.0.0.1".as_ptr();
        assert_eq!(
            sockit_tcp_bind(host, 0, 4, &mut srv),
            sockit_status::SOCKIT_OK
        );
        let mut port = 0u16;
        sockit_socket_getsockname(srv, ptr::null_mut(), &mut port, ptr::null_mut());
        let (mut c, mut a) = (ptr::null_mut(), ptr::null_mut());
        let st = sockit_tcp_connect(host, port as c_int, ptr::null(), 0, 0, 5.0, &mut c);
        assert_eq!(st, sockit_status::SOCKIT_OK);
        assert_eq!(sockit_socket_accept(srv, &mut a), sockit_status::SOCKIT_OK);
        sockit_socket_free(srv);
        (c, a)
    }

    #[test]
    fn socket_source_and_sink_chunked_with_trailers_and_bad_arguments() {
        use crate::ffi::socket::sockit_socket_free;
        use sockit_status::*;
        unsafe {
            let (c, a) = socket_pair();
            let mut snk = ptr::null_mut();
            assert_eq!(
                sockit_sink_socket(c, SOCKIT_SINK_HTTP_CHUNKED, &mut snk),
                SOCKIT_OK
            );
            assert_eq!(sockit_sink_put(snk, b"hello ".as_ptr(), 6), SOCKIT_OK);
            assert_eq!(sockit_sink_put(snk, b"world".as_ptr(), 5), SOCKIT_OK);
            assert_eq!(sockit_sink_end(snk), SOCKIT_OK);
            let mut src = ptr::null_mut();
            let mode = SOCKIT_SOURCE_HTTP_CHUNKED;
            assert_eq!(sockit_source_socket(a, mode, 0, &mut src), SOCKIT_OK);
            let tr = sockit_buffer_new();
            assert_eq!(sockit_source_trailers(src, tr), SOCKIT_INVALID, "not yet");
            let buf = sockit_buffer_new();
            let mut snk2 = ptr::null_mut();
            sockit_sink_buffer(buf, &mut snk2);
            assert_eq!(sockit_pump_all(src, snk2, 0, ptr::null_mut()), SOCKIT_OK);
            assert_eq!(contents(buf), b"hello world");
            assert_eq!(sockit_source_trailers(src, tr), SOCKIT_OK);
            assert_eq!(contents(tr), b"");

            // Bad arguments.
            let mut out = 1 as *mut sockit_sink;
            assert_eq!(sockit_sink_socket(c, 7, &mut out), SOCKIT_INVALID);
            assert!(out.is_null());
            assert_eq!(
                sockit_sink_socket(ptr::null_mut(), 0, &mut out),
                SOCKIT_INVALID
            );
            assert_eq!(sockit_sink_socket(c, 0, ptr::null_mut()), SOCKIT_INVALID);
            let mut o2 = ptr::null_mut();
            assert_eq!(sockit_source_socket(c, -1, 0, &mut o2), SOCKIT_INVALID);
            assert_eq!(sockit_source_trailers(snk2.cast(), tr), SOCKIT_INVALID);
            let mut empty = ptr::null_mut();
            sockit_source_empty(&mut empty);
            assert_eq!(sockit_source_trailers(empty, tr), SOCKIT_INVALID);
            sockit_source_free(empty);

            // (A socket freed under a live source is tested in C: here another test
            // could reuse the freed handle meanwhile.)
            sockit_source_free(src);
            sockit_socket_free(a);
            sockit_socket_free(c);
            sockit_sink_free(snk);
            sockit_sink_free(snk2);
            sockit_buffer_free(buf);
            sockit_buffer_free(tr);
        }
    }

    #[test]
    fn statuses_map_back_to_kinds() {
        for k in 1..=19 {
            let kind = kind_from_status(k).unwrap();
            assert_eq!(sockit_status::from(kind) as c_int, k);
        }
        assert!(kind_from_status(0).is_none());
        assert!(kind_from_status(99).is_none());
    }
}
