//! The ODS file upload: a plain multipart form post (it works without script), answered
//! with a redirect to the import's progress page.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use app::backend::access;
use app::backend::import::jobs;
use app::backend::state::AppState;
use app::error::AppError;

fn refuse(err: AppError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, err.to_string()).into_response()
}

pub async fn ods(
    State(state): State<AppState>,
    session: Session,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let user = match access::current_user(&state, &session).await {
        Ok(Some(u)) if !u.needs_second_factor() => u,
        Ok(Some(_)) => return refuse(AppError::Forbidden),
        Ok(None) => return refuse(AppError::Unauthorized),
        Err(e) => return refuse(e),
    };
    if !user.is_national_admin() {
        return refuse(AppError::Forbidden);
    }
    // Only now, for a national admin, is the body looked at; one that is not a multipart
    // form is said plainly, without the decoder's words.
    let Ok(mut form) = form else {
        return refuse(AppError::Invalid("The upload was not understood.".into()));
    };
    let (mut kind, mut file_name, mut bytes) = (String::new(), String::new(), Vec::new());
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("kind") => match field.text().await {
                    Ok(text) => kind = text,
                    Err(_) => {
                        return refuse(AppError::Invalid("The upload was not understood.".into()));
                    }
                },
                Some("file") => {
                    file_name = field.file_name().unwrap_or("upload.csv").to_owned();
                    match field.bytes().await {
                        Ok(b) => bytes = b.to_vec(),
                        Err(_) => {
                            return refuse(AppError::Invalid(
                                "The file could not be read; it may be too large (50 MB at most)."
                                    .into(),
                            ));
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(_) => return refuse(AppError::Invalid("The upload was not understood.".into())),
        }
    }
    match jobs::start(&state, &user, &kind, &file_name, bytes).await {
        Ok(id) => Redirect::to(&format!("/admin/import/{id}")).into_response(),
        Err(e) => refuse(e),
    }
}
