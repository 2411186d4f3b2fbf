//! The one panic boundary and the argument helpers every exported function uses.
//!
//! An exported function is written as
//!
//! ```ignore
//! #[no_mangle]
//! pub unsafe extern "C" fn sockit_thing_do(t: *mut sockit_thing, out: *mut u32) -> sockit_status {
//!     guard(|| {
//!         let out = out_ref(out, "out")?;
//!         sockit_thing::with(t, |thing| { *out = thing.get()?; Ok(()) })
//!     })
//! }
//! ```
//!
//! `guard` turns `Err` into a status plus `sockit_last_error`, and a panic into
//! `SOCKIT_INTERNAL`, so nothing unwinds into C.

use super::buffer::{set_text, sockit_buffer};
use super::status::{set_last_error, sockit_status};
use crate::error::{Error, ErrorKind, Result};
use crate::io::timeout::{duration_to_secs, Timeout, TimeoutMode};
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f` at the API boundary: `Ok` gives `SOCKIT_OK`, `Err(e)` records `e.msg` as the
/// thread's last error and returns its status, a panic gives `SOCKIT_INTERNAL`.
pub fn guard<F: FnOnce() -> Result<()>>(f: F) -> sockit_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => sockit_status::SOCKIT_OK,
        Ok(Err(e)) => fail(&e),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            fail(&Error::new(
                ErrorKind::Internal,
                format!("internal error: {what}"),
            ))
        }
    }
}

/// Like `guard` for functions that return a value instead of a status (accessors);
/// a failure or panic returns `fallback`.
pub fn guard_value<T, F: FnOnce() -> Result<T>>(fallback: T, f: F) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            fail(&e);
            fallback
        }
        Err(_) => {
            set_last_error("internal error: panic");
            fallback
        }
    }
}

/// Records `e` and returns its status.
pub fn fail(e: &Error) -> sockit_status {
    set_last_error(&e.msg);
    e.kind.into()
}

/// A NUL-terminated UTF-8 string argument; NULL or invalid UTF-8 is `SOCKIT_INVALID`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::invalid(format!("{name} is NULL")));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|_| Error::invalid(format!("{name} is not valid UTF-8")))
}

/// An optional string argument: NULL gives `None`.
///
/// # Safety
/// As `str_arg`.
pub unsafe fn opt_str_arg<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        str_arg(p, name).map(Some)
    }
}

/// Credentials given as `user` and `password` arguments: a NULL `user` is none, a NULL
/// `password` is empty.
///
/// # Safety
/// As `str_arg`, for both.
pub unsafe fn credentials_arg(
    user: *const c_char,
    password: *const c_char,
) -> Result<Option<(String, String)>> {
    let user = opt_str_arg(user, "user")?;
    let password = opt_str_arg(password, "password")?.unwrap_or("");
    Ok(user.map(|u| (u.to_string(), password.to_string())))
}

/// A byte-slice argument `(data, len)`; NULL is allowed only with `len == 0`.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes that outlive `'a`.
pub unsafe fn bytes_arg<'a>(data: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if data.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Error::invalid(format!(
            "{name} is NULL but its length is {len}"
        )));
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid(format!("{name}: length {len} is too large")));
    }
    Ok(std::slice::from_raw_parts(data, len))
}

/// A required out-parameter.
///
/// # Safety
/// `p` is NULL or valid for writes of `T`.
pub unsafe fn out_arg<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T> {
    p.as_mut()
        .ok_or_else(|| Error::invalid(format!("{name} is NULL")))
}

/// The out-parameter of a call that hands out a new handle: required, and set to NULL at
/// once so that it reads NULL when the call fails.
///
/// # Safety
/// `p` is NULL or valid for writes of a pointer.
pub unsafe fn handle_out<'a, T>(p: *mut *mut T, name: &str) -> Result<&'a mut *mut T> {
    let o = out_arg(p, name)?;
    *o = std::ptr::null_mut();
    Ok(o)
}

/// Writes `v` through an optional out-parameter (NULL means "not wanted").
///
/// # Safety
/// `p` is NULL or valid for writes of `T`.
pub unsafe fn put<T>(p: *mut T, v: T) {
    if let Some(r) = p.as_mut() {
        *r = v;
    }
}

/// Replaces the bytes of an optional buffer out-parameter (NULL means "not wanted") with
/// `data`.
///
/// # Safety
/// `buf` is NULL or a buffer handle (checked by `sockit_buffer::with`).
pub unsafe fn put_bytes(buf: *mut sockit_buffer, data: &[u8]) -> Result<()> {
    if buf.is_null() {
        return Ok(());
    }
    sockit_buffer::with(buf, |v| {
        v.clear();
        v.extend_from_slice(data);
        Ok(())
    })
}

/// As `put_bytes`, as text: NUL-terminated for `sockit_buffer_cstr`.
///
/// # Safety
/// As `put_bytes`.
pub unsafe fn put_text(buf: *mut sockit_buffer, text: &[u8]) -> Result<()> {
    if buf.is_null() {
        return Ok(());
    }
    sockit_buffer::with(buf, |v| {
        set_text(v, text);
        Ok(())
    })
}

/// A LuaSocket timeout mode argument ("b", "t", "r", ... see `TimeoutMode::parse`); NULL
/// is the block timeout.
///
/// # Safety
/// As `str_arg`.
pub unsafe fn timeout_mode_arg(p: *const c_char) -> Result<TimeoutMode> {
    TimeoutMode::parse(opt_str_arg(p, "mode")?.unwrap_or("b"))
}

/// Writes the block and total timeouts of `t` in seconds (-1 = no limit) through two
/// optional out-parameters.
///
/// # Safety
/// As `put`, for both.
pub unsafe fn put_timeout(t: &Timeout, block: *mut f64, total: *mut f64) {
    put(block, duration_to_secs(t.block));
    put(total, duration_to_secs(t.total));
}

/// A port given as a C integer: 0..=65535, else `SOCKIT_INVALID`.
pub fn port_arg(port: i32, name: &str) -> Result<u16> {
    u16::try_from(port).map_err(|_| Error::invalid(format!("{name} {port} is outside 0..65535")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::status::sockit_last_error;

    #[test]
    fn guard_maps_errors_and_panics() {
        assert_eq!(guard(|| Ok(())), sockit_status::SOCKIT_OK);
        let s = guard(|| Err(Error::new(ErrorKind::Timeout, "receive: timeout")));
        assert_eq!(s, sockit_status::SOCKIT_TIMEOUT);
        let msg = unsafe { CStr::from_ptr(sockit_last_error()) };
        assert_eq!(msg.to_str().unwrap(), "receive: timeout");
        let s = guard(|| panic!("boom"));
        assert_eq!(s, sockit_status::SOCKIT_INTERNAL);
        let msg = unsafe { CStr::from_ptr(sockit_last_error()) };
        assert!(msg.to_str().unwrap().contains("boom"));
    }

    #[test]
    fn arguments_are_checked() {
        unsafe {
            assert_eq!(
                str_arg(std::ptr::null(), "host").unwrap_err().msg,
                "host is NULL"
            );
            assert_eq!(bytes_arg(std::ptr::null(), 0, "data").unwrap(), b"");
            let u = b"u\0".as_ptr() as *const c_char;
            let pw = b"p\0".as_ptr() as *const c_char;
            assert_eq!(credentials_arg(std::ptr::null(), pw).unwrap(), None);
            assert_eq!(
                credentials_arg(u, std::ptr::null()).unwrap(),
                Some(("u".to_string(), String::new()))
            );
            assert_eq!(
                credentials_arg(u, pw).unwrap(),
                Some(("u".to_string(), "p".to_string()))
            );
            assert!(bytes_arg(std::ptr::null(), 3, "data").is_err());
            assert!(out_arg::<u32>(std::ptr::null_mut(), "out").is_err());
            assert_eq!(
                handle_out::<u32>(std::ptr::null_mut(), "out")
                    .unwrap_err()
                    .msg,
                "out is NULL"
            );
            let mut x = 7u32;
            let mut p: *mut u32 = &mut x;
            assert!(handle_out(&mut p, "out").unwrap().is_null());
            assert!(p.is_null());
        }
        unsafe {
            assert!(put_text(std::ptr::null_mut(), b"x").is_ok());
            assert!(put_bytes(std::ptr::null_mut(), b"x").is_ok());
            let buf = sockit_buffer::new(b"old".to_vec());
            put_text(buf, b"text").unwrap();
            sockit_buffer::with(buf, |v| {
                assert_eq!(v.as_slice(), b"text");
                assert_eq!(v.spare_capacity_mut()[0].assume_init(), 0);
                Ok(())
            })
            .unwrap();
            put_bytes(buf, b"\0b").unwrap();
            assert_eq!(sockit_buffer::with(buf, |v| Ok(v.clone())).unwrap(), b"\0b");
            sockit_buffer::free(buf);
            assert!(put_text(buf, b"x").is_err());
        }
        unsafe {
            assert_eq!(
                timeout_mode_arg(std::ptr::null()).unwrap(),
                TimeoutMode::Block
            );
            let t = b"t\0".as_ptr() as *const c_char;
            assert_eq!(timeout_mode_arg(t).unwrap(), TimeoutMode::Total);
            let x = b"x\0".as_ptr() as *const c_char;
            assert!(timeout_mode_arg(x).is_err());
            let (mut b, mut tot) = (0.0, 0.0);
            let t = Timeout::from_secs(-1.0, 2.5);
            put_timeout(&t, &mut b, &mut tot);
            assert_eq!((b, tot), (-1.0, 2.5));
            put_timeout(&t, std::ptr::null_mut(), std::ptr::null_mut());
        }
        assert_eq!(port_arg(65535, "port").unwrap(), 65535);
        assert!(port_arg(65536, "port").is_err());
        assert!(port_arg(-1, "port").is_err());
    }
}
