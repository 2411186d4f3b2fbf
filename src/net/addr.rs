//! Address resolution for connect, bind, sendto: host name or literal + port + family
//! to socket addresses, with LuaSocket's error strings ("host not found", ...).

use crate::error::{Error, ErrorKind, Result};
use std::ffi::{CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Which address family a call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// Whatever the resolver returns (IPv4 or IPv6).
    #[default]
    Any,
    Inet,
    Inet6,
}

impl Family {
    fn ai_family(self) -> i32 {
        match self {
            Family::Any => libc::AF_UNSPEC,
            Family::Inet => libc::AF_INET,
            Family::Inet6 => libc::AF_INET6,
        }
    }

    /// The family of an address.
    pub fn of(addr: &SocketAddr) -> Family {
        match addr {
            SocketAddr::V4(_) => Family::Inet,
            SocketAddr::V6(_) => Family::Inet6,
        }
    }

    /// LuaSocket's name: "inet", "inet6" (and "unspec" for Any).
    pub fn name(self) -> &'static str {
        match self {
            Family::Any => "unspec",
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
        }
    }
}

/// glibc's EAI_ADDRFAMILY (the host has no address of the family asked for), absent from
/// the libc crate.
const EAI_ADDRFAMILY: i32 = -9;

/// The kind for a getaddrinfo error code (LuaSocket's `socket_gaistrerror`).
pub fn gai_kind(code: i32) -> ErrorKind {
    match code {
        libc::EAI_AGAIN => ErrorKind::DnsAgain,
        libc::EAI_FAIL => ErrorKind::DnsFail,
        libc::EAI_FAMILY => ErrorKind::Family,
        libc::EAI_MEMORY => ErrorKind::NoMem,
        libc::EAI_NONAME | libc::EAI_NODATA | EAI_ADDRFAMILY => ErrorKind::HostNotFound,
        libc::EAI_SERVICE => ErrorKind::Service,
        libc::EAI_SOCKTYPE | libc::EAI_BADFLAGS => ErrorKind::Invalid,
        _ => ErrorKind::System,
    }
}

/// The wildcard address of a family ("*" in LuaSocket's bind).
pub fn wildcard(family: Family, port: u16) -> SocketAddr {
    match family {
        Family::Inet6 => SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0)),
        _ => SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)),
    }
}

/// One getaddrinfo result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrInfo {
    pub addr: SocketAddr,
    /// The canonical name, on the first result when asked for.
    pub canonname: Option<String>,
}

/// Calls getaddrinfo for `host` (a name or literal) and `port`, restricted to `family`,
/// for stream (`stream = true`) or datagram sockets. `passive` asks for addresses to bind.
/// Results keep the resolver's order, duplicates removed. A failure names the host:
/// "host.invalid: host not found".
pub fn getaddrinfo(
    host: &str,
    port: u16,
    family: Family,
    stream: bool,
    passive: bool,
    canon: bool,
) -> Result<Vec<AddrInfo>> {
    let socktype = if stream {
        libc::SOCK_STREAM
    } else {
        libc::SOCK_DGRAM
    };
    let flags = libc::AI_NUMERICSERV
        | if passive { libc::AI_PASSIVE } else { 0 }
        | if canon { libc::AI_CANONNAME } else { 0 };
    getaddrinfo_service(Some(host), Some(&port.to_string()), family, socktype, flags)
}

/// The error for a getaddrinfo/getnameinfo return code `rc`, naming `subject`:
/// "host.invalid: host not found".
pub fn gai_error(subject: &str, rc: i32) -> Error {
    let kind = if rc == libc::EAI_SYSTEM {
        ErrorKind::from_errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        gai_kind(rc)
    };
    let text = if kind == ErrorKind::System {
        // SAFETY: gai_strerror returns a static string.
        unsafe { CStr::from_ptr(libc::gai_strerror(rc)) }
            .to_string_lossy()
            .into_owned()
    } else {
        kind.as_str().to_string()
    };
    Error::new(kind, format!("{subject}: {text}"))
}

/// The general getaddrinfo: `host` and `service` may each be `None` (not both);
/// `service` is a number or a service name ("http"); `socktype` is `SOCK_STREAM`,
/// `SOCK_DGRAM` or 0 (any); `flags` are `AI_*` flags. Results keep the resolver's order,
/// duplicate addresses removed. A failure names the host, or the service when the
/// service is what failed ("nosuchservice: service not supported for socket type").
pub fn getaddrinfo_service(
    host: Option<&str>,
    service: Option<&str>,
    family: Family,
    socktype: i32,
    flags: i32,
) -> Result<Vec<AddrInfo>> {
    if host.is_none() && service.is_none() {
        return Err(Error::invalid("host and service cannot both be absent"));
    }
    let c_host = host
        .map(CString::new)
        .transpose()
        .map_err(|_| Error::invalid("host name contains a NUL byte"))?;
    let c_serv = service
        .map(CString::new)
        .transpose()
        .map_err(|_| Error::invalid("service name contains a NUL byte"))?;
    // SAFETY: a zeroed addrinfo is a valid "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = family.ai_family();
    hints.ai_socktype = socktype;
    hints.ai_flags = flags;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    let ptr = |c: &Option<CString>| c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: valid C strings (or NULL) and hints; res is freed below.
    let rc = unsafe { libc::getaddrinfo(ptr(&c_host), ptr(&c_serv), &hints, &mut res) };
    let host = host.unwrap_or("");
    if rc != 0 {
        let subject = match service {
            Some(s) if rc == libc::EAI_SERVICE || host.is_empty() => s,
            _ => host,
        };
        return Err(gai_error(subject, rc));
    }
    let mut out: Vec<AddrInfo> = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: p walks the list getaddrinfo returned.
        let ai = unsafe { &*p };
        if let Some(addr) = unsafe { sockaddr_to_std(ai.ai_addr, ai.ai_addrlen) } {
            let canonname = if ai.ai_canonname.is_null() {
                None
            } else {
                // SAFETY: non-NULL canonname is a C string owned by the list.
                Some(
                    unsafe { CStr::from_ptr(ai.ai_canonname) }
                        .to_string_lossy()
                        .into_owned(),
                )
            };
            if !out.iter().any(|o| o.addr == addr) {
                out.push(AddrInfo { addr, canonname });
            }
        }
        p = ai.ai_next;
    }
    // SAFETY: res came from getaddrinfo.
    unsafe { libc::freeaddrinfo(res) };
    if out.is_empty() {
        return Err(Error::new(
            ErrorKind::HostNotFound,
            format!("{host}: host not found"),
        ));
    }
    Ok(out)
}

/// Converts a C sockaddr to a std address (IPv4 and IPv6 only).
///
/// # Safety
/// `sa` points to `len` readable bytes of a sockaddr.
pub unsafe fn sockaddr_to_std(
    sa: *const libc::sockaddr,
    len: libc::socklen_t,
) -> Option<SocketAddr> {
    if sa.is_null() {
        return None;
    }
    match (*sa).sa_family as i32 {
        libc::AF_INET if len as usize >= std::mem::size_of::<libc::sockaddr_in>() => {
            let sin = &*(sa as *const libc::sockaddr_in);
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len as usize >= std::mem::size_of::<libc::sockaddr_in6>() => {
            let sin6 = &*(sa as *const libc::sockaddr_in6);
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Resolves a host for connecting or sending: every address, in the resolver's order.
/// A literal IP skips the resolver.
pub fn resolve(host: &str, port: u16, family: Family, stream: bool) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        let addr = SocketAddr::new(ip, port);
        return match (family, Family::of(&addr)) {
            (Family::Any, _) | (Family::Inet, Family::Inet) | (Family::Inet6, Family::Inet6) => {
                Ok(vec![addr])
            }
            _ => Err(Error::new(
                ErrorKind::Family,
                format!("{host}: address is not of family {}", family.name()),
            )),
        };
    }
    if host.is_empty() {
        return Err(Error::invalid("host name is empty"));
    }
    Ok(getaddrinfo(host, port, family, stream, false, false)?
        .into_iter()
        .map(|a| a.addr)
        .collect())
}

/// Resolves a local address to bind: "*" (or "") is the wildcard of the family (IPv4 for
/// `Any`, like LuaSocket's `socket.bind`), anything else resolves passively.
pub fn resolve_local(
    host: &str,
    port: u16,
    family: Family,
    stream: bool,
) -> Result<Vec<SocketAddr>> {
    if host == "*" || host.is_empty() {
        return Ok(vec![wildcard(family, port)]);
    }
    if let Ok(v) = resolve(host, port, family, stream) {
        return Ok(v);
    }
    Ok(getaddrinfo(host, port, family, stream, true, false)?
        .into_iter()
        .map(|a| a.addr)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_families() {
        assert_eq!(
            resolve("127.0.0.1", 80, Family::Any, true).unwrap(),
            vec!["127.0.0.1:80".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            resolve("::1", 81, Family::Inet6, true).unwrap(),
            vec!["[::1]:81".parse::<SocketAddr>().unwrap()]
        );
        let e = resolve("::1", 81, Family::Inet, true).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Family);
        assert_eq!(
            resolve_local("*", 9, Family::Any, true).unwrap(),
            vec!["0.0.0.0:9".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            resolve_local("*", 9, Family::Inet6, true).unwrap(),
            vec!["[::]:9".parse::<SocketAddr>().unwrap()]
        );
    }

    #[test]
    fn localhost_resolves_and_bad_names_say_which() {
        let v = resolve("localhost", 7, Family::Inet, true).unwrap();
        assert!(v.contains(&"127.0.0.1:7".parse().unwrap()), "{v:?}");
        let e = resolve("no-such-host.invalid", 7, Family::Any, true).unwrap_err();
        assert!(
            matches!(
                e.kind,
                ErrorKind::HostNotFound | ErrorKind::DnsAgain | ErrorKind::DnsFail
            ),
            "{e:?}"
        );
        assert!(e.msg.starts_with("no-such-host.invalid: "), "{}", e.msg);
        assert_eq!(
            resolve("", 1, Family::Any, true).unwrap_err().kind,
            ErrorKind::Invalid
        );
    }
}
