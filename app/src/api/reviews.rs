//! Post-incident reviews and their actions.

use leptos::prelude::*;

use crate::domain::reviews::{ActionView, ReviewView};
use crate::error::AppError;

#[server(endpoint = "reviews/get")]
pub async fn get_review(reference: String) -> Result<ReviewView, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::reviews::view(&state.db, &user, &reference).await
        }
        .await,
    )
}

/// Saves the review's text (the incident's leads).
#[server(endpoint = "incidents/lead/review")]
pub async fn save_review(
    reference: String,
    what_happened: String,
    went_well: String,
    lessons: String,
) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::reviews::save(
                &state.db,
                &user,
                &reference,
                &what_happened,
                &went_well,
                &lessons,
            )
            .await
        }
        .await,
    )
}

/// Adds an action with an owner and a due date (the incident's leads).
#[server(endpoint = "incidents/lead/review_action")]
pub async fn add_review_action(
    reference: String,
    title: String,
    owner_id: i64,
    due_on: String,
) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::reviews::add_action(
                &state.db, &user, &reference, &title, owner_id, &due_on,
            )
            .await
        }
        .await,
    )
}

/// Closes an action (its owner or the incident's leads).
#[server(endpoint = "reviews/close")]
pub async fn close_review_action(id: i64, note: Option<String>) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::reviews::close_action(
                &state.db,
                &user,
                id,
                note.as_deref().unwrap_or_default(),
            )
            .await
        }
        .await,
    )
}

/// The open review actions the signed-in person owns.
#[server(endpoint = "reviews/mine")]
pub async fn my_review_actions() -> Result<Vec<ActionView>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::reviews::my_actions(&state.db, &user).await
        }
        .await,
    )
}
