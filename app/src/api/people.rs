//! Reading people, and an admin's reset of a person's two-step verification. A person is
//! visible to those whose grants cover the person's organisation; to anyone else they do
//! not exist (404, never 403, so ids leak nothing).

use leptos::prelude::*;

use crate::domain::auth::PersonView;
use crate::error::AppError;

#[server(endpoint = "people/list")]
pub async fn list_people(org_code: String) -> Result<Vec<PersonView>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::people::list_in_org(&state.db, &user, &org_code).await
        }
        .await,
    )
}

#[server(endpoint = "people/get")]
pub async fn get_person(email: String) -> Result<PersonView, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::people::get_visible(&state.db, &user, &email).await
        }
        .await,
    )
}

/// Resets the two-step verification of a person in the caller's admin subtree (a lost
/// phone): they are signed out everywhere and must enrol again. Anyone else is not found.
#[server(endpoint = "people/reset_mfa")]
pub async fn reset_person_mfa(email: String) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::writer().await?;
            let client = crate::backend::caller::client_ip().await?.to_string();
            crate::backend::people::reset_mfa(&state.db, &user, &email, Some(client)).await
        }
        .await,
    )
}
