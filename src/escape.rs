//! Text from inputs (object names, `# Source:` lines, file names, Lua error
//! messages, pool names, keys) made safe for a terminal or a CI log.
//!
//! A rendering is hostile: an object name may carry an escape sequence (an
//! OSC 52 clipboard write, a colour that hides the rest of the line), a
//! carriage return that overwrites what was printed, a newline that forges a
//! report line (`0 errors`), or a Unicode bidi override that shows text in
//! another order than it is. Every human-facing writer passes such text
//! through [`line`] (one line) or [`lines`] (a message whose line breaks are
//! kept); `route`, `diff` and `graph` text outputs should too.
//!
//! What is escaped, as `\n`, `\r`, `\t` or `\u{XX}`:
//! - C0 controls (U+0000–U+001F) and DEL, including ESC;
//! - C1 controls (U+0080–U+009F), including NEL (U+0085) and CSI (U+009B);
//! - bidi controls: U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069;
//! - the line and paragraph separators U+2028 and U+2029.
//!
//! A tab is kept in [`lines`] (it moves the cursor, nothing more) and escaped
//! in [`line`], where it would break column alignment.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Is `c` unsafe to print as is?
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `s` as one line: every unsafe character escaped, line breaks included.
pub fn line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` with its line breaks kept (`\r\n` and a lone `\r` become `\n`, so a
/// carriage return cannot overwrite a line) and every other unsafe character
/// escaped. Callers indent continuation lines so that none can pass for a
/// line of the report.
pub fn lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && c != '\t' && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            c if is_unsafe(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `s` safe to print to a terminal or a CI log: control characters, line
/// and paragraph separators and bidirectional overrides as escapes (`\n`,
/// `\u{1b}`, ...), and a backslash as `\\` when anything else was escaped
/// (so an escape in the text cannot pass for one of ours).
pub fn shown(s: &str) -> std::borrow::Cow<'_, str> {
    escaped(s, false)
}

/// As [`shown`], but a tab is left as it is (lines of a config or manifest,
/// where tabs are indentation and cannot forge anything).
pub fn shown_keeping_tabs(s: &str) -> std::borrow::Cow<'_, str> {
    escaped(s, true)
}

fn escaped(s: &str, keep_tabs: bool) -> std::borrow::Cow<'_, str> {
    // Printable ASCII (the usual key or address) has nothing to escape: one
    // pass over the bytes instead of decoding characters.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let unsafe_char = |c: char| -> bool { is_unsafe(c) && !(keep_tabs && c == '\t') };
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' if !keep_tabs => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Writes `s` as a JSON string (quotes included), escaped exactly as
/// serde_json escapes it: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other
/// controls below U+0020 as `\u00xx`; everything else as is. Runs of bytes
/// that need nothing are written in one piece.
pub fn write_json_string<W: std::io::Write + ?Sized>(out: &mut W, s: &str) -> std::io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    out.write_all(b"\"")?;
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c >= 0x20 && c != b'"' && c != b'\\' {
            continue;
        }
        if start < i {
            out.write_all(&b[start..i])?;
        }
        start = i + 1;
        match c {
            b'"' => out.write_all(b"\\\"")?,
            b'\\' => out.write_all(b"\\\\")?,
            0x08 => out.write_all(b"\\b")?,
            0x0c => out.write_all(b"\\f")?,
            b'\n' => out.write_all(b"\\n")?,
            b'\r' => out.write_all(b"\\r")?,
            b'\t' => out.write_all(b"\\t")?,
            c => out.write_all(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 0xf)],
            ])?,
        }
    }
    if start < b.len() {
        out.write_all(&b[start..])?;
    }
    out.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_match_serde_json() {
        let mut all = String::new();
        for c in (0u32..0x100).chain([0x2028, 0x202e, 0x1f600]) {
            all.push(char::from_u32(c).unwrap());
        }
        for s in [
            "",
            "plain",
            "a\"b\\c",
            "\u{1b}[31m\r\n\t\u{8}\u{c}\u{7f}",
            "é☕",
            &all,
        ] {
            let mut ours = Vec::new();
            write_json_string(&mut ours, s).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn escapes_what_a_terminal_would_act_on() {
        assert_eq!(line("plain-name"), "plain-name");
        assert!(matches!(line("plain"), Cow::Borrowed(_)));
        assert_eq!(line("a\u{1b}]52;c;aGk=\u{7}b"), "a\\u{1b}]52;c;aGk=\\u{7}b");
        assert_eq!(line("x\r\n0 errors"), "x\\r\\n0 errors");
        assert_eq!(line("\u{202e}gnp.exe"), "\\u{202e}gnp.exe");
        assert_eq!(
            line("a\u{2028}b\u{85}c\u{9b}d"),
            "a\\u{2028}b\\u{85}c\\u{9b}d"
        );
        assert_eq!(line("tab\there"), "tab\\there");
        assert_eq!(line("café ☕ 漢字"), "café ☕ 漢字");
    }

    #[test]
    fn keeps_line_breaks_in_messages() {
        assert_eq!(lines("one\ntwo\tcols"), "one\ntwo\tcols");
        assert_eq!(lines("one\r\ntwo\rthree"), "one\ntwo\nthree");
        assert_eq!(lines("a\u{1b}[2Jb\u{2029}"), "a\\u{1b}[2Jb\\u{2029}");
    }
}
