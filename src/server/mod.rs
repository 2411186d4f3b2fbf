//! The prefork server: Moonbridge's process model behind the C API.
//!
//! A `Server` holds pools (one per Moonbridge `listen{...}` call). A `Pool` has listeners
//! (TCP, local socket, interval timer), parameters (`PoolConfig`) and `Handlers`
//! (prepare / connect / finish). `Server::run` turns the process into the master:
//!
//! - the master keeps the listeners and forks workers (`master`): at least `min_fork`,
//!   and `pre_fork` spare ones, never more than `max_fork`, `fork_delay` apart
//!   (`fork_error_delay` after a fork or a prepare handler failed); it ends excess spare
//!   workers `exit_delay` apart and idle ones after `idle_timeout`; it accepts a
//!   connection only when a worker is idle and hands it over a control channel
//!   (`control`), and it reaps every child;
//! - a worker (`worker`) runs prepare once, then the connect handler for one connection
//!   (or interval) after another until the handler says stop, the master tells it to
//!   end, it is past `memory_limit`, or SIGTERM arrived; then finish, then it exits;
//! - signals are handled in one place (`crate::sys::signal`): SIGTERM stops gracefully
//!   (workers finish the connection in hand), SIGINT and SIGHUP at once (workers are
//!   killed); `run` returns once every worker is gone. Workers also die with the master
//!   (parent-death signal) should it be killed outright.
//!
//! `run` forks: call it from a single-threaded process.

pub mod config;
mod control;
pub mod listener;
pub mod log;
mod master;
pub mod timer;
mod worker;

pub use config::{PoolConfig, PoolParams};
pub use listener::Listener;
pub use log::{Level, Log};

use crate::error::{Error, Result};
use crate::net::socket::Socket;
use std::path::Path;

/// What a connect handler is called with.
pub enum Conn<'a> {
    /// An accepted connection (a client socket, non-blocking inside, default timeouts).
    /// The handler owns it; the worker does nothing more with it.
    Socket(Socket),
    /// An interval listener's timer ran out; the interval's name.
    Interval(&'a str),
}

/// What a connect handler asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Serve the next connection.
    Continue,
    /// End this worker (it runs finish and exits; the master replaces it as needed).
    Stop,
    /// The handler failed: the message is logged and the worker exits with status 1
    /// without running finish.
    Fail(String),
}

/// The application's handlers, run in the workers.
pub trait Handlers {
    /// Once per worker, before its first connection. An error ends the worker (status 1)
    /// and makes the master wait `fork_error_delay` before the next fork.
    fn prepare(&mut self) -> std::result::Result<(), String> {
        Ok(())
    }
    /// One connection (or interval).
    fn connect(&mut self, conn: Conn<'_>) -> Outcome;
    /// Once, before the worker exits normally. An error is logged (exit status 1).
    fn finish(&mut self) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// A pool: listeners, parameters and handlers.
#[derive(Default)]
pub struct Pool {
    pub(crate) listeners: Vec<Listener>,
    pub(crate) config: PoolConfig,
    pub(crate) handlers: Option<Box<dyn Handlers>>,
}

impl Pool {
    /// An empty pool with Moonbridge's default parameters.
    pub fn new() -> Pool {
        Pool::default()
    }

    /// Sets a parameter by its `listen{...}` name (see `PoolConfig::set`).
    pub fn set(&mut self, name: &str, value: f64) -> Result<()> {
        self.config.set(name, value)
    }

    /// The parameters as they will be in force (defaults filled in).
    pub fn params(&self) -> Result<PoolParams> {
        self.config.resolve()
    }

    /// Adds a TCP listener (bound at once); returns the bound port.
    pub fn listen_tcp(&mut self, host: &str, port: u16) -> Result<u16> {
        let l = Listener::tcp(host, port)?;
        let p = l.port();
        self.listeners.push(l);
        Ok(p)
    }

    /// Adds a local-socket listener (bound at once; a stale socket file is replaced).
    pub fn listen_local(&mut self, path: &Path) -> Result<()> {
        self.listeners.push(Listener::local(path)?);
        Ok(())
    }

    /// Adds an interval listener.
    pub fn listen_interval(&mut self, name: &str, delay: f64, strict: bool) -> Result<()> {
        self.listeners
            .push(Listener::interval(name, delay, strict)?);
        Ok(())
    }

    /// The listeners so far.
    pub fn listeners(&self) -> &[Listener] {
        &self.listeners
    }

    /// Sets the handlers.
    pub fn set_handlers(&mut self, h: Box<dyn Handlers>) {
        self.handlers = Some(h);
    }
}

/// The master: pools and the log.
#[derive(Default)]
pub struct Server {
    pools: Vec<Pool>,
    log: Log,
    ran: bool,
}

impl Server {
    pub fn new() -> Server {
        Server::default()
    }

    /// Replaces the log (sink and level).
    pub fn set_log(&mut self, log: Log) {
        self.log = log;
    }

    /// Logs a line through the server's log (hosts use it for their own messages).
    pub fn log(&mut self, level: Level, msg: &str) {
        self.log.log(level, msg);
    }

    /// Adds a pool. It needs at least one listener and a connect handler, and parameters
    /// that agree with each other; each listener is logged ("pool #1: listening on TCP
    /// 127.0.0.1 port 40123").
    pub fn add(&mut self, pool: Pool) -> Result<()> {
        if self.ran {
            return Err(Error::invalid("the server has run already"));
        }
        if pool.listeners.is_empty() {
            return Err(Error::invalid(
                "a pool needs at least one listener (tcp, local or interval)",
            ));
        }
        if pool.handlers.is_none() {
            return Err(Error::invalid("a pool needs a connect handler"));
        }
        let params = pool.config.resolve()?;
        let n = self.pools.len() + 1;
        for l in &pool.listeners {
            self.log
                .notice(&format!("pool #{n}: listening on {}", l.describe()));
        }
        self.log.debug(&format!(
            "pool #{n}: pre_fork {}, min_fork {}, max_fork {}",
            params.pre_fork, params.min_fork, params.max_fork
        ));
        self.pools.push(pool);
        Ok(())
    }

    /// How many pools there are.
    pub fn pool_count(&self) -> usize {
        self.pools.len()
    }

    /// Runs the server (see the module comment) until it is stopped by SIGTERM, SIGINT
    /// or SIGHUP; returns in the master once every worker has been reaped. It never
    /// returns in a worker (workers exit). Fails at once when there is no pool, when it
    /// ran before, or when another server runs in this process.
    pub fn run(&mut self) -> Result<()> {
        if self.ran {
            return Err(Error::invalid("the server has run already"));
        }
        if self.pools.is_empty() {
            return Err(Error::invalid(
                "no listener: listen was never called (add a pool first)",
            ));
        }
        self.ran = true;
        master::run(&mut self.pools, &mut self.log)
    }
}
