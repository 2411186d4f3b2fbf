//! FTP client (RFC 959, with RFC 2428's EPSV/EPRT): a session over the command/reply
//! helper, data connections in passive or active mode, and get/put by URL as LuaSocket
//! 1.3b's `ftp_get` / `ftp_put` and LuaSocket 3's `ftp.get` / `ftp.put` do.
//!
//! - URLs: `ftp://[user[:password]@]host[:port]/path[;type=a|i]`; without a user the
//!   session logs in as "anonymous"; the path's directories are entered one CWD per
//!   segment (RFC 1738), then the last segment is retrieved or stored; a path ending in
//!   "/" is listed (LIST, as libcurl does).
//! - Transfer type: ASCII by default (as in 1.3b), binary with type "i" (or 1.3b's "b").
//!   In ASCII mode line ends travel as CRLF and are local LF here: downloads turn CRLF
//!   into LF and uploads LF into CRLF.
//! - Passive mode by default: EPSV, and PASV when the server refuses EPSV. The data
//!   connection goes to the control connection's peer address, not to the address a PASV
//!   reply names (libcurl's safe default: a server cannot point the client elsewhere),
//!   unless `trust_pasv_address` is set. Active mode: EPRT, then PORT.
//! - Errors: a reply the step did not expect is a `Protocol` error whose message is the
//!   server's reply ("550 No such file or directory.").

use super::conn::{check_wire_text, TcpConn};
use super::tp::{Reply, Tp};
use super::{server_url, ServerUrl};
use crate::error::{Error, ErrorKind, Result};
use crate::io::timeout::{Timeout, TimeoutMode};
use crate::ltn12::source::ChainSource;
use crate::ltn12::{Filter, Sink, Source};
use crate::mime::eol::Normalize;
use crate::net::socket::{Address, Socket};
use crate::net::tcp;
use crate::proto::conn::Transport;
use crate::url::unescape;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The FTP port.
pub const FTP_PORT: u16 = 21;
/// LuaSocket's default: each wait lasts at most 60 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The anonymous login.
pub const ANONYMOUS_USER: &str = "anonymous";
pub const ANONYMOUS_PASSWORD: &str = "anonymous@";
/// Chunk size asked of upload sources.
const SEND_CHUNK: usize = 64 * 1024;

/// The representation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferType {
    /// TYPE A: text, CRLF line ends on the wire.
    Ascii,
    /// TYPE I: bytes as they are.
    Binary,
}

impl TransferType {
    /// "a" is ASCII; "i" and 1.3b's "b" are binary.
    pub fn parse(s: &str) -> Result<TransferType> {
        match s {
            "a" | "A" => Ok(TransferType::Ascii),
            "i" | "I" | "b" | "B" => Ok(TransferType::Binary),
            _ => Err(Error::invalid(format!(
                "invalid transfer type '{s}' (a, i or b)"
            ))),
        }
    }

    fn code(self) -> &'static str {
        match self {
            TransferType::Ascii => "A",
            TransferType::Binary => "I",
        }
    }
}

/// How data connections are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataMode {
    /// The client connects to the server (EPSV, then PASV).
    #[default]
    Passive,
    /// The server connects to the client (EPRT, then PORT).
    Active,
}

/// Options of a session.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub mode: DataMode,
    /// Connect to the address a PASV reply names instead of the control peer's.
    pub trust_pasv_address: bool,
    pub timeout: Timeout,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            mode: DataMode::Passive,
            trust_pasv_address: false,
            timeout: Timeout {
                block: Some(DEFAULT_TIMEOUT),
                total: None,
            },
        }
    }
}

/// Parses the port out of an EPSV reply: "229 Entering Extended Passive Mode (|||6446|)".
pub fn parse_epsv(reply: &Reply) -> Result<u16> {
    let text = reply.message();
    let bad = || {
        Error::new(
            ErrorKind::Protocol,
            format!("invalid EPSV reply '{}'", reply.text),
        )
    };
    let open = text.find('(').ok_or_else(bad)?;
    let inner = &text[open + 1..];
    let close = inner.find(')').ok_or_else(bad)?;
    let inner = &inner[..close];
    let d = inner.chars().next().ok_or_else(bad)?;
    let parts: Vec<&str> = inner.split(d).collect();
    if parts.len() != 5 || !parts[0].is_empty() || !parts[4].is_empty() {
        return Err(bad());
    }
    parts[3]
        .parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(bad)
}

/// Parses the address and port out of a PASV reply: "227 ... (h1,h2,h3,h4,p1,p2)".
pub fn parse_pasv(reply: &Reply) -> Result<SocketAddr> {
    let text = reply.message();
    let bad = || {
        Error::new(
            ErrorKind::Protocol,
            format!("invalid PASV reply '{}'", reply.text),
        )
    };
    // The six numbers are the first run of digits and commas that has five commas.
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b',') {
                i += 1;
            }
            let run = &text[start..i];
            let nums: Vec<&str> = run.split(',').collect();
            if nums.len() == 6 {
                let mut v = [0u8; 6];
                for (slot, n) in v.iter_mut().zip(&nums) {
                    *slot = n.parse::<u8>().map_err(|_| bad())?;
                }
                let ip = IpAddr::from([v[0], v[1], v[2], v[3]]);
                let port = u16::from(v[4]) << 8 | u16::from(v[5]);
                if port == 0 {
                    return Err(bad());
                }
                return Ok(SocketAddr::new(ip, port));
            }
        } else {
            i += 1;
        }
    }
    Err(bad())
}

/// A data connection on its way: connected (passive) or waiting for the server (active).
enum Data {
    Connected(TcpConn),
    Listening(Socket),
}

/// A logged-in (or not yet) FTP session.
pub struct Session {
    tp: Tp<TcpConn>,
    opts: Options,
    /// The server refused EPSV (or EPRT) once: go straight to PASV (PORT).
    no_extended: bool,
    /// The greeting.
    pub greeting: Reply,
}

impl Session {
    /// Connects to `host`:`port` and reads the greeting (which must be 2xx; a 120 "ready
    /// in n minutes" is waited out).
    pub fn connect(host: &str, port: u16, opts: Options) -> Result<Session> {
        let conn = TcpConn::connect(host, port, opts.timeout)?;
        let mut tp = Tp::new(conn);
        let mut greeting = tp.get_reply()?;
        if greeting.code == 120 {
            greeting = tp.get_reply()?;
        }
        if !greeting.matches("2..") {
            return Err(greeting.into_error());
        }
        Ok(Session {
            tp,
            opts,
            no_extended: false,
            greeting,
        })
    }

    /// The options in force (the timeout restarts with each call that changes it).
    pub fn options(&self) -> Options {
        self.opts
    }

    /// Changes the options.
    pub fn set_options(&mut self, opts: Options) {
        self.opts = opts;
        self.tp.io().set_timeout(opts.timeout);
    }

    /// The control connection's peer.
    pub fn peer(&self) -> SocketAddr {
        self.tp.io_ref().peer()
    }

    /// USER, then PASS when asked (331). `None` logs in as anonymous.
    pub fn login(&mut self, user: Option<&str>, password: Option<&str>) -> Result<()> {
        let (user, password) = match user {
            Some(u) => (u, password.unwrap_or("")),
            None => (ANONYMOUS_USER, password.unwrap_or(ANONYMOUS_PASSWORD)),
        };
        let mut r = self.tp.exchange("USER", Some(user), "2.. 3..")?;
        if r.code == 331 {
            r = self.tp.exchange("PASS", Some(password), "2.. 3..")?;
        }
        if !r.matches("2..") {
            // 332: an account is wanted (ACCT), or another 3xx this client cannot follow.
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "login needs a step this client does not support: {}",
                    r.text
                ),
            ));
        }
        Ok(())
    }

    /// TYPE A or TYPE I.
    pub fn set_type(&mut self, t: TransferType) -> Result<()> {
        self.tp.exchange("TYPE", Some(t.code()), "2..").map(|_| ())
    }

    /// CWD `dir`.
    pub fn cwd(&mut self, dir: &str) -> Result<()> {
        self.tp.exchange("CWD", Some(dir), "2..").map(|_| ())
    }

    /// Any command, its reply checked against `expect` (code patterns, see
    /// [`super::tp::code_matches`]; `None` accepts any reply). LuaSocket 3's
    /// `ftp.command`.
    pub fn command(
        &mut self,
        verb: &str,
        arg: Option<&str>,
        expect: Option<&str>,
    ) -> Result<Reply> {
        self.tp.command_reply(verb, arg, expect)
    }

    /// QUIT, then closes the control connection (errors in the goodbye are ignored).
    pub fn quit(&mut self) {
        let _ = self.tp.exchange("QUIT", None, "2..");
        self.tp.io().close();
    }

    /// Opens the data side as the mode says: passive connects now, active listens.
    fn prepare_data(&mut self) -> Result<Data> {
        let timeout = self.opts.timeout;
        match self.opts.mode {
            DataMode::Passive => {
                let peer = self.tp.io().peer();
                let addr = self.passive_address(peer)?;
                let conn = TcpConn::connect(&addr.ip().to_string(), addr.port(), timeout)
                    .map_err(|e| e.context("data connection"))?;
                Ok(Data::Connected(conn))
            }
            DataMode::Active => {
                let local = self.tp.io().local()?;
                let mut listener = tcp::bind(&local.ip().to_string(), 0, 1)?;
                if let Some(b) = timeout.block {
                    listener.set_timeout(TimeoutMode::Block, b.as_secs_f64());
                }
                let port = match listener.sockname()? {
                    Address::Ip(a) => a.port(),
                    Address::Unix(_) => return Err(Error::invalid("not a TCP listener")),
                };
                self.announce_port(local.ip(), port)?;
                Ok(Data::Listening(listener))
            }
        }
    }

    /// EPSV (or PASV) and where to connect.
    fn passive_address(&mut self, peer: SocketAddr) -> Result<SocketAddr> {
        if !self.no_extended {
            self.tp.command("EPSV", None)?;
            let r = self.tp.get_reply()?;
            if r.code == 229 {
                return Ok(SocketAddr::new(peer.ip(), parse_epsv(&r)?));
            }
            if !r.matches("5..") || peer.is_ipv6() {
                return Err(r.into_error());
            }
            self.no_extended = true;
        }
        let r = self.tp.exchange("PASV", None, "227")?;
        let named = parse_pasv(&r)?;
        Ok(if self.opts.trust_pasv_address {
            named
        } else {
            SocketAddr::new(peer.ip(), named.port())
        })
    }

    /// EPRT (or PORT) for a listener at `ip`:`port`.
    fn announce_port(&mut self, ip: IpAddr, port: u16) -> Result<()> {
        if !self.no_extended {
            let fam = if ip.is_ipv6() { 2 } else { 1 };
            self.tp
                .command("EPRT", Some(&format!("|{fam}|{ip}|{port}|")))?;
            let r = self.tp.get_reply()?;
            if r.matches("2..") {
                return Ok(());
            }
            if !r.matches("5..") || ip.is_ipv6() {
                return Err(r.into_error());
            }
            self.no_extended = true;
        }
        let IpAddr::V4(v4) = ip else {
            return Err(Error::new(ErrorKind::Unsupported, "PORT needs IPv4"));
        };
        let o = v4.octets();
        let arg = format!(
            "{},{},{},{},{},{}",
            o[0],
            o[1],
            o[2],
            o[3],
            port >> 8,
            port & 0xff
        );
        self.tp.exchange("PORT", Some(&arg), "2..").map(|_| ())
    }

    /// Sends a data command and waits for the server's "about to open" (1xx), then has
    /// the data connection ready.
    fn start_transfer(&mut self, verb: &str, arg: Option<&str>) -> Result<TcpConn> {
        let data = self.prepare_data()?;
        self.tp.command(verb, arg)?;
        let r = self.tp.get_reply()?;
        if !r.matches("1..") {
            // 2xx without a transfer, or an error: either way no data comes.
            return Err(r.into_error());
        }
        match data {
            Data::Connected(c) => Ok(c),
            Data::Listening(mut l) => {
                let sock = l
                    .accept()
                    .map_err(|e| e.context("data connection (active)"))?;
                let _ = l.close();
                TcpConn::from_socket(sock, self.opts.timeout)
            }
        }
    }

    /// Runs a data command that brings data (RETR, LIST, NLST) and delivers it to `sink`
    /// (not ended here), ASCII line ends converted when `ascii`. Returns the bytes
    /// received on the data connection.
    pub fn retrieve(
        &mut self,
        verb: &str,
        arg: Option<&str>,
        ascii: bool,
        sink: &mut dyn Sink,
    ) -> Result<u64> {
        let mut conn = self.start_transfer(verb, arg)?;
        let mut received = 0u64;
        let r = if ascii {
            let mut text = AsciiSink {
                filter: Normalize::new(b"\n"),
                buf: Vec::new(),
                sink: &mut *sink,
            };
            pump_in(&mut conn, &mut text, &mut received).and_then(|()| text.finish())
        } else {
            pump_in(&mut conn, sink, &mut received)
        };
        conn.close();
        r?;
        self.tp.check("2..")?;
        Ok(received)
    }

    /// Runs a data command that sends data (STOR, APPE, STOU) from `source`, ASCII line
    /// ends converted when `ascii`. Returns the bytes sent on the data connection.
    pub fn store(
        &mut self,
        verb: &str,
        arg: Option<&str>,
        ascii: bool,
        source: &mut dyn Source,
    ) -> Result<u64> {
        let mut conn = self.start_transfer(verb, arg)?;
        let r = if ascii {
            let mut chained = ChainSource::new(&mut *source, Normalize::new(b"\r\n"));
            pump_out(&mut chained, &mut conn)
        } else {
            pump_out(source, &mut conn)
        };
        // The end of the data is the end of the connection.
        let fin = conn.finish();
        conn.close();
        let sent = r?;
        fin?;
        self.tp.check("2..")?;
        Ok(sent)
    }
}

/// Passes downloaded text through the line-end filter into the caller's sink, without
/// ending that sink (the caller does, after the server confirmed the transfer).
struct AsciiSink<'a> {
    filter: Normalize,
    buf: Vec<u8>,
    sink: &'a mut dyn Sink,
}

impl AsciiSink<'_> {
    /// Delivers what the filter still holds (a CR at the very end).
    fn finish(&mut self) -> Result<()> {
        self.buf.clear();
        self.filter.end(&mut self.buf)?;
        if !self.buf.is_empty() {
            self.sink.put(&self.buf)?;
        }
        Ok(())
    }
}

impl Sink for AsciiSink<'_> {
    fn put(&mut self, chunk: &[u8]) -> Result<()> {
        self.buf.clear();
        self.filter.put(chunk, &mut self.buf)?;
        if self.buf.is_empty() {
            return Ok(());
        }
        self.sink.put(&self.buf)
    }
    fn end(&mut self) -> Result<()> {
        self.finish()
    }
}

/// Moves everything the data connection brings into `sink`.
fn pump_in(conn: &mut TcpConn, sink: &mut dyn Sink, received: &mut u64) -> Result<()> {
    loop {
        if conn.buffered().is_empty() && conn.fill()? == 0 {
            return Ok(());
        }
        let buf = conn.buffered();
        let n = buf.len();
        *received += n as u64;
        sink.put(buf)?;
        conn.consume(n);
    }
}

/// Sends everything `source` gives on the data connection.
fn pump_out(source: &mut dyn Source, conn: &mut TcpConn) -> Result<u64> {
    let mut sent = 0u64;
    while let Some(chunk) = source.pull(SEND_CHUNK)? {
        if chunk.is_empty() {
            continue;
        }
        conn.send_all(chunk)?;
        sent += chunk.len() as u64;
    }
    Ok(sent)
}

/// An `ftp://` URL split for a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpUrl {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Directories to enter, percent-decoded, in order.
    pub dirs: Vec<String>,
    /// The file, percent-decoded; empty for a listing (path ending in "/").
    pub file: String,
    /// From ";type=a|i".
    pub type_: Option<TransferType>,
}

impl FtpUrl {
    /// Parses `ftp://[user[:password]@]host[:port]/path[;type=a|i]` ("ftp://" optional,
    /// as in 1.3b). Other schemes are `Unsupported`.
    pub fn parse(url: &str) -> Result<FtpUrl> {
        let ServerUrl {
            parts: u,
            host,
            port,
            ..
        } = server_url(url, "ftp", FTP_PORT)?;
        let type_ = match u.params.as_deref() {
            None => None,
            Some(p) => match p.strip_prefix("type=") {
                Some(t) if t == "a" || t == "i" || t == "A" || t == "I" => {
                    Some(TransferType::parse(t)?)
                }
                _ => return Err(Error::invalid(format!("invalid url parameter ';{p}'"))),
            },
        };
        let decode = |s: &str| -> Result<String> {
            let d = String::from_utf8(unescape(s.as_bytes()))
                .map_err(|_| Error::invalid("url path is not valid UTF-8 once decoded"))?;
            check_wire_text("url path segment", d.as_bytes())?;
            Ok(d)
        };
        let path = u.path.as_deref().unwrap_or("");
        let path = path.strip_prefix('/').unwrap_or(path);
        let mut segments: Vec<&str> = path.split('/').collect();
        let file = decode(segments.pop().unwrap_or(""))?;
        let dirs = segments
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect::<Result<Vec<_>>>()?;
        let user = u.user.as_deref().map(decode).transpose()?;
        let password = u.password.as_deref().map(decode).transpose()?;
        Ok(FtpUrl {
            host,
            port,
            user,
            password,
            dirs,
            file,
            type_,
        })
    }
}

/// Connects, logs in, sets the type and enters the URL's directories.
fn open_for(url: &FtpUrl, type_: TransferType, opts: Options) -> Result<Session> {
    let mut s = Session::connect(&url.host, url.port, opts)?;
    s.login(url.user.as_deref(), url.password.as_deref())?;
    s.set_type(type_)?;
    for d in &url.dirs {
        s.cwd(d)?;
    }
    Ok(s)
}

/// Downloads `url` into `sink` (then ends it; on failure the sink gets the error): the
/// file, or a listing (LIST) when the path ends in "/". `type_` overrides the URL's
/// ";type=" (default ASCII). Returns the bytes received. 1.3b's `ftp_get` and
/// `ftp_getindirect`, LuaSocket 3's `ftp.get`.
pub fn get(
    url: &str,
    type_: Option<TransferType>,
    opts: Options,
    sink: &mut dyn Sink,
) -> Result<u64> {
    let r = (|| {
        let u = FtpUrl::parse(url)?;
        let t = type_.or(u.type_).unwrap_or(TransferType::Ascii);
        let mut s = open_for(&u, t, opts)?;
        let ascii = t == TransferType::Ascii;
        let r = if u.file.is_empty() {
            s.retrieve("LIST", None, ascii, sink)
        } else {
            s.retrieve("RETR", Some(&u.file), ascii, sink)
        };
        s.quit();
        r
    })();
    match r {
        Ok(n) => {
            sink.end()?;
            Ok(n)
        }
        Err(e) => {
            sink.fail(&e);
            Err(e)
        }
    }
}

/// Uploads `source` to `url` (STOR). `type_` overrides the URL's ";type=" (default
/// ASCII). Returns the bytes sent. 1.3b's `ftp_put` and `ftp_putindirect`, LuaSocket 3's
/// `ftp.put`.
pub fn put(
    url: &str,
    type_: Option<TransferType>,
    opts: Options,
    source: &mut dyn Source,
) -> Result<u64> {
    let u = FtpUrl::parse(url)?;
    if u.file.is_empty() {
        return Err(Error::invalid(format!("url {url} names no file to store")));
    }
    let t = type_.or(u.type_).unwrap_or(TransferType::Ascii);
    let mut s = open_for(&u, t, opts)?;
    let r = s.store("STOR", Some(&u.file), t == TransferType::Ascii, source);
    s.quit();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, text: &str) -> Reply {
        Reply {
            code,
            text: format!("{code} {text}"),
        }
    }

    #[test]
    fn epsv_and_pasv_replies() {
        assert_eq!(
            parse_epsv(&reply(229, "Entering Extended Passive Mode (|||6446|)")).unwrap(),
            6446
        );
        assert_eq!(parse_epsv(&reply(229, "ok (!!!21!)")).unwrap(), 21);
        for bad in [
            "no parens",
            "(|||0|)",
            "(||6446|)",
            "(|||x|)",
            "(|||70000|)",
            "()",
        ] {
            assert!(parse_epsv(&reply(229, bad)).is_err(), "{bad}");
        }
        let a = parse_pasv(&reply(227, "Entering Passive Mode (192,0,2,1,142,223).")).unwrap();
        assert_eq!(a, "192.0.2.1:36575".parse().unwrap());
        let a = parse_pasv(&reply(227, "=127,0,0,1,4,1")).unwrap();
        assert_eq!(a.port(), 1025);
        for bad in [
            "no numbers",
            "(1,2,3,4,5)",
            "(256,0,0,1,1,1)",
            "(1,2,3,4,0,0)",
        ] {
            let e = parse_pasv(&reply(227, bad)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Protocol, "{bad}");
        }
    }

    #[test]
    fn urls() {
        let u =
            FtpUrl::parse("ftp://diego:ne%40hab@example.org:2121/pub/lua/lua%20x.tar.gz;type=i")
                .unwrap();
        assert_eq!(u.host, "example.org");
        assert_eq!(u.port, 2121);
        assert_eq!(u.user.as_deref(), Some("diego"));
        assert_eq!(u.password.as_deref(), Some("ne@hab"));
        assert_eq!(u.dirs, ["pub", "lua"]);
        assert_eq!(u.file, "lua x.tar.gz");
        assert_eq!(u.type_, Some(TransferType::Binary));

        let u = FtpUrl::parse("ftp.example.org/pub/lua/").unwrap();
        assert_eq!((u.port, u.file.as_str()), (21, ""));
        assert_eq!(u.dirs, ["pub", "lua"]);
        assert!(u.user.is_none() && u.type_.is_none());

        let u = FtpUrl::parse("ftp://h").unwrap();
        assert!(u.dirs.is_empty() && u.file.is_empty());

        assert_eq!(
            FtpUrl::parse("http://h/x").unwrap_err().kind,
            ErrorKind::Unsupported
        );
        for bad in [
            "ftp://h/x;type=z",
            "ftp:///x",
            "ftp://h/a%0d%0aDELE%20x",
            "ftp://h/x;foo",
        ] {
            assert_eq!(
                FtpUrl::parse(bad).unwrap_err().kind,
                ErrorKind::Invalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn types() {
        assert_eq!(TransferType::parse("a").unwrap(), TransferType::Ascii);
        assert_eq!(TransferType::parse("b").unwrap(), TransferType::Binary);
        assert_eq!(TransferType::parse("i").unwrap(), TransferType::Binary);
        assert!(TransferType::parse("x").is_err());
    }
}

/// Against the pyftpdlib servers that scripts/test-proto.sh starts (skipped without them).
#[cfg(test)]
mod server_tests {
    use super::*;
    use crate::ltn12::source::BytesSource;

    struct Env {
        port: u16,
        masq_port: u16,
        root: std::path::PathBuf,
        user: String,
        pass: String,
    }

    fn env() -> Option<Env> {
        let var = |k: &str| std::env::var(k).ok();
        Some(Env {
            port: var("SOCKIT_FTP_PORT")?.parse().ok()?,
            masq_port: var("SOCKIT_FTP_MASQ_PORT")?.parse().ok()?,
            root: var("SOCKIT_FTP_ROOT")?.into(),
            user: var("SOCKIT_FTP_USER")?,
            pass: var("SOCKIT_FTP_PASS")?,
        })
    }

    fn quick() -> Options {
        Options {
            timeout: Timeout {
                block: Some(Duration::from_secs(10)),
                total: None,
            },
            ..Options::default()
        }
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 256) as u8).collect()
    }

    #[test]
    fn binary_round_trip_passive_and_active() {
        let Some(e) = env() else { return };
        let body = data(300_000);
        for (name, mode) in [
            ("rt-pasv.bin", DataMode::Passive),
            ("rt-actv.bin", DataMode::Active),
        ] {
            let opts = Options { mode, ..quick() };
            let url = format!("ftp://127.0.0.1:{}/{name};type=i", e.port);
            let sent = put(&url, None, opts, &mut BytesSource::new(body.clone())).unwrap();
            assert_eq!(sent, body.len() as u64);
            assert_eq!(std::fs::read(e.root.join(name)).unwrap(), body, "{mode:?}");
            let mut got = Vec::new();
            let n = get(&url, None, opts, &mut got).unwrap();
            assert_eq!(n, body.len() as u64);
            assert!(got == body, "{mode:?}");
        }
    }

    #[test]
    fn ascii_line_ends() {
        let Some(e) = env() else { return };
        let url = format!("ftp://127.0.0.1:{}/text.txt", e.port);
        let text = b"line one\nline two\r\nlast\n".to_vec();
        put(&url, None, quick(), &mut BytesSource::new(text)).unwrap();
        // on the server's disk (Unix): LF
        assert_eq!(
            std::fs::read(e.root.join("text.txt")).unwrap(),
            b"line one\nline two\nlast\n"
        );
        let mut got = Vec::new();
        get(&url, None, quick(), &mut got).unwrap();
        assert_eq!(got, b"line one\nline two\nlast\n");
        // binary shows the bytes as stored
        let mut raw = Vec::new();
        get(&url, Some(TransferType::Binary), quick(), &mut raw).unwrap();
        assert_eq!(raw, b"line one\nline two\nlast\n");
    }

    #[test]
    fn directories_listing_and_login() {
        let Some(e) = env() else { return };
        std::fs::create_dir_all(e.root.join("sub dir/deeper")).unwrap();
        std::fs::write(e.root.join("sub dir/deeper/f.txt"), b"deep\n").unwrap();
        let base = format!("ftp://{}:{}@127.0.0.1:{}", e.user, e.pass, e.port);
        let mut got = Vec::new();
        get(
            &format!("{base}/sub%20dir/deeper/f.txt"),
            None,
            quick(),
            &mut got,
        )
        .unwrap();
        assert_eq!(got, b"deep\n");
        let mut listing = Vec::new();
        get(
            &format!("{base}/sub%20dir/deeper/"),
            None,
            quick(),
            &mut listing,
        )
        .unwrap();
        let listing = String::from_utf8_lossy(&listing);
        assert!(listing.contains("f.txt"), "{listing}");

        let e1 = get(
            &format!("{base}/no-such-file"),
            None,
            quick(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(e1.kind, ErrorKind::Protocol);
        assert!(e1.msg.starts_with("550 "), "{}", e1.msg);
        let e2 = get(&format!("{base}/nodir/x"), None, quick(), &mut Vec::new()).unwrap_err();
        assert!(e2.msg.starts_with("550 "), "{}", e2.msg);
        let bad = format!("ftp://{}:wrong@127.0.0.1:{}/x", e.user, e.port);
        let e3 = get(&bad, None, quick(), &mut Vec::new()).unwrap_err();
        assert!(e3.msg.starts_with("530 "), "{}", e3.msg);
    }

    #[test]
    fn pasv_goes_to_the_control_peer() {
        let Some(e) = env() else { return };
        std::fs::write(e.root.join("masq.bin"), b"masquerade").unwrap();
        // EPSV is refused, PASV names 192.0.2.1: the client still reaches 127.0.0.1.
        let url = format!("ftp://127.0.0.1:{}/masq.bin;type=i", e.masq_port);
        let mut got = Vec::new();
        get(&url, None, quick(), &mut got).unwrap();
        assert_eq!(got, b"masquerade");
        // Trusting the reply leads nowhere (an unroutable test address).
        let opts = Options {
            trust_pasv_address: true,
            timeout: Timeout {
                block: Some(Duration::from_millis(300)),
                total: None,
            },
            ..Options::default()
        };
        assert!(get(&url, None, opts, &mut Vec::new()).is_err());
    }

    #[test]
    fn generic_commands() {
        let Some(e) = env() else { return };
        let mut s = Session::connect("127.0.0.1", e.port, quick()).unwrap();
        assert!(s.greeting.text.contains("sockit test FTP server ready"));
        assert_eq!(s.peer().port(), e.port);
        s.login(Some(&e.user), Some(&e.pass)).unwrap();
        assert_eq!(s.command("syst", None, Some("2..")).unwrap().code, 215);
        let r = s.command("FEAT", None, Some("211")).unwrap();
        assert!(r.lines().count() > 2, "multi-line: {}", r.text);
        assert!(r.text.contains("EPSV") || r.text.contains("MDTM"));
        let err = s.command("CWD", Some("/nope"), Some("2..")).unwrap_err();
        assert!(err.msg.starts_with("550"), "{}", err.msg);
        assert!(s.command("CWD", Some("a\r\nDELE x"), None).is_err());
        std::fs::write(e.root.join("gone.txt"), b"x").unwrap();
        s.command("DELE", Some("gone.txt"), Some("250")).unwrap();
        assert!(!e.root.join("gone.txt").exists());
        s.quit();
    }
}
