//! `sockit_buffer`: the growable, reusable byte buffer that receives output.

use super::boundary::{bytes_arg, guard, guard_value};
use super::handle::{impl_handle, Shell};
use super::status::sockit_status;

/// A growable byte buffer owned by the caller. Receiving calls clear it and fill it;
/// its capacity is kept, so steady-state I/O does not allocate. The bytes may contain
/// NUL. Create with `sockit_buffer_new`, release with `sockit_buffer_free`.
///
/// Unlike the other handles a buffer is not locked: it is memory the caller reads through
/// `sockit_buffer_data`, so the caller uses one buffer from one thread at a time (two
/// threads may each use their own buffer with the same socket). A call that finds the
/// buffer being filled by another call (from a callback, or another thread) gets
/// `SOCKIT_INVALID` instead of waiting.
#[allow(non_camel_case_types)]
#[allow(dead_code)]
pub struct sockit_buffer(Shell<Vec<u8>>);
impl_handle!(sockit_buffer, Vec<u8>, "buffer", unlocked);

/// Runs `f` with the bytes of `buf` (for the other ffi files).
pub(crate) unsafe fn with_buffer<R>(
    buf: *mut sockit_buffer,
    f: impl FnOnce(&mut Vec<u8>) -> crate::error::Result<R>,
) -> crate::error::Result<R> {
    sockit_buffer::with(buf, f)
}

/// A new empty buffer. The caller owns it and releases it with `sockit_buffer_free`.
/// Never returns NULL (aborts only if memory is exhausted). Never blocks.
#[no_mangle]
pub extern "C" fn sockit_buffer_new() -> *mut sockit_buffer {
    sockit_buffer::new(Vec::new())
}

/// Frees `buf` and its bytes. NULL or an already freed buffer is ignored. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_buffer_free(buf: *mut sockit_buffer) {
    sockit_buffer::free(buf)
}

/// Pointer to the buffer's bytes (not NUL-terminated; may contain NUL). Valid until the
/// next call that changes the buffer. Owned by the buffer: do not free. Returns NULL for
/// a NULL or freed buffer; an empty buffer may return any non-NULL pointer. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_buffer_data(buf: *const sockit_buffer) -> *const u8 {
    guard_value(std::ptr::null(), || {
        sockit_buffer::peek(buf, |v| Ok(v.as_ptr()))
    })
}

/// Number of bytes in the buffer; 0 for a NULL or freed buffer. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_buffer_len(buf: *const sockit_buffer) -> usize {
    guard_value(0, || sockit_buffer::peek(buf, |v| Ok(v.len())))
}

/// Empties the buffer and keeps its capacity. Never blocks.
/// Returns `SOCKIT_INVALID` for a NULL or freed buffer.
#[no_mangle]
pub unsafe extern "C" fn sockit_buffer_clear(buf: *mut sockit_buffer) -> sockit_status {
    guard(|| {
        sockit_buffer::with(buf, |v| {
            v.clear();
            Ok(())
        })
    })
}

/// Appends `len` bytes from `data` (copied; NULL is allowed when `len` is 0).
/// Returns `SOCKIT_INVALID` for a NULL or freed buffer or NULL data with a length.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_buffer_append(
    buf: *mut sockit_buffer,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let bytes = bytes_arg(data, len, "data")?;
        sockit_buffer::with(buf, |v| {
            v.extend_from_slice(bytes);
            Ok(())
        })
    })
}

/// Makes room for at least `additional` more bytes without reallocating later.
/// Returns `SOCKIT_NOMEM` when that much memory cannot be had. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_buffer_reserve(
    buf: *mut sockit_buffer,
    additional: usize,
) -> sockit_status {
    guard(|| {
        sockit_buffer::with(buf, |v| {
            v.try_reserve(additional).map_err(|_| {
                crate::error::Error::new(
                    crate::error::ErrorKind::NoMem,
                    format!("buffer: cannot reserve {additional} bytes"),
                )
            })
        })
    })
}

/// The buffer's bytes as a NUL-terminated C string: a NUL is stored just past the last
/// byte (not counted in the length), so calls that return text (addresses, names) can be
/// read with `(const char *)` string functions. Owned by the buffer, valid until the next
/// change. Returns NULL for a NULL or freed buffer, or when no memory is left.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_buffer_cstr(buf: *mut sockit_buffer) -> *const std::ffi::c_char {
    guard_value(std::ptr::null(), || {
        sockit_buffer::with(buf, |v| {
            terminate(v);
            Ok(v.as_ptr() as *const std::ffi::c_char)
        })
    })
}

/// Stores a NUL just past the end of `v` (in its spare capacity; the length is unchanged).
pub(crate) fn terminate(v: &mut Vec<u8>) {
    v.reserve(1);
    v.spare_capacity_mut()[0].write(0);
}

/// Replaces the buffer's contents with `text`, NUL-terminated as `sockit_buffer_cstr` does.
pub(crate) fn set_text(v: &mut Vec<u8>, text: &[u8]) {
    v.clear();
    v.extend_from_slice(text);
    terminate(v);
}
