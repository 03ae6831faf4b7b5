//! Combo lists: `email:password`, `email;password`, `user@x.de|password`, one per line.
//!
//! Column 0 is the part before the first `:`, `;` or `|` (so a password may hold any of
//! them). The password part is dropped on the spot: the reader never copies, decodes, hashes,
//! counts or shows it; only the e-mail is exposed through [`Fields`].

use super::columns::{ColumnMapping, Why};
use super::format::{Event, Fields, Format, Layout, RecordReader};
use super::lines::{for_each_line, Line};
use super::{map_columns, ChunkStats, ColumnOverride, DumpError, FieldDecoder};
use crate::dump::Malformed;
use crate::ident::Field;

/// The separators between the e-mail and the password.
pub const SEPARATORS: [u8; 3] = [b':', b';', b'|'];

/// The e-mail part of a combo line, or `None` when the line has no separator.
pub fn email_part(line: &[u8]) -> Option<&[u8]> {
    let k = memchr::memchr3(SEPARATORS[0], SEPARATORS[1], SEPARATORS[2], line)?;
    line.get(..k).map(<[u8]>::trim_ascii)
}

/// The layout of a combo list: one column, `email`.
pub fn layout(data: &[u8], overrides: &[ColumnOverride]) -> Result<Layout, DumpError> {
    let dialect = Layout::text_dialect(data, b':')?;
    let columns = vec!["email".to_owned()];
    let mut mapping = map_columns(&columns, overrides)?;
    if overrides.is_empty() {
        mapping = ColumnMapping::default();
        mapping.fields.set(Field::Email, 0);
        mapping.reasons.push(super::ColumnReason {
            field: Field::Email,
            column: 0,
            header: None,
            why: Why::Format("combo list"),
        });
    }
    Ok(Layout { format: Format::Combo, dialect, columns, mapping, sql: None })
}

/// [`RecordReader`] for combo lists.
pub struct ComboReader {
    decoder: FieldDecoder,
}

impl ComboReader {
    /// A reader for `layout`'s encoding.
    pub fn new(layout: &Layout) -> ComboReader {
        ComboReader { decoder: FieldDecoder::new(layout.dialect.encoding) }
    }
}

/// The e-mail of the current line.
struct Email<'a>(&'a str);

impl Fields for Email<'_> {
    fn get(&self, column: usize) -> Option<&str> {
        (column == 0).then_some(self.0)
    }
}

impl RecordReader for ComboReader {
    fn read(
        &mut self,
        chunk: &[u8],
        base: u64,
        on: &mut dyn FnMut(Event<'_>),
    ) -> Result<ChunkStats, DumpError> {
        let decoder = &mut self.decoder;
        Ok(for_each_line(chunk, base, |line| match line {
            Line::Oversized(pos) => on(Event::Skipped(Malformed::Oversized, pos)),
            Line::Text(text, pos) => match email_part(text) {
                None => on(Event::Skipped(Malformed::Syntax, pos)),
                Some(part) => match decoder.decode(part) {
                    Err(_) => on(Event::Skipped(Malformed::Encoding, pos)),
                    Ok(s) => on(Event::Record(&Email(s), pos)),
                },
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emails(data: &[u8]) -> (Vec<String>, usize) {
        let layout = layout(data, &[]).unwrap();
        let mut reader = layout.reader();
        let (mut got, mut bad) = (Vec::new(), 0);
        reader
            .read(data, 0, &mut |e| match e {
                Event::Record(f, _) => got.push(f.get(0).unwrap().to_owned()),
                _ => bad += 1,
            })
            .unwrap();
        (got, bad)
    }

    #[test]
    fn keeps_the_email_and_drops_the_password_with_any_separator() {
        let data = b"a@b.de:pa:ss;w|rd\nc@d.de;secret\n e@f.de |pw\nno separator\n";
        let (got, bad) = emails(data);
        assert_eq!(got, ["a@b.de", "c@d.de", "e@f.de"]);
        assert_eq!(bad, 1);
        assert!(got.iter().all(|e| !e.contains("pa") && !e.contains("secret")));
    }

    #[test]
    fn maps_column_zero_to_email_by_format() {
        let l = layout(b"a@b.de:x\n", &[]).unwrap();
        assert_eq!(l.mapping.column(Field::Email), Some(0));
        assert_eq!(l.mapping.reasons[0].why, Why::Format("combo list"));
    }
}
