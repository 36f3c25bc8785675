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
/// server of `admin_url`; returns its URL.
pub async fn create_database(admin_url: &str, name: &str) -> StoreResult<String> {
    let name = checked_name(name)?;
    let admin = Store::connect(admin_url).await?;
    let result = async {
        admin
            .execute_unchecked(&format!("DROP DATABASE IF EXISTS {name}"))
            .await?;
        admin
            .execute_unchecked(&format!("CREATE DATABASE {name}"))
            .await
    }
    .await;
    admin.close().await;
    result?;
    Ok(with_db_name(admin_url, name))
}

/// Drops the database `name` on the server of `admin_url`, closing its connections.
pub async fn drop_database(admin_url: &str, name: &str) -> StoreResult<()> {
    let name = checked_name(name)?;
    let admin = Store::connect(admin_url).await?;
    let result = admin
        .execute_unchecked(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    admin.close().await;
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
    fn database_names_are_identifiers() {
        assert!(checked_name("mz_bench_12_import").is_ok());
        for bad in ["", "x; DROP TABLE users", "a-b", "1abc", "名字"] {
            assert!(checked_name(bad).is_err(), "{bad}");
        }
    }
}
