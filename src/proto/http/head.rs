//! HTTP/1.1 message heads: request and response heads serialised (after checking every
//! part a caller gave for bytes that would break the framing), response and request heads
//! parsed with httparse under size and count limits. Servers read request heads with
//! [`read_request_head`], which applies RFC 9112's strict rules and line limits and names
//! what it refuses with the status to answer (see `refusal`).

use super::super::conn::{check_wire_text, Transport};
use super::super::headers::{self, is_token_byte, Headers};
use super::refusal::Refusal;
use crate::error::{Error, ErrorKind, Result};

/// Bounds on a received head (start line + header fields, or trailers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes a head may have, final empty line included.
    pub max_head_bytes: usize,
    /// The most header fields a head may have.
    pub max_headers: usize,
    /// The longest line (request line or header field line, without its line end) that
    /// [`read_request_head`] accepts.
    pub max_line_bytes: usize,
}

impl Default for Limits {
    /// The client's limits: 64 KiB of head, 100 fields, lines bounded by the head only.
    fn default() -> Limits {
        Limits {
            max_head_bytes: 64 * 1024,
            max_headers: 100,
            max_line_bytes: 64 * 1024,
        }
    }
}

impl Limits {
    /// A server's limits: 64 KiB of head, 100 fields, 8 KiB per line (nginx's default
    /// buffer for one header line).
    pub fn server() -> Limits {
        Limits {
            max_line_bytes: 8 * 1024,
            ..Limits::default()
        }
    }
}

/// A method a caller wants to send: a non-empty token.
pub fn check_method(method: &str) -> Result<()> {
    if method.is_empty() {
        return Err(Error::invalid("method is empty"));
    }
    check_wire_text("method", method.as_bytes())?;
    if let Some(b) = method.bytes().find(|&b| !is_token_byte(b)) {
        return Err(Error::invalid(format!(
            "method '{method}' contains '{}'",
            (b as char).escape_default()
        )));
    }
    Ok(())
}

/// A request target a caller wants to send: not empty, no CR, LF, NUL, space or tab.
pub fn check_target(target: &str) -> Result<()> {
    if target.is_empty() {
        return Err(Error::invalid("request target is empty"));
    }
    check_wire_text("request target", target.as_bytes())?;
    if let Some(i) = target.bytes().position(|b| b == b' ' || b == b'\t') {
        return Err(Error::invalid(format!(
            "request target contains white space at byte {i}"
        )));
    }
    Ok(())
}

/// Checks a request target strictly, as RFC 9112 3.2 has it: not empty, visible ASCII
/// only (no white space, no control character, no byte above 0x7e: percent-encode them).
pub fn check_target_strict(target: &str) -> Result<()> {
    check_target(target)?;
    if let Some(i) = target.bytes().position(|b| !(0x21..=0x7e).contains(&b)) {
        return Err(Error::invalid(format!(
            "request target contains byte 0x{:02x} at byte {i} (only visible ASCII is allowed)",
            target.as_bytes()[i]
        )));
    }
    Ok(())
}

/// Checks text that goes into a field value or reason phrase strictly (RFC 9110 5.5):
/// tabs, spaces, visible ASCII and bytes from 0x80 only; CR, LF, NUL and every other
/// control character are refused.
pub fn check_text_strict(what: &str, value: &[u8]) -> Result<()> {
    check_wire_text(what, value)?;
    if let Some(i) = value
        .iter()
        .position(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        return Err(Error::invalid(format!(
            "{what} contains control character 0x{:02x} at byte {i}; refused before sending",
            value[i]
        )));
    }
    Ok(())
}

/// Checks every field of `fields` for sending: names are tokens, values have no CR, LF
/// or NUL (with `strict`, no control character but tab at all).
pub fn check_fields(fields: &Headers, strict: bool) -> Result<()> {
    for (n, v) in fields.iter() {
        headers::check_name(n)?;
        if strict {
            check_text_strict(&format!("value of header '{n}'"), v)?;
        } else {
            headers::check_value(n, v)?;
        }
    }
    Ok(())
}

/// Appends `METHOD target HTTP/1.1\r\n`, the fields (names in canonical spelling) and the
/// empty line to `out`. Every part is checked first; on error nothing is appended.
pub fn write_request_head(
    method: &str,
    target: &str,
    fields: &Headers,
    out: &mut Vec<u8>,
) -> Result<()> {
    check_method(method)?;
    check_target(target)?;
    check_fields(fields, false)?;
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    fields.write_to(out);
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// [`write_request_head`] for HTTP/1.`minor` (0 or 1), with the fields of each of
/// `fields` in turn and the strict checks of [`check_target_strict`] and [`check_fields`]
/// (the symmetric socket's).
pub fn write_request_head_strict(
    method: &str,
    target: &str,
    minor: u8,
    fields: &[&Headers],
    out: &mut Vec<u8>,
) -> Result<()> {
    check_method(method)?;
    check_target_strict(target)?;
    if minor > 1 {
        return Err(Error::invalid(format!(
            "HTTP/1.{minor} is not a version sockit sends"
        )));
    }
    for f in fields {
        check_fields(f, true)?;
    }
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(if minor == 0 {
        b" HTTP/1.0\r\n"
    } else {
        b" HTTP/1.1\r\n"
    });
    for f in fields {
        f.write_to(out);
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// Appends `HTTP/1.1 code reason\r\n`, the fields of each of `fields` in turn and the
/// empty line to `out` (for the server side of a connection). Every part is checked
/// first, strictly (see [`check_text_strict`]); on error nothing is appended.
pub fn write_response_head(
    code: u16,
    reason: &str,
    fields: &[&Headers],
    out: &mut Vec<u8>,
) -> Result<()> {
    if !(100..=999).contains(&code) {
        return Err(Error::invalid(format!(
            "status code {code} is not three digits"
        )));
    }
    check_text_strict("reason phrase", reason.as_bytes())?;
    for f in fields {
        check_fields(f, true)?;
    }
    let code_text = [
        b'0' + (code / 100) as u8,
        b'0' + (code / 10 % 10) as u8,
        b'0' + (code % 10) as u8,
    ];
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(&code_text);
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    for f in fields {
        f.write_to(out);
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// A parsed response head. Header names are lower-cased; order and repeats are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    pub code: u16,
    pub reason: String,
    /// The status line as received, without its line end.
    pub status_line: String,
    pub headers: Headers,
}

/// A parsed request head. Header names are lower-cased; order and repeats are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    pub version: u8,
    pub headers: Headers,
}

/// Folded (obsolete multi-line) values become one line: each CR LF and the white space
/// after it turn into one space.
fn unfold(v: &[u8]) -> Vec<u8> {
    if !v.contains(&b'\n') {
        return v.to_vec();
    }
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'\r' | b'\n' => {
                while i < v.len() && matches!(v[i], b'\r' | b'\n' | b' ' | b'\t') {
                    i += 1;
                }
                out.push(b' ');
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn lower_fields(raw: &[httparse::Header<'_>]) -> Headers {
    let mut h = Headers::new();
    for f in raw {
        h.push_unchecked(f.name.to_ascii_lowercase(), unfold(f.value));
    }
    h
}

fn parse_error(what: &str, e: httparse::Error, buf: &[u8]) -> Error {
    let line_end = memchr::memchr(b'\n', buf).unwrap_or(buf.len()).min(200);
    let first = String::from_utf8_lossy(&buf[..line_end]);
    let first = first.trim_end();
    let detail = match e {
        httparse::Error::TooManyHeaders => return too_many_fields(what),
        httparse::Error::Status | httparse::Error::Version | httparse::Error::Token => {
            format!("invalid {what} start line '{first}'")
        }
        other => format!("invalid {what} head ({other})"),
    };
    Error::new(ErrorKind::Protocol, detail)
}

fn too_many_fields(what: &str) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!("{what} head has too many header fields"),
    )
}

fn too_big(what: &str, limits: &Limits) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!("{what} head larger than {} bytes", limits.max_head_bytes),
    )
}

fn response_config() -> httparse::ParserConfig {
    let mut c = httparse::ParserConfig::default();
    c.allow_obsolete_multiline_headers_in_responses(true)
        .allow_spaces_after_header_name_in_responses(true)
        .allow_multiple_spaces_in_response_status_delimiters(true);
    c
}

/// Parses a response head at the start of `buf`: `Ok(None)` when more bytes are needed,
/// `Ok(Some((head, length)))` when complete. Limits are enforced on what is there.
pub fn parse_response_head(buf: &[u8], limits: &Limits) -> Result<Option<(ResponseHead, usize)>> {
    let mut fields = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut resp = httparse::Response::new(&mut fields);
    match response_config().parse_response(&mut resp, buf) {
        Ok(httparse::Status::Complete(n)) => {
            if n > limits.max_head_bytes {
                return Err(too_big("response", limits));
            }
            let line_end = memchr::memchr(b'\n', buf).unwrap_or(0);
            let status_line = &buf[..line_end];
            let status_line = status_line.strip_suffix(b"\r").unwrap_or(status_line);
            Ok(Some((
                ResponseHead {
                    version: resp.version.unwrap_or(1),
                    code: resp.code.unwrap_or(0),
                    reason: resp.reason.unwrap_or("").to_string(),
                    status_line: String::from_utf8_lossy(status_line).into_owned(),
                    headers: lower_fields(resp.headers),
                },
                n,
            )))
        }
        Ok(httparse::Status::Partial) => {
            if buf.len() >= limits.max_head_bytes {
                return Err(too_big("response", limits));
            }
            Ok(None)
        }
        Err(e) => Err(parse_error("response", e, buf)),
    }
}

/// Parses a request head at the start of `buf` (the server side); as
/// [`parse_response_head`].
pub fn parse_request_head(buf: &[u8], limits: &Limits) -> Result<Option<(RequestHead, usize)>> {
    match httparse_request(buf, limits.max_headers) {
        Ok(Some((_, n))) if n > limits.max_head_bytes => Err(too_big("request", limits)),
        Ok(None) if buf.len() >= limits.max_head_bytes => Err(too_big("request", limits)),
        Ok(r) => Ok(r),
        Err(e) => Err(parse_error("request", e, buf)),
    }
}

/// Header slots kept on the stack for parsing (more come from the heap).
const STACK_FIELDS: usize = 128;

/// httparse's request parser with room for `max_headers` fields.
fn httparse_request(
    buf: &[u8],
    max_headers: usize,
) -> std::result::Result<Option<(RequestHead, usize)>, httparse::Error> {
    let mut stack = [httparse::EMPTY_HEADER; STACK_FIELDS];
    let mut heap = Vec::new();
    let fields = if max_headers <= STACK_FIELDS {
        &mut stack[..max_headers]
    } else {
        heap.resize(max_headers, httparse::EMPTY_HEADER);
        &mut heap[..]
    };
    let mut req = httparse::Request::new(fields);
    match req.parse(buf)? {
        httparse::Status::Complete(n) => Ok(Some((
            RequestHead {
                method: req.method.unwrap_or("").to_string(),
                target: req.path.unwrap_or("").to_string(),
                version: req.version.unwrap_or(1),
                headers: lower_fields(req.headers),
            },
            n,
        ))),
        httparse::Status::Partial => Ok(None),
    }
}

/// Reads one head from `t` with `parse`, filling as needed. The parser only runs again
/// once an empty line may have arrived, so a head cut into many pieces costs one scan.
/// End of stream before any byte is `Closed` with message "closed"; in the middle of a
/// head it is `Closed` with detail. The head's bytes are consumed from `t`.
pub fn read_head<T, H>(
    t: &mut T,
    limits: &Limits,
    parse: impl Fn(&[u8], &Limits) -> Result<Option<(H, usize)>>,
) -> Result<H>
where
    T: Transport + ?Sized,
{
    let mut scanned: usize = 0;
    let mut start_checked = false;
    loop {
        let buf = t.buffered();
        // A head ends with an empty line: "\n\r\n" or "\n\n".
        let from = scanned.saturating_sub(2);
        let maybe_end = memchr::memchr_iter(b'\n', &buf[from..]).any(|i| {
            let i = from + i;
            buf.get(i + 1) == Some(&b'\n')
                || (buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n'))
        });
        if maybe_end {
            if let Some((head, n)) = parse(buf, limits)? {
                t.consume(n);
                return Ok(head);
            }
        } else if buf.len() >= limits.max_head_bytes {
            // Let the parser name the problem (garbage or just too big).
            parse(buf, limits)?;
            return Err(too_big("message", limits));
        } else if !start_checked && memchr::memchr(b'\n', &buf[scanned..]).is_some() {
            // The start line is complete: reject garbage now instead of waiting for a head
            // that never comes.
            parse(buf, limits)?;
            start_checked = true;
        }
        scanned = buf.len();
        if t.fill()? == 0 {
            let n = t.buffered().len();
            if n == 0 {
                return Err(Error::new(ErrorKind::Closed, "closed"));
            }
            return Err(Error::new(
                ErrorKind::Closed,
                format!("closed after {n} bytes of an incomplete message head"),
            ));
        }
    }
}

/// Reads a request head for a server, strictly (RFC 9112): the request line and every
/// header line at most `limits.max_line_bytes` long (else 414 for the request line, 431
/// for a header line), at most `max_headers` fields and `max_head_bytes` in all (431);
/// garbage, obsolete line folding, white space before a colon, bare CR, NUL or other
/// control characters refused (400), a version other than HTTP/1.0 and HTTP/1.1 too
/// (505). Empty lines before the request line are skipped (RFC 9112 2.2). Limits are
/// enforced while the head arrives, so an endless line or head is never buffered whole.
///
/// The head's bytes are consumed. A transport error (a timeout, "block") is a refusal
/// with status 0 that leaves what arrived buffered: call again to go on. End of stream
/// before any byte is `Closed` "closed" (status 0), in the middle of a head `Closed` with
/// detail (status 400).
pub fn read_request_head<T: Transport + ?Sized>(
    t: &mut T,
    limits: &Limits,
) -> std::result::Result<RequestHead, Refusal> {
    let mut scan = LineScan::default();
    loop {
        let buf = t.buffered();
        let end = scan.advance(buf, limits)?;
        let too_big = || {
            Refusal::new(
                431,
                format!("request head larger than {} bytes", limits.max_head_bytes),
            )
        };
        if !end && buf.len() >= limits.max_head_bytes {
            return Err(too_big());
        }
        if end || (!scan.start_checked && scan.request_line_seen) {
            // Once the request line is there, garbage is refused without waiting for a
            // head that never comes.
            match httparse_request(buf, limits.max_headers) {
                Ok(Some((_, n))) if n > limits.max_head_bytes => return Err(too_big()),
                Ok(Some((head, n))) => {
                    t.consume(n);
                    return Ok(head);
                }
                Ok(None) if !end => scan.start_checked = true,
                Err(httparse::Error::TooManyHeaders) => {
                    return Err(too_many_request_fields(limits))
                }
                _ => return Err(diagnose_request(buf, limits)),
            }
        }
        if t.fill()? == 0 {
            let n = t.buffered().len();
            let error = if n == 0 {
                Error::new(ErrorKind::Closed, "closed")
            } else {
                Error::new(
                    ErrorKind::Closed,
                    format!("closed after {n} bytes of an incomplete request head"),
                )
            };
            return Err(Refusal {
                status: if n == 0 { 0 } else { 400 },
                error,
            });
        }
    }
}

/// What [`read_request_head`] has seen of a head so far: lines are checked once each as
/// they complete.
#[derive(Debug, Default)]
struct LineScan {
    /// Bytes of the buffer looked at.
    scanned: usize,
    /// Where the current (incomplete) line starts.
    line_start: usize,
    /// Complete non-empty lines.
    lines: usize,
    request_line_seen: bool,
    start_checked: bool,
}

impl LineScan {
    /// Checks the lines completed since the last call; whether the head's empty line
    /// has arrived.
    fn advance(&mut self, buf: &[u8], limits: &Limits) -> std::result::Result<bool, Refusal> {
        let from = self.scanned;
        self.scanned = buf.len();
        for i in memchr::memchr_iter(b'\n', &buf[from..]) {
            let lf = from + i;
            let line = &buf[self.line_start..lf];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.line_start = lf + 1;
            if line.is_empty() {
                if self.request_line_seen {
                    return Ok(true);
                }
                continue;
            }
            self.check_length(line.len(), limits)?;
            self.request_line_seen = true;
            self.lines += 1;
            if self.lines > limits.max_headers + 1 {
                return Err(too_many_request_fields(limits));
            }
        }
        self.check_length(buf.len() - self.line_start, limits)?;
        Ok(false)
    }

    fn check_length(&self, len: usize, limits: &Limits) -> std::result::Result<(), Refusal> {
        if len <= limits.max_line_bytes {
            return Ok(());
        }
        Err(if self.request_line_seen {
            Refusal::new(
                431,
                format!(
                    "request header line longer than {} bytes",
                    limits.max_line_bytes
                ),
            )
        } else {
            Refusal::new(
                414,
                format!("request line longer than {} bytes", limits.max_line_bytes),
            )
        })
    }
}

fn too_many_request_fields(limits: &Limits) -> Refusal {
    Refusal::new(
        431,
        format!(
            "request head has more than {} header fields",
            limits.max_headers
        ),
    )
}

fn shown(b: &[u8]) -> String {
    let b = &b[..b.len().min(60)];
    String::from_utf8_lossy(b).escape_debug().to_string()
}

/// Names what is wrong with a request head httparse refused.
fn diagnose_request(buf: &[u8], limits: &Limits) -> Refusal {
    let mut lines = buf
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .skip_while(|l| l.is_empty());
    let Some(start) = lines.next() else {
        return Refusal::bad("invalid request head");
    };
    if let Some(r) = diagnose_request_line(start) {
        return r;
    }
    let mut count = 0;
    for (n, line) in lines.enumerate() {
        if line.is_empty() {
            break;
        }
        count += 1;
        if count > limits.max_headers {
            return too_many_request_fields(limits);
        }
        let lineno = n + 2;
        if matches!(line[0], b' ' | b'\t') {
            return Refusal::bad(format!(
                "obsolete line folding at request head line {lineno} (a line starting with white space)"
            ));
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Refusal::bad(format!(
                "request header line {lineno} has no colon: '{}'",
                shown(line)
            ));
        };
        let name = &line[..colon];
        if name.last().is_some_and(|&b| b == b' ' || b == b'\t') {
            return Refusal::bad(format!(
                "white space between header name '{}' and its colon",
                shown(super::super::headers::trim(name))
            ));
        }
        if let Some(&b) = name.iter().find(|&&b| !is_token_byte(b)) {
            return Refusal::bad(format!("byte 0x{b:02x} in header name '{}'", shown(name)));
        }
        let value = &line[colon + 1..];
        if let Some(&b) = value
            .iter()
            .find(|&&b| (b < 0x20 && b != b'\t') || b == 0x7f)
        {
            let what = match b {
                0 => "NUL".to_string(),
                b'\r' => "bare CR".to_string(),
                _ => format!("control character 0x{b:02x}"),
            };
            return Refusal::bad(format!("{what} in the value of header '{}'", shown(name)));
        }
    }
    Refusal::bad("invalid request head")
}

fn diagnose_request_line(line: &[u8]) -> Option<Refusal> {
    if let Some(&b) = line.iter().find(|&&b| b < 0x20 || b == 0x7f) {
        let what = match b {
            0 => "NUL".to_string(),
            b'\r' => "bare CR".to_string(),
            _ => format!("control character 0x{b:02x}"),
        };
        return Some(Refusal::bad(format!("{what} in the request line")));
    }
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Some(Refusal::bad(format!(
            "malformed request line '{}'",
            shown(line)
        )));
    }
    let (method, target, version) = (parts[0], parts[1], parts[2]);
    if let Some(v) = version.strip_prefix(b"HTTP/") {
        let digits = v.len() == 3 && v[0].is_ascii_digit() && v[1] == b'.' && v[2].is_ascii_digit();
        if digits && !matches!(v, b"1.0" | b"1.1") {
            return Some(Refusal::new(
                505,
                format!("HTTP version '{}' is not supported", shown(version)),
            ));
        }
    }
    if !matches!(version, b"HTTP/1.0" | b"HTTP/1.1") {
        return Some(Refusal::bad(format!(
            "invalid HTTP version '{}' in the request line",
            shown(version)
        )));
    }
    if method.iter().any(|&b| !is_token_byte(b)) {
        return Some(Refusal::bad(format!(
            "invalid request method '{}'",
            shown(method)
        )));
    }
    if target
        .iter()
        .any(|&b| !(0x21..=0x7e).contains(&b) && b < 0x80)
    {
        return Some(Refusal::bad(format!(
            "invalid request target '{}'",
            shown(target)
        )));
    }
    None
}

/// Reads trailer fields after the last chunk, up to and including the empty line, into
/// `out` (lower-cased names).
pub fn parse_trailers(buf: &[u8], limits: &Limits) -> Result<Option<(Headers, usize)>> {
    let mut fields = vec![httparse::EMPTY_HEADER; limits.max_headers];
    match httparse::parse_headers(buf, &mut fields) {
        Ok(httparse::Status::Complete((n, raw))) => {
            if n > limits.max_head_bytes {
                return Err(too_big("trailer", limits));
            }
            Ok(Some((lower_fields(raw), n)))
        }
        Ok(httparse::Status::Partial) => {
            if buf.len() >= limits.max_head_bytes {
                return Err(too_big("trailer", limits));
            }
            Ok(None)
        }
        Err(httparse::Error::TooManyHeaders) => Err(too_many_fields("trailer")),
        Err(e) => Err(Error::new(
            ErrorKind::Protocol,
            format!("invalid trailer fields ({e})"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::conn::mem::MemTransport;
    use super::*;

    fn fields(list: &[(&str, &str)]) -> Headers {
        let mut h = Headers::new();
        for (n, v) in list {
            h.add(n, v.as_bytes()).unwrap();
        }
        h
    }

    #[test]
    fn request_head_round_trips_through_httparse() {
        let h = fields(&[
            ("host", "example.org"),
            ("user-agent", "sockit"),
            ("x-repeat", "1"),
            ("x-repeat", "2"),
            ("te", "trailers"),
        ]);
        let mut out = Vec::new();
        write_request_head("GET", "/a/b?c=d", &h, &mut out).unwrap();
        assert_eq!(
            out,
            b"GET /a/b?c=d HTTP/1.1\r\nHost: example.org\r\nUser-Agent: sockit\r\n\
              x-repeat: 1\r\nx-repeat: 2\r\nTE: trailers\r\n\r\n"
        );
        let (req, n) = parse_request_head(&out, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(n, out.len());
        assert_eq!(req.method, "GET");
        assert_eq!(req.target, "/a/b?c=d");
        assert_eq!(
            req.headers.get_all("x-repeat").collect::<Vec<_>>(),
            [b"1", b"2"]
        );
    }

    #[test]
    fn injection_is_refused_before_anything_is_written() {
        let ok = fields(&[("host", "h")]);
        let mut out = Vec::new();
        for (m, t) in [
            ("GET\r\nX: y", "/"),
            ("GE T", "/"),
            ("", "/"),
            ("GET", "/a\r\nX-Injected: 1"),
            ("GET", "/a\nb"),
            ("GET", "/a b"),
            ("GET", "/a\0"),
            ("GET", ""),
        ] {
            let e = write_request_head(m, t, &ok, &mut out).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Invalid, "{m:?} {t:?}");
        }
        let mut bad = Headers::new();
        bad.push_unchecked("X-Evil".into(), b"a\r\nInjected: 1".to_vec());
        assert!(write_request_head("GET", "/", &bad, &mut out).is_err());
        let mut bad = Headers::new();
        bad.push_unchecked("X-Evil\r\nA".into(), b"v".to_vec());
        assert!(write_request_head("GET", "/", &bad, &mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn response_heads() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\n\
                    set-cookie: b=2\r\nX-Folded: one\r\n  two\r\n\r\nbody";
        let (h, n) = parse_response_head(raw, &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(&raw[n..], b"body");
        assert_eq!(h.code, 200);
        assert_eq!(h.version, 1);
        assert_eq!(h.reason, "OK");
        assert_eq!(h.status_line, "HTTP/1.1 200 OK");
        assert_eq!(h.headers.at(0), Some(("content-type", &b"text/plain"[..])));
        assert_eq!(
            h.headers.get_all("set-cookie").collect::<Vec<_>>(),
            [b"a=1", b"b=2"]
        );
        assert_eq!(h.headers.get("x-folded"), Some(&b"one two"[..]));

        let (h, _) = parse_response_head(b"HTTP/1.0 404 Not  Found\n\n", &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!((h.version, h.code), (0, 404));
        assert_eq!(h.reason, "Not  Found");

        assert!(
            parse_response_head(b"HTTP/1.1 200 OK\r\nA: b\r\n", &Limits::default())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn garbage_and_limits() {
        let l = Limits::default();
        for bad in [
            &b"HTTP/1.1 abc Bogus\r\n\r\n"[..],
            b"SSH-2.0-OpenSSH_9.0\r\n",
            b"HTTP/9.9 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        ] {
            let e = parse_response_head(bad, &l).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Protocol, "{bad:?}");
        }
        let e = parse_response_head(b"garbage!\r\n", &l).unwrap_err();
        assert!(e.msg.contains("'garbage!'"), "{}", e.msg);

        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..101 {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        let e = parse_response_head(&many, &l).unwrap_err();
        assert!(e.msg.contains("too many header fields"), "{}", e.msg);

        let small = Limits {
            max_head_bytes: 100,
            ..Limits::default()
        };
        let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
        big.extend_from_slice(&[b'X'; 200]);
        let e = parse_response_head(&big, &small).unwrap_err();
        assert!(e.msg.contains("larger than 100 bytes"), "{}", e.msg);
    }

    #[test]
    fn read_head_at_every_cut_and_on_close() {
        let raw = b"HTTP/1.1 204 No Content\r\nA: 1\r\nB: 2\r\n\r\nrest";
        for size in 1..raw.len() {
            let mut t = MemTransport::split(raw, size);
            let h = read_head(&mut t, &Limits::default(), parse_response_head).unwrap();
            assert_eq!(h.code, 204);
            assert_eq!(h.headers.len(), 2);
            // whatever arrived after the head stays buffered
            while t.fill().unwrap() > 0 {}
            assert_eq!(t.buffered(), b"rest", "cut {size}");
        }
        let mut t = MemTransport::new::<[&[u8]; 0], _>([]);
        let e = read_head(&mut t, &Limits::default(), parse_response_head).unwrap_err();
        assert_eq!((e.kind, e.msg.as_str()), (ErrorKind::Closed, "closed"));
        let mut t = MemTransport::new([&b"HTTP/1.1 200 OK\r\nA:"[..]]);
        let e = read_head(&mut t, &Limits::default(), parse_response_head).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Closed);
        assert!(e.msg.contains("incomplete"), "{}", e.msg);
    }

    #[test]
    fn read_head_stops_endless_heads_early() {
        // 10 MB of header lines never get buffered: the limit stops the read.
        let line = b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let mut chunks: Vec<Vec<u8>> = vec![b"HTTP/1.1 200 OK\r\n".to_vec()];
        for _ in 0..10_000 {
            chunks.push(line.repeat(16));
        }
        let mut t = MemTransport::new(chunks);
        let e = read_head(&mut t, &Limits::default(), parse_response_head).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(t.fills < 100, "read {} chunks", t.fills);

        let mut t = MemTransport::new([&b"SSH-2.0-OpenSSH\r\n"[..]]);
        t.fail_at_end = Some(Error::kind(ErrorKind::Timeout));
        let e = read_head(&mut t, &Limits::default(), parse_response_head).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Protocol,
            "garbage is refused without waiting"
        );
    }

    #[test]
    fn trailers() {
        let (t, n) = parse_trailers(b"X-One: 1\r\nX-Two: 2\r\n\r\nnext", &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(n, 22);
        assert_eq!(t.get("x-two"), Some(&b"2"[..]));
        let (t, n) = parse_trailers(b"\r\n", &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!((t.len(), n), (0, 2));
        assert!(parse_trailers(b"X-One: 1\r\n", &Limits::default())
            .unwrap()
            .is_none());
    }

    #[test]
    fn response_head_writer() {
        let mut out = Vec::new();
        write_response_head(200, "OK", &[&fields(&[("content-length", "0")])], &mut out).unwrap();
        assert_eq!(out, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert!(write_response_head(200, "O\r\nK", &[], &mut out).is_err());
        assert!(write_response_head(42, "OK", &[], &mut out).is_err());
    }

    fn strict(raw: &[u8], limits: &Limits) -> std::result::Result<RequestHead, Refusal> {
        let mut t = MemTransport::new([raw]);
        read_request_head(&mut t, limits)
    }

    #[test]
    fn strict_request_heads() {
        let l = Limits::server();
        let h = strict(
            b"\r\nPOST /a?b HTTP/1.0\r\nHost: x\r\nX-Y: a\tb \r\n\r\n",
            &l,
        )
        .unwrap();
        assert_eq!(
            (h.method.as_str(), h.target.as_str(), h.version),
            ("POST", "/a?b", 0)
        );
        assert_eq!(h.headers.get("x-y"), Some(&b"a\tb"[..]));
        // bare LF line ends are accepted (RFC 9112 2.2)
        let h = strict(b"GET / HTTP/1.1\nHost: x\n\n", &l).unwrap();
        assert_eq!(h.headers.len(), 1);

        for (raw, status, what) in [
            (
                &b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n"[..],
                400,
                "obsolete line folding",
            ),
            (
                b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
                400,
                "white space between header name 'Host'",
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n",
                400,
                "bare CR in the value of header 'Host'",
            ),
            (
                b"GET / HTTP/1.1\r\nX: a\0b\r\n\r\n",
                400,
                "NUL in the value of header 'X'",
            ),
            (
                b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
                400,
                "control character 0x01",
            ),
            (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "has no colon"),
            (
                b"GET / HTTP/1.1\r\nX(y): 1\r\n\r\n",
                400,
                "byte 0x28 in header name",
            ),
            (
                b"GET / HTTP/2.0\r\n\r\n",
                505,
                "HTTP version 'HTTP/2.0' is not supported",
            ),
            (b"GET / HTTP/1.2\r\n\r\n", 505, "not supported"),
            (b"GET / FOO/1.1\r\n\r\n", 400, "invalid HTTP version"),
            (b"GET  / HTTP/1.1\r\n\r\n", 400, "malformed request line"),
            (
                b"GET /\rx HTTP/1.1\r\n\r\n",
                400,
                "bare CR in the request line",
            ),
            (b"G@T / HTTP/1.1\r\n\r\n", 400, "invalid request method"),
            (b"SSH-2.0-OpenSSH_9.0\r\n", 400, "malformed request line"),
        ] {
            let r = strict(raw, &l).unwrap_err();
            assert_eq!(r.status, status, "{raw:?}: {}", r.error.msg);
            assert_eq!(r.error.kind, ErrorKind::Protocol);
            assert!(r.error.msg.contains(what), "{raw:?}: {}", r.error.msg);
        }
    }

    #[test]
    fn strict_limits_stop_early() {
        let l = Limits {
            max_head_bytes: 1000,
            max_headers: 3,
            max_line_bytes: 50,
        };
        // a request line that never ends: refused after about one line's worth
        let mut chunks = vec![b"GET /".to_vec()];
        chunks.extend(std::iter::repeat(vec![b'a'; 20]).take(100));
        let mut t = MemTransport::new(chunks);
        let r = read_request_head(&mut t, &l).unwrap_err();
        assert_eq!(r.status, 414, "{}", r.error.msg);
        assert!(t.fills < 10, "{} fills", t.fills);

        let long_header = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "v".repeat(60));
        let r = strict(long_header.as_bytes(), &l).unwrap_err();
        assert_eq!(r.status, 431);
        assert!(
            r.error.msg.contains("header line longer than 50"),
            "{}",
            r.error.msg
        );

        let many = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n";
        let mut t = MemTransport::new([many.as_bytes()]);
        t.fail_at_end = Some(Error::kind(ErrorKind::Timeout));
        let r = read_request_head(&mut t, &l).unwrap_err();
        assert_eq!(
            r.status, 431,
            "refused before the head ends: {}",
            r.error.msg
        );
        assert!(r.error.msg.contains("more than 3 header fields"));

        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..3 {
            big.extend_from_slice(format!("X-{i}: {}\r\n", "y".repeat(40)).as_bytes());
        }
        let l2 = Limits {
            max_head_bytes: 100,
            ..l
        };
        let r = strict(&big, &l2).unwrap_err();
        assert_eq!(r.status, 431);
        assert!(
            r.error.msg.contains("larger than 100 bytes"),
            "{}",
            r.error.msg
        );
        // exactly at the line limit is fine
        let exact = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "v".repeat(47));
        assert!(strict(exact.as_bytes(), &l).is_ok());
    }

    #[test]
    fn strict_reads_resume_and_report_closes() {
        let raw = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n";
        for cut in 1..raw.len() {
            // every other fill fails with "block": each call goes on where the last stopped
            let mut t = MemTransport::split(raw, cut);
            t.blocky = true;
            let mut heads = Vec::new();
            let mut blocks = 0;
            for _ in 0..1000 {
                match read_request_head(&mut t, &Limits::server()) {
                    Ok(h) => heads.push(h.target),
                    Err(r) if r.error.kind == ErrorKind::WouldBlock => blocks += 1,
                    Err(r) if r.error.kind == ErrorKind::Closed => break,
                    Err(r) => panic!("{}", r.error.msg),
                }
            }
            assert_eq!(heads, ["/x", "/y"], "cut {cut}");
            assert!(blocks > 0);
        }
        let r = strict(b"", &Limits::server()).unwrap_err();
        assert_eq!(
            (r.status, r.error.kind, r.error.msg.as_str()),
            (0, ErrorKind::Closed, "closed")
        );
        let r = strict(b"GET / HTTP/1.1\r\nHo", &Limits::server()).unwrap_err();
        assert_eq!((r.status, r.error.kind), (400, ErrorKind::Closed));
        assert!(r.error.msg.contains("incomplete request head"));
        let mut t = MemTransport::new([&b"GET / HT"[..]]);
        t.fail_at_end = Some(Error::kind(ErrorKind::WouldBlock));
        let r = read_request_head(&mut t, &Limits::server()).unwrap_err();
        assert_eq!((r.status, r.error.kind), (0, ErrorKind::WouldBlock));
        assert_eq!(t.buffered(), b"GET / HT", "kept for the next call");
    }

    #[test]
    fn strict_writers() {
        let mut out = Vec::new();
        let h = fields(&[("host", "h")]);
        write_request_head_strict("GET", "/", 0, &[&h], &mut out).unwrap();
        assert_eq!(out, b"GET / HTTP/1.0\r\nHost: h\r\n\r\n");
        for (t, m) in [("/\u{e9}", "0xc3"), ("/a\x01", "0x01")] {
            let e = write_request_head_strict("GET", t, 1, &[&h], &mut out).unwrap_err();
            assert!(e.msg.contains(m), "{}", e.msg);
        }
        let mut bad = Headers::new();
        bad.push_unchecked("X".into(), b"a\x7fb".to_vec());
        let e = write_request_head_strict("GET", "/", 1, &[&bad], &mut out).unwrap_err();
        assert!(e.msg.contains("control character 0x7f"), "{}", e.msg);
        assert!(
            write_request_head("GET", "/", &bad, &mut out).is_ok(),
            "the client is tolerant"
        );
        assert!(write_response_head(200, "O\x01K", &[], &mut out).is_err());
        assert!(write_request_head_strict("GET", "/", 2, &[&h], &mut out).is_err());
    }
}
