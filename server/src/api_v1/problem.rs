//! RFC 9457 problem details: every error the JSON API gives.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use app::error::AppError;

/// An error, as `application/problem+json`. `type` is `about:blank` (the status says what
/// kind of problem it is, RFC 9457 section 4.2.1); `detail` is the sentence a person
/// would be shown, never the server's internals (an internal error gives only a reference).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

impl Problem {
    pub fn new(status: u16, detail: &str) -> Problem {
        let title = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error")
            .to_owned();
        Problem {
            kind: "about:blank".into(),
            title,
            status,
            detail: detail.to_owned(),
        }
    }
}

impl From<AppError> for Problem {
    fn from(err: AppError) -> Problem {
        Problem::new(err.status(), &err.to_string())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"wardline\""),
            );
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_gives_its_reference_and_nothing_else() {
        let p = Problem::from(AppError::Internal("ab12".into()));
        assert_eq!(p.status, 500);
        assert_eq!(p.title, "Internal Server Error");
        assert!(p.detail.contains("ab12"));
        let p = Problem::from(AppError::Invalid("Tell us where.".into()));
        assert_eq!((p.status, p.detail.as_str()), (422, "Tell us where."));
    }
}
