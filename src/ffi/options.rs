//! `sockit_family` and the helpers every socket handle uses for its option calls.
//!
//! Each handle family exports its own `sockit_<x>_setoption_int` / `_getoption_int`; with
//! these helpers each is a few lines:
//!
//! ```ignore
//! guard(|| sockit_tcp::with(t, |tcp| options::setoption_int(tcp.socket()?, name, value)))
//! guard(|| sockit_tcp::with(t, |tcp| options::getoption_int(tcp.socket()?, name, value)))
//! ```
//!
//! Integers stand for option values as `Opt::from_int` / `OptValue::as_int` define: 0 / 1
//! for booleans, the number for integer options, and for `linger` the seconds (on) or -1
//! (off).

use crate::error::{Error, ErrorKind, Result};
use crate::ffi::boundary::{out_arg, str_arg};
use crate::net::addr::Family;
use crate::net::options::{self, Opt, OptValue};
use socket2::Socket;
use std::ffi::c_char;
use std::net::SocketAddr;

/// An address family. Calls that take a family take it as an `int` holding one of these
/// values (so that any integer a caller passes is checked); calls that report one write
/// it through a `sockit_family *`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sockit_family {
    /// Unspecified: whatever the resolver or the first address gives.
    SOCKIT_FAMILY_ANY = 0,
    /// IPv4.
    SOCKIT_FAMILY_INET = 1,
    /// IPv6.
    SOCKIT_FAMILY_INET6 = 2,
    /// Unix domain (local) sockets.
    SOCKIT_FAMILY_UNIX = 3,
}

impl sockit_family {
    /// The family with the raw value `raw` (C may pass any integer); anything else is
    /// `SOCKIT_INVALID` naming the argument.
    pub(crate) fn from_raw(raw: i32, name: &str) -> Result<sockit_family> {
        Ok(match raw {
            0 => sockit_family::SOCKIT_FAMILY_ANY,
            1 => sockit_family::SOCKIT_FAMILY_INET,
            2 => sockit_family::SOCKIT_FAMILY_INET6,
            3 => sockit_family::SOCKIT_FAMILY_UNIX,
            _ => {
                return Err(Error::invalid(format!(
                    "{name} {raw} is not a sockit_family"
                )))
            }
        })
    }

    /// The IP family for the core; `SOCKIT_FAMILY_UNIX` is `SOCKIT_FAMILY` (not an IP
    /// family).
    pub(crate) fn to_ip(self) -> Result<Family> {
        match self {
            sockit_family::SOCKIT_FAMILY_ANY => Ok(Family::Any),
            sockit_family::SOCKIT_FAMILY_INET => Ok(Family::Inet),
            sockit_family::SOCKIT_FAMILY_INET6 => Ok(Family::Inet6),
            sockit_family::SOCKIT_FAMILY_UNIX => Err(Error::new(
                ErrorKind::Family,
                "the unix family is not an IP family here",
            )),
        }
    }

    /// The C value of a core family.
    pub(crate) fn of(f: Family) -> sockit_family {
        match f {
            Family::Any => sockit_family::SOCKIT_FAMILY_ANY,
            Family::Inet => sockit_family::SOCKIT_FAMILY_INET,
            Family::Inet6 => sockit_family::SOCKIT_FAMILY_INET6,
        }
    }

    /// The C value for the family of an address.
    pub(crate) fn of_addr(a: &SocketAddr) -> sockit_family {
        sockit_family::of(Family::of(a))
    }
}

/// An IP family argument given as an `int`: `SOCKIT_FAMILY_ANY`, `_INET` or `_INET6`.
pub(crate) fn ip_family_arg(raw: i32, name: &str) -> Result<Family> {
    sockit_family::from_raw(raw, name)?.to_ip()
}

/// The option named by a C string argument ("unsupported option 'x'" when unknown).
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
pub(crate) unsafe fn option_arg(name: *const c_char) -> Result<Opt> {
    Opt::parse(str_arg(name, "name")?)
}

/// The value an integer stands for with the option `opt` (see the module documentation).
pub(crate) fn int_to_value(opt: Opt, value: i64) -> Result<OptValue> {
    opt.from_int(value)
}

/// An option value as one integer (see the module documentation).
pub(crate) fn value_to_int(value: OptValue) -> i64 {
    value.as_int()
}

/// A `linger` value from a C pair: `on` non-zero turns lingering on for `secs` seconds
/// (`secs` must be in 0..=INT_MAX).
#[allow(dead_code)] // for the socket handles that hold a socket2::Socket
pub(crate) fn linger_value(on: bool, secs: i64) -> Result<OptValue> {
    match u32::try_from(secs) {
        Ok(secs) if secs <= i32::MAX as u32 => Ok(OptValue::Linger { on, secs }),
        _ => Err(Error::invalid(format!(
            "linger seconds {secs} is outside 0..{}",
            i32::MAX
        ))),
    }
}

/// `setoption_int` for any socket: parses the C name, converts the integer and sets it.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[allow(dead_code)] // for the socket handles that hold a socket2::Socket
pub(crate) unsafe fn setoption_int(sock: &Socket, name: *const c_char, value: i64) -> Result<()> {
    let opt = option_arg(name)?;
    options::set_opt(sock, opt, int_to_value(opt, value)?)
}

/// `getoption_int` for any socket: parses the C name, reads the option and writes it to
/// `out` as an integer.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[allow(dead_code)] // for the socket handles that hold a socket2::Socket
pub(crate) unsafe fn getoption_int(
    sock: &Socket,
    name: *const c_char,
    out: *mut i64,
) -> Result<()> {
    let out = out_arg(out, "value")?;
    let opt = option_arg(name)?;
    *out = value_to_int(options::get_opt(sock, opt)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Type};
    use std::ffi::CString;

    fn c(s: &str) -> CString {
        CString::new(s).unwrap()
    }

    #[test]
    fn families_convert_both_ways() {
        for raw in 0..=2 {
            let f = sockit_family::from_raw(raw, "family").unwrap();
            assert_eq!(sockit_family::of(f.to_ip().unwrap()) as i32, raw);
        }
        let unix = sockit_family::from_raw(3, "family").unwrap();
        assert_eq!(unix.to_ip().unwrap_err().kind, ErrorKind::Family);
        let e = sockit_family::from_raw(9, "family").unwrap_err();
        assert_eq!(e.msg, "family 9 is not a sockit_family");
        assert_eq!(
            sockit_family::of_addr(&"[::1]:1".parse().unwrap()),
            sockit_family::SOCKIT_FAMILY_INET6
        );
    }

    #[test]
    fn int_helpers_set_and_get() {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let mut v = 0i64;
        unsafe {
            setoption_int(&s, c("tcp-nodelay").as_ptr(), 1).unwrap();
            getoption_int(&s, c("tcp-nodelay").as_ptr(), &mut v).unwrap();
            assert_eq!(v, 1);
            setoption_int(&s, c("linger").as_ptr(), 4).unwrap();
            getoption_int(&s, c("linger").as_ptr(), &mut v).unwrap();
            assert_eq!(v, 4);
            setoption_int(&s, c("linger").as_ptr(), -1).unwrap();
            getoption_int(&s, c("linger").as_ptr(), &mut v).unwrap();
            assert_eq!(v, -1);
            let e = setoption_int(&s, std::ptr::null(), 1).unwrap_err();
            assert_eq!(e.msg, "name is NULL");
            let e = setoption_int(&s, c("nope").as_ptr(), 1).unwrap_err();
            assert_eq!(e.msg, "unsupported option 'nope'");
            let e = getoption_int(&s, c("linger").as_ptr(), std::ptr::null_mut()).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Invalid);
            let e = setoption_int(&s, c("keepalive").as_ptr(), 7).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Invalid);
        }
        assert_eq!(
            linger_value(true, 5).unwrap(),
            OptValue::Linger { on: true, secs: 5 }
        );
        assert!(linger_value(true, -1).is_err());
        assert!(linger_value(false, 1 << 40).is_err());
    }
}
