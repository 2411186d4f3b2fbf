//! Request bodies of HTML forms, parsed as they stream in: `application/x-www-form-
//! urlencoded` and `multipart/form-data` (RFC 7578). Neither parser keeps more than a
//! field name, a part's header block and a boundary's length of input: values and files
//! come out in chunks of at most `max_chunk` bytes, so a body of any size passes through
//! in bounded memory.
//!
//! The parsers are push parsers: `Form::feed` takes bytes as they come and queues events
//! (`Event::Field` with the field's name and, for multipart, its file name and content
//! type; `Event::Data` chunks of its value; `Event::End`), `Form::end` says the input is
//! over, `Form::next` pops the events. The Moonbridge HTTP module's `post_params`,
//! `post_metadata` and `stream_post_param` are built on them, and so is `get_params`
//! (the query is an urlencoded form).

use crate::error::{Error, ErrorKind, Result};
use memchr::memmem;
use std::collections::VecDeque;

/// The longest field name accepted (urlencoded names, multipart `name=` values).
pub const MAX_NAME: usize = 64 * 1024;
/// The largest header block of one multipart part.
pub const MAX_PART_HEAD: usize = 64 * 1024;
/// The longest multipart boundary accepted (RFC 2046 allows 70 characters).
pub const MAX_BOUNDARY: usize = 200;

/// What a form parser found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A field starts.
    Field {
        name: Vec<u8>,
        /// Multipart only: the part's `filename` (None when it had none).
        file_name: Option<Vec<u8>>,
        /// Multipart only: the part's Content-Type (None when it had none).
        content_type: Option<Vec<u8>>,
    },
    /// A piece of the current field's value (never empty).
    Data(Vec<u8>),
    /// The current field's value is complete.
    End,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Protocol, msg.into())
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

// ----- urlencoded ------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UState {
    /// Reading a name (up to '=' or '&').
    Name,
    /// Reading a value.
    Value,
}

/// `name=value&name=value`, with `+` as space and `%XX` escapes (a `%` without two hex
/// digits stays as it is). Empty pieces (`&&`) are skipped; a name without `=` has an
/// empty value.
#[derive(Debug)]
struct Urlencoded {
    state: UState,
    name: Vec<u8>,
    /// Undecoded bytes held back: a `%` and at most one hex digit after it.
    hold: Vec<u8>,
    /// Decoded value bytes not yet queued.
    value: Vec<u8>,
}

impl Urlencoded {
    fn new() -> Urlencoded {
        Urlencoded {
            state: UState::Name,
            name: Vec::new(),
            hold: Vec::new(),
            value: Vec::new(),
        }
    }

    /// Decodes `input` (with what was held back) into `out`, holding back an
    /// unfinished escape at the end unless `last`.
    fn decode_into(&mut self, input: &[u8], last: bool, to_name: bool) -> Result<()> {
        let mut buf = std::mem::take(&mut self.hold);
        buf.extend_from_slice(input);
        let out = if to_name {
            &mut self.name
        } else {
            &mut self.value
        };
        let mut i = 0;
        while i < buf.len() {
            let c = buf[i];
            if c == b'%' {
                if i + 2 < buf.len() {
                    if let (Some(h), Some(l)) = (hex(buf[i + 1]), hex(buf[i + 2])) {
                        out.push(h << 4 | l);
                        i += 3;
                        continue;
                    }
                } else if !last && buf[i + 1..].iter().all(|&b| hex(b).is_some()) {
                    // '%' and at most one hex digit: the escape may go on in the next input.
                    self.hold = buf[i..].to_vec();
                    break;
                }
                out.push(c);
                i += 1;
                continue;
            }
            out.push(if c == b'+' { b' ' } else { c });
            i += 1;
        }
        if to_name && self.name.len() > MAX_NAME {
            return Err(bad(format!(
                "urlencoded form: a field name is longer than {MAX_NAME} bytes"
            )));
        }
        Ok(())
    }

    fn flush_value(&mut self, q: &mut Queue) {
        if !self.value.is_empty() {
            q.data(std::mem::take(&mut self.value));
        }
    }

    fn start_field(&mut self, q: &mut Queue) {
        q.push(Event::Field {
            name: std::mem::take(&mut self.name),
            file_name: None,
            content_type: None,
        });
    }

    fn feed(&mut self, mut data: &[u8], q: &mut Queue) -> Result<()> {
        while !data.is_empty() {
            match self.state {
                UState::Name => match memchr::memchr2(b'=', b'&', data) {
                    None => {
                        self.decode_into(data, false, true)?;
                        return Ok(());
                    }
                    Some(i) => {
                        self.decode_into(&data[..i], true, true)?;
                        let sep = data[i];
                        data = &data[i + 1..];
                        if sep == b'=' {
                            self.start_field(q);
                            self.state = UState::Value;
                        } else if !self.name.is_empty() {
                            self.start_field(q);
                            q.push(Event::End);
                        }
                    }
                },
                UState::Value => match memchr::memchr(b'&', data) {
                    None => {
                        self.decode_into(data, false, false)?;
                        if self.value.len() >= q.max_chunk {
                            self.flush_value(q);
                        }
                        return Ok(());
                    }
                    Some(i) => {
                        self.decode_into(&data[..i], true, false)?;
                        self.flush_value(q);
                        q.push(Event::End);
                        data = &data[i + 1..];
                        self.state = UState::Name;
                    }
                },
            }
        }
        Ok(())
    }

    fn end(&mut self, q: &mut Queue) -> Result<()> {
        match self.state {
            UState::Name => {
                self.decode_into(&[], true, true)?;
                if !self.name.is_empty() {
                    self.start_field(q);
                    q.push(Event::End);
                }
            }
            UState::Value => {
                self.decode_into(&[], true, false)?;
                self.flush_value(q);
                q.push(Event::End);
                self.state = UState::Name;
            }
        }
        Ok(())
    }
}

// ----- multipart -------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MState {
    /// Before the first delimiter (the preamble is skipped).
    Preamble,
    /// After a delimiter: "--" (the close delimiter) or padding and CRLF.
    AfterDelimiter,
    /// Reading a part's header block.
    Head,
    /// Reading a part's content.
    Body,
    /// After the close delimiter: the epilogue is skipped.
    Epilogue,
}

#[derive(Debug)]
struct Multipart {
    state: MState,
    /// "\r\n--" + boundary.
    delimiter: Vec<u8>,
    finder: memmem::Finder<'static>,
    /// Input not yet consumed (at most a delimiter's length of it, or a header block).
    buf: Vec<u8>,
}

impl Multipart {
    fn new(boundary: &[u8]) -> Multipart {
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary);
        let finder = memmem::Finder::new(&delimiter).into_owned();
        Multipart {
            state: MState::Preamble,
            delimiter,
            finder,
            // The first delimiter may start the body without a CRLF before it.
            buf: b"\r\n".to_vec(),
        }
    }

    fn feed(&mut self, data: &[u8], q: &mut Queue) -> Result<()> {
        self.buf.extend_from_slice(data);
        self.run(q)
    }

    fn end(&mut self, q: &mut Queue) -> Result<()> {
        self.run(q)?;
        match self.state {
            MState::Epilogue => Ok(()),
            MState::Preamble => Err(bad("multipart form: no boundary found in the body")),
            _ => Err(bad(
                "multipart form: the body ends before the closing boundary",
            )),
        }
    }

    /// Consumes as much of `buf` as can be decided.
    fn run(&mut self, q: &mut Queue) -> Result<()> {
        let mut pos = 0;
        let r = loop {
            match self.state {
                MState::Preamble => match self.finder.find(&self.buf[pos..]) {
                    Some(i) => {
                        pos += i + self.delimiter.len();
                        self.state = MState::AfterDelimiter;
                    }
                    None => {
                        // Keep what could be the start of a delimiter.
                        let keep = self.delimiter.len() - 1;
                        pos = pos.max(self.buf.len().saturating_sub(keep));
                        break Ok(());
                    }
                },
                MState::AfterDelimiter => {
                    let rest = &self.buf[pos..];
                    if rest.len() < 2 {
                        break Ok(());
                    }
                    if rest.starts_with(b"--") {
                        pos += 2;
                        self.state = MState::Epilogue;
                        continue;
                    }
                    // Transport padding (spaces, tabs) then CRLF.
                    let Some(nl) = memchr::memchr(b'\n', rest) else {
                        if rest.len() > 1024 {
                            break Err(bad("multipart form: garbage after a boundary"));
                        }
                        break Ok(());
                    };
                    let line = &rest[..nl];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    if !line.iter().all(|&b| b == b' ' || b == b'\t') {
                        break Err(bad("multipart form: garbage after a boundary"));
                    }
                    pos += nl + 1;
                    self.state = MState::Head;
                }
                MState::Head => {
                    let rest = &self.buf[pos..];
                    let end = memmem::find(rest, b"\r\n\r\n").map(|i| (i, 4)).or_else(|| {
                        // A part without headers: an empty line at once.
                        rest.starts_with(b"\r\n").then_some((0, 2))
                    });
                    let Some((i, sep)) = end else {
                        if rest.len() > MAX_PART_HEAD {
                            break Err(bad(format!(
                                "multipart form: a part's headers are longer than {MAX_PART_HEAD} bytes"
                            )));
                        }
                        break Ok(());
                    };
                    let ev = match part_head(&rest[..i]) {
                        Ok(ev) => ev,
                        Err(e) => break Err(e),
                    };
                    q.push(ev);
                    pos += i + sep;
                    self.state = MState::Body;
                }
                MState::Body => {
                    let rest = &self.buf[pos..];
                    match self.finder.find(rest) {
                        Some(i) => {
                            if i > 0 {
                                q.data_split(&rest[..i]);
                            }
                            q.push(Event::End);
                            pos += i + self.delimiter.len();
                            self.state = MState::AfterDelimiter;
                        }
                        None => {
                            // Everything but a possible partial delimiter is content.
                            let keep = self.delimiter.len() - 1;
                            let n = rest.len().saturating_sub(keep);
                            if n > 0 {
                                q.data_split(&rest[..n]);
                                pos += n;
                            }
                            break Ok(());
                        }
                    }
                }
                MState::Epilogue => {
                    pos = self.buf.len();
                    break Ok(());
                }
            }
        };
        self.buf.drain(..pos);
        r
    }
}

/// The Field event for a part's header block (Content-Disposition and Content-Type).
fn part_head(block: &[u8]) -> Result<Event> {
    let mut name = None;
    let mut file_name = None;
    let mut content_type = None;
    for line in block.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            return Err(bad("multipart form: a part's header line has no colon"));
        };
        let field = &line[..colon];
        let value = crate::proto::headers::trim(&line[colon + 1..]);
        if field.eq_ignore_ascii_case(b"content-disposition") {
            let (n, f) = disposition(value)?;
            name = n;
            file_name = f;
        } else if field.eq_ignore_ascii_case(b"content-type") {
            content_type = Some(value.to_vec());
        }
    }
    let name = name.ok_or_else(|| bad("multipart form: a part has no Content-Disposition name"))?;
    if name.len() > MAX_NAME {
        return Err(bad(format!(
            "multipart form: a field name is longer than {MAX_NAME} bytes"
        )));
    }
    Ok(Event::Field {
        name,
        file_name,
        content_type,
    })
}

/// Splits `s` at top-level `;` (outside quoted strings).
fn params(s: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut esc) = (0, false, false);
    for (i, &c) in s.iter().enumerate() {
        if esc {
            esc = false;
        } else if quoted && c == b'\\' {
            esc = true;
        } else if c == b'"' {
            quoted = !quoted;
        } else if c == b';' && !quoted {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// A parameter value: a quoted string (with backslash escapes) or a token.
fn param_value(v: &[u8]) -> Vec<u8> {
    let v = crate::proto::headers::trim(v);
    if v.len() >= 2 && v[0] == b'"' && v[v.len() - 1] == b'"' {
        let mut out = Vec::with_capacity(v.len());
        let mut esc = false;
        for &c in &v[1..v.len() - 1] {
            if esc {
                out.push(c);
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else {
                out.push(c);
            }
        }
        out
    } else {
        v.to_vec()
    }
}

/// `name=value` parameters of a header value (after its first `;`-separated item),
/// names lowercased.
fn header_params(value: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    params(value)
        .into_iter()
        .skip(1)
        .filter_map(|p| {
            let eq = memchr::memchr(b'=', p)?;
            let k = crate::proto::headers::trim(&p[..eq]).to_ascii_lowercase();
            Some((k, param_value(&p[eq + 1..])))
        })
        .collect()
}

/// RFC 5987 `UTF-8''percent%20encoded` (the charset is not checked).
fn ext_value(v: &[u8]) -> Option<Vec<u8>> {
    let first = memchr::memchr(b'\'', v)?;
    let second = first + 1 + memchr::memchr(b'\'', &v[first + 1..])?;
    Some(crate::url::unescape(&v[second + 1..]))
}

/// (name, filename) of a Content-Disposition value ("form-data; name=...; filename=...").
fn disposition(value: &[u8]) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>)> {
    let mut name = None;
    let mut file = None;
    let mut file_ext = None;
    for (k, v) in header_params(value) {
        match k.as_slice() {
            b"name" => name = Some(v),
            b"filename" => file = Some(v),
            b"filename*" => file_ext = ext_value(&v),
            _ => {}
        }
    }
    Ok((name, file_ext.or(file)))
}

/// The boundary of a `multipart/form-data` Content-Type value.
pub fn boundary_of(content_type: &[u8]) -> Result<Vec<u8>> {
    let b = header_params(content_type)
        .into_iter()
        .find(|(k, _)| k == b"boundary")
        .map(|(_, v)| v)
        .ok_or_else(|| bad("multipart form: the Content-Type has no boundary"))?;
    if b.is_empty() || b.len() > MAX_BOUNDARY || b.iter().any(|&c| c == b'\r' || c == b'\n') {
        return Err(bad(
            "multipart form: the boundary is empty, too long or malformed",
        ));
    }
    Ok(b)
}

/// The media type of a Content-Type value, lowercased, without parameters.
pub fn media_type(content_type: &[u8]) -> Vec<u8> {
    let first = params(content_type).into_iter().next().unwrap_or(&[]);
    crate::proto::headers::trim(first).to_ascii_lowercase()
}

// ----- the queue and the form ------------------------------------------------------------

#[derive(Debug)]
struct Queue {
    events: VecDeque<Event>,
    max_chunk: usize,
}

impl Queue {
    fn push(&mut self, e: Event) {
        self.events.push_back(e);
    }

    fn data(&mut self, d: Vec<u8>) {
        if d.len() <= self.max_chunk {
            self.events.push_back(Event::Data(d));
        } else {
            self.data_split(&d);
        }
    }

    fn data_split(&mut self, d: &[u8]) {
        for piece in d.chunks(self.max_chunk) {
            self.events.push_back(Event::Data(piece.to_vec()));
        }
    }
}

#[derive(Debug)]
enum Kind {
    Urlencoded(Urlencoded),
    Multipart(Multipart),
}

/// A streaming form parser (see the module comment).
#[derive(Debug)]
pub struct Form {
    kind: Kind,
    queue: Queue,
    ended: bool,
    failed: Option<Error>,
}

impl Form {
    /// An urlencoded parser (also for query strings).
    pub fn urlencoded(max_chunk: usize) -> Form {
        Form::with(Kind::Urlencoded(Urlencoded::new()), max_chunk)
    }

    /// A multipart parser for `boundary`.
    pub fn multipart(boundary: &[u8], max_chunk: usize) -> Result<Form> {
        if boundary.is_empty() || boundary.len() > MAX_BOUNDARY {
            return Err(bad("multipart form: the boundary is empty or too long"));
        }
        Ok(Form::with(
            Kind::Multipart(Multipart::new(boundary)),
            max_chunk,
        ))
    }

    /// The parser a request's Content-Type calls for: urlencoded for
    /// `application/x-www-form-urlencoded`, multipart for `multipart/form-data` (with its
    /// boundary); `Unsupported` for anything else.
    pub fn for_content_type(content_type: &[u8], max_chunk: usize) -> Result<Form> {
        match media_type(content_type).as_slice() {
            b"application/x-www-form-urlencoded" => Ok(Form::urlencoded(max_chunk)),
            b"multipart/form-data" => Form::multipart(&boundary_of(content_type)?, max_chunk),
            other => Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "not a form: Content-Type {}",
                    String::from_utf8_lossy(other)
                ),
            )),
        }
    }

    fn with(kind: Kind, max_chunk: usize) -> Form {
        Form {
            kind,
            queue: Queue {
                events: VecDeque::new(),
                max_chunk: max_chunk.max(1),
            },
            ended: false,
            failed: None,
        }
    }

    /// True for multipart forms (whose fields carry file names and content types).
    pub fn is_multipart(&self) -> bool {
        matches!(self.kind, Kind::Multipart(_))
    }

    fn guarded(&mut self, f: impl FnOnce(&mut Kind, &mut Queue) -> Result<()>) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.ended {
            return Err(Error::invalid("form: the input has ended already"));
        }
        let r = f(&mut self.kind, &mut self.queue);
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// Parses more input, queueing what it completes.
    pub fn feed(&mut self, data: &[u8]) -> Result<()> {
        self.guarded(|k, q| match k {
            Kind::Urlencoded(u) => u.feed(data, q),
            Kind::Multipart(m) => m.feed(data, q),
        })
    }

    /// The input is over: queues the last events, or fails when the form is incomplete
    /// (a multipart body without its closing boundary).
    pub fn end(&mut self) -> Result<()> {
        let r = self.guarded(|k, q| match k {
            Kind::Urlencoded(u) => u.end(q),
            Kind::Multipart(m) => m.end(q),
        });
        self.ended = true;
        r
    }

    /// The next event, if one is queued.
    pub fn next_event(&mut self) -> Option<Event> {
        self.queue.events.pop_front()
    }

    /// True once `end` succeeded and every event was taken.
    pub fn is_done(&self) -> bool {
        self.ended && self.failed.is_none() && self.queue.events.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (name, file_name, content_type, value) per field.
    type Fields = Vec<(Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>, Vec<u8>)>;

    fn collect(form: &mut Form, out: &mut Fields, max_chunk: usize) {
        while let Some(e) = form.next_event() {
            match e {
                Event::Field {
                    name,
                    file_name,
                    content_type,
                } => out.push((name, file_name, content_type, Vec::new())),
                Event::Data(d) => {
                    assert!(
                        !d.is_empty() && d.len() <= max_chunk,
                        "chunk of {}",
                        d.len()
                    );
                    out.last_mut()
                        .expect("data inside a field")
                        .3
                        .extend_from_slice(&d)
                }
                Event::End => {}
            }
        }
    }

    fn parse(mut form: Form, body: &[u8], piece: usize, max_chunk: usize) -> Result<Fields> {
        let mut out = Vec::new();
        for p in body.chunks(piece.max(1)) {
            form.feed(p)?;
            collect(&mut form, &mut out, max_chunk);
        }
        form.end()?;
        collect(&mut form, &mut out, max_chunk);
        assert!(form.is_done());
        Ok(out)
    }

    fn simple(f: &Fields) -> Vec<(String, String)> {
        f.iter()
            .map(|(n, _, _, v)| {
                (
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn urlencoded_fields() {
        let body = b"a=1&b=two+words&a=%41%42&empty=&noval&&%zz=%4&x=%e2%82%ac";
        for piece in [1, 2, 3, 7, 100] {
            let f = parse(Form::urlencoded(4), body, piece, 4).unwrap();
            assert_eq!(
                simple(&f),
                pairs(&[
                    ("a", "1"),
                    ("b", "two words"),
                    ("a", "AB"),
                    ("empty", ""),
                    ("noval", ""),
                    ("%zz", "%4"),
                    ("x", "€"),
                ]),
                "piece {piece}"
            );
        }
        assert!(parse(Form::urlencoded(8), b"", 1, 8).unwrap().is_empty());
        let long = vec![b'n'; MAX_NAME + 1];
        assert!(parse(Form::urlencoded(8), &long, 1000, 8).is_err());
    }

    fn multipart_body(boundary: &str) -> Vec<u8> {
        format!(
            "preamble\r\n--{b}\r\n\
             Content-Disposition: form-data; name=\"field\"\r\n\r\n\
             value one\r\n--{b}\r\n\
             Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
             Content-Type: text/plain\r\n\r\n\
             line1\r\nline2 --{b}x not a boundary\r\n\r\n--{b}\r\n\
             content-disposition: form-data; name=\"file\"; filename=\"\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n\
             \r\n--{b}\r\n\
             Content-Disposition: form-data; name=\"q\\\"uoted\"; filename*=UTF-8''%e2%82%ac.bin\r\n\r\n\
             \u{0}\u{1}\r\n--{b}--\r\nepilogue",
            b = boundary
        )
        .into_bytes()
    }

    #[test]
    fn multipart_fields_files_and_edge_cases() {
        let body = multipart_body("XyZ");
        for piece in [1, 2, 5, 13, 4096] {
            let f = parse(Form::multipart(b"XyZ", 3).unwrap(), &body, piece, 3).unwrap();
            assert_eq!(f.len(), 4, "piece {piece}");
            assert_eq!(f[0], (b"field".to_vec(), None, None, b"value one".to_vec()));
            assert_eq!(
                f[1],
                (
                    b"file".to_vec(),
                    Some(b"a.txt".to_vec()),
                    Some(b"text/plain".to_vec()),
                    b"line1\r\nline2 --XyZx not a boundary\r\n".to_vec()
                )
            );
            // An empty file: its name is empty, its content too.
            assert_eq!(
                f[2],
                (
                    b"file".to_vec(),
                    Some(Vec::new()),
                    Some(b"application/octet-stream".to_vec()),
                    Vec::new()
                )
            );
            assert_eq!(f[3].0, b"q\"uoted".to_vec());
            assert_eq!(f[3].1, Some("€.bin".as_bytes().to_vec()));
            assert_eq!(f[3].3, vec![0, 1]);
        }
    }

    #[test]
    fn multipart_errors() {
        let cut = multipart_body("B");
        let cut = &cut[..cut.len() - 20];
        assert!(parse(Form::multipart(b"B", 8).unwrap(), cut, 7, 8).is_err());
        assert!(parse(Form::multipart(b"B", 8).unwrap(), b"no boundary here", 3, 8).is_err());
        let noname = b"--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--";
        assert!(parse(Form::multipart(b"B", 8).unwrap(), noname, 3, 8).is_err());
        let garbage = b"--Bjunk\r\n\r\nx\r\n--B--";
        assert!(parse(Form::multipart(b"B", 8).unwrap(), garbage, 3, 8).is_err());
        let mut huge = b"--B\r\nX: ".to_vec();
        huge.extend(std::iter::repeat(b'a').take(MAX_PART_HEAD + 10));
        let mut f = Form::multipart(b"B", 8).unwrap();
        assert!(f.feed(&huge).is_err());
        assert!(f.feed(b"more").is_err(), "a failed form stays failed");
        assert!(Form::multipart(b"", 8).is_err());
    }

    #[test]
    fn content_types() {
        assert!(
            Form::for_content_type(b"application/x-www-form-urlencoded; charset=UTF-8", 8)
                .map(|f| !f.is_multipart())
                .unwrap()
        );
        let f = Form::for_content_type(b"Multipart/Form-Data; boundary=\"a b\"", 8).unwrap();
        assert!(f.is_multipart());
        assert_eq!(
            boundary_of(b"multipart/form-data; charset=x; boundary=zz").unwrap(),
            b"zz"
        );
        assert!(Form::for_content_type(b"multipart/form-data", 8).is_err());
        assert_eq!(
            Form::for_content_type(b"text/plain", 8).unwrap_err().kind,
            ErrorKind::Unsupported
        );
        assert_eq!(media_type(b" Text/HTML ; q=1"), b"text/html");
    }

    proptest! {
        /// Whatever the split of the input, the same fields come out.
        #[test]
        fn splits_do_not_matter(values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..5),
                                piece in 1usize..50, chunk in 1usize..20) {
            let boundary = "----sockitBOUNDARY";
            let mut body = Vec::new();
            for (i, v) in values.iter().enumerate() {
                body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\n").as_bytes());
                body.extend_from_slice(v);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            let f = parse(Form::multipart(boundary.as_bytes(), chunk).unwrap(), &body, piece, chunk).unwrap();
            prop_assert_eq!(f.len(), values.len());
            for (i, v) in values.iter().enumerate() {
                prop_assert_eq!(&f[i].3, v);
            }
            // The same values urlencoded.
            let mut enc = Vec::new();
            for (i, v) in values.iter().enumerate() {
                if i > 0 { enc.push(b'&'); }
                enc.extend_from_slice(format!("f{i}=").as_bytes());
                for &b in v { enc.extend_from_slice(format!("%{b:02X}").as_bytes()); }
            }
            let u = parse(Form::urlencoded(chunk), &enc, piece, chunk).unwrap();
            prop_assert_eq!(u.len(), values.len());
            for (i, v) in values.iter().enumerate() {
                prop_assert_eq!(&u[i].3, v);
            }
        }
    }
}
