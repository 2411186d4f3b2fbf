//! HTTP/1.1: the message codec (heads in `head`, framing and chunked coding in `body`)
//! shared by the client and the symmetric socket.

pub mod body;
pub mod client;
#[cfg(test)]
mod client_tests;
pub mod form;
pub mod head;
pub mod pool;
pub mod server;
pub mod target;
