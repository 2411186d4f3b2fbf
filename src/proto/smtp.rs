//! SMTP client (RFC 5321): EHLO (HELO when the server does not know EHLO), AUTH PLAIN or
//! LOGIN when credentials are given, MAIL FROM, one RCPT TO per recipient, DATA with the
//! message dot-stuffed as it streams from its source, QUIT. LuaSocket 3's `smtp.send`,
//! and LuaSocket 1.3b's `smtp_mail` and CGILua's `mail{...}` on top.
//!
//! Addresses and header values with CR, LF or NUL are refused before anything is sent.
//! A reply the step did not expect is a `Protocol` error carrying the server's reply.

use super::conn::{check_wire_text, TcpConn};
use super::headers::Headers;
use super::mail::{Body, Part};
use super::tp::{Reply, Tp};
use crate::error::{Error, ErrorKind, Result};
use crate::io::timeout::Timeout;
use crate::ltn12::source::ChainSource;
use crate::ltn12::Source;
use crate::mime::DotStuff;
use crate::proto::conn::Transport;
use std::time::Duration;

/// The SMTP port.
pub const SMTP_PORT: u16 = 25;
/// LuaSocket's default: each wait lasts at most 60 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The name given in EHLO unless set (LuaSocket uses SERVER_NAME or "localhost").
pub const DEFAULT_DOMAIN: &str = "localhost";
/// Chunk size asked of message sources.
const SEND_CHUNK: usize = 64 * 1024;

/// How to reach and talk to the server.
#[derive(Debug, Clone)]
pub struct Options {
    pub host: String,
    pub port: u16,
    /// The name sent with EHLO/HELO.
    pub domain: String,
    /// Credentials for AUTH (PLAIN, else LOGIN).
    pub auth: Option<(String, String)>,
    pub timeout: Timeout,
}

impl Options {
    pub fn new(host: &str, port: u16) -> Options {
        Options {
            host: host.to_string(),
            port,
            domain: DEFAULT_DOMAIN.to_string(),
            auth: None,
            timeout: Timeout {
                block: Some(DEFAULT_TIMEOUT),
                total: None,
            },
        }
    }
}

/// An address as MAIL FROM / RCPT TO want it: "<addr>". The caller may give it bare or in
/// angle brackets; "Name <addr>" is reduced to "<addr>". CR, LF, NUL, and angle brackets
/// inside the address itself are refused.
pub fn envelope_address(a: &str) -> Result<String> {
    check_wire_text("mail address", a.as_bytes())?;
    let t = a.trim();
    let inner = match (t.rfind('<'), t.ends_with('>')) {
        (Some(i), true) if !t[..i].contains(['<', '>']) => &t[i + 1..t.len() - 1],
        (None, false) => t,
        _ => {
            // unbalanced, or angle brackets in the display name
            return Err(Error::invalid(format!(
                "mail address '{a}' has unbalanced angle brackets"
            )));
        }
    };
    if inner.contains(['<', '>']) || inner.chars().any(char::is_whitespace) {
        return Err(Error::invalid(format!("invalid mail address '{a}'")));
    }
    Ok(format!("<{inner}>"))
}

/// A session with an SMTP server.
pub struct Session {
    tp: Tp<TcpConn>,
    /// EHLO keywords (upper-cased first words of the reply lines after the first);
    /// empty after HELO.
    pub extensions: Vec<String>,
    pub greeting: Reply,
    /// True between the server's go-ahead for DATA and the end of the message: anything
    /// sent then would be message text, so a failure in between ends the connection
    /// without QUIT (the server drops the unfinished message).
    in_data: bool,
}

impl Session {
    /// Connects and reads the greeting (220).
    pub fn connect(host: &str, port: u16, timeout: Timeout) -> Result<Session> {
        let conn = TcpConn::connect(host, port, timeout)?;
        let mut tp = Tp::new(conn);
        let greeting = tp.check("2..")?;
        Ok(Session {
            tp,
            extensions: Vec::new(),
            greeting,
            in_data: false,
        })
    }

    /// EHLO, falling back to HELO when the server rejects EHLO with a 5xx reply.
    pub fn greet(&mut self, domain: &str) -> Result<Reply> {
        self.tp.command("EHLO", Some(domain))?;
        let r = self.tp.get_reply()?;
        if r.matches("2..") {
            self.extensions = r
                .lines()
                .skip(1)
                .filter_map(|l| l.get(4..))
                .map(|l| l.trim().to_ascii_uppercase())
                .collect();
            return Ok(r);
        }
        if !r.matches("5..") {
            return Err(r.into_error());
        }
        self.extensions.clear();
        self.tp.exchange("HELO", Some(domain), "2..")
    }

    /// The AUTH mechanisms the server offered.
    fn mechanisms(&self) -> Vec<String> {
        self.extensions
            .iter()
            .filter_map(|e| {
                e.strip_prefix("AUTH ")
                    .or_else(|| e.strip_prefix("AUTH="))
                    .map(str::to_string)
            })
            .flat_map(|m| m.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect()
    }

    /// AUTH PLAIN when offered, else AUTH LOGIN. `Unsupported` when the server offers
    /// neither; `Protocol` with the server's reply when it refuses the credentials.
    pub fn auth(&mut self, user: &str, password: &str) -> Result<()> {
        check_wire_text("user", user.as_bytes())?;
        check_wire_text("password", password.as_bytes())?;
        let mechs = self.mechanisms();
        if mechs.iter().any(|m| m == "PLAIN") {
            let token = super::base64(format!("\0{user}\0{password}").as_bytes());
            self.tp
                .exchange("AUTH", Some(&format!("PLAIN {token}")), "2..")?;
            return Ok(());
        }
        if mechs.iter().any(|m| m == "LOGIN") {
            self.tp.exchange("AUTH", Some("LOGIN"), "334")?;
            self.tp.send_line(&super::base64(user.as_bytes()))?;
            self.tp.check("334")?;
            self.tp.send_line(&super::base64(password.as_bytes()))?;
            self.tp.check("2..")?;
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Unsupported,
            "the server offers neither AUTH PLAIN nor AUTH LOGIN",
        ))
    }

    /// MAIL FROM:<from>.
    pub fn mail(&mut self, from: &str) -> Result<()> {
        let from = envelope_address(from)?;
        self.tp
            .exchange("MAIL", Some(&format!("FROM:{from}")), "2..")
            .map(|_| ())
    }

    /// RCPT TO:<to>.
    pub fn rcpt(&mut self, to: &str) -> Result<()> {
        let to = envelope_address(to)?;
        self.tp
            .exchange("RCPT", Some(&format!("TO:{to}")), "2..")
            .map(|_| ())
    }

    /// DATA: the message from `source`, dot-stuffed and ended with ".". Returns the bytes
    /// of the message (before stuffing).
    pub fn data(&mut self, source: &mut dyn Source) -> Result<u64> {
        self.tp.exchange("DATA", None, "3..")?;
        self.in_data = true;
        let mut counted = Counting {
            inner: source,
            count: 0,
        };
        let mut stuffed = ChainSource::new(&mut counted, DotStuff::smtp());
        while let Some(chunk) = stuffed.pull(SEND_CHUNK)? {
            if !chunk.is_empty() {
                self.tp.io().send_all(chunk)?;
            }
        }
        drop(stuffed);
        self.in_data = false;
        self.tp.check("2..")?;
        Ok(counted.count)
    }

    /// QUIT and close (errors in the goodbye are ignored). In the middle of a message
    /// (its source failed) it closes at once: a QUIT would only become message text.
    pub fn quit(&mut self) {
        if !self.in_data {
            let _ = self.tp.exchange("QUIT", None, "2..");
        }
        self.tp.io().close();
    }

    /// Any command and its reply (checked against `expect` when given).
    pub fn command(
        &mut self,
        verb: &str,
        arg: Option<&str>,
        expect: Option<&str>,
    ) -> Result<Reply> {
        self.tp.command_reply(verb, arg, expect)
    }
}

/// Counts what passes through a source.
struct Counting<'a> {
    inner: &'a mut dyn Source,
    count: u64,
}

impl Source for Counting<'_> {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        let r = self.inner.pull(hint)?;
        if let Some(c) = &r {
            self.count += c.len() as u64;
        }
        Ok(r)
    }
}

/// Sends one message: connect, greet, authenticate if asked, MAIL, RCPT for each
/// recipient, DATA, QUIT (LuaSocket 3's `smtp.send`). Every address is checked before
/// connecting. Returns the message size.
pub fn send(opts: &Options, from: &str, rcpt: &[String], message: &mut dyn Source) -> Result<u64> {
    envelope_address(from)?;
    if rcpt.is_empty() {
        return Err(Error::invalid("no recipients"));
    }
    for r in rcpt {
        envelope_address(r)?;
    }
    check_wire_text("domain", opts.domain.as_bytes())?;
    let mut s = Session::connect(&opts.host, opts.port, opts.timeout)?;
    let r = (|| {
        s.greet(&opts.domain)?;
        if let Some((u, p)) = &opts.auth {
            s.auth(u, p)?;
        }
        s.mail(from)?;
        for r in rcpt {
            s.rcpt(r)?;
        }
        s.data(message)
    })();
    s.quit();
    r
}

/// Splits a comma-separated address list ("a@b, Name <c@d>") into addresses.
pub fn split_addresses(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect()
}

/// LuaSocket 1.3b's `smtp_mail(from, rcpt, headers, body, server)`: the header fields
/// (canonical names), an empty line and `body` (line ends made CRLF) go to every address
/// of `rcpt`; recipients not named in the headers get a blind copy.
pub fn mail_13b(
    opts: &Options,
    from: &str,
    rcpt: &[String],
    headers: &Headers,
    body: &[u8],
) -> Result<u64> {
    let mut msg = Part::new();
    for (n, v) in headers.iter() {
        msg.headers.add(n, v)?;
    }
    msg.body = Body::Bytes(crlf(body));
    let mut src = message_without_defaults(msg)?;
    send(opts, from, rcpt, &mut src)
}

/// CGILua's `mail{to, from, subject, message, cc, bcc, mailserver}`: To, From, Subject
/// and Cc headers; the message goes to every address of to, cc and bcc.
#[allow(clippy::too_many_arguments)]
pub fn mail_cgilua(
    opts: &Options,
    to: &str,
    from: &str,
    subject: Option<&str>,
    message: Option<&[u8]>,
    cc: Option<&str>,
    bcc: Option<&str>,
) -> Result<u64> {
    let mut h = Headers::new();
    h.add("to", to.as_bytes())?;
    h.add("from", from.as_bytes())?;
    if let Some(s) = subject {
        h.add("subject", s.as_bytes())?;
    }
    if let Some(c) = cc {
        h.add("cc", c.as_bytes())?;
    }
    let mut rcpt = split_addresses(to);
    rcpt.extend(cc.map(split_addresses).unwrap_or_default());
    rcpt.extend(bcc.map(split_addresses).unwrap_or_default());
    mail_13b(opts, from, &rcpt, &h, message.unwrap_or(b""))
}

/// CRLF line ends for a message body given as text.
fn crlf(body: &[u8]) -> Vec<u8> {
    use crate::ltn12::Filter;
    let mut n = crate::mime::Normalize::new(b"\r\n");
    let mut out = Vec::with_capacity(body.len() + body.len() / 40 + 2);
    let _ = n.put(body, &mut out);
    let _ = n.end(&mut out);
    out
}

/// The message as given (1.3b adds no Date or MIME-Version of its own).
fn message_without_defaults(msg: Part) -> Result<impl Source> {
    let mut head = Vec::new();
    msg.headers.write_to(&mut head);
    head.extend_from_slice(b"\r\n");
    if let Body::Bytes(b) = msg.body {
        head.extend_from_slice(&b);
    }
    Ok(crate::ltn12::source::BytesSource::new(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(envelope_address("a@b").unwrap(), "<a@b>");
        assert_eq!(envelope_address(" <a@b> ").unwrap(), "<a@b>");
        assert_eq!(envelope_address("Fulano <f@x.org>").unwrap(), "<f@x.org>");
        assert_eq!(envelope_address("<>").unwrap(), "<>");
        for bad in [
            "a@b\r\nRCPT TO:<x@y>",
            "a@b\n",
            "a\0b",
            "<a@b",
            "a@b>",
            "a b@c",
            "<a<b>",
        ] {
            assert_eq!(
                envelope_address(bad).unwrap_err().kind,
                ErrorKind::Invalid,
                "{bad:?}"
            );
        }
        assert_eq!(split_addresses("a@b, Name <c@d>,, "), ["a@b", "Name <c@d>"]);
    }

    #[test]
    fn crlf_bodies() {
        assert_eq!(crlf(b"a\nb\r\nc"), b"a\r\nb\r\nc");
    }
}

/// Against the aiosmtpd servers that scripts/test-proto.sh starts (skipped without them).
#[cfg(test)]
mod server_tests {
    use super::*;
    use crate::ltn12::source::BytesSource;
    use std::path::PathBuf;

    struct Env {
        port: u16,
        auth_port: u16,
        helo_port: u16,
        spool: PathBuf,
        user: String,
        pass: String,
    }

    fn env() -> Option<Env> {
        let var = |k: &str| std::env::var(k).ok();
        Some(Env {
            port: var("SOCKIT_SMTP_PORT")?.parse().ok()?,
            auth_port: var("SOCKIT_SMTP_AUTH_PORT")?.parse().ok()?,
            helo_port: var("SOCKIT_SMTP_HELO_PORT")?.parse().ok()?,
            spool: var("SOCKIT_SMTP_SPOOL")?.into(),
            user: var("SOCKIT_SMTP_USER")?,
            pass: var("SOCKIT_SMTP_PASS")?,
        })
    }

    /// Finds the stored message whose bytes contain `marker`: (envelope JSON, bytes).
    fn stored(spool: &PathBuf, marker: &str) -> Option<(String, Vec<u8>)> {
        for _ in 0..50 {
            let mut names: Vec<_> = std::fs::read_dir(spool)
                .ok()?
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            names.sort();
            for json in names {
                let eml = json.with_extension("eml");
                let Ok(bytes) = std::fs::read(&eml) else {
                    continue;
                };
                if String::from_utf8_lossy(&bytes).contains(marker) {
                    return Some((std::fs::read_to_string(&json).ok()?, bytes));
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn opts(port: u16) -> Options {
        let mut o = Options::new("127.0.0.1", port);
        o.timeout.block = Some(Duration::from_secs(10));
        o
    }

    #[test]
    fn send_dot_stuffed_message_byte_for_byte() {
        let Some(e) = env() else { return };
        let marker = "rust-send-1";
        let msg = format!(
            "Subject: {marker}\r\nTo: <to@example.org>\r\n\r\n.leading dot\r\n..two dots\r\nend\r\n.\r\n"
        );
        let rcpt = vec![
            "to@example.org".to_string(),
            "<bcc@example.org>".to_string(),
        ];
        let n = send(
            &opts(e.port),
            "from@example.org",
            &rcpt,
            &mut BytesSource::new(msg.clone()),
        )
        .unwrap();
        assert_eq!(n, msg.len() as u64);
        let (json, bytes) = stored(&e.spool, marker).expect("message stored");
        assert_eq!(String::from_utf8(bytes).unwrap(), msg);
        assert!(
            json.contains("\"mail_from\": \"from@example.org\""),
            "{json}"
        );
        assert!(
            json.contains("\"rcpt_tos\": [\"to@example.org\", \"bcc@example.org\"]"),
            "{json}"
        );
        assert!(json.contains("\"auth_user\": null"));
    }

    #[test]
    fn auth_and_helo_fallback() {
        let Some(e) = env() else { return };
        let mut o = opts(e.auth_port);
        let msg = "Subject: rust-auth\r\n\r\nhi\r\n";
        let err = send(&o, "a@x", &["b@y".into()], &mut BytesSource::new(msg)).unwrap_err();
        assert!(err.msg.starts_with("530"), "{}", err.msg);
        o.auth = Some((e.user.clone(), "wrong".into()));
        let err = send(&o, "a@x", &["b@y".into()], &mut BytesSource::new(msg)).unwrap_err();
        assert!(err.msg.starts_with("535"), "{}", err.msg);
        o.auth = Some((e.user.clone(), e.pass.clone()));
        send(&o, "a@x", &["b@y".into()], &mut BytesSource::new(msg)).unwrap();
        let (json, _) = stored(&e.spool, "rust-auth").unwrap();
        assert!(
            json.contains(&format!("\"auth_user\": \"{}\"", e.user)),
            "{json}"
        );

        // LOGIN when PLAIN is not offered: exercise it directly
        let mut s = Session::connect("127.0.0.1", e.auth_port, o.timeout).unwrap();
        s.greet("client.test").unwrap();
        s.extensions = vec!["AUTH LOGIN".into()];
        s.auth(&e.user, &e.pass).unwrap();
        s.quit();

        // HELO fallback
        let msg = "Subject: rust-helo\r\n\r\nhello\r\n";
        send(
            &opts(e.helo_port),
            "a@x",
            &["b@y".into()],
            &mut BytesSource::new(msg),
        )
        .unwrap();
        let (json, _) = stored(&e.spool, "rust-helo").unwrap();
        assert!(json.contains("\"server\": \"helo\""), "{json}");

        // credentials without AUTH on offer (HELO server): refused clearly
        let mut o = opts(e.helo_port);
        o.auth = Some(("u".into(), "p".into()));
        let err = send(&o, "a@x", &["b@y".into()], &mut BytesSource::new(msg)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported);
    }

    #[test]
    fn legacy_forms_and_mime() {
        let Some(e) = env() else { return };
        let mut h = Headers::new();
        h.add("subject", b"rust-13b").unwrap();
        h.add("to", b"fulano@example.org").unwrap();
        let rcpt = vec!["fulano@example.org".into(), "sicrano@example.org".into()];
        mail_13b(
            &opts(e.port),
            "luasocket@example.org",
            &rcpt,
            &h,
            b"body\nline\n",
        )
        .unwrap();
        let (json, bytes) = stored(&e.spool, "rust-13b").unwrap();
        assert_eq!(
            bytes,
            b"Subject: rust-13b\r\nTo: fulano@example.org\r\n\r\nbody\r\nline\r\n"
        );
        assert!(json.contains("sicrano@example.org"));

        mail_cgilua(
            &opts(e.port),
            "a@example.org, B <b@example.org>",
            "me@example.org",
            Some("rust-cgilua"),
            Some(b"msg"),
            Some("c@example.org"),
            Some("hidden@example.org"),
        )
        .unwrap();
        let (json, bytes) = stored(&e.spool, "rust-cgilua").unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains("hidden"), "{text}");
        assert!(text.contains("Cc: c@example.org\r\n"));
        assert!(
            json.contains(
                "[\"a@example.org\", \"b@example.org\", \"c@example.org\", \"hidden@example.org\"]"
            ),
            "{json}"
        );

        // a multipart message with an attachment, through the MIME filters
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut m = Part::new();
        m.headers.add("subject", b"rust-mime").unwrap();
        m.body = Body::Multipart {
            preamble: None,
            parts: vec![
                Part::text(
                    Box::new(BytesSource::new(b"see attachment\n".to_vec())),
                    "utf-8",
                )
                .unwrap(),
                Part::attachment(
                    Box::new(BytesSource::new(data.clone())),
                    "application/octet-stream",
                    Some("x.bin"),
                )
                .unwrap(),
            ],
            epilogue: None,
        };
        let mut src = m.into_message_source().unwrap();
        send(&opts(e.port), "a@x", &["b@y".into()], &mut src).unwrap();
        let (_, bytes) = stored(&e.spool, "rust-mime").unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let b64 = text.split("filename=\"x.bin\"").nth(1).unwrap();
        let b64 = b64
            .split("\r\n\r\n")
            .nth(1)
            .unwrap()
            .split("\r\n--")
            .next()
            .unwrap();
        let mut dec = crate::mime::Base64Decoder::new();
        let mut back = Vec::new();
        dec.feed(b64.as_bytes(), &mut back);
        assert!(back == data, "attachment survives the trip");
    }

    #[test]
    fn refusals_before_sending() {
        let Some(e) = env() else { return };
        let o = opts(e.port);
        let before = std::fs::read_dir(&e.spool).unwrap().count();
        for (from, to) in [
            ("a@b\r\nRCPT TO:<x@y>", "c@d"),
            ("a@b", "c@d\r\nDATA"),
            ("a@b", ""),
        ] {
            let to: Vec<String> = if to.is_empty() {
                vec![]
            } else {
                vec![to.into()]
            };
            let err = send(&o, from, &to, &mut BytesSource::new(&b"x"[..])).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Invalid);
        }
        let mut h = Headers::new();
        assert!(h.add("subject", b"x\r\nBcc: evil@x").is_err());
        assert_eq!(std::fs::read_dir(&e.spool).unwrap().count(), before);
    }
}
