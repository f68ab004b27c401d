//! Making untrusted strings safe to show. Tags, outputs and names come from AWS (or from a
//! bundle anyone could have edited) and may hold terminal escape sequences, other control
//! characters or bidi overrides; none of them may reach a terminal raw.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

/// Characters that must never be printed raw: C0/C1 controls and DEL, bidi embedding,
/// override and isolate controls, the Unicode line and paragraph separators, and invisible
/// characters that could make two different names look the same (zero-width spaces and
/// joiners, word joiner, soft hyphen, the byte-order mark, Hangul fillers, variation
/// selectors). All of them are in the Basic Multilingual Plane.
#[must_use]
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// `s` on one line with every unsafe character (line breaks included) shown as a visible
/// `\u{…}` escape: the form every AWS value takes inside a comment, a YAML line or any other
/// text that a user may paste into a shell.
#[must_use]
pub fn inline(s: &str) -> Cow<'_, str> {
    terminal_safe(s)
}

/// `s` with every unsafe character written as a visible `\u{…}` escape.
#[must_use]
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Pretty JSON in which, beyond what JSON requires, every unsafe character is `\uXXXX`-escaped,
/// so `eksdrift audit -o json` on a terminal cannot be hijacked by a hostile tag.
pub fn write_json_safe<W: io::Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> io::Result<()> {
    let mut ser =
        serde_json::Serializer::with_formatter(writer, SafeFormatter(PrettyFormatter::new()));
    value
        .serialize(&mut ser)
        .map_err(|e| match e.io_error_kind() {
            // Keep the kind, so a closed pipe is still recognisable as one.
            Some(kind) => io::Error::new(kind, e),
            None => io::Error::other(e),
        })
}

struct SafeFormatter<'a>(PrettyFormatter<'a>);

impl Formatter for SafeFormatter<'_> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe_char(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                // Every unsafe character is in the Basic Multilingual Plane.
                write!(w, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `%XX` sequences decoded (`+` kept as it is); `None` when the result is not UTF-8.
#[must_use]
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `pattern` with `*` (any run) and `?` (one character) matches all of `value`. Patterns from
/// AWS policies are untrusted: the pattern is cut at its stars into segments, the first and last
/// anchored, each middle one matched at its leftmost place after the one before (leftmost is
/// always right for `*`), found by a bit-parallel scan (Shift-And, `?` included). The value is
/// read once per segment scan, and the scans only move forward: time is linear in the value
/// for segments of up to 64 characters (longer ones cost a factor of their length / 64).
#[must_use]
pub fn glob_match(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let segments: Vec<&[char]> = p.split(|c| *c == '*').collect();
    let [first, middle @ .., last] = segments.as_slice() else {
        // No star: one segment, the whole value.
        return segment_at(segments[0], &v, 0) && segments[0].len() == v.len();
    };
    if v.len() < first.len() + last.len()
        || !segment_at(first, &v, 0)
        || !segment_at(last, &v, v.len() - last.len())
    {
        return false;
    }
    let end = v.len() - last.len();
    let mut at = first.len();
    for seg in middle.iter().filter(|s| !s.is_empty()) {
        match find_segment(seg, &v[at..end]) {
            Some(found) => at += found + seg.len(),
            None => return false,
        }
    }
    true
}

#[cfg(test)]
thread_local! {
    /// Characters the glob matcher read, for the growth test.
    static GLOB_STEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
fn step(n: usize) {
    GLOB_STEPS.with(|s| s.set(s.get() + n as u64));
}

#[cfg(not(test))]
fn step(_: usize) {}

/// `seg` (with `?`) matches `v` at `at`.
fn segment_at(seg: &[char], v: &[char], at: usize) -> bool {
    step(seg.len());
    v.len() >= at + seg.len() && seg.iter().zip(&v[at..]).all(|(p, c)| *p == '?' || p == c)
}

/// The leftmost place `seg` (with `?`) matches in `text`: Shift-And over 64-character blocks
/// of the segment.
fn find_segment(seg: &[char], text: &[char]) -> Option<usize> {
    let block = &seg[..seg.len().min(64)];
    let k = block.len();
    let mut masks: std::collections::HashMap<char, u64> = std::collections::HashMap::new();
    let mut wild = 0u64;
    for (i, c) in block.iter().enumerate() {
        if *c == '?' {
            wild |= 1 << i;
        } else {
            *masks.entry(*c).or_default() |= 1 << i;
        }
    }
    let done = 1u64 << (k - 1);
    let mut state = 0u64;
    for (i, c) in text.iter().enumerate() {
        step(1);
        state = ((state << 1) | 1) & (masks.get(c).copied().unwrap_or(0) | wild);
        if state & done != 0 {
            let start = i + 1 - k;
            // A segment longer than a block: the rest must follow (rare: IAM patterns are short).
            if seg.len() == k || segment_at(seg, text, start) {
                return Some(start);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_iam_and_stay_linear() {
        assert!(glob_match(
            "system:serviceaccount:kube-system:*",
            "system:serviceaccount:kube-system:aws-node"
        ));
        assert!(glob_match("prod-?", "prod-a"));
        assert!(!glob_match("prod-?", "prod-ab"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "acd"));
        assert!(glob_match("*a*b*c", "xxaxxbxxc"));
        // A pattern built to make a recursive matcher take forever.
        let pattern = "*a".repeat(200) + "b";
        assert!(!glob_match(&pattern, &"a".repeat(5000)));
        assert!(glob_match("a*", "a"));
        assert!(!glob_match("ab*ba", "aba"));
        assert!(glob_match("ab*ba", "abba"));
        assert!(glob_match("?*?", "ab"));
        assert!(!glob_match("?*?", "a"));
        assert!(glob_match("*x?z*", "aaxyzaa"));
        assert!(glob_match("", ""));
        assert!(!glob_match("", "a"));
        let long = "ab?".repeat(40);
        assert!(glob_match(
            &format!("*{long}*"),
            &format!("zz{}zz", "abc".repeat(40))
        ));
        assert!(!glob_match(&format!("*{long}*"), &"ab".repeat(100)));
    }

    /// Growth, counted rather than timed: the characters the matcher reads for the worst
    /// patterns of a backtracking matcher (many stars, a near-miss tail) must grow linearly
    /// when the value and the pattern double together.
    #[test]
    fn glob_work_grows_linearly() {
        let steps = |n: usize| {
            GLOB_STEPS.with(|s| s.set(0));
            let pattern = "*a".repeat(n / 50) + "b";
            assert!(!glob_match(&pattern, &"a".repeat(n)));
            let near = format!("*{}b*", "a".repeat(40));
            assert!(!glob_match(&near, &"a".repeat(n)));
            GLOB_STEPS.with(std::cell::Cell::get)
        };
        let (one, two) = (steps(10_000), steps(20_000));
        assert!(two < 3 * one, "2x input took {two} steps against {one}");
    }

    #[test]
    fn escapes_reach_the_screen_escaped() {
        assert_eq!(terminal_safe("subnet-0aa"), "subnet-0aa");
        assert_eq!(terminal_safe("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(
            terminal_safe("x\u{202e}y\u{9b}z\n"),
            "x\\u{202e}y\\u{9b}z\\u{a}"
        );
    }

    #[test]
    fn invisible_characters_are_made_visible() {
        assert_eq!(inline("pr\u{200b}od"), "pr\\u{200b}od");
        assert_eq!(inline("\u{feff}prod\u{2060}"), "\\u{feff}prod\\u{2060}");
        assert_eq!(inline("a\r\nb"), "a\\u{d}\\u{a}b");
        assert_eq!(inline("prod-é"), "prod-é");
    }

    #[test]
    fn json_escapes_c1_and_bidi_and_stays_valid() {
        let v = serde_json::json!({"k": "a\u{1b}]8;;x\u{7}b\u{9b}c\u{202e}d\u{7f}é"});
        let mut out = Vec::new();
        write_json_safe(&mut out, &v).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.chars().any(is_unsafe_char)
                || text
                    .chars()
                    .filter(|c| is_unsafe_char(*c))
                    .all(|c| c == '\n'),
            "{text:?}"
        );
        assert!(
            text.contains("\\u009b")
                && text.contains("\\u202e")
                && text.contains("\\u007f")
                && text.contains('é')
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
