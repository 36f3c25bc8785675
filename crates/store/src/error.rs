//! Store errors: each carries a Chinese message a clerk can act on.

use std::collections::BTreeMap;

/// The store's result: a [`StoreError`] unless said otherwise.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist, or exists outside the caller's jurisdiction (we do not
    /// reveal which).
    #[error("未找到{0}，或不在您的管辖范围内")]
    NotFound(&'static str),
    /// Input the store cannot use (a malformed database address, a benchmark asked for
    /// an empty division).
    #[error("{message}")]
    Validation {
        message: String,
        fields: BTreeMap<String, String>,
    },
    /// The change conflicts with existing data (duplicate, illegal state).
    #[error("{0}")]
    Conflict(String),
    /// A database failure; the details go to the log, not to the user.
    #[error("数据库操作失败，请稍后重试或联系管理员")]
    Db(#[from] sqlx::Error),
    /// Anything else that is not the user's fault.
    #[error("{0}")]
    Internal(String),
}

impl StoreError {
    pub fn validation(message: impl Into<String>) -> Self {
        StoreError::Validation {
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }

    /// Whether this wraps a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }

    /// Whether this wraps a violation of the named unique index (PostgreSQL names it;
    /// SQLite does not, so there this is never true).
    /// The constraint (or unique index) a unique violation names.
    pub fn unique_violation(&self) -> Option<&str> {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation() => e.constraint(),
            _ => None,
        }
    }

    pub fn is_unique_violation_of(&self, index: &str) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => {
                e.is_unique_violation() && e.constraint() == Some(index)
            }
            _ => false,
        }
    }
}
