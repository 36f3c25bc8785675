//! Whole databases on a PostgreSQL server: the benchmarks (and the test suites) work in a
//! database of their own, created for the run and dropped after it.

use crate::db::Store;
use crate::error::{StoreError, StoreResult};

/// Replaces the database name in a PostgreSQL URL.
pub fn with_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_part_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A database name we create and drop: letters, digits and `_` only, so it can be written
/// into the statement (identifiers cannot be bound).
fn checked_name(name: &str) -> StoreResult<&str> {
    if !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
    {
        Ok(name)
    } else {
        Err(StoreError::validation(format!(
            "数据库名“{name}”无效：只能包含字母、数字和下划线"
        )))
    }
}

/// Creates (after dropping any leftover of the same name) an empty database `name` on the
/// server of `admin_url`; returns its URL. When that server is a Citus coordinator (its
/// admin database has the citus extension and lists worker nodes), the database is made on
/// every node, with the extension, and the coordinator's copy lists the same workers: the
/// new database is a cluster of its own, which migrating distributes.
pub async fn create_database(admin_url: &str, name: &str) -> StoreResult<String> {
    let name = checked_name(name)?;
    let admin = Store::connect(admin_url).await?;
    let result = async {
        let nodes = cluster_nodes(&admin).await?;
        for url in nodes.iter().map(|n| n.admin_url(admin_url)) {
            recreate(&url, name).await?;
        }
        admin
            .execute_unchecked(&format!("DROP DATABASE IF EXISTS {name}"))
            .await?;
        admin
            .execute_unchecked(&format!("CREATE DATABASE {name}"))
            .await?;
        if let Some(coordinator) = coordinator_of(&admin).await? {
            // One new database joins the cluster at a time: adding the nodes copies the
            // roles to every worker, and two at once collide there.
            let mut one_at_a_time = admin.begin_write().await?;
            one_at_a_time
                .execute(crate::db::q("SELECT pg_advisory_xact_lock(7340003)"))
                .await?;
            for url in nodes
                .iter()
                .map(|n| with_db_name(&n.admin_url(admin_url), name))
            {
                let worker = Store::connect(&url).await?;
                let made = worker.execute_unchecked("CREATE EXTENSION citus").await;
                worker.close().await;
                made?;
            }
            let db = Store::connect(&with_db_name(admin_url, name)).await?;
            let made = async {
                db.execute_unchecked("CREATE EXTENSION citus").await?;
                db.execute_unchecked(&format!(
                    "SELECT citus_set_coordinator_host('{}', {})",
                    coordinator.host, coordinator.port
                ))
                .await?;
                for n in &nodes {
                    db.execute_unchecked(&format!(
                        "SELECT citus_add_node('{}', {})",
                        n.host, n.port
                    ))
                    .await?;
                }
                Ok::<_, StoreError>(())
            }
            .await;
            db.close().await;
            made?;
            one_at_a_time.commit().await?;
        }
        Ok::<_, StoreError>(())
    }
    .await;
    admin.close().await;
    result?;
    Ok(with_db_name(admin_url, name))
}

/// Drops the database `name` on the server of `admin_url` (and on its Citus workers),
/// closing its connections.
pub async fn drop_database(admin_url: &str, name: &str) -> StoreResult<()> {
    let name = checked_name(name)?;
    let admin = Store::connect(admin_url).await?;
    let result = async {
        admin
            .execute_unchecked(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        for n in cluster_nodes(&admin).await? {
            let worker = Store::connect(&n.admin_url(admin_url)).await?;
            let dropped = worker
                .execute_unchecked(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            worker.close().await;
            dropped?;
        }
        Ok::<_, StoreError>(())
    }
    .await;
    admin.close().await;
    result
}

/// A node of a Citus cluster, as the coordinator lists it.
struct Node {
    host: String,
    port: i64,
}

impl Node {
    /// `admin_url` (the coordinator's) with this node's host and port.
    fn admin_url(&self, admin_url: &str) -> String {
        let scheme_end = admin_url.find("://").map(|i| i + 3).unwrap_or(0);
        let rest = &admin_url[scheme_end..];
        let path_at = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..path_at];
        let user = authority.rfind('@').map(|i| &authority[..=i]).unwrap_or("");
        format!(
            "{}{user}{}:{}{}",
            &admin_url[..scheme_end],
            self.host,
            self.port,
            &rest[path_at..]
        )
    }
}

/// The Citus worker nodes the server of `admin` lists (none on a plain PostgreSQL).
async fn cluster_nodes(admin: &Store) -> StoreResult<Vec<Node>> {
    if !has_citus(admin).await? {
        return Ok(Vec::new());
    }
    admin
        .fetch_all(crate::db::q(
            "SELECT nodename, nodeport::bigint AS nodeport FROM pg_dist_node
             WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodeid",
        ))
        .await?
        .iter()
        .map(|r| {
            Ok(Node {
                host: r.str("nodename")?,
                port: r.i64("nodeport")?,
            })
        })
        .collect()
}

/// The coordinator's own entry, when `admin` is a Citus coordinator's database.
async fn coordinator_of(admin: &Store) -> StoreResult<Option<Node>> {
    if !has_citus(admin).await? {
        return Ok(None);
    }
    let r = admin
        .fetch_optional(crate::db::q(
            "SELECT nodename, nodeport::bigint AS nodeport FROM pg_dist_node WHERE groupid = 0",
        ))
        .await?;
    r.map(|r| {
        Ok(Node {
            host: r.str("nodename")?,
            port: r.i64("nodeport")?,
        })
    })
    .transpose()
}

async fn has_citus(admin: &Store) -> StoreResult<bool> {
    admin
        .fetch_one(crate::db::q(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS c",
        ))
        .await?
        .bool("c")
}

/// Drops and creates `name` on the server of `url`.
async fn recreate(url: &str, name: &str) -> StoreResult<()> {
    let server = Store::connect(url).await?;
    let result = async {
        server
            .execute_unchecked(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        server
            .execute_unchecked(&format!("CREATE DATABASE {name}"))
            .await
    }
    .await;
    server.close().await;
    result.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_database_name() {
        assert_eq!(
            with_db_name("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_db_name("postgres://u@h/test?sslmode=disable", "y"),
            "postgres://u@h/y?sslmode=disable"
        );
        assert_eq!(with_db_name("postgres://u@h", "z"), "postgres://u@h/z");
    }

    #[test]
    fn a_worker_is_reached_with_the_coordinators_user_and_database() {
        let n = Node {
            host: "10.0.0.2".into(),
            port: 5441,
        };
        assert_eq!(
            n.admin_url("postgres://postgres@127.0.0.1:5440/postgres"),
            "postgres://postgres@10.0.0.2:5441/postgres"
        );
        assert_eq!(
            n.admin_url("postgres://u:p@h/db?sslmode=disable"),
            "postgres://u:p@10.0.0.2:5441/db?sslmode=disable"
        );
    }

    #[test]
    fn database_names_are_identifiers() {
        assert!(checked_name("mz_bench_12_import").is_ok());
        for bad in ["", "x; DROP TABLE users", "a-b", "1abc", "名字"] {
            assert!(checked_name(bad).is_err(), "{bad}");
        }
    }
}
