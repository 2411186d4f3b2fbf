//! sockit: a networking toolkit with a C ABI.
//!
//! Layers, dependencies pointing down only:
//! - `ffi`: the C API (opaque handles, statuses, panic boundary);
//! - `ltn12`: sources, sinks, filters and pumps; `mime` and `url`: pure transforms;
//! - `net`: TCP, UDP, Unix sockets, select/poll, DNS, time;
//! - `io`: timeouts and the buffered stream that serves every read shape;
//! - `sys`: the only place that makes raw system calls.

pub mod error;
pub mod ffi;
pub mod io;
pub mod ltn12;
pub mod mime;
pub mod net;
pub mod sys;
pub mod url;

pub use error::{Error, ErrorKind, Result};
