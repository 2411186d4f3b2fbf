//! Name resolution: `sockit_dns_*` and the `sockit_hostinfo` result handle
//! (see `crate::net::dns`).

use super::boundary::{guard, guard_value, opt_str_arg, out_arg, put, str_arg};
use super::buffer::{set_text, sockit_buffer, with_buffer};
use super::handle::{impl_handle, Shell};
use super::options::sockit_family;
use super::status::sockit_status;
use crate::error::{Error, Result};
use crate::net::dns::{self, HostInfo, NameInfo};
use std::ffi::{c_char, CString};
use std::net::IpAddr;

/// What the resolver said about a host (LuaSocket's resolver table): a name, a list of
/// aliases and a list of addresses, each address with its family. Every string is owned
/// by the handle and stays valid until `sockit_hostinfo_free`.
///
/// - `sockit_dns_toip` / `sockit_dns_tohostname`: the canonical name, the aliases, every
///   address.
/// - `sockit_dns_getaddrinfo`: the canonical name, no aliases, every address (IPv4 and
///   IPv6).
/// - `sockit_dns_getnameinfo`: the aliases are the names found, one per address:
///   alias `i` is the name of address `i`; the name is the first of them ("" if none).
#[allow(non_camel_case_types)]
#[allow(dead_code)]
pub struct sockit_hostinfo(Shell<HostInfoC>);
impl_handle!(sockit_hostinfo, HostInfoC, "hostinfo");

/// A `HostInfo` with its strings ready for C.
pub struct HostInfoC {
    name: CString,
    aliases: Vec<CString>,
    addresses: Vec<(CString, sockit_family)>,
}

fn cstring(s: &str) -> CString {
    // Resolver strings never contain NUL; cut at one if a broken resolver returned it.
    let cut = s.split('\0').next().unwrap_or("");
    CString::new(cut).unwrap_or_default()
}

fn address(ip: &IpAddr) -> (CString, sockit_family) {
    let fam = match ip {
        IpAddr::V4(_) => sockit_family::SOCKIT_FAMILY_INET,
        IpAddr::V6(_) => sockit_family::SOCKIT_FAMILY_INET6,
    };
    (cstring(&ip.to_string()), fam)
}

impl From<&HostInfo> for HostInfoC {
    fn from(h: &HostInfo) -> HostInfoC {
        HostInfoC {
            name: cstring(&h.name),
            aliases: h.aliases.iter().map(|a| cstring(a)).collect(),
            addresses: h.addresses.iter().map(address).collect(),
        }
    }
}

impl From<&NameInfo> for HostInfoC {
    fn from(n: &NameInfo) -> HostInfoC {
        HostInfoC {
            name: cstring(n.names.first().map_or("", |s| s.as_str())),
            aliases: n.names.iter().map(|a| cstring(a)).collect(),
            addresses: n.addresses.iter().map(address).collect(),
        }
    }
}

/// Sets an optional `sockit_hostinfo **` out-parameter to NULL (so a failure leaves it
/// NULL) and returns it.
unsafe fn clear_info(info: *mut *mut sockit_hostinfo) -> *mut *mut sockit_hostinfo {
    put(info, std::ptr::null_mut());
    info
}

/// Makes a result handle for an optional `sockit_hostinfo **` out-parameter; nothing is
/// made when it is NULL.
unsafe fn put_info<'a, T>(info: *mut *mut sockit_hostinfo, v: &'a T)
where
    HostInfoC: From<&'a T>,
{
    if !info.is_null() {
        *info = sockit_hostinfo::new(HostInfoC::from(v));
    }
}

unsafe fn put_text(buf: *mut sockit_buffer, text: &str, name: &str) -> Result<()> {
    if buf.is_null() {
        return Err(Error::invalid(format!("{name} is NULL")));
    }
    with_buffer(buf, |v| {
        set_text(v, text.as_bytes());
        Ok(())
    })
}

/// Frees a result handle and its strings. NULL or an already freed handle is ignored.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_hostinfo_free(info: *mut sockit_hostinfo) {
    sockit_hostinfo::free(info)
}

/// The host's name (see `sockit_hostinfo`); "" when there is none. Owned by the handle:
/// valid until `sockit_hostinfo_free`. NULL for a NULL or freed handle. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_hostinfo_name(info: *const sockit_hostinfo) -> *const c_char {
    guard_value(std::ptr::null(), || {
        sockit_hostinfo::with(info, |h| Ok(h.name.as_ptr()))
    })
}

/// Number of aliases; 0 for a NULL or freed handle. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_hostinfo_alias_count(info: *const sockit_hostinfo) -> usize {
    guard_value(0, || sockit_hostinfo::with(info, |h| Ok(h.aliases.len())))
}

/// Alias number `i` (from 0). Owned by the handle: valid until `sockit_hostinfo_free`.
/// NULL when `i` is out of range or the handle is NULL or freed. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_hostinfo_alias(
    info: *const sockit_hostinfo,
    i: usize,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        sockit_hostinfo::with(info, |h| {
            h.aliases
                .get(i)
                .map(|a| a.as_ptr())
                .ok_or_else(|| Error::invalid(format!("alias {i} is out of range")))
        })
    })
}

/// Number of addresses; 0 for a NULL or freed handle. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_hostinfo_address_count(info: *const sockit_hostinfo) -> usize {
    guard_value(0, || sockit_hostinfo::with(info, |h| Ok(h.addresses.len())))
}

/// Address number `i` (from 0) as text ("127.0.0.1", "::1"); its `sockit_family`
/// (`SOCKIT_FAMILY_INET` or `SOCKIT_FAMILY_INET6`) goes to `*family` (may be NULL).
/// Owned by the handle: valid until `sockit_hostinfo_free`. NULL when `i` is out of
/// range or the handle is NULL or freed (`*family` is then left alone). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_hostinfo_address(
    info: *const sockit_hostinfo,
    i: usize,
    family: *mut sockit_family,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        let (p, f) = sockit_hostinfo::with(info, |h| {
            h.addresses
                .get(i)
                .map(|(a, f)| (a.as_ptr(), *f))
                .ok_or_else(|| Error::invalid(format!("address {i} is out of range")))
        })?;
        put(family, f);
        Ok(p)
    })
}

/// Resolves `name` (a host name or an address literal) to its first IP address, written
/// as text into `ip`. When `info` is not NULL, `*info` receives a new `sockit_hostinfo`
/// the caller owns (free with `sockit_hostinfo_free`) with the canonical name, aliases
/// and every address (a literal is looked up in reverse; without a reverse entry the info
/// is just the literal); on failure `*info` is NULL. Names are looked up as LuaSocket's
/// `toip` does (IPv4 first, aliases from the host database), falling back to getaddrinfo
/// for names without IPv4 addresses. Blocks while the resolver works. A failure names
/// the host: "foo.invalid: host not found" (`SOCKIT_HOST_NOT_FOUND`).
#[no_mangle]
pub unsafe extern "C" fn sockit_dns_toip(
    name: *const c_char,
    ip: *mut sockit_buffer,
    info: *mut *mut sockit_hostinfo,
) -> sockit_status {
    let info = clear_info(info);
    guard(|| {
        let name = str_arg(name, "name")?;
        if ip.is_null() {
            return Err(Error::invalid("ip is NULL"));
        }
        let (addr, h) = dns::toip(name)?;
        put_text(ip, &addr.to_string(), "ip")?;
        put_info(info, &h);
        Ok(())
    })
}

/// The canonical name of `addr` (an address literal, looked up in reverse, or a host
/// name) as text into `name`; `*info` (when `info` is not NULL) as for
/// `sockit_dns_toip`. Blocks while the resolver works. A failure names the address or
/// host: "10.9.9.9: host not found".
#[no_mangle]
pub unsafe extern "C" fn sockit_dns_tohostname(
    addr: *const c_char,
    name: *mut sockit_buffer,
    info: *mut *mut sockit_hostinfo,
) -> sockit_status {
    let info = clear_info(info);
    guard(|| {
        let addr = str_arg(addr, "addr")?;
        if name.is_null() {
            return Err(Error::invalid("name is NULL"));
        }
        let (canon, h) = dns::tohostname(addr)?;
        put_text(name, &canon, "name")?;
        put_info(info, &h);
        Ok(())
    })
}

/// This machine's host name (gethostname) as text into `name`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_dns_gethostname(name: *mut sockit_buffer) -> sockit_status {
    guard(|| {
        if name.is_null() {
            return Err(Error::invalid("name is NULL"));
        }
        put_text(name, &dns::gethostname()?, "name")
    })
}

/// Every address of `host` (IPv4 and IPv6, the resolver's order, no duplicates), as
/// LuaSocket 3's `socket.dns.getaddrinfo`: `*result` receives a new `sockit_hostinfo`
/// the caller owns, whose addresses carry their families and whose name is the canonical
/// name (NULL on failure). Blocks while the resolver works. A failure names the host.
#[no_mangle]
pub unsafe extern "C" fn sockit_dns_getaddrinfo(
    host: *const c_char,
    result: *mut *mut sockit_hostinfo,
) -> sockit_status {
    let result = clear_info(result);
    guard(|| {
        out_arg(result, "result")?;
        let host = str_arg(host, "host")?;
        let h = dns::getaddrinfo(host)?;
        *result = sockit_hostinfo::new(HostInfoC::from(&h));
        Ok(())
    })
}

/// Names for a host and a service, as LuaSocket 3's `socket.dns.getnameinfo`. `host` (a
/// name or literal; may be NULL) is resolved and each address looked up in reverse (an
/// address without a name gives its text); `service` (a port number or service name;
/// may be NULL, not both) gives the service's name ("http"), or the port when it has
/// none. When `names` is not NULL, `*names` receives a new `sockit_hostinfo` the caller
/// owns: alias `i` is the name of address `i` (none when `host` is NULL); NULL on
/// failure. When `service_out` is not NULL it receives the service text ("" when
/// `service` is NULL). Blocks while the resolver works. A failure names the host, or the
/// service when that is what failed (`SOCKIT_SERVICE`).
#[no_mangle]
pub unsafe extern "C" fn sockit_dns_getnameinfo(
    host: *const c_char,
    service: *const c_char,
    names: *mut *mut sockit_hostinfo,
    service_out: *mut sockit_buffer,
) -> sockit_status {
    let names = clear_info(names);
    guard(|| {
        let host = opt_str_arg(host, "host")?;
        let service = opt_str_arg(service, "service")?;
        let n = dns::getnameinfo(host, service)?;
        if !service_out.is_null() {
            put_text(
                service_out,
                n.service.as_deref().unwrap_or(""),
                "service_out",
            )?;
        }
        put_info(names, &n);
        Ok(())
    })
}
