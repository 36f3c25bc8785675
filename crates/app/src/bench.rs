//! Benchmark support shared by `minzheng bench …`: a scratch database of the run's own —
//! a SQLite file in a temporary directory, or a database created on a PostgreSQL server —
//! dropped when the run ends.

use std::path::PathBuf;

use crate::Result;

/// A database made for one benchmark run.
pub struct ScratchDb {
    /// Where to open it.
    pub url: String,
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

impl ScratchDb {
    /// A fresh SQLite file (`postgres` is `None`), or a fresh database named after `tag`
    /// and this process on the PostgreSQL server of the `postgres` admin URL.
    pub async fn create(postgres: Option<&str>, tag: &str) -> Result<ScratchDb> {
        let tag: String = tag
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let name = format!("mz_bench_{}_{tag}", std::process::id());
        match postgres {
            None => {
                let dir = std::env::temp_dir().join(format!("minzheng-bench-{name}"));
                std::fs::create_dir_all(&dir).map_err(|e| {
                    crate::Error::Internal(format!("无法创建临时目录{}：{e}", dir.display()))
                })?;
                Ok(ScratchDb {
                    url: format!("sqlite://{}", dir.join("bench.db").display()),
                    dir: Some(dir),
                    pg: None,
                })
            }
            Some(admin) => {
                let url = minzheng_store::admin::create_database(admin, &name).await?;
                Ok(ScratchDb {
                    url,
                    dir: None,
                    pg: Some((admin.to_string(), name)),
                })
            }
        }
    }

    /// The directory of a SQLite scratch database (for files the run writes beside it).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_deref()
    }

    /// Removes the database (and its directory).
    pub async fn remove(self) {
        if let Some(d) = self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
        if let Some((admin, name)) = self.pg {
            let _ = minzheng_store::admin::drop_database(&admin, &name).await;
        }
    }
}
