//! leakmatch: check a leaked data dump against keyed Bloom filters of a customer base.
//!
//! (Overview written when the pipeline lands.)

pub mod dump;
pub mod filter;
pub mod ident;
pub mod synth;
pub mod token;
