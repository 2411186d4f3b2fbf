//! Wall-clock time and sleeping (LuaSocket's `socket.gettime` / `socket.sleep`, 1.3b's
//! `_time` / `_sleep`).

use crate::io::timeout::secs_to_duration;
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, with the clock's full resolution (microseconds or
/// better). A clock set before 1970 gives a negative value.
pub fn gettime() -> f64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// Sleeps for `secs` seconds. Negative or NaN returns at once; a signal that interrupts
/// the sleep does not shorten it (the remaining time is slept). Very long sleeps are
/// capped at 10^9 seconds.
pub fn sleep(secs: f64) {
    if let Some(d) = secs_to_duration(secs) {
        if !d.is_zero() {
            // std's sleep resumes nanosleep with the remaining time on EINTR.
            std::thread::sleep(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn gettime_is_the_epoch_clock_with_fine_resolution() {
        let a = gettime();
        assert!(a > 1.5e9, "{a}"); // after 2017
        let mut b = gettime();
        let start = Instant::now();
        while b == a && start.elapsed().as_millis() < 100 {
            b = gettime();
        }
        assert!(b >= a);
        assert!(
            b - a < 0.001,
            "resolution worse than a millisecond: {}",
            b - a
        );
    }

    #[test]
    fn sleep_bounds() {
        let t = Instant::now();
        sleep(0.05);
        let e = t.elapsed().as_secs_f64();
        assert!((0.05..0.5).contains(&e), "{e}");
        let t = Instant::now();
        sleep(-1.0);
        sleep(f64::NAN);
        sleep(0.0);
        sleep(f64::NEG_INFINITY);
        assert!(t.elapsed().as_secs_f64() < 0.01);
        let (g0, i0) = (gettime(), Instant::now());
        sleep(0.02);
        let dg = gettime() - g0;
        let di = i0.elapsed().as_secs_f64();
        assert!((dg - di).abs() < 0.01, "{dg} vs {di}");
    }
}
