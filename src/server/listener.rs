//! A pool's listeners: TCP (IPv4 or IPv6), local (Unix-domain) sockets, and interval
//! timers. Socket listeners are bound when they are made, so a bad address or a port in
//! use is reported to whoever asked for it, before any worker exists.

use crate::error::{Error, Result};
use crate::io::stream::StreamKind;
use crate::net::socket::{AddrFamily, Address, Socket};
use crate::net::{tcp, unix};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Moonbridge's listen backlog.
pub const BACKLOG: i32 = 1024;

/// What a listener waits for.
pub(crate) enum Endpoint {
    /// A listening TCP or Unix socket (a `Socket` in the server state).
    Socket(Socket),
    /// A timer: the connect handler runs every `delay`.
    Interval {
        name: String,
        delay: Duration,
        /// Runs keep to a fixed rhythm (the handler's run time does not delay the next).
        strict: bool,
    },
    /// A socket listener after the master closed it (shutdown).
    Closed,
}

/// One listener of a pool.
pub struct Listener {
    pub(crate) endpoint: Endpoint,
    /// For socket listeners: what accepted connections are.
    pub(crate) kind: StreamKind,
    pub(crate) family: AddrFamily,
    /// A local socket's path, unlinked when the server ends.
    pub(crate) path: Option<PathBuf>,
    description: String,
    port: u16,
}

impl Listener {
    /// A TCP listener on `host` ("127.0.0.1", "::1", "0.0.0.0", "::", or a name) and
    /// `port` (0: the system picks one; `port()` tells which).
    pub fn tcp(host: &str, port: u16) -> Result<Listener> {
        let sock = tcp::listen(host, port, BACKLOG).map_err(|e| {
            Error::new(
                e.kind,
                format!("listen on TCP {host} port {port}: {}", e.msg),
            )
        })?;
        let (desc, port, family) = match sock.sockname()? {
            Address::Ip(a) => (
                format!("TCP {} port {}", a.ip(), a.port()),
                a.port(),
                AddrFamily::of(&a),
            ),
            other => (format!("TCP {}", other.text()), 0, AddrFamily::Inet),
        };
        Ok(Listener {
            endpoint: Endpoint::Socket(sock),
            kind: StreamKind::Tcp,
            family,
            path: None,
            description: desc,
            port,
        })
    }

    /// A local (Unix-domain stream) listener at `path`. A stale socket file there is
    /// replaced; any other kind of file makes this fail (`AddrInUse`).
    pub fn local(path: &Path) -> Result<Listener> {
        let sock = unix::listen(path, BACKLOG)?;
        Ok(Listener {
            endpoint: Endpoint::Socket(sock),
            kind: StreamKind::Unix,
            family: AddrFamily::Unix,
            path: Some(path.to_path_buf()),
            description: format!("local socket {}", path.display()),
            port: 0,
        })
    }

    /// An interval listener: the connect handler is called every `delay` seconds
    /// (positive) with the interval's `name`. With `strict`, the next run is due `delay`
    /// after the previous one was due, however long it ran; otherwise `delay` after it
    /// ended.
    pub fn interval(name: &str, delay: f64, strict: bool) -> Result<Listener> {
        if !(delay.is_finite() && delay > 0.0 && delay <= 100_000_000.0) {
            return Err(Error::invalid(format!(
                "interval \"{name}\": delay must be a positive number of seconds, not {delay}"
            )));
        }
        Ok(Listener {
            endpoint: Endpoint::Interval {
                name: name.to_string(),
                delay: Duration::from_secs_f64(delay),
                strict,
            },
            kind: StreamKind::Tcp,
            family: AddrFamily::Inet,
            path: None,
            description: format!(
                "interval \"{name}\" every {delay} s{}",
                if strict { " (strict)" } else { "" }
            ),
            port: 0,
        })
    }

    /// "TCP 127.0.0.1 port 8080", "local socket /run/app.sock", "interval \"tick\" every 1 s".
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// The bound TCP port (0 for other listeners).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The interval's name, for interval listeners.
    pub fn interval_name(&self) -> Option<&str> {
        match &self.endpoint {
            Endpoint::Interval { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The listening socket's descriptor (None for intervals and closed listeners).
    pub(crate) fn fd(&self) -> Option<std::os::fd::RawFd> {
        match &self.endpoint {
            Endpoint::Socket(s) => s.fd(),
            _ => None,
        }
    }

    /// Closes a socket listener (the master stops accepting); intervals are unchanged.
    pub(crate) fn close(&mut self) {
        if matches!(self.endpoint, Endpoint::Socket(_)) {
            self.endpoint = Endpoint::Closed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::unix::testdir::TempDir;

    #[test]
    fn tcp_port_zero_is_reported_and_a_used_port_fails() {
        let l = Listener::tcp("127.0.0.1", 0).unwrap();
        assert!(l.port() > 0);
        assert_eq!(l.describe(), format!("TCP 127.0.0.1 port {}", l.port()));
        let e = Listener::tcp("127.0.0.1", l.port())
            .err()
            .expect("the port is taken");
        assert!(
            e.msg.contains("address already in use") || e.msg.contains("in use"),
            "{}",
            e.msg
        );
        assert!(
            e.msg.starts_with("listen on TCP 127.0.0.1 port"),
            "{}",
            e.msg
        );
        let l6 = Listener::tcp("::1", 0);
        if let Ok(l6) = l6 {
            assert_eq!(l6.family, AddrFamily::Inet6);
            assert!(l6.describe().starts_with("TCP ::1 port "));
        }
        assert!(Listener::tcp("256.1.1.1", 0).is_err());
    }

    #[test]
    fn local_replaces_a_stale_socket_but_no_other_file() {
        let dir = TempDir::new();
        let p = dir.path("s");
        let first = Listener::local(&p).unwrap();
        drop(first); // the file stays: a stale socket
        assert!(p.exists());
        let second = Listener::local(&p).unwrap();
        assert_eq!(second.describe(), format!("local socket {}", p.display()));
        let f = dir.path("plain");
        std::fs::write(&f, b"keep me").unwrap();
        assert!(Listener::local(&f).is_err(), "a plain file is not replaced");
        assert_eq!(std::fs::read(&f).unwrap(), b"keep me");
    }

    #[test]
    fn intervals_need_a_positive_delay() {
        assert!(Listener::interval("t", 0.0, false).is_err());
        assert!(Listener::interval("t", -1.0, false).is_err());
        assert!(Listener::interval("t", f64::INFINITY, false).is_err());
        let l = Listener::interval("tick", 0.5, true).unwrap();
        assert_eq!(l.interval_name(), Some("tick"));
        assert_eq!(l.describe(), "interval \"tick\" every 0.5 s (strict)");
        assert!(l.fd().is_none());
    }
}
