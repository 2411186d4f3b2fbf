//! The error type every core module returns.
//!
//! `ErrorKind` names follow LuaSocket's error strings: `as_str` returns exactly the string
//! LuaSocket 3 would report for the same condition ("timeout", "closed",
//! "connection refused", ...). `Error` adds a message with detail for humans
//! ("connect 127.0.0.1:1: connection refused").

use std::fmt;
use std::io;

/// What went wrong, as a closed set a C caller can switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A timeout expired before the operation completed.
    Timeout,
    /// The peer closed the connection (or reset it), or the object is closed.
    Closed,
    /// A non-blocking call could not proceed without blocking (Moonbridge "block").
    WouldBlock,
    /// The peer refused the connection.
    Refused,
    /// The local address is already in use.
    AddrInUse,
    /// The socket is already connected.
    IsConn,
    /// The operating system denied permission.
    Access,
    /// A host name did not resolve.
    HostNotFound,
    /// Temporary failure in name resolution.
    DnsAgain,
    /// Non-recoverable failure in name resolution.
    DnsFail,
    /// Address family not supported.
    Family,
    /// Service not supported for the socket type.
    Service,
    /// An argument was invalid (NULL pointer, bad address, bad option, freed handle...).
    Invalid,
    /// Memory could not be allocated.
    NoMem,
    /// The peer violated the protocol.
    Protocol,
    /// The request is valid but not supported (for example an unknown URL scheme).
    Unsupported,
    /// A callback asked to stop.
    Aborted,
    /// Any other operating system error; the message carries strerror's text.
    System,
    /// A bug inside sockit (a caught panic).
    Internal,
}

impl ErrorKind {
    /// LuaSocket's string for this condition.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Closed => "closed",
            ErrorKind::WouldBlock => "block",
            ErrorKind::Refused => "connection refused",
            ErrorKind::AddrInUse => "address already in use",
            ErrorKind::IsConn => "already connected",
            ErrorKind::Access => "permission denied",
            ErrorKind::HostNotFound => "host not found",
            ErrorKind::DnsAgain => "temporary failure in name resolution",
            ErrorKind::DnsFail => "non-recoverable failure in name resolution",
            ErrorKind::Family => "ai_family not supported",
            ErrorKind::Service => "service not supported for socket type",
            ErrorKind::Invalid => "invalid argument",
            ErrorKind::NoMem => "memory allocation failure",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Aborted => "aborted",
            ErrorKind::System => "system error",
            ErrorKind::Internal => "internal error",
        }
    }

    /// The kind LuaSocket reports for an errno value.
    pub fn from_errno(errno: i32) -> ErrorKind {
        match errno {
            libc::ETIMEDOUT | libc::EAGAIN => ErrorKind::Timeout,
            libc::ECONNRESET | libc::ECONNABORTED | libc::EPIPE | libc::ENOTCONN => {
                ErrorKind::Closed
            }
            libc::ECONNREFUSED => ErrorKind::Refused,
            libc::EADDRINUSE => ErrorKind::AddrInUse,
            libc::EISCONN => ErrorKind::IsConn,
            libc::EACCES | libc::EPERM => ErrorKind::Access,
            libc::EAFNOSUPPORT => ErrorKind::Family,
            libc::EINVAL | libc::EBADF | libc::ENOTSOCK => ErrorKind::Invalid,
            libc::ENOMEM | libc::ENOBUFS => ErrorKind::NoMem,
            _ => ErrorKind::System,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error: a kind plus a message with detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub msg: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind` with a detailed message.
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Error {
        Error {
            kind,
            msg: msg.into(),
        }
    }

    /// An error whose message is just the kind's string.
    pub fn kind(kind: ErrorKind) -> Error {
        Error::new(kind, kind.as_str())
    }

    /// `SOCKIT_INVALID` with a message.
    pub fn invalid(msg: impl Into<String>) -> Error {
        Error::new(ErrorKind::Invalid, msg)
    }

    /// An operating system error during `what` (for example "connect 127.0.0.1:80").
    /// The message reads "what: <LuaSocket string>" for known kinds, or
    /// "what: <strerror text>" for the rest.
    pub fn io(what: &str, e: &io::Error) -> Error {
        let kind = match e.raw_os_error() {
            Some(n) => ErrorKind::from_errno(n),
            None => match e.kind() {
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ErrorKind::Timeout,
                io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::BrokenPipe => ErrorKind::Closed,
                io::ErrorKind::InvalidInput => ErrorKind::Invalid,
                _ => ErrorKind::System,
            },
        };
        let text = if kind == ErrorKind::System {
            e.to_string()
        } else {
            kind.as_str().to_string()
        };
        if what.is_empty() {
            Error::new(kind, text)
        } else {
            Error::new(kind, format!("{what}: {text}"))
        }
    }

    /// An error from a raw errno value.
    pub fn errno(what: &str, errno: i32) -> Error {
        Error::io(what, &io::Error::from_raw_os_error(errno))
    }

    /// The same error with `prefix: ` put before its message.
    pub fn context(mut self, prefix: &str) -> Error {
        self.msg = format!("{prefix}: {}", self.msg);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_maps_to_luasocket_strings() {
        let e = Error::errno("connect 127.0.0.1:1", libc::ECONNREFUSED);
        assert_eq!(e.kind, ErrorKind::Refused);
        assert_eq!(e.msg, "connect 127.0.0.1:1: connection refused");
        assert_eq!(Error::errno("", libc::ECONNRESET).kind.as_str(), "closed");
        let other = Error::errno("x", libc::EROFS);
        assert_eq!(other.kind, ErrorKind::System);
        assert!(other.msg.starts_with("x: "), "{}", other.msg);
        assert!(
            other.msg.to_lowercase().contains("read-only"),
            "{}",
            other.msg
        );
    }
}
