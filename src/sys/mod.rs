//! The only module that makes raw system calls (through libc and socket2), and the
//! home of the byte scanners that need the C library or SIMD (`scan`).

pub mod fdpass;
pub mod poll;
pub mod process;
pub mod scan;
pub mod signal;
pub mod sigpipe;
