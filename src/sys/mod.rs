//! The only module that makes raw system calls (through libc and socket2).

pub mod poll;
pub mod sigpipe;
