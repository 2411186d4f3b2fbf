//! The C API. Only this module has `#[no_mangle]`, raw pointers and `CStr`. One file per
//! handle family, named after the core module it exposes; `boundary` holds the panic
//! boundary and argument helpers, `handle` the opaque-handle machinery.
#![allow(clippy::missing_safety_doc)] // each exported function documents its contract in its doc comment

pub mod boundary;
pub mod buffer;
pub mod dns;
pub mod form;
pub mod ftp;
pub mod handle;
pub mod http;
pub mod http_message;
pub mod http_server;
pub mod http_socket;
pub mod ltn12;
pub mod mime;
pub mod options;
pub mod select;
pub mod server;
pub mod smtp;
pub mod socket;
pub mod status;
pub mod time;
pub mod tp;
pub mod udp;
pub mod unix_dgram;
pub mod url;

#[cfg(test)]
mod header_drift {
    /// The checked-in header must equal what cbindgen generates from this source now.
    #[test]
    fn checked_in_header_matches_fresh_generation() {
        let fresh = include_str!(concat!(env!("OUT_DIR"), "/sockit.h"));
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/sockit.h");
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            fresh == checked_in,
            "include/sockit.h differs from the header generated from src/ffi; run `make header`"
        );
    }
}
