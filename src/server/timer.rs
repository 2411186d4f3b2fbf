//! Moonbridge's `timeout(...)`: a timer that kills the worker (SIGALRM, default
//! disposition) when it runs out.
//!
//! - `set(n)` arms it for n seconds (`set(0)` disarms it) and returns what was left before;
//! - `left()` tells what is left (0 when it is not armed);
//! - `call(n, f)` limits `f` to n seconds with a sub-timer: when a timer is armed already
//!   and has less time left, that one keeps running instead; afterwards the outer timer
//!   continues with the time it had left minus the time `f` took;
//! - the worker disarms the timer whenever a prepare or connect handler returns (`reset`).

use crate::error::{Error, Result};
use crate::sys::process;
use std::time::Duration;

fn seconds(n: f64) -> Result<Duration> {
    if n.is_finite() && (0.0..=100_000_000.0).contains(&n) {
        Ok(Duration::from_secs_f64(n))
    } else {
        Err(Error::invalid(format!(
            "timeout: expected seconds from 0 to 100000000, got {n}"
        )))
    }
}

fn arm(d: Duration) -> Result<Duration> {
    process::set_alarm(d).map_err(|e| Error::io("timeout: setitimer", &e))
}

/// Arms the timer for `secs` seconds (0 disarms it); returns the seconds that were left.
pub fn set(secs: f64) -> Result<f64> {
    let d = seconds(secs)?;
    // An armed timer of less than a microsecond would read as disarmed; round it up.
    let d = if !d.is_zero() && d < Duration::from_micros(1) {
        Duration::from_micros(1)
    } else {
        d
    };
    Ok(arm(d)?.as_secs_f64())
}

/// The seconds left on the timer (0 when it is not armed).
pub fn left() -> f64 {
    process::alarm_left().as_secs_f64()
}

/// Runs `f` limited to `secs` seconds (see the module comment); `secs` 0 adds no limit
/// of its own. Returns what `f` returned.
pub fn call<R>(secs: f64, f: impl FnOnce() -> R) -> Result<R> {
    let new = seconds(secs)?;
    if new.is_zero() {
        return Ok(f());
    }
    let old = process::alarm_left();
    if old.is_zero() {
        arm(new)?;
        let r = f();
        arm(Duration::ZERO)?;
        Ok(r)
    } else if new < old {
        arm(new)?;
        let r = f();
        let rem = process::alarm_left();
        // The outer timer lost the sub-timer's time that was used: new - rem.
        let outer = old.saturating_sub(new.saturating_sub(rem));
        arm(outer.max(Duration::from_micros(1)))?;
        Ok(r)
    } else {
        Ok(f())
    }
}

/// Disarms the timer (after a handler returned).
pub(crate) fn reset() {
    let _ = process::set_alarm(Duration::ZERO);
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the timer is process-wide. SIGALRM never fires (all times are long).
    #[test]
    fn set_left_and_sub_timers() {
        assert_eq!(set(0.0).unwrap(), 0.0);
        assert_eq!(left(), 0.0);
        assert_eq!(set(500.0).unwrap(), 0.0);
        let l = left();
        assert!(l > 499.0 && l <= 500.0, "{l}");
        // A shorter sub-timer runs during f, then the outer one goes on.
        let inner = call(100.0, left).unwrap();
        assert!(inner > 99.0 && inner <= 100.0, "{inner}");
        let after = left();
        assert!(after > 498.0 && after <= 500.0, "{after}");
        // A longer one leaves the outer timer in charge.
        let inner = call(1000.0, left).unwrap();
        assert!(inner > 498.0 && inner <= 500.0, "{inner}");
        // 0 adds no limit.
        let inner = call(0.0, left).unwrap();
        assert!(inner > 498.0, "{inner}");
        let was = set(0.0).unwrap();
        assert!(was > 498.0);
        // With no outer timer, the sub-timer is disarmed afterwards.
        assert!(call(300.0, left).unwrap() > 299.0);
        assert_eq!(left(), 0.0);
        assert!(set(-1.0).is_err());
        assert!(call(f64::NAN, || ()).is_err());
        reset();
        assert_eq!(left(), 0.0);
    }
}
