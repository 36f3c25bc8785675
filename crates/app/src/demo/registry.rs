//! The demo registry: synthetic households all over the demo city.

use minzheng_domain::Actor;

use super::Demo;
use crate::formats::ledger::ledger_csv;
use crate::formats::synthetic::{demo_villages, generate_ledger};
use crate::registry::import::{ImportInput, ImportOptions};
use crate::{Error, Result};

impl Demo<'_> {
    /// Fills the demo city with `households` synthetic households (one import, one audit
    /// record; deterministic for `seed`) when the registry is still empty. Returns how many
    /// households were added.
    pub async fn registry(&self, households: usize, seed: u64) -> Result<usize> {
        let system = Actor::system("demo");
        let (existing, _) = self.app.registry().counts(&system).await?;
        if existing > 0 {
            return Ok(0);
        }
        let rows = generate_ledger(households, seed, &demo_villages());
        let report = self
            .app
            .registry()
            .import(
                &system,
                &ImportInput::Bytes {
                    name: "demo-ledger.csv".into(),
                    data: ledger_csv(&rows)?,
                },
                &ImportOptions {
                    max_bytes: u64::MAX,
                    ..Default::default()
                },
                &mut |_| {},
            )
            .await?;
        if !report.written {
            return Err(Error::Internal(format!(
                "演示台账导入失败：{:?}",
                report.issues.first()
            )));
        }
        Ok(report.households_created)
    }
}
