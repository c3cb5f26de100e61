//! Administration of people: invitations and disabling. Org admins act within their
//! subtree; regulators are refused.

use leptos::prelude::*;

use crate::domain::auth::AccessRole;
use crate::error::AppError;

/// Invites a person to an organisation with a role; returns the link to send them.
#[server(endpoint = "admin/invite")]
pub async fn invite_person(
    email: String,
    name: String,
    org_code: String,
    role: AccessRole,
) -> Result<String, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::writer().await?;
            let client = crate::backend::caller::client_ip().await?.to_string();
            crate::backend::invites::create(
                &state,
                &user,
                &email,
                &name,
                &org_code,
                role,
                Some(client),
            )
            .await
        }
        .await,
    )
}

/// Disables (or re-enables) a person in the caller's subtree; disabling ends their sessions.
#[server(endpoint = "admin/set_disabled")]
pub async fn set_person_disabled(email: String, disabled: bool) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::writer().await?;
            crate::backend::people::set_disabled(&state.db, &user, &email, disabled).await
        }
        .await,
    )
}

/// How an ODS import is getting on. National admins only.
#[server(endpoint = "imports/status")]
pub async fn import_status(id: i64) -> Result<crate::domain::imports::ImportView, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::import::jobs::view(&state, &user, id).await
        }
        .await,
    )
}
