//! What `minzheng bench import` measures besides the import itself.

use std::path::Path;

use minzheng_domain::registry::ledger::Groups;

use super::import::{read, ImportInput};
use super::today;
use crate::{App, Error, Result};

/// The floor of an import of the ledger at `path` into this (empty) database: the same
/// rows inserted by bare prepared statements (see the store's `bench_floor`). Reading and
/// checking the file are not timed. Returns the seconds.
pub async fn floor(app: &App, path: &Path) -> Result<f64> {
    let input = ImportInput::Path(path.to_path_buf());
    let (_, ledger) =
        read::read_ledger(&input, u64::MAX, app.limits(), false, today(), &mut |_| {});
    let ledger = ledger.map_err(|i| Error::Internal(i.reason))?;
    let groups = Groups::of(&ledger.rows);
    Ok(minzheng_store::registry::import::bench_floor(app.store(), &ledger, &groups).await?)
}

/// After an import: the seconds of the SQLite write-ahead-log copy its commit left to the
/// background (timed on its own so the figure is on record), and whether the audit chain
/// is intact.
pub async fn settle(app: &App) -> Result<(f64, bool)> {
    let checkpoint = app.store().checkpoint().await?.as_secs_f64();
    let audit = app.audit().verify().await?;
    Ok((checkpoint, audit.first_break.is_none()))
}
