//! How much a request may send. Every body is held to a small limit, before anything reads
//! it; the few forms that carry files or long texts have their own. Too much answers 413.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use app::error::AppError;

/// Enough for any form with a few paragraphs of text.
pub const DEFAULT: usize = 64 * 1024;

/// Paths that take more, and how much. URL-encoding can triple a body's size, so these
/// allow for it over what each service accepts.
const LARGER: &[(&str, usize)] = &[
    // An asset catalogue as CSV: the service takes up to 5 MB of text.
    ("/api/manage/assets/import", 16 * 1024 * 1024),
    // A runbook: up to 60 steps of up to 4,000 characters of instructions each.
    ("/api/runbooks/save", 4 * 1024 * 1024),
    // The ODS file upload (multipart, not encoded).
    (
        "/admin/import/ods",
        app::backend::import::jobs::MAX_BYTES + 64 * 1024,
    ),
];

fn limit_for(path: &str) -> usize {
    LARGER
        .iter()
        .find(|(p, _)| *p == path)
        .map_or(DEFAULT, |(_, max)| *max)
}

/// Refuses a body whose declared length is over the path's limit, and cuts off one that
/// turns out longer while being read (readers then fail with 4xx, never 5xx).
pub async fn limit(req: Request, next: Next) -> Response {
    let max = limit_for(req.uri().path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return too_large(req.uri().path().starts_with("/api/"));
    }
    let (parts, body) = req.into_parts();
    let body = Body::new(http_body_util::Limited::new(body, max));
    next.run(Request::from_parts(parts, body)).await
}

/// Server functions answer with an `AppError` their callers decode; other routes in words.
fn too_large(is_call: bool) -> Response {
    let err = AppError::TooLarge;
    if is_call {
        app::backend::errors::ForServerFn(err).into_response()
    } else {
        err.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_forms_take_more_than_the_default() {
        assert_eq!(limit_for("/api/incidents/declare"), DEFAULT);
        assert_eq!(limit_for("/api/runbooks/save"), 4 * 1024 * 1024);
        assert_eq!(limit_for("/api/runbooks/save/x"), DEFAULT);
        assert!(limit_for("/admin/import/ods") > app::backend::import::jobs::MAX_BYTES);
    }
}
