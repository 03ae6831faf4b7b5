//! Criterion benches of the hot paths. Each asserts the answer it times.
//!
//! - `prf`: the token PRF candidates on 11–40-byte inputs (keyed BLAKE3, HMAC-SHA-256,
//!   SipHash-2-4-128 — the product's choice —, AES-128-CMAC).
//! - `normalise`: each normaliser on leak-style noisy values.
//! - `filter`: insert and probe of the blocked filter against the `bloomfilter` crate at the
//!   same size and FPR, on a filter larger than the caches.
//! - `parse`: chunked CSV parsing of a generated leak (MB/s), then with normalising and
//!   tokenising added (the scan minus probes).
//!
//! - `oprf`: one core's OPRF work per element (RFC 9497 VOPRF, ristretto255-SHA512): the key
//!   service's batch evaluation with its proof, the scanner's blinding and verified
//!   finalisation, the data owner's local evaluation, next to the keyed SipHash token.
//!
//! Figures are recorded in `benches/README.md`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hmac::Mac;
use leakmatch::filter::{Bloom, Params};
use leakmatch::ident::{self, Kind, Outcome};
use leakmatch::token::Key;

fn inputs() -> Vec<Vec<u8>> {
    (0..4096u32)
        .map(|i| {
            let mut v = format!("mueller{i}|juergen|1961-03-15").into_bytes();
            v.truncate(10 + (i as usize % 31));
            v
        })
        .collect()
}

fn prf(c: &mut Criterion) {
    let inputs = inputs();
    let key = [7u8; 32];
    let mut g = c.benchmark_group("prf");
    g.throughput(Throughput::Elements(inputs.len() as u64));
    let tok = Key::from_bytes(key).tokenizer();
    g.bench_function("siphash24-128 (product)", |b| {
        b.iter(|| inputs.iter().map(|x| tok.token(Kind::NameDob, x)).fold(0u128, |a, t| a ^ t))
    });
    let kh = blake3::Hasher::new_keyed(&key);
    g.bench_function("blake3-keyed", |b| {
        b.iter(|| {
            inputs.iter().fold(0u128, |a, x| {
                let mut h = kh.clone();
                h.update(&[4]);
                h.update(x);
                a ^ u128::from_le_bytes(h.finalize().as_bytes()[..16].try_into().unwrap())
            })
        })
    });
    let hm = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    g.bench_function("hmac-sha256", |b| {
        b.iter(|| {
            inputs.iter().fold(0u128, |a, x| {
                let mut m = hm.clone();
                m.update(&[4]);
                m.update(x);
                a ^ u128::from_le_bytes(m.finalize().into_bytes()[..16].try_into().unwrap())
            })
        })
    });
    let cm = <cmac::Cmac<aes::Aes128> as Mac>::new_from_slice(&key[..16]).unwrap();
    g.bench_function("aes128-cmac", |b| {
        b.iter(|| {
            inputs.iter().fold(0u128, |a, x| {
                let mut m = cm.clone();
                m.update(&[4]);
                m.update(x);
                a ^ u128::from_le_bytes(m.finalize().into_bytes().into())
            })
        })
    });
    g.finish();
    // The product's tokens are deterministic and distinct for distinct inputs.
    let toks: std::collections::HashSet<u128> =
        inputs.iter().map(|x| tok.token(Kind::NameDob, x)).collect();
    let distinct: std::collections::HashSet<&Vec<u8>> = inputs.iter().collect();
    assert_eq!(toks.len(), distinct.len());
}

fn normalise(c: &mut Criterion) {
    let n = 10_000;
    let kvnrs: Vec<String> = (0..n)
        .map(|i| {
            let d: [u8; 8] = std::array::from_fn(|j| b'0' + ((i * 7 + j * 3) % 10) as u8);
            let v = ident::kvnr::with_check_digit(b'A' + (i % 26) as u8, &d);
            let s = String::from_utf8(v.to_vec()).unwrap();
            if i % 2 == 0 {
                s.to_lowercase()
            } else {
                format!(" {} {}", &s[..5], &s[5..])
            }
        })
        .collect();
    let mails: Vec<String> = (0..n).map(|i| format!(" Max.Mustermann{i}@Example.DE ")).collect();
    let phones: Vec<String> = (0..n).map(|i| format!("+49 (0)171/{:07}", i * 13)).collect();
    let names: Vec<String> = (0..n)
        .map(|i| {
            if i % 3 == 0 {
                "Müller-Lüdenscheid".into()
            } else {
                format!("Schmidt{}", "x".repeat(i % 4))
            }
        })
        .collect();
    let dates: Vec<String> =
        (0..n).map(|i| format!("{:02}.{:02}.{}", 1 + i % 28, 1 + i % 12, 1930 + i % 70)).collect();
    // German IBANs in print form (`DE.. 3704 0044 ....`), check digits computed.
    let ibans: Vec<String> = (0..n)
        .map(|i| {
            let bban = format!("37040044{:010}", i * 7919);
            let check = 98 - ident::iban::mod97(format!("DE00{bban}").as_bytes());
            let v = format!("DE{check:02}{bban}");
            let groups: Vec<&str> =
                (0..v.len()).step_by(4).map(|j| &v[j..(j + 4).min(v.len())]).collect();
            groups.join(" ")
        })
        .collect();
    let mut g = c.benchmark_group("normalise");
    g.throughput(Throughput::Elements(n as u64));
    type Normaliser = fn(&str, &mut Vec<u8>) -> Outcome;
    let cases: [(&str, &Vec<String>, Normaliser); 6] = [
        ("kvnr", &kvnrs, ident::kvnr::normalize),
        ("email", &mails, ident::email::normalize),
        ("phone", &phones, ident::phone::normalize),
        ("name", &names, ident::name::normalize),
        ("date", &dates, ident::date::normalize),
        ("iban", &ibans, ident::iban::normalize),
    ];
    for (name, values, f) in cases {
        let mut buf = Vec::with_capacity(64);
        let valid = values.iter().filter(|v| f(v, &mut buf) == Outcome::Valid).count();
        assert_eq!(valid, n, "{name}: every bench value is valid");
        g.bench_function(name, |b| {
            b.iter(|| values.iter().filter(|v| f(v, &mut buf) == Outcome::Valid).count())
        });
    }
    g.finish();
}

fn filter(c: &mut Criterion) {
    // 25M customers' kvnr section at the default FPR: 121 MB, far beyond the caches, as in a
    // real scan (a small filter would measure the cache, not the layout).
    let n: u64 = 25_000_000;
    let fpr = 1e-6;
    let tok = Key::from_bytes([3; 32]).tokenizer();
    let member = |i: u64| tok.token(Kind::Kvnr, &i.to_le_bytes());
    let probes: Vec<u128> =
        (0..1_000_000u64).map(|i| tok.token(Kind::Email, &i.to_le_bytes())).collect();
    let params = Params::for_count(n, fpr);
    let mut ours = Bloom::new(params);
    let bits = params.blocks as usize * 512;
    let mut theirs: bloomfilter::Bloom<u128> = bloomfilter::Bloom::new(bits / 8, n as usize);
    for t in (0..n).map(member) {
        ours.insert(t);
        theirs.set(&t);
    }
    // Answers: no false negatives for either; false positives near the computed rates.
    assert!((0..100_000).map(member).all(|t| ours.contains(t) && theirs.check(&t)));
    let fp_ours = probes.iter().filter(|t| ours.contains(**t)).count() as f64 / probes.len() as f64;
    assert!(fp_ours < 3.0 * ours.achieved_fpr() + 1e-5, "ours FPR {fp_ours}");
    let mut g = c.benchmark_group("filter");
    g.throughput(Throughput::Elements(probes.len() as u64));
    g.bench_function(BenchmarkId::new("probe", "blocked-512 one by one"), |b| {
        b.iter(|| probes.iter().filter(|t| ours.contains(**t)).count())
    });
    // The scan's path: batches of 32 tokens, all blocks prefetched before any is tested.
    let batched = |f: &Bloom| {
        let r = f.as_ref();
        probes
            .chunks(32)
            .map(|batch| {
                batch.iter().for_each(|t| r.prefetch(*t));
                batch.iter().filter(|t| r.contains(**t)).count()
            })
            .sum::<usize>()
    };
    assert_eq!(batched(&ours), probes.iter().filter(|t| ours.contains(**t)).count());
    g.bench_function(BenchmarkId::new("probe", "blocked-512 batched+prefetch (product)"), |b| {
        b.iter(|| batched(&ours))
    });
    g.bench_function(BenchmarkId::new("probe", "bloomfilter crate"), |b| {
        b.iter(|| probes.iter().filter(|t| theirs.check(t)).count())
    });
    g.bench_function(BenchmarkId::new("insert", "blocked-512 (product)"), |b| {
        b.iter(|| {
            let mut f = Bloom::new(params);
            for t in &probes {
                f.insert(*t);
            }
            black_box(f.ones())
        })
    });
    g.finish();
}

fn parse(c: &mut Criterion) {
    use leakmatch::dump::Source;
    use leakmatch::scan::{self, Prepared, Tokenize};
    use leakmatch::synth::{self, SynthConfig};
    let cfg = SynthConfig { customers: 200_000, leak: 200_000, ..SynthConfig::default() };
    let mut leak = Vec::new();
    let truth = synth::write_leak(&cfg, &mut leak).expect("generate leak");
    let input = Prepared::from_source(Source::from_bytes("leak.csv", leak.clone()), &[]).unwrap();
    let key = Key::from_bytes([5; 32]);
    let none = Tokenize::parse_only();
    let all = Tokenize::new(key.tokenizer(), &Kind::DEFAULT);
    let count =
        |t: &Tokenize| scan::run_input(&input, t, 0, &scan::Discard, &|_| {}).unwrap().records;
    assert_eq!(count(&none), truth.leak_rows, "every generated row is read");
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(leak.len() as u64));
    g.bench_function("chunk+csv+decode (parse-only)", |b| b.iter(|| count(&none)));
    g.bench_function("+normalise+tokenise (4 kinds)", |b| b.iter(|| count(&all)));
    g.finish();
}

fn oprf(c: &mut Criterion) {
    use leakmatch::oprf::{self, Blinded, OprfKey};
    const N: usize = 256;
    let values: Vec<Vec<u8>> = (0..N).map(|i| format!("A{i:09}").into_bytes()).collect();
    let inputs: Vec<Vec<u8>> = values
        .iter()
        .map(|v| {
            let mut b = Vec::new();
            oprf::input(Kind::Kvnr, v, &mut b);
            b
        })
        .collect();
    let kinds = vec![Kind::Kvnr; N];
    let key = OprfKey::from_key(&Key::from_bytes([7; 32]));
    let pk = key.public_key();
    let blinded = Blinded::new(&inputs).unwrap();
    let answer = key.blind_evaluate(&blinded.body).unwrap();
    let local: Vec<u128> = values.iter().map(|v| key.evaluate(Kind::Kvnr, v)).collect();
    assert_eq!(blinded.finalize(&inputs, &kinds, &answer, &pk).unwrap(), local);
    let mut g = c.benchmark_group("oprf");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("server: batch evaluate + proof", |b| {
        b.iter(|| key.blind_evaluate(black_box(&blinded.body)).unwrap().len())
    });
    g.bench_function("client: blind", |b| {
        b.iter(|| Blinded::new(black_box(&inputs)).unwrap().len())
    });
    g.bench_function("client: verify + finalize", |b| {
        b.iter(|| blinded.finalize(&inputs, &kinds, black_box(&answer), &pk).unwrap().len())
    });
    g.bench_function("owner: local evaluate", |b| {
        b.iter(|| values.iter().fold(0u128, |a, v| a ^ key.evaluate(Kind::Kvnr, v)))
    });
    let tok = Key::from_bytes([7; 32]).tokenizer();
    g.bench_function("baseline: keyed siphash token", |b| {
        b.iter(|| values.iter().fold(0u128, |a, v| a ^ tok.token(Kind::Kvnr, black_box(v))))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    targets = prf, normalise, filter, parse, oprf
}
criterion_main!(benches);
