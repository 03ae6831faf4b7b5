//! How a build or scan gets its tokens: the keyed PRF (key file), the OPRF evaluated locally
//! (the data owner's key file), or the OPRF through the key service (`--key-server`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};

use super::{TokenSource, Tokenize};
use crate::error::UsageError;
use crate::filter::{FilterError, FilterFile, OpenOptions, Prf};
use crate::ident::Kind;
use crate::oprf::client::{self, Client, ClientConfig};
use crate::oprf::table::{Collector, OprfTokens, TokenTable};
use crate::oprf::{OprfKey, PublicKey};
use crate::token::{Key, KeyId};

/// `--key-server URL` and its bearer-token file.
#[derive(Debug, Clone)]
pub struct KeyService {
    /// Base URL of the key service (`--key-server`).
    pub url: String,
    /// `--key-server-token-file`; `None`: `$LEAKMATCH_KEY_SERVER_TOKEN_FILE`, or no token.
    pub token_file: Option<PathBuf>,
}

/// Where tokens come from.
pub enum TokenMode {
    /// Keyed tokens: the key is here.
    Keyed(Key),
    /// OPRF tokens evaluated locally: the OPRF key is here (the data owner).
    Local(OprfKey),
    /// OPRF tokens through the key service, verified against `pk`.
    Remote {
        /// The connection to the key service.
        client: Client,
        /// The filters' public key, which every answer must verify under.
        pk: PublicKey,
        /// Most elements per request (the service's `max_batch`).
        max_batch: usize,
        /// No progress bar or timing line on stderr.
        quiet: bool,
    },
}

impl TokenMode {
    /// The key id filters of this mode carry.
    pub fn key_id(&self) -> KeyId {
        self.prf().oprf_public_key().map_or_else(
            || match self {
                TokenMode::Keyed(k) => k.id(),
                _ => unreachable!("OPRF modes have a public key"),
            },
            |pk| pk.id(),
        )
    }

    /// The header's PRF field for filters of this mode.
    pub fn prf(&self) -> Prf {
        match self {
            TokenMode::Keyed(_) => Prf::Keyed,
            TokenMode::Local(k) => Prf::Oprf(k.public_key()),
            TokenMode::Remote { pk, .. } => Prf::Oprf(*pk),
        }
    }

    /// The key of the filter trailer's keyed hash: the secret MAC subkey for keyed filters,
    /// the public check key for OPRF filters.
    pub fn mac_key(&self) -> zeroize::Zeroizing<[u8; 32]> {
        match self {
            TokenMode::Keyed(k) => k.mac_key(),
            _ => zeroize::Zeroizing::new(self.prf().oprf_public_key().expect("OPRF").check_key()),
        }
    }

    /// True when tokens need a first pass over the inputs ([`Self::source`]).
    pub fn two_passes(&self) -> bool {
        matches!(self, TokenMode::Remote { .. })
    }

    /// The token source for `kinds`. In remote mode, `first_pass` is run with a collecting
    /// pipeline over the same records, and the collected values are evaluated by the service.
    pub fn source(
        &self,
        kinds: &[Kind],
        first_pass: impl FnOnce(&Tokenize) -> anyhow::Result<()>,
    ) -> anyhow::Result<TokenSource> {
        let (client, pk, max_batch, quiet) = match self {
            TokenMode::Keyed(k) => return Ok(k.tokenizer().into()),
            TokenMode::Local(k) => {
                return Ok(TokenSource::Oprf(Arc::new(OprfTokens::Local(k.clone()))))
            }
            TokenMode::Remote { client, pk, max_batch, quiet } => (client, pk, max_batch, quiet),
        };
        let collector = Arc::new(OprfTokens::Collect(Collector::new()?));
        first_pass(&Tokenize::new(TokenSource::Oprf(collector.clone()), kinds))?;
        let Ok(OprfTokens::Collect(collector)) = Arc::try_unwrap(collector) else {
            unreachable!("the first pass has ended and dropped its pipeline")
        };
        let (local, values) = collector.into_values();
        let refs: Vec<(Kind, &[u8])> = values.iter().map(|(_, k, v)| (*k, &v[..])).collect();
        let bar = bar(refs.len() as u64, *quiet);
        let start = Instant::now();
        let tokens = client.tokens(&refs, pk, *max_batch, &|n| bar.inc(n))?;
        bar.finish_and_clear();
        if !quiet {
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "leakmatch: key service evaluated {} distinct values in {secs:.2} s ({:.0}/s)",
                crate::num::thousands(refs.len() as u64),
                refs.len() as f64 / secs.max(1e-9)
            );
        }
        let table = TokenTable::new(local, values.iter().map(|v| v.0).zip(tokens));
        Ok(TokenSource::Oprf(Arc::new(OprfTokens::Table(table))))
    }
}

/// Fails when the second pass met values the first had not collected.
pub fn check_complete(source: &TokenSource, input: &Path) -> anyhow::Result<()> {
    if let TokenSource::Oprf(o) = source {
        if let OprfTokens::Table(t) = &**o {
            if t.missing() > 0 {
                bail!(
                    "{}: {} values differ between the two passes (the input changed while read)",
                    input.display(),
                    t.missing()
                );
            }
        }
    }
    Ok(())
}

/// Refuses inputs that cannot be read twice (stdin, pipes) in remote mode.
pub fn check_rereadable(mode: &TokenMode, path: &Path) -> Result<(), UsageError> {
    let regular = path.as_os_str() != "-" && std::fs::metadata(path).is_ok_and(|m| m.is_file());
    if mode.two_passes() && !regular {
        return Err(UsageError(format!(
            "{}: --key-server reads each input twice (values first, then tokens): give a \
             regular file, not stdin or a pipe",
            path.display()
        )));
    }
    Ok(())
}

fn bar(total: u64, quiet: bool) -> indicatif::ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "oprf [{bar:40}] {pos}/{len} evaluations {per_sec} eta {eta}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar
}

/// Connects to the key service: reads the token file and `/v1/info`.
pub fn connect(service: &KeyService, pk: PublicKey, quiet: bool) -> anyhow::Result<TokenMode> {
    let token_file = service.token_file.clone().or_else(|| {
        std::env::var_os(client::TOKEN_FILE_ENV).filter(|p| !p.is_empty()).map(PathBuf::from)
    });
    let token = token_file.as_deref().map(client::read_token_file).transpose()?;
    let client = Client::new(ClientConfig::new(&service.url, token));
    let info = client.info()?;
    Ok(TokenMode::Remote { client, pk, max_batch: info.max_batch, quiet })
}

/// Opens the filters of a scan and chooses the token mode from their headers: keyed filters
/// need the key; OPRF filters need `--key-server` (or, for the data owner, the key file).
/// Every filter is checked: key id and MAC (keyed), public key and check hash (OPRF).
pub fn open_for_scan(
    paths: &[PathBuf],
    key_file: Option<&Path>,
    service: Option<&KeyService>,
    quiet: bool,
) -> anyhow::Result<(Vec<FilterFile>, TokenMode)> {
    let opts = OpenOptions { verify_checksum: false, ..OpenOptions::default() };
    let filters: Vec<FilterFile> =
        paths.iter().map(|p| FilterFile::open(p, &opts)).collect::<Result<_, _>>()?;
    let Some(first) = filters.first() else { bail!(UsageError("no filter given".into())) };
    let pk = first.header.prf.oprf_public_key();
    for f in &filters {
        if f.header.prf.oprf_public_key() != pk {
            bail!(UsageError(format!(
                "{}: its tokens come from {} but those of {} from {}; scan them separately",
                f.path.display(),
                describe(&f.header.prf),
                first.path.display(),
                describe(&first.header.prf)
            )));
        }
    }
    let mode = match (pk, service) {
        (None, Some(_)) => bail!(UsageError(format!(
            "{}: a filter with keyed tokens; --key-server serves OPRF filters only (scan it \
             with --key-file)",
            first.path.display()
        ))),
        (None, None) => TokenMode::Keyed(Key::load_from(key_file)?),
        (Some(pk), Some(s)) => connect(s, pk, quiet)?,
        (Some(pk), None) => {
            let key = Key::load_from(key_file).map_err(|e| match e {
                crate::token::KeyError::Missing => anyhow::Error::new(UsageError(format!(
                    "{}: an OPRF filter: scan it with --key-server URL (the data owner may \
                     use --key-file instead)",
                    first.path.display()
                ))),
                e => e.into(),
            })?;
            local_mode(&key, pk, &first.path)?
        }
    };
    for f in &filters {
        f.check_key(&mode.key_id())?;
        f.verify(&mode.mac_key())?;
    }
    Ok((filters, mode))
}

fn describe(prf: &Prf) -> String {
    match prf {
        Prf::Keyed => "a keyed PRF".into(),
        Prf::Oprf(pk) => format!("the key service with public key {}", pk.hex()),
    }
}

/// The local OPRF mode of `key`, which must be the key of `pk`.
pub fn local_mode(key: &Key, pk: PublicKey, path: &Path) -> anyhow::Result<TokenMode> {
    let oprf = OprfKey::from_key(key);
    if oprf.public_key() != pk {
        return Err(FilterError::KeyMismatch {
            path: path.into(),
            file_key_id: hex::encode(pk.id()),
            key_id: hex::encode(oprf.public_key().id()),
        }
        .into());
    }
    Ok(TokenMode::Local(oprf))
}

/// The token mode of a build: keyed (key file), OPRF locally (key file and `--oprf`), or
/// OPRF through the service (`--key-server`; the filter's public key is the service's, read
/// from `/v1/info` and checked by every batch's proof, or taken from `--like`).
pub fn for_build(
    key_file: Option<&Path>,
    oprf: bool,
    service: Option<&KeyService>,
    like: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<TokenMode> {
    let like_pk = like
        .map(|p| {
            FilterFile::open(p, &OpenOptions::default())
                .map(|f| f.header.prf.oprf_public_key())
                .with_context(|| format!("reading --like {}", p.display()))
        })
        .transpose()?
        .flatten();
    match service {
        Some(s) => {
            let pk = match like_pk {
                Some(pk) => pk,
                None => {
                    let c = Client::new(ClientConfig::new(&s.url, None));
                    let info = c.info()?;
                    let mut pk = [0u8; 32];
                    hex::decode_to_slice(&info.public_key, &mut pk)
                        .ok()
                        .map(|()| PublicKey(pk))
                        .filter(PublicKey::is_valid)
                        .with_context(|| format!("key service {}: bad public key", s.url))?
                }
            };
            connect(s, pk, quiet)
        }
        None => {
            let key = Key::load_from(key_file)?;
            Ok(if oprf { TokenMode::Local(OprfKey::from_key(&key)) } else { TokenMode::Keyed(key) })
        }
    }
}
