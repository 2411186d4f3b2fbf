//! URLs as LuaSocket 3's `socket.url` reads and resolves them, byte for byte.
//!
//! `crate::url` is the strict side (malformed input is an error, resolution follows
//! RFC 3986 section 5.2). This module is the lenient side that `socket.url` in Lua must
//! match exactly, quirks included:
//! - [`split`] never refuses a non-empty input. The scheme is `^[alnum][alnum+-.]*:`;
//!   the authority runs after `//` up to the first `/` (so it may hold `?`, `#`, `;`);
//!   then the first `#` starts the fragment, the first `?` the query, the first `;` the
//!   params, and the rest is the path. In the authority the first `@` ends the userinfo,
//!   a last `:` with no `]` after it starts the port (kept as text, possibly empty), and
//!   `[...]` around the host is removed; in the userinfo the last `:` starts the password.
//! - [`absolute`] merges the fields of base and reference as LuaSocket does (the
//!   reference inherits path, then params, then query, each only when it lacks the one
//!   before), rebuilds the URL and then runs [`remove_dots`] over the *whole* text,
//!   query and fragment included. A relative path is appended to the base path up to
//!   its last `/`, or to `/` when the base path has none.
//! - [`remove_dots`] is LuaSocket's dot removal: `//` keep their empty segment, `/./`
//!   becomes `/`, a segment followed by `/../` and a non-empty segment is dropped with
//!   the `..`, then a trailing `seg/..`, `/..`, `/.` and a leading `/../` are folded.
//!
//! Every field is a range of the input, so the results are exact for any bytes.

use std::ops::Range;

/// The fields of a split URL, in `crate::url::FIELDS` order, as ranges of the input.
pub type Spans = [Option<Range<usize>>; 11];

const SCHEME: usize = 0;
const AUTHORITY: usize = 1;
const USERINFO: usize = 2;
const USER: usize = 3;
const PASSWORD: usize = 4;
const HOST: usize = 5;
const PORT: usize = 6;
const PATH: usize = 7;
const PARAMS: usize = 8;
const QUERY: usize = 9;
const FRAGMENT: usize = 10;

fn find(s: &[u8], r: Range<usize>, c: u8) -> Option<usize> {
    memchr::memchr(c, &s[r.clone()]).map(|i| r.start + i)
}

fn rfind(s: &[u8], r: Range<usize>, c: u8) -> Option<usize> {
    memchr::memrchr(c, &s[r.clone()]).map(|i| r.start + i)
}

/// Splits `url` into LuaSocket's fields. An empty input gives no field at all (LuaSocket
/// answers `nil, "invalid url"` for it).
pub fn split(url: &[u8]) -> Spans {
    let mut f: Spans = Default::default();
    let n = url.len();
    let (mut pos, mut end) = (0, n);
    if n == 0 {
        return f;
    }
    if url[0].is_ascii_alphanumeric() {
        let run = url[1..]
            .iter()
            .position(|&c| !(c.is_ascii_alphanumeric() || c == b'+' || c == b'-' || c == b'.'))
            .map_or(n, |i| i + 1);
        if url.get(run) == Some(&b':') {
            f[SCHEME] = Some(0..run);
            pos = run + 1;
        }
    }
    if url[pos..].starts_with(b"//") {
        let start = pos + 2;
        let stop = find(url, start..n, b'/').unwrap_or(n);
        f[AUTHORITY] = Some(start..stop);
        pos = stop;
    }
    for (field, mark) in [(FRAGMENT, b'#'), (QUERY, b'?'), (PARAMS, b';')] {
        if let Some(i) = find(url, pos..end, mark) {
            f[field] = Some(i + 1..end);
            end = i;
        }
    }
    if pos < end {
        f[PATH] = Some(pos..end);
    }
    let Some(auth) = f[AUTHORITY].clone() else {
        return f;
    };
    let (mut a, mut z) = (auth.start, auth.end);
    if let Some(i) = find(url, a..z, b'@') {
        f[USERINFO] = Some(a..i);
        a = i + 1;
    }
    if let Some(i) = rfind(url, a..z, b':') {
        if find(url, i + 1..z, b']').is_none() {
            f[PORT] = Some(i + 1..z);
            z = i;
        }
    }
    if a < z {
        let bracketed = z - a >= 3 && url[a] == b'[' && url[z - 1] == b']';
        f[HOST] = Some(if bracketed { a + 1..z - 1 } else { a..z });
    }
    if let Some(ui) = f[USERINFO].clone() {
        match rfind(url, ui.clone(), b':') {
            Some(i) => {
                f[PASSWORD] = Some(i + 1..ui.end);
                f[USER] = Some(ui.start..i);
            }
            None => f[USER] = Some(ui),
        }
    }
    f
}

/// Fields as byte strings (borrowed from the inputs), for building.
type Fields<'a> = [Option<&'a [u8]>; 11];

fn fields_of<'a>(s: &'a [u8], spans: &Spans) -> Fields<'a> {
    let mut f: Fields = [None; 11];
    for (out, span) in f.iter_mut().zip(spans) {
        *out = span.clone().map(|r| &s[r]);
    }
    f
}

/// LuaSocket's `build`: host, port, user and password take precedence over authority and
/// userinfo (a password only with a user); a host holding `:` is put in brackets.
fn build(f: &Fields) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(s) = f[SCHEME] {
        out.extend_from_slice(s);
        out.push(b':');
    }
    let mut authority = f[AUTHORITY].map(<[u8]>::to_vec);
    if let Some(host) = f[HOST] {
        let mut a = Vec::new();
        let userinfo = match f[USER] {
            Some(user) => {
                let mut ui = user.to_vec();
                if let Some(pw) = f[PASSWORD] {
                    ui.push(b':');
                    ui.extend_from_slice(pw);
                }
                Some(ui)
            }
            None => f[USERINFO].map(<[u8]>::to_vec),
        };
        if let Some(ui) = userinfo {
            a.extend_from_slice(&ui);
            a.push(b'@');
        }
        let v6 = host.contains(&b':');
        if v6 {
            a.push(b'[');
        }
        a.extend_from_slice(host);
        if v6 {
            a.push(b']');
        }
        if let Some(port) = f[PORT] {
            a.push(b':');
            a.extend_from_slice(port);
        }
        authority = Some(a);
    }
    if let Some(a) = authority {
        out.extend_from_slice(b"//");
        out.extend_from_slice(&a);
    }
    out.extend_from_slice(f[PATH].unwrap_or_default());
    for (field, mark) in [(PARAMS, b';'), (QUERY, b'?'), (FRAGMENT, b'#')] {
        if let Some(v) = f[field] {
            out.push(mark);
            out.extend_from_slice(v);
        }
    }
    out
}

/// The byte LuaSocket puts between two `/` so that the empty segment survives the dot
/// rules; every such byte (an original one too) is removed at the end.
const MARK: u8 = 1;

/// LuaSocket's dot removal over `path` (or a whole URL: it does not look at its parts).
pub fn remove_dots(path: &[u8]) -> Vec<u8> {
    // 1. An empty segment between two slashes gets the marker; 2. "/./" becomes "/"
    // (done as the text is copied: a replacement can only make a new "/./" at the end).
    let mut s = Vec::with_capacity(path.len() + 8);
    for &c in path {
        if c == b'/' && s.last() == Some(&b'/') {
            s.push(MARK);
        }
        s.push(c);
        if s.ends_with(b"/./") {
            s.truncate(s.len() - 2);
        }
    }
    // 3. "seg/../next" becomes "next" (seg and next not empty), leftmost first: with the
    // segments on a stack, each new segment folds the two below it when they are a
    // non-empty segment and "..".
    let mut segs: Vec<&[u8]> = Vec::new();
    for seg in s.split(|&c| c == b'/') {
        let n = segs.len();
        if !seg.is_empty() && n >= 2 && segs[n - 1] == b".." && !segs[n - 2].is_empty() {
            segs.truncate(n - 2);
        }
        segs.push(seg);
    }
    let mut s = segs.join(&b'/');
    // 4. A trailing "seg/.." (with any slashes after it) goes, seg included.
    let body = s.len() - s.iter().rev().take_while(|&&c| c == b'/').count();
    if s[..body].ends_with(b"/..") {
        let seg_end = body - 3;
        let seg_start = rfind(&s, 0..seg_end, b'/').map_or(0, |i| i + 1);
        if seg_start < seg_end {
            s.truncate(seg_start);
        }
    }
    // 5.-7. A trailing "/.." or "/." becomes "/", a leading "/../" becomes "/".
    if s.ends_with(b"/..") {
        s.truncate(s.len() - 2);
    }
    if s.ends_with(b"/.") {
        s.truncate(s.len() - 1);
    }
    if s.starts_with(b"/../") {
        s.drain(..3);
    }
    s.retain(|&c| c != MARK);
    s
}

/// LuaSocket's merge of a relative path onto a base path.
fn absolute_path(base_path: &[u8], rel: &[u8]) -> Vec<u8> {
    if rel.first() == Some(&b'/') {
        return remove_dots(rel);
    }
    let mut p = match memchr::memrchr(b'/', base_path) {
        Some(i) => base_path[..=i].to_vec(),
        None => b"/".to_vec(),
    };
    p.extend_from_slice(rel);
    remove_dots(&p)
}

/// LuaSocket's `absolute(base, relative)` for a base given as text: an empty base gives
/// the reference and an empty reference the base (each through [`remove_dots`]), a
/// reference with a scheme is taken as it is; otherwise the reference inherits the base's
/// scheme and, when it has no authority, the base's authority and, field by field, path,
/// params and query (see the module's comment).
pub fn absolute(base: &[u8], rel: &[u8]) -> Vec<u8> {
    if base.is_empty() {
        return remove_dots(rel);
    }
    if rel.is_empty() {
        return remove_dots(base);
    }
    let b = fields_of(base, &split(base));
    let r_spans = split(rel);
    if r_spans[SCHEME].is_some() {
        return remove_dots(rel);
    }
    let mut r = fields_of(rel, &r_spans);
    r[SCHEME] = b[SCHEME];
    let merged;
    if r[AUTHORITY].is_none() {
        r[AUTHORITY] = b[AUTHORITY];
        match r[PATH] {
            None => {
                r[PATH] = b[PATH];
                if r[PARAMS].is_none() {
                    r[PARAMS] = b[PARAMS];
                    if r[QUERY].is_none() {
                        r[QUERY] = b[QUERY];
                    }
                }
            }
            Some(p) => {
                merged = absolute_path(b[PATH].unwrap_or_default(), p);
                r[PATH] = Some(&merged);
            }
        }
    }
    remove_dots(&build(&r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(u: &str) -> Vec<(usize, String)> {
        let s = u.as_bytes();
        split(s)
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                r.clone()
                    .map(|r| (i, String::from_utf8_lossy(&s[r]).into_owned()))
            })
            .collect()
    }

    fn abs(b: &str, r: &str) -> String {
        String::from_utf8(absolute(b.as_bytes(), r.as_bytes())).unwrap()
    }

    fn dots(p: &str) -> String {
        String::from_utf8(remove_dots(p.as_bytes())).unwrap()
    }

    #[test]
    fn split_keeps_luasocket_fields() {
        let p = parts("http://us:er:pw@[::1]:8080/a/b;p=1?q=2#frag");
        let want = [
            (SCHEME, "http"),
            (AUTHORITY, "us:er:pw@[::1]:8080"),
            (USERINFO, "us:er:pw"),
            (USER, "us:er"),
            (PASSWORD, "pw"),
            (HOST, "::1"),
            (PORT, "8080"),
            (PATH, "/a/b"),
            (PARAMS, "p=1"),
            (QUERY, "q=2"),
            (FRAGMENT, "frag"),
        ];
        let want: Vec<(usize, String)> = want.iter().map(|(i, s)| (*i, s.to_string())).collect();
        assert_eq!(p, want);
        // A port that is not a number stays text; the authority holds ? and #.
        let p = parts("http://h:abc?x#y/z");
        assert!(p.contains(&(PORT, "abc?x#y".into())));
        assert!(p.contains(&(PATH, "/z".into())));
        // The first @ ends the userinfo; an empty port is kept.
        let p = parts("//a@b@c:");
        assert!(p.contains(&(USERINFO, "a".into())));
        assert!(p.contains(&(HOST, "b@c".into())));
        assert!(p.contains(&(PORT, "".into())));
        assert!(split(b"").iter().all(Option::is_none));
        // "[]" is a host as it is; a ":" followed by "]" is no port.
        assert!(parts("//[]").contains(&(HOST, "[]".into())));
        assert!(parts("//[a:b]").contains(&(HOST, "a:b".into())));
        assert_eq!(parts("1:").first(), Some(&(SCHEME, "1".into())));
        assert_eq!(parts("-a:b").first(), Some(&(PATH, "-a:b".into())));
    }

    #[test]
    fn dots_follow_luasocket() {
        assert_eq!(dots("/a/b/../c"), "/a/c");
        assert_eq!(dots("a/../../b"), "../b");
        assert_eq!(dots("../../x"), "x");
        assert_eq!(dots("/a/.."), "/");
        assert_eq!(dots("a/../"), "");
        assert_eq!(dots("/../a"), "/a");
        assert_eq!(dots("x/."), "x/");
        assert_eq!(dots("a//../b"), "a/b");
        assert_eq!(dots("/./././"), "/");
        assert_eq!(dots("http://a/../x"), "http://x");
        assert_eq!(dots("a\x01b"), "ab");
        assert_eq!(dots(""), "");
    }

    #[test]
    fn absolute_follows_luasocket() {
        let base = "http://a/b/c/d;p?q";
        assert_eq!(abs(base, "g?y/./x"), "http://a/b/c/g?y/x");
        assert_eq!(abs(base, "g#s/./x"), "http://a/b/c/g#s/x");
        assert_eq!(abs(base, ";x"), "http://a/b/c/d;x");
        assert_eq!(abs(base, ""), base);
        assert_eq!(abs(base, "../../../g"), "http://a/g");
        assert_eq!(abs(base, "?y"), "http://a/b/c/d;p?y");
        assert_eq!(abs(base, "g:h"), "g:h");
        assert_eq!(abs("x", "y"), "/y");
        assert_eq!(abs("", "a/./b"), "a/b");
        assert_eq!(abs("http://h:1:2/", "//u@[::1]:3/p"), "http://u@[::1]:3/p");
    }
}
