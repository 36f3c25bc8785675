//! A distributed PostgreSQL: minzheng on a Citus cluster (ARCHITECTURE.md, "A province on
//! a distributed PostgreSQL"). The schema is the PostgreSQL one; once migrated, a database
//! with the citus extension has its tables distributed by `migrations/citus/distribute.sql`:
//! every table that carries `county_code` is sharded by it and co-located with households,
//! the small shared tables become reference tables, and `person_ids`, sharded by the ID
//! number itself, keeps the city-wide rule of one person per ID number.

use sqlx::PgConnection;

use crate::db::{q, Store, Tx};
use crate::error::{Result, StoreError};

const DISTRIBUTE: &str = include_str!("../migrations/citus/distribute.sql");

/// Whether the tables are distributed: `person_ids` is made by the distribution alone.
const DISTRIBUTED: &str = "to_regclass('person_ids') IS NOT NULL";

/// The refusal of `minzheng migrate --distributed` (and of [`Store::distribute`]) on a
/// database without the citus extension, with what to do.
pub const NOT_CITUS: &str =
    "该数据库未安装 Citus 扩展，不能分布式部署：请在 Citus 协调节点的数据库中执行 \
     CREATE EXTENSION citus，并用 citus_add_node 加入各工作节点，然后重新执行 \
     minzheng migrate --distributed";

/// How a PostgreSQL database is deployed, as [`Store::deployment`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// SQLite, or PostgreSQL without the citus extension.
    Single,
    /// The citus extension is there, the tables are not distributed yet.
    CitusPending,
    /// The tables are distributed across the cluster.
    Distributed,
}

impl Store {
    /// Whether the tables are distributed.
    pub(crate) async fn is_distributed(&self) -> Result<bool> {
        if !self.is_postgres() {
            return Ok(false);
        }
        self.fetch_one(q(format!("SELECT {DISTRIBUTED} AS d")))
            .await?
            .bool("d")
    }

    /// Whether this database is a plain one, a Citus coordinator not yet distributed, or a
    /// distributed one.
    pub async fn deployment(&self) -> Result<Deployment> {
        if !self.is_postgres() {
            return Ok(Deployment::Single);
        }
        let r = self
            .fetch_one(q(format!(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus,
                        {DISTRIBUTED} AS distributed"
            )))
            .await?;
        Ok(match (r.bool("citus")?, r.bool("distributed")?) {
            (false, _) => Deployment::Single,
            (true, false) => Deployment::CitusPending,
            (true, true) => Deployment::Distributed,
        })
    }

    /// Distributes the migrated tables across the Citus cluster, once: returns whether it
    /// ran now. A database without the citus extension is refused with what to do.
    pub async fn distribute(&self) -> Result<bool> {
        match self.deployment().await? {
            Deployment::Distributed => return Ok(false),
            Deployment::CitusPending => {}
            Deployment::Single => return Err(StoreError::validation(NOT_CITUS)),
        }
        let mut tx = self.begin_write().await?;
        tx.execute(q("SELECT pg_advisory_xact_lock(7340001)"))
            .await?;
        // The persons table's search-key triggers only touch the co-located shard of
        // person_name_parts, which Citus allows once asked.
        tx.execute(q("SET LOCAL citus.enable_unsafe_triggers = on"))
            .await?;
        // Another server may have distributed it while this one waited for the lock.
        if keeps_person_ids(&mut tx).await? {
            return Ok(false);
        }
        tx.execute(q(DISTRIBUTE)).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Whether the database keeps the city-wide ID numbers in `person_ids` (a distributed
/// one): the writes of a person then keep it in the same transaction.
///
/// (Asked of the transaction: a store opened before the distribution ran has not yet
/// found it.)
pub(crate) async fn keeps_person_ids(tx: &mut Tx) -> Result<bool> {
    match tx {
        Tx::Pg(t) => pg_distributed(t).await,
        Tx::Sqlite(_) => Ok(false),
    }
}

/// [`keeps_person_ids`] on a PostgreSQL connection of the bulk paths.
pub(crate) async fn pg_distributed(conn: &mut PgConnection) -> Result<bool> {
    Ok(sqlx::query_scalar(&format!("SELECT {DISTRIBUTED}"))
        .fetch_one(conn)
        .await?)
}

/// The refusal of an ID number another person holds, as the registry words it.
pub(crate) fn taken(id_number: &str) -> StoreError {
    StoreError::Conflict(format!(
        "身份证号{}已登记为他人，不能重复登记",
        crate::mask_id(id_number)
    ))
}

/// ` AND {a}.county_code = {b}.county_code` on a distributed database (a join a cluster
/// answers on one node), nothing on a single server, whose planner would take the two
/// conditions on the county as independent and misjudge the join.
pub(crate) fn same_county(distributed: bool, a: &str, b: &str) -> String {
    if distributed {
        format!(" AND {a}.county_code = {b}.county_code")
    } else {
        String::new()
    }
}

/// Records `person_id`'s ID number in `person_ids` (a distributed database), or refuses it
/// when another person holds it anywhere in the city.
pub(crate) async fn claim_id_number(
    tx: &mut Tx,
    id_number: &str,
    person_id: i64,
    county: &str,
) -> Result<()> {
    let n = tx
        .execute(
            q(
                "INSERT INTO person_ids (id_number, person_id, home_county) VALUES ($1, $2, $3)
               ON CONFLICT (id_number) DO UPDATE SET home_county = EXCLUDED.home_county
               WHERE person_ids.person_id = EXCLUDED.person_id",
            )
            .bind(id_number)
            .bind(person_id)
            .bind(county),
        )
        .await?;
    if n == 0 {
        return Err(taken(id_number));
    }
    Ok(())
}

/// Forgets the ID numbers `person_id` held but `keep` (None: all of them).
pub(crate) async fn release_id_numbers(
    tx: &mut Tx,
    person_id: i64,
    keep: Option<&str>,
) -> Result<()> {
    tx.execute(
        q("DELETE FROM person_ids WHERE person_id = $1 AND id_number IS DISTINCT FROM $2")
            .bind(person_id)
            .bind(keep.map(str::to_string)),
    )
    .await?;
    Ok(())
}
