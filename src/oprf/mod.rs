//! Oblivious PRF tokens (RFC 9497, VOPRF mode, ristretto255 + SHA-512): the key never leaves
//! the data owner.
//!
//! With keyed tokens ([`crate::token`]) whoever scans holds the key, and filter + key is a
//! membership oracle. With OPRF tokens the data owner keeps the key in a key service
//! (`leakmatch key-server`, `server`); a scanner blinds each normalised identifier, the
//! service evaluates the blinded element without learning it and proves (DLEQ, RFC 9497 §2.2)
//! that it used the key whose public key the filter names; the scanner unblinds, verifies,
//! and derives the token ([`token_of`]). The data owner's own `build` evaluates the same
//! function locally ([`OprfKey::evaluate`]): RFC 9497 guarantees both give the same output.
//!
//! | step | value |
//! |---|---|
//! | OPRF input | `kind tag ‖ normalised value` ([`input`]) |
//! | OPRF key | `DeriveKeyPair(seed, "leakmatch oprf v1")` (RFC 9497 §3.2.1), seed = BLAKE3 `derive_key("leakmatch 2026-12 oprf key seed v1", key)` of the leakmatch [`Key`] |
//! | OPRF output | 64 bytes (`Finalize`, SHA-512) |
//! | token | first 16 bytes of BLAKE3 `derive_key("leakmatch 2026-12 oprf token v1", tag ‖ output)`, little-endian |
//! | key id in the header | first 16 bytes of BLAKE3 `derive_key("leakmatch 2026-12 oprf key id v1", public key)` |
//! | trailer "MAC" key | BLAKE3 `derive_key("leakmatch 2026-12 oprf filter check v1", public key)`: public, so an integrity check only |
//!
//! The token then takes the same path as a keyed token (positions, pairs by [`crate::token::pair`]).
//! Cost: one evaluation is a hash-to-curve and scalar multiplications, tens of microseconds,
//! against tens of nanoseconds for SipHash (`benches/README.md`, group `oprf`).

use std::fmt;

use rand::rngs::OsRng;
use voprf::{BlindedElement, EvaluationElement, Group, Proof, VoprfClient, VoprfServer};

use crate::ident::Kind;
use crate::token::{Key, KeyId, Token};

pub(crate) mod client;
pub(crate) mod server;
pub(crate) mod table;

/// The RFC 9497 cipher suite: ristretto255 with SHA-512.
pub type Suite = voprf::Ristretto255;
/// Bytes of a serialised group element (blinded or evaluated).
pub const ELEMENT_LEN: usize = 32;
/// Bytes of a serialised DLEQ proof (two scalars).
pub const PROOF_LEN: usize = 64;
/// The suite's name as RFC 9497 spells it (also sent by the key service's `/v1/info`).
pub const SUITE_NAME: &str = "ristretto255-SHA512";

const CTX_SEED: &str = "leakmatch 2026-12 oprf key seed v1";
const DKP_INFO: &[u8] = b"leakmatch oprf v1";
const CTX_TOKEN: &str = "leakmatch 2026-12 oprf token v1";
const CTX_KEY_ID: &str = "leakmatch 2026-12 oprf key id v1";
const CTX_CHECK: &str = "leakmatch 2026-12 oprf filter check v1";

/// Why an OPRF step failed. Names positions in a batch, never an element or a value.
#[derive(Debug, thiserror::Error)]
pub enum OprfError {
    /// A blinded element that is not a valid, non-identity ristretto255 point.
    #[error("blinded element {index} of the batch is not a valid ristretto255 point")]
    BadPoint {
        /// Position of the element in the batch (0-based).
        index: usize,
    },
    /// A body that is not a whole number of elements.
    #[error("body of {len} bytes is not a whole number of {ELEMENT_LEN}-byte elements")]
    BadLength {
        /// The body's length, in bytes.
        len: usize,
    },
    /// The batch is empty.
    #[error("empty batch")]
    Empty,
    /// The key service's answer does not verify under the filter's public key.
    #[error(
        "the key service's evaluations do not verify under the filter's public key {expected}: \
         it holds another key than the filter was built with (or answers falsely)"
    )]
    Verification {
        /// Hex of the filter's public key.
        expected: String,
    },
    /// An answer of the wrong size.
    #[error("key service answered {got} bytes for {n} elements (expected {expected})")]
    BadResponse {
        /// Elements sent.
        n: usize,
        /// Bytes answered.
        got: usize,
        /// Bytes expected (`n` elements and the proof).
        expected: usize,
    },
    /// A public key that is not a point.
    #[error("public key {0} is not a valid ristretto255 point")]
    BadPublicKey(String),
    /// An internal error of the OPRF library (input too long, ...).
    #[error("OPRF computation failed: {0}")]
    Internal(&'static str),
}

/// The key service's public key (a compressed ristretto255 point): names the OPRF key in
/// filter headers, and verifies the service's proofs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(pub [u8; 32]);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.hex())
    }
}

impl PublicKey {
    /// Lowercase hex.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The key id filters of this public key carry (in place of a keyed filter's key id).
    pub fn id(&self) -> KeyId {
        let d = blake3::derive_key(CTX_KEY_ID, &self.0);
        d[..16].try_into().expect("16 of 32 bytes")
    }

    /// The key of an OPRF filter's trailing keyed hash. It is derived from the public key, so
    /// anyone can check it: in OPRF mode the trailer detects damage, not tampering.
    pub fn check_key(&self) -> [u8; 32] {
        blake3::derive_key(CTX_CHECK, &self.0)
    }

    /// True when the bytes are a valid, non-identity ristretto255 point.
    pub fn is_valid(&self) -> bool {
        self.element().is_ok()
    }

    fn element(&self) -> Result<<Suite as Group>::Elem, OprfError> {
        <Suite as Group>::deserialize_elem(&self.0).map_err(|_| OprfError::BadPublicKey(self.hex()))
    }
}

/// The OPRF input of a normalised value of `kind`: `tag ‖ value`, written into `buf`.
pub fn input(kind: Kind, value: &[u8], buf: &mut Vec<u8>) {
    buf.clear();
    buf.push(kind.tag());
    buf.extend_from_slice(value);
}

/// The token of an OPRF output for `kind` (domain-separated per kind and from keyed tokens).
pub fn token_of(kind: Kind, output: &[u8]) -> Token {
    let mut h = blake3::Hasher::new_derive_key(CTX_TOKEN);
    h.update(&[kind.tag()]);
    h.update(output);
    let d = h.finalize();
    u128::from_le_bytes(d.as_bytes()[..16].try_into().expect("16 bytes"))
}

/// The OPRF private key, held by the data owner (its build) and the key service.
#[derive(Clone)]
pub struct OprfKey {
    server: VoprfServer<Suite>,
}

impl fmt::Debug for OprfKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OprfKey {{ public: {} }}", self.public_key().hex())
    }
}

impl OprfKey {
    /// The OPRF key derived from a leakmatch key (RFC 9497 `DeriveKeyPair`): one key file
    /// serves both modes, and its loading checks (permissions, format) apply.
    pub fn from_key(key: &Key) -> OprfKey {
        let seed = key.derive_subkey(CTX_SEED);
        let server = VoprfServer::<Suite>::new_from_seed(&seed[..], DKP_INFO)
            .expect("DeriveKeyPair fails with probability 2^-256 per counter, 256 counters");
        OprfKey { server }
    }

    /// The public key filters built with this key record.
    pub fn public_key(&self) -> PublicKey {
        let pk = <Suite as Group>::serialize_elem(self.server.get_public_key());
        PublicKey(pk.as_slice().try_into().expect("32-byte element"))
    }

    /// The token of a normalised value, evaluated locally (the data owner's build): equal to
    /// what a scanner gets through the key service.
    pub fn evaluate(&self, kind: Kind, value: &[u8]) -> Token {
        let mut buf = Vec::with_capacity(value.len() + 1);
        input(kind, value, &mut buf);
        let out = self.server.evaluate(&buf).expect("inputs are short and non-empty");
        token_of(kind, &out)
    }

    /// The key service's work: evaluates a batch of blinded elements (`n × 32` bytes) and
    /// returns `n × 32` bytes of evaluated elements followed by the 64-byte batch proof.
    pub fn blind_evaluate(&self, body: &[u8]) -> Result<Vec<u8>, OprfError> {
        self.blind_evaluate_parsed(&parse_elements(body)?)
    }

    /// [`blind_evaluate`](Self::blind_evaluate) of elements already parsed.
    pub fn blind_evaluate_parsed(
        &self,
        blinded: &[BlindedElement<Suite>],
    ) -> Result<Vec<u8>, OprfError> {
        let blinded = blinded.to_vec();
        let result = self
            .server
            .batch_blind_evaluate(&mut OsRng, &blinded)
            .map_err(|_| OprfError::Internal("batch evaluation"))?;
        let mut out = Vec::with_capacity(blinded.len() * ELEMENT_LEN + PROOF_LEN);
        for m in &result.messages {
            out.extend_from_slice(&m.serialize());
        }
        out.extend_from_slice(&result.proof.serialize());
        Ok(out)
    }
}

/// Parses a body of concatenated blinded elements, naming the first bad one.
pub fn parse_elements(body: &[u8]) -> Result<Vec<BlindedElement<Suite>>, OprfError> {
    if body.is_empty() {
        return Err(OprfError::Empty);
    }
    if !body.len().is_multiple_of(ELEMENT_LEN) {
        return Err(OprfError::BadLength { len: body.len() });
    }
    body.chunks_exact(ELEMENT_LEN)
        .enumerate()
        .map(|(index, c)| BlindedElement::deserialize(c).map_err(|_| OprfError::BadPoint { index }))
        .collect()
}

/// A blinded batch, ready to send: the request body and the blinds to unblind the answer.
pub struct Blinded {
    clients: Vec<VoprfClient<Suite>>,
    /// The request body: the blinded elements, concatenated.
    pub body: Vec<u8>,
}

impl Blinded {
    /// Blinds each OPRF input ([`input`]) with a fresh random scalar.
    pub fn new(inputs: &[Vec<u8>]) -> Result<Blinded, OprfError> {
        let mut clients = Vec::with_capacity(inputs.len());
        let mut body = Vec::with_capacity(inputs.len() * ELEMENT_LEN);
        for i in inputs {
            let r = VoprfClient::<Suite>::blind(i, &mut OsRng)
                .map_err(|_| OprfError::Internal("blind"))?;
            body.extend_from_slice(&r.message.serialize());
            clients.push(r.state);
        }
        Ok(Blinded { clients, body })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Verifies the service's `response` against `pk`, unblinds, and returns each input's
    /// token (`kinds[i]` is the kind of `inputs[i]`).
    pub fn finalize(
        &self,
        inputs: &[Vec<u8>],
        kinds: &[Kind],
        response: &[u8],
        pk: &PublicKey,
    ) -> Result<Vec<Token>, OprfError> {
        let n = self.clients.len();
        let expected = n * ELEMENT_LEN + PROOF_LEN;
        if response.len() != expected {
            return Err(OprfError::BadResponse { n, got: response.len(), expected });
        }
        let verification = || OprfError::Verification { expected: pk.hex() };
        let (elements, proof) = response.split_at(n * ELEMENT_LEN);
        let messages = elements
            .chunks_exact(ELEMENT_LEN)
            .map(EvaluationElement::<Suite>::deserialize)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| verification())?;
        let proof = Proof::<Suite>::deserialize(proof).map_err(|_| verification())?;
        let inputs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        let outputs =
            VoprfClient::batch_finalize(&inputs, &self.clients, &messages, &proof, pk.element()?)
                .map_err(|_| verification())?;
        outputs
            .zip(kinds)
            .map(|(o, &k)| o.map(|o| token_of(k, &o)).map_err(|_| OprfError::Internal("finalize")))
            .collect()
    }
}

#[cfg(test)]
mod tests;
