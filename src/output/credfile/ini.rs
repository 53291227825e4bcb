//! The credentials file edited line by line, as aws-config reads it: sections found, values
//! replaced in place, sections added or removed, and every byte that is not changed kept as it
//! was (comments, spacing, line ends, other profiles).

use crate::creds::Keys;

/// `bytes` without the key lines of section `name` (every occurrence); a section left with no
/// property and no comment is removed with its header, the blank lines between them too.
pub(super) fn without_keys(bytes: &[u8], name: &str) -> Vec<u8> {
    let all = lines(bytes);
    let mut drop = vec![false; all.len()];
    for (first, last) in occurrences(bytes, &all, name) {
        let mut left = 0;
        for i in first + 1..=last {
            let content = &bytes[all[i].start..all[i].end];
            match kind(content) {
                Kind::Content => {}
                // The user's note stays, and so does the section it sits in.
                Kind::Comment => {
                    left += 1;
                    continue;
                }
                Kind::Blank | Kind::Header => continue,
            }
            let is_key = !content.starts_with(b" ")
                && !content.starts_with(b"\t")
                && property(content)
                    .is_some_and(|(k, _)| k == "aws_access_key_id" || k == "aws_secret_access_key");
            if is_key {
                drop[i] = true;
            } else {
                left += 1;
            }
        }
        if left == 0 {
            for flag in &mut drop[first..=last] {
                *flag = true;
            }
        }
    }
    let mut out = Vec::with_capacity(bytes.len());
    for (line, dropped) in all.iter().zip(drop) {
        if !dropped {
            out.extend_from_slice(&bytes[line.start..line.next]);
        }
    }
    out
}

/// One line of the file: `start..end` its content, `start..next` with its line end.
#[derive(Debug, Clone, Copy)]
pub(super) struct Line {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) next: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Blank,
    Comment,
    Header,
    /// A property or a continuation line: part of the section's content.
    Content,
}

pub(super) fn lines(bytes: &[u8]) -> Vec<Line> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let (end, next) = match bytes[start..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let nl = start + i;
                let end = if nl > start && bytes[nl - 1] == b'\r' {
                    nl - 1
                } else {
                    nl
                };
                (end, nl + 1)
            }
            None => (bytes.len(), bytes.len()),
        };
        out.push(Line { start, end, next });
        start = next;
    }
    out
}

pub(super) fn kind(content: &[u8]) -> Kind {
    if content.iter().all(|&b| b == b' ' || b == b'\t') {
        Kind::Blank
    } else if content.starts_with(b"#") || content.starts_with(b";") {
        Kind::Comment
    } else if content.starts_with(b"[") {
        Kind::Header
    } else {
        Kind::Content
    }
}

pub(super) fn trim_ws(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}

/// The profile a header line names, as aws-config reads a credentials file: the text between
/// the brackets (a comment after `]` cut off), trimmed. `None` for a malformed header.
pub(super) fn header_name(content: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(content);
    let text = trim_ws(&text);
    let text = trim_ws(text.split(['#', ';']).next().unwrap_or(""));
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    Some(trim_ws(inner).to_owned())
}

/// A property line's key (lowercased) and value, as aws-config reads it: a comment needs
/// whitespace before its `#`/`;`.
pub(super) fn property(content: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(content);
    let text = trim_ws(&text);
    let mut cut = text.len();
    let mut prev_ws = false;
    for (i, c) in text.char_indices() {
        if (c == '#' || c == ';') && prev_ws {
            cut = i;
            break;
        }
        prev_ws = c.is_whitespace();
    }
    let (key, value) = text[..cut].split_once('=')?;
    Some((trim_ws(key).to_ascii_lowercase(), trim_ws(value).to_owned()))
}

/// Every occurrence of section `name`, as line ranges: the header through its last property or
/// continuation line. Comments and blank lines after that are left to what follows (a comment
/// above a section header describes that section).
pub(super) fn occurrences(bytes: &[u8], all: &[Line], name: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let content = &bytes[all[i].start..all[i].end];
        if kind(content) != Kind::Header || header_name(content).as_deref() != Some(name) {
            i += 1;
            continue;
        }
        let first = i;
        let mut last = i;
        i += 1;
        while i < all.len() {
            match kind(&bytes[all[i].start..all[i].end]) {
                Kind::Header => break,
                Kind::Content => last = i,
                Kind::Blank | Kind::Comment => {}
            }
            i += 1;
        }
        out.push((first, last));
    }
    out
}

/// The properties of section `name` (all its occurrences, which the SDKs merge).
pub(super) fn section_properties(bytes: &[u8], name: &str) -> Vec<(String, String)> {
    let all = lines(bytes);
    occurrences(bytes, &all, name)
        .into_iter()
        .flat_map(|(first, last)| (first + 1..=last).map(|i| all[i]).collect::<Vec<_>>())
        .filter_map(|line| {
            let content = &bytes[line.start..line.end];
            if content.starts_with(b" ") || content.starts_with(b"\t") {
                return None;
            }
            if kind(content) == Kind::Content {
                property(content)
            } else {
                None
            }
        })
        .collect()
}

/// The `aws_access_key_id` and `aws_secret_access_key` lines of section `name` (every
/// occurrence) that hold a value: the line number (from 1), the key, the value.
pub(super) fn key_lines(bytes: &[u8], name: &str) -> Vec<(usize, String, String)> {
    let all = lines(bytes);
    occurrences(bytes, &all, name)
        .into_iter()
        .flat_map(|(first, last)| first + 1..=last)
        .filter_map(|i| {
            let content = &bytes[all[i].start..all[i].end];
            if content.starts_with(b" ")
                || content.starts_with(b"\t")
                || kind(content) != Kind::Content
            {
                return None;
            }
            let (key, value) = property(content)?;
            (matches!(key.as_str(), "aws_access_key_id" | "aws_secret_access_key")
                && !value.is_empty())
            .then_some((i + 1, key, value))
        })
        .collect()
}

/// When section `name` holds more than one value of `aws_access_key_id` or of
/// `aws_secret_access_key` (two sections of one name, or a key line repeated): that key and the
/// numbers of its lines. The SDKs use the last; deleting them all would lose the others.
pub(super) fn conflicting_keys(bytes: &[u8], name: &str) -> Option<(&'static str, Vec<usize>)> {
    let found = key_lines(bytes, name);
    ["aws_access_key_id", "aws_secret_access_key"]
        .into_iter()
        .find_map(|key| {
            let of_key: Vec<&(usize, String, String)> =
                found.iter().filter(|(_, k, _)| k == key).collect();
            of_key
                .iter()
                .any(|(_, _, v)| v != &of_key[0].2)
                .then(|| (key, of_key.iter().map(|(n, _, _)| *n).collect()))
        })
}

/// Whether section `name` holds `key_id` (the last value, which the SDKs use) and a secret.
pub(super) fn section_holds_key(bytes: &[u8], name: &str, key_id: &str) -> bool {
    let props = section_properties(bytes, name);
    let last = |key: &str| {
        props
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    last("aws_access_key_id") == Some(key_id)
        && last("aws_secret_access_key").is_some_and(|v| !v.is_empty())
}

/// `bytes` with the values of `aws_access_key_id` and `aws_secret_access_key` in section `name`
/// (every occurrence) replaced by `keys`'; the keys' spelling, spacing, comments and line ends
/// stay as they were.
pub(super) fn with_keys(bytes: &[u8], name: &str, keys: &Keys) -> Vec<u8> {
    let all = lines(bytes);
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let mut kept_from = 0;
    for (first, last) in occurrences(bytes, &all, name) {
        for line in &all[first + 1..=last] {
            let content = &bytes[line.start..line.end];
            if content.starts_with(b" ") || content.starts_with(b"\t") {
                continue;
            }
            let value = match property(content) {
                Some((key, _)) if key == "aws_access_key_id" => keys.access_key_id.as_str(),
                Some((key, _)) if key == "aws_secret_access_key" => keys.secret_access_key.expose(),
                _ => continue,
            };
            let Some((from, to)) = value_span(content) else {
                continue;
            };
            out.extend_from_slice(&bytes[kept_from..line.start + from]);
            out.extend_from_slice(value.as_bytes());
            kept_from = line.start + to;
        }
    }
    out.extend_from_slice(&bytes[kept_from..]);
    out
}

/// Where a property line's value is, as `property` reads it: after `=` and its blanks, before
/// a comment (which needs whitespace before its `#`/`;`) and the blanks before that.
pub(super) fn value_span(content: &[u8]) -> Option<(usize, usize)> {
    let eq = content.iter().position(|&b| b == b'=')?;
    let mut start = eq + 1;
    while start < content.len() && matches!(content[start], b' ' | b'\t') {
        start += 1;
    }
    let mut end = content.len();
    let mut prev_ws = false;
    for (i, &b) in content.iter().enumerate() {
        if (b == b'#' || b == b';') && prev_ws {
            end = i;
            break;
        }
        prev_ws = b.is_ascii_whitespace();
    }
    if end <= eq {
        return None;
    }
    while end > start && matches!(content[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    Some((start, end.max(start)))
}

/// `bytes` with section `name` holding `entries`: its first occurrence replaced in place (later
/// ones removed, as the SDKs would merge them), else the section appended. Every other byte is
/// kept. New lines end like the section's header, else like the file's first line, else `\n`.
pub(crate) fn with_section(bytes: &[u8], name: &str, entries: &[(&str, String)]) -> Vec<u8> {
    let all = lines(bytes);
    let found = occurrences(bytes, &all, name);
    let eol_of = |line: &Line| -> Option<&[u8]> {
        (line.next > line.end).then(|| &bytes[line.end..line.next])
    };
    let eol: Vec<u8> = found
        .first()
        .and_then(|&(first, _)| eol_of(&all[first]))
        .or_else(|| all.iter().find_map(eol_of))
        .unwrap_or(b"\n")
        .to_vec();
    let mut block: Vec<Vec<u8>> = vec![format!("[{name}]").into_bytes()];
    block.extend(
        entries
            .iter()
            .map(|(k, v)| format!("{k} = {v}").into_bytes()),
    );
    let render = |final_eol: bool| -> Vec<u8> {
        let mut out = Vec::new();
        for (i, line) in block.iter().enumerate() {
            out.extend_from_slice(line);
            if i + 1 < block.len() || final_eol {
                out.extend_from_slice(&eol);
            }
        }
        out
    };

    let Some(&(first, last)) = found.first() else {
        let mut out = bytes.to_vec();
        if !out.is_empty() {
            if !out.ends_with(b"\n") {
                out.extend_from_slice(&eol);
            }
            let last_line = all.last().expect("a non-empty file has a line");
            if kind(&bytes[last_line.start..last_line.end]) != Kind::Blank {
                out.extend_from_slice(&eol);
            }
        }
        out.extend_from_slice(&render(true));
        return out;
    };
    let mut out = Vec::with_capacity(bytes.len() + 2048);
    out.extend_from_slice(&bytes[..all[first].start]);
    out.extend_from_slice(&render(all[last].next > all[last].end));
    let mut kept_from = all[last].next;
    for &(first, last) in &found[1..] {
        out.extend_from_slice(&bytes[kept_from..all[first].start]);
        kept_from = all[last].next;
    }
    out.extend_from_slice(&bytes[kept_from..]);
    out
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------
