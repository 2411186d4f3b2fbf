//! C API of the streaming form parsers (`crate::proto::http::form`): `sockit_form` parses
//! `application/x-www-form-urlencoded` and `multipart/form-data` bodies (and query
//! strings) as they arrive, in bounded memory. Feed bytes with `sockit_form_feed`, say
//! the input is over with `sockit_form_end`, and take the events with `sockit_form_next`
//! after each of those calls.

use super::boundary::{bytes_arg, guard, handle_out, opt_str_arg, out_arg, put, put_bytes};
use super::buffer::sockit_buffer;
use super::handle::{impl_handle, Shell};
use super::status::sockit_status;
use crate::error::Error;
use crate::proto::http::form::{Event, Form};
use std::ffi::{c_char, c_int};

/// A form parser. Made by `sockit_form_new` or `sockit_form_new_urlencoded`, released by
/// `sockit_form_free`.
#[allow(non_camel_case_types)]
#[allow(dead_code)]
pub struct sockit_form(Shell<FormState>);
impl_handle!(sockit_form, FormState, "form");

/// The parser with the metadata of the field being read.
pub struct FormState {
    form: Form,
    file_name: Option<Vec<u8>>,
    content_type: Option<Vec<u8>>,
}

/// What `sockit_form_next` found: one of `SOCKIT_FORM_*`.
#[allow(non_camel_case_types)]
pub type sockit_form_event = c_int;
/// Nothing is queued: feed more input (or, after `sockit_form_end`, the form is done).
pub const SOCKIT_FORM_NONE: sockit_form_event = 0;
/// A field starts: `data` holds its name; `sockit_form_field_info` tells its file name and
/// content type (multipart).
pub const SOCKIT_FORM_FIELD: sockit_form_event = 1;
/// A piece of the current field's value in `data` (never empty, at most `max_chunk`).
pub const SOCKIT_FORM_DATA: sockit_form_event = 2;
/// The current field's value is complete.
pub const SOCKIT_FORM_END: sockit_form_event = 3;

/// Chunks of at most this many bytes when `max_chunk` is 0.
const DEFAULT_CHUNK: usize = 16 * 1024;

/// Hands out a new parser made by `f` for the chunk size `max_chunk` (0: the default).
unsafe fn make(
    out: *mut *mut sockit_form,
    max_chunk: usize,
    f: impl FnOnce(usize) -> crate::error::Result<Form>,
) -> crate::error::Result<()> {
    let out = handle_out(out, "out")?;
    let chunk = if max_chunk == 0 {
        DEFAULT_CHUNK
    } else {
        max_chunk
    };
    *out = sockit_form::new(FormState {
        form: f(chunk)?,
        file_name: None,
        content_type: None,
    });
    Ok(())
}

/// A parser for a request body with Content-Type `content_type`:
/// "application/x-www-form-urlencoded" or "multipart/form-data; boundary=..." (any
/// case, parameters allowed). Values come out in pieces of at most `max_chunk` bytes
/// (0: 16 KiB). Fails with `SOCKIT_UNSUPPORTED` for another type and `SOCKIT_PROTOCOL`
/// for a multipart type without a usable boundary. The caller owns `*out`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_form_new(
    content_type: *const c_char,
    max_chunk: usize,
    out: *mut *mut sockit_form,
) -> sockit_status {
    guard(|| {
        let ct = opt_str_arg(content_type, "content_type")?
            .ok_or_else(|| Error::invalid("content_type is NULL"))?;
        make(out, max_chunk, |chunk| {
            Form::for_content_type(ct.as_bytes(), chunk)
        })
    })
}

/// An urlencoded parser (for query strings: feed the part after "?"). As
/// `sockit_form_new` otherwise.
#[no_mangle]
pub unsafe extern "C" fn sockit_form_new_urlencoded(
    max_chunk: usize,
    out: *mut *mut sockit_form,
) -> sockit_status {
    guard(|| make(out, max_chunk, |chunk| Ok(Form::urlencoded(chunk))))
}

/// Frees a form parser. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn sockit_form_free(form: *mut sockit_form) {
    sockit_form::free(form);
}

/// Parses `len` more bytes of the body; events are queued for `sockit_form_next`.
/// Malformed input (a part without a name, headers over 64 KiB, a field name over 64 KiB)
/// gives `SOCKIT_PROTOCOL`, after which the parser fails every call. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_form_feed(
    form: *mut sockit_form,
    data: *const u8,
    len: usize,
) -> sockit_status {
    guard(|| {
        let data = bytes_arg(data, len, "data")?;
        sockit_form::with(form, |f| f.form.feed(data))
    })
}

/// The body is over: queues the last events, or fails with `SOCKIT_PROTOCOL` when the
/// form is incomplete (a multipart body without its closing boundary). Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_form_end(form: *mut sockit_form) -> sockit_status {
    guard(|| sockit_form::with(form, |f| f.form.end()))
}

/// Takes the next event into `*event` (`SOCKIT_FORM_*`); for `SOCKIT_FORM_FIELD` the
/// field's name and for `SOCKIT_FORM_DATA` the piece of value go into `data` (replaced;
/// may be NULL). `*done` (may be NULL) is true once the input has ended and every event
/// was taken. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_form_next(
    form: *mut sockit_form,
    event: *mut sockit_form_event,
    data: *mut sockit_buffer,
    done: *mut bool,
) -> sockit_status {
    guard(|| {
        let event = out_arg(event, "event")?;
        let (ev, bytes, fin) = sockit_form::with(form, |f| {
            let e = f.form.next_event();
            let r = match e {
                None => (SOCKIT_FORM_NONE, None),
                Some(Event::Field {
                    name,
                    file_name,
                    content_type,
                }) => {
                    f.file_name = file_name;
                    f.content_type = content_type;
                    (SOCKIT_FORM_FIELD, Some(name))
                }
                Some(Event::Data(d)) => (SOCKIT_FORM_DATA, Some(d)),
                Some(Event::End) => (SOCKIT_FORM_END, None),
            };
            Ok((r.0, r.1, f.form.is_done()))
        })?;
        *event = ev;
        put_bytes(data, bytes.as_deref().unwrap_or(&[]))?;
        put(done, fin);
        Ok(())
    })
}

/// The file name and content type of the field of the last `SOCKIT_FORM_FIELD` event
/// (multipart parts; urlencoded fields have neither). Each goes into its buffer (may be
/// NULL; emptied when absent), and whether it was given into `*has_file_name` /
/// `*has_content_type` (may be NULL): an empty file input has a file name that is
/// present and empty. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_form_field_info(
    form: *mut sockit_form,
    file_name: *mut sockit_buffer,
    has_file_name: *mut bool,
    content_type: *mut sockit_buffer,
    has_content_type: *mut bool,
) -> sockit_status {
    guard(|| {
        let (f, c) =
            sockit_form::with(form, |f| Ok((f.file_name.clone(), f.content_type.clone())))?;
        put_bytes(file_name, f.as_deref().unwrap_or(&[]))?;
        put(has_file_name, f.is_some());
        put_bytes(content_type, c.as_deref().unwrap_or(&[]))?;
        put(has_content_type, c.is_some());
        Ok(())
    })
}

/// Whether the parser is a multipart one, in `*multipart`. Never blocks.
#[no_mangle]
pub unsafe extern "C" fn sockit_form_is_multipart(
    form: *mut sockit_form,
    multipart: *mut bool,
) -> sockit_status {
    guard(|| {
        let m = out_arg(multipart, "multipart")?;
        *m = sockit_form::with(form, |f| Ok(f.form.is_multipart()))?;
        Ok(())
    })
}
