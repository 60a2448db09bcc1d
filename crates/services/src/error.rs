use lienthong_domain::ErrorCode;
use lienthong_store::StoreError;

/// What a use case can answer besides success. `Invalid` carries a field name and a
/// message key so the web layer can show a localized message next to the field.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{field}: {code}")]
    Invalid {
        field: &'static str,
        code: &'static str,
    },
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The same số/ký hiệu from the same issuer is already registered (ids).
    #[error("possible duplicate of {0:?}")]
    Duplicate(Vec<i64>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Store(StoreError::Sql(e))
    }
}

impl ServiceError {
    /// An input error on `field`, keyed by the domain error's message code.
    pub fn invalid(field: &'static str, e: impl ErrorCode) -> Self {
        ServiceError::Invalid {
            field,
            code: e.code(),
        }
    }
}

/// Whether a database error is a unique-constraint violation (on either backend).
pub(crate) fn is_unique_violation(e: &ServiceError) -> bool {
    match e {
        ServiceError::Store(StoreError::Sql(sqlx::Error::Database(d))) => {
            d.is_unique_violation() || d.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}
