//! Embedded German name lists and their spellings.
//!
//! Invented combinations of common names; no entry is tied to a real person. Both lists are
//! unique under [`canonical`] (case folded, umlauts expanded, other diacritics stripped, hyphens
//! dropped), so a (last, first, date) triple of list indices stands for exactly one normalised
//! `name_dob` value. Names contain no space, comma, semicolon or quote, so no CSV quoting is
//! needed, and no letter whose case does not round-trip (such as Turkish `ı`).

use std::sync::OnceLock;

/// Last names: common German ones, with umlauts, ß, double names and names of immigrant families.
#[rustfmt::skip]
pub const LAST: &[&str] = &[
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt",
    "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier", "Köhler",
    "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz",
    "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel", "Friedrich", "Keller", "Günther",
    "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht",
    "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin", "Schumacher", "Krämer",
    "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich", "Brandt", "Haas",
    "Schreiber", "Graf", "Schulte", "Dietrich", "Ziegler", "Kuhn", "Kühn", "Pohl", "Engel", "Horn",
    "Busch", "Bergmann", "Thomas", "Voigt", "Sauer", "Arnold", "Wolff", "Pfeiffer", "Ernst",
    "Lindner", "Hübner", "Kramer", "Franz", "Jansen", "Thiel", "Förster", "Böttcher", "Kröger",
    "Hölscher", "Gärtner", "Büttner", "Brückner", "Nußbaum", "Strauß", "Preuß", "Rößler",
    "Fröhlich", "Märtens", "Lübke", "Dörr", "Wöhler", "Bräuer", "Öztürk", "Yildiz", "Kaya",
    "Demir", "Çelik", "Şahin", "Arslan", "Nowak", "Kowalski", "Wiśniewski", "Lewandowski",
    "Wójcik", "Papadopoulos", "Rossi", "Nguyen", "Popescu", "Müller-Lüdenscheidt", "Schmidt-Weiß",
    "Meyer-Hölzel", "Groß-Böhmer", "Schulze-Gärtner", "Klein-Schäfer", "Brandt-Jürgens",
    "Hoffmann-Özdemir", "Lehmann-Krüger", "Schröder-Haas", "Hagen", "Ritter", "Marx", "Paul",
    "Kolb", "Wendt", "Kurz", "Stahl", "Raab", "Reuter", "Götz", "Schön", "Blümel", "Däubler",
    "Eßer", "Großmann", "Kößler", "Mößner", "Weißenborn", "Hauß", "Oßwald",
];

/// First names: German ones across generations, with umlauts, double names and names of
/// immigrant families.
#[rustfmt::skip]
pub const FIRST: &[&str] = &[
    "Anna", "Maria", "Ursula", "Monika", "Petra", "Elisabeth", "Sabine", "Renate", "Helga",
    "Karin", "Brigitte", "Ingrid", "Erika", "Andrea", "Gisela", "Claudia", "Susanne", "Gabriele",
    "Christa", "Christine", "Hildegard", "Uta", "Birgit", "Barbara", "Heike", "Angelika", "Jutta",
    "Käthe", "Bärbel", "Jürgen", "Jörg", "Björn", "Gülsen", "Anna-Lena", "Hans-Peter",
    "Karl-Heinz", "Marie-Luise", "Jörn", "Sören", "Günter", "Günther", "Uwe", "Dörte", "Götz",
    "Jürgen-Michael", "Hans-Jürgen", "Ann-Kathrin", "Lisa-Marie", "Klaus-Dieter", "Björn-Ole",
    "Peter", "Michael", "Thomas", "Andreas", "Wolfgang", "Klaus", "Hans", "Werner", "Stefan",
    "Christian", "Frank", "Manfred", "Bernd", "Dieter", "Horst", "Helmut", "Gerhard", "Ralf",
    "Markus", "Martin", "Sven", "Torsten", "Dirk", "Matthias", "Heinz", "Rolf", "Joachim", "Lukas",
    "Leon", "Finn", "Jonas", "Paul", "Felix", "Maximilian", "Elias", "Noah", "Ben", "Luca", "Tim",
    "Jan", "Niklas", "Moritz", "Julian", "Tobias", "Florian", "Sebastian", "Daniel", "Alexander",
    "Philipp", "Benedikt", "Lea", "Hannah", "Emma", "Mia", "Sophie", "Lena", "Laura", "Julia",
    "Sarah", "Katharina", "Johanna", "Clara", "Charlotte", "Emilia", "Marie", "Lina", "Ida",
    "Frieda", "Greta", "Nele", "Jana", "Nina", "Melanie", "Nicole", "Stefanie", "Katrin", "Anja",
    "Silke", "Tanja", "Kerstin", "Doris", "Ilse", "Hannelore", "Lieselotte", "Gertrud",
    "Margarete", "Irmgard", "Waltraud", "Edeltraud", "Elfriede", "Mehmet", "Ayşe", "Fatma",
    "Mustafa", "Emre", "Zeynep", "Elif", "Özlem", "Hüseyin", "Can", "Agnieszka", "Małgorzata",
    "Krzysztof", "Łukasz", "Dragan", "Miloš", "Ivana", "Renée", "André", "José", "Noël", "Zoë",
    "Chloé", "Noémie", "Jérôme", "Hélène", "Dominik", "Kevin", "Jessica", "Vanessa", "Jennifer",
    "Patrick", "Marcel", "Dennis", "Oliver", "Jens", "Kai",
];

/// Lower-case ASCII transliteration: `ä→ae ö→oe ü→ue ß→ss`, other diacritics stripped,
/// hyphens kept. This is the form used in e-mail local parts.
pub fn ascii_lower(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'á' | 'à' | 'â' | 'ą' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' | 'ę' => out.push('e'),
            'ç' | 'ć' => out.push('c'),
            'ş' | 'ś' => out.push('s'),
            'ı' | 'í' | 'î' => out.push('i'),
            'ł' => out.push('l'),
            'ó' | 'ô' => out.push('o'),
            'š' => out.push('s'),
            'ñ' | 'ń' => out.push('n'),
            c if c.is_ascii() => out.push(c),
            _ => out.push('x'),
        }
    }
    out
}

/// The identity-deciding form of a name: [`ascii_lower`] without hyphens.
#[cfg(test)]
pub fn canonical(name: &str) -> String {
    ascii_lower(name).replace('-', "")
}

/// Pre-computed spellings of one list entry, so the hot loops never allocate.
pub struct Spellings {
    /// As listed (NFC, mixed case).
    pub plain: &'static str,
    /// Upper case (`Weiß` → `WEISS`).
    pub upper: String,
    /// Lower case.
    pub lower: String,
    /// Lower-case ASCII for e-mail addresses.
    pub ascii: String,
}

fn spellings(list: &'static [&'static str]) -> Vec<Spellings> {
    list.iter()
        .map(|&plain| Spellings {
            plain,
            upper: plain.to_uppercase(),
            lower: plain.to_lowercase(),
            ascii: ascii_lower(plain),
        })
        .collect()
}

/// Spellings of [`LAST`], computed once.
pub fn last() -> &'static [Spellings] {
    static CELL: OnceLock<Vec<Spellings>> = OnceLock::new();
    CELL.get_or_init(|| spellings(LAST))
}

/// Spellings of [`FIRST`], computed once.
pub fn first() -> &'static [Spellings] {
    static CELL: OnceLock<Vec<Spellings>> = OnceLock::new();
    CELL.get_or_init(|| spellings(FIRST))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn lists_are_long_enough_and_unique_under_canonical_form() {
        for list in [LAST, FIRST] {
            assert!(list.len() >= 150, "{}", list.len());
            let set: HashSet<String> = list.iter().map(|n| canonical(n)).collect();
            assert_eq!(set.len(), list.len());
        }
    }

    #[test]
    fn names_need_no_quoting_and_transliterate_to_plain_ascii() {
        for n in LAST.iter().chain(FIRST) {
            assert!(!n.contains([' ', ',', ';', '"', '\'']), "entry {n}");
            let a = ascii_lower(n);
            assert!(a.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "entry {n}");
        }
    }

    #[test]
    fn upper_case_folds_back_to_the_same_canonical_name() {
        for s in last().iter().chain(first()) {
            assert_eq!(canonical(&s.upper), canonical(s.plain));
            assert_eq!(canonical(&s.lower), canonical(s.plain));
        }
        assert_eq!(canonical("Weiß"), "weiss");
        assert_eq!(canonical("Anna-Lena"), "annalena");
    }

    #[test]
    fn list_entries_are_nfc() {
        use unicode_normalization::UnicodeNormalization;
        for n in LAST.iter().chain(FIRST) {
            assert_eq!(n.nfc().collect::<String>(), *n);
        }
    }
}
