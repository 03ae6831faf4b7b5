//! JSON lines: one object per line; fields by dotted path (`contact.mail`).
//!
//! The columns are the distinct dotted paths of string and number values seen in the
//! detection sample, in first-seen order (arrays are not descended into). Keys are matched by
//! the same synonyms as CSV headers, on the path's last segment; `--map email=contact.mail`
//! names a path, also one the sample did not show. A line that is not a JSON object is
//! skipped and counted as a syntax error. Detection parses sample lines into
//! [`serde_json::Value`]s; reading walks each line along the mapped paths only (module `walk`).

// Reviewed (#11): `body_start` is at most the data length (sniffed from it); `text[column]` only
// when `set.get(column)` is true (same length).
#![allow(clippy::indexing_slicing)]

use serde_json::Value;

use super::format::{Event, Fields, Format, Layout, RecordReader};
use super::lines::{for_each_line, Line};
use super::{ChunkStats, ColumnOverride, ColumnRef, DumpError};
use crate::dump::Malformed;
use walk::{PathTree, Values};

mod walk;

/// Lines of the sample looked at for paths.
const SAMPLE_LINES: usize = 1000;

/// The last segment of a dotted path.
fn last_segment(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// Appends the dotted paths of the leaves of `value` not yet in `out`.
fn collect_paths(value: &Value, prefix: &mut String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let len = prefix.len();
                if len > 0 {
                    prefix.push('.');
                }
                prefix.push_str(k);
                collect_paths(v, prefix, out);
                prefix.truncate(len);
            }
        }
        Value::String(_) | Value::Number(_) if !out.iter().any(|p| p == prefix) => {
            out.push(prefix.clone());
        }
        _ => {}
    }
}

/// The layout of a JSON lines input: the paths seen in the sample, mapped by synonyms.
pub fn layout(data: &[u8], overrides: &[ColumnOverride]) -> Result<Layout, DumpError> {
    let dialect = Layout::text_dialect(data, b',')?;
    let body = &data[dialect.body_start..];
    let mut columns = Vec::new();
    let mut prefix = String::new();
    let mut objects = 0;
    for line in body.split(|&b| b == b'\n').take(SAMPLE_LINES) {
        if let Ok(v @ Value::Object(_)) = serde_json::from_slice::<Value>(line) {
            collect_paths(&v, &mut prefix, &mut columns);
            objects += 1;
        }
    }
    if objects == 0 && !body.trim_ascii().is_empty() {
        return Err(DumpError::WrongFormat {
            format: "jsonl",
            reason: "no line of the sample is a JSON object",
        });
    }
    for ov in overrides {
        if let ColumnRef::Name(name) = &ov.column {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    let mapping = super::columns::map_columns_by(&columns, overrides, last_segment)?;
    Ok(Layout { format: Format::JsonLines, dialect, columns, mapping, sql: None })
}

/// [`RecordReader`] for JSON lines: walks each line's object along the mapped paths
/// (module `walk`), keeps their text.
pub struct JsonReader {
    /// Mapped columns and their path segments, as a tree.
    tree: PathTree,
    values: Values,
}

impl Fields for Values {
    fn get(&self, column: usize) -> Option<&str> {
        self.set.get(column).copied().unwrap_or(false).then(|| self.text[column].as_str())
    }
}

impl JsonReader {
    /// A reader for `layout`'s mapped paths.
    pub fn new(layout: &Layout) -> JsonReader {
        let paths: Vec<(usize, Vec<String>)> = layout
            .mapping
            .columns()
            .into_iter()
            .filter_map(|c| {
                let path = layout.columns.get(c)?;
                Some((c, path.split('.').map(str::to_owned).collect()))
            })
            .collect();
        JsonReader { tree: PathTree::new(&paths), values: Values::new(layout.columns.len()) }
    }
}

impl RecordReader for JsonReader {
    fn read(
        &mut self,
        chunk: &[u8],
        base: u64,
        on: &mut dyn FnMut(Event<'_>),
    ) -> Result<ChunkStats, DumpError> {
        Ok(for_each_line(chunk, base, |line| match line {
            Line::Oversized(pos) => on(Event::Skipped(Malformed::Oversized, pos)),
            Line::Text(text, pos) => match walk::read_object(text, &self.tree, &mut self.values) {
                Ok(()) => on(Event::Record(&self.values, pos)),
                Err(_) => on(Event::Skipped(Malformed::Syntax, pos)),
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::Field;
    use proptest::prelude::*;

    fn read(data: &[u8], overrides: &[ColumnOverride]) -> (Layout, Vec<Vec<Option<String>>>, u64) {
        let layout = layout(data, overrides).unwrap();
        let mut reader = layout.reader();
        let (mut rows, mut bad) = (Vec::new(), 0);
        let n = layout.columns.len();
        reader
            .read(data, 0, &mut |e| match e {
                Event::Record(f, _) => {
                    rows.push((0..n).map(|c| f.get(c).map(str::to_owned)).collect())
                }
                _ => bad += 1,
            })
            .unwrap();
        (layout, rows, bad)
    }

    #[test]
    fn maps_nested_keys_by_synonym_of_the_last_segment() {
        let data = br#"{"id":1,"contact":{"mail":"a@b.de","tel":"0171 1"},"kvnr":"A123456780"}
{"contact":{"mail":"c@d.de"},"kvnr":"Z987654321"}
not json
"#;
        let (layout, rows, bad) = read(data, &[]);
        let col = |name: &str| layout.columns.iter().position(|c| c == name);
        assert_eq!(layout.columns.len(), 4);
        assert_eq!(layout.mapping.column(Field::Email), col("contact.mail"));
        assert_eq!(layout.mapping.column(Field::Phone), col("contact.tel"));
        assert_eq!(layout.mapping.column(Field::Kvnr), col("kvnr"));
        assert_eq!(rows[1][col("contact.mail").unwrap()].as_deref(), Some("c@d.de"));
        assert_eq!(rows[1][col("contact.tel").unwrap()], None, "a missing key is absent");
        assert_eq!(bad, 1);
    }

    /// The reading the walker replaced: parse into a `Value`, look each path up.
    fn reference(line: &[u8], paths: &[(usize, Vec<String>)], n: usize) -> Option<Values> {
        let object @ Value::Object(_) = serde_json::from_slice::<Value>(line).ok()? else {
            return None;
        };
        let mut values = Values::new(n);
        for (column, segments) in paths {
            let leaf = segments.iter().try_fold(&object, |v, s| v.get(s.as_str()));
            let text = match leaf {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            values.text[*column] = text;
            values.set[*column] = true;
        }
        Some(values)
    }

    /// JSON text (not `Value`s, so that keys can repeat) over a few keys, with escapes,
    /// numbers of every form, literals, arrays and nesting.
    fn json_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just(r#""a@b.de""#.to_string()),
            Just(r#""esc \" \\ \n \u00fc \ud83d\ude00""#.to_string()),
            Just(r#""""#.to_string()),
            Just("4917112345".to_string()),
            Just("-12".to_string()),
            Just("1.5e3".to_string()),
            Just("0.1".to_string()),
            Just("123456789012345678901234567890".to_string()),
            Just("-0".to_string()),
            Just("true".to_string()),
            Just("null".to_string()),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            let key = prop_oneof![Just("a"), Just("b"), Just("mail"), Just("x"), Just(r"k\u0061")];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                proptest::collection::vec((key, inner), 0..5).prop_map(|kv| {
                    let kv: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
                    format!("{{{}}}", kv.join(", "))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn walker_reads_what_a_value_lookup_reads(text in json_text(), cut in 0usize..200) {
            let paths: Vec<(usize, Vec<String>)> = ["a", "a.b", "mail", "x.mail", "a.b.mail", "ka"]
                .iter()
                .enumerate()
                .map(|(c, p)| (c, p.split('.').map(str::to_owned).collect()))
                .collect();
            let tree = PathTree::new(&paths);
            // The whole text, and a cut one (mostly broken).
            let bytes = text.as_bytes();
            for line in [bytes, &bytes[..cut.min(bytes.len())]] {
                let mut values = Values::new(paths.len());
                let walked = walk::read_object(line, &tree, &mut values).ok().map(|()| values);
                let expected = reference(line, &paths, paths.len());
                prop_assert_eq!(walked.is_some(), expected.is_some(), "{}", text);
                if let (Some(w), Some(e)) = (walked, expected) {
                    for c in 0..paths.len() {
                        prop_assert_eq!(w.set[c], e.set[c], "column {} of {}", c, text);
                        if e.set[c] {
                            prop_assert_eq!(&w.text[c], &e.text[c]);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn map_names_a_dotted_path_and_numbers_become_text() {
        let data = br#"{"a":{"b":"x@y.de"},"n":{"phone":4917112345}}"#;
        let ov: ColumnOverride = "email=a.b".parse().unwrap();
        let (layout, rows, _) = read(data, &[ov]);
        let email = layout.mapping.column(Field::Email).unwrap();
        let phone = layout.mapping.column(Field::Phone).unwrap();
        assert_eq!(rows[0][email].as_deref(), Some("x@y.de"));
        assert_eq!(rows[0][phone].as_deref(), Some("4917112345"));
    }
}
