//! Signing in and out, the account page, MFA and invitations. The functions marked public
//! are the only ones an anonymous caller may reach (see `PUBLIC_ENDPOINTS`).

use leptos::prelude::*;

use crate::domain::auth::{AuthStatus, GrantRequestView, MfaEnrolment, SessionView, SignInOutcome};
use crate::error::AppError;

/// The identity providers people may sign in with: (short name, name). Public: the sign-in
/// page shows a button for each.
#[server(endpoint = "auth/sso_providers")]
pub async fn sso_providers() -> Result<Vec<(String, String)>, AppError> {
    crate::backend::http::respond(
        async {
            let state = crate::backend::state::current()?;
            crate::backend::sso::providers(&state.db).await
        }
        .await,
    )
}

/// Where the caller stands. Public: answers `Anonymous` to anyone not signed in.
#[server(endpoint = "auth/status")]
pub async fn get_auth_status() -> Result<AuthStatus, AppError> {
    crate::backend::http::respond(
        async {
            use crate::backend::caller;
            let state = crate::backend::state::current()?;
            let session = caller::session().await?;
            if let Some(user) = caller::current_user(&state, &session).await? {
                return Ok(AuthStatus::SignedIn(caller::me(&state, &user).await?));
            }
            let pending = session
                .get::<i64>("pending_person_id")
                .await
                .map_err(|e| crate::backend::errors::internal("session", &e))?;
            Ok(if pending.is_some() {
                AuthStatus::SecondFactor
            } else {
                AuthStatus::Anonymous
            })
        }
        .await,
    )
}

/// Public.
#[server(endpoint = "auth/sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<SignInOutcome, AppError> {
    crate::backend::http::respond(
        async {
            let state = crate::backend::state::current()?;
            let session = crate::backend::caller::session().await?;
            let client = crate::backend::caller::client_ip().await?;
            let outcome =
                crate::backend::auth::sign_in(&state, &session, client, &email, password).await;
            // Refused before the page's script loaded: the form comes back with the email
            // still in it (never the password).
            if outcome.is_err() && crate::backend::http::is_plain_form_post() {
                crate::backend::http::keep_typed(
                    "email",
                    "/sign-in",
                    &email,
                    state.auth.secure_cookies,
                );
            }
            outcome
        }
        .await,
    )
}

/// Public: only meaningful after a right password.
#[server(endpoint = "auth/second_factor")]
pub async fn second_factor(code: String) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let state = crate::backend::state::current()?;
            let session = crate::backend::caller::session().await?;
            let client = crate::backend::caller::client_ip().await?;
            crate::backend::auth::second_factor(&state, &session, client, &code).await
        }
        .await,
    )
}

/// Public: ending a session nobody holds does nothing.
#[server(endpoint = "auth/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let state = crate::backend::state::current()?;
            let session = crate::backend::caller::session().await?;
            crate::backend::auth::sign_out(&state, &session).await?;
            crate::backend::http::redirect("/sign-in");
            Ok(())
        }
        .await,
    )
}

#[server(endpoint = "auth/change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::signed_in().await?;
            let session = crate::backend::caller::session().await?;
            let client = crate::backend::caller::client_ip().await?;
            crate::backend::auth::change_password(&state, &session, &user, client, current, new)
                .await
        }
        .await,
    )
}

#[server(endpoint = "auth/sessions")]
pub async fn my_sessions() -> Result<Vec<SessionView>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::signed_in().await?;
            let session = crate::backend::caller::session().await?;
            crate::backend::auth::list_sessions(&state, &session, &user).await
        }
        .await,
    )
}

#[server(endpoint = "auth/sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<u64, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::signed_in().await?;
            let session = crate::backend::caller::session().await?;
            crate::backend::auth::sign_out_everywhere(&state, &session, &user).await
        }
        .await,
    )
}

#[server(endpoint = "auth/mfa_begin")]
pub async fn mfa_begin() -> Result<MfaEnrolment, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::signed_in().await?;
            crate::backend::mfa::begin(&state.db, &user).await
        }
        .await,
    )
}

/// The caller's enrolment started and not yet confirmed, if any.
#[server(endpoint = "auth/mfa_pending")]
pub async fn mfa_pending() -> Result<Option<MfaEnrolment>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::signed_in().await?;
            crate::backend::mfa::pending(&state.db, &user).await
        }
        .await,
    )
}

#[server(endpoint = "auth/mfa_confirm")]
pub async fn mfa_confirm(code: String) -> Result<Vec<String>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::signed_in().await?;
            let session = crate::backend::caller::session().await?;
            let client = crate::backend::caller::client_ip().await?;
            crate::backend::auth::confirm_mfa(&state, &session, &user, client, &code).await
        }
        .await,
    )
}

/// Public: the token is the credential.
#[server(endpoint = "auth/accept_invite")]
pub async fn accept_invite(token: String, password: String) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let state = crate::backend::state::current()?;
            let client = crate::backend::caller::client_ip().await?;
            // Keyed by the token and the client: guessing is slowed per address, while one
            // address's failures never hold up anybody else's invitation.
            let key = crate::backend::limits::invitation_key(&token);
            state.limits.sign_in_allowed(&key, client).await?;
            let result =
                crate::backend::invites::accept(&state, &token, password, Some(client.to_string()))
                    .await;
            if result.is_err() {
                state.limits.sign_in_failed(&key, client).await;
            } else {
                crate::backend::http::redirect("/sign-in?joined=1");
            }
            result
        }
        .await,
    )
}

/// Invitations made to the caller's existing account, waiting for an answer.
#[server(endpoint = "auth/grant_requests")]
pub async fn my_grant_requests() -> Result<Vec<GrantRequestView>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::signed_in().await?;
            crate::backend::invites::pending_for(&state.db, &user).await
        }
        .await,
    )
}

/// Accepts an invitation made to the caller's account: the role is theirs, and their other
/// sessions end.
#[server(endpoint = "auth/accept_grant_request")]
pub async fn accept_grant_request(id: i64) -> Result<(), AppError> {
    answer_grant_request(id, true).await
}

/// Refuses an invitation made to the caller's account.
#[server(endpoint = "auth/refuse_grant_request")]
pub async fn refuse_grant_request(id: i64) -> Result<(), AppError> {
    answer_grant_request(id, false).await
}

#[cfg(feature = "ssr")]
async fn answer_grant_request(id: i64, accept: bool) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::signed_in().await?;
            let session = crate::backend::caller::session().await?;
            let client = crate::backend::caller::client_ip().await?.to_string();
            crate::backend::invites::answer(&state, &session, &user, id, accept, Some(client)).await
        }
        .await,
    )
}

/// The endpoints an anonymous caller may reach; everything else answers 401 or 403.
pub const PUBLIC_ENDPOINTS: &[&str] = &[
    "/api/auth/status",
    "/api/auth/sso_providers",
    "/api/auth/sign_in",
    "/api/auth/second_factor",
    "/api/auth/sign_out",
    "/api/auth/accept_invite",
];
