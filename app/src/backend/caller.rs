//! Who is calling: the session, the client's address and the signed-in person, resolved
//! for this request. Every server function starts here (`caller`, `writer`, `signed_in`);
//! what that person may reach is `access`'s.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use time::OffsetDateTime;
use tower_sessions::Session;

use super::access::User;
use super::entity::organisation;
use super::sessions::{PERSON_KEY, SECOND_FACTOR_KEY};
use super::state::AppState;
use crate::domain::auth::{GrantView, Me};
use crate::error::AppError;

/// Session keys besides the person.
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";

/// A new calendar feed's address made by a plain form post (no JavaScript), kept in the
/// server-side session until the account page it returns to shows it, once.
pub const CALENDAR_URL_ONCE_KEY: &str = "calendar_url_once";

/// The session of this request, from inside a server function.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| super::errors::internal("session", &e))
}

/// The address of the client, for rate limits and the audit trail: the TCP peer, or behind a
/// trusted reverse proxy the client it forwarded for (see `client_addr`).
pub async fn client_ip() -> Result<std::net::IpAddr, AppError> {
    let axum::extract::ConnectInfo(addr) =
        leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .await
            .map_err(|e| super::errors::internal("client address", &e))?;
    let headers = leptos_axum::extract::<http::HeaderMap>()
        .await
        .map_err(|e| super::errors::internal("request headers", &e))?;
    let state = super::state::current()?;
    Ok(super::client_addr::resolve(
        addr.ip(),
        &headers,
        &state.auth.trusted_proxies,
    ))
}

/// The signed-in person, if any, ending the session if it outlived its absolute limit or the
/// person was disabled.
pub async fn current_user(state: &AppState, session: &Session) -> Result<Option<User>, AppError> {
    // If the session is loaded now, the change generation comes with it.
    let (person, read_along) =
        super::sessions::reading_generation(session.get::<i64>(PERSON_KEY)).await;
    let Some(person_id) = person.map_err(session_err)? else {
        return Ok(None);
    };
    let signed_in_at = session
        .get::<i64>(SIGNED_IN_AT_KEY)
        .await
        .map_err(session_err)?
        .unwrap_or(0);
    let second_factor = session
        .get::<bool>(SECOND_FACTOR_KEY)
        .await
        .map_err(session_err)?
        .unwrap_or(false);
    let provider_factor = session
        .get::<bool>(super::sessions::PROVIDER_FACTOR_KEY)
        .await
        .map_err(session_err)?
        .unwrap_or(false);
    let age = OffsetDateTime::now_utc().unix_timestamp() - signed_in_at;
    // Read by the API floor moments ago for this very request, or read now (against the
    // generation the floor read with the session, if it did).
    let floor = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|p| {
            p.extensions
                .get::<super::callers::ReadForRequest>()
                .cloned()
        })
        .unwrap_or_default();
    let known = match floor.known.filter(|(id, _)| *id == person_id) {
        Some((_, known)) => Some(known),
        None => {
            state
                .callers
                .known_at(&state.db, person_id, read_along.or(floor.generation))
                .await?
        }
    };
    let known = match known {
        Some(k) if !k.disabled && age < state.auth.absolute_timeout.as_secs() as i64 => k,
        _ => {
            session.flush().await.map_err(session_err)?;
            return Ok(None);
        }
    };
    Ok(Some(User {
        person_id,
        name: known.name.clone(),
        email: known.email.clone(),
        grants: known.grants.clone(),
        mfa_enabled: known.mfa_enabled,
        // A factor passed before MFA was reset counts for nothing; one the person's trusted
        // identity provider vouched for at this sign-in stands on its own.
        second_factor: (second_factor && known.mfa_enabled) || provider_factor,
    }))
}

fn session_err(e: tower_sessions::session::Error) -> AppError {
    super::errors::internal("session store", &e)
}

/// The caller, who must be signed in and, if their role needs MFA, on a session that passed
/// a second factor.
pub async fn require_user(state: &AppState) -> Result<User, AppError> {
    let user = require_signed_in(state).await?;
    if user.needs_second_factor() {
        return Err(AppError::Forbidden);
    }
    Ok(user)
}

/// The caller, signed in, even if they still have to enrol in MFA (for enrolment itself).
pub async fn require_signed_in(state: &AppState) -> Result<User, AppError> {
    let session = session().await?;
    current_user(state, &session)
        .await?
        .ok_or(AppError::Unauthorized)
}

/// A caller who may change things: not a regulator.
pub async fn require_writer(state: &AppState) -> Result<User, AppError> {
    let user = require_user(state).await?;
    if user.is_read_only_user() {
        return Err(AppError::Forbidden);
    }
    Ok(user)
}

/// A server function's state and caller, checked as `require_user` checks: the first line
/// of most server functions.
pub async fn caller() -> Result<(AppState, User), AppError> {
    let state = super::state::current()?;
    let user = require_user(&state).await?;
    Ok((state, user))
}

/// A server function's state and caller, checked as `require_writer` checks.
pub async fn writer() -> Result<(AppState, User), AppError> {
    let state = super::state::current()?;
    let user = require_writer(&state).await?;
    Ok((state, user))
}

/// A server function's state and caller, checked as `require_signed_in` checks (for
/// enrolling in a second factor and the caller's own account).
pub async fn signed_in() -> Result<(AppState, User), AppError> {
    let state = super::state::current()?;
    let user = require_signed_in(&state).await?;
    Ok((state, user))
}

/// The page's view of the caller.
pub async fn me(state: &AppState, user: &User) -> Result<Me, AppError> {
    let ids: Vec<i64> = user.grants.iter().map(|(o, _)| *o).collect();
    let orgs: HashMap<i64, organisation::Model> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let grants = user
        .grants
        .iter()
        .filter_map(|(o, role)| {
            orgs.get(o).map(|o| GrantView {
                org_code: o.code.clone(),
                org_name: o.name.clone(),
                role: *role,
            })
        })
        .collect();
    let roles_to_confirm = super::assignments::mine(&state.db, user.person_id)
        .await?
        .iter()
        .filter(|h| h.stale)
        .count();
    Ok(Me {
        name: user.name.clone(),
        email: user.email.clone(),
        grants,
        mfa_enabled: user.mfa_enabled,
        must_enrol_mfa: user.must_enrol_mfa(),
        roles_to_confirm,
    })
}
