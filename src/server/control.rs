//! The control channel between the master and one worker: a SOCK_SEQPACKET pair, one
//! message per send.
//!
//! Worker to master: `I` (idle: ready for a connection), `B` (goodbye: about to run
//! finish and exit). Master to worker: `C` + listener index (4 bytes, little endian),
//! with the accepted connection attached for socket listeners; `T` (terminate).

use crate::sys::fdpass;
use std::io;
use std::os::fd::{OwnedFd, RawFd};

/// A message to a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    Connect { listener: usize },
    Terminate,
}

/// A message to the master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Idle,
    Goodbye,
}

/// Sends a connect command (with the connection for socket listeners).
pub(crate) fn send_connect(ctl: RawFd, listener: usize, conn: Option<RawFd>) -> io::Result<()> {
    let mut msg = [b'C', 0, 0, 0, 0];
    msg[1..].copy_from_slice(&(listener as u32).to_le_bytes());
    fdpass::send(ctl, &msg, conn)
}

/// Tells a worker to end.
pub(crate) fn send_terminate(ctl: RawFd) -> io::Result<()> {
    fdpass::send(ctl, b"T", None)
}

/// Tells the master how the worker is.
pub(crate) fn send_status(ctl: RawFd, s: Status) -> io::Result<()> {
    fdpass::send(
        ctl,
        match s {
            Status::Idle => b"I",
            Status::Goodbye => b"B",
        },
        None,
    )
}

fn malformed(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("control channel: {what}"),
    )
}

/// Receives a command; `Ok(None)` when the master has gone (end of file). EINTR comes
/// back as `Interrupted`.
pub(crate) fn recv_command(ctl: RawFd) -> io::Result<Option<(Command, Option<OwnedFd>)>> {
    let mut buf = [0u8; 8];
    let r = fdpass::recv(ctl, &mut buf)?;
    match &buf[..r.len] {
        [] => Ok(None),
        [b'T'] => Ok(Some((Command::Terminate, r.fd))),
        [b'C', a, b, c, d] => Ok(Some((
            Command::Connect {
                listener: u32::from_le_bytes([*a, *b, *c, *d]) as usize,
            },
            r.fd,
        ))),
        _ => Err(malformed("unexpected message from the master")),
    }
}

/// Receives a status (the master's channel end is non-blocking): `Ok(None)` at end of
/// file, `WouldBlock` when no message is waiting.
pub(crate) fn recv_status(ctl: RawFd) -> io::Result<Option<Status>> {
    let mut buf = [0u8; 8];
    let r = fdpass::recv(ctl, &mut buf)?;
    // A worker never sends descriptors; one that came anyway is closed with r.
    match &buf[..r.len] {
        [] => Ok(None),
        [b'I'] => Ok(Some(Status::Idle)),
        [b'B'] => Ok(Some(Status::Goodbye)),
        _ => Err(malformed("unexpected message from a worker")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn commands_and_statuses_round_trip() {
        let (m, w) = fdpass::seqpacket_pair().unwrap();
        let (x, _y) = std::os::unix::net::UnixStream::pair().unwrap();
        send_connect(m.as_raw_fd(), 3, Some(x.as_raw_fd())).unwrap();
        send_connect(m.as_raw_fd(), 70000, None).unwrap();
        send_terminate(m.as_raw_fd()).unwrap();
        let (c, fd) = recv_command(w.as_raw_fd()).unwrap().unwrap();
        assert_eq!((c, fd.is_some()), (Command::Connect { listener: 3 }, true));
        let (c, fd) = recv_command(w.as_raw_fd()).unwrap().unwrap();
        assert_eq!(
            (c, fd.is_some()),
            (Command::Connect { listener: 70000 }, false)
        );
        assert_eq!(
            recv_command(w.as_raw_fd()).unwrap().unwrap().0,
            Command::Terminate
        );
        send_status(w.as_raw_fd(), Status::Idle).unwrap();
        send_status(w.as_raw_fd(), Status::Goodbye).unwrap();
        fdpass::send(w.as_raw_fd(), b"??", None).unwrap();
        assert_eq!(recv_status(m.as_raw_fd()).unwrap(), Some(Status::Idle));
        assert_eq!(recv_status(m.as_raw_fd()).unwrap(), Some(Status::Goodbye));
        assert!(recv_status(m.as_raw_fd()).is_err());
        drop(w);
        assert_eq!(recv_status(m.as_raw_fd()).unwrap(), None);
    }
}
