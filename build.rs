//! Generates `sockit.h` from `src/ffi` with cbindgen.
//!
//! The header is always written to `$OUT_DIR/sockit.h`; a unit test compares it with the
//! checked-in `include/sockit.h`, so the two cannot drift apart unnoticed. `make header`
//! (run by plain `make`) sets `SOCKIT_WRITE_HEADER=1`, which also refreshes
//! `include/sockit.h`. The shared library gets a SONAME so that programs link against the
//! ABI major version.

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    // cbindgen reads the whole crate (it follows types out of src/ffi), so any source
    // change may change the header.
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=SOCKIT_WRITE_HEADER");

    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsockit.so.{major}");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    let bindings = match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(b) => b,
        Err(e) => {
            // A parse error in src/ means rustc will report it properly; do not mask it.
            println!("cargo:warning=cbindgen could not generate sockit.h: {e}");
            return;
        }
    };
    bindings.write_to_file(out_dir.join("sockit.h"));
    if env::var_os("SOCKIT_WRITE_HEADER").is_some() {
        bindings.write_to_file(crate_dir.join("include/sockit.h"));
    }
}
