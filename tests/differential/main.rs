//! Differential tests against LuaSocket 3 (Debian `lua-socket` under `lua5.1`).
//!
//! The same pseudo-random inputs go through LuaSocket's `mime` (low-level `mime.core`
//! calls and high-level filters pumped with `ltn12`) and `socket.url`, driven by
//! `luasocket.lua` beside this file, and through sockit; the outputs must be identical.
//! The test is skipped, with a message saying why, only when `lua5.1` or LuaSocket is
//! missing. `SOCKIT_DIFF_SEED` picks another seed, `SOCKIT_DIFF_CASES` another count.

use sockit::ltn12::filter::ChainFilter;
use sockit::ltn12::source::{CatSource, ChainSource, StringSource};
use sockit::ltn12::{pump, BoxFilter, Filter};
use sockit::mime::{self, wrap::DEFAULT_LENGTH};
use sockit::url::{self, Url};
use std::io::Write;
use std::process::{Command, Stdio};

/// xorshift64*: small, deterministic, good enough to spread test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// Bytes biased toward what the MIME transforms treat specially.
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max as u64 + 1) as usize;
        let flavour = self.below(4);
        (0..len)
            .map(|_| match flavour {
                0 => self.next() as u8,
                1 => self.pick(b"\r\n \t=.aZ09+/\x00\xff"),
                2 => self.pick(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n !",
                ),
                _ => {
                    if self.chance(30) {
                        self.pick(b"\r\n \t=.")
                    } else {
                        self.pick(b"abcdefxyz0123456789ABCDEF")
                    }
                }
            })
            .collect()
    }

    /// Splits `data` into pieces at random points (some pieces may be empty).
    fn chunks(&mut self, data: &[u8]) -> Vec<Vec<u8>> {
        let n = self.below(6);
        let mut cuts: Vec<usize> = (0..n)
            .map(|_| self.below(data.len() as u64 + 1) as usize)
            .collect();
        cuts.sort_unstable();
        let mut out = Vec::new();
        let mut start = 0;
        for c in cuts {
            out.push(data[start..c].to_vec());
            start = c;
        }
        out.push(data[start..].to_vec());
        out
    }

    fn text(&mut self, alphabet: &[u8], max: usize) -> String {
        let len = self.below(max as u64 + 1) as usize;
        (0..len).map(|_| self.pick(alphabet) as char).collect()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

fn tok(b: Option<&[u8]>) -> String {
    match b {
        None => "n".into(),
        Some(b) => format!("x{}", hex(b)),
    }
}

fn stok(s: &Option<String>) -> String {
    tok(s.as_deref().map(str::as_bytes))
}

fn itok(i: i64) -> String {
    format!("i{i}")
}

/// One case: the line for the Lua driver and what sockit says (None = not compared).
struct Case {
    line: String,
    ours: Option<String>,
}

fn run_filter(mut f: BoxFilter, chunks: &[Vec<u8>]) -> Vec<u8> {
    let parts: Vec<StringSource> = chunks
        .iter()
        .map(|c| StringSource::new(c.clone()))
        .collect();
    let mut src = ChainSource::new(CatSource::new(parts), &mut f);
    let mut out = Vec::new();
    // A small chunk size so that the chunks seen by the filter differ from LuaSocket's.
    pump::all(&mut src, &mut out, 7).unwrap();
    out
}

fn chain(filters: Vec<BoxFilter>) -> BoxFilter {
    Box::new(ChainFilter::new(filters))
}

fn filter_by_name(name: &str) -> BoxFilter {
    match name {
        "enc_b64" => Box::new(mime::Base64Encoder::new()),
        "dec_b64" => Box::new(mime::Base64Decoder::new()),
        "enc_qp" => Box::new(mime::QpEncoder::text()),
        "enc_qpbin" => Box::new(mime::QpEncoder::binary()),
        "dec_qp" => Box::new(mime::QpDecoder::new()),
        "wrap_qp" => Box::new(mime::QpWrap::default()),
        "stuff" => Box::new(mime::DotStuff::new()),
        "enc_b64_wrap" => chain(vec![
            Box::new(mime::Base64Encoder::new()),
            Box::new(mime::TextWrap::new(DEFAULT_LENGTH)),
        ]),
        "enc_qp_wrap" => chain(vec![
            Box::new(mime::Normalize::default()),
            Box::new(mime::QpEncoder::text()),
            Box::new(mime::QpWrap::default()),
        ]),
        _ => unreachable!(),
    }
}

fn pair(a: (Option<Vec<u8>>, Option<Vec<u8>>)) -> String {
    format!("{} {}", tok(a.0.as_deref()), tok(a.1.as_deref()))
}

fn num(a: (Option<Vec<u8>>, i64)) -> String {
    format!("{} {}", tok(a.0.as_deref()), itok(a.1))
}

fn mime_cases(rng: &mut Rng, n: usize, out: &mut Vec<Case>) {
    let markers: [&[u8]; 4] = [b"\r\n", b"=0D=0A", b"X", b"\n"];
    for _ in 0..n {
        let c = rng.bytes(40);
        let d = rng.bytes(40);
        let c_opt = if rng.chance(5) { None } else { Some(&c[..]) };
        let d_opt = if rng.chance(25) { None } else { Some(&d[..]) };
        let args = format!("{} {}", tok(c_opt), tok(d_opt));
        let marker = rng.pick(&markers);
        let k = rng.below(12);
        let case = match k {
            0 => Case {
                line: format!("b64 {args}"),
                ours: Some(pair(mime::b64(c_opt, d_opt))),
            },
            1 => Case {
                line: format!("unb64 {args}"),
                ours: Some(pair(mime::unb64(c_opt, d_opt))),
            },
            2 => Case {
                line: format!("qp {args} {}", tok(Some(marker))),
                ours: Some(pair(mime::qp(c_opt, d_opt, marker))),
            },
            3 => Case {
                line: format!("unqp {args}"),
                ours: Some(pair(mime::unqp(c_opt, d_opt))),
            },
            4 | 5 => {
                let left = rng.range(-3, 80);
                let length = rng.range(0, 80);
                let (name, r) = if k == 4 {
                    ("wrp", mime::wrp(left, d_opt, length))
                } else {
                    ("qpwrp", mime::qpwrp(left, d_opt, length))
                };
                Case {
                    line: format!("{name} {} {} {}", itok(left), tok(d_opt), itok(length)),
                    ours: Some(num(r)),
                }
            }
            6 => {
                let ctx = rng.pick(&[0i64, 10, 13, 65]);
                Case {
                    line: format!("eol {} {} {}", itok(ctx), tok(d_opt), tok(Some(marker))),
                    ours: Some(num(mime::eol(ctx, d_opt, marker))),
                }
            }
            7 => {
                let state = rng.pick(&[0i64, 1, 2, 5]);
                Case {
                    line: format!("dot {} {}", itok(state), tok(d_opt)),
                    ours: Some(num(mime::dot(state, d_opt))),
                }
            }
            _ => {
                // High-level filters pumped through LTN12, on longer inputs.
                let mut data = rng.bytes(300);
                let name = rng.pick(&[
                    "enc_b64",
                    "dec_b64",
                    "enc_qp",
                    "enc_qpbin",
                    "dec_qp",
                    "wrap_qp",
                    "stuff",
                    "enc_b64_wrap",
                    "enc_qp_wrap",
                    "wrap_text",
                    "normalize",
                ]);
                if name == "dec_b64" && rng.chance(50) {
                    data = mime::b64(Some(&data), None).0.unwrap_or_default();
                }
                let chunks = rng.chunks(&data);
                let toks: Vec<String> = chunks.iter().map(|c| tok(Some(c))).collect();
                let toks = toks.join(" ");
                match name {
                    "wrap_text" => {
                        let len = rng.range(1, 80);
                        Case {
                            line: format!("wrap_text {} {toks}", itok(len)),
                            ours: Some(tok(Some(&run_filter(
                                Box::new(mime::TextWrap::new(len)),
                                &chunks,
                            )))),
                        }
                    }
                    "normalize" => Case {
                        line: format!("normalize {} {toks}", tok(Some(marker))),
                        ours: Some(tok(Some(&run_filter(
                            Box::new(mime::Normalize::new(marker)),
                            &chunks,
                        )))),
                    },
                    _ => Case {
                        line: format!("filter w{name} {toks}"),
                        ours: Some(tok(Some(&run_filter(filter_by_name(name), &chunks)))),
                    },
                }
            }
        };
        out.push(case);
    }
}

/// A random URL from parts that exercise every field and separator.
fn random_url(rng: &mut Rng) -> String {
    let word = |rng: &mut Rng, extra: &[u8]| {
        let mut alphabet = b"abcxyz019-._~%".to_vec();
        alphabet.extend_from_slice(extra);
        rng.text(&alphabet, 6)
    };
    let mut u = String::new();
    if rng.chance(70) {
        u.push_str(rng.pick(&["http", "https", "ftp", "a+b.c-d", "mailto", "x", "1a"]));
        u.push(':');
    }
    if rng.chance(70) {
        u.push_str("//");
        if rng.chance(30) {
            u.push_str(&word(rng, b":"));
            u.push('@');
        }
        match rng.below(5) {
            0 => u.push_str(&format!(
                "[{}]",
                rng.pick(&["::1", "fe80::1%25eth0", "2001:db8::7", "v1.x"])
            )),
            1 => {}
            _ => u.push_str(&word(rng, b"")),
        }
        if rng.chance(40) {
            u.push(':');
            u.push_str(&rng.text(b"0123456789", 5));
        }
    }
    for _ in 0..rng.below(4) {
        if rng.chance(70) {
            u.push('/');
        }
        u.push_str(rng.pick(&["a", "b", ".", "..", "g;x", "c%20d", "", "e:f", "@"]));
    }
    if rng.chance(30) {
        u.push(';');
        u.push_str(&word(rng, b"/;="));
    }
    if rng.chance(40) {
        u.push('?');
        u.push_str(&word(rng, b"/?=&;"));
    }
    if rng.chance(30) {
        u.push('#');
        u.push_str(&word(rng, b"/?#"));
    }
    u
}

/// Whether LuaSocket's authority (everything after "//" up to "/") holds '?' or '#',
/// where sockit follows RFC 3986 and stops the authority there.
fn authority_has_query_or_fragment(u: &str) -> bool {
    let rest = match u.find("//") {
        Some(i) => {
            let before = &u[..i];
            let scheme_ok = before.is_empty()
                || (before.ends_with(':')
                    && before[..before.len() - 1]
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
                    && before.as_bytes()[0].is_ascii_alphanumeric());
            if !scheme_ok {
                return false;
            }
            &u[i + 2..]
        }
        None => return false,
    };
    let auth = &rest[..rest.find('/').unwrap_or(rest.len())];
    auth.contains(['?', '#'])
}

fn url_cases(rng: &mut Rng, n: usize, out: &mut Vec<Case>, skipped: &mut usize) {
    for _ in 0..n {
        match rng.below(6) {
            0 | 1 => {
                let u = random_url(rng);
                let line = format!("url_parse {}", tok(Some(u.as_bytes())));
                let ours = match Url::parse(&u) {
                    Ok(p) => {
                        if authority_has_query_or_fragment(&u) {
                            None
                        } else {
                            Some(
                                (0..11)
                                    .map(|i| stok(p.field(i).unwrap()))
                                    .collect::<Vec<_>>()
                                    .join(" "),
                            )
                        }
                    }
                    Err(_) if u.is_empty() => Some(tok(Some(b"invalid"))),
                    Err(_) => None,
                };
                if ours.is_none() {
                    *skipped += 1;
                }
                out.push(Case { line, ours });
            }
            2 => {
                let mut p = Url::default();
                let mut toks = Vec::new();
                for i in 0..11 {
                    let v = if rng.chance(50) {
                        Some(rng.text(b"abc:/?#@[]1", 5))
                    } else {
                        None
                    };
                    toks.push(stok(&v));
                    *p.field_mut(i).unwrap() = v;
                }
                out.push(Case {
                    line: format!("url_build {}", toks.join(" ")),
                    ours: Some(tok(Some(p.build().as_bytes()))),
                });
            }
            3 => {
                let base = rng.pick(&[
                    "http://a/b/c/d;p?q",
                    "http://a/b/c/d",
                    "http://a",
                    "http://a/",
                    "ftp://u:p@h:21/x/y/z/",
                    "http://[::1]:8/a/b?x",
                ]);
                let mut rel = String::new();
                if rng.chance(20) {
                    rel.push('/');
                }
                for i in 0..rng.below(5) {
                    if i > 0 {
                        rel.push('/');
                    }
                    rel.push_str(rng.pick(&["g", ".", "..", "g.", ".g", "..g", "h"]));
                }
                if rng.chance(25) {
                    rel.push_str(rng.pick(&["?y", "?", "?y=1&z"]));
                }
                if rng.chance(25) {
                    rel.push_str(rng.pick(&["#s", "#"]));
                }
                if rng.chance(10) {
                    rel = rng.pick(&["//g", "//g/x", "g:h", "http:g"]).to_string();
                }
                let ours = url::absolute(base, &rel).unwrap();
                out.push(Case {
                    line: format!(
                        "url_absolute {} {}",
                        tok(Some(base.as_bytes())),
                        tok(Some(rel.as_bytes()))
                    ),
                    ours: Some(tok(Some(ours.as_bytes()))),
                });
            }
            4 => {
                let data = rng.bytes(30);
                let ascii: String = data.iter().map(|&b| (b & 0x7f) as char).collect();
                let mut with_escapes = ascii.clone();
                with_escapes.push_str(&rng.text(b"%41%2f%zZ%%", 8));
                out.push(Case {
                    line: format!("url_escape {}", tok(Some(&data))),
                    ours: Some(tok(Some(url::escape(&data).as_bytes()))),
                });
                out.push(Case {
                    line: format!("url_unescape {}", tok(Some(with_escapes.as_bytes()))),
                    ours: Some(tok(Some(&url::unescape(with_escapes.as_bytes())))),
                });
            }
            _ => {
                let path = rng.text(b"/ab%2F%41%zz.", 16);
                let p = url::parse_path(&path);
                let mut toks = vec![
                    itok(p.segments.len() as i64),
                    itok(p.is_absolute as i64),
                    itok(p.is_directory as i64),
                ];
                toks.extend(p.segments.iter().map(|s| tok(Some(s))));
                out.push(Case {
                    line: format!("url_parse_path {}", tok(Some(path.as_bytes()))),
                    ours: Some(toks.join(" ")),
                });
                let segs: Vec<Vec<u8>> = (0..rng.below(4)).map(|_| rng.bytes(6)).collect();
                let unsafe_raw = rng.chance(30);
                let built = url::Path {
                    segments: segs.clone(),
                    is_absolute: rng.chance(50),
                    is_directory: rng.chance(50),
                };
                let seg_toks: Vec<String> = segs.iter().map(|s| tok(Some(s))).collect();
                out.push(Case {
                    line: format!(
                        "url_build_path {} {} {} {}",
                        itok(unsafe_raw as i64),
                        itok(built.is_absolute as i64),
                        itok(built.is_directory as i64),
                        seg_toks.join(" ")
                    ),
                    ours: Some(tok(Some(&url::build_path(&built, unsafe_raw)))),
                });
            }
        }
    }
}

fn luasocket_available() -> Result<(), String> {
    let out = Command::new("lua5.1")
        .args([
            "-e",
            "require('mime'); require('ltn12'); require('socket.url')",
        ])
        .output()
        .map_err(|e| format!("lua5.1 cannot be run ({e})"))?;
    if !out.status.success() {
        return Err(format!(
            "LuaSocket is not installed for lua5.1 ({})",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

fn run_lua(cases: &[Case]) -> Vec<String> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/differential/luasocket.lua"
    );
    let mut child = Command::new("lua5.1")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run lua5.1");
    let mut input = String::new();
    for c in cases {
        input.push_str(&c.line);
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "the Lua driver failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn check(name: &str, cases: &[Case]) -> usize {
    let theirs = run_lua(cases);
    assert_eq!(
        theirs.len(),
        cases.len(),
        "{name}: one result line per case"
    );
    let mut compared = 0;
    let mut failures = Vec::new();
    for (c, t) in cases.iter().zip(&theirs) {
        let Some(ours) = &c.ours else { continue };
        compared += 1;
        if ours != t {
            failures.push(format!(
                "  case:      {}\n  luasocket: {t}\n  sockit:    {ours}",
                c.line
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {compared} cases differ from LuaSocket; first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    compared
}

fn settings() -> (u64, usize) {
    let seed = std::env::var("SOCKIT_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5e_ed50_c717_u64);
    let n = std::env::var("SOCKIT_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    (seed | 1, n)
}

#[test]
fn mime_matches_luasocket() {
    if let Err(why) = luasocket_available() {
        eprintln!("SKIPPED mime_matches_luasocket: {why}");
        return;
    }
    let (seed, n) = settings();
    let mut rng = Rng(seed);
    let mut cases = Vec::new();
    mime_cases(&mut rng, n, &mut cases);
    let compared = check("mime", &cases);
    eprintln!("mime: {compared} cases identical to LuaSocket (seed {seed})");
}

#[test]
fn url_matches_luasocket() {
    if let Err(why) = luasocket_available() {
        eprintln!("SKIPPED url_matches_luasocket: {why}");
        return;
    }
    let (seed, n) = settings();
    let mut rng = Rng(seed ^ 0x55aa);
    let mut cases = Vec::new();
    let mut skipped = 0;
    url_cases(&mut rng, n, &mut cases, &mut skipped);
    let compared = check("url", &cases);
    eprintln!(
        "url: {compared} cases identical to LuaSocket, {skipped} parse cases not compared \
         (input sockit rejects as malformed, or an authority with '?'/'#') (seed {seed})"
    );
}

#[test]
fn every_filter_name_is_known() {
    for name in [
        "enc_b64",
        "dec_b64",
        "enc_qp",
        "enc_qpbin",
        "dec_qp",
        "wrap_qp",
        "stuff",
        "enc_b64_wrap",
        "enc_qp_wrap",
    ] {
        let mut f = filter_by_name(name);
        let mut out = Vec::new();
        f.put(b"x", &mut out).unwrap();
        f.end(&mut out).unwrap();
    }
}
