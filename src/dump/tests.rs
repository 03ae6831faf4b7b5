//! Every format read whole, in small chunks of the mapped input, and as a stream cut in small
//! blocks gives the same records, values and positions.

use proptest::prelude::*;

use super::stream::{StreamChunks, StreamError};
use super::{Chunk, Event, Format, Layout};

/// (file-wide record, file-wide line, byte, what: the mapped values or the malformed reason).
type Row = (u64, u64, u64, String);

fn read<'a>(layout: &Layout, chunks: impl Iterator<Item = Chunk<'a>>) -> Vec<Row> {
    read_with(layout.reader(), layout, chunks)
}

fn read_with<'a>(
    mut reader: Box<dyn super::RecordReader>,
    layout: &Layout,
    chunks: impl Iterator<Item = Chunk<'a>>,
) -> Vec<Row> {
    let cols = layout.mapping.columns();
    let (mut rows, mut records, mut lines) = (Vec::new(), 0, 0);
    for chunk in chunks {
        let stats = reader
            .read(&chunk.bytes, chunk.base, &mut |e| {
                let (p, what) = match e {
                    Event::Record(f, p) => {
                        (p, format!("{:?}", cols.iter().map(|&c| f.get(c)).collect::<Vec<_>>()))
                    }
                    Event::Flawed(m, p) => (p, format!("flawed {m:?}")),
                    Event::Skipped(m, p) => (p, format!("skipped {m:?}")),
                };
                rows.push((records + p.record, lines + p.line, p.byte, what));
            })
            .unwrap();
        records += stats.records;
        lines += stats.lines;
    }
    rows
}

fn owned(c: Chunk<'_>) -> Chunk<'static> {
    let span = c.span;
    Chunk {
        base: c.base,
        bytes: std::borrow::Cow::Owned(c.bytes.into_owned()),
        strays: c.strays,
        span,
    }
}

fn check(data: &[u8], format: Format, target: usize, block: usize) -> Result<(), TestCaseError> {
    let Ok(layout) = Layout::detect(data, Some(format), &[]) else { return Ok(()) };
    let whole =
        read(&layout, layout.chunks(data, usize::MAX).map(owned).collect::<Vec<_>>().into_iter());
    let small =
        read(&layout, layout.chunks(data, target).map(owned).collect::<Vec<_>>().into_iter());
    prop_assert_eq!(&small, &whole, "chunks of {}", target);
    let start = layout.dialect.body_start;
    let reader = Box::new(std::io::Cursor::new(data[start..].to_vec()));
    let stream =
        StreamChunks::new(&layout, Vec::new(), start as u64, reader, block, StreamError::default());
    let streamed = read(&layout, stream.collect::<Vec<_>>().into_iter());
    prop_assert_eq!(&streamed, &whole, "stream blocks of {}", block);
    Ok(())
}

fn sql_dump() -> impl Strategy<Value = Vec<u8>> {
    let value = prop::sample::select(vec![
        "'a@b.de'",
        "'it''s'",
        "'x\\'y'",
        "'a;b'",
        "'(,)'",
        "NULL",
        "42",
        "'line\nbreak'",
        "' '",
    ]);
    let tuple = prop::collection::vec(value, 1..4).prop_map(|v| format!("({})", v.join(",")));
    let insert = prop::collection::vec(tuple, 1..4)
        .prop_map(|t| format!("INSERT INTO `t` (`email`,`kvnr`,`x`) VALUES {};\n", t.join(",")));
    let row =
        prop::sample::select(vec!["a@b.de\tA123456780", "\\N\tx\\ty", "c@d.de", "", "bad'quote"]);
    let copy = prop::collection::vec(row, 0..4).prop_map(|r| {
        format!(
            "COPY t (email, kvnr) FROM stdin;\n{}\\.\n",
            r.iter().map(|l| format!("{l}\n")).collect::<String>()
        )
    });
    let other = prop::sample::select(vec![
        "-- comment\n".to_owned(),
        "SET x = 'a;b';\n".to_owned(),
        "\n".to_owned(),
        "INSERT INTO t VALUES ('open\n".to_owned(),
        "garbage (\n".to_owned(),
    ]);
    prop::collection::vec(prop_oneof![insert, copy, other], 0..8)
        .prop_map(|p| p.concat().into_bytes())
}

fn lines_text() -> impl Strategy<Value = Vec<u8>> {
    let line = prop::sample::select(vec![
        "{\"email\":\"a@b.de\",\"k\":{\"kvnr\":\"A123456780\"}}",
        "{\"email\":1}",
        "{broken",
        "a@b.de:pw:x",
        "c@d.de;pw",
        "nosep",
        "",
        "  ",
        "\r",
        "\"q\";a@b.de",
        "x,\"y\nz\",w",
    ]);
    (prop::collection::vec(line, 0..20), any::<bool>())
        .prop_map(|(l, crlf)| l.join(if crlf { "\r\n" } else { "\n" }).into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn sql_whole_chunked_and_streamed_agree(data in sql_dump(), target in 1usize..60, block in 1usize..40) {
        check(&data, Format::Sql, target, block)?;
    }

    #[test]
    fn line_formats_whole_chunked_and_streamed_agree(data in lines_text(), target in 1usize..60, block in 1usize..40) {
        for format in [Format::JsonLines, Format::Combo, Format::Delimited] {
            check(&data, format, target, block)?;
        }
    }
}

/// Fuzz finding (sql target): a dump starting with a NUL byte was read as a chunk context.
#[test]
fn sql_dump_starting_with_nul_reads_the_same_whole_chunked_and_streamed() {
    let data = [0x00, 0x3b, 0x0a, 0xc1, 0x20, 0x5a, 0x3b, 0x00];
    for target in 1..10 {
        for block in 1..10 {
            check(&data, Format::Sql, target, block).unwrap();
        }
    }
}

#[test]
fn sql_tuple_of_many_mebibytes_is_one_oversized_unit_read_alike_and_not_copied() {
    use crate::dump::MAX_RECORD;
    let mut data =
        b"INSERT INTO t (email, note) VALUES ('a@b.de', 'x'),\n('c@d.de', 'y\nz".to_vec();
    data.extend(std::iter::repeat_n(b'q', 3 * MAX_RECORD));
    data.extend_from_slice(b"'),\n('e@f.de', 'w');\nINSERT INTO t (email) VALUES ('g@h.de');\n");
    check(&data, Format::Sql, 1 << 16, 1 << 16).unwrap();
    let layout = Layout::detect(&data, Some(Format::Sql), &[]).unwrap();
    let rows = read(&layout, layout.chunks(&data, usize::MAX));
    let skipped: Vec<_> = rows.iter().filter(|r| r.3.contains("Oversized")).collect();
    assert_eq!(skipped.len(), 1, "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r.3.contains("@")).count(), 2, "{rows:?}");
    let largest = layout.chunks(&data, usize::MAX).map(|c| c.bytes.len()).max().unwrap();
    assert!(largest < MAX_RECORD + 4096, "a chunk of {largest} bytes");
}

fn values(data: &[u8]) -> Vec<Row> {
    let layout = Layout::detect(data, None, &[]).unwrap();
    assert_eq!(layout.format, Format::Sql);
    read(&layout, layout.chunks(data, 5).map(owned).collect::<Vec<_>>().into_iter())
}

#[test]
fn mysql_values_and_escapes_are_read() {
    let rows =
        values(b"INSERT INTO t (email, kvnr) VALUES ('o''b@x.de', 'A1'), (NULL, 'B\\'2');\n");
    let what: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
    assert_eq!(what, ["[Some(\"o'b@x.de\"), Some(\"A1\")]", "[None, Some(\"B'2\")]"]);
    assert_eq!(rows[1].2, 56, "byte offset of the second tuple");
}

#[test]
fn postgres_copy_rows_are_read_with_escapes_and_nulls() {
    let rows = values(b"-- PostgreSQL database dump\nCOPY t (kvnr, email) FROM stdin;\nC3\tc\\\\@d.de\n\\N\t\\N\n\\.\n");
    let what: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
    assert_eq!(what, ["[Some(\"C3\"), Some(\"c\\\\@d.de\")]", "[None, None]"]);
    assert_eq!((rows[0].1, rows[1].1), (2, 3), "COPY rows on lines 3 and 4 (0-based 2, 3)");
}

/// UTF-8 rows (BOM, so detection keeps UTF-8) with invalid bytes in a mapped or an unmapped
/// column, umlauts, quoted fields: chunks that are valid UTF-8 as a whole take the no-check
/// path, the others validate field by field; all must read alike.
fn utf8_rows_with_invalid_bytes() -> impl Strategy<Value = Vec<u8>> {
    let row = prop::sample::select(vec![
        &b"A123456780;a@b.de;x"[..],
        "Z987654321;jörg.groß@b.de;Grüße".as_bytes(),
        b"A123456780;a@b.de;\xFF\xFEnote",
        b"B123456781;\xC3(@b.de;x",
        b"\"C12345678\xE2\";c@d.de;y",
        "\"D123456780\";\"ü;\"\"q\"\"\";z".as_bytes(),
        b"",
    ]);
    (prop::collection::vec(row, 0..25), any::<bool>()).prop_map(|(rows, crlf)| {
        let mut data = b"\xEF\xBB\xBFKVNR;E-Mail;Notiz\n".to_vec();
        for r in rows {
            data.extend_from_slice(r);
            data.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        data
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn utf8_with_invalid_bytes_whole_chunked_and_streamed_agree(
        data in utf8_rows_with_invalid_bytes(), target in 1usize..80, block in 1usize..40) {
        check(&data, Format::Delimited, target, block)?;
    }
}

/// Delimited rows, some with quotes (so some chunks take the quote-free split and others the
/// CSV state machine), ragged and blank rows, invalid UTF-8, `\r\n` and lone `\r`.
fn delimited_rows() -> impl Strategy<Value = Vec<u8>> {
    let row = prop::sample::select(vec![
        &b"A123456780;a@b.de;x;0151 1234567"[..],
        "Z987654321;jörg.groß@b.de;Grüße;;".as_bytes(),
        b"A123456780;a@b.de",
        b"B123456781;\xC3(@b.de;x;1",
        b" ; ;\t",
        b"",
        b"C123456780;\"c@d.de\";\"y\ny\";2",
        b"D123456780;e@f.de;\"\";3\r",
        b"\xC3(23456780;a@b.de;x;1",
    ]);
    // Three of four columns mapped (the whole chunk is validated at once), or one of four
    // (only the mapped cells are).
    let header = prop::sample::select(vec![
        &b"\xEF\xBB\xBFKVNR;E-Mail;Notiz;Telefon\n"[..],
        b"\xEF\xBB\xBFKVNR;Notiz;Notiz 2;Notiz 3\n",
    ]);
    (prop::collection::vec(row, 0..30), any::<bool>(), header).prop_map(|(rows, crlf, header)| {
        let mut data = header.to_vec();
        for r in rows {
            data.extend_from_slice(r);
            data.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        data
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn quote_free_split_reads_as_the_state_machine_in_any_chunking(
        data in delimited_rows(), target in 1usize..120) {
        let layout = Layout::detect(&data, Some(Format::Delimited), &[]).unwrap();
        let chunks = || layout.chunks(&data, target).map(owned).collect::<Vec<_>>().into_iter();
        let reference = read_with(layout.state_machine_reader(), &layout, chunks());
        prop_assert_eq!(read(&layout, chunks()), reference);
    }
}

#[test]
fn invalid_utf8_skips_a_record_only_when_a_mapped_field_holds_it() {
    let data = b"\xEF\xBB\xBFKVNR;E-Mail;Notiz\nA123456780;a@b.de;\xFFnote\nB1;\xC3(@b.de;x\n";
    let layout = Layout::detect(data, Some(Format::Delimited), &[]).unwrap();
    assert_eq!(layout.dialect.encoding, super::decode::Encoding::Utf8Bom);
    let rows = read(&layout, layout.chunks(data, usize::MAX));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].3.contains("a@b.de"), "{rows:?}");
    assert_eq!(rows[1].3, "skipped Encoding");
}
