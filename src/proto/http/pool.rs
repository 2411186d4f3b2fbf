//! Idle keep-alive connections, kept per origin (host:port, or the proxy) for reuse.
//!
//! LuaSocket closes every connection after one request; libcurl keeps them, which saves
//! a connect (and the server a fork or thread) per request. A connection goes back to the
//! pool only after a complete exchange whose response allowed it; one that the server
//! closed or reset meanwhile, that has unexpected input, or that idled too long is
//! dropped when it is taken.

use crate::proto::conn::TcpConn;
use std::time::{Duration, Instant};

/// How many idle connections a client keeps, over all origins.
pub const DEFAULT_MAX_IDLE: usize = 8;
/// How long an idle connection is kept.
pub const DEFAULT_MAX_IDLE_TIME: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Idle {
    key: String,
    conn: TcpConn,
    since: Instant,
}

/// The idle connections of one client.
#[derive(Debug)]
pub struct Pool {
    idle: Vec<Idle>,
    pub max_idle: usize,
    pub max_idle_time: Duration,
}

impl Default for Pool {
    fn default() -> Pool {
        Pool {
            idle: Vec::new(),
            max_idle: DEFAULT_MAX_IDLE,
            max_idle_time: DEFAULT_MAX_IDLE_TIME,
        }
    }
}

impl Pool {
    pub fn new() -> Pool {
        Pool::default()
    }

    /// The number of idle connections held.
    pub fn len(&self) -> usize {
        self.idle.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idle.is_empty()
    }

    /// The most recently used idle connection for `key` that still looks usable. Expired
    /// and stale connections met on the way are closed.
    pub fn take(&mut self, key: &str) -> Option<TcpConn> {
        let now = Instant::now();
        let max = self.max_idle_time;
        self.idle.retain_mut(|i| {
            let keep = now.duration_since(i.since) <= max;
            if !keep {
                i.conn.close();
            }
            keep
        });
        while let Some(pos) = self.idle.iter().rposition(|i| i.key == key) {
            let mut idle = self.idle.remove(pos);
            if idle.conn.is_stale() {
                idle.conn.close();
                continue;
            }
            return Some(idle.conn);
        }
        None
    }

    /// Keeps `conn` for `key`; the oldest idle connection goes when the pool is full.
    pub fn put(&mut self, key: String, conn: TcpConn) {
        if self.max_idle == 0 {
            let mut conn = conn;
            conn.close();
            return;
        }
        while self.idle.len() >= self.max_idle {
            let mut old = self.idle.remove(0);
            old.conn.close();
        }
        self.idle.push(Idle {
            key,
            conn,
            since: Instant::now(),
        });
    }

    /// Closes every idle connection.
    pub fn clear(&mut self) {
        for mut i in self.idle.drain(..) {
            i.conn.close();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::timeout::Timeout;
    use std::net::TcpListener;

    fn pair(l: &TcpListener) -> (TcpConn, std::net::TcpStream) {
        let port = l.local_addr().unwrap().port();
        let c = TcpConn::connect("127.0.0.1", port, Timeout::default()).unwrap();
        let (s, _) = l.accept().unwrap();
        (c, s)
    }

    #[test]
    fn reuse_stale_and_limits() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut pool = Pool::new();
        let (a, _sa) = pair(&l);
        let (b, sb) = pair(&l);
        let a_local = a.local().unwrap();
        pool.put("h:1".into(), a);
        pool.put("h:2".into(), b);
        assert!(pool.take("h:3").is_none());
        let got = pool.take("h:1").unwrap();
        assert_eq!(got.local().unwrap(), a_local);
        assert_eq!(pool.len(), 1);

        // the server closed b: it is dropped when taken
        drop(sb);
        std::thread::sleep(Duration::from_millis(50));
        assert!(pool.take("h:2").is_none());
        assert!(pool.is_empty());

        pool.max_idle = 2;
        let mut keep = Vec::new();
        for _ in 0..3 {
            let (c, s) = pair(&l);
            keep.push(s);
            pool.put("k".into(), c);
        }
        assert_eq!(pool.len(), 2);

        pool.max_idle_time = Duration::ZERO;
        std::thread::sleep(Duration::from_millis(5));
        assert!(pool.take("k").is_none());
        assert!(pool.is_empty());
    }
}
