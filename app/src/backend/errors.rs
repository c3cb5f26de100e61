//! Turning server-side failures into `AppError`: logged in full once, shown as a reference.

use sea_orm::{DbErr, SqlErr};

use crate::error::AppError;

/// A short random reference a person can quote to support; the log line carries the same one.
pub fn reference() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

/// Logs an unexpected failure with a fresh reference and returns the opaque error.
pub fn internal(what: &str, err: &dyn std::fmt::Display) -> AppError {
    let reference = reference();
    tracing::error!(%reference, error = %err, "{what}");
    AppError::Internal(reference)
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                AppError::Conflict("That already exists.".into())
            }
            _ => internal("database error", &err),
        }
    }
}
