//! The leak: which row is what, how it is written, and which customers it really hits.
//!
//! Row position `r` is shuffled by an affine permutation into an ordinal `q`; the ranges of
//! `q` decide the category (real, fabricated, recombined, other population), so the shuffle
//! needs no memory and every chunk of rows can be written independently. Each row is first
//! described as a [`Row`] of identifier sources, then written with the noise of
//! [`super::dialect`]; what the row hits is decided from the sources and the bijections of
//! [`Population`], never by guessing.

// Reviewed (#11): synthetic data: indices into name and prefix tables drawn below their lengths (or
// taken modulo them).
#![allow(clippy::indexing_slicing)]

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::dialect;
use super::names;
use super::perm::Affine;
use super::population::{self as pop, Customer, Population, DAYS};
use crate::ident::{kvnr, Outcome};

/// Header of `leak.csv` (German export dialect, `;`-delimited).
pub const HEADER: &[u8] = b"Versichertennummer;Nachname;Vorname;Geburtsdatum;E-Mail;Telefon\n";
/// Share of real rows that repeat a customer drawn for another real row.
pub const DUPLICATE_SHARE: f64 = 0.03;

/// Per-field probabilities (numerator of 1000) that a field is left empty.
const EMPTY_KVNR: u32 = 20;
const EMPTY_NAME: u32 = 10;
const EMPTY_DATE: u32 = 10;
const EMPTY_EMAIL: u32 = 80;
const EMPTY_PHONE: u32 = 150;

/// Row counts per category; their sum is the leak size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mix {
    pub real: u64,
    pub fabricated: u64,
    pub recombined: u64,
    pub other: u64,
}

/// The customers each identifier of one row belongs to (`None`: empty, invalid or a stranger).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hits {
    pub kvnr: Option<u64>,
    pub email: Option<u64>,
    pub phone: Option<u64>,
    pub name_dob: Option<u64>,
}

enum Date {
    Day(u32),
    /// A calendar date that does not exist (31 April, 30 February): never valid.
    Impossible(u32, u32, u32),
}

enum Mail {
    Customer(Customer),
    Stranger { first: usize, last: usize, number: u64 },
}

enum Tel {
    Customer(Customer),
    Stranger { prefix: usize, subscriber: u64, width: usize },
}

struct Row {
    kvnr: [u8; 10],
    last: usize,
    first: usize,
    date: Date,
    mail: Mail,
    tel: Tel,
}

/// Everything needed to write any row of the leak.
pub struct Plan {
    /// The customer population.
    pub pop: Population,
    /// Row counts per category.
    pub mix: Mix,
    shuffle: Affine,
    real_order: Affine,
    /// The leak's snapshot: customers `offset .. offset + size` of the population.
    offset: u64,
    size: u64,
}

impl Plan {
    /// The plan for `seed`, a population and a category mix; real and recombined rows come
    /// from the snapshot window of `size` customers starting at `offset`.
    pub fn new(seed: u64, pop: Population, mix: Mix, offset: u64, size: u64) -> Plan {
        let rows = mix.real + mix.fabricated + mix.recombined + mix.other;
        Plan {
            shuffle: Affine::new(rows, seed, 10),
            real_order: Affine::new(size, seed, 11),
            pop,
            mix,
            offset,
            size,
        }
    }

    /// The window-local customer number of population member `i`, if it is in the window.
    fn local(&self, i: Option<u64>) -> Option<u64> {
        i.and_then(|i| i.checked_sub(self.offset)).filter(|&i| i < self.size)
    }

    /// Whether window-local customer `c` is one of the first `n` canaries (the customers the
    /// first `n` real rows draw: planted in the leak, listed in `canaries.csv`).
    pub fn is_canary(&self, c: u64, n: u64) -> bool {
        self.real_order.invert(c) < n
    }

    /// Window-local customer of canary number `q`.
    pub fn canary(&self, q: u64) -> Customer {
        self.pop.customer(self.offset + self.real_order.apply(q))
    }

    /// Writes row `pos` (without line end) and returns what it hits. `scratch` is reused.
    pub fn write_row(
        &self,
        rng: &mut Pcg64Mcg,
        pos: u64,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> Hits {
        let q = self.shuffle.apply(pos);
        let m = &self.mix;
        let row = if q < m.real {
            self.real(rng, q)
        } else if q < m.real + m.fabricated {
            self.fabricated(rng)
        } else if q < m.real + m.fabricated + m.recombined {
            self.recombined(rng)
        } else {
            self.other(rng)
        };
        self.emit(rng, &row, out, scratch)
    }

    fn real(&self, rng: &mut Pcg64Mcg, q: u64) -> Row {
        let q = if rng.gen_bool(DUPLICATE_SHARE) { rng.gen_range(0..self.mix.real) } else { q };
        let c = self.pop.customer(self.offset + self.real_order.apply(q % self.size));
        person(c, c)
    }

    fn recombined(&self, rng: &mut Pcg64Mcg) -> Row {
        let n = self.size;
        let a = rng.gen_range(0..n);
        let b = (a + 1 + rng.gen_range(0..n - 1)) % n;
        person(self.pop.customer(self.offset + a), self.pop.customer(self.offset + b))
    }

    fn fabricated(&self, rng: &mut Pcg64Mcg) -> Row {
        let mut digits = [b'0'; 8];
        digits.iter_mut().for_each(|d| *d = b'0' + rng.gen_range(0..10u8));
        let mut kvnr = kvnr::with_check_digit(b'A' + rng.gen_range(0..26u8), &digits);
        kvnr[9] = b'0' + rng.gen_range(0..10u8); // right by chance one time in ten
        let date = if rng.gen_ratio(1, 30) {
            let y = rng.gen_range(1930..2009);
            if rng.gen_bool(0.5) {
                Date::Impossible(y, 4, 31)
            } else {
                Date::Impossible(y, 2, 30)
            }
        } else {
            Date::Day(rng.gen_range(0..DAYS as u32))
        };
        Row {
            kvnr,
            last: rng.gen_range(0..names::LAST.len()),
            first: rng.gen_range(0..names::FIRST.len()),
            date,
            mail: stranger_mail(rng),
            tel: stranger_tel(rng),
        }
    }

    fn other(&self, rng: &mut Pcg64Mcg) -> Row {
        let (last, first, day) = self.pop.stranger_triple(rng.gen());
        Row {
            kvnr: self.pop.stranger_kvnr(rng.gen()),
            last,
            first,
            date: Date::Day(day),
            mail: stranger_mail(rng),
            tel: stranger_tel(rng),
        }
    }

    fn emit(
        &self,
        rng: &mut Pcg64Mcg,
        row: &Row,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
    ) -> Hits {
        let mut hits = Hits::default();
        if !rng.gen_ratio(EMPTY_KVNR, 1000) {
            let start = out.len();
            dialect::kvnr(rng, out, &row.kvnr);
            let written = std::str::from_utf8(&out[start..]).expect("ASCII");
            if kvnr::normalize(written, scratch) == Outcome::Valid {
                hits.kvnr = self.local(self.pop.customer_of_kvnr(scratch));
            }
        }
        out.push(b';');
        let has_last = self.name(rng, out, &names::last()[row.last]);
        out.push(b';');
        let has_first = self.name(rng, out, &names::first()[row.first]);
        out.push(b';');
        if !rng.gen_ratio(EMPTY_DATE, 1000) {
            match row.date {
                Date::Day(day) => {
                    dialect::date(rng, out, pop::civil(day));
                    if has_last && has_first {
                        hits.name_dob =
                            self.local(self.pop.customer_of_triple(row.last, row.first, day));
                    }
                }
                Date::Impossible(y, m, d) => dialect::date(rng, out, (y, m, d)),
            }
        }
        out.push(b';');
        hits.email = self.local(emit_mail(rng, &row.mail, out));
        out.push(b';');
        hits.phone = self.local(emit_tel(rng, &row.tel, out));
        hits
    }

    fn name(&self, rng: &mut Pcg64Mcg, out: &mut Vec<u8>, s: &names::Spellings) -> bool {
        let present = !rng.gen_ratio(EMPTY_NAME, 1000);
        if present {
            dialect::name(rng, out, s);
        }
        present
    }
}

/// A row with the KVNR and e-mail of `a` and the name, birth date and phone of `b`.
fn person(a: Customer, b: Customer) -> Row {
    Row {
        kvnr: a.kvnr,
        last: b.last,
        first: b.first,
        date: Date::Day(b.day),
        mail: Mail::Customer(a),
        tel: Tel::Customer(b),
    }
}

fn stranger_mail(rng: &mut Pcg64Mcg) -> Mail {
    Mail::Stranger {
        first: rng.gen_range(0..names::FIRST.len()),
        last: rng.gen_range(0..names::LAST.len()),
        number: rng.gen_range(0..10_000),
    }
}

fn stranger_tel(rng: &mut Pcg64Mcg) -> Tel {
    let prefix = rng.gen_range(0..pop::STRANGER_PREFIXES.len());
    let width = rng.gen_range(6..=8);
    Tel::Stranger { prefix, subscriber: rng.gen_range(0..10u64.pow(width as u32)), width }
}

fn emit_mail(rng: &mut Pcg64Mcg, mail: &Mail, out: &mut Vec<u8>) -> Option<u64> {
    if rng.gen_ratio(EMPTY_EMAIL, 1000) {
        return None;
    }
    let start = out.len();
    let owner = match mail {
        Mail::Customer(c) => {
            pop::push_email(out, c);
            Some(c.index)
        }
        Mail::Stranger { first, last, number } => {
            out.extend_from_slice(names::first()[*first].ascii.as_bytes());
            out.push(b'_');
            out.extend_from_slice(names::last()[*last].ascii.as_bytes());
            pop::push_num(out, *number, 1);
            out.push(b'@');
            let domain = pop::STRANGER_DOMAINS[*number as usize % pop::STRANGER_DOMAINS.len()];
            out.extend_from_slice(domain.as_bytes());
            None
        }
    };
    dialect::email_case(rng, out, start);
    owner
}

fn emit_tel(rng: &mut Pcg64Mcg, tel: &Tel, out: &mut Vec<u8>) -> Option<u64> {
    if rng.gen_ratio(EMPTY_PHONE, 1000) {
        return None;
    }
    match tel {
        Tel::Customer(c) => {
            let prefix = pop::CUSTOMER_PREFIXES[c.prefix];
            dialect::phone(rng, out, prefix, c.subscriber.into(), 7);
            Some(c.index)
        }
        Tel::Stranger { prefix, subscriber, width } => {
            dialect::phone(rng, out, pop::STRANGER_PREFIXES[*prefix], *subscriber, *width);
            None
        }
    }
}
