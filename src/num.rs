//! Number formatting shared by every human-readable output (text report, HTML report,
//! `inspect`, stderr summaries): one place decides grouping, rounding and units, so that the
//! same number reads the same everywhere.
//!
//! - counts: thousands separators (`330,000`); estimated counts are rounded to the nearest
//!   whole number, negative estimates shown as 0;
//! - shares: percent with two decimals (`12.34 %`);
//! - tiny probabilities (FPR): scientific notation with three significant digits (`1.00e-6`);
//! - byte sizes: decimal units (MB = 10^6 bytes), as the progress bar and throughput line.

// Reviewed (#11): `unit` is kept below `UNITS.len()` by the loop condition.
#![allow(clippy::indexing_slicing)]

/// A count with thousands separators (`330,000`).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An estimated count: rounded to the nearest whole number (negative: 0), with separators.
pub fn count(x: f64) -> String {
    thousands(x.round().max(0.0) as u64)
}

/// A share in [0, 1] as a percentage with two decimals (`12.34 %`).
pub fn pct(x: f64) -> String {
    format!("{:.2} %", 100.0 * x)
}

/// `part / whole` as [`pct`], or `-` when `whole` is 0.
pub fn pct_of(part: f64, whole: f64) -> String {
    if whole <= 0.0 {
        "-".into()
    } else {
        pct(part / whole)
    }
}

/// A small probability (a false-positive rate): `0`, or three significant digits (`1.00e-6`).
pub fn prob(p: f64) -> String {
    if p == 0.0 {
        "0".into()
    } else {
        format!("{p:.2e}")
    }
}

/// Bytes in decimal units: `999 B`, `1.50 kB`, `330.00 MB`, `1.20 GB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{v:.2} {}", UNITS[unit])
}

/// Unix seconds as a UTC date and time (`2026-10-01 12:00:00 UTC`); `-` for 0 (unknown).
pub fn unix_time(secs: u64) -> String {
    if secs == 0 {
        return "-".into();
    }
    match i64::try_from(secs).ok().and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok()) {
        Some(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => format!("{secs} (unix seconds)"),
    }
}

/// A count with its interval: `2,400 (exact)` when the interval is one number, else
/// `≈2,400 (95 % CI 2,390 – 2,410)`.
pub fn count_ci(estimate: f64, low: f64, high: f64, exact: bool) -> String {
    let n = |x: f64| thousands(x.max(0.0) as u64);
    if exact && low == high {
        format!("{} (exact)", n(estimate))
    } else {
        format!("≈{} (95 % CI {} – {})", n(estimate), n(low), n(high))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(330_000), "330,000");
        assert_eq!(thousands(25_000_000), "25,000,000");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn estimated_counts_round_and_clamp() {
        assert_eq!(count(2354.998), "2,355");
        assert_eq!(count(-3.2), "0");
        assert_eq!(count(1_234_567.4), "1,234,567");
    }

    #[test]
    fn shares_probabilities_and_sizes() {
        assert_eq!(pct(0.123_44), "12.34 %");
        assert_eq!(pct_of(1.0, 0.0), "-");
        assert_eq!(prob(1e-6), "1.00e-6");
        assert_eq!(prob(0.0), "0");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500), "1.50 kB");
        assert_eq!(bytes(330_000_000), "330.00 MB");
        assert_eq!(bytes(1_200_000_000), "1.20 GB");
    }

    #[test]
    fn unix_seconds_become_utc_dates() {
        assert_eq!(unix_time(0), "-");
        assert_eq!(unix_time(1_790_000_000), "2026-09-21 14:13:20 UTC");
    }
}
