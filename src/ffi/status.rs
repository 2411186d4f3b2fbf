//! `sockit_status`, `sockit_status_str`, `sockit_last_error`, and the version calls.

use crate::error::ErrorKind;
use std::cell::RefCell;
use std::ffi::{c_char, CString};

/// Major version of the sockit ABI. Programs built against a different major version
/// must not load this library.
pub const SOCKIT_VERSION_MAJOR: u32 = 0;
/// Minor version: features added compatibly.
pub const SOCKIT_VERSION_MINOR: u32 = 1;
/// Patch version: fixes only.
pub const SOCKIT_VERSION_PATCH: u32 = 0;

/// The result of every fallible sockit call. `SOCKIT_OK` is 0; every other value names a
/// condition whose LuaSocket-style string `sockit_status_str` returns. Details are in
/// `sockit_last_error()`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sockit_status {
    /// Success.
    SOCKIT_OK = 0,
    /// "timeout": a timeout expired; data read so far was delivered.
    SOCKIT_TIMEOUT = 1,
    /// "closed": the peer closed or reset the connection, or the object is closed.
    SOCKIT_CLOSED = 2,
    /// "block": a non-blocking call would have blocked (Moonbridge's "block").
    SOCKIT_WOULDBLOCK = 3,
    /// "connection refused".
    SOCKIT_REFUSED = 4,
    /// "address already in use".
    SOCKIT_ADDRINUSE = 5,
    /// "already connected".
    SOCKIT_ISCONN = 6,
    /// "permission denied".
    SOCKIT_ACCESS = 7,
    /// "host not found": a name did not resolve.
    SOCKIT_HOST_NOT_FOUND = 8,
    /// "temporary failure in name resolution".
    SOCKIT_DNS_AGAIN = 9,
    /// "non-recoverable failure in name resolution".
    SOCKIT_DNS_FAIL = 10,
    /// "ai_family not supported".
    SOCKIT_FAMILY = 11,
    /// "service not supported for socket type".
    SOCKIT_SERVICE = 12,
    /// "invalid argument": NULL pointer, malformed address, bad option, freed handle.
    SOCKIT_INVALID = 13,
    /// "memory allocation failure".
    SOCKIT_NOMEM = 14,
    /// "protocol error": the peer broke the protocol.
    SOCKIT_PROTOCOL = 15,
    /// "unsupported": valid but not supported (for example an unknown URL scheme).
    SOCKIT_UNSUPPORTED = 16,
    /// "aborted": a callback asked to stop.
    SOCKIT_ABORTED = 17,
    /// "system error": another operating system error; the message has strerror's text.
    SOCKIT_SYSTEM = 18,
    /// "internal error": a bug in sockit was caught at the API boundary.
    SOCKIT_INTERNAL = 19,
}

impl From<ErrorKind> for sockit_status {
    fn from(k: ErrorKind) -> Self {
        use sockit_status::*;
        match k {
            ErrorKind::Timeout => SOCKIT_TIMEOUT,
            ErrorKind::Closed => SOCKIT_CLOSED,
            ErrorKind::WouldBlock => SOCKIT_WOULDBLOCK,
            ErrorKind::Refused => SOCKIT_REFUSED,
            ErrorKind::AddrInUse => SOCKIT_ADDRINUSE,
            ErrorKind::IsConn => SOCKIT_ISCONN,
            ErrorKind::Access => SOCKIT_ACCESS,
            ErrorKind::HostNotFound => SOCKIT_HOST_NOT_FOUND,
            ErrorKind::DnsAgain => SOCKIT_DNS_AGAIN,
            ErrorKind::DnsFail => SOCKIT_DNS_FAIL,
            ErrorKind::Family => SOCKIT_FAMILY,
            ErrorKind::Service => SOCKIT_SERVICE,
            ErrorKind::Invalid => SOCKIT_INVALID,
            ErrorKind::NoMem => SOCKIT_NOMEM,
            ErrorKind::Protocol => SOCKIT_PROTOCOL,
            ErrorKind::Unsupported => SOCKIT_UNSUPPORTED,
            ErrorKind::Aborted => SOCKIT_ABORTED,
            ErrorKind::System => SOCKIT_SYSTEM,
            ErrorKind::Internal => SOCKIT_INTERNAL,
        }
    }
}

/// The failure kind a status stands for; `None` for `SOCKIT_OK`.
pub(crate) fn kind_of(s: sockit_status) -> Option<ErrorKind> {
    use sockit_status::*;
    Some(match s {
        SOCKIT_OK => return None,
        SOCKIT_TIMEOUT => ErrorKind::Timeout,
        SOCKIT_CLOSED => ErrorKind::Closed,
        SOCKIT_WOULDBLOCK => ErrorKind::WouldBlock,
        SOCKIT_REFUSED => ErrorKind::Refused,
        SOCKIT_ADDRINUSE => ErrorKind::AddrInUse,
        SOCKIT_ISCONN => ErrorKind::IsConn,
        SOCKIT_ACCESS => ErrorKind::Access,
        SOCKIT_HOST_NOT_FOUND => ErrorKind::HostNotFound,
        SOCKIT_DNS_AGAIN => ErrorKind::DnsAgain,
        SOCKIT_DNS_FAIL => ErrorKind::DnsFail,
        SOCKIT_FAMILY => ErrorKind::Family,
        SOCKIT_SERVICE => ErrorKind::Service,
        SOCKIT_INVALID => ErrorKind::Invalid,
        SOCKIT_NOMEM => ErrorKind::NoMem,
        SOCKIT_PROTOCOL => ErrorKind::Protocol,
        SOCKIT_UNSUPPORTED => ErrorKind::Unsupported,
        SOCKIT_ABORTED => ErrorKind::Aborted,
        SOCKIT_SYSTEM => ErrorKind::System,
        SOCKIT_INTERNAL => ErrorKind::Internal,
    })
}

/// Static NUL-terminated copies of every status string, so `sockit_status_str` can hand
/// out pointers that live forever.
fn static_cstr(s: &'static str) -> *const c_char {
    // Each arm is a literal with a trailing NUL; look it up by the Rust string.
    macro_rules! table {
        ($($lit:literal),* $(,)?) => {
            match s { $( $lit => concat!($lit, "\0").as_ptr() as *const c_char, )* _ => "unknown status\0".as_ptr() as *const c_char }
        };
    }
    table!(
        "ok",
        "timeout",
        "closed",
        "block",
        "connection refused",
        "address already in use",
        "already connected",
        "permission denied",
        "host not found",
        "temporary failure in name resolution",
        "non-recoverable failure in name resolution",
        "ai_family not supported",
        "service not supported for socket type",
        "invalid argument",
        "memory allocation failure",
        "protocol error",
        "unsupported",
        "aborted",
        "system error",
        "internal error",
    )
}

/// LuaSocket's string for a status (a `sockit_status` value): "timeout", "closed",
/// "connection refused", ... and "ok" for `SOCKIT_OK`. The returned string is static:
/// never free it. Never blocks. A value that is no status gives "unknown status".
#[no_mangle]
pub extern "C" fn sockit_status_str(status: i32) -> *const c_char {
    match status_from_raw(status) {
        Some(sockit_status::SOCKIT_OK) => static_cstr("ok"),
        Some(s) => static_cstr(kind_of(s).map_or("", ErrorKind::as_str)),
        None => static_cstr(""),
    }
}

/// The status with the raw value `raw`, if there is one. C may pass any integer, so
/// statuses coming in from C are read as integers and converted here.
pub(crate) fn status_from_raw(raw: i32) -> Option<sockit_status> {
    if (0..=19).contains(&raw) {
        // SAFETY: sockit_status is repr(C) with the contiguous discriminants 0..=19.
        Some(unsafe { std::mem::transmute::<i32, sockit_status>(raw) })
    } else {
        None
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `msg` as this thread's last error message.
pub(crate) fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// The message of the last failed sockit call on this thread, with detail
/// ("connect 127.0.0.1:1: connection refused"); "" when no call has failed yet.
/// The pointer stays valid until the next failing sockit call on the same thread; the
/// caller must not free it. Never blocks.
#[no_mangle]
pub extern "C" fn sockit_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// The library's version as "MAJOR.MINOR.PATCH". Static string: never free it.
/// Never blocks.
#[no_mangle]
pub extern "C" fn sockit_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn every_status_has_its_string() {
        for raw in 0..=19i32 {
            let s = status_from_raw(raw).unwrap();
            let text = unsafe { CStr::from_ptr(sockit_status_str(raw)) }
                .to_str()
                .unwrap();
            match kind_of(s) {
                None => assert_eq!(text, "ok"),
                Some(k) => {
                    assert_eq!(text, k.as_str());
                    assert_eq!(sockit_status::from(k), s);
                }
            }
        }
    }

    #[test]
    fn unknown_status_is_named() {
        for raw in [-1, 20, i32::MAX] {
            let text = unsafe { CStr::from_ptr(sockit_status_str(raw)) };
            assert_eq!(text.to_str().unwrap(), "unknown status");
        }
    }

    #[test]
    fn version_matches_macros() {
        let v = unsafe { CStr::from_ptr(sockit_version()) }
            .to_str()
            .unwrap();
        assert_eq!(
            v,
            format!("{SOCKIT_VERSION_MAJOR}.{SOCKIT_VERSION_MINOR}.{SOCKIT_VERSION_PATCH}")
        );
    }
}
