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

/// The one answer an `AppError` gives on a route outside Leptos (exports, live streams, the
/// upload, the middleware): its own status and the message a person can act on, in words.
/// An internal failure shows only its reference; the details were logged where it happened.
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        (
            status(&self),
            [
                (http::header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (http::header::CACHE_CONTROL, "no-store"),
            ],
            self.to_string(),
        )
            .into_response()
    }
}

/// An `AppError` for a server function's caller, which decodes the error itself (the
/// browser's side of `#[server]`): the same status, the error as JSON.
pub struct ForServerFn(pub AppError);

impl axum::response::IntoResponse for ForServerFn {
    fn into_response(self) -> axum::response::Response {
        let body = serde_json::to_string(&self.0).unwrap_or_default();
        (
            status(&self.0),
            [(http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

fn status(err: &AppError) -> http::StatusCode {
    http::StatusCode::from_u16(err.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    async fn body(res: axum::response::Response) -> String {
        let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024)
            .await
            .expect("a small body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn an_error_answers_with_its_status_and_its_message_only() {
        let res = AppError::Forbidden.into_response();
        assert_eq!(res.status(), 403);
        assert_eq!(
            res.headers()[http::header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(body(res).await, AppError::Forbidden.to_string());

        let res = AppError::Internal("ab12cd34".into()).into_response();
        assert_eq!(res.status(), 500);
        let shown = body(res).await;
        assert!(shown.contains("ab12cd34"), "{shown}");
        assert!(!shown.contains("Internal"), "{shown}");
    }

    #[tokio::test]
    async fn a_server_function_caller_gets_the_error_it_can_decode() {
        let res = ForServerFn(AppError::Unauthorized).into_response();
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.headers()[http::header::CONTENT_TYPE],
            "application/json"
        );
        let decoded: AppError = serde_json::from_str(&body(res).await).expect("an AppError");
        assert_eq!(decoded, AppError::Unauthorized);
    }
}
