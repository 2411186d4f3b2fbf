//! Sockets, select/poll, DNS and time.

pub mod addr;
pub mod dgram;
pub mod dns;
pub mod options;
pub mod select;
pub mod socket;
pub mod tcp;
pub mod time;
pub mod udp;
pub mod unix;
pub mod unix_dgram;

use std::os::fd::RawFd;

/// Something select/poll can wait on.
pub trait Pollable {
    /// The descriptor to poll, or `None` when closed (closed objects are ignored).
    fn poll_fd(&self) -> Option<RawFd>;
    /// True when input is already buffered in user space, so the object is readable
    /// without asking the kernel (LuaSocket's "dirty").
    fn has_buffered_input(&self) -> bool {
        false
    }
}
