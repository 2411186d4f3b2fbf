//! C API of URLs: `sockit_url` (parse, get/set fields, build), reference resolution,
//! escaping. Text results are NUL-terminated in their buffer (`sockit_buffer_cstr`).
//! None of these calls blocks.

#![allow(clippy::missing_safety_doc)] // each exported function documents its contract in its doc comment

use super::boundary::{bytes_arg, guard, out_arg, str_arg};
use super::buffer::{set_text, sockit_buffer};
use super::handle::{impl_handle, Shell};
use super::ltn12::out_handle;
use super::status::sockit_status;
use crate::error::{Error, Result};
use crate::url::{self, Url};
use crate::url_luasocket;
use std::ffi::{c_char, c_int};

/// A URL split into LuaSocket's fields (see `sockit_url_part`). Made by `sockit_url_parse`
/// or `sockit_url_new`, released with `sockit_url_free`.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_url(Shell<Url>);
impl_handle!(sockit_url, Url, "url");

/// A field of a `sockit_url`: one of `SOCKIT_URL_*`, LuaSocket's names for the parts of
/// `scheme://user:password@host:port/path;params?query#fragment` (authority is
/// `userinfo@host:port`, userinfo is `user:password`).
#[allow(non_camel_case_types)]
pub type sockit_url_part = c_int;
/// The scheme field of a `sockit_url`.
pub const SOCKIT_URL_SCHEME: sockit_url_part = 0;
/// The authority field of a `sockit_url`.
pub const SOCKIT_URL_AUTHORITY: sockit_url_part = 1;
/// The userinfo field of a `sockit_url`.
pub const SOCKIT_URL_USERINFO: sockit_url_part = 2;
/// The user field of a `sockit_url`.
pub const SOCKIT_URL_USER: sockit_url_part = 3;
/// The password field of a `sockit_url`.
pub const SOCKIT_URL_PASSWORD: sockit_url_part = 4;
/// The host field of a `sockit_url`.
pub const SOCKIT_URL_HOST: sockit_url_part = 5;
/// The port field of a `sockit_url`.
pub const SOCKIT_URL_PORT: sockit_url_part = 6;
/// The path field of a `sockit_url`.
pub const SOCKIT_URL_PATH: sockit_url_part = 7;
/// The params field of a `sockit_url`.
pub const SOCKIT_URL_PARAMS: sockit_url_part = 8;
/// The query field of a `sockit_url`.
pub const SOCKIT_URL_QUERY: sockit_url_part = 9;
/// The fragment field of a `sockit_url`.
pub const SOCKIT_URL_FRAGMENT: sockit_url_part = 10;

fn part_arg(part: sockit_url_part) -> Result<usize> {
    if (0..url::FIELDS.len() as c_int).contains(&part) {
        Ok(part as usize)
    } else {
        Err(Error::invalid(format!(
            "part {part} is not a sockit_url_part"
        )))
    }
}

/// Parses `url` (NUL-terminated UTF-8) into a new `sockit_url` owned by the caller.
/// Malformed URLs (empty, control characters, a bad port, a bad bracketed host) give
/// `SOCKIT_INVALID` with the reason. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_url_parse(
    url: *const c_char,
    out: *mut *mut sockit_url,
) -> sockit_status {
    guard(|| {
        let out = out_handle(out)?;
        let u = Url::parse(str_arg(url, "url")?)?;
        *out = sockit_url::new(u);
        Ok(())
    })
}

/// A new `sockit_url` with no fields, for building. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_url_new(out: *mut *mut sockit_url) -> sockit_status {
    guard(|| {
        *out_handle(out)? = sockit_url::new(Url::default());
        Ok(())
    })
}

/// Frees `url`. NULL or a freed handle is ignored. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_url_free(url: *mut sockit_url) {
    sockit_url::free(url)
}

/// Copies field `part` (a `sockit_url_part`) of `url` into `value` (cleared first,
/// NUL-terminated); `*present` tells whether the field is there (a field can be present
/// and empty). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_url_get(
    url: *const sockit_url,
    part: sockit_url_part,
    value: *mut sockit_buffer,
    present: *mut bool,
) -> sockit_status {
    guard(|| {
        let present = out_arg(present, "present")?;
        let i = part_arg(part)?;
        let v = sockit_url::with(url, |u| Ok(u.field(i).cloned().flatten()))?;
        *present = v.is_some();
        sockit_buffer::with(value, |b| {
            set_text(b, v.as_deref().unwrap_or("").as_bytes());
            Ok(())
        })
    })
}

/// Sets field `part` of `url` to `value` (NUL-terminated UTF-8, copied), or removes it
/// when `value` is NULL. A port must be decimal and at most 65535 (or empty). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_url_set(
    url: *mut sockit_url,
    part: sockit_url_part,
    value: *const c_char,
) -> sockit_status {
    guard(|| {
        let i = part_arg(part)?;
        let v = if value.is_null() {
            None
        } else {
            Some(str_arg(value, "value")?.to_string())
        };
        if let (Some(p), 6) = (&v, i) {
            let digits = p.trim_start_matches('0');
            if !p.bytes().all(|c| c.is_ascii_digit())
                || digits.len() > 5
                || digits.parse::<u32>().unwrap_or(0) > 65535
            {
                return Err(Error::invalid(format!(
                    "port {p:?} is not a number up to 65535"
                )));
            }
        }
        sockit_url::with(url, |u| {
            if let Some(f) = u.field_mut(i) {
                *f = v;
            }
            Ok(())
        })
    })
}

/// Builds the URL string from the fields of `url` into `out` (as `socket.url.build`:
/// host, port, user and password take precedence over authority and userinfo).
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_url_build(
    url: *const sockit_url,
    out: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let s = sockit_url::with(url, |u| Ok(u.build()))?;
        sockit_buffer::with(out, |b| {
            set_text(b, s.as_bytes());
            Ok(())
        })
    })
}

/// Resolves the reference `relative` against `base` (the RFC 3986 resolver, section 5.2)
/// into `out`; `sockit_url_absolute_luasocket` resolves as LuaSocket 3 does, which
/// differs from it on some references. An empty `base` gives `relative`. Malformed URLs give `SOCKIT_INVALID`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_url_absolute(
    base: *const c_char,
    relative: *const c_char,
    out: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let s = url::absolute(str_arg(base, "base")?, str_arg(relative, "relative")?)?;
        sockit_buffer::with(out, |b| {
            set_text(b, s.as_bytes());
            Ok(())
        })
    })
}

/// The number of parts of a URL: `SOCKIT_URL_SCHEME` .. `SOCKIT_URL_FRAGMENT`, the size
/// of the arrays `sockit_url_split` fills.
pub const SOCKIT_URL_PARTS: usize = 11;

/// Splits `url` (`len` bytes, any bytes) exactly as LuaSocket 3's `socket.url.parse`
/// does, where `sockit_url_parse` is strict: nothing is refused but an empty URL, a port
/// is kept as text (possibly empty or not a number), the authority ends only at a `/`
/// (so it may hold `?`, `#` or `;`), the first `@` ends the userinfo. Fills the three
/// caller-owned arrays of `SOCKIT_URL_PARTS` entries, indexed by `sockit_url_part`: for a
/// part that is there `present[i]` is true and the part is the `lens[i]` bytes at
/// `url + starts[i]`; for one that is not, `present[i]` is false and `starts[i]`,
/// `lens[i]` are 0. An empty URL gives `SOCKIT_INVALID` ("invalid url") with every part
/// absent. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_url_split(
    url: *const u8,
    len: usize,
    starts: *mut usize,
    lens: *mut usize,
    present: *mut bool,
) -> sockit_status {
    guard(|| {
        let data = bytes_arg(url, len, "url")?;
        for (p, name) in [
            (starts.is_null(), "starts"),
            (lens.is_null(), "lens"),
            (present.is_null(), "present"),
        ] {
            if p {
                return Err(Error::invalid(format!("{name} is NULL")));
            }
        }
        let starts = std::slice::from_raw_parts_mut(starts, SOCKIT_URL_PARTS);
        let lens = std::slice::from_raw_parts_mut(lens, SOCKIT_URL_PARTS);
        let present = std::slice::from_raw_parts_mut(present, SOCKIT_URL_PARTS);
        let spans = url_luasocket::split(data);
        for (i, span) in spans.iter().enumerate() {
            present[i] = span.is_some();
            let r = span.clone().unwrap_or(0..0);
            starts[i] = r.start;
            lens[i] = r.len();
        }
        if data.is_empty() {
            return Err(Error::invalid("invalid url"));
        }
        Ok(())
    })
}

/// Resolves `relative` against `base` (each `*_len` bytes, any bytes) exactly as LuaSocket
/// 3's `socket.url.absolute` does, into `out`; `sockit_url_absolute` is the RFC 3986
/// resolver. LuaSocket's rules: an empty base gives the reference, an empty reference the
/// base, a reference with a scheme is kept; otherwise the reference takes the base's
/// scheme and, without an authority of its own, the base's authority and then path,
/// params and query, each only when it has none of the one before (a relative path joins
/// the base path after its last `/`, or `/`). The result then has LuaSocket's dot
/// segments removed over its whole text, query and fragment included ("g?y/./x" gives
/// ".../g?y/x"). Never fails on any input but NULL pointers. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_url_absolute_luasocket(
    base: *const u8,
    base_len: usize,
    relative: *const u8,
    relative_len: usize,
    out: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let v = url_luasocket::absolute(
            bytes_arg(base, base_len, "base")?,
            bytes_arg(relative, relative_len, "relative")?,
        );
        sockit_buffer::with(out, |b| {
            set_text(b, &v);
            Ok(())
        })
    })
}

/// `socket.url.escape`: every byte of `data` except ASCII letters, digits and `_` becomes
/// `%xx`. Result in `out` (cleared first; `data` must not point into it). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_url_escape(
    data: *const u8,
    len: usize,
    out: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let s = url::escape(bytes_arg(data, len, "data")?);
        sockit_buffer::with(out, |b| {
            set_text(b, s.as_bytes());
            Ok(())
        })
    })
}

/// `socket.url.unescape`: every `%XX` of `data` becomes its byte (the result may contain
/// NUL). Result in `out` (cleared first). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_url_unescape(
    data: *const u8,
    len: usize,
    out: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let v = url::unescape(bytes_arg(data, len, "data")?);
        sockit_buffer::with(out, |b| {
            set_text(b, &v);
            Ok(())
        })
    })
}

/// Escapes one path segment as `socket.url.build_path` does (letters, digits and
/// `_-.!~*'():@&=+$,` stay, every other byte becomes `%XX`). Result in `out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_url_protect_segment(
    data: *const u8,
    len: usize,
    out: *mut sockit_buffer,
) -> sockit_status {
    guard(|| {
        let mut v = Vec::new();
        url::protect_segment(bytes_arg(data, len, "data")?, &mut v);
        sockit_buffer::with(out, |b| {
            set_text(b, &v);
            Ok(())
        })
    })
}
