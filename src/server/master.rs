//! The master process: keeps the listeners, forks and reaps workers, hands connections
//! to idle workers, and stops on SIGTERM (gracefully) or SIGINT / SIGHUP (at once).
//!
//! The pool arithmetic follows Moonbridge: *unassigned* workers are those preparing or
//! idle; the master forks while there are fewer than `max_fork` workers and either fewer
//! than `pre_fork` unassigned or fewer than `min_fork` in total, one fork per
//! `fork_delay` (after a worker ended, its replacement need not wait), and after a failed
//! fork or prepare only once `fork_error_delay` has passed since the last fork. While
//! there are more than `min_fork` workers and more than `pre_fork` idle ones, it ends one
//! idle worker per `exit_delay`. A listener is watched only while its pool has an idle
//! worker, so connections wait in the kernel's queue, not in the master.

use super::control::{self, Status};
use super::listener::Endpoint;
use super::log::Log;
use super::worker;
use super::{Pool, PoolParams};
use crate::error::{Error, Result};
use crate::sys::fdpass;
use crate::sys::process::{self, ExitStatus, Forked, Pid, Reaped};
use crate::sys::signal::{SignalWatch, Signals};
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Forked, running prepare: not idle yet.
    Preparing,
    /// Waiting for a connection.
    Idle,
    /// Serving a connection (or an interval: `interval`).
    Assigned,
    /// Told to end, or said goodbye, or its channel closed: waiting to be reaped.
    Leaving,
}

struct Worker {
    pid: Pid,
    pool: usize,
    ctl: Option<OwnedFd>,
    state: State,
    /// Idle since then (for idle_timeout).
    idle_since: Instant,
    /// The interval listener it runs, if any.
    interval: Option<usize>,
    /// Ever idle: a worker that ends before that failed in prepare.
    was_ready: bool,
}

/// Per-listener run state.
struct Watch {
    /// A socket listener reported readable.
    pending: bool,
    /// An interval's next due time.
    due: Instant,
    /// An interval handed to a worker and not done yet.
    busy: bool,
    /// A socket listener that failed to accept is not watched until then.
    backoff_until: Option<Instant>,
}

struct PoolRun {
    params: PoolParams,
    watches: Vec<Watch>,
    /// Idle workers (pids), oldest first.
    idle: VecDeque<Pid>,
    fork_wakeup: Instant,
    fork_error_wakeup: Instant,
    use_fork_error: bool,
    exit_wakeup: Option<Instant>,
    /// Workers that ended since the last fork: each lets one fork skip fork_delay.
    ended: usize,
    /// Round-robin start for dispatching.
    next_listener: usize,
}

struct Master<'a> {
    pools: &'a mut [Pool],
    runs: Vec<PoolRun>,
    workers: Vec<Worker>,
    log: &'a mut Log,
    /// Always Some in the master; taken in a forked worker.
    watch: Option<SignalWatch>,
    shutting_down: bool,
    me: Pid,
}

/// Earliest of two optional instants.
fn earliest(a: Option<Instant>, b: Instant) -> Option<Instant> {
    Some(a.map_or(b, |a| a.min(b)))
}

pub(super) fn run(pools: &mut [Pool], log: &mut Log) -> Result<()> {
    let watch = SignalWatch::install().map_err(|e| Error::io("install signal handlers", &e))?;
    let now = Instant::now();
    let mut runs = Vec::new();
    for p in pools.iter() {
        let params = p.config.resolve()?;
        let watches = p
            .listeners
            .iter()
            .map(|l| Watch {
                pending: false,
                due: match &l.endpoint {
                    Endpoint::Interval { delay, .. } => now + *delay,
                    _ => now,
                },
                busy: false,
                backoff_until: None,
            })
            .collect();
        runs.push(PoolRun {
            params,
            watches,
            idle: VecDeque::new(),
            fork_wakeup: now,
            fork_error_wakeup: now,
            use_fork_error: false,
            exit_wakeup: None,
            ended: 0,
            next_listener: 0,
        });
    }
    let mut m = Master {
        pools,
        runs,
        workers: Vec::new(),
        log,
        watch: Some(watch),
        shutting_down: false,
        me: process::getpid(),
    };
    m.log
        .notice(&format!("server started (master pid {})", m.me));
    let r = m.main_loop();
    m.cleanup();
    r
}

impl Master<'_> {
    fn main_loop(&mut self) -> Result<()> {
        loop {
            let sigs = self.watch.as_ref().map(|w| w.take()).unwrap_or_default();
            if sigs.has(Signals::INT | Signals::HUP) {
                self.log.notice(if sigs.has(Signals::INT) {
                    "SIGINT: stopping at once"
                } else {
                    "SIGHUP: stopping at once"
                });
                self.kill_all();
                return Ok(());
            }
            if sigs.has(Signals::TERM) {
                self.begin_shutdown();
            }
            self.reap();
            let now = Instant::now();
            let mut wake: Option<Instant> = None;
            for p in 0..self.runs.len() {
                self.expire_idle(p, now, &mut wake);
                if !self.shutting_down {
                    self.dispatch(p, now);
                    self.fork_workers(p, now, &mut wake);
                    self.end_excess(p, now, &mut wake);
                    for (i, w) in self.runs[p].watches.iter().enumerate() {
                        if self.pools[p].listeners[i].interval_name().is_some() && !w.busy {
                            wake = earliest(wake, w.due);
                        }
                        if let Some(b) = w.backoff_until {
                            wake = earliest(wake, b);
                        }
                    }
                }
            }
            if self.shutting_down {
                self.terminate_idle();
                if self.workers.is_empty() {
                    self.log.notice("all workers have ended");
                    return Ok(());
                }
            }
            self.wait(wake)?;
        }
    }

    // ----- waiting ----------------------------------------------------------------------

    /// Polls the signal pipe, the listeners of pools with an idle worker, and the
    /// workers' channels, until `wake` at the latest; then reads what came.
    fn wait(&mut self, wake: Option<Instant>) -> Result<()> {
        let mut fds = vec![libc::pollfd {
            fd: self.watch.as_ref().map_or(-1, |w| w.fd()),
            events: libc::POLLIN,
            revents: 0,
        }];
        // (pool, listener) for each listener entry, then worker indices.
        let mut listener_slots = Vec::new();
        let now = Instant::now();
        if !self.shutting_down {
            for (p, run) in self.runs.iter().enumerate() {
                if run.idle.is_empty() {
                    continue;
                }
                for (i, l) in self.pools[p].listeners.iter().enumerate() {
                    let w = &run.watches[i];
                    if w.pending || w.backoff_until.is_some_and(|b| b > now) {
                        continue;
                    }
                    if let Some(fd) = l.fd() {
                        fds.push(libc::pollfd {
                            fd,
                            events: libc::POLLIN,
                            revents: 0,
                        });
                        listener_slots.push((p, i));
                    }
                }
            }
        }
        let first_worker = fds.len();
        let mut worker_slots = Vec::new();
        for (k, w) in self.workers.iter().enumerate() {
            if let Some(ctl) = &w.ctl {
                fds.push(libc::pollfd {
                    fd: ctl.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
                worker_slots.push(k);
            }
        }
        let timeout_ms = match wake {
            None => -1,
            Some(t) => {
                let d = t.saturating_duration_since(Instant::now());
                // Round up, so that the wake-up time has passed when poll returns.
                (d.as_micros().div_ceil(1000)).min(i32::MAX as u128) as i32
            }
        };
        // SAFETY: fds is a valid pollfd array for its length.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                return Ok(());
            }
            return Err(Error::io("poll", &e));
        }
        for (j, &(p, i)) in listener_slots.iter().enumerate() {
            if fds[1 + j].revents != 0 {
                self.runs[p].watches[i].pending = true;
            }
        }
        // Reading a channel changes no worker's index (workers are removed only by reap).
        for (j, &k) in worker_slots.iter().enumerate() {
            if fds[first_worker + j].revents != 0 {
                self.read_channel(k);
            }
        }
        Ok(())
    }

    fn index_of(&self, pid: Pid) -> Option<usize> {
        self.workers.iter().position(|w| w.pid == pid)
    }

    /// Reads every status message a worker has sent.
    fn read_channel(&mut self, k: usize) {
        loop {
            let Some(ctl) = &self.workers[k].ctl else {
                return;
            };
            match control::recv_status(ctl.as_raw_fd()) {
                Ok(Some(Status::Idle)) => self.became_idle(k),
                Ok(Some(Status::Goodbye)) => {
                    self.finish_interval(k);
                    self.set_leaving(k);
                }
                Ok(None) => {
                    self.finish_interval(k);
                    self.workers[k].ctl = None;
                    self.set_leaving(k);
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let pid = self.workers[k].pid;
                    self.log.error(&format!("worker {pid}: {e}; killing it"));
                    let _ = process::kill(pid, libc::SIGKILL);
                    self.finish_interval(k);
                    self.workers[k].ctl = None;
                    self.set_leaving(k);
                    return;
                }
            }
        }
    }

    fn became_idle(&mut self, k: usize) {
        self.finish_interval(k);
        let w = &mut self.workers[k];
        if w.state == State::Leaving {
            return;
        }
        w.state = State::Idle;
        w.was_ready = true;
        w.idle_since = Instant::now();
        let (pid, p) = (w.pid, w.pool);
        self.log.debug(&format!("worker {pid} is idle"));
        if self.shutting_down {
            self.terminate(k);
        } else {
            self.runs[p].idle.push_back(pid);
        }
    }

    /// An interval run ended (worker idle again, or gone): the interval is due again
    /// `delay` after it ended, or (strict) `delay` after it was due.
    fn finish_interval(&mut self, k: usize) {
        let Some(i) = self.workers[k].interval.take() else {
            return;
        };
        let p = self.workers[k].pool;
        let now = Instant::now();
        if let Endpoint::Interval { delay, strict, .. } = &self.pools[p].listeners[i].endpoint {
            let w = &mut self.runs[p].watches[i];
            w.busy = false;
            w.due = if *strict {
                (w.due + *delay).max(now)
            } else {
                now + *delay
            };
        }
    }

    fn set_leaving(&mut self, k: usize) {
        let w = &mut self.workers[k];
        if w.state == State::Idle {
            let pid = w.pid;
            self.runs[w.pool].idle.retain(|&x| x != pid);
        }
        w.state = State::Leaving;
    }

    /// Sends T to worker k (idle, or idle during shutdown).
    fn terminate(&mut self, k: usize) {
        self.set_leaving(k);
        let w = &mut self.workers[k];
        if let Some(ctl) = &w.ctl {
            if control::send_terminate(ctl.as_raw_fd()).is_err() {
                w.ctl = None;
            }
        }
    }

    // ----- reaping ----------------------------------------------------------------------

    /// Reaps every worker that has ended, and logs how.
    fn reap(&mut self) {
        let mut k = 0;
        while k < self.workers.len() {
            let pid = self.workers[k].pid;
            match process::try_reap(pid) {
                Ok(Some(r)) => {
                    self.finish_interval(k);
                    self.set_leaving(k);
                    let w = self.workers.remove(k);
                    self.ended(w, r);
                }
                Ok(None) => k += 1,
                Err(e) => {
                    // ECHILD: someone else reaped it (a host that waits for any child).
                    self.log.warning(&format!(
                        "worker {pid}: cannot be reaped ({e}); forgetting it"
                    ));
                    self.workers.remove(k);
                }
            }
        }
    }

    fn ended(&mut self, w: Worker, r: Reaped) {
        let rss = format!("peak RSS {:.1} MiB", r.max_rss as f64 / 1048576.0);
        let pid = w.pid;
        let n = w.pool + 1;
        match r.status {
            ExitStatus::Exited(0) => self
                .log
                .debug(&format!("pool #{n}: worker {pid} ended ({rss})")),
            ExitStatus::Exited(c) => self.log.warning(&format!(
                "pool #{n}: worker {pid} exited with status {c} ({rss})"
            )),
            ExitStatus::Signaled { signal, .. } if signal == libc::SIGALRM => self.log.warning(
                &format!("pool #{n}: worker {pid} was killed by its timeout ({rss})"),
            ),
            ExitStatus::Signaled { signal, core } => self.log.error(&format!(
                "pool #{n}: worker {pid} died from signal {signal}{} ({rss})",
                if core { ", core dumped" } else { "" }
            )),
        }
        let run = &mut self.runs[w.pool];
        if !w.was_ready {
            // It never became idle: prepare failed (or the worker could not start).
            run.use_fork_error = true;
        } else {
            run.ended += 1;
        }
    }

    // ----- the pool arithmetic ----------------------------------------------------------

    fn count(&self, p: usize, pred: impl Fn(State) -> bool) -> usize {
        self.workers
            .iter()
            .filter(|w| w.pool == p && pred(w.state))
            .count()
    }

    fn expire_idle(&mut self, p: usize, now: Instant, wake: &mut Option<Instant>) {
        let Some(limit) = self.runs[p].params.idle_timeout else {
            return;
        };
        while let Some(&pid) = self.runs[p].idle.front() {
            let Some(k) = self.index_of(pid) else {
                self.runs[p].idle.pop_front();
                continue;
            };
            let until = self.workers[k].idle_since + limit;
            if until > now {
                *wake = earliest(*wake, until);
                break;
            }
            self.log.debug(&format!(
                "worker {pid} was idle for idle_timeout: ending it"
            ));
            self.terminate(k);
        }
    }

    /// Hands pending connections and due intervals to idle workers.
    fn dispatch(&mut self, p: usize, now: Instant) {
        let n = self.pools[p].listeners.len();
        let mut quiet = 0; // listeners in a row with nothing to hand out
        while !self.runs[p].idle.is_empty() && quiet < n {
            let i = self.runs[p].next_listener % n;
            self.runs[p].next_listener = (i + 1) % n;
            let handed = match &self.pools[p].listeners[i].endpoint {
                Endpoint::Interval { .. } => {
                    let w = &self.runs[p].watches[i];
                    if !w.busy && w.due <= now {
                        self.hand_interval(p, i)
                    } else {
                        false
                    }
                }
                Endpoint::Socket(_) if self.runs[p].watches[i].pending => {
                    self.accept_one(p, i, now)
                }
                _ => false,
            };
            quiet = if handed { 0 } else { quiet + 1 };
        }
    }

    /// The first idle worker of pool p that can still be reached.
    fn pop_idle(&mut self, p: usize) -> Option<usize> {
        while let Some(pid) = self.runs[p].idle.pop_front() {
            if let Some(k) = self.index_of(pid) {
                if self.workers[k].state == State::Idle && self.workers[k].ctl.is_some() {
                    return Some(k);
                }
            }
        }
        None
    }

    /// Sends C to an idle worker; on failure (the worker is gone) tries the next one.
    /// Returns the worker that took it.
    fn send_to_idle(&mut self, p: usize, i: usize, conn: Option<i32>) -> Option<usize> {
        while let Some(k) = self.pop_idle(p) {
            let w = &mut self.workers[k];
            let ctl = w.ctl.as_ref().expect("checked by pop_idle").as_raw_fd();
            match control::send_connect(ctl, i, conn) {
                Ok(()) => {
                    w.state = State::Assigned;
                    let pid = w.pid;
                    self.log.debug(&format!(
                        "pool #{}: {} handed to worker {pid}",
                        p + 1,
                        self.pools[p].listeners[i].describe()
                    ));
                    return Some(k);
                }
                Err(_) => {
                    w.ctl = None;
                    w.state = State::Leaving;
                }
            }
        }
        None
    }

    fn hand_interval(&mut self, p: usize, i: usize) -> bool {
        let Some(k) = self.send_to_idle(p, i, None) else {
            return false;
        };
        self.workers[k].interval = Some(i);
        self.runs[p].watches[i].busy = true;
        true
    }

    fn accept_one(&mut self, p: usize, i: usize, now: Instant) -> bool {
        let Endpoint::Socket(sock) = &mut self.pools[p].listeners[i].endpoint else {
            return false;
        };
        match sock.accept_raw_nb() {
            Ok(conn) => {
                if self.send_to_idle(p, i, Some(conn.as_raw_fd())).is_none() {
                    // Every idle worker had gone: the connection is closed (dropped).
                    self.log.warning(&format!(
                        "pool #{}: no worker could take a connection on {}",
                        p + 1,
                        self.pools[p].listeners[i].describe()
                    ));
                }
                true
            }
            Err(e) if e.kind == crate::error::ErrorKind::WouldBlock => {
                self.runs[p].watches[i].pending = false;
                false
            }
            Err(e) => {
                // EMFILE and the like: do not spin on a listener that stays readable.
                self.log.error(&format!(
                    "pool #{}: {}: {}",
                    p + 1,
                    self.pools[p].listeners[i].describe(),
                    e.msg
                ));
                let w = &mut self.runs[p].watches[i];
                w.pending = false;
                w.backoff_until = Some(now + Duration::from_millis(100));
                false
            }
        }
    }

    fn fork_workers(&mut self, p: usize, now: Instant, wake: &mut Option<Instant>) {
        loop {
            let total = self.count(p, |_| true);
            let unassigned = self.count(p, |s| matches!(s, State::Preparing | State::Idle));
            let params = &self.runs[p].params;
            if !(total < params.max_fork
                && (unassigned < params.pre_fork || total < params.min_fork))
            {
                return;
            }
            let run = &mut self.runs[p];
            if run.use_fork_error {
                if run.fork_error_wakeup > now {
                    *wake = earliest(*wake, run.fork_error_wakeup);
                    return;
                }
            } else if run.ended > 0 {
                run.ended -= 1;
            } else if run.fork_wakeup > now {
                *wake = earliest(*wake, run.fork_wakeup);
                return;
            }
            match self.spawn(p) {
                Ok(()) => {
                    let run = &mut self.runs[p];
                    run.fork_wakeup = now + run.params.fork_delay;
                    run.fork_error_wakeup = now + run.params.fork_error_delay;
                    run.use_fork_error = false;
                }
                Err(e) => {
                    self.log
                        .error(&format!("pool #{}: cannot fork a worker: {e}", p + 1));
                    let run = &mut self.runs[p];
                    run.fork_error_wakeup = now + run.params.fork_error_delay;
                    run.use_fork_error = true;
                    *wake = earliest(*wake, run.fork_error_wakeup);
                    return;
                }
            }
        }
    }

    fn end_excess(&mut self, p: usize, now: Instant, wake: &mut Option<Instant>) {
        let excess = |m: &Master| {
            let params = &m.runs[p].params;
            m.count(p, |s| s != State::Leaving) > params.min_fork
                && m.runs[p].idle.len() > params.pre_fork
        };
        while excess(self) {
            match self.runs[p].exit_wakeup {
                Some(t) if t > now => {
                    *wake = earliest(*wake, t);
                    break;
                }
                Some(_) => {
                    if let Some(k) = self.pop_idle(p) {
                        let pid = self.workers[k].pid;
                        self.log
                            .debug(&format!("worker {pid} is an excess spare: ending it"));
                        self.terminate(k);
                    }
                    let t = now + self.runs[p].params.exit_delay;
                    self.runs[p].exit_wakeup = Some(t);
                }
                None => {
                    let t = now + self.runs[p].params.exit_delay;
                    self.runs[p].exit_wakeup = Some(t);
                    *wake = earliest(*wake, t);
                    break;
                }
            }
        }
        if !excess(self) {
            self.runs[p].exit_wakeup = None;
        }
    }

    /// Forks one worker for pool p.
    fn spawn(&mut self, p: usize) -> io::Result<()> {
        let (mine, theirs) = fdpass::seqpacket_pair()?;
        match process::fork()? {
            Forked::Child => {
                drop(mine);
                self.become_worker(p, theirs)
            }
            Forked::Parent(pid) => {
                drop(theirs);
                fdpass::set_nonblocking(&mine, true)?;
                self.log
                    .debug(&format!("pool #{}: forked worker {pid}", p + 1));
                self.workers.push(Worker {
                    pid,
                    pool: p,
                    ctl: Some(mine),
                    state: State::Preparing,
                    idle_since: Instant::now(),
                    interval: None,
                    was_ready: false,
                });
                Ok(())
            }
        }
    }

    /// In the child: lets go of everything that belongs to the master (listeners, other
    /// workers' channels, the signal watch), then runs the worker.
    fn become_worker(&mut self, p: usize, ctl: OwnedFd) -> ! {
        for w in self.workers.drain(..) {
            drop(w.ctl);
        }
        // Other pools' handlers are left alone (not dropped): dropping them would run
        // the host's free_userdata in this process for data the master still owns.
        for pool in self.pools.iter_mut() {
            for l in pool.listeners.iter_mut() {
                l.close();
            }
        }
        if let Some(watch) = self.watch.take() {
            watch.forget_in_child();
        }
        worker::run(&mut self.pools[p], p + 1, ctl, self.log, self.me)
    }

    // ----- stopping ---------------------------------------------------------------------

    fn begin_shutdown(&mut self) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        self.log
            .notice("SIGTERM: stopping; workers finish the connection in hand");
        for pool in self.pools.iter_mut() {
            for l in pool.listeners.iter_mut() {
                l.close();
            }
        }
        for w in &self.workers {
            let _ = process::kill(w.pid, libc::SIGTERM);
        }
    }

    fn terminate_idle(&mut self) {
        for p in 0..self.runs.len() {
            while let Some(k) = self.pop_idle(p) {
                self.terminate(k);
            }
        }
        // Workers still preparing get T as soon as they report idle (became_idle).
    }

    /// SIGKILL to every worker, then reaps them all.
    fn kill_all(&mut self) {
        for w in &self.workers {
            let _ = process::kill(w.pid, libc::SIGKILL);
        }
        // SIGKILL cannot be caught: each ends promptly. Bounded all the same.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.workers.is_empty() && Instant::now() < deadline {
            self.reap();
            if !self.workers.is_empty() {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        for w in &self.workers {
            self.log
                .error(&format!("worker {} could not be reaped", w.pid));
        }
        self.workers.clear();
    }

    /// Closes the listeners and removes the local sockets' files.
    fn cleanup(&mut self) {
        if !self.workers.is_empty() {
            self.kill_all();
        }
        for pool in self.pools.iter_mut() {
            for l in pool.listeners.iter_mut() {
                l.close();
                if let Some(path) = l.path.take() {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        self.log.notice("server stopped");
    }
}
