//! Protocol clients: the command/reply helper FTP and SMTP share (`tp`), the HTTP/1.1
//! message codec and client (`http`), FTP and SMTP. They run over any [`conn::Transport`]
//! and move bodies through LTN12 sources and sinks.

pub mod conn;
pub mod headers;
pub mod http;
pub mod tp;
