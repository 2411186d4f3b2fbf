//! A worker process's life: prepare, then one connection after another, then finish.
//! It never returns: it exits with 0 after a normal end, 1 after a failure.

use super::control::{self, Command, Status};
use super::listener::Endpoint;
use super::log::Log;
use super::{timer, Conn, Handlers, Outcome, Pool};
use crate::io::stream::{Stream, StreamKind};
use crate::net::socket::Socket;
use crate::sys::{process, signal};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// Runs the worker for `pool` (number `pool_no`, 1-based) over the control channel `ctl`;
/// `master` is the master's pid.
pub(super) fn run(
    pool: &mut Pool,
    pool_no: usize,
    ctl: OwnedFd,
    log: &mut Log,
    master: process::Pid,
) -> ! {
    signal::enter_worker();
    process::set_parent_death_signal(libc::SIGKILL);
    if process::getppid() != master {
        // The master ended between fork and here: the death signal came too late.
        process::exit(1);
    }
    log.enter_worker(pool_no, process::getpid());
    let Some(mut handlers) = pool.handlers.take() else {
        log.error("no connect handler");
        process::exit(1);
    };
    let memory_limit = pool.config.resolve().ok().and_then(|p| p.memory_limit);

    let prepared = handlers.prepare();
    timer::reset();
    if let Err(msg) = prepared {
        log.error(&format!("prepare handler failed: {msg}"));
        process::exit(1);
    }
    let fd = ctl.as_raw_fd();
    loop {
        timer::reset();
        if signal::worker_terminating() {
            log.debug("SIGTERM: ending");
            break;
        }
        if let Err(e) = control::send_status(fd, Status::Idle) {
            log.error(&format!("cannot reach the master: {e}"));
            process::exit(1);
        }
        let (cmd, conn_fd) = match receive(fd) {
            Ok(Some(m)) => m,
            Ok(None) => {
                // The master has gone; nothing more will come.
                process::exit(1);
            }
            Err(e) => {
                log.error(&format!("control channel: {e}"));
                process::exit(1);
            }
        };
        let listener = match cmd {
            Command::Terminate => break,
            Command::Connect { listener } => listener,
        };
        let outcome = match serve(pool, listener, conn_fd, handlers.as_mut()) {
            Ok(o) => o,
            Err(msg) => {
                log.error(&msg);
                process::exit(1);
            }
        };
        timer::reset();
        match outcome {
            Outcome::Continue => {}
            Outcome::Stop => break,
            Outcome::Fail(msg) => {
                log.error(&format!("connect handler failed: {msg}"));
                process::exit(1);
            }
        }
        if let (Some(limit), Some(rss)) = (memory_limit, process::resident_bytes()) {
            if rss > limit {
                log.notice(&format!(
                    "resident memory {rss} bytes is past memory_limit {limit}: ending"
                ));
                break;
            }
        }
    }
    let _ = control::send_status(fd, Status::Goodbye);
    drop(ctl);
    if let Err(msg) = handlers.finish() {
        log.error(&format!("finish handler failed: {msg}"));
        process::exit(1);
    }
    process::exit(0)
}

/// Waits for the master's next command; a signal (EINTR) does not stop the wait: the
/// master sends `T` when it shuts down.
fn receive(fd: i32) -> io::Result<Option<(Command, Option<OwnedFd>)>> {
    loop {
        match control::recv_command(fd) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

/// Calls the connect handler for listener `index` with the connection `conn_fd`.
fn serve(
    pool: &Pool,
    index: usize,
    conn_fd: Option<OwnedFd>,
    handlers: &mut dyn Handlers,
) -> Result<Outcome, String> {
    let l = pool
        .listeners
        .get(index)
        .ok_or_else(|| format!("the master named listener {index}, which does not exist"))?;
    match (&l.endpoint, conn_fd) {
        (Endpoint::Interval { name, .. }, None) => Ok(handlers.connect(Conn::Interval(name))),
        (Endpoint::Interval { .. }, Some(_)) => {
            Err("the master sent a connection for an interval".into())
        }
        (_, Some(fd)) => {
            let sock = socket2::Socket::from(fd);
            if l.kind == StreamKind::Tcp {
                // Responses are written whole from the write buffer: Nagle only delays.
                let _ = sock.set_nodelay(true);
            }
            let stream = Stream::new(sock, l.kind).map_err(|e| e.msg)?;
            Ok(handlers.connect(Conn::Socket(Socket::client(stream, l.family))))
        }
        (_, None) => Err("the master sent no connection for a socket listener".into()),
    }
}
