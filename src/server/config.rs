//! A worker pool's parameters, by the names Moonbridge's `listen{...}` gives them, with
//! Moonbridge's defaults.

use crate::error::{Error, Result};
use std::time::Duration;

/// What a pool was told; unset values take their defaults in `resolve`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoolConfig {
    pre_fork: Option<usize>,
    min_fork: Option<usize>,
    max_fork: Option<usize>,
    fork_delay: Option<Duration>,
    fork_error_delay: Option<Duration>,
    exit_delay: Option<Duration>,
    idle_timeout: Option<Duration>,
    memory_limit: Option<u64>,
}

/// The parameters in force, every one of them decided.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolParams {
    /// Spare (idle, or still preparing) workers wanted.
    pub pre_fork: usize,
    /// Workers kept in any case.
    pub min_fork: usize,
    /// Hard limit on workers.
    pub max_fork: usize,
    /// Time between two forks.
    pub fork_delay: Duration,
    /// Time to wait after a fork, or a worker's prepare handler, failed.
    pub fork_error_delay: Duration,
    /// Time between ending two excess spare workers.
    pub exit_delay: Duration,
    /// An idle worker ends after this long (None: never).
    pub idle_timeout: Option<Duration>,
    /// A worker ends after a connection that left it above this many resident bytes
    /// (None: no limit).
    pub memory_limit: Option<u64>,
}

/// The longest delay accepted (Moonbridge's limit, about three years).
const MAX_SECS: f64 = 100_000_000.0;

fn count(name: &str, v: f64) -> Result<usize> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e9 {
        Ok(v as usize)
    } else {
        Err(Error::invalid(format!(
            "{name} must be a non-negative whole number, not {v}"
        )))
    }
}

fn delay(name: &str, v: f64) -> Result<Duration> {
    if v.is_finite() && (0.0..=MAX_SECS).contains(&v) {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(Error::invalid(format!(
            "{name} must be a number of seconds from 0 to {MAX_SECS}, not {v}"
        )))
    }
}

impl PoolConfig {
    /// The parameter names `set` knows (`idle_time`, the spec's name, is `idle_timeout`).
    pub const NAMES: [&'static str; 9] = [
        "pre_fork",
        "min_fork",
        "max_fork",
        "fork_delay",
        "fork_error_delay",
        "exit_delay",
        "idle_timeout",
        "idle_time",
        "memory_limit",
    ];

    /// Sets one parameter by its `listen{...}` name. Counts are whole numbers; delays and
    /// `idle_timeout` are seconds (`idle_timeout` 0 = none); `memory_limit` is bytes
    /// (0 = none).
    pub fn set(&mut self, name: &str, value: f64) -> Result<()> {
        match name {
            "pre_fork" => self.pre_fork = Some(count(name, value)?),
            "min_fork" => self.min_fork = Some(count(name, value)?),
            "max_fork" => self.max_fork = Some(count(name, value)?),
            "fork_delay" => self.fork_delay = Some(delay(name, value)?),
            "fork_error_delay" => self.fork_error_delay = Some(delay(name, value)?),
            "exit_delay" => self.exit_delay = Some(delay(name, value)?),
            "idle_timeout" | "idle_time" => self.idle_timeout = Some(delay(name, value)?),
            "memory_limit" => {
                if !(value.is_finite() && value >= 0.0) {
                    return Err(Error::invalid(format!(
                        "memory_limit must be a non-negative number of bytes, not {value}"
                    )));
                }
                self.memory_limit = Some(value as u64);
            }
            _ => {
                return Err(Error::invalid(format!(
                    "unknown pool parameter \"{name}\" (known: {})",
                    Self::NAMES.join(", ")
                )))
            }
        }
        Ok(())
    }

    /// The parameters with Moonbridge's defaults filled in: `pre_fork` 1, `min_fork` the
    /// larger of `pre_fork` and 2, `max_fork` the larger of `min_fork` and 16,
    /// `fork_delay` 0.25 s, `fork_error_delay` 2 s (never below `fork_delay`),
    /// `exit_delay` 60 s, no idle timeout, no memory limit. Fails when the values
    /// contradict each other (`max_fork` 0, or below `min_fork`).
    pub fn resolve(&self) -> Result<PoolParams> {
        let pre_fork = self.pre_fork.unwrap_or(1);
        let min_fork = self.min_fork.unwrap_or(pre_fork.max(2));
        let max_fork = self.max_fork.unwrap_or(min_fork.max(16));
        if max_fork == 0 {
            return Err(Error::invalid("max_fork must be at least 1"));
        }
        if min_fork > max_fork {
            return Err(Error::invalid(format!(
                "min_fork ({min_fork}) is larger than max_fork ({max_fork})"
            )));
        }
        let fork_delay = self.fork_delay.unwrap_or(Duration::from_millis(250));
        let fork_error_delay = self
            .fork_error_delay
            .unwrap_or(Duration::from_secs(2))
            .max(fork_delay);
        Ok(PoolParams {
            pre_fork,
            min_fork,
            max_fork,
            fork_delay,
            fork_error_delay,
            exit_delay: self.exit_delay.unwrap_or(Duration::from_secs(60)),
            idle_timeout: self.idle_timeout.filter(|d| !d.is_zero()),
            memory_limit: self.memory_limit.filter(|&m| m > 0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_moonbridge() {
        let p = PoolConfig::default().resolve().unwrap();
        assert_eq!((p.pre_fork, p.min_fork, p.max_fork), (1, 2, 16));
        assert_eq!(p.fork_delay, Duration::from_millis(250));
        assert_eq!(p.fork_error_delay, Duration::from_secs(2));
        assert_eq!(p.exit_delay, Duration::from_secs(60));
        assert_eq!((p.idle_timeout, p.memory_limit), (None, None));

        let mut c = PoolConfig::default();
        c.set("pre_fork", 5.0).unwrap();
        let p = c.resolve().unwrap();
        assert_eq!((p.pre_fork, p.min_fork, p.max_fork), (5, 5, 16));
        c.set("min_fork", 20.0).unwrap();
        assert_eq!(c.resolve().unwrap().max_fork, 20);
    }

    #[test]
    fn values_are_checked() {
        let mut c = PoolConfig::default();
        assert!(c.set("pre_fork", -1.0).is_err());
        assert!(c.set("pre_fork", 1.5).is_err());
        assert!(c.set("fork_delay", -0.1).is_err());
        assert!(c.set("fork_delay", f64::NAN).is_err());
        assert!(c.set("memory_limit", -5.0).is_err());
        let e = c.set("pre_forks", 1.0).unwrap_err();
        assert!(
            e.msg.contains("unknown pool parameter \"pre_forks\""),
            "{}",
            e.msg
        );
        c.set("min_fork", 4.0).unwrap();
        c.set("max_fork", 3.0).unwrap();
        assert!(c.resolve().unwrap_err().msg.contains("min_fork (4)"));
        c.set("max_fork", 0.0).unwrap();
        c.set("min_fork", 0.0).unwrap();
        assert!(c.resolve().is_err());
    }

    #[test]
    fn zero_means_none_and_error_delay_covers_fork_delay() {
        let mut c = PoolConfig::default();
        c.set("idle_time", 0.0).unwrap();
        c.set("memory_limit", 0.0).unwrap();
        c.set("fork_delay", 3.0).unwrap();
        c.set("fork_error_delay", 1.0).unwrap();
        let p = c.resolve().unwrap();
        assert_eq!((p.idle_timeout, p.memory_limit), (None, None));
        assert_eq!(p.fork_error_delay, Duration::from_secs(3));
        c.set("idle_timeout", 1.5).unwrap();
        c.set("memory_limit", 1e6).unwrap();
        let p = c.resolve().unwrap();
        assert_eq!(p.idle_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(p.memory_limit, Some(1_000_000));
    }
}
