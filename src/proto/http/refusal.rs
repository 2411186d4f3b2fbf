//! What a server answers when it refuses a request: the [`Refusal`] the strict request
//! parsers return (an error plus the status code that names it: 400, 413, 414, 431, 501,
//! 505), the standard reason phrases, and the short complete error response a server
//! sends before closing the connection.

use crate::error::{Error, ErrorKind};

/// A request the server-side rules refused: the status to answer with and the error
/// (kind `Protocol` for malformed or hostile input; `Closed` or `Timeout` when the peer
/// stopped sending, which leaves nobody to answer: `status` is 0 then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub error: Error,
}

impl Refusal {
    /// A `Protocol` refusal with `status` and message `msg`.
    pub fn new(status: u16, msg: impl Into<String>) -> Refusal {
        Refusal {
            status,
            error: Error::new(ErrorKind::Protocol, msg),
        }
    }

    /// 400 Bad Request.
    pub fn bad(msg: impl Into<String>) -> Refusal {
        Refusal::new(400, msg)
    }
}

/// Transport errors (timeout, closed, ...) carry no status; a `Protocol` error from the
/// shared codec is a 400.
impl From<Error> for Refusal {
    fn from(error: Error) -> Refusal {
        let status = if error.kind == ErrorKind::Protocol {
            400
        } else {
            0
        };
        Refusal { status, error }
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Error {
        r.error
    }
}

/// The reason phrase RFC 9110 gives `code`, or "" for codes it does not define.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Appends a complete error response for `code` (a status from 400 to 599) to `out`:
/// status line, `Content-Type: text/plain`, `Content-Length`, `Connection: close`, and a
/// one-line body "<code> <reason>\n". For a server that refuses a request and then
/// closes the connection (the request's framing can no longer be trusted).
pub fn write_error_response(code: u16, out: &mut Vec<u8>) {
    let code = if (400..=599).contains(&code) {
        code
    } else {
        400
    };
    let reason = match reason_phrase(code) {
        "" => "Error",
        r => r,
    };
    let body = format!("{code} {reason}\n");
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_and_error_responses() {
        let r = Refusal::new(431, "too big");
        assert_eq!((r.status, r.error.kind), (431, ErrorKind::Protocol));
        let r: Refusal = Error::kind(ErrorKind::Timeout).into();
        assert_eq!(r.status, 0);
        let r: Refusal = Error::new(ErrorKind::Protocol, "bad chunk").into();
        assert_eq!(r.status, 400);
        let e: Error = Refusal::bad("x").into();
        assert_eq!(e.msg, "x");

        let mut out = Vec::new();
        write_error_response(413, &mut out);
        assert_eq!(
            out,
            b"HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain\r\n\
              Content-Length: 22\r\nConnection: close\r\n\r\n413 Content Too Large\n"
        );
        out.clear();
        write_error_response(299, &mut out);
        assert!(out.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
        assert_eq!(reason_phrase(431), "Request Header Fields Too Large");
        assert_eq!(reason_phrase(299), "");
    }
}
