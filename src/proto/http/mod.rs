//! HTTP/1.1. One message codec serves every side: heads (`head`: serialise, parse with
//! limits, the strict server-side request reader), framing and persistence rules
//! (`framing`), bodies read and written (`body`), what a server answers when it refuses a
//! request (`refusal`). On top of it: the client (`client`, with its connection `pool`
//! and URL `target`s), the symmetric socket (`socket`, Emilua's `http.socket`, over
//! the `message` types), and the server side of Moonbridge's HTTP module (`server`, with
//! the streaming form parsers of `form`).

pub mod body;
pub mod client;
#[cfg(test)]
mod client_tests;
pub mod form;
pub mod framing;
pub mod head;
pub mod message;
pub mod pool;
pub mod refusal;
pub mod server;
pub mod socket;
pub mod target;
