//! `leakmatch key-server`: runs the oblivious key service (`crate::oprf::server`) with the
//! OPRF key of a key file.

use crate::config::KeyServerConfig;
use crate::error;
use crate::oprf::OprfKey;
use crate::token::Key;

pub fn run(cfg: &KeyServerConfig) -> anyhow::Result<u8> {
    let key = OprfKey::from_key(&Key::load_from(cfg.key_file.as_deref())?);
    let pk = key.public_key();
    let s = &cfg.server;
    crate::oprf::server::run(key, s.clone(), |addr| {
        // The test harness and operators read this line for the bound port.
        eprintln!(
            "leakmatch: key server listening on http://{addr} (public key {}, budget {} per {} s \
             per client, batches up to {})",
            pk.hex(),
            s.budget,
            s.window.as_secs(),
            s.max_batch
        );
    })?;
    Ok(error::SUCCESS)
}
