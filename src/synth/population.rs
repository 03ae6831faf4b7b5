//! The synthetic population: customer `i` as a pure function of `(seed, i)`, and the exact
//! membership test for every identifier value the generator can emit.
//!
//! | identifier | customer `i` | strangers (provably not customers) |
//! |---|---|---|
//! | KVNR | `kvnr_at(π_k(i))` | `kvnr_at(π_k(j))`, `j ≥ customers`; random values decided by `π_k⁻¹` |
//! | name + birth date | triple `π_t(i)` = (last, first, day) | triple `π_t(j)`, `j ≥ customers`; random triples decided by `π_t⁻¹` |
//! | e-mail | `first.last.i@` one of [`CUSTOMER_DOMAINS`] | any address at one of [`STRANGER_DOMAINS`] |
//! | phone | `+49` [`CUSTOMER_PREFIXES`] + 7 digits, slot `π_p(i)` | `+49` [`STRANGER_PREFIXES`] + digits |
//!
//! Because the name lists are unique under their canonical form ([`super::names`]), distinct
//! triples are distinct normalised `name_dob` values, and no two customers share one.

// Reviewed (#11): synthetic data: table indices drawn below the table lengths; `buf` is a fixed
// digit buffer written from its end.
#![allow(clippy::indexing_slicing)]

use super::names;
use super::perm::{self, Affine};

/// Mail domains of customers. Stranger addresses never use them.
pub const CUSTOMER_DOMAINS: [&str; 8] = [
    "web.de",
    "gmx.de",
    "t-online.de",
    "gmail.com",
    "outlook.de",
    "posteo.de",
    "freenet.de",
    "yahoo.de",
];
/// Mail domains of fabricated and other-population rows, disjoint from [`CUSTOMER_DOMAINS`].
pub const STRANGER_DOMAINS: [&str; 6] =
    ["mailbox.org", "aol.com", "icloud.com", "hotmail.de", "proton.me", "arcor.de"];
/// Mobile prefixes (national, without the trunk `0`) of customers; 7-digit subscriber part.
pub const CUSTOMER_PREFIXES: [&str; 10] =
    ["151", "152", "157", "160", "162", "163", "170", "171", "172", "173"];
/// Prefixes of strangers: other mobile blocks and landline area codes. None begins like a
/// customer prefix, so no stranger number equals a customer number.
pub const STRANGER_PREFIXES: [&str; 9] =
    ["159", "174", "175", "176", "177", "178", "179", "30", "89"];
/// Upper bound on `customers`: the phone space, the smallest of the identifier spaces.
pub const MAX_CUSTOMERS: u64 = CUSTOMER_PREFIXES.len() as u64 * 10_000_000;

/// Birth dates span 1930-01-01 ..= 2008-12-31: this many days.
pub const DAYS: u64 = 28_855;
const DAY0: i64 = -14_610; // 1930-01-01 in days since 1970-01-01

/// One customer's identifiers, as indices into the lists and spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Customer {
    /// Customer number `i`; also the number in the e-mail address.
    pub index: u64,
    /// Normalised KVNR.
    pub kvnr: [u8; 10],
    /// Index into [`names::LAST`].
    pub last: usize,
    /// Index into [`names::FIRST`].
    pub first: usize,
    /// Birth date as days after 1930-01-01.
    pub day: u32,
    /// Index into [`CUSTOMER_DOMAINS`].
    pub domain: usize,
    /// Index into [`CUSTOMER_PREFIXES`].
    pub prefix: usize,
    /// 7-digit subscriber number.
    pub subscriber: u32,
}

/// The bijections of one seed and the customer count.
#[derive(Clone, Debug)]
pub struct Population {
    /// Number of customers.
    pub customers: u64,
    seed: u64,
    kvnr: Affine,
    triple: Affine,
    phone: Affine,
}

impl Population {
    /// The population of `customers` people for `seed` (`customers ≤ MAX_CUSTOMERS`).
    pub fn new(seed: u64, customers: u64) -> Population {
        let triples = (names::LAST.len() * names::FIRST.len()) as u64 * DAYS;
        Population {
            customers,
            seed,
            kvnr: Affine::new(perm::KVNR_SPACE, seed, 1),
            triple: Affine::new(triples, seed, 2),
            phone: Affine::new(MAX_CUSTOMERS, seed, 3),
        }
    }

    /// Customer `i` (`i < customers`).
    pub fn customer(&self, i: u64) -> Customer {
        let (last, first, day) = self.split_triple(self.triple.apply(i));
        let slot = self.phone.apply(i);
        Customer {
            index: i,
            kvnr: perm::kvnr_at(self.kvnr.apply(i)),
            last,
            first,
            day,
            domain: (perm::mix(self.seed ^ 0xd0, i) % CUSTOMER_DOMAINS.len() as u64) as usize,
            prefix: (slot / 10_000_000) as usize,
            subscriber: (slot % 10_000_000) as u32,
        }
    }

    /// A KVNR that is valid and belongs to no customer: the `j`-th outside the image.
    pub fn stranger_kvnr(&self, j: u64) -> [u8; 10] {
        let span = self.kvnr.len() - self.customers;
        perm::kvnr_at(self.kvnr.apply(self.customers + j % span))
    }

    /// A (last, first, day) triple that belongs to no customer.
    pub fn stranger_triple(&self, j: u64) -> (usize, usize, u32) {
        let span = self.triple.len() - self.customers;
        self.split_triple(self.triple.apply(self.customers + j % span))
    }

    /// The customer holding a normalised, valid KVNR, if any.
    pub fn customer_of_kvnr(&self, v: &[u8]) -> Option<u64> {
        let i = self.kvnr.invert(perm::kvnr_position(v)?);
        (i < self.customers).then_some(i)
    }

    /// The customer with this (last, first, day) triple, if any.
    pub fn customer_of_triple(&self, last: usize, first: usize, day: u32) -> Option<u64> {
        let t = (last * names::FIRST.len() + first) as u64 * DAYS + u64::from(day);
        let i = self.triple.invert(t);
        (i < self.customers).then_some(i)
    }

    fn split_triple(&self, t: u64) -> (usize, usize, u32) {
        let day = (t % DAYS) as u32;
        let names = (t / DAYS) as usize;
        (names / names::FIRST.len(), names % names::FIRST.len(), day)
    }
}

/// (year, month, day) of a day offset after 1930-01-01 (H. Hinnant's `civil_from_days`,
/// <https://howardhinnant.github.io/date_algorithms.html>).
pub fn civil(day: u32) -> (u32, u32, u32) {
    let z = DAY0 + i64::from(day) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as u32, m as u32, d as u32)
}

/// Appends `v` in decimal, zero-padded to `width` digits.
pub fn push_num(out: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    while v > 0 || buf.len() - i < width.max(1) {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends the customer's row of `customers.csv` (clean: ISO date, E.164 phone).
pub fn push_customer_row(out: &mut Vec<u8>, c: &Customer) {
    let (last, first) = (&names::last()[c.last], &names::first()[c.first]);
    out.extend_from_slice(&c.kvnr);
    out.push(b',');
    out.extend_from_slice(last.plain.as_bytes());
    out.push(b',');
    out.extend_from_slice(first.plain.as_bytes());
    out.push(b',');
    let (y, m, d) = civil(c.day);
    push_num(out, y.into(), 4);
    out.push(b'-');
    push_num(out, m.into(), 2);
    out.push(b'-');
    push_num(out, d.into(), 2);
    out.push(b',');
    push_email(out, c);
    out.extend_from_slice(b",+49");
    out.extend_from_slice(CUSTOMER_PREFIXES[c.prefix].as_bytes());
    push_num(out, c.subscriber.into(), 7);
    out.push(b'\n');
}

/// Appends the customer's e-mail address `first.last.i@domain` (lower-case ASCII).
pub fn push_email(out: &mut Vec<u8>, c: &Customer) {
    out.extend_from_slice(names::first()[c.first].ascii.as_bytes());
    out.push(b'.');
    out.extend_from_slice(names::last()[c.last].ascii.as_bytes());
    out.push(b'.');
    push_num(out, c.index, 1);
    out.push(b'@');
    out.extend_from_slice(CUSTOMER_DOMAINS[c.domain].as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_range_is_1930_to_2008() {
        assert_eq!(civil(0), (1930, 1, 1));
        assert_eq!(civil(DAYS as u32 - 1), (2008, 12, 31));
        assert_eq!(civil(59 + 365 * 2), (1932, 2, 29));
    }

    #[test]
    fn customers_are_found_by_their_kvnr_and_triple() {
        let p = Population::new(9, 5000);
        for i in (0..5000).step_by(37) {
            let c = p.customer(i);
            assert_eq!(p.customer_of_kvnr(&c.kvnr), Some(i));
            assert_eq!(p.customer_of_triple(c.last, c.first, c.day), Some(i));
        }
    }

    #[test]
    fn strangers_are_never_customers() {
        let p = Population::new(9, 5000);
        for j in 0..2000 {
            assert_eq!(p.customer_of_kvnr(&p.stranger_kvnr(j * 7919)), None);
            let (l, f, d) = p.stranger_triple(j * 104_729);
            assert_eq!(p.customer_of_triple(l, f, d), None);
        }
    }

    #[test]
    fn customer_row_is_clean_csv() {
        let p = Population::new(1, 100);
        let mut out = Vec::new();
        push_customer_row(&mut out, &p.customer(42));
        let line = std::str::from_utf8(&out).unwrap();
        let fields: Vec<&str> = line.trim_end().split(',').collect();
        assert_eq!(fields.len(), 6);
        assert!(fields[4].ends_with(CUSTOMER_DOMAINS[p.customer(42).domain]));
        assert!(fields[4].contains(".42@"));
        assert_eq!(fields[5].len(), 13);
        assert_eq!(fields[3].len(), 10);
    }
}
