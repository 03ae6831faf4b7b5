//! `--emit-matches`: the positions of matching records as JSON lines, one per record.

// Reviewed (#11): `i < ms.len()` is the loop bound and `end` counts elements of `ms[i..]`.
#![allow(clippy::indexing_slicing)]

use crate::ident::Kind;
use crate::tally::MatchHit;

/// Writes matches of one input as JSON lines (format in `--emit-matches`' help): one line per
/// record, the filters and kinds that hit it. `filters` are the filters' labels by index.
pub fn write_matches(
    w: &mut impl std::io::Write,
    input: &str,
    ms: &[MatchHit],
    filters: &[String],
) -> std::io::Result<()> {
    let quote = |s: &str| serde_json::to_string(s).expect("a string serialises");
    let input = quote(input);
    let labels: Vec<String> = filters.iter().map(|l| quote(l)).collect();
    let mut i = 0;
    while i < ms.len() {
        let p = ms[i].pos;
        let end = i + ms[i..].iter().take_while(|m| m.pos.byte == p.byte).count();
        write!(
            w,
            "{{\"input\":{input},\"record\":{},\"line\":{},\"byte\":{},\"filters\":[",
            p.record, p.line, p.byte
        )?;
        for (n, m) in ms[i..end].iter().enumerate() {
            let label = labels.get(m.filter as usize).map_or("\"\"", String::as_str);
            let sep = if n == 0 { "" } else { "," };
            write!(w, "{sep}{{\"filter\":{label},\"kinds\":[")?;
            let hit = Kind::ALL.iter().filter(|k| m.kinds & (1 << k.index()) != 0);
            for (j, k) in hit.enumerate() {
                write!(w, "{}\"{}\"", if j == 0 { "" } else { "," }, k.name())?;
            }
            w.write_all(b"]}")?;
        }
        w.write_all(b"]}\n")?;
        i = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tally::Pos;

    #[test]
    fn writes_one_json_line_per_record_with_all_filters() {
        let pos = |byte| Pos { record: byte, line: byte + 1, byte, chunk: 0 };
        let ms = [
            MatchHit { pos: pos(10), filter: 0, kinds: 0b1 },
            MatchHit { pos: pos(10), filter: 1, kinds: 0b1001 },
            MatchHit { pos: pos(20), filter: 1, kinds: 0b10 },
        ];
        let mut out = Vec::new();
        write_matches(&mut out, "a\"b.csv", &ms, &["x".into(), "y".into()]).unwrap();
        let lines: Vec<serde_json::Value> = std::str::from_utf8(&out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["input"], "a\"b.csv");
        assert_eq!(lines[0]["filters"][1]["kinds"], serde_json::json!(["kvnr", "name_dob"]));
        assert_eq!((lines[1]["byte"].as_u64(), lines[1]["line"].as_u64()), (Some(20), Some(21)));
    }
}
