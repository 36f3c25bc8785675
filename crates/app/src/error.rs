//! The one error of the use cases. Each carries a Chinese message a clerk can act on; the
//! web server turns it into a status and a JSON body or an error page, the command line
//! prints it.

use std::collections::BTreeMap;

use minzheng_domain::FieldErrors;
use minzheng_store::StoreError;

/// The use cases' result: an [`Error`] unless said otherwise.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The record does not exist, or exists outside the caller's jurisdiction (we do not
    /// reveal which).
    #[error("未找到{0}，或不在您的管辖范围内")]
    NotFound(&'static str),
    /// Visible, but the caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Bad input, with per-field messages.
    #[error("{message}")]
    Validation {
        message: String,
        fields: BTreeMap<String, String>,
    },
    /// The change conflicts with the records as they are (a duplicate, an illegal state, a
    /// concurrent change).
    #[error("{0}")]
    Conflict(String),
    /// A database failure: the details go to the log, not to the user.
    #[error("数据库操作失败，请稍后重试或联系管理员")]
    Database(String),
    /// Anything else that is not the user's fault.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// Bad input without a particular field.
    pub fn validation(message: impl Into<String>) -> Self {
        Error::Validation {
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }

    /// Bad input in one field; the message is also the summary.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut fields = BTreeMap::new();
        fields.insert(field.to_string(), message.clone());
        Error::Validation { message, fields }
    }

    /// Whether this is an internal failure, to be logged where it is reported.
    pub fn is_internal(&self) -> bool {
        matches!(self, Error::Database(_) | Error::Internal(_))
    }

    /// The log line of an internal failure (the user sees only the generic message).
    pub fn detail(&self) -> String {
        match self {
            Error::Database(d) => d.clone(),
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Error::NotFound(what),
            StoreError::Validation { message, fields } => Error::Validation { message, fields },
            StoreError::Conflict(m) => Error::Conflict(m),
            StoreError::Db(d) => Error::Database(d.to_string()),
            StoreError::Internal(m) => Error::Internal(m),
        }
    }
}

impl From<FieldErrors> for Error {
    fn from(f: FieldErrors) -> Self {
        Error::Validation {
            message: f.message(),
            fields: f.into_map(),
        }
    }
}
