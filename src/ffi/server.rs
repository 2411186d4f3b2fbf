//! C API of the prefork server (`crate::server`): `sockit_server` (the master: pools, log,
//! run) and `sockit_server_pool` (listeners, parameters, handlers), plus the worker's
//! `timeout` calls. This is Moonbridge's process model for any host: sockit-moonbridge's
//! `listen{...}` is glue over these calls.
//!
//! A host makes pools, gives each its listeners (bound at once: errors come back here),
//! parameters and handlers, adds them to a server and calls `sockit_server_run`, which
//! forks the workers. In a worker the handlers run: `prepare` once, `connect` for each
//! connection or interval, `finish` at the end; the worker process then exits (exit(3)),
//! so `sockit_server_run` returns only in the master, once the server has stopped
//! (SIGTERM: gracefully; SIGINT, SIGHUP: at once) and every worker has been reaped.
//! `sockit_server_run` forks: call it from a single-threaded process.

use super::boundary::{guard, handle_out, out_arg, put, str_arg};
use super::handle::{impl_handle, Shell};
use super::ltn12::{take_callback_error, FreeFn, UserData};
use super::socket::{path_arg, sockit_socket};
use super::status::sockit_status;
use crate::error::{Error, Result};
use crate::server::{self, timer, Conn, Handlers, Level, Log, Outcome, Pool, Server};
use crate::sys::signal;
use std::ffi::{c_char, c_int, c_void, CStr, CString};

/// A server: its pools and log. Made by `sockit_server_new`, run by `sockit_server_run`,
/// released by `sockit_server_free` (which closes the listeners of its pools).
#[allow(non_camel_case_types)]
#[allow(dead_code)]
pub struct sockit_server(Shell<ServerSlot>);
impl_handle!(sockit_server, ServerSlot, "server");

/// The server, or nothing while `sockit_server_run` has it.
#[derive(Default)]
pub struct ServerSlot(Option<Server>);

/// A pool of workers with its listeners, parameters and handlers (one Moonbridge
/// `listen{...}`). Made by `sockit_server_pool_new`; given to a server with
/// `sockit_server_add_pool`, which takes it over; freed with `sockit_server_pool_free`
/// only when it was never added.
#[allow(non_camel_case_types)]
#[allow(dead_code)]
pub struct sockit_server_pool(Shell<Pool>);
impl_handle!(sockit_server_pool, Pool, "server pool");

/// Log level of `sockit_server_set_log` and the log callback: errors (syslog's LOG_ERR).
pub const SOCKIT_LOG_ERROR: c_int = 3;
/// Warnings: a worker that exited with an error or was killed by its timeout.
pub const SOCKIT_LOG_WARNING: c_int = 4;
/// Notices: listeners ("pool #1: listening on TCP 127.0.0.1 port 8080"), start, stop.
pub const SOCKIT_LOG_NOTICE: c_int = 5;
/// Information (the default maximum).
pub const SOCKIT_LOG_INFO: c_int = 6;
/// Debugging: every fork, dispatch and worker end (with its peak RSS).
pub const SOCKIT_LOG_DEBUG: c_int = 7;

/// Log callback: one line (no newline) of `level` (`SOCKIT_LOG_*`). Lines from workers
/// start with "pool #N, worker PID: ". It is called in the master and, after fork, in the
/// workers (which inherit it): it must be usable in both, for example by writing to a
/// file descriptor opened with O_APPEND or to syslog.
#[allow(non_camel_case_types)]
pub type sockit_server_log_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, level: c_int, message: *const c_char)>;

/// Prepare handler, run once in each new worker: returns 0 when the worker is ready,
/// non-zero when it failed (it may call `sockit_callback_error` first to give the
/// message that is logged); a failed worker exits and the master waits
/// `fork_error_delay` before forking again.
#[allow(non_camel_case_types)]
pub type sockit_server_prepare_fn = Option<unsafe extern "C" fn(userdata: *mut c_void) -> c_int>;

/// Connect handler, run in a worker for each connection or interval. `socket` is the
/// accepted connection (NULL for an interval); it belongs to the server and is valid
/// until the handler returns, after which the server closes it (flushing what was
/// written) and frees it. `interval` is the interval listener's name (NULL for a
/// connection). Return 1 (any positive value) to serve the next connection, 0 to end
/// this worker normally (it runs finish, exits, and is replaced as the pool needs), or a
/// negative value when the handler failed (the message given with
/// `sockit_callback_error`, if any, is logged; the worker exits with status 1 without
/// running finish).
#[allow(non_camel_case_types)]
pub type sockit_server_connect_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        socket: *mut sockit_socket,
        interval: *const c_char,
    ) -> c_int,
>;

/// Finish handler, run once before a worker exits normally: returns 0, or non-zero
/// when it failed (logged; the worker's exit status is 1).
#[allow(non_camel_case_types)]
pub type sockit_server_finish_fn = Option<unsafe extern "C" fn(userdata: *mut c_void) -> c_int>;

/// Function run by `sockit_server_timeout_call`.
#[allow(non_camel_case_types)]
pub type sockit_timeout_fn = Option<unsafe extern "C" fn(userdata: *mut c_void) -> c_int>;

// ----- the handlers adapter ----------------------------------------------------------

struct CHandlers {
    prepare: sockit_server_prepare_fn,
    connect: sockit_server_connect_fn,
    finish: sockit_server_finish_fn,
    ud: UserData,
}

fn failure(what: &str, r: c_int) -> String {
    take_callback_error().unwrap_or_else(|| format!("{what} handler returned {r}"))
}

impl Handlers for CHandlers {
    fn prepare(&mut self) -> std::result::Result<(), String> {
        let Some(f) = self.prepare else {
            return Ok(());
        };
        take_callback_error();
        // SAFETY: the host's callback with its own userdata.
        match unsafe { f(self.ud.ptr()) } {
            0 => Ok(()),
            r => Err(failure("prepare", r)),
        }
    }

    fn connect(&mut self, conn: Conn<'_>) -> Outcome {
        let Some(f) = self.connect else {
            return Outcome::Fail("no connect handler".into());
        };
        take_callback_error();
        let r = match conn {
            Conn::Socket(s) => {
                let h = sockit_socket::new(s);
                // SAFETY: the host's callback; `h` is valid until we free it below.
                let r = unsafe { f(self.ud.ptr(), h, std::ptr::null()) };
                // SAFETY: `h` is the handle made above (the callback may have closed it;
                // closing again is harmless).
                unsafe {
                    let _ = sockit_socket::with(h, |s| s.close());
                    sockit_socket::free(h);
                }
                r
            }
            Conn::Interval(name) => {
                let c = CString::new(name.replace('\0', "")).unwrap_or_default();
                // SAFETY: the host's callback; `c` outlives the call.
                unsafe { f(self.ud.ptr(), std::ptr::null_mut(), c.as_ptr()) }
            }
        };
        match r {
            1.. => Outcome::Continue,
            0 => Outcome::Stop,
            _ => Outcome::Fail(failure("connect", r)),
        }
    }

    fn finish(&mut self) -> std::result::Result<(), String> {
        let Some(f) = self.finish else {
            return Ok(());
        };
        take_callback_error();
        // SAFETY: the host's callback with its own userdata.
        match unsafe { f(self.ud.ptr()) } {
            0 => Ok(()),
            r => Err(failure("finish", r)),
        }
    }
}

fn with_server<R>(p: *mut sockit_server, f: impl FnOnce(&mut Server) -> Result<R>) -> Result<R> {
    // SAFETY: checked by the handle machinery.
    unsafe {
        sockit_server::with(p, |slot| match &mut slot.0 {
            Some(s) => f(s),
            None => Err(Error::invalid("the server is running")),
        })
    }
}

// ----- sockit_server -------------------------------------------------------------------

/// A new server with no pools, logging to standard error (lines up to
/// `SOCKIT_LOG_INFO`, with a time stamp). The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_new(out: *mut *mut sockit_server) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        *out = sockit_server::new(ServerSlot(Some(Server::new())));
        Ok(())
    })
}

/// Frees a server and its pools (their listeners close; local socket files stay, as
/// after Moonbridge's listener close). NULL is ignored. Refused (nothing happens) while
/// the server runs.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_free(srv: *mut sockit_server) {
    if sockit_server::with(srv, |slot| Ok(slot.0.is_some())).unwrap_or(false) {
        sockit_server::free(srv);
    }
}

/// Sets where the server logs: `fn` gets every line up to `max_level`
/// (`SOCKIT_LOG_ERROR` .. `SOCKIT_LOG_DEBUG`); a NULL `fn` logs to standard error. The
/// server owns `userdata` from this call on: `free_userdata(userdata)` runs when the
/// server is freed, when the log is set again, or at once if this call fails. Never
/// blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_set_log(
    srv: *mut sockit_server,
    r#fn: sockit_server_log_fn,
    userdata: *mut c_void,
    free_userdata: FreeFn,
    max_level: c_int,
) -> sockit_status {
    let ud = UserData {
        ptr: userdata,
        free: free_userdata,
    };
    guard(|| {
        let sink: Option<server::log::Sink> = r#fn.map(|f| {
            Box::new(move |level: Level, msg: &str| {
                let c = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
                // SAFETY: the host's callback with its userdata; `c` outlives the call.
                unsafe { f(ud.ptr(), level as c_int, c.as_ptr()) }
            }) as server::log::Sink
        });
        let log = Log::new(sink, Level::from_number(max_level));
        with_server(srv, |s| {
            s.set_log(log);
            Ok(())
        })
    })
}

/// Writes one line to the server's log at `level` (`SOCKIT_LOG_*`), for the host's own
/// messages. Never blocks beyond the log callback.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_log(
    srv: *mut sockit_server,
    level: c_int,
    message: *const c_char,
) -> sockit_status {
    guard(|| {
        let msg = CStr::from_ptr(
            (!message.is_null())
                .then_some(message)
                .ok_or_else(|| Error::invalid("message is NULL"))?,
        )
        .to_string_lossy()
        .into_owned();
        with_server(srv, |s| {
            s.log(Level::from_number(level), &msg);
            Ok(())
        })
    })
}

/// Adds `pool` to the server, taking it over: `pool` must not be used or freed again,
/// whatever the outcome. Fails (`SOCKIT_INVALID`) when the pool has no listener or no
/// connect handler, when its parameters contradict each other (`min_fork` above
/// `max_fork`, ...), or when the server has run. Each listener is logged
/// ("pool #1: listening on TCP 127.0.0.1 port 40123"). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_add_pool(
    srv: *mut sockit_server,
    pool: *mut sockit_server_pool,
) -> sockit_status {
    guard(|| {
        let taken = sockit_server_pool::with(pool, |p| Ok(std::mem::take(p)));
        sockit_server_pool::free(pool);
        let taken = taken?;
        with_server(srv, |s| s.add(taken))
    })
}

/// The number of pools added so far, in `*count`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_pool_count(
    srv: *mut sockit_server,
    count: *mut usize,
) -> sockit_status {
    guard(|| {
        let count = out_arg(count, "count")?;
        *count = with_server(srv, |s| Ok(s.pool_count()))?;
        Ok(())
    })
}

/// Runs the server: the calling process becomes the master and forks the workers. BLOCKS
/// until the server stops (SIGTERM: the listeners close, workers finish the connection
/// in hand; SIGINT or SIGHUP: the workers are killed at once), then reaps every worker,
/// removes the local socket files, and returns `SOCKIT_OK` in the master. In a worker
/// it never returns (the worker exits). Fails at once with `SOCKIT_INVALID` when no pool
/// was added, when the server ran before, or when another server runs in this process.
/// While it runs, the master catches SIGTERM, SIGINT, SIGHUP and SIGCHLD; the previous
/// handlers are back when it returns. Call it from a single-threaded process.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_run(srv: *mut sockit_server) -> sockit_status {
    guard(|| {
        let mut server = sockit_server::with(srv, |slot| {
            slot.0
                .take()
                .ok_or_else(|| Error::invalid("the server is running"))
        })?;
        let r = server.run();
        sockit_server::with(srv, |slot| {
            slot.0 = Some(server);
            Ok(())
        })?;
        r
    })
}

// ----- sockit_server_pool ----------------------------------------------------------------

/// A new pool with Moonbridge's default parameters and no listeners or handlers. The
/// caller owns `*out` until it adds it to a server. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_pool_new(
    out: *mut *mut sockit_server_pool,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        *out = sockit_server_pool::new(Pool::new());
        Ok(())
    })
}

/// Frees a pool that was not added to a server (closing its listeners). NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_pool_free(pool: *mut sockit_server_pool) {
    sockit_server_pool::free(pool);
}

/// Sets a pool parameter by its Moonbridge name: "pre_fork" (spare workers wanted,
/// default 1), "min_fork" (default max(pre_fork, 2)), "max_fork" (hard limit, default
/// max(min_fork, 16)), "fork_delay" (seconds between forks, default 0.25),
/// "fork_error_delay" (after a failed fork or prepare, default 2), "exit_delay" (between
/// ending excess spare workers, default 60), "idle_timeout" or "idle_time" (an idle
/// worker ends after this many seconds; 0, the default, is never), "memory_limit"
/// (bytes: a worker that is past it after a connection ends; 0, the default, is none).
/// Counts must be whole numbers. Fails with `SOCKIT_INVALID` for an unknown name or a
/// bad value. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_pool_set(
    pool: *mut sockit_server_pool,
    name: *const c_char,
    value: f64,
) -> sockit_status {
    guard(|| {
        let name = str_arg(name, "name")?;
        sockit_server_pool::with(pool, |p| p.set(name, value))
    })
}

/// Adds a TCP listener on `host` ("127.0.0.1", "::1", "0.0.0.0", "::" or a name) and
/// `port` (0: the system picks a free one), bound and listening at once; the bound port
/// goes to `*bound_port` (may be NULL). Fails with the bind error (`SOCKIT_ADDRINUSE`,
/// ...) and a message naming host and port. Never blocks beyond name resolution.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_pool_listen_tcp(
    pool: *mut sockit_server_pool,
    host: *const c_char,
    port: c_int,
    bound_port: *mut c_int,
) -> sockit_status {
    guard(|| {
        let host = str_arg(host, "host")?;
        let port = super::boundary::port_arg(port, "port")?;
        let got = sockit_server_pool::with(pool, |p| p.listen_tcp(host, port))?;
        put(bound_port, got as c_int);
        Ok(())
    })
}

/// Adds a local (Unix-domain stream) listener at `path`, bound at once. A stale socket
/// file there is replaced; any other file is left alone and the call fails with
/// `SOCKIT_ADDRINUSE`. The file is removed when the server stops. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_pool_listen_local(
    pool: *mut sockit_server_pool,
    path: *const c_char,
) -> sockit_status {
    guard(|| {
        let path = path_arg(path, "path")?;
        sockit_server_pool::with(pool, |p| p.listen_local(path))
    })
}

/// Adds an interval listener: the connect handler runs every `delay` seconds (> 0) in
/// an idle worker, with `interval` = `name`. With `strict`, runs keep a fixed rhythm
/// (the next is due `delay` after the previous was due); otherwise the next is due
/// `delay` after the previous ended. An interval never runs twice at once. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_pool_listen_interval(
    pool: *mut sockit_server_pool,
    name: *const c_char,
    delay: f64,
    strict: bool,
) -> sockit_status {
    guard(|| {
        let name = str_arg(name, "name")?;
        sockit_server_pool::with(pool, |p| p.listen_interval(name, delay, strict))
    })
}

/// Sets the pool's handlers (see `sockit_server_prepare_fn`, `sockit_server_connect_fn`,
/// `sockit_server_finish_fn`); `connect` is required, `prepare` and `finish` may be
/// NULL. The pool owns `userdata` from this call on: `free_userdata(userdata)` runs in
/// the master when the pool (or the server holding it) is freed, when the handlers are
/// set again, or at once if this call fails; workers exit without calling it. Never
/// blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_pool_set_handlers(
    pool: *mut sockit_server_pool,
    prepare: sockit_server_prepare_fn,
    connect: sockit_server_connect_fn,
    finish: sockit_server_finish_fn,
    userdata: *mut c_void,
    free_userdata: FreeFn,
) -> sockit_status {
    let ud = UserData {
        ptr: userdata,
        free: free_userdata,
    };
    guard(|| {
        if connect.is_none() {
            return Err(Error::invalid("connect is NULL"));
        }
        let h = CHandlers {
            prepare,
            connect,
            finish,
            ud,
        };
        sockit_server_pool::with(pool, |p| {
            p.set_handlers(Box::new(h));
            Ok(())
        })
    })
}

// ----- in a worker -----------------------------------------------------------------------

/// Moonbridge's `timeout(n)`: arms a timer that kills the process (SIGALRM) after
/// `seconds`; 0 disarms it. The seconds that were left before go to `*previous` (may be
/// NULL). A worker disarms the timer whenever a prepare or connect handler returns.
/// Fails with `SOCKIT_INVALID` for a negative or non-finite time. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_timeout(seconds: f64, previous: *mut f64) -> sockit_status {
    guard(|| {
        let old = timer::set(seconds)?;
        put(previous, old);
        Ok(())
    })
}

/// Moonbridge's `timeout()`: the seconds left on the timer (0 when it is not armed), in
/// `*left`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_timeout_left(left: *mut f64) -> sockit_status {
    guard(|| {
        *out_arg(left, "left")? = timer::left();
        Ok(())
    })
}

/// Moonbridge's `timeout(n, fn)`: runs `fn(userdata)` limited to `seconds` with a
/// sub-timer (the process is killed when it runs out). When a timer is armed already and
/// has less time left, that one stays in charge; afterwards the outer timer goes on with
/// the time it had left minus what `fn` took. `seconds` 0 adds no limit. What `fn`
/// returned goes to `*result` (may be NULL). Blocks as long as `fn` does.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_timeout_call(
    seconds: f64,
    r#fn: sockit_timeout_fn,
    userdata: *mut c_void,
    result: *mut c_int,
) -> sockit_status {
    guard(|| {
        let f = r#fn.ok_or_else(|| Error::invalid("fn is NULL"))?;
        // SAFETY: the host's function with its userdata.
        let r = timer::call(seconds, || unsafe { f(userdata) })?;
        put(result, r);
        Ok(())
    })
}

/// In a worker: whether SIGTERM has arrived (the server is stopping; the worker ends
/// after the connection in hand). A handler serving a long-lived connection, such as
/// HTTP keep-alive, should end it soon. `*stopping` is false in the master. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_server_stopping(stopping: *mut bool) -> sockit_status {
    guard(|| {
        *out_arg(stopping, "stopping")? = signal::worker_terminating();
        Ok(())
    })
}
