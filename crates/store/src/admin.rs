//! Whole databases on a PostgreSQL server: the benchmarks (and the test suites) work in a
//! database of their own, created for the run and dropped after it.

use crate::db::Store;
use crate::error::{Result, StoreError};

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
fn checked_name(name: &str) -> Result<&str> {
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
pub async fn create_database(admin_url: &str, name: &str) -> Result<String> {
    let name = checked_name(name)?;
    let url = with_db_name(admin_url, name);
    let recreate = [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ];
    let Some(cluster) = cluster(admin_url).await? else {
        run_on(admin_url, &recreate).await?;
        return Ok(url);
    };
    for worker in &cluster.workers {
        run_on(&worker.url_like(admin_url), &recreate).await?;
    }
    run_on(admin_url, &recreate).await?;
    // One new database joins the cluster at a time: adding the nodes copies the roles to
    // every worker, and two at once collide there.
    let admin = Store::connect(admin_url).await?;
    let joined = async {
        let mut one_at_a_time = admin.begin_write().await?;
        one_at_a_time
            .execute(crate::db::q("SELECT pg_advisory_xact_lock(7340003)"))
            .await?;
        let extension = ["CREATE EXTENSION citus".to_string()];
        for worker in &cluster.workers {
            run_on(&with_db_name(&worker.url_like(admin_url), name), &extension).await?;
        }
        let mut setup = extension.to_vec();
        if let Some(c) = &cluster.coordinator {
            setup.push(format!(
                "SELECT citus_set_coordinator_host('{}', {})",
                c.host, c.port
            ));
        }
        for w in &cluster.workers {
            setup.push(format!("SELECT citus_add_node('{}', {})", w.host, w.port));
        }
        run_on(&url, &setup).await?;
        one_at_a_time.commit().await
    }
    .await;
    admin.close().await;
    joined?;
    Ok(url)
}

/// Sets how many shards each table of the database `name` is cut into when migrating
/// distributes it (`citus.shard_count` on the database; Citus's default is 32); nothing on a
/// plain PostgreSQL server. The test databases take few: each makes its shards on every
/// worker, and a query that spans counties visits every shard.
pub async fn set_shard_count(admin_url: &str, name: &str, shards: u32) -> Result<()> {
    let name = checked_name(name)?;
    if cluster(admin_url).await?.is_none() {
        return Ok(());
    }
    run_on(
        admin_url,
        &[format!(
            "ALTER DATABASE {name} SET citus.shard_count = {shards}"
        )],
    )
    .await
}

/// Drops the database `name` on the server of `admin_url` (and on its Citus workers),
/// closing its connections.
pub async fn drop_database(admin_url: &str, name: &str) -> Result<()> {
    let name = checked_name(name)?;
    let drop = [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")];
    run_on(admin_url, &drop).await?;
    for worker in cluster(admin_url)
        .await?
        .map(|c| c.workers)
        .unwrap_or_default()
    {
        run_on(&worker.url_like(admin_url), &drop).await?;
    }
    Ok(())
}

/// Runs `statements` in order on the database of `url`, on a connection of its own.
async fn run_on(url: &str, statements: &[String]) -> Result<()> {
    let server = Store::connect(url).await?;
    let mut result = Ok(());
    for sql in statements {
        result = server.execute_unchecked(sql).await.map(|_| ());
        if result.is_err() {
            break;
        }
    }
    server.close().await;
    result
}

/// A node of a Citus cluster, as the coordinator lists it.
struct Node {
    host: String,
    port: i64,
}

impl Node {
    /// `url` (the coordinator's) with this node's host and port.
    fn url_like(&self, url: &str) -> String {
        let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
        let rest = &url[scheme_end..];
        let path_at = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..path_at];
        let user = authority.rfind('@').map(|i| &authority[..=i]).unwrap_or("");
        format!(
            "{}{user}{}:{}{}",
            &url[..scheme_end],
            self.host,
            self.port,
            &rest[path_at..]
        )
    }
}

/// A Citus cluster as its coordinator lists it: the coordinator's own entry (when it has
/// one) and the primary workers.
struct Cluster {
    coordinator: Option<Node>,
    workers: Vec<Node>,
}

/// The cluster of the server of `admin_url`; `None` on a plain PostgreSQL (no citus
/// extension in its admin database).
async fn cluster(admin_url: &str) -> Result<Option<Cluster>> {
    let admin = Store::connect(admin_url).await?;
    let read = async {
        let citus = admin
            .fetch_one(crate::db::q(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS c",
            ))
            .await?
            .bool("c")?;
        if !citus {
            return Ok(None);
        }
        let mut cluster = Cluster {
            coordinator: None,
            workers: Vec::new(),
        };
        for r in admin
            .fetch_all(crate::db::q(
                "SELECT groupid = 0 AS coordinator, nodename, nodeport::bigint AS nodeport
                 FROM pg_dist_node WHERE noderole = 'primary' ORDER BY nodeid",
            ))
            .await?
        {
            let node = Node {
                host: r.str("nodename")?,
                port: r.i64("nodeport")?,
            };
            if r.bool("coordinator")? {
                cluster.coordinator = Some(node);
            } else {
                cluster.workers.push(node);
            }
        }
        Ok(Some(cluster))
    }
    .await;
    admin.close().await;
    read
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
            n.url_like("postgres://postgres@127.0.0.1:5440/postgres"),
            "postgres://postgres@10.0.0.2:5441/postgres"
        );
        assert_eq!(
            n.url_like("postgres://u:p@h/db?sslmode=disable"),
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
