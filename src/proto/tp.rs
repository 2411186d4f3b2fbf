//! The command/reply line protocol FTP and SMTP share (LuaSocket's `socket.tp`): commands
//! go out as `VERB argument\r\n`, replies come back as a three-digit code and text, either
//! on one line (`250 OK`) or on several (`250-first` ... `250 last`, RFC 959 4.2 and
//! RFC 5321 4.2.1), and a reply is checked against the codes the caller expects.
//!
//! A reply that does not match is an error whose message is the server's reply itself, so
//! errors carry the server's words ("550 No such file or directory.").

use super::conn::{check_wire_text, read_line, Transport};
use crate::error::{Error, ErrorKind, Result};

/// The longest reply line accepted, in bytes.
pub const MAX_LINE: usize = 64 * 1024;
/// The most lines one multi-line reply may have.
pub const MAX_LINES: usize = 10_000;

/// A server reply: its code and its text, the lines joined with "\n" (each line complete,
/// code included, as LuaSocket's `tp:check` returns it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    /// The reply's lines.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.text.split('\n')
    }

    /// The last line (the one that ends a multi-line reply).
    pub fn last_line(&self) -> &str {
        self.text.rsplit('\n').next().unwrap_or("")
    }

    /// The text after the code and separator of the first line.
    pub fn message(&self) -> &str {
        let first = self.text.split('\n').next().unwrap_or("");
        first.get(4..).unwrap_or("")
    }

    /// Whether the code matches `expect` (see [`code_matches`]).
    pub fn matches(&self, expect: &str) -> bool {
        code_matches(self.code, expect)
    }

    /// This reply as an error: `Protocol`, the message being the reply text.
    pub fn into_error(self) -> Error {
        Error::new(ErrorKind::Protocol, self.text)
    }
}

/// Whether `code` matches one of the patterns in `expect`. Patterns are separated by
/// spaces, commas or '|'; each has up to three characters, a digit matching itself and '.'
/// any digit, and a shorter pattern matches as a prefix: "2", "2.." and "2xx"-style
/// "2.." all accept 200-299, "250" only 250, "2.. 3.." both classes.
pub fn code_matches(code: u16, expect: &str) -> bool {
    if code > 999 {
        return false;
    }
    let digits = [
        b'0' + (code / 100) as u8,
        b'0' + (code / 10 % 10) as u8,
        b'0' + (code % 10) as u8,
    ];
    expect
        .split([' ', ',', '|'])
        .filter(|p| !p.is_empty())
        .any(|p| {
            p.len() <= 3
                && p.bytes()
                    .zip(digits.iter())
                    .all(|(pc, &d)| pc == b'.' || pc == d)
        })
}

/// Checks that `expect` is a valid code pattern list (see [`code_matches`]).
pub fn check_pattern(expect: &str) -> Result<()> {
    let mut any = false;
    for p in expect.split([' ', ',', '|']).filter(|p| !p.is_empty()) {
        if p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(Error::invalid(format!(
                "reply code pattern '{p}' is not three digits or dots"
            )));
        }
        any = true;
    }
    if !any {
        return Err(Error::invalid("empty reply code pattern"));
    }
    Ok(())
}

/// Splits "123-text" / "123 text" / "123" into the code and the separator byte (0 when
/// the line is just the code).
fn parse_code(line: &[u8]) -> Option<(u16, u8)> {
    if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = line[..3]
        .iter()
        .fold(0u16, |n, &d| n * 10 + (d - b'0') as u16);
    match line.get(3) {
        None => Some((code, 0)),
        Some(&sep) => Some((code, sep)),
    }
}

/// A command/reply connection over any transport.
pub struct Tp<T> {
    io: T,
    line: Vec<u8>,
    text: Vec<u8>,
    /// The code of a multi-line reply that a timeout cut short; `text` holds its lines
    /// read so far, and the next `get_reply` goes on with it, so nothing is lost.
    partial: Option<u16>,
}

impl<T: Transport> Tp<T> {
    pub fn new(io: T) -> Tp<T> {
        Tp {
            io,
            line: Vec::new(),
            text: Vec::new(),
            partial: None,
        }
    }

    /// The transport (for data that is not a command, like SMTP's DATA body).
    pub fn io(&mut self) -> &mut T {
        &mut self.io
    }

    /// The transport, shared.
    pub fn io_ref(&self) -> &T {
        &self.io
    }

    pub fn into_inner(self) -> T {
        self.io
    }

    /// Sends `VERB[ argument]\r\n`; the verb is sent upper-cased, like LuaSocket. CR, LF
    /// or NUL in either part, or an empty verb or one with a space, is refused before
    /// anything is sent.
    pub fn command(&mut self, verb: &str, arg: Option<&str>) -> Result<()> {
        if verb.is_empty() || verb.contains(' ') {
            return Err(Error::invalid(format!("command '{verb}' must be one word")));
        }
        check_wire_text("command", verb.as_bytes())?;
        let mut out = Vec::with_capacity(verb.len() + 3 + arg.map_or(0, str::len));
        out.extend(verb.bytes().map(|b| b.to_ascii_uppercase()));
        if let Some(arg) = arg {
            check_wire_text("command argument", arg.as_bytes())?;
            out.push(b' ');
            out.extend_from_slice(arg.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        self.io.send_all(&out)
    }

    /// Sends one raw line (for example a SASL response) followed by CR LF; CR, LF or NUL
    /// inside it is refused.
    pub fn send_line(&mut self, line: &str) -> Result<()> {
        check_wire_text("line", line.as_bytes())?;
        let mut out = Vec::with_capacity(line.len() + 2);
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
        self.io.send_all(&out)
    }

    /// Reads one complete reply, single- or multi-line.
    pub fn get_reply(&mut self) -> Result<Reply> {
        let code = match self.partial.take() {
            Some(code) => code,
            None => {
                self.line.clear();
                read_line(&mut self.io, &mut self.line, MAX_LINE)?;
                let Some((code, sep)) = parse_code(&self.line) else {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!(
                            "invalid server reply '{}'",
                            String::from_utf8_lossy(&self.line[..self.line.len().min(200)])
                        ),
                    ));
                };
                self.text.clear();
                self.text.extend_from_slice(&self.line);
                if sep != b'-' {
                    return Ok(self.reply(code));
                }
                code
            }
        };
        let mut lines = 1 + memchr::memchr_iter(b'\n', &self.text).count();
        loop {
            if lines >= MAX_LINES {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!("reply {code} has more than {MAX_LINES} lines"),
                ));
            }
            self.line.clear();
            if let Err(e) = read_line(&mut self.io, &mut self.line, MAX_LINE) {
                if e.kind == ErrorKind::Timeout {
                    // The unfinished line stays buffered in the transport; the lines
                    // already read stay here. A retry completes the reply.
                    self.partial = Some(code);
                }
                return Err(e);
            }
            lines += 1;
            self.text.push(b'\n');
            self.text.extend_from_slice(&self.line);
            match parse_code(&self.line) {
                Some((c, b' ')) | Some((c, 0)) if c == code => return Ok(self.reply(code)),
                _ => {}
            }
        }
    }

    fn reply(&self, code: u16) -> Reply {
        Reply {
            code,
            text: String::from_utf8_lossy(&self.text).into_owned(),
        }
    }

    /// Reads a reply and checks its code against `expect` (see [`code_matches`]); a reply
    /// that does not match is a `Protocol` error carrying the reply text.
    pub fn check(&mut self, expect: &str) -> Result<Reply> {
        let reply = self.get_reply()?;
        if reply.matches(expect) {
            Ok(reply)
        } else {
            Err(reply.into_error())
        }
    }

    /// Sends a command and checks its reply.
    pub fn exchange(&mut self, verb: &str, arg: Option<&str>, expect: &str) -> Result<Reply> {
        self.command_reply(verb, arg, Some(expect))
    }

    /// Sends a command and reads its reply, checked against `expect` when given (`None`
    /// accepts any reply): the generic command of FTP and SMTP sessions.
    pub fn command_reply(
        &mut self,
        verb: &str,
        arg: Option<&str>,
        expect: Option<&str>,
    ) -> Result<Reply> {
        self.command(verb, arg)?;
        match expect {
            Some(e) => self.check(e),
            None => self.get_reply(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::conn::mem::MemTransport;
    use super::*;

    fn tp(chunks: &[&[u8]]) -> Tp<MemTransport> {
        Tp::new(MemTransport::new(chunks.iter().copied()))
    }

    #[test]
    fn patterns() {
        assert!(code_matches(250, "2.."));
        assert!(code_matches(250, "2"));
        assert!(code_matches(250, "25"));
        assert!(code_matches(250, "250"));
        assert!(!code_matches(251, "250"));
        assert!(code_matches(354, "2.. 3.."));
        assert!(code_matches(354, "2..|354"));
        assert!(code_matches(354, "250,354"));
        assert!(!code_matches(500, "2.. 3.."));
        assert!(!code_matches(250, ""));
        assert!(!code_matches(250, "2500"));
        assert!(check_pattern("2.. 3..").is_ok());
        assert!(check_pattern("2x.").is_err());
        assert!(check_pattern(" ").is_err());
        assert!(check_pattern("2222").is_err());
    }

    #[test]
    fn single_and_multi_line_replies_at_every_cut() {
        let data: &[u8] = b"220 ready\r\n250-sockit.test\r\n250-SIZE 100\r\n250 HELP\r\n\
              211-Status\r\n 211 not the end (leading space)\r\n211-still not\r\n211 End\r\n";
        for size in 1..data.len() {
            let mut t = Tp::new(MemTransport::split(data, size));
            let r = t.get_reply().unwrap();
            assert_eq!(r.code, 220);
            assert_eq!(r.text, "220 ready");
            assert_eq!(r.message(), "ready");
            let r = t.check("2..").unwrap();
            assert_eq!(r.code, 250);
            assert_eq!(r.text, "250-sockit.test\n250-SIZE 100\n250 HELP");
            assert_eq!(r.lines().count(), 3);
            assert_eq!(r.last_line(), "250 HELP");
            let r = t.get_reply().unwrap();
            assert_eq!(r.code, 211);
            assert_eq!(r.lines().count(), 4);
            assert_eq!(r.last_line(), "211 End");
        }
    }

    #[test]
    fn a_different_code_inside_does_not_end_the_reply() {
        let mut t = tp(&[b"150-a\r\n226 inner\r\n150 end\r\n"]);
        let r = t.get_reply().unwrap();
        assert_eq!(r.text, "150-a\n226 inner\n150 end");
    }

    #[test]
    fn mismatch_carries_the_reply_text() {
        let mut t = tp(&[b"550 No such file or directory.\r\n"]);
        let e = t.check("1.. 2..").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert_eq!(e.msg, "550 No such file or directory.");
    }

    #[test]
    fn garbage_and_truncation() {
        let mut t = tp(&[b"hello there\r\n"]);
        let e = t.get_reply().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(
            e.msg.contains("invalid server reply 'hello there'"),
            "{}",
            e.msg
        );

        let mut t = tp(&[b"25\r\n"]);
        assert_eq!(t.get_reply().unwrap_err().kind, ErrorKind::Protocol);

        let mut t = tp(&[b"250-first\r\n250-sec"]);
        assert_eq!(t.get_reply().unwrap_err().kind, ErrorKind::Closed);

        let mut t = tp(&[]);
        assert_eq!(t.get_reply().unwrap_err().kind, ErrorKind::Closed);

        // A bare code ends a reply too.
        let mut t = tp(&[b"200\r\n230-a\r\n230\r\n"]);
        assert_eq!(t.get_reply().unwrap().text, "200");
        assert_eq!(t.get_reply().unwrap().text, "230-a\n230");
    }

    #[test]
    fn endless_multiline_reply_is_bounded() {
        let mut data = b"250-x\r\n".to_vec();
        for _ in 0..MAX_LINES + 5 {
            data.extend_from_slice(b"250-more\r\n");
        }
        let mut t = Tp::new(MemTransport::split(&data, 4096));
        let e = t.get_reply().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(e.msg.contains("more than"), "{}", e.msg);
    }

    #[test]
    fn commands() {
        let mut t = tp(&[b"250 ok\r\n", b"331 pass\r\n"]);
        t.command("mail", Some("FROM:<a@b>")).unwrap();
        t.command("NOOP", None).unwrap();
        let r = t.exchange("user", Some("anonymous"), "2.. 3..").unwrap();
        assert_eq!(r.code, 250);
        t.send_line("AGZvbwBiYXI=").unwrap();
        assert_eq!(
            t.io().output,
            b"MAIL FROM:<a@b>\r\nNOOP\r\nUSER anonymous\r\nAGZvbwBiYXI=\r\n"
        );

        let mut t = tp(&[b"550 no\r\n", b"550 no\r\n"]);
        assert_eq!(t.command_reply("DELE", Some("x"), None).unwrap().code, 550);
        let e = t.command_reply("DELE", Some("x"), Some("2..")).unwrap_err();
        assert_eq!((e.kind, e.msg.as_str()), (ErrorKind::Protocol, "550 no"));
        assert_eq!(t.io().output, b"DELE x\r\nDELE x\r\n");
    }

    #[test]
    fn commands_with_line_breaks_are_refused_before_sending() {
        let mut t = tp(&[]);
        for (verb, arg) in [
            ("RCPT", Some("TO:<a@b>\r\nRSET")),
            ("RCPT", Some("TO:<a@b>\n")),
            ("RC\rPT", None),
            ("RETR", Some("a\0b")),
            ("", None),
            ("two words", None),
        ] {
            let e = t.command(verb, arg).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Invalid, "{verb:?} {arg:?}");
        }
        assert!(t.send_line("a\r\nb").is_err());
        assert!(t.io().output.is_empty());
    }
}
