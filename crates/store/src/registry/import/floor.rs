//! The benchmark floor of the import.

use minzheng_domain::registry::ledger::{Counts, Groups, IdMap, Ledger, Plan};

use super::sqlite::{person_vals, PersonVals, SqliteStmts};
use super::{batches, pg};
use crate::bulk::Raw;
use crate::db::{Store, Tx};
use crate::error::Result;

/// The benchmark floor: the rows an import of `ledger` into an empty registry writes
/// (households, persons, incomes, assets), inserted by bare prepared statements stepped in
/// a loop inside one transaction (PostgreSQL: the same COPY batches as the import,
/// without its lookups). Every value is computed before the clock starts; reading and
/// checking the file are not timed. Returns the seconds from the first insert to the
/// commit.
#[doc(hidden)]
pub async fn bench_floor(store: &Store, ledger: &Ledger, groups: &Groups) -> Result<f64> {
    let good: Vec<u32> = (0..groups.len() as u32).collect();
    let vals: Vec<PersonVals> = ledger.rows.iter().map(|r| person_vals(ledger, r)).collect();
    let now = crate::timestamp(chrono::Utc::now());
    let (existing, heads) = (IdMap::new(Vec::new()), IdMap::new(Vec::new()));
    let plan = Plan {
        ledger,
        groups,
        existing: &existing,
        heads: &heads,
        now: &now,
        actor: "bench",
    };
    let mut tx = store.begin_write().await?;
    tx.mark_large();
    let started = std::time::Instant::now();
    match &mut tx.tx {
        Tx::Sqlite(t) => {
            let mut handle = t.lock_handle().await?;
            let raw = Raw::new(&mut handle);
            let mut st = SqliteStmts::prepare(&raw)?;
            for g in 0..groups.len() {
                let head = plan.head_of(g);
                let hid = st.insert_household(ledger, head, &now)?;
                for &i in groups.get(g) {
                    let r = &ledger.rows[i as usize];
                    let pid = st.insert_person(ledger, r, &vals[i as usize], hid, &now)?;
                    st.items(ledger, r, hid, pid, &now)?;
                }
            }
        }
        Tx::Pg(t) => {
            let mut counts = Counts::default();
            for range in batches(groups, &good) {
                pg::write(t, &plan, &good[range], &mut counts, false).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(started.elapsed().as_secs_f64())
}
