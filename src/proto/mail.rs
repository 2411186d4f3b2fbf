//! Mail messages (RFC 5322 with MIME, RFC 2045/2046) composed as a source, as LuaSocket 3's
//! `smtp.message` does: header fields, then a body that is bytes, a source, or several
//! parts with a boundary (each part again headers and body). Attachments and text parts
//! go through the MIME filters (base64 with line wrapping, quoted-printable), so a large
//! attachment streams from its source and is never held whole in memory.
//!
//! Header names go out in canonical spelling; names and values are checked when added
//! (CR, LF or NUL refused). The top-level message gets Date, X-Mailer and MIME-Version 1.0
//! unless given, like LuaSocket 3.

use super::headers::Headers;
use crate::error::{Error, Result};
use crate::ltn12::source::ChainSource;
use crate::ltn12::{BoxSource, Filter, Source};
use crate::mime::{Base64Encoder, Normalize, QpEncoder, QpWrap, TextWrap};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// What X-Mailer says.
pub const MAILER: &str = concat!("sockit ", env!("CARGO_PKG_VERSION"));

/// A body.
pub enum Body {
    Empty,
    Bytes(Vec<u8>),
    /// Read once when the message is produced.
    Source(BoxSource),
    /// A multipart body; its Content-Type (multipart/mixed unless given) gets the boundary.
    Multipart {
        preamble: Option<Vec<u8>>,
        parts: Vec<Part>,
        epilogue: Option<Vec<u8>>,
    },
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Empty => f.write_str("Empty"),
            Body::Bytes(b) => write!(f, "Bytes({})", b.len()),
            Body::Source(_) => f.write_str("Source"),
            Body::Multipart { parts, .. } => write!(f, "Multipart({} parts)", parts.len()),
        }
    }
}

/// A message or one part of a multipart body.
#[derive(Debug)]
pub struct Part {
    pub headers: Headers,
    pub body: Body,
}

/// A chain of a source and filters, boxed.
fn filtered(src: BoxSource, filters: Vec<Box<dyn Filter + Send>>) -> BoxSource {
    filters
        .into_iter()
        .fold(src, |s, f| Box::new(ChainSource::new(s, f)) as BoxSource)
}

impl Part {
    pub fn new() -> Part {
        Part {
            headers: Headers::new(),
            body: Body::Empty,
        }
    }

    /// A text part: the text normalised to CRLF line ends, quoted-printable encoded and
    /// wrapped ("Content-Type: text/plain; charset=<charset>").
    pub fn text(text: BoxSource, charset: &str) -> Result<Part> {
        let mut p = Part::new();
        p.headers.add(
            "content-type",
            format!("text/plain; charset={charset}").as_bytes(),
        )?;
        p.headers
            .add("content-transfer-encoding", b"quoted-printable")?;
        p.body = Body::Source(filtered(
            text,
            vec![
                Box::new(Normalize::new(b"\r\n")),
                Box::new(QpEncoder::text()),
                Box::new(QpWrap::default()),
            ],
        ));
        Ok(p)
    }

    /// An attachment: the bytes base64 encoded and wrapped at 76 columns, with
    /// Content-Type `content_type` and Content-Disposition attachment (with `filename`
    /// when given).
    pub fn attachment(data: BoxSource, content_type: &str, filename: Option<&str>) -> Result<Part> {
        let mut p = Part::new();
        p.headers.add("content-type", content_type.as_bytes())?;
        let disposition = match filename {
            Some(f) => {
                if f.contains('"') || f.contains('\\') {
                    return Err(Error::invalid("attachment file name contains '\"' or '\\'"));
                }
                format!("attachment; filename=\"{f}\"")
            }
            None => "attachment".to_string(),
        };
        p.headers
            .add("content-disposition", disposition.as_bytes())?;
        p.headers.add("content-transfer-encoding", b"base64")?;
        p.body = Body::Source(filtered(
            data,
            vec![Box::new(Base64Encoder::new()), Box::new(TextWrap::new(76))],
        ));
        Ok(p)
    }

    /// The message as a source: the top-level fields completed (Date, X-Mailer,
    /// MIME-Version) and every part laid out.
    pub fn into_message_source(mut self) -> Result<MessageSource> {
        if !self.headers.contains("date") {
            self.headers
                .add("date", rfc5322_date(SystemTime::now()).as_bytes())?;
        }
        if !self.headers.contains("x-mailer") {
            self.headers.add("x-mailer", MAILER.as_bytes())?;
        }
        self.headers.set("mime-version", b"1.0")?;
        let mut segs = VecDeque::new();
        lay_out(self, &mut segs)?;
        Ok(MessageSource {
            segs,
            current: None,
        })
    }
}

impl Default for Part {
    fn default() -> Part {
        Part::new()
    }
}

/// A piece of the message being produced.
enum Seg {
    Bytes(Vec<u8>),
    Source(BoxSource),
}

/// Appends `part` (headers, empty line, body) to `segs`.
fn lay_out(mut part: Part, segs: &mut VecDeque<Seg>) -> Result<()> {
    let mut head = Vec::new();
    match part.body {
        Body::Multipart {
            preamble,
            parts,
            epilogue,
        } => {
            let boundary = new_boundary();
            let ct = match part.headers.get_str("content-type") {
                Some(ct) => {
                    if !ct
                        .trim_start()
                        .to_ascii_lowercase()
                        .starts_with("multipart/")
                    {
                        return Err(Error::invalid(format!(
                            "a part with several parts has Content-Type '{ct}', not multipart/..."
                        )));
                    }
                    format!("{ct}; boundary=\"{boundary}\"")
                }
                None => format!("multipart/mixed; boundary=\"{boundary}\""),
            };
            part.headers.set("content-type", ct.as_bytes())?;
            part.headers.write_to(&mut head);
            head.extend_from_slice(b"\r\n");
            if let Some(p) = preamble {
                head.extend_from_slice(&p);
                head.extend_from_slice(b"\r\n");
            }
            segs.push_back(Seg::Bytes(head));
            for child in parts {
                segs.push_back(Seg::Bytes(format!("\r\n--{boundary}\r\n").into_bytes()));
                lay_out(child, segs)?;
            }
            let mut tail = format!("\r\n--{boundary}--\r\n").into_bytes();
            if let Some(e) = epilogue {
                tail.extend_from_slice(&e);
            }
            segs.push_back(Seg::Bytes(tail));
        }
        body => {
            part.headers.write_to(&mut head);
            head.extend_from_slice(b"\r\n");
            segs.push_back(Seg::Bytes(head));
            match body {
                Body::Empty => {}
                Body::Bytes(b) => segs.push_back(Seg::Bytes(b)),
                Body::Source(s) => segs.push_back(Seg::Source(s)),
                Body::Multipart { .. } => unreachable!("handled above"),
            }
        }
    }
    Ok(())
}

/// The message, produced piece by piece.
pub struct MessageSource {
    segs: VecDeque<Seg>,
    current: Option<Vec<u8>>,
}

impl Source for MessageSource {
    fn pull(&mut self, hint: usize) -> Result<Option<&[u8]>> {
        loop {
            match self.segs.front_mut() {
                None => return Ok(None),
                Some(Seg::Bytes(_)) => {
                    let Some(Seg::Bytes(b)) = self.segs.pop_front() else {
                        unreachable!()
                    };
                    if b.is_empty() {
                        continue;
                    }
                    self.current = Some(b);
                    return Ok(self.current.as_deref());
                }
                Some(Seg::Source(_)) => {
                    // Pull from the source at the front; at its end drop it and go on.
                    let done = {
                        let Some(Seg::Source(s)) = self.segs.front_mut() else {
                            unreachable!()
                        };
                        match s.pull(hint)? {
                            Some(c) => {
                                let mut v = self.current.take().unwrap_or_default();
                                v.clear();
                                v.extend_from_slice(c);
                                self.current = Some(v);
                                false
                            }
                            None => true,
                        }
                    };
                    if done {
                        self.segs.pop_front();
                        continue;
                    }
                    return Ok(self.current.as_deref());
                }
            }
        }
    }
}

/// A boundary that will not occur in the parts: "=_sockit_" and 32 hex digits of clock,
/// process id and a counter, mixed.
fn new_boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let pid = std::process::id() as u64;
    let mix = |mut x: u64| {
        // splitmix64
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    };
    format!(
        "=_sockit_{:016x}{:016x}",
        mix(t ^ (pid << 32)),
        mix(n.wrapping_add(t.rotate_left(17)))
    )
}

/// A date as RFC 5322 wants it, in UTC: "Sun, 22 Nov 2026 00:35:16 +0000".
pub fn rfc5322_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ltn12::source::{collect, BytesSource};
    use std::time::Duration;

    fn src(b: &[u8]) -> BoxSource {
        Box::new(BytesSource::new(b.to_vec()))
    }

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 +0000");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_307_716);
        assert_eq!(rfc5322_date(t), "Sun, 22 Nov 2026 00:35:16 +0000");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // leap day
        assert_eq!(rfc5322_date(t), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn simple_message() {
        let mut m = Part::new();
        m.headers.add("subject", b"Hello").unwrap();
        m.headers.add("to", b"<a@b>").unwrap();
        m.headers
            .add("date", b"Thu, 01 Jan 1970 00:00:00 +0000")
            .unwrap();
        m.body = Body::Bytes(b"line\r\n.dot\r\n".to_vec());
        let out = collect(&mut m.into_message_source().unwrap(), 7).unwrap();
        let expect = format!(
            "Subject: Hello\r\nTo: <a@b>\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n\
             X-Mailer: {MAILER}\r\nMIME-Version: 1.0\r\n\r\nline\r\n.dot\r\n"
        );
        assert_eq!(String::from_utf8(out).unwrap(), expect);
        let mut bad = Part::new();
        assert!(bad.headers.add("subject", b"a\r\nBcc: x@y").is_err());
    }

    #[test]
    fn multipart_with_attachment() {
        let mut m = Part::new();
        m.headers.add("subject", b"Parts").unwrap();
        let text = Part::text(src(b"caf\xc3\xa9 = ok\nline two\n"), "utf-8").unwrap();
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let att = Part::attachment(src(&data), "application/octet-stream", Some("d.bin")).unwrap();
        m.body = Body::Multipart {
            preamble: Some(b"This is a MIME message.".to_vec()),
            parts: vec![text, att],
            epilogue: Some(b"bye\r\n".to_vec()),
        };
        let out = collect(&mut m.into_message_source().unwrap(), 100).unwrap();
        let s = String::from_utf8(out).unwrap();
        let ct = s
            .lines()
            .find(|l| l.starts_with("Content-Type: multipart/mixed; boundary=\""))
            .unwrap();
        let boundary = ct.split('"').nth(1).unwrap();
        assert!(boundary.starts_with("=_sockit_") && boundary.len() == 9 + 32);
        let pieces: Vec<&str> = s.split(&format!("\r\n--{boundary}")).collect();
        assert_eq!(pieces.len(), 4, "{s}");
        assert!(pieces[0].ends_with("\r\n\r\nThis is a MIME message.\r\n"));
        assert!(pieces[1].starts_with(
            "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        ));
        assert!(
            pieces[1].contains("caf=C3=A9 =3D ok\r\nline two\r\n"),
            "{:?}",
            pieces[1]
        );
        assert!(pieces[2].contains("Content-Disposition: attachment; filename=\"d.bin\"\r\n"));
        assert_eq!(pieces[3], "--\r\nbye\r\n");
        // the attachment decodes back to the data, lines at most 76 columns
        let b64 = pieces[2].split("\r\n\r\n").nth(1).unwrap();
        assert!(b64.split("\r\n").all(|l| l.len() <= 76));
        let mut dec = crate::mime::Base64Decoder::new();
        let mut back = Vec::new();
        dec.feed(b64.as_bytes(), &mut back);
        assert_eq!(back, data);
        // boundaries differ between messages
        assert_ne!(new_boundary(), new_boundary());
    }

    #[test]
    fn nested_multipart_and_content_type_checks() {
        let mut inner = Part::new();
        inner
            .headers
            .add("content-type", b"multipart/alternative")
            .unwrap();
        inner.body = Body::Multipart {
            preamble: None,
            parts: vec![Part::text(src(b"plain"), "us-ascii").unwrap()],
            epilogue: None,
        };
        let mut m = Part::new();
        m.body = Body::Multipart {
            preamble: None,
            parts: vec![inner],
            epilogue: None,
        };
        let s =
            String::from_utf8(collect(&mut m.into_message_source().unwrap(), 64).unwrap()).unwrap();
        assert_eq!(s.matches("Content-Type: multipart/").count(), 2);
        assert!(s.contains("Content-Type: multipart/alternative; boundary=\"=_sockit_"));

        let mut wrong = Part::new();
        wrong.headers.add("content-type", b"text/plain").unwrap();
        wrong.body = Body::Multipart {
            preamble: None,
            parts: vec![],
            epilogue: None,
        };
        assert!(wrong.into_message_source().is_err());
    }
}
