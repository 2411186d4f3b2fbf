//! Unix-domain stream sockets (Moonbridge's "local sockets", LuaSocket's `socket.unix`):
//! connecting, listening, and the stale-socket-file rule of Moonbridge's `locallisten`.

use crate::error::{Error, ErrorKind, Result};
use crate::io::stream::{Stream, StreamKind};
use crate::io::timeout::Deadline;
use crate::net::socket::{AddrFamily, Socket};
use crate::net::tcp::new_socket;
use socket2::{Domain, SockAddr};
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// The longest path a Unix socket address holds (sun_path less its NUL).
pub const MAX_PATH: usize = 107;

/// A new non-blocking, close-on-exec Unix stream socket.
pub(crate) fn new_unix_socket() -> Result<socket2::Socket> {
    new_socket(Domain::UNIX)
}

/// The socket address of `path`; an empty or too long path is `Invalid`.
pub(crate) fn unix_addr(path: &Path) -> Result<SockAddr> {
    let len = path.as_os_str().len();
    if len == 0 {
        return Err(Error::invalid("unix socket path is empty"));
    }
    if len > MAX_PATH {
        return Err(Error::invalid(format!(
            "unix socket path {} is {len} bytes long; at most {MAX_PATH} fit",
            path.display()
        )));
    }
    SockAddr::unix(path).map_err(|e| Error::io(&format!("{}", path.display()), &e))
}

/// Connects `sock` to the socket at `path`, waiting within `deadline` while the
/// listener's queue is full. A Unix connect never stays "in progress": it succeeds, fails,
/// or finds the queue full (EAGAIN), in which case the wait is done by a blocking connect
/// bounded with SO_SNDTIMEO; the socket is non-blocking again afterwards.
pub(crate) fn connect_sock(
    sock: &socket2::Socket,
    path: &Path,
    deadline: &Deadline,
    op: &str,
) -> Result<()> {
    let addr = unix_addr(path)?;
    let what = format!("{op} {}", path.display());
    match sock.connect(&addr) {
        Ok(()) => return Ok(()),
        Err(e) if is_again(&e) => {}
        Err(e) => return Err(Error::io(&what, &e)),
    }
    let timed_out = || Error::new(ErrorKind::Timeout, format!("{what}: timeout"));
    if deadline.next_wait_ms() == 0 {
        return Err(timed_out());
    }
    let set_mode = |blocking: bool| {
        sock.set_nonblocking(!blocking)
            .map_err(|e| Error::io("fcntl O_NONBLOCK", &e))
    };
    set_mode(true)?;
    let result = loop {
        let wait = deadline.next_wait();
        if wait.is_some_and(|w| w.is_zero()) {
            break Err(timed_out());
        }
        // SO_SNDTIMEO of None (0) waits forever, as the deadline does.
        if let Err(e) = sock.set_write_timeout(wait) {
            break Err(Error::io("setsockopt SO_SNDTIMEO", &e));
        }
        match sock.connect(&addr) {
            Ok(()) => break Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) if is_again(&e) => break Err(timed_out()),
            Err(e) => break Err(Error::io(&what, &e)),
        }
    };
    let _ = sock.set_write_timeout(None);
    set_mode(false)?;
    result
}

fn is_again(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EAGAIN) | Some(libc::EINPROGRESS)
    )
}

/// Moonbridge's `localconnect(path)`: a client connected to the Unix socket at `path`,
/// waiting as long as `deadline` allows while the listener's queue is full.
pub fn connect(path: &Path, deadline: &Deadline) -> Result<Socket> {
    let sock = new_unix_socket()?;
    connect_sock(&sock, path, deadline, "localconnect")?;
    Ok(Socket::client(
        Stream::new(sock, StreamKind::Unix)?,
        AddrFamily::Unix,
    ))
}

/// Moonbridge's `localconnect_nb(path)`: connects without waiting. A Unix connect
/// completes at once, so errors show here: a full listen queue is `WouldBlock`.
pub fn connect_nb(path: &Path) -> Result<Socket> {
    let sock = new_unix_socket()?;
    let addr = unix_addr(path)?;
    let what = format!("localconnect {}", path.display());
    match sock.connect(&addr) {
        Ok(()) => Ok(Socket::client(
            Stream::new(sock, StreamKind::Unix)?,
            AddrFamily::Unix,
        )),
        Err(e) if is_again(&e) => Err(Error::new(
            ErrorKind::WouldBlock,
            format!("{what}: the listen queue is full"),
        )),
        Err(e) => Err(Error::io(&what, &e)),
    }
}

/// Removes `path` if it is a socket (a stale one from an earlier listener); leaves every
/// other kind of file alone and reports it as `AddrInUse`. A missing file is fine.
pub fn remove_stale_socket(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path)
            .map_err(|e| Error::io(&format!("remove stale socket {}", path.display()), &e)),
        Ok(_) => Err(Error::new(
            ErrorKind::AddrInUse,
            format!(
                "locallisten {}: address already in use (a file that is not a socket is there)",
                path.display()
            ),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(&format!("locallisten {}", path.display()), &e)),
    }
}

/// Binds `sock` to `path` (which must not exist) and listens.
pub(crate) fn bind_listen(sock: &socket2::Socket, path: &Path, backlog: i32) -> Result<()> {
    let addr = unix_addr(path)?;
    sock.bind(&addr)
        .map_err(|e| Error::io(&format!("bind {}", path.display()), &e))?;
    sock.listen(backlog)
        .map_err(|e| Error::io(&format!("listen {}", path.display()), &e))
}

/// Moonbridge's `locallisten(path)`: a listening Unix socket at `path`. An existing file
/// there is deleted first only when it is a socket; any other file makes this fail with
/// `AddrInUse`. Closing the listener never unlinks the file. A negative backlog means the
/// default, 32.
pub fn listen(path: &Path, backlog: i32) -> Result<Socket> {
    unix_addr(path)?;
    remove_stale_socket(path)?;
    let sock = new_unix_socket()?;
    let backlog = if backlog < 0 {
        crate::net::tcp::DEFAULT_BACKLOG
    } else {
        backlog
    };
    bind_listen(&sock, path, backlog)?;
    Ok(Socket::server(sock, AddrFamily::Unix))
}

/// For the tests of the Unix socket modules.
#[cfg(test)]
pub(crate) mod testdir {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh empty directory under the system's temporary directory, removed on drop.
    pub(crate) struct TempDir(pub(crate) PathBuf);

    impl TempDir {
        pub(crate) fn new() -> TempDir {
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "sockit-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir(&p).unwrap();
            TempDir(p)
        }

        pub(crate) fn path(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testdir::TempDir;
    use super::*;
    use crate::io::stream::LineMode;
    use crate::io::stream::{Pattern, Wait};
    use crate::net::socket::{AddrFamily, State};

    #[test]
    fn listen_connect_accept_and_talk() {
        let dir = TempDir::new();
        let path = dir.path("s");
        let mut l = listen(&path, -1).unwrap();
        assert_eq!(l.state(), State::Server);
        assert_eq!(l.family(), Some(AddrFamily::Unix));
        assert_eq!(l.sockname().unwrap().text(), path.to_str().unwrap());
        let mut c = connect(&path, &Deadline::forever()).unwrap();
        let mut a = l.accept().unwrap();
        assert_eq!(c.peername().unwrap().text(), path.to_str().unwrap());
        assert_eq!(c.sockname().unwrap().text(), "");
        assert_eq!(a.sockname().unwrap().port(), 0);
        c.stream().unwrap().send(b"line\r\n").1.unwrap();
        let mut out = Vec::new();
        a.stream()
            .unwrap()
            .receive(Pattern::Line(LineMode::StripAllCr), &mut out)
            .unwrap();
        assert_eq!(out, b"line");
        // connect_nb completes at once for Unix sockets.
        let mut d = connect_nb(&path).unwrap();
        let mut b = l.accept_nb().unwrap();
        d.stream().unwrap().write(b"x", Wait::Timeout).unwrap();
        d.stream().unwrap().flush(Wait::Timeout).unwrap();
        out.clear();
        b.stream()
            .unwrap()
            .receive(Pattern::Count(1), &mut out)
            .unwrap();
        assert_eq!(out, b"x");
        // Closing the listener leaves the file.
        l.close().unwrap();
        assert!(path.exists());
    }

    #[test]
    fn stale_socket_files_are_replaced_but_other_files_are_not() {
        let dir = TempDir::new();
        let path = dir.path("stale");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(
            path.exists(),
            "a stale socket file stays after its listener"
        );
        let mut l = listen(&path, 4).unwrap();
        let _c = connect(&path, &Deadline::forever()).unwrap();
        assert!(l.accept().is_ok());

        let file = dir.path("regular");
        std::fs::write(&file, b"keep me").unwrap();
        let e = listen(&file, 4).unwrap_err();
        assert_eq!(e.kind, ErrorKind::AddrInUse);
        assert!(e.msg.contains("not a socket"), "{}", e.msg);
        assert_eq!(std::fs::read(&file).unwrap(), b"keep me");

        let sub = dir.path("directory");
        std::fs::create_dir(&sub).unwrap();
        assert_eq!(listen(&sub, 4).unwrap_err().kind, ErrorKind::AddrInUse);
        assert!(sub.is_dir());

        let link = dir.path("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(listen(&link, 4).unwrap_err().kind, ErrorKind::AddrInUse);
        assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
    }

    #[test]
    fn bad_paths_and_missing_listeners() {
        let dir = TempDir::new();
        let long = dir.path(&"x".repeat(120));
        assert_eq!(listen(&long, 1).unwrap_err().kind, ErrorKind::Invalid);
        assert_eq!(
            connect(&long, &Deadline::forever()).unwrap_err().kind,
            ErrorKind::Invalid
        );
        assert_eq!(
            connect(Path::new(""), &Deadline::forever())
                .unwrap_err()
                .kind,
            ErrorKind::Invalid
        );
        let missing = dir.path("missing");
        let e = connect(&missing, &Deadline::forever()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::System);
        assert!(e.msg.starts_with("localconnect "), "{}", e.msg);
        assert!(e.msg.contains("missing"), "{}", e.msg);
        assert!(connect_nb(&missing).is_err());
        // A socket file nobody listens on.
        let stale = dir.path("stale");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        assert_eq!(
            connect(&stale, &Deadline::forever()).unwrap_err().kind,
            ErrorKind::Refused
        );
    }

    #[test]
    fn full_listen_queue_times_out_and_nb_would_block() {
        let dir = TempDir::new();
        let path = dir.path("q");
        let _l = listen(&path, 0).unwrap();
        // Fill the queue (backlog 0 admits one or two); bounded attempts.
        let mut held = Vec::new();
        let mut blocked = None;
        for _ in 0..64 {
            match connect_nb(&path) {
                Ok(s) => held.push(s),
                Err(e) => {
                    blocked = Some(e);
                    break;
                }
            }
        }
        let e = blocked.expect("the queue filled up");
        assert_eq!(e.kind, ErrorKind::WouldBlock);
        let t = std::time::Instant::now();
        let e = connect(&path, &Deadline::after_secs(0.1)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout, "{e:?}");
        assert!(t.elapsed() >= std::time::Duration::from_millis(80));
        assert!(t.elapsed() < std::time::Duration::from_secs(3));
    }

    #[test]
    fn unix_master_binds_listens_and_connects() {
        let dir = TempDir::new();
        let path = dir.path("m");
        let mut m = Socket::unix().unwrap();
        m.bind_path(&path).unwrap();
        m.listen(-1).unwrap();
        let mut c = Socket::unix().unwrap();
        assert_eq!(c.bind("127.0.0.1", 0).unwrap_err().kind, ErrorKind::Invalid);
        c.connect_path(&path).unwrap();
        assert_eq!(c.state(), State::Client);
        let _a = m.accept().unwrap();
        // Binding to an existing path fails (the master does not remove anything).
        let mut again = Socket::unix().unwrap();
        assert_eq!(
            again.bind_path(&path).unwrap_err().kind,
            ErrorKind::AddrInUse
        );
    }
}
