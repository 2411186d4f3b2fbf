//! Timeouts and the buffered stream.

pub mod pattern;
pub mod readbuf;
pub mod stream;
pub mod timeout;

pub use pattern::{Pattern, ReadEnd};
pub use readbuf::LineMode;
pub use stream::{Interest, Shutdown, Stream, StreamKind, Wait};
