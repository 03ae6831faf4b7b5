//! Which [`Format`] an input is in, from the content of its start (`--format auto`).
//!
//! Rules, in order, on the non-blank lines of the sample (after a UTF-8 BOM):
//! 1. JSON lines: the first line starts with `{` and most sampled lines parse as JSON objects.
//! 2. SQL: a line starts with `INSERT INTO`, `INSERT IGNORE INTO`, `REPLACE INTO`,
//!    `COPY ... FROM stdin` or `CREATE TABLE`, and the first line looks like SQL (a comment
//!    `--`/`/*`, or one of those keywords, `SET`, `DROP`, `LOCK`, `USE`, `BEGIN`).
//! 3. Combo list: every sampled line is `something@domain.tld` followed by `:`, `;` or `|`,
//!    unless every line has the same separator (not `:`) the same number of times, two or
//!    more (a delimited file whose first column is an e-mail).
//! 4. Anything else is delimited text.

// Reviewed (#11): prefix slices are `..len.min(..)` or after a length check (`is_jsonl` gets the
// non-empty `lines` of `format`); `k` is a memchr hit in `line`; `seps[0]` only when `csv_like` saw
// a first entry.
#![allow(clippy::indexing_slicing)]

use super::format::Format;

/// Lines of the sample looked at.
const SAMPLE_LINES: usize = 200;

/// The format of the input starting with `head`.
pub fn format(head: &[u8]) -> Format {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let head = &head[..head.len().min(super::decode::SAMPLE_LEN)];
    let lines: Vec<&[u8]> = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
        .take(SAMPLE_LINES)
        .collect();
    let Some(first) = lines.first() else {
        return Format::Delimited;
    };
    if first.starts_with(b"{") && is_jsonl(&lines) {
        Format::JsonLines
    } else if is_sql(first, &lines) {
        Format::Sql
    } else if is_combo(&lines) {
        Format::Combo
    } else {
        Format::Delimited
    }
}

fn is_jsonl(lines: &[&[u8]]) -> bool {
    // The last line of the sample may be cut.
    let checked = &lines[..lines.len().saturating_sub(1).max(1)];
    let ok = checked
        .iter()
        .filter(|l| matches!(serde_json::from_slice(l), Ok(serde_json::Value::Object(_))))
        .count();
    ok * 2 > checked.len()
}

fn starts_with_ci(line: &[u8], word: &str) -> bool {
    line.len() >= word.len() && line[..word.len()].eq_ignore_ascii_case(word.as_bytes())
}

/// Whether `line` starts an SQL statement that carries data or names columns.
pub fn is_data_statement(line: &[u8]) -> bool {
    ["INSERT INTO", "INSERT IGNORE INTO", "REPLACE INTO", "CREATE TABLE"]
        .iter()
        .any(|w| starts_with_ci(line, w))
        || (starts_with_ci(line, "COPY ")
            && line.windows(10).any(|w| w.eq_ignore_ascii_case(b"FROM stdin")))
}

fn is_sql(first: &[u8], lines: &[&[u8]]) -> bool {
    let sqlish = ["--", "/*", "SET ", "DROP ", "LOCK ", "USE ", "BEGIN", "SELECT "]
        .iter()
        .any(|w| starts_with_ci(first, w))
        || is_data_statement(first);
    sqlish && lines.iter().any(|l| is_data_statement(l))
}

fn is_combo(lines: &[&[u8]]) -> bool {
    let mut seps = Vec::with_capacity(lines.len());
    for line in lines {
        let Some(k) = memchr::memchr3(b':', b';', b'|', line) else {
            return false;
        };
        let email = line[..k].trim_ascii();
        let Some(at) = memchr::memchr(b'@', email) else {
            return false;
        };
        if at == 0 || !email[at..].contains(&b'.') || email.iter().any(|b| b" ,\t\"".contains(b)) {
            return false;
        }
        seps.push((line[k], line.iter().filter(|&&b| b == line[k]).count()));
    }
    // A delimited file whose first column is an e-mail: one separator, the same count of
    // fields (3 or more) on every line.
    let csv_like = seps.windows(2).all(|w| w[0] == w[1]) && seps.first().is_some_and(|s| s.1 >= 2);
    !csv_like || seps[0].0 == b':'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_formats_apart() {
        let cases: &[(&[u8], Format)] = &[
            (b"{\"a\":1}\n{\"b\":2}\n", Format::JsonLines),
            (b"-- MySQL dump\nINSERT INTO `t` VALUES (1);\n", Format::Sql),
            (b"COPY public.t (a, b) FROM stdin;\n1\t2\n\\.\n", Format::Sql),
            (b"a@b.de:pw\nc@d.de:p:w\n", Format::Combo),
            (b"a@b.de;pw\nc@d.de;x\n", Format::Combo),
            (b"a@b.de;p;w\nc@d.de|x\ne@f.de:x:y\n", Format::Combo),
            (b"a@b.de;Mueller;Hans\nc@d.de;X;Y\n", Format::Delimited),
            (b"email;name\na@b.de;x\n", Format::Delimited),
            (b"", Format::Delimited),
        ];
        for &(data, want) in cases {
            assert_eq!(format(data), want, "{}", String::from_utf8_lossy(data));
        }
    }
}
