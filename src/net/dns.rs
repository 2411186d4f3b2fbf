//! Name resolution services: LuaSocket's `toip`, `tohostname`, `gethostname` and
//! LuaSocket 3's `socket.dns.getaddrinfo` / `socket.dns.getnameinfo`.
//!
//! `toip` and `tohostname` return what the host database says about a host, as LuaSocket's
//! resolver table `{ name, alias, ip }`: the canonical name, the aliases and every
//! address. They ask the host database the way LuaSocket does (gethostbyname_r /
//! gethostbyaddr_r, which is where aliases come from: /etc/hosts, NIS, ...), so these
//! lookups are IPv4 for names, and IPv4 or IPv6 for address literals. A name with no
//! IPv4 address (or a system without those calls) falls back to getaddrinfo, which gives
//! the canonical name and every address (IPv4 and IPv6) but no aliases.
//!
//! A failed lookup names what failed: "foo.invalid: host not found".

use crate::error::{Error, ErrorKind, Result};
use crate::net::addr::{self, Family};
use std::ffi::{c_char, CStr};
use std::net::{IpAddr, SocketAddr};

/// What the resolver knows about a host (LuaSocket's resolver table).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostInfo {
    /// The canonical name.
    pub name: String,
    /// Other names of the host (may be empty).
    pub aliases: Vec<String>,
    /// Every address, in the resolver's order.
    pub addresses: Vec<IpAddr>,
}

/// The answer of `getnameinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameInfo {
    /// The name of each address the host resolved to (the address itself in text when it
    /// has no name), in the resolver's order; empty when no host was given.
    pub names: Vec<String>,
    /// The addresses, parallel to `names`.
    pub addresses: Vec<IpAddr>,
    /// The service's name ("http"), or the port in decimal when it has none; `None` when
    /// no service was given.
    pub service: Option<String>,
}

fn check_host(host: &str) -> Result<()> {
    if host.is_empty() {
        return Err(Error::invalid("host name is empty"));
    }
    if host.contains('\0') {
        return Err(Error::invalid("host name contains a NUL byte"));
    }
    Ok(())
}

/// The first address of `host` (a name or an address literal) and everything the
/// resolver said about it. For a literal, the address is the literal itself and the info
/// comes from a reverse lookup (just the literal when there is no reverse entry).
pub fn toip(host: &str) -> Result<(IpAddr, HostInfo)> {
    check_host(host)?;
    if let Ok(ip) = host.parse::<IpAddr>() {
        let info = hostdb::by_addr(ip).unwrap_or_else(|_| HostInfo {
            name: host.to_string(),
            aliases: Vec::new(),
            addresses: vec![ip],
        });
        return Ok((ip, info));
    }
    let info = by_name(host)?;
    Ok((info.addresses[0], info))
}

/// The canonical name of `host` (an address literal, looked up in reverse, or a name)
/// and everything the resolver said about it.
pub fn tohostname(host: &str) -> Result<(String, HostInfo)> {
    check_host(host)?;
    let info = match host.parse::<IpAddr>() {
        Ok(ip) => hostdb::by_addr(ip)?,
        Err(_) => by_name(host)?,
    };
    Ok((info.name.clone(), info))
}

/// A name looked up in the host database, falling back to getaddrinfo.
fn by_name(host: &str) -> Result<HostInfo> {
    if let Ok(info) = hostdb::by_name(host) {
        if !info.addresses.is_empty() {
            return Ok(info);
        }
    }
    getaddrinfo(host)
}

/// The name of this machine (gethostname(2)).
pub fn gethostname() -> Result<String> {
    let mut buf = [0u8; 1024];
    // SAFETY: buf is writable for its length; one byte is kept for the NUL.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut c_char, buf.len() - 1) };
    if rc != 0 {
        return Err(Error::io("gethostname", &std::io::Error::last_os_error()));
    }
    let len = memchr::memchr(0, &buf).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
}

/// Every address of `host` (IPv4 and IPv6, the resolver's order, no duplicates), as
/// LuaSocket 3's `socket.dns.getaddrinfo`; `name` is the canonical name (`host` itself
/// when the resolver gives none) and `aliases` is empty.
pub fn getaddrinfo(host: &str) -> Result<HostInfo> {
    check_host(host)?;
    let list = addr::getaddrinfo_service(
        Some(host),
        None,
        Family::Any,
        libc::SOCK_STREAM,
        libc::AI_CANONNAME,
    )?;
    let name = list
        .iter()
        .find_map(|a| a.canonname.clone())
        .unwrap_or_else(|| host.to_string());
    Ok(HostInfo {
        name,
        aliases: Vec::new(),
        addresses: list.iter().map(|a| a.addr.ip()).collect(),
    })
}

/// Names for `host` and `service`, as LuaSocket 3's `socket.dns.getnameinfo`: `host` (a
/// name or literal) is resolved and each address is looked up in reverse; `service` (a
/// port number or a service name) is looked up by port. Either may be `None`, not both.
pub fn getnameinfo(host: Option<&str>, service: Option<&str>) -> Result<NameInfo> {
    if let Some(h) = host {
        check_host(h)?;
    }
    if host.is_none() && service.is_none() {
        return Err(Error::invalid(
            "getnameinfo: host and service cannot both be absent",
        ));
    }
    let list = addr::getaddrinfo_service(host, service, Family::Any, libc::SOCK_STREAM, 0)?;
    let mut out = NameInfo::default();
    for a in &list {
        let (name, serv) = name_of(&a.addr, host.is_some(), service.is_some())?;
        if let Some(n) = name {
            out.names.push(n);
            out.addresses.push(a.addr.ip());
        }
        if out.service.is_none() {
            out.service = serv;
        }
        if host.is_none() {
            break; // the service is all that was asked
        }
    }
    Ok(out)
}

/// getnameinfo(3) on one address: its host name (numeric when it has none) and service.
fn name_of(
    addr: &SocketAddr,
    want_host: bool,
    want_serv: bool,
) -> Result<(Option<String>, Option<String>)> {
    let sa = socket2::SockAddr::from(*addr);
    let mut host = [0u8; 1025]; // NI_MAXHOST
    let mut serv = [0u8; 32]; // NI_MAXSERV
    let (hp, hl) = if want_host {
        (
            host.as_mut_ptr() as *mut c_char,
            host.len() as libc::socklen_t,
        )
    } else {
        (std::ptr::null_mut(), 0)
    };
    let (sp, sl) = if want_serv {
        (
            serv.as_mut_ptr() as *mut c_char,
            serv.len() as libc::socklen_t,
        )
    } else {
        (std::ptr::null_mut(), 0)
    };
    // SAFETY: sa is a valid sockaddr of sa.len() bytes; the buffers (or NULL with
    // length 0) are writable for the lengths given.
    let rc = unsafe { libc::getnameinfo(sa.as_ptr(), sa.len(), hp, hl, sp, sl, 0) };
    if rc != 0 {
        return Err(addr::gai_error(&addr.ip().to_string(), rc));
    }
    let text = |b: &[u8]| {
        // SAFETY: getnameinfo wrote a NUL-terminated string into the buffer.
        unsafe { CStr::from_ptr(b.as_ptr() as *const c_char) }
            .to_string_lossy()
            .into_owned()
    };
    Ok((
        want_host.then(|| text(&host)),
        want_serv.then(|| text(&serv)),
    ))
}

/// The kind for a resolver h_errno value.
fn h_errno_kind(h: i32) -> ErrorKind {
    match h {
        1 | 4 => ErrorKind::HostNotFound, // HOST_NOT_FOUND, NO_DATA
        2 => ErrorKind::DnsAgain,         // TRY_AGAIN
        3 => ErrorKind::DnsFail,          // NO_RECOVERY
        _ => ErrorKind::System,
    }
}

/// The host database through the reentrant gethostbyname_r / gethostbyaddr_r
/// (glibc and musl have them with these signatures). The marker below keeps these libc
/// declarations out of sockit.h:
///
/// cbindgen:ignore
#[cfg(target_os = "linux")]
mod hostdb {
    use super::{h_errno_kind, HostInfo};
    use crate::error::{Error, ErrorKind, Result};
    use std::ffi::{c_char, c_int, c_void, CStr, CString};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    extern "C" {
        fn gethostbyname_r(
            name: *const c_char,
            ret: *mut libc::hostent,
            buf: *mut c_char,
            buflen: libc::size_t,
            result: *mut *mut libc::hostent,
            h_errnop: *mut c_int,
        ) -> c_int;
        fn gethostbyaddr_r(
            addr: *const c_void,
            len: libc::socklen_t,
            family: c_int,
            ret: *mut libc::hostent,
            buf: *mut c_char,
            buflen: libc::size_t,
            result: *mut *mut libc::hostent,
            h_errnop: *mut c_int,
        ) -> c_int;
    }

    /// The largest scratch buffer tried before giving up with ERANGE.
    const MAX_BUF: usize = 1 << 20;

    /// Runs a `*_r` lookup with a growing scratch buffer and copies the answer out.
    fn lookup(
        subject: &str,
        call: impl Fn(
            *mut libc::hostent,
            *mut c_char,
            usize,
            *mut *mut libc::hostent,
            *mut c_int,
        ) -> c_int,
    ) -> Result<HostInfo> {
        let mut buf: Vec<u8> = vec![0; 2048];
        loop {
            // SAFETY: a zeroed hostent is a valid out-parameter.
            let mut ent: libc::hostent = unsafe { std::mem::zeroed() };
            let mut result: *mut libc::hostent = std::ptr::null_mut();
            let mut herr: c_int = 0;
            let rc = call(
                &mut ent,
                buf.as_mut_ptr() as *mut c_char,
                buf.len(),
                &mut result,
                &mut herr,
            );
            if rc == libc::ERANGE && buf.len() < MAX_BUF {
                buf.resize(buf.len() * 2, 0);
                continue;
            }
            if rc == 0 && !result.is_null() {
                // SAFETY: on success `result` points to `ent`, whose pointers point into buf.
                return Ok(unsafe { copy(&*result) });
            }
            let kind = match h_errno_kind(herr) {
                ErrorKind::System if rc != 0 => ErrorKind::from_errno(rc),
                ErrorKind::System => ErrorKind::HostNotFound,
                k => k,
            };
            return Err(Error::new(kind, format!("{subject}: {}", kind.as_str())));
        }
    }

    /// Copies a hostent out of the lookup's scratch buffer.
    unsafe fn copy(h: &libc::hostent) -> HostInfo {
        let text = |p: *const c_char| CStr::from_ptr(p).to_string_lossy().into_owned();
        let mut info = HostInfo {
            name: if h.h_name.is_null() {
                String::new()
            } else {
                text(h.h_name)
            },
            ..HostInfo::default()
        };
        let mut p = h.h_aliases;
        while !p.is_null() && !(*p).is_null() {
            info.aliases.push(text(*p));
            p = p.add(1);
        }
        let mut p = h.h_addr_list;
        while !p.is_null() && !(*p).is_null() {
            let a = *p as *const u8;
            match (h.h_addrtype, h.h_length) {
                (libc::AF_INET, 4) => {
                    let b = std::slice::from_raw_parts(a, 4);
                    info.addresses
                        .push(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])));
                }
                (libc::AF_INET6, 16) => {
                    let mut b = [0u8; 16];
                    b.copy_from_slice(std::slice::from_raw_parts(a, 16));
                    info.addresses.push(IpAddr::V6(Ipv6Addr::from(b)));
                }
                _ => {}
            }
            p = p.add(1);
        }
        info
    }

    #[cfg(test)]
    #[test]
    fn hostent_is_copied_with_aliases_and_both_families() {
        let name = CString::new("canon.example").unwrap();
        let (a1, a2) = (
            CString::new("alias1").unwrap(),
            CString::new("alias2").unwrap(),
        );
        let mut aliases = [
            a1.as_ptr() as *mut c_char,
            a2.as_ptr() as *mut c_char,
            std::ptr::null_mut(),
        ];
        let (v4a, v4b) = ([127u8, 0, 0, 1], [10u8, 1, 2, 3]);
        let mut addrs = [
            v4a.as_ptr() as *mut c_char,
            v4b.as_ptr() as *mut c_char,
            std::ptr::null_mut(),
        ];
        // SAFETY: a zeroed hostent is valid; every pointer set below outlives its use.
        let mut h: libc::hostent = unsafe { std::mem::zeroed() };
        h.h_name = name.as_ptr() as *mut c_char;
        h.h_aliases = aliases.as_mut_ptr();
        h.h_addrtype = libc::AF_INET;
        h.h_length = 4;
        h.h_addr_list = addrs.as_mut_ptr();
        let info = unsafe { copy(&h) };
        assert_eq!(info.name, "canon.example");
        assert_eq!(info.aliases, vec!["alias1", "alias2"]);
        assert_eq!(info.addresses, vec![IpAddr::from(v4a), IpAddr::from(v4b)]);
        let v6 = Ipv6Addr::LOCALHOST.octets();
        let mut addrs6 = [v6.as_ptr() as *mut c_char, std::ptr::null_mut()];
        h.h_addrtype = libc::AF_INET6;
        h.h_length = 16;
        h.h_addr_list = addrs6.as_mut_ptr();
        h.h_aliases = std::ptr::null_mut();
        let info = unsafe { copy(&h) };
        assert!(info.aliases.is_empty());
        assert_eq!(info.addresses, vec![IpAddr::V6(Ipv6Addr::LOCALHOST)]);
    }

    /// gethostbyname_r: IPv4 addresses, canonical name and aliases.
    pub fn by_name(host: &str) -> Result<HostInfo> {
        let c = CString::new(host).map_err(|_| Error::invalid("host name contains a NUL byte"))?;
        lookup(host, |ent, buf, len, res, herr| {
            // SAFETY: every pointer is live for the call; len is buf's length.
            unsafe { gethostbyname_r(c.as_ptr(), ent, buf, len, res, herr) }
        })
    }

    /// gethostbyaddr_r: the reverse lookup of an IPv4 or IPv6 address.
    pub fn by_addr(ip: IpAddr) -> Result<HostInfo> {
        let (bytes, family): (Vec<u8>, c_int) = match ip {
            IpAddr::V4(v) => (v.octets().to_vec(), libc::AF_INET),
            IpAddr::V6(v) => (v.octets().to_vec(), libc::AF_INET6),
        };
        lookup(&ip.to_string(), |ent, buf, len, res, herr| {
            // SAFETY: bytes holds the address in network order; the rest as above.
            unsafe {
                gethostbyaddr_r(
                    bytes.as_ptr() as *const c_void,
                    bytes.len() as libc::socklen_t,
                    family,
                    ent,
                    buf,
                    len,
                    res,
                    herr,
                )
            }
        })
    }
}

/// Without the reentrant host database calls: names go through getaddrinfo (no
/// aliases), reverse lookups through getnameinfo.
#[cfg(not(target_os = "linux"))]
mod hostdb {
    use super::HostInfo;
    use crate::error::{Error, ErrorKind, Result};
    use std::net::{IpAddr, SocketAddr};

    pub fn by_name(host: &str) -> Result<HostInfo> {
        super::getaddrinfo(host)
    }

    pub fn by_addr(ip: IpAddr) -> Result<HostInfo> {
        let sa = socket2::SockAddr::from(SocketAddr::new(ip, 0));
        let mut host = [0u8; 1025];
        // SAFETY: as in super::name_of.
        let rc = unsafe {
            libc::getnameinfo(
                sa.as_ptr(),
                sa.len(),
                host.as_mut_ptr() as *mut libc::c_char,
                host.len() as libc::socklen_t,
                std::ptr::null_mut(),
                0,
                libc::NI_NAMEREQD,
            )
        };
        if rc != 0 {
            let kind = ErrorKind::HostNotFound;
            return Err(Error::new(kind, format!("{ip}: {}", kind.as_str())));
        }
        let len = memchr::memchr(0, &host).unwrap_or(host.len());
        Ok(HostInfo {
            name: String::from_utf8_lossy(&host[..len]).into_owned(),
            aliases: Vec::new(),
            addresses: vec![ip],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_found(e: &Error) -> bool {
        matches!(
            e.kind,
            ErrorKind::HostNotFound | ErrorKind::DnsAgain | ErrorKind::DnsFail
        )
    }

    #[test]
    fn toip_localhost_and_literals() {
        let (ip, info) = toip("localhost").unwrap();
        assert!(ip.is_loopback(), "{ip}");
        assert!(info.addresses.contains(&ip));
        assert!(!info.name.is_empty());
        let (ip, info) = toip("127.0.0.1").unwrap();
        assert_eq!(ip.to_string(), "127.0.0.1");
        assert!(!info.name.is_empty());
        assert!(info.addresses.contains(&ip), "{info:?}");
        let (ip, info) = toip("::1").unwrap();
        assert_eq!(ip.to_string(), "::1");
        assert!(info.addresses.contains(&ip), "{info:?}");
    }

    #[test]
    fn tohostname_localhost() {
        let (name, info) = tohostname("127.0.0.1").unwrap();
        assert!(!name.is_empty());
        assert_eq!(name, info.name);
        let (name, _) = tohostname("localhost").unwrap();
        assert!(!name.is_empty());
        // ::1 has a name only where the hosts file gives it one.
        match tohostname("::1") {
            Ok((name, _)) => assert!(!name.is_empty()),
            Err(e) => assert_eq!(e.msg, "::1: host not found"),
        }
    }

    #[test]
    fn failures_name_the_host() {
        let ip = |h: &str| toip(h).map(|_| ());
        let name = |h: &str| tohostname(h).map(|_| ());
        for f in [&ip as &dyn Fn(&str) -> Result<()>, &name] {
            let e = f("no-such-host.invalid").unwrap_err();
            assert!(not_found(&e), "{e:?}");
            assert!(e.msg.starts_with("no-such-host.invalid: "), "{}", e.msg);
            assert_eq!(f("").unwrap_err().kind, ErrorKind::Invalid);
            assert_eq!(f("a\0b").unwrap_err().kind, ErrorKind::Invalid);
        }
        let e = getaddrinfo("no-such-host.invalid").unwrap_err();
        assert!(e.msg.starts_with("no-such-host.invalid: "), "{}", e.msg);
        let e = getnameinfo(Some("no-such-host.invalid"), Some("80")).unwrap_err();
        assert!(e.msg.starts_with("no-such-host.invalid: "), "{}", e.msg);
        let e = getnameinfo(Some("127.0.0.1"), Some("no-such-service")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Service);
        assert!(e.msg.starts_with("no-such-service: "), "{}", e.msg);
        assert_eq!(
            getnameinfo(None, None).unwrap_err().kind,
            ErrorKind::Invalid
        );
    }

    #[test]
    fn gethostname_is_not_empty() {
        let n = gethostname().unwrap();
        assert!(!n.is_empty() && !n.contains('\0'));
    }

    #[test]
    fn getaddrinfo_lists_families() {
        let info = getaddrinfo("127.0.0.1").unwrap();
        assert_eq!(info.addresses, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
        let info = getaddrinfo("::1").unwrap();
        assert_eq!(info.addresses, vec!["::1".parse::<IpAddr>().unwrap()]);
        let info = getaddrinfo("localhost").unwrap();
        assert!(!info.addresses.is_empty());
        assert!(info.addresses.iter().all(|a| a.is_loopback()), "{info:?}");
        assert!(!info.name.is_empty());
    }

    #[test]
    fn getnameinfo_names_and_services() {
        let n = getnameinfo(Some("127.0.0.1"), Some("80")).unwrap();
        assert_eq!(n.names.len(), 1);
        assert!(!n.names[0].is_empty());
        assert_eq!(n.addresses, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
        let serv = n.service.unwrap();
        assert!(serv == "http" || serv == "80", "{serv}");
        let n = getnameinfo(Some("127.0.0.1"), Some("54321")).unwrap();
        assert_eq!(n.service.as_deref(), Some("54321"));
        let n = getnameinfo(Some("localhost"), None).unwrap();
        assert!(!n.names.is_empty());
        assert_eq!(n.service, None);
        let n = getnameinfo(None, Some("80")).unwrap();
        assert!(n.names.is_empty());
        assert!(n.service.is_some());
        // ::1 without a reverse entry comes back as itself.
        let n = getnameinfo(Some("::1"), None).unwrap();
        assert_eq!(n.names.len(), 1);
    }
}
