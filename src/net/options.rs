//! Socket options by LuaSocket 3 name ("keepalive", "tcp-nodelay", "linger", ...), shared
//! by TCP, UDP and the other socket kinds.
//!
//! Names accepted (with aliases):
//!
//! | name | value | level / option |
//! |---|---|---|
//! | `keepalive` (`SO_KEEPALIVE`) | bool | SOL_SOCKET / SO_KEEPALIVE |
//! | `reuseaddr` | bool | SOL_SOCKET / SO_REUSEADDR |
//! | `reuseport` | bool | SOL_SOCKET / SO_REUSEPORT |
//! | `dontroute` (`SO_DONTROUTE`) | bool | SOL_SOCKET / SO_DONTROUTE |
//! | `broadcast` (`SO_BROADCAST`) | bool | SOL_SOCKET / SO_BROADCAST |
//! | `sndbuf`, `send-buffer-size` | int | SOL_SOCKET / SO_SNDBUF |
//! | `rcvbuf`, `recv-buffer-size` | int | SOL_SOCKET / SO_RCVBUF |
//! | `linger` (`SO_LINGER`) | linger | SOL_SOCKET / SO_LINGER |
//! | `error` (get only) | int (errno, 0 = none) | SOL_SOCKET / SO_ERROR |
//! | `tcp-nodelay` | bool | IPPROTO_TCP / TCP_NODELAY |
//! | `tcp-keepidle` | int (seconds) | IPPROTO_TCP / TCP_KEEPIDLE |
//! | `tcp-keepcnt` | int | IPPROTO_TCP / TCP_KEEPCNT |
//! | `tcp-keepintvl` | int (seconds) | IPPROTO_TCP / TCP_KEEPINTVL |
//! | `ipv6-v6only` | bool | IPPROTO_IPV6 / IPV6_V6ONLY |
//! | `ip-multicast-ttl` | int | IPPROTO_IP / IP_MULTICAST_TTL |
//! | `ip-multicast-loop` | bool | IPPROTO_IP / IP_MULTICAST_LOOP |
//! | `ipv6-unicast-hops` | int | IPPROTO_IPV6 / IPV6_UNICAST_HOPS |
//! | `ipv6-multicast-hops` | int | IPPROTO_IPV6 / IPV6_MULTICAST_HOPS |
//! | `ipv6-multicast-loop` | bool | IPPROTO_IPV6 / IPV6_MULTICAST_LOOP |
//!
//! The upper-case names are LuaSocket 1.3b's. LuaSocket 3's address-valued options
//! (`ip-multicast-if`, `ip-add-membership`, `ip-drop-membership`, `ipv6-add-membership`,
//! `ipv6-drop-membership`) are not supported: their values are neither booleans nor
//! integers.
//!
//! Values: a bool option also takes `Int(0)` / `Int(1)`. `linger` takes
//! `Linger { on, secs }`, or an `Int` as LuaSocket 1.3b did: `n >= 0` turns lingering on
//! for `n` seconds, a negative value turns it off. Any other combination is refused with
//! `Invalid` and a message naming the option.

use crate::error::{Error, ErrorKind, Result};
use socket2::Socket;
use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// The value of a socket option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptValue {
    Bool(bool),
    Int(i64),
    /// SO_LINGER: whether close lingers, and for how many seconds.
    Linger {
        on: bool,
        secs: u32,
    },
}

impl OptValue {
    /// The value as one integer: a bool is 0 / 1, an int itself, a linger its seconds when
    /// on and -1 when off (the inverse of `Opt::from_int` for `linger`).
    pub fn as_int(self) -> i64 {
        match self {
            OptValue::Bool(b) => b as i64,
            OptValue::Int(n) => n,
            OptValue::Linger { on: true, secs } => secs as i64,
            OptValue::Linger { on: false, .. } => -1,
        }
    }
}

/// A known option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt {
    KeepAlive,
    ReuseAddr,
    ReusePort,
    DontRoute,
    Broadcast,
    SendBuffer,
    RecvBuffer,
    Linger,
    Error,
    TcpNoDelay,
    TcpKeepIdle,
    TcpKeepCnt,
    TcpKeepIntvl,
    Ipv6V6Only,
    IpMulticastTtl,
    IpMulticastLoop,
    Ipv6UnicastHops,
    Ipv6MulticastHops,
    Ipv6MulticastLoop,
}

/// What kind of value an option holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Linger,
}

impl Opt {
    /// The option called `name` (LuaSocket 3 names and the aliases listed above).
    /// An unknown name is `Invalid`: "unsupported option 'x'".
    pub fn parse(name: &str) -> Result<Opt> {
        Ok(match name {
            "keepalive" | "SO_KEEPALIVE" => Opt::KeepAlive,
            "reuseaddr" => Opt::ReuseAddr,
            "reuseport" => Opt::ReusePort,
            "dontroute" | "SO_DONTROUTE" => Opt::DontRoute,
            "broadcast" | "SO_BROADCAST" => Opt::Broadcast,
            "sndbuf" | "send-buffer-size" => Opt::SendBuffer,
            "rcvbuf" | "recv-buffer-size" => Opt::RecvBuffer,
            "linger" | "SO_LINGER" => Opt::Linger,
            "error" => Opt::Error,
            "tcp-nodelay" => Opt::TcpNoDelay,
            "tcp-keepidle" => Opt::TcpKeepIdle,
            "tcp-keepcnt" => Opt::TcpKeepCnt,
            "tcp-keepintvl" => Opt::TcpKeepIntvl,
            "ipv6-v6only" => Opt::Ipv6V6Only,
            "ip-multicast-ttl" => Opt::IpMulticastTtl,
            "ip-multicast-loop" => Opt::IpMulticastLoop,
            "ipv6-unicast-hops" => Opt::Ipv6UnicastHops,
            "ipv6-multicast-hops" => Opt::Ipv6MulticastHops,
            "ipv6-multicast-loop" => Opt::Ipv6MulticastLoop,
            _ => return Err(Error::invalid(format!("unsupported option '{name}'"))),
        })
    }

    /// The option's LuaSocket 3 name.
    pub fn name(self) -> &'static str {
        match self {
            Opt::KeepAlive => "keepalive",
            Opt::ReuseAddr => "reuseaddr",
            Opt::ReusePort => "reuseport",
            Opt::DontRoute => "dontroute",
            Opt::Broadcast => "broadcast",
            Opt::SendBuffer => "send-buffer-size",
            Opt::RecvBuffer => "recv-buffer-size",
            Opt::Linger => "linger",
            Opt::Error => "error",
            Opt::TcpNoDelay => "tcp-nodelay",
            Opt::TcpKeepIdle => "tcp-keepidle",
            Opt::TcpKeepCnt => "tcp-keepcnt",
            Opt::TcpKeepIntvl => "tcp-keepintvl",
            Opt::Ipv6V6Only => "ipv6-v6only",
            Opt::IpMulticastTtl => "ip-multicast-ttl",
            Opt::IpMulticastLoop => "ip-multicast-loop",
            Opt::Ipv6UnicastHops => "ipv6-unicast-hops",
            Opt::Ipv6MulticastHops => "ipv6-multicast-hops",
            Opt::Ipv6MulticastLoop => "ipv6-multicast-loop",
        }
    }

    fn kind(self) -> Kind {
        match self {
            Opt::KeepAlive
            | Opt::ReuseAddr
            | Opt::ReusePort
            | Opt::DontRoute
            | Opt::Broadcast
            | Opt::TcpNoDelay
            | Opt::Ipv6V6Only
            | Opt::IpMulticastLoop
            | Opt::Ipv6MulticastLoop => Kind::Bool,
            Opt::Linger => Kind::Linger,
            _ => Kind::Int,
        }
    }

    /// The value an integer stands for with this option: 0 / 1 for a bool option, the
    /// integer for an int option, and for `linger` on with `n` seconds (`n >= 0`) or off
    /// (`n < 0`).
    pub fn from_int(self, n: i64) -> Result<OptValue> {
        self.check(OptValue::Int(n))
    }

    /// Checks that `value` suits the option and normalises it (an `Int` for a bool option
    /// becomes a `Bool`, for `linger` a `Linger`). Refuses get-only options.
    pub fn check(self, value: OptValue) -> Result<OptValue> {
        let name = self.name();
        if self == Opt::Error {
            return Err(Error::invalid(format!("option '{name}' can only be read")));
        }
        match (self.kind(), value) {
            (Kind::Bool, OptValue::Bool(_)) => Ok(value),
            (Kind::Bool, OptValue::Int(n @ (0 | 1))) => Ok(OptValue::Bool(n == 1)),
            (Kind::Bool, OptValue::Int(n)) => Err(Error::invalid(format!(
                "option '{name}' takes a boolean (0 or 1), got {n}"
            ))),
            (Kind::Int, OptValue::Int(n)) => {
                if (0..=i32::MAX as i64).contains(&n) {
                    Ok(value)
                } else {
                    Err(Error::invalid(format!(
                        "option '{name}' takes an integer in 0..{}, got {n}",
                        i32::MAX
                    )))
                }
            }
            (Kind::Linger, OptValue::Linger { secs, .. }) => {
                if secs <= i32::MAX as u32 {
                    Ok(value)
                } else {
                    Err(Error::invalid(format!(
                        "option '{name}': {secs} seconds is too long"
                    )))
                }
            }
            (Kind::Linger, OptValue::Int(n)) if n < 0 => {
                Ok(OptValue::Linger { on: false, secs: 0 })
            }
            (Kind::Linger, OptValue::Int(n)) => match u32::try_from(n) {
                Ok(secs) if secs <= i32::MAX as u32 => Ok(OptValue::Linger { on: true, secs }),
                _ => Err(Error::invalid(format!(
                    "option '{name}': {n} seconds is too long"
                ))),
            },
            (Kind::Bool, _) => Err(Error::invalid(format!(
                "option '{name}' takes a boolean, not {}",
                describe(value)
            ))),
            (Kind::Int, _) => Err(Error::invalid(format!(
                "option '{name}' takes an integer, not {}",
                describe(value)
            ))),
            (Kind::Linger, _) => Err(Error::invalid(format!(
                "option '{name}' takes a linger value (on, seconds) or an integer, not {}",
                describe(value)
            ))),
        }
    }

    /// Sets the option on `sock`; `value` must already be checked.
    fn apply(self, sock: &Socket, value: OptValue) -> io::Result<()> {
        let b = matches!(value, OptValue::Bool(true));
        let n = value.as_int() as i32;
        match self {
            Opt::KeepAlive => sock.set_keepalive(b),
            Opt::ReuseAddr => sock.set_reuse_address(b),
            Opt::ReusePort => sock.set_reuse_port(b),
            Opt::DontRoute => set_int(sock, libc::SOL_SOCKET, libc::SO_DONTROUTE, b as i32),
            Opt::Broadcast => sock.set_broadcast(b),
            Opt::SendBuffer => sock.set_send_buffer_size(n as usize),
            Opt::RecvBuffer => sock.set_recv_buffer_size(n as usize),
            Opt::Linger => match value {
                OptValue::Linger { on: true, secs } => {
                    sock.set_linger(Some(Duration::from_secs(secs.into())))
                }
                _ => sock.set_linger(None),
            },
            Opt::Error => Err(io::Error::from_raw_os_error(libc::EINVAL)),
            Opt::TcpNoDelay => sock.set_nodelay(b),
            Opt::TcpKeepIdle => set_int(sock, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, n),
            Opt::TcpKeepCnt => set_int(sock, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, n),
            Opt::TcpKeepIntvl => set_int(sock, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, n),
            Opt::Ipv6V6Only => sock.set_only_v6(b),
            Opt::IpMulticastTtl => sock.set_multicast_ttl_v4(n as u32),
            Opt::IpMulticastLoop => sock.set_multicast_loop_v4(b),
            Opt::Ipv6UnicastHops => sock.set_unicast_hops_v6(n as u32),
            Opt::Ipv6MulticastHops => sock.set_multicast_hops_v6(n as u32),
            Opt::Ipv6MulticastLoop => sock.set_multicast_loop_v6(b),
        }
    }

    /// Reads the option from `sock`.
    fn read(self, sock: &Socket) -> io::Result<OptValue> {
        use OptValue::{Bool, Int};
        Ok(match self {
            Opt::KeepAlive => Bool(sock.keepalive()?),
            Opt::ReuseAddr => Bool(sock.reuse_address()?),
            Opt::ReusePort => Bool(sock.reuse_port()?),
            Opt::DontRoute => Bool(get_int(sock, libc::SOL_SOCKET, libc::SO_DONTROUTE)? != 0),
            Opt::Broadcast => Bool(sock.broadcast()?),
            Opt::SendBuffer => Int(sock.send_buffer_size()? as i64),
            Opt::RecvBuffer => Int(sock.recv_buffer_size()? as i64),
            Opt::Linger => match sock.linger()? {
                Some(d) => OptValue::Linger {
                    on: true,
                    secs: d.as_secs().min(u32::MAX as u64) as u32,
                },
                None => OptValue::Linger { on: false, secs: 0 },
            },
            Opt::Error => Int(get_int(sock, libc::SOL_SOCKET, libc::SO_ERROR)? as i64),
            Opt::TcpNoDelay => Bool(sock.nodelay()?),
            Opt::TcpKeepIdle => Int(get_int(sock, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE)? as i64),
            Opt::TcpKeepCnt => Int(get_int(sock, libc::IPPROTO_TCP, libc::TCP_KEEPCNT)? as i64),
            Opt::TcpKeepIntvl => Int(get_int(sock, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL)? as i64),
            Opt::Ipv6V6Only => Bool(sock.only_v6()?),
            Opt::IpMulticastTtl => Int(sock.multicast_ttl_v4()? as i64),
            Opt::IpMulticastLoop => Bool(sock.multicast_loop_v4()?),
            Opt::Ipv6UnicastHops => Int(sock.unicast_hops_v6()? as i64),
            Opt::Ipv6MulticastHops => Int(sock.multicast_hops_v6()? as i64),
            Opt::Ipv6MulticastLoop => Bool(sock.multicast_loop_v6()?),
        })
    }
}

fn describe(v: OptValue) -> &'static str {
    match v {
        OptValue::Bool(_) => "a boolean",
        OptValue::Int(_) => "an integer",
        OptValue::Linger { .. } => "a linger value",
    }
}

/// An option error: "setoption linger: ..."; ENOPROTOOPT (an option the socket's
/// protocol does not have, such as tcp-nodelay on UDP) is `Unsupported`.
fn opt_error(verb: &str, opt: Opt, e: &io::Error) -> Error {
    let what = format!("{verb} {}", opt.name());
    match e.raw_os_error() {
        Some(libc::ENOPROTOOPT) | Some(libc::EOPNOTSUPP) => Error::new(
            ErrorKind::Unsupported,
            format!("{what}: not supported by this socket"),
        ),
        _ => Error::io(&what, e),
    }
}

fn set_int(sock: &Socket, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: value is a live c_int and its size is passed along.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            &value as *const i32 as *const libc::c_void,
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn get_int(sock: &Socket, level: i32, name: i32) -> io::Result<i32> {
    let mut value: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: value and len are live and len holds value's size.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            level,
            name,
            &mut value as *mut i32 as *mut libc::c_void,
            &mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets the option called `name` on `sock`. Unknown names and values of the wrong kind
/// are `Invalid` with a message naming the option.
pub fn set_option(sock: &Socket, name: &str, value: OptValue) -> Result<()> {
    let opt = Opt::parse(name)?;
    set_opt(sock, opt, value)
}

/// Sets a parsed option (checks the value first).
pub fn set_opt(sock: &Socket, opt: Opt, value: OptValue) -> Result<()> {
    let value = opt.check(value)?;
    opt.apply(sock, value)
        .map_err(|e| opt_error("setoption", opt, &e))
}

/// Reads the option called `name` from `sock`: bool options as `Bool`, int options as
/// `Int`, `linger` as `Linger`, `error` as `Int` (the pending errno, 0 for none; reading it
/// clears it).
pub fn get_option(sock: &Socket, name: &str) -> Result<OptValue> {
    get_opt(sock, Opt::parse(name)?)
}

/// Reads a parsed option.
pub fn get_opt(sock: &Socket, opt: Opt) -> Result<OptValue> {
    opt.read(sock).map_err(|e| opt_error("getoption", opt, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Type};

    fn udp4() -> Socket {
        Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap()
    }

    #[test]
    fn bool_options_round_trip_and_accept_0_1() {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        for name in [
            "keepalive",
            "reuseaddr",
            "reuseport",
            "tcp-nodelay",
            "dontroute",
        ] {
            set_option(&s, name, OptValue::Bool(true)).unwrap();
            assert_eq!(
                get_option(&s, name).unwrap(),
                OptValue::Bool(true),
                "{name}"
            );
            set_option(&s, name, OptValue::Int(0)).unwrap();
            assert_eq!(
                get_option(&s, name).unwrap(),
                OptValue::Bool(false),
                "{name}"
            );
            set_option(&s, name, OptValue::Int(1)).unwrap();
            assert_eq!(
                get_option(&s, name).unwrap(),
                OptValue::Bool(true),
                "{name}"
            );
        }
        let u = udp4();
        set_option(&u, "SO_BROADCAST", OptValue::Bool(true)).unwrap();
        assert_eq!(get_option(&u, "broadcast").unwrap(), OptValue::Bool(true));
        set_option(&u, "ip-multicast-loop", OptValue::Bool(false)).unwrap();
        assert_eq!(
            get_option(&u, "ip-multicast-loop").unwrap(),
            OptValue::Bool(false)
        );
    }

    #[test]
    fn int_options_round_trip() {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        for (name, v) in [
            ("tcp-keepidle", 30),
            ("tcp-keepcnt", 4),
            ("tcp-keepintvl", 7),
        ] {
            set_option(&s, name, OptValue::Int(v)).unwrap();
            assert_eq!(get_option(&s, name).unwrap(), OptValue::Int(v), "{name}");
        }
        // Linux doubles buffer sizes for bookkeeping; the value read is at least the one set.
        set_option(&s, "sndbuf", OptValue::Int(65536)).unwrap();
        let OptValue::Int(n) = get_option(&s, "send-buffer-size").unwrap() else {
            panic!()
        };
        assert!(n >= 65536, "{n}");
        set_option(&s, "recv-buffer-size", OptValue::Int(32768)).unwrap();
        let OptValue::Int(n) = get_option(&s, "rcvbuf").unwrap() else {
            panic!()
        };
        assert!(n >= 32768, "{n}");
        let u = udp4();
        set_option(&u, "ip-multicast-ttl", OptValue::Int(5)).unwrap();
        assert_eq!(
            get_option(&u, "ip-multicast-ttl").unwrap(),
            OptValue::Int(5)
        );
        assert_eq!(get_option(&u, "error").unwrap(), OptValue::Int(0));
    }

    #[test]
    fn ipv6_options_round_trip() {
        let Ok(s) = Socket::new(Domain::IPV6, Type::DGRAM, None) else {
            return; // no IPv6 on this host
        };
        set_option(&s, "ipv6-v6only", OptValue::Bool(true)).unwrap();
        assert_eq!(get_option(&s, "ipv6-v6only").unwrap(), OptValue::Bool(true));
        set_option(&s, "ipv6-unicast-hops", OptValue::Int(9)).unwrap();
        assert_eq!(
            get_option(&s, "ipv6-unicast-hops").unwrap(),
            OptValue::Int(9)
        );
        set_option(&s, "ipv6-multicast-hops", OptValue::Int(3)).unwrap();
        assert_eq!(
            get_option(&s, "ipv6-multicast-hops").unwrap(),
            OptValue::Int(3)
        );
        set_option(&s, "ipv6-multicast-loop", OptValue::Int(0)).unwrap();
        assert_eq!(
            get_option(&s, "ipv6-multicast-loop").unwrap(),
            OptValue::Bool(false)
        );
    }

    #[test]
    fn linger_takes_pairs_and_integers() {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let on = OptValue::Linger { on: true, secs: 3 };
        set_option(&s, "linger", on).unwrap();
        assert_eq!(get_option(&s, "linger").unwrap(), on);
        set_option(&s, "SO_LINGER", OptValue::Int(-1)).unwrap();
        assert_eq!(
            get_option(&s, "linger").unwrap(),
            OptValue::Linger { on: false, secs: 0 }
        );
        set_option(&s, "linger", OptValue::Int(0)).unwrap();
        assert_eq!(
            get_option(&s, "linger").unwrap(),
            OptValue::Linger { on: true, secs: 0 }
        );
        assert_eq!(OptValue::Linger { on: false, secs: 9 }.as_int(), -1);
        assert_eq!(on.as_int(), 3);
    }

    #[test]
    fn bad_names_and_values_are_refused_clearly() {
        let s = udp4();
        let e = set_option(&s, "bogus", OptValue::Bool(true)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.msg, "unsupported option 'bogus'");
        let e = get_option(&s, "bogus").unwrap_err();
        assert_eq!(e.msg, "unsupported option 'bogus'");
        let e = set_option(&s, "linger", OptValue::Bool(true)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert!(e.msg.contains("'linger'"), "{}", e.msg);
        let e = set_option(&s, "broadcast", OptValue::Int(2)).unwrap_err();
        assert!(e.msg.contains("0 or 1"), "{}", e.msg);
        let e = set_option(&s, "sndbuf", OptValue::Bool(true)).unwrap_err();
        assert!(e.msg.contains("takes an integer"), "{}", e.msg);
        let e = set_option(&s, "sndbuf", OptValue::Int(-5)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        let e = set_option(&s, "keepalive", on_linger()).unwrap_err();
        assert!(e.msg.contains("boolean"), "{}", e.msg);
        let e = set_option(&s, "error", OptValue::Int(0)).unwrap_err();
        assert!(e.msg.contains("only be read"), "{}", e.msg);
        // A TCP option on a UDP socket: the kernel has no such option for it.
        let e = set_option(&s, "tcp-nodelay", OptValue::Bool(true)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported, "{e:?}");
        assert!(e.msg.starts_with("setoption tcp-nodelay: "), "{}", e.msg);
    }

    fn on_linger() -> OptValue {
        OptValue::Linger { on: true, secs: 1 }
    }
}
