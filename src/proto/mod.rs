//! Protocol clients: the command/reply helper FTP and SMTP share (`tp`), the HTTP/1.1
//! message codec and client (`http`), FTP and SMTP. They run over any [`conn::Transport`]
//! and move bodies through LTN12 sources and sinks.

pub mod conn;
pub mod ftp;
pub mod headers;
pub mod http;
pub mod mail;
pub mod smtp;
pub mod tp;

/// Base64 of `data` (for Basic and SASL PLAIN/LOGIN credentials).
pub(crate) fn base64(data: &[u8]) -> String {
    let mut enc = crate::mime::base64::Base64Encoder::new();
    let mut out = Vec::with_capacity(data.len() / 3 * 4 + 4);
    enc.feed(data, &mut out);
    enc.finish(&mut out);
    String::from_utf8(out).expect("base64 is ASCII")
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"diego:nehab"), "ZGllZ286bmVoYWI=");
        assert_eq!(super::base64(b"\0user\0pass"), "AHVzZXIAcGFzcw==");
    }
}
