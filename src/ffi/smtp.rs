//! `sockit_smtp`: sending mail (LuaSocket 3's `smtp.send`, 1.3b's `smtp_mail`, CGILua's
//! `mail{...}`), and `sockit_mail_part`: composing messages with MIME parts (LuaSocket 3's
//! `smtp.message`), produced as a `sockit_source`.
#![allow(clippy::missing_safety_doc)] // each exported function documents its contract in its doc comment

use super::boundary::{
    bytes_arg, credentials_arg, guard, handle_out, opt_str_arg, port_arg, put, str_arg,
};
use super::handle::{impl_handle, Shell};
use super::ltn12::take_source;
use super::ltn12::{sockit_source, SourceObj};
use super::status::sockit_status;
use crate::error::{Error, Result};
use crate::io::timeout::Timeout;
use crate::ltn12::source::BytesSource;
use crate::proto::headers::Headers;
use crate::proto::mail::{Body, Part};
use crate::proto::smtp::{self, Options, SMTP_PORT};
use std::ffi::{c_char, c_int, CStr};

/// Where and how to send mail: server, EHLO name, credentials, timeouts. Owned by the
/// caller; each send makes its own connection.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_smtp(Shell<Options>);
impl_handle!(sockit_smtp, Options, "smtp");

/// A mail message or one part of a multipart message: header fields and a body (bytes, a
/// source, or parts). Owned by the caller until given to `sockit_mail_part_add_part` or
/// `sockit_mail_message`, which take it.
#[allow(non_camel_case_types, dead_code)]
pub struct sockit_mail_part(Shell<Part>);
impl_handle!(sockit_mail_part, Part, "mail part");

/// `n` strings at `list` (NULL allowed when `n` is 0).
unsafe fn str_list(list: *const *const c_char, n: usize, what: &str) -> Result<Vec<String>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if list.is_null() {
        return Err(Error::invalid(format!(
            "{what} is NULL but its count is {n}"
        )));
    }
    (0..n)
        .map(|i| {
            let p = *list.add(i);
            if p.is_null() {
                return Err(Error::invalid(format!("{what}[{i}] is NULL")));
            }
            CStr::from_ptr(p)
                .to_str()
                .map(str::to_string)
                .map_err(|_| Error::invalid(format!("{what}[{i}] is not valid UTF-8")))
        })
        .collect()
}

unsafe fn take_part(p: *mut sockit_mail_part, what: &str) -> Result<Part> {
    let part = sockit_mail_part::with(p, |x| Ok(std::mem::take(x))).map_err(|e| e.context(what))?;
    sockit_mail_part::free(p);
    Ok(part)
}

// ----- sending -------------------------------------------------------------------------

/// Settings for sending through the server at `host`:`port` (0 = 25), in `*out` (owned by
/// the caller): EHLO name "localhost", no credentials, 60 s per wait. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_smtp_new(
    host: *const c_char,
    port: c_int,
    out: *mut *mut sockit_smtp,
) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        let host = str_arg(host, "host")?;
        let port = match port_arg(port, "port")? {
            0 => SMTP_PORT,
            p => p,
        };
        *out = sockit_smtp::new(Options::new(host, port));
        Ok(())
    })
}

/// Releases the settings. NULL or freed: ignored. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_smtp_free(smtp: *mut sockit_smtp) {
    sockit_smtp::free(smtp)
}

/// The name sent with EHLO/HELO (CR, LF, NUL refused). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_smtp_set_domain(
    smtp: *mut sockit_smtp,
    domain: *const c_char,
) -> sockit_status {
    guard(|| {
        let d = str_arg(domain, "domain")?;
        crate::proto::conn::check_wire_text("domain", d.as_bytes())?;
        sockit_smtp::with(smtp, |o| {
            o.domain = d.to_string();
            Ok(())
        })
    })
}

/// Credentials for AUTH PLAIN (or LOGIN, when the server offers only that); a NULL `user`
/// removes them. Sending fails with `SOCKIT_UNSUPPORTED` when credentials are set and the
/// server offers neither. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_smtp_set_auth(
    smtp: *mut sockit_smtp,
    user: *const c_char,
    password: *const c_char,
) -> sockit_status {
    guard(|| {
        let auth = credentials_arg(user, password)?;
        sockit_smtp::with(smtp, |o| {
            o.auth = auth;
            Ok(())
        })
    })
}

/// Timeouts in seconds (negative = none): `block` bounds each wait, `total` each whole
/// send. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_smtp_set_timeout(
    smtp: *mut sockit_smtp,
    block: f64,
    total: f64,
) -> sockit_status {
    guard(|| {
        sockit_smtp::with(smtp, |o| {
            o.timeout = Timeout::from_secs(block, total);
            Ok(())
        })
    })
}

/// Sends the message at `data` (`len` bytes: header fields, empty line, body, with CRLF
/// line ends; it is dot-stuffed here) from `from` to the `n` addresses of `rcpt`
/// (LuaSocket 3's `smtp.send`). Addresses may be bare or in angle brackets; any with CR,
/// LF or NUL is refused before connecting. Blocks until the server accepted the message
/// (connect, EHLO or HELO, AUTH, MAIL, RCPT..., DATA, QUIT). A refusal is
/// `SOCKIT_PROTOCOL` with the server's reply as message.
#[no_mangle]
pub unsafe extern "C" fn sockit_smtp_send(
    smtp: *mut sockit_smtp,
    from: *const c_char,
    rcpt: *const *const c_char,
    n: usize,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let from = str_arg(from, "from")?;
        let rcpt = str_list(rcpt, n, "rcpt")?;
        let data = bytes_arg(data, len, "data")?;
        let opts = sockit_smtp::with(smtp, |o| Ok(o.clone()))?;
        smtp::send(&opts, from, &rcpt, &mut BytesSource::new(data)).map(|_| ())
    })
}

/// As `sockit_smtp_send`, the message read from `src` (TAKEN, even on failure), for
/// example one made by `sockit_mail_message`. `*size` (optional): the message's bytes.
/// Blocks like `sockit_smtp_send`, within the client's timeouts.
#[no_mangle]
pub unsafe extern "C" fn sockit_smtp_send_source(
    smtp: *mut sockit_smtp,
    from: *const c_char,
    rcpt: *const *const c_char,
    n: usize,
    src: *mut sockit_source,
    size: *mut u64,
) -> sockit_status {
    guard(|| {
        let mut source = take_source(src, "source")?;
        let from = str_arg(from, "from")?;
        let rcpt = str_list(rcpt, n, "rcpt")?;
        let opts = sockit_smtp::with(smtp, |o| Ok(o.clone()))?;
        let sent = smtp::send(&opts, from, &rcpt, &mut source)?;
        put(size, sent);
        Ok(())
    })
}

/// LuaSocket 1.3b's `smtp_mail(from, rcpt, headers, body, server)`: the `nheaders` fields
/// (`names[i]: values[i]`, names in canonical spelling), an empty line and `body` (line
/// ends made CRLF) go to the `n` addresses of `rcpt`; those not named in the headers get
/// a blind copy. Blocks like `sockit_smtp_send`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sockit_smtp_mail(
    smtp: *mut sockit_smtp,
    from: *const c_char,
    rcpt: *const *const c_char,
    n: usize,
    names: *const *const c_char,
    values: *const *const c_char,
    nheaders: usize,
    body: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let from = str_arg(from, "from")?;
        let rcpt = str_list(rcpt, n, "rcpt")?;
        let names = str_list(names, nheaders, "names")?;
        let values = str_list(values, nheaders, "values")?;
        let mut h = Headers::new();
        for (name, value) in names.iter().zip(&values) {
            h.add(name, value.as_bytes())?;
        }
        let body = bytes_arg(body, len, "body")?;
        let opts = sockit_smtp::with(smtp, |o| Ok(o.clone()))?;
        smtp::mail_13b(&opts, from, &rcpt, &h, body).map(|_| ())
    })
}

/// CGILua's `mail{to, from, subject, message, cc, bcc}` (1.3b): `to`, `cc` and `bcc` are
/// comma-separated lists (`subject`, `message`, `cc`, `bcc` may be NULL); To, From,
/// Subject and Cc become header fields, the message goes to every address of the three
/// lists. Blocks like `sockit_smtp_send`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sockit_smtp_mail_cgilua(
    smtp: *mut sockit_smtp,
    to: *const c_char,
    from: *const c_char,
    subject: *const c_char,
    message: *const c_char,
    cc: *const c_char,
    bcc: *const c_char,
) -> sockit_status {
    guard(|| {
        let to = str_arg(to, "to")?;
        let from = str_arg(from, "from")?;
        let subject = opt_str_arg(subject, "subject")?;
        let message = opt_str_arg(message, "message")?;
        let cc = opt_str_arg(cc, "cc")?;
        let bcc = opt_str_arg(bcc, "bcc")?;
        let opts = sockit_smtp::with(smtp, |o| Ok(o.clone()))?;
        smtp::mail_cgilua(
            &opts,
            to,
            from,
            subject,
            message.map(str::as_bytes),
            cc,
            bcc,
        )
        .map(|_| ())
    })
}

// ----- composing -----------------------------------------------------------------------

/// A new, empty part (no fields, no body) in `*out`, owned by the caller. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mail_part_new(out: *mut *mut sockit_mail_part) -> sockit_status {
    guard(|| {
        let out = handle_out(out, "out")?;
        *out = sockit_mail_part::new(Part::new());
        Ok(())
    })
}

/// Releases a part (and its body source and subparts). NULL or freed: ignored.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mail_part_free(part: *mut sockit_mail_part) {
    sockit_mail_part::free(part)
}

/// Appends a header field (order kept, repeats allowed, canonical spelling on output).
/// `SOCKIT_INVALID` when the name is not a token or the value has CR, LF or NUL. Never
/// blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mail_part_add_header(
    part: *mut sockit_mail_part,
    name: *const c_char,
    value: *const c_char,
) -> sockit_status {
    guard(|| {
        let name = str_arg(name, "name")?;
        let value = str_arg(value, "value")?;
        sockit_mail_part::with(part, |p| p.headers.add(name, value.as_bytes()))
    })
}

/// The body: a copy of `len` bytes (sent as they are: use CRLF line ends). Replaces any
/// earlier body, parts included. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mail_part_set_body(
    part: *mut sockit_mail_part,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let data = bytes_arg(data, len, "data")?;
        sockit_mail_part::with(part, |p| {
            p.body = Body::Bytes(data.to_vec());
            Ok(())
        })
    })
}

/// The body from `src` (TAKEN, even on failure), read when the message is produced.
/// Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mail_part_set_body_source(
    part: *mut sockit_mail_part,
    src: *mut sockit_source,
) -> sockit_status {
    guard(|| {
        let s = take_source(src, "source")?;
        sockit_mail_part::with(part, |p| {
            p.body = Body::Source(s);
            Ok(())
        })
    })
}

/// A text part in `*out`: the text from `src` (TAKEN) with line ends made CRLF,
/// quoted-printable encoded and wrapped; Content-Type "text/plain; charset=<charset>"
/// (NULL: utf-8). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mail_part_text(
    src: *mut sockit_source,
    charset: *const c_char,
    out: *mut *mut sockit_mail_part,
) -> sockit_status {
    guard(|| {
        let s = take_source(src, "source")?;
        let out = handle_out(out, "out")?;
        let charset = opt_str_arg(charset, "charset")?.unwrap_or("utf-8");
        *out = sockit_mail_part::new(Part::text(s, charset)?);
        Ok(())
    })
}

/// An attachment part in `*out`: the bytes from `src` (TAKEN) base64 encoded in lines of
/// 76 columns, with Content-Type `content_type` and Content-Disposition attachment (with
/// `filename` unless NULL). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mail_part_attachment(
    src: *mut sockit_source,
    content_type: *const c_char,
    filename: *const c_char,
    out: *mut *mut sockit_mail_part,
) -> sockit_status {
    guard(|| {
        let s = take_source(src, "source")?;
        let out = handle_out(out, "out")?;
        let ct = str_arg(content_type, "content_type")?;
        let filename = opt_str_arg(filename, "filename")?;
        *out = sockit_mail_part::new(Part::attachment(s, ct, filename)?);
        Ok(())
    })
}

/// Appends `child` (TAKEN, even on failure) to the parts of `parent`, which becomes
/// multipart (multipart/mixed unless its Content-Type says otherwise; the boundary is
/// added when the message is produced). `SOCKIT_INVALID` when `parent` already has a
/// body of bytes or a source. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mail_part_add_part(
    parent: *mut sockit_mail_part,
    child: *mut sockit_mail_part,
) -> sockit_status {
    guard(|| {
        let child = take_part(child, "child")?;
        sockit_mail_part::with(parent, |p| {
            match &mut p.body {
                Body::Multipart { parts, .. } => parts.push(child),
                Body::Empty => {
                    p.body = Body::Multipart {
                        preamble: None,
                        parts: vec![child],
                        epilogue: None,
                    }
                }
                _ => return Err(Error::invalid("the part already has a body")),
            }
            Ok(())
        })
    })
}

/// Sets the preamble (`epilogue` zero) or epilogue (non-zero) text of a multipart part
/// (one without parts yet becomes multipart). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mail_part_set_text(
    part: *mut sockit_mail_part,
    epilogue: c_int,
    text: *const c_char,
) -> sockit_status {
    guard(|| {
        let text = opt_str_arg(text, "text")?.map(|t| t.as_bytes().to_vec());
        sockit_mail_part::with(part, |p| {
            if matches!(p.body, Body::Empty) {
                p.body = Body::Multipart {
                    preamble: None,
                    parts: Vec::new(),
                    epilogue: None,
                };
            }
            match &mut p.body {
                Body::Multipart {
                    preamble,
                    epilogue: epi,
                    ..
                } => {
                    if epilogue != 0 {
                        *epi = text;
                    } else {
                        *preamble = text;
                    }
                    Ok(())
                }
                _ => Err(Error::invalid("the part has a body that is not multipart")),
            }
        })
    })
}

/// The whole message made from `part` (TAKEN, even on failure), as a source in `*out`
/// (owned by the caller): Date, X-Mailer and MIME-Version 1.0 added unless present,
/// every part laid out with its boundary. Sources inside are read as the message is
/// pulled. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_mail_message(
    part: *mut sockit_mail_part,
    out: *mut *mut sockit_source,
) -> sockit_status {
    guard(|| {
        let p = take_part(part, "part")?;
        let out = handle_out(out, "out")?;
        let src = p.into_message_source()?;
        *out = sockit_source::new(SourceObj::Plain(Box::new(src)));
        Ok(())
    })
}
