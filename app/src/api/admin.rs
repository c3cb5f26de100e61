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
            let state = crate::backend::state::current()?;
            let user = crate::backend::access::require_writer(&state).await?;
            crate::backend::invites::create(&state, &user, &email, &name, &org_code, role).await
        }
        .await,
    )
}

/// Disables (or re-enables) a person in the caller's subtree; disabling ends their sessions.
#[server(endpoint = "admin/set_disabled")]
pub async fn set_person_disabled(email: String, disabled: bool) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            use crate::backend::{access, auth};
            let state = crate::backend::state::current()?;
            let user = access::require_writer(&state).await?;
            let person = crate::backend::people::find_by_email(&state.db, &email)
                .await?
                .ok_or(AppError::NotFound)?;
            let scope = access::administered_orgs(&state.db, &user).await?;
            if !person.org_id.is_some_and(|o| access::within(&scope, o))
                || person.id == user.person_id
            {
                return Err(AppError::NotFound);
            }
            auth::set_disabled(&state.db, Some(user.person_id), person.id, disabled).await
        }
        .await,
    )
}

/// How an ODS import is getting on. National admins only.
#[server(endpoint = "imports/status")]
pub async fn import_status(id: i64) -> Result<crate::domain::imports::ImportView, AppError> {
    crate::backend::http::respond(
        async {
            let state = crate::backend::state::current()?;
            let user = crate::backend::access::require_user(&state).await?;
            crate::backend::import::jobs::view(&state, &user, id).await
        }
        .await,
    )
}
