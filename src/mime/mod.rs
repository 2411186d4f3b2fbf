//! MIME transforms (RFC 2045-2049), as LuaSocket's `mime` module has them.
//!
//! Each transform exists twice, with identical results:
//! - as an LTN12 [`Filter`](crate::ltn12::Filter): [`Base64Encoder`], [`Base64Decoder`],
//!   [`QpEncoder`], [`QpDecoder`], [`TextWrap`], [`QpWrap`], [`Normalize`], [`DotStuff`];
//! - as the low-level incremental call of LuaSocket's `mime.core`, with the same argument
//!   and result conventions (`None` stands for Lua's nil): [`b64`], [`unb64`], [`qp`],
//!   [`unqp`], [`wrp`], [`qpwrp`], [`eol`], [`dot`].
//!
//! [`encode`], [`decode`], [`wrap`], [`normalize`] and [`stuff`] choose a filter by name
//! as `mime.encode`, `mime.decode`, `mime.wrap`, `mime.normalize` and `mime.stuff` do.

pub mod base64;
pub mod dot;
pub mod eol;
pub mod qp;
pub mod wrap;

pub use base64::{b64, unb64, Base64Decoder, Base64Encoder};
pub use dot::{dot, DotStuff};
pub use eol::{eol, Normalize};
pub use qp::{qp, unqp, QpDecoder, QpEncoder};
pub use wrap::{qpwrp, wrp, QpWrap, TextWrap};

use crate::error::{Error, Result};
use crate::ltn12::BoxFilter;

/// `mime.encode(name, mode)`: "base64", or "quoted-printable" with mode "text" (default)
/// or "binary".
pub fn encode(name: &str, mode: Option<&str>) -> Result<BoxFilter> {
    match (name, mode) {
        ("base64", _) => Ok(Box::new(Base64Encoder::new())),
        ("quoted-printable", None | Some("text")) => Ok(Box::new(QpEncoder::text())),
        ("quoted-printable", Some("binary")) => Ok(Box::new(QpEncoder::binary())),
        _ => Err(Error::invalid(format!("unknown key ({name})"))),
    }
}

/// `mime.decode(name)`: "base64" or "quoted-printable".
pub fn decode(name: &str) -> Result<BoxFilter> {
    match name {
        "base64" => Ok(Box::new(Base64Decoder::new())),
        "quoted-printable" => Ok(Box::new(QpDecoder::new())),
        _ => Err(Error::invalid(format!("unknown key ({name})"))),
    }
}

/// `mime.wrap(name, length)`: "text", "base64" (both wrap at `length`, default 76) or
/// "quoted-printable" (soft breaks; LuaSocket fixes its length at 76, so does this).
pub fn wrap(name: &str, length: Option<i64>) -> Result<BoxFilter> {
    match name {
        "text" | "base64" | "default" => Ok(Box::new(TextWrap::new(
            length.unwrap_or(wrap::DEFAULT_LENGTH),
        ))),
        "quoted-printable" => Ok(Box::new(QpWrap::default())),
        _ => Err(Error::invalid(format!("unknown key ({name})"))),
    }
}

/// `mime.normalize(marker)`: line breaks to `marker` (default CRLF).
pub fn normalize(marker: Option<&[u8]>) -> BoxFilter {
    Box::new(Normalize::new(marker.unwrap_or(eol::CRLF)))
}

/// `mime.stuff()`: SMTP dot-stuffing.
pub fn stuff() -> BoxFilter {
    Box::new(DotStuff::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltn12::filter_all;

    #[test]
    fn filters_by_name() {
        assert_eq!(
            filter_all(&mut encode("base64", None).unwrap(), b"a").unwrap(),
            b"YQ=="
        );
        assert_eq!(
            filter_all(
                &mut encode("quoted-printable", Some("binary")).unwrap(),
                b"\r\n"
            )
            .unwrap(),
            b"=0D=0A"
        );
        assert_eq!(
            filter_all(&mut decode("quoted-printable").unwrap(), b"=41").unwrap(),
            b"A"
        );
        assert_eq!(
            filter_all(&mut wrap("text", Some(2)).unwrap(), b"abc").unwrap(),
            b"ab\r\nc\r\n"
        );
        assert_eq!(
            filter_all(&mut normalize(None), b"a\nb").unwrap(),
            b"a\r\nb"
        );
        assert_eq!(filter_all(&mut stuff(), b".").unwrap(), b"..");
        assert_eq!(encode("uu", None).err().unwrap().msg, "unknown key (uu)");
        assert!(decode("x").is_err() && wrap("x", None).is_err());
        assert!(encode("quoted-printable", Some("weird")).is_err());
    }
}
