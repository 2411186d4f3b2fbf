//! The messages of the symmetric HTTP socket (Emilua's `http.request` and
//! `http.response`): plain values the caller owns and reuses. Received header and
//! trailer names are lower-cased; order and repeats are kept.

use super::super::headers::Headers;

/// An HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// A token: "GET", "POST", ...
    pub method: String,
    /// The request target as on the wire: "/path?query", "*", "host:port", "http://...".
    pub target: String,
    /// The minor version: 1 for HTTP/1.1 (the default), 0 for HTTP/1.0.
    pub version: u8,
    pub headers: Headers,
    /// The body: read_some appends to it; write_request sends it whole; write sends it as
    /// one piece of a streamed body.
    pub body: Vec<u8>,
    /// Trailer fields (after a chunked body).
    pub trailers: Headers,
}

impl Default for Request {
    /// `GET /` HTTP/1.1, no fields, no body.
    fn default() -> Request {
        Request {
            method: "GET".to_string(),
            target: "/".to_string(),
            version: 1,
            headers: Headers::new(),
            body: Vec::new(),
            trailers: Headers::new(),
        }
    }
}

/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, 100 to 999.
    pub status: u16,
    /// The reason phrase; when empty, the standard phrase of the status is sent.
    pub reason: String,
    /// The minor version received (responses are always sent as HTTP/1.1).
    pub version: u8,
    pub headers: Headers,
    pub body: Vec<u8>,
    pub trailers: Headers,
}

impl Default for Response {
    /// 200, no fields, no body.
    fn default() -> Response {
        Response {
            status: 200,
            reason: String::new(),
            version: 1,
            headers: Headers::new(),
            body: Vec::new(),
            trailers: Headers::new(),
        }
    }
}

/// What both message kinds have: fields, body, trailers (what `read_some`, `write` and
/// `write_trailers` use).
pub trait Message {
    fn headers(&self) -> &Headers;
    fn headers_mut(&mut self) -> &mut Headers;
    fn body(&self) -> &[u8];
    fn body_mut(&mut self) -> &mut Vec<u8>;
    fn trailers(&self) -> &Headers;
    fn trailers_mut(&mut self) -> &mut Headers;
}

macro_rules! impl_message {
    ($t:ty) => {
        impl Message for $t {
            fn headers(&self) -> &Headers {
                &self.headers
            }
            fn headers_mut(&mut self) -> &mut Headers {
                &mut self.headers
            }
            fn body(&self) -> &[u8] {
                &self.body
            }
            fn body_mut(&mut self) -> &mut Vec<u8> {
                &mut self.body
            }
            fn trailers(&self) -> &Headers {
                &self.trailers
            }
            fn trailers_mut(&mut self) -> &mut Headers {
                &mut self.trailers
            }
        }
    };
}
impl_message!(Request);
impl_message!(Response);
