//! API tokens, service accounts and alert sources, from the account and integrations pages.

use leptos::prelude::*;

use crate::domain::api::{Integrations, NewIntegrationKey, NewToken, TokenView};
use crate::error::AppError;

/// The caller, their state and their address, for a change to tokens or integrations.
#[cfg(feature = "ssr")]
async fn changing<T, Fut>(
    writer: bool,
    change: impl FnOnce(crate::backend::state::AppState, crate::backend::access::User, String) -> Fut,
) -> Result<T, AppError>
where
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    crate::backend::http::respond(
        async {
            let (state, user) = if writer {
                crate::backend::caller::writer().await?
            } else {
                crate::backend::caller::caller().await?
            };
            state.limits.action(user.person_id, "tokens").await?;
            let client = crate::backend::caller::client_ip().await?.to_string();
            change(state, user, client).await
        }
        .await,
    )
}

/// The caller's own API tokens.
#[server(endpoint = "tokens/mine")]
pub async fn my_api_tokens() -> Result<Vec<TokenView>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::api_access::tokens::mine(&state.db, &user).await
        }
        .await,
    )
}

/// Makes the caller a personal API token; its secret is in this answer only. `orgs` is a
/// list of ODS codes (empty: every organisation they reach), `access` is `read` or `write`.
#[server(endpoint = "tokens/create")]
pub async fn create_api_token(
    name: String,
    orgs: Option<String>,
    access: String,
    days: Option<String>,
) -> Result<NewToken, AppError> {
    changing(false, |state, user, client| async move {
        use crate::backend::api_access::tokens::{TokenRequest, create_mine};
        let request = TokenRequest::from_form(
            &name,
            orgs.as_deref().unwrap_or_default(),
            &access,
            days.as_deref(),
        )?;
        create_mine(&state.db, &user, &request, Some(client)).await
    })
    .await
}

/// Revokes a token: the caller's own, or a service account's of an organisation they
/// administer.
#[server(endpoint = "tokens/revoke")]
pub async fn revoke_api_token(id: i64) -> Result<(), AppError> {
    changing(false, |state, user, client| async move {
        crate::backend::api_access::tokens::revoke(&state.db, &user, id, Some(client)).await
    })
    .await
}

/// An organisation's service accounts and alert sources. Its admins only.
#[server(endpoint = "integrations/get")]
pub async fn get_integrations(org_code: String) -> Result<Integrations, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::api_access::alerts::integrations(
                &state.db,
                &user,
                &org_code,
                &crate::backend::api_access::alerts::mail_domain(&state),
            )
            .await
        }
        .await,
    )
}

/// Makes a service account for an organisation the caller administers.
#[server(endpoint = "integrations/service_account")]
pub async fn create_service_account(org_code: String, name: String) -> Result<i64, AppError> {
    changing(true, |state, user, client| async move {
        crate::backend::api_access::tokens::create_service_account(
            &state.db,
            &user,
            &org_code,
            &name,
            Some(client),
        )
        .await
    })
    .await
}

/// Makes a token for a service account; its secret is in this answer only.
#[server(endpoint = "integrations/service_token")]
pub async fn create_service_token(
    service_id: i64,
    name: String,
    orgs: Option<String>,
    access: String,
    days: Option<String>,
) -> Result<NewToken, AppError> {
    changing(true, |state, user, client| async move {
        use crate::backend::api_access::tokens::{TokenRequest, create_service_token};
        let request = TokenRequest::from_form(
            &name,
            orgs.as_deref().unwrap_or_default(),
            &access,
            days.as_deref(),
        )?;
        create_service_token(&state.db, &user, service_id, &request, Some(client)).await
    })
    .await
}

/// Disables a service account; its tokens stop at once.
#[server(endpoint = "integrations/disable_service_account")]
pub async fn disable_service_account(service_id: i64) -> Result<(), AppError> {
    changing(true, |state, user, client| async move {
        crate::backend::api_access::tokens::disable_service_account(
            &state.db,
            &user,
            service_id,
            Some(client),
        )
        .await
    })
    .await
}

/// Makes an alert source's key for an organisation the caller administers; its secret is in
/// this answer only.
#[server(endpoint = "integrations/alert_source")]
pub async fn create_alert_source(
    org_code: String,
    source: String,
    kind: String,
) -> Result<NewIntegrationKey, AppError> {
    changing(true, |state, user, client| async move {
        let domain = crate::backend::api_access::alerts::mail_domain(&state);
        crate::backend::api_access::alerts::create_key(
            &state.db,
            &user,
            &org_code,
            &source,
            &kind,
            &domain,
            Some(client),
        )
        .await
    })
    .await
}

/// Revokes an alert source's key.
#[server(endpoint = "integrations/revoke_alert_source")]
pub async fn revoke_alert_source(key_id: i64) -> Result<(), AppError> {
    changing(true, |state, user, client| async move {
        crate::backend::api_access::alerts::revoke_key(&state.db, &user, key_id, Some(client)).await
    })
    .await
}

/// Turns password sign-in on or off for an organisation the caller administers (off: its
/// people sign in only through single sign-on).
#[server(endpoint = "integrations/password_sign_in")]
pub async fn set_password_sign_in(org_code: String, allowed: String) -> Result<(), AppError> {
    changing(true, |state, user, _client| async move {
        let allowed = match allowed.as_str() {
            "true" | "on" | "yes" => true,
            "false" | "off" | "no" => false,
            _ => return Err(AppError::Invalid("Choose on or off.".into())),
        };
        crate::backend::sso::set_password_sign_in(&state.db, &user, &org_code, allowed).await
    })
    .await
}
