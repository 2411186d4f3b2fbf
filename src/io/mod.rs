//! Timeouts and the buffered stream.

pub mod timeout;
