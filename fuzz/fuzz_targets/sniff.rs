//! Format detection, dialect sniffing and column mapping (`src/dump/detect.rs`, `sniff.rs`,
//! `format.rs`, `columns.rs`, `content.rs`).
//!
//! Oracles:
//! - nothing panics, for any format forced and any `--map` argument;
//! - automatic detection picks the format `detect_format` names;
//! - a sniffed dialect is a fixed point: sniffing again with its delimiter, quote and header
//!   choice given as overrides gives the same dialect; its body start lies inside the input at
//!   a line start (after LF, CRLF or CR) (or right after the BOM);
//! - every mapped column exists (in the header, or in the sampled records of a headerless
//!   file), a reason that names a header names that of its column, and every `--map` given is honoured;
//! - `normalise_header` is idempotent and header synonyms are matched on normalised names.
#![no_main]

use leakmatch::dump::{
    detect_format, field_for_header, map_by_content, normalise_header, sample_width, sniff,
    sniff_with, ColumnOverride, Format, Layout, SniffOverrides, Why,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let [map_len, data @ ..] = input else { return };
    let (spec, data) = data.split_at(usize::from(*map_len % 32).min(data.len()));
    let spec = String::from_utf8_lossy(spec);
    let overrides: Vec<ColumnOverride> = spec.split(',').filter_map(|s| s.parse().ok()).collect();

    let norm = normalise_header(&spec);
    assert_eq!(normalise_header(&norm), norm, "normalise_header is not idempotent");
    assert_eq!(field_for_header(&spec), field_for_header(&norm));

    let named = detect_format(data);
    if let Ok(layout) = Layout::detect(data, None, &overrides) {
        assert_eq!(layout.format, named, "auto detection differs from detect_format");
    }

    if let Ok(d) = sniff(data) {
        assert_ne!(d.delimiter, d.quote);
        assert!(d.body_start <= data.len());
        let bom = d.encoding.bom_len();
        // After the header's line end (LF, CRLF or a lone CR), or at the end of the input.
        assert!(
            d.body_start == bom
                || matches!(data[d.body_start - 1], b'\n' | b'\r')
                || d.body_start == data.len()
        );
        if d.has_header {
            assert!(d.body_start > bom, "a header of no bytes");
        } else {
            assert!(d.headers.is_empty());
        }
        let fixed = SniffOverrides {
            delimiter: Some(d.delimiter),
            quote: Some(d.quote),
            has_header: Some(d.has_header),
        };
        let again = sniff_with(data, &fixed).expect("the sniffed dialect is refused as overrides");
        assert_eq!(again, d, "sniffing with the sniffed dialect fixed gives another dialect");
        if !d.has_header {
            let width = sample_width(data, &d);
            let by_content = map_by_content(data, &d);
            for c in by_content.columns() {
                assert!(c < width.max(1), "content mapping names column {c} of {width}");
            }
        }
    }

    for format in [Format::Delimited, Format::JsonLines, Format::Combo, Format::Sql] {
        let Ok(layout) = Layout::detect(data, Some(format), &overrides) else { continue };
        for r in &layout.mapping.reasons {
            if let Some(h) = &r.header {
                assert_eq!(Some(h), layout.columns.get(r.column), "reason names another header");
            }
            if !layout.columns.is_empty() && format != Format::JsonLines {
                assert!(r.column < layout.columns.len(), "mapped column beyond the header");
            }
        }
        for ov in &overrides {
            // A later override of the same field wins; each field maps somewhere.
            assert!(layout.mapping.column(ov.field).is_some(), "--map ignored");
        }
        let overridden = layout.mapping.reasons.iter().filter(|r| r.why == Why::Override).count();
        assert_eq!(overridden, overrides.len(), "one reason per --map");
    }
});
