//! `leakmatch keygen --out FILE`

use std::path::Path;

use crate::error;
use crate::token::Key;

pub fn run(out: &Path, quiet: bool) -> anyhow::Result<u8> {
    let key = Key::generate()?;
    key.write_new(out)?;
    if quiet {
        return Ok(error::SUCCESS);
    }
    eprintln!(
        "leakmatch: wrote key {} (id {}), mode 0600. Keep it apart from the filters: filter + key \
         = a membership oracle.",
        out.display(),
        hex::encode(key.id())
    );
    Ok(error::SUCCESS)
}
