//! sockit: a networking toolkit with a C ABI.
//!
//! Layers, dependencies pointing down only:
//! - `ffi`: the C API (opaque handles, statuses, panic boundary);
//! - `server`: the prefork server (Moonbridge's process model: listeners, worker pool);
//! - `proto`: protocol clients (tp, HTTP, FTP, SMTP);
//! - `ltn12`: sources, sinks, filters and pumps; `mime` and `url`: pure transforms;
//! - `net`: TCP, UDP, Unix sockets, select/poll, DNS, time;
//! - `io`: timeouts and the buffered stream that serves every read shape;
//! - `sys`: the only place that makes raw system calls.

/// cbindgen:ignore
pub mod error;
pub mod ffi;
/// cbindgen:ignore
pub mod io;
/// cbindgen:ignore
pub mod ltn12;
/// cbindgen:ignore
pub mod mime;
/// cbindgen:ignore
pub mod net;
/// cbindgen:ignore
pub mod proto;
/// cbindgen:ignore
pub mod server;
/// cbindgen:ignore
pub mod sys;
/// cbindgen:ignore
pub mod url;
/// cbindgen:ignore
pub mod url_luasocket;

pub use error::{Error, ErrorKind, Result};

// Only `ffi` is read by cbindgen (the other modules are marked `cbindgen:ignore`), so the
// header declares the C API and nothing of the Rust core.
