//! The ODS file upload: a plain multipart form post (it works without script), answered
//! with a redirect to the import's progress page.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};

use app::backend::import::jobs;
use app::backend::state::AppState;
use app::error::AppError;

use crate::signed_in::SignedIn;

fn not_understood() -> AppError {
    AppError::Invalid("The upload was not understood.".into())
}

pub async fn ods(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    if !user.is_national_admin() {
        return Err(AppError::Forbidden);
    }
    // Only now, for a national admin, is the body looked at; one that is not a multipart
    // form is said plainly, without the decoder's words.
    let Ok(mut form) = form else {
        return Err(not_understood());
    };
    let (mut kind, mut file_name, mut bytes) = (String::new(), String::new(), Vec::new());
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("kind") => match field.text().await {
                    Ok(text) => kind = text,
                    Err(_) => return Err(not_understood()),
                },
                Some("file") => {
                    file_name = field.file_name().unwrap_or("upload.csv").to_owned();
                    match field.bytes().await {
                        Ok(b) => bytes = b.to_vec(),
                        Err(_) => {
                            return Err(AppError::Invalid(
                                "The file could not be read; it may be too large (50 MB at most)."
                                    .into(),
                            ));
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(_) => return Err(not_understood()),
        }
    }
    let id = jobs::start(&state, &user, &kind, &file_name, bytes).await?;
    Ok(Redirect::to(&format!("/admin/import/{id}")).into_response())
}
