//! Message channels between processes that can carry a descriptor: a Unix
//! SOCK_SEQPACKET socket pair (each send is one message, read whole by one receive), with
//! SCM_RIGHTS for the descriptor. The prefork server's master hands accepted connections
//! to its workers this way.

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A connected pair of close-on-exec SOCK_SEQPACKET Unix sockets (blocking).
pub fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: socketpair made both; each is owned once.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Room for one descriptor's control message, aligned for cmsghdr.
#[repr(C)]
union CmsgSpace {
    _align: libc::cmsghdr,
    _buf: [u8; 64],
}

/// Sends `data` as one message on `fd`, with `pass` attached when given. EINTR is
/// retried; a peer that has gone gives EPIPE (never SIGPIPE).
pub fn send(fd: RawFd, data: &[u8], pass: Option<RawFd>) -> io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: a zeroed msghdr / control buffer are valid to fill in.
    let mut msg: libc::msghdr = unsafe { MaybeUninit::zeroed().assume_init() };
    let mut space: CmsgSpace = unsafe { MaybeUninit::zeroed().assume_init() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if let Some(pfd) = pass {
        // SAFETY: CMSG_SPACE/LEN are pure; the buffer is large enough for one int, and
        // CMSG_FIRSTHDR of a msghdr with a control buffer that large is non-null.
        unsafe {
            let space_len = libc::CMSG_SPACE(size_of::<RawFd>() as u32) as usize;
            msg.msg_control = (&mut space as *mut CmsgSpace).cast();
            msg.msg_controllen = space_len as _;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(size_of::<RawFd>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut RawFd, pfd);
        }
    }
    loop {
        // SAFETY: msg points at valid iovec and control data for the call.
        let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// One received message: its length in `buf` and the descriptor it carried, if any.
/// A length of 0 means the peer closed the channel.
pub struct Received {
    pub len: usize,
    pub fd: Option<OwnedFd>,
}

/// Receives one message into `buf` (blocking unless `fd` is non-blocking). EINTR is
/// returned to the caller as an error of kind `Interrupted`, so it can look at flags set
/// by signal handlers. Descriptors arrive close-on-exec; any beyond the first are closed.
pub fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<Received> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: zeroed msghdr / control buffer are valid to fill in.
    let mut msg: libc::msghdr = unsafe { MaybeUninit::zeroed().assume_init() };
    let mut space: CmsgSpace = unsafe { MaybeUninit::zeroed().assume_init() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = (&mut space as *mut CmsgSpace).cast();
    msg.msg_controllen = size_of::<CmsgSpace>() as _;
    // SAFETY: msg points at valid buffers for the call.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut got: Option<OwnedFd> = None;
    // SAFETY: walking the control messages the kernel wrote into our buffer.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(c) as *const RawFd;
                let header = libc::CMSG_LEN(0) as usize;
                let count = ((*c).cmsg_len as usize).saturating_sub(header) / size_of::<RawFd>();
                for i in 0..count {
                    let raw = std::ptr::read_unaligned(data.add(i));
                    let owned = OwnedFd::from_raw_fd(raw);
                    if got.is_none() {
                        got = Some(owned);
                    } // else: dropped, i.e. closed
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok(Received {
        len: n as usize,
        fd: got,
    })
}

/// Sets or clears O_NONBLOCK on `fd`.
pub fn set_nonblocking(fd: &impl AsRawFd, on: bool) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(raw, libc::F_GETFL);
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        let new = if on {
            flags | libc::O_NONBLOCK
        } else {
            flags & !libc::O_NONBLOCK
        };
        if libc::fcntl(raw, libc::F_SETFL, new) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    #[test]
    fn messages_keep_their_bounds_and_carry_a_descriptor() {
        let (a, b) = seqpacket_pair().unwrap();
        let (mut x, mut y) = UnixStream::pair().unwrap();
        send(a.as_raw_fd(), b"C\x01\0\0\0", Some(x.as_raw_fd())).unwrap();
        send(a.as_raw_fd(), b"I", None).unwrap();
        let mut buf = [0u8; 16];
        let r = recv(b.as_raw_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..r.len], b"C\x01\0\0\0");
        let passed = r.fd.expect("a descriptor");
        assert_ne!(passed.as_raw_fd(), x.as_raw_fd());
        // The passed descriptor is the same socket: writing to it reaches y.
        let mut passed = UnixStream::from(passed);
        passed.write_all(b"hi").unwrap();
        let mut two = [0u8; 2];
        y.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"hi");
        x.write_all(b"!").unwrap();
        let r = recv(b.as_raw_fd(), &mut buf).unwrap();
        assert_eq!((&buf[..r.len], r.fd.is_none()), (&b"I"[..], true));
        drop(a);
        assert_eq!(recv(b.as_raw_fd(), &mut buf).unwrap().len, 0, "end of file");
        set_nonblocking(&b, true).unwrap();
        set_nonblocking(&b, false).unwrap();
    }
}
