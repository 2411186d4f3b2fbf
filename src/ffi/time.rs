//! `sockit_gettime` and `sockit_sleep`.

use super::boundary::guard_value;
use crate::net::time;

/// Seconds since the Unix epoch as a double, with sub-millisecond resolution
/// (LuaSocket's `socket.gettime`). Subtract two values to measure elapsed time.
/// Never fails, never blocks.
#[no_mangle]
pub extern "C" fn sockit_gettime() -> f64 {
    guard_value(0.0, || Ok(time::gettime()))
}

/// Blocks the calling thread for `secs` seconds (LuaSocket's `socket.sleep`). A negative
/// or NaN value returns at once; a signal does not cut the sleep short (the remaining
/// time is slept). Values above 10^9 seconds are capped.
#[no_mangle]
pub extern "C" fn sockit_sleep(secs: f64) {
    guard_value((), || {
        time::sleep(secs);
        Ok(())
    })
}
