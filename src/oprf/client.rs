//! The scanner's side of the key service: blinded batches over HTTP, several in flight,
//! retries with backoff, every answer verified against the filter's public key.
//!
//! Protocol (served by [`super::server`]):
//!
//! | request | body | answer |
//! |---|---|---|
//! | `GET /v1/info` | — | JSON `{"suite", "mode", "public_key", "max_batch"}` |
//! | `POST /v1/evaluate`, `Content-Type: application/octet-stream`, `Authorization: Bearer TOKEN` | `n × 32` bytes: blinded elements | `n × 32` bytes of evaluated elements, then the 64-byte DLEQ proof of the batch |
//!
//! Nothing from `/v1/info` is trusted: every batch's proof is checked against the public key
//! recorded in the filter, so a service holding another key is refused, whatever it claims.

// Reviewed (#11): `results` has one slot per batch, `i` is the batch index.
#![allow(clippy::indexing_slicing)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::{Blinded, OprfError, PublicKey, ELEMENT_LEN, PROOF_LEN};
use crate::ident::Kind;
use crate::token::Token;

/// The environment variable naming the bearer-token file when `--key-server-token-file` is
/// not given.
pub const TOKEN_FILE_ENV: &str = "LEAKMATCH_KEY_SERVER_TOKEN_FILE";

/// Why a key-service request failed. Never carries an element or a value.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The service refused the request (4xx) or kept failing (5xx).
    #[error("key service {url}: HTTP {status}: {message}")]
    Status {
        /// The URL of the request.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The service's answer, trimmed to 300 characters.
        message: String,
    },
    /// The service could not be reached, after the retries.
    #[error("key service {url}: {message} (after {attempts} attempts)")]
    Transport {
        /// The URL of the request.
        url: String,
        /// The last transport error.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// An answer that does not verify or does not parse.
    #[error("key service {url}: {source}")]
    Oprf {
        /// The URL of the request.
        url: String,
        /// The underlying error.
        source: OprfError,
    },
    /// The bearer-token file.
    #[error("{path}: {message}")]
    TokenFile {
        /// The bearer-token file.
        path: PathBuf,
        /// What is wrong (never the token).
        message: String,
    },
}

impl ClientError {
    /// True for errors of the scanner's input (token file, a filter of another service):
    /// exit code 2; the others (service unreachable, budget spent) are runtime failures.
    pub fn unusable(&self) -> bool {
        matches!(
            self,
            ClientError::TokenFile { .. }
                | ClientError::Oprf { source: OprfError::Verification { .. }, .. }
        )
    }
}

/// What `/v1/info` says about the service.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct Info {
    /// `ristretto255-SHA512`.
    pub suite: String,
    /// `voprf`.
    pub mode: String,
    /// Hex of the service's public key.
    pub public_key: String,
    /// Largest batch the service evaluates in one request.
    pub max_batch: usize,
}

/// How the client talks to the service.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL, e.g. `http://127.0.0.1:8631` or `https://keys.example` (behind a proxy).
    pub url: String,
    /// Bearer token, if the service requires one.
    pub token: Option<String>,
    /// Elements per request (capped by the service's `max_batch`).
    pub batch: usize,
    /// Requests in flight at once.
    pub in_flight: usize,
    /// Attempts per request for transport errors and 5xx answers (backoff 0.1 s, doubling).
    pub attempts: u32,
}

impl ClientConfig {
    /// Defaults: batches of 1024, 4 in flight, 5 attempts.
    pub fn new(url: &str, token: Option<String>) -> ClientConfig {
        ClientConfig {
            url: url.trim_end_matches('/').to_string(),
            token,
            batch: 1024,
            in_flight: 4,
            attempts: 5,
        }
    }
}

/// Reads a bearer token from a file readable by its owner only (as key files).
pub fn read_token_file(path: &Path) -> Result<String, ClientError> {
    let err = |message: String| ClientError::TokenFile { path: path.into(), message };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(err(format!(
                "token file is readable by group or others (mode {mode:04o}); run `chmod 600 {}`",
                path.display()
            )));
        }
    }
    if !meta.is_file() || meta.len() > 4096 {
        return Err(err("not a token file (a regular file of at most 4096 bytes)".into()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let token = text.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(err("expected one token on one line".into()));
    }
    Ok(token.to_string())
}

/// A connection to one key service.
pub struct Client {
    cfg: ClientConfig,
    agent: ureq::Agent,
}

impl Client {
    /// A client for the service of `cfg` (connect timeout 10 s, request timeout 120 s).
    pub fn new(cfg: ClientConfig) -> Client {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build();
        Client { cfg, agent }
    }

    /// The service's description.
    pub fn info(&self) -> Result<Info, ClientError> {
        let url = format!("{}/v1/info", self.cfg.url);
        let resp = self.with_retries(&url, || self.agent.get(&url).call().map_err(Box::new))?;
        let body = read_body(resp, 64 << 10).map_err(|e| self.transport(&url, e, 1))?;
        serde_json::from_slice(&body).map_err(|e| ClientError::Status {
            url,
            status: 200,
            message: format!("not a leakmatch key service (info: {e})"),
        })
    }

    /// Evaluates one blinded batch: the raw answer (elements and proof), not yet verified.
    pub fn evaluate_raw(&self, body: &[u8]) -> Result<Vec<u8>, ClientError> {
        let url = format!("{}/v1/evaluate", self.cfg.url);
        let resp = self.with_retries(&url, || {
            let mut req = self.agent.post(&url).set("Content-Type", "application/octet-stream");
            if let Some(t) = &self.cfg.token {
                req = req.set("Authorization", &format!("Bearer {t}"));
            }
            req.send_bytes(body).map_err(Box::new)
        })?;
        let limit = (body.len() + PROOF_LEN + 1) as u64;
        read_body(resp, limit).map_err(|e| self.transport(&url, e, 1))
    }

    fn transport(&self, url: &str, e: impl std::fmt::Display, attempts: u32) -> ClientError {
        ClientError::Transport { url: url.to_string(), message: e.to_string(), attempts }
    }

    /// Sends with retries on transport errors and 5xx answers; 4xx answers are final.
    fn with_retries(
        &self,
        url: &str,
        send: impl Fn() -> Result<ureq::Response, Box<ureq::Error>>,
    ) -> Result<ureq::Response, ClientError> {
        let attempts = self.cfg.attempts.max(1);
        let mut delay = Duration::from_millis(100);
        let mut last = None;
        for attempt in 1..=attempts {
            match send().map_err(|e| *e) {
                Ok(r) => return Ok(r),
                Err(ureq::Error::Status(status, resp)) => {
                    let message = resp.into_string().unwrap_or_default();
                    let message = message.trim().chars().take(300).collect::<String>();
                    let e = ClientError::Status { url: url.to_string(), status, message };
                    if status < 500 {
                        return Err(e);
                    }
                    last = Some(e);
                }
                Err(ureq::Error::Transport(t)) => last = Some(self.transport(url, t, attempt)),
            }
            if attempt < attempts {
                std::thread::sleep(delay);
                delay *= 2;
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// Evaluates `values` (kind, normalised value) through the service, verifying every
    /// batch against `pk`; returns the tokens in order. `progress(n)` is called as batches of
    /// `n` values finish. Batches are pipelined: `in_flight` requests at once.
    pub fn tokens(
        &self,
        values: &[(Kind, &[u8])],
        pk: &PublicKey,
        max_batch: usize,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<Token>, ClientError> {
        let batch = self.cfg.batch.clamp(1, max_batch.max(1));
        let batches: Vec<&[(Kind, &[u8])]> = values.chunks(batch).collect();
        let results: Vec<Mutex<Option<Vec<Token>>>> =
            batches.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let first_error = Mutex::new(None);
        let url = format!("{}/v1/evaluate", self.cfg.url);
        let worker = || {
            while !failed.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(b) = batches.get(i) else { break };
                match self.one_batch(b, pk, &url) {
                    Ok(t) => {
                        progress(t.len() as u64);
                        *results[i].lock().expect("unpoisoned") = Some(t);
                    }
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        first_error.lock().expect("unpoisoned").get_or_insert(e);
                    }
                }
            }
        };
        std::thread::scope(|s| {
            for _ in 0..self.cfg.in_flight.clamp(1, batches.len().max(1)) {
                s.spawn(worker);
            }
        });
        if let Some(e) = first_error.into_inner().expect("unpoisoned") {
            return Err(e);
        }
        Ok(results
            .into_iter()
            .flat_map(|r| r.into_inner().expect("unpoisoned").expect("every batch answered"))
            .collect())
    }

    fn one_batch(
        &self,
        batch: &[(Kind, &[u8])],
        pk: &PublicKey,
        url: &str,
    ) -> Result<Vec<Token>, ClientError> {
        let oprf = |source| ClientError::Oprf { url: url.to_string(), source };
        let mut inputs = Vec::with_capacity(batch.len());
        for &(kind, value) in batch {
            let mut buf = Vec::with_capacity(value.len() + 1);
            super::input(kind, value, &mut buf);
            inputs.push(buf);
        }
        let kinds: Vec<Kind> = batch.iter().map(|b| b.0).collect();
        let blinded = Blinded::new(&inputs).map_err(oprf)?;
        debug_assert_eq!(blinded.body.len(), batch.len() * ELEMENT_LEN);
        let answer = self.evaluate_raw(&blinded.body)?;
        blinded.finalize(&inputs, &kinds, &answer, pk).map_err(oprf)
    }
}

fn read_body(resp: ureq::Response, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    resp.into_reader().take(limit).read_to_end(&mut body)?;
    Ok(body)
}
