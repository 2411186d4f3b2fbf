//! Per-socket timeouts, LuaSocket style: a *block* timeout bounds each wait, a *total*
//! timeout bounds the whole call; either, both or neither may be set.
//!
//! A negative (or NaN) value means "wait forever", 0 means "never wait". The mode is known
//! by its first letter: "b"/"block" set the block timeout; "t"/"total" (LuaSocket 2+) and
//! "r"/"return" (LuaSocket 1.3b) set the total timeout.

use crate::error::{Error, Result};
use std::time::{Duration, Instant};

/// The timeouts configured on a socket. `None` waits forever.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timeout {
    pub block: Option<Duration>,
    pub total: Option<Duration>,
}

/// Which timeout a `settimeout` call changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutMode {
    Block,
    Total,
}

impl TimeoutMode {
    /// Parses a mode by its first letter, like LuaSocket: "b..." is block, "t..." and
    /// "r..." are total. Anything else, the empty string included, is an invalid mode
    /// (callers that take an optional mode use "b" when none is given).
    pub fn parse(mode: &str) -> Result<TimeoutMode> {
        match mode.as_bytes().first() {
            Some(b'b') => Ok(TimeoutMode::Block),
            Some(b't') | Some(b'r') => Ok(TimeoutMode::Total),
            _ => Err(Error::invalid(format!("invalid timeout mode '{mode}'"))),
        }
    }
}

/// Seconds as a C caller gives them: negative or NaN is "forever".
pub fn secs_to_duration(secs: f64) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        None
    } else if secs > 1.0e9 {
        Some(Duration::from_secs(1_000_000_000))
    } else {
        Some(Duration::from_secs_f64(secs))
    }
}

/// A duration as seconds for a C caller: "forever" is -1.
pub fn duration_to_secs(d: Option<Duration>) -> f64 {
    d.map_or(-1.0, |d| d.as_secs_f64())
}

impl Timeout {
    /// Both timeouts from seconds (negative or NaN = forever).
    pub fn from_secs(block: f64, total: f64) -> Timeout {
        Timeout {
            block: secs_to_duration(block),
            total: secs_to_duration(total),
        }
    }

    /// Sets one of the timeouts from seconds (negative = forever).
    pub fn set(&mut self, mode: TimeoutMode, secs: f64) {
        let d = secs_to_duration(secs);
        match mode {
            TimeoutMode::Block => self.block = d,
            TimeoutMode::Total => self.total = d,
        }
    }

    /// Starts the clock for one call.
    pub fn start(&self) -> Deadline {
        Deadline {
            block: self.block,
            end: self.total.map(|t| Instant::now() + t),
        }
    }

    /// A timeout that never waits.
    pub fn nonblocking() -> Timeout {
        Timeout {
            block: Some(Duration::ZERO),
            total: None,
        }
    }
}

/// The clock of one call: how long the next wait may last.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    block: Option<Duration>,
    end: Option<Instant>,
}

impl Deadline {
    /// A deadline that waits forever.
    pub fn forever() -> Deadline {
        Deadline {
            block: None,
            end: None,
        }
    }

    /// A deadline that never waits.
    pub fn now() -> Deadline {
        Deadline {
            block: Some(Duration::ZERO),
            end: None,
        }
    }

    /// A deadline at `end` (`None` = forever), with no block timeout of its own.
    pub fn until(end: Option<Instant>) -> Deadline {
        Deadline { block: None, end }
    }

    /// A deadline `secs` seconds from now (negative = forever).
    pub fn after_secs(secs: f64) -> Deadline {
        Timeout::from_secs(-1.0, secs).start()
    }

    /// How long the next wait may last: `None` is forever. The smaller of the block
    /// timeout and what is left of the total timeout (LuaSocket's `timeout_getretry`).
    pub fn next_wait(&self) -> Option<Duration> {
        let left = self
            .end
            .map(|end| end.saturating_duration_since(Instant::now()));
        match (self.block, left) {
            (None, None) => None,
            (Some(b), None) => Some(b),
            (None, Some(l)) => Some(l),
            (Some(b), Some(l)) => Some(b.min(l)),
        }
    }

    /// The next wait in whole milliseconds for poll(2): -1 is forever; a non-zero wait
    /// shorter than a millisecond is rounded up so that it does not spin.
    pub fn next_wait_ms(&self) -> i32 {
        match self.next_wait() {
            None => -1,
            Some(d) if d.is_zero() => 0,
            Some(d) => {
                let ms = d.as_nanos().div_ceil(1_000_000);
                ms.min(i32::MAX as u128) as i32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_known_by_first_letter() {
        for m in ["b", "block"] {
            assert_eq!(TimeoutMode::parse(m).unwrap(), TimeoutMode::Block);
        }
        for m in ["t", "total", "r", "return"] {
            assert_eq!(TimeoutMode::parse(m).unwrap(), TimeoutMode::Total);
        }
        assert!(TimeoutMode::parse("x").is_err());
        assert!(TimeoutMode::parse("").is_err());
    }

    #[test]
    fn negative_is_forever_zero_is_now() {
        let mut t = Timeout::default();
        assert_eq!(t.start().next_wait_ms(), -1);
        t.set(TimeoutMode::Block, -3.0);
        assert_eq!(t.start().next_wait_ms(), -1);
        t.set(TimeoutMode::Block, 0.0);
        assert_eq!(t.start().next_wait_ms(), 0);
        t.set(TimeoutMode::Block, f64::NAN);
        assert_eq!(t.block, None);
        let t = Timeout::from_secs(1.5, -1.0);
        assert_eq!(t.block, Some(Duration::from_millis(1500)));
        assert_eq!(t.total, None);
        let t = Timeout::from_secs(f64::NAN, 0.0);
        assert_eq!(t.block, None);
        assert_eq!(t.total, Some(Duration::ZERO));
    }

    #[test]
    fn block_and_total_combine() {
        let mut t = Timeout::default();
        t.set(TimeoutMode::Block, 0.5);
        assert_eq!(t.start().next_wait_ms(), 500);
        t.set(TimeoutMode::Total, 0.2);
        let ms = t.start().next_wait_ms();
        assert!((190..=200).contains(&ms), "{ms}");
        t.set(TimeoutMode::Block, -1.0);
        let dl = t.start();
        std::thread::sleep(Duration::from_millis(50));
        let ms = dl.next_wait_ms();
        assert!((100..=151).contains(&ms), "{ms}");
        let sub_ms = Deadline::after_secs(0.0004);
        assert!(sub_ms.next_wait_ms() <= 1);
    }
}
