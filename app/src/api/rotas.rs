//! On-call rotas: an organisation's rotations, schedules, overrides and cover requests, the
//! on-call page, and who is on call at a time.

use leptos::prelude::*;

use crate::domain::rota::OnCallPage;
use crate::error::AppError;

/// A rota change: the caller must be a writer (regulators are refused), rota changes are
/// limited per person when `limited`, and the change is made with the client's address for
/// the audit trail.
#[cfg(feature = "ssr")]
async fn rota_change<T, Fut>(
    limited: bool,
    change: impl FnOnce(crate::backend::state::AppState, crate::backend::access::User, String) -> Fut,
) -> Result<T, AppError>
where
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::writer().await?;
            if limited {
                state.limits.action(user.person_id, "rota").await?;
            }
            let client = crate::backend::caller::client_ip().await?.to_string();
            change(state, user, client).await
        }
        .await,
    )
}

/// The organisation's on-call page: who is on call now and next, and the 4-week preview.
#[server(endpoint = "rotas/page")]
pub async fn get_on_call(org_code: String) -> Result<OnCallPage, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let now = crate::backend::timeline::now();
            crate::backend::rotas::page(&state.db, &user, &org_code, now).await
        }
        .await,
    )
}

/// The organisation's schedules with who is on call now and next, for its page; `None` (not
/// an error, so the page it sits on keeps its own status) when the caller may not read its
/// rotas.
#[server(endpoint = "rotas/now")]
pub async fn on_call_now(
    org_code: String,
) -> Result<Option<Vec<crate::domain::rota::OnCallNow>>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let now = crate::backend::timeline::now();
            match crate::backend::rotas::now_and_next(&state.db, &user, &org_code, now).await {
                Ok(p) => Ok(Some(p)),
                Err(AppError::NotFound | AppError::Forbidden) => Ok(None),
                Err(e) => Err(e),
            }
        }
        .await,
    )
}

/// Who a schedule has on call at a London time (`2026-03-29T08:00`; empty for now).
#[server(endpoint = "rotas/who")]
pub async fn who_is_on_call(schedule_id: i64, at: Option<String>) -> Result<Vec<String>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let at = match at.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
                Some(a) => crate::domain::rota::parse_local_moment(a).map_err(AppError::Invalid)?,
                None => crate::backend::timeline::now(),
            };
            crate::backend::rotas::who_at(&state.db, &user, schedule_id, at).await
        }
        .await,
    )
}

/// Adds a rotation (organisation admins).
#[server(endpoint = "rotas/create_rotation")]
pub async fn create_rotation(
    org_code: String,
    name: String,
    participants: String,
    shift_count: u32,
    shift_unit: String,
    handover: String,
    start: String,
) -> Result<i64, AppError> {
    rota_change(true, move |state, user, client| async move {
        let input = crate::backend::rotas::RotationInput {
            name,
            participants,
            shift_count,
            shift_unit,
            handover,
            start,
        };
        crate::backend::rotas::create_rotation(&state.db, &user, &org_code, input, Some(client))
            .await
    })
    .await
}

/// Changes a rotation (organisation admins).
#[server(endpoint = "rotas/update_rotation")]
pub async fn update_rotation(
    rotation_id: i64,
    name: String,
    participants: String,
    shift_count: u32,
    shift_unit: String,
    handover: String,
    start: String,
) -> Result<(), AppError> {
    rota_change(true, move |state, user, client| async move {
        let input = crate::backend::rotas::RotationInput {
            name,
            participants,
            shift_count,
            shift_unit,
            handover,
            start,
        };
        crate::backend::rotas::update_rotation(&state.db, &user, rotation_id, input, Some(client))
            .await
    })
    .await
}

/// Adds a schedule with its first rule (organisation admins).
#[server(endpoint = "rotas/create_schedule")]
pub async fn create_schedule(
    org_code: String,
    name: String,
    days: String,
    from: String,
    until: String,
    rotation_id: i64,
) -> Result<i64, AppError> {
    rota_change(true, move |state, user, client| async move {
        let rule = crate::backend::rotas::RuleInput {
            days,
            from,
            until,
            rotation_id,
        };
        crate::backend::rotas::create_schedule(
            &state.db,
            &user,
            &org_code,
            &name,
            rule,
            Some(client),
        )
        .await
    })
    .await
}

/// Adds a rule after a schedule's others (organisation admins).
#[server(endpoint = "rotas/add_rule")]
pub async fn add_rule(
    schedule_id: i64,
    days: String,
    from: String,
    until: String,
    rotation_id: i64,
) -> Result<(), AppError> {
    rota_change(true, move |state, user, client| async move {
        let rule = crate::backend::rotas::RuleInput {
            days,
            from,
            until,
            rotation_id,
        };
        crate::backend::rotas::add_rule(&state.db, &user, schedule_id, rule, Some(client)).await
    })
    .await
}

/// Adds, removes or replaces a person on a schedule for a period (organisation admins).
#[server(endpoint = "rotas/add_override")]
pub async fn add_override(
    schedule_id: i64,
    kind: String,
    person: String,
    replaces: Option<String>,
    start: String,
    end: String,
) -> Result<i64, AppError> {
    rota_change(true, move |state, user, client| async move {
        let input = crate::backend::rotas::OverrideInput {
            kind,
            person,
            replaces: replaces.unwrap_or_default(),
            start,
            end,
        };
        crate::backend::rotas::add_override(&state.db, &user, schedule_id, input, Some(client))
            .await
    })
    .await
}

/// Removes an override (organisation admins).
#[server(endpoint = "rotas/remove_override")]
pub async fn remove_override(override_id: i64) -> Result<(), AppError> {
    rota_change(false, move |state, user, client| async move {
        crate::backend::rotas::remove_override(&state.db, &user, override_id, Some(client)).await
    })
    .await
}

/// Asks a colleague to cover the caller on a schedule for a period.
#[server(endpoint = "rotas/request_cover")]
pub async fn request_cover(
    schedule_id: i64,
    colleague: String,
    start: String,
    end: String,
) -> Result<i64, AppError> {
    rota_change(true, move |state, user, client| async move {
        crate::backend::rotas::request_cover(
            &state.db,
            &user,
            schedule_id,
            &colleague,
            &start,
            &end,
            Some(client),
        )
        .await
    })
    .await
}

/// Accepts a request to cover (the colleague asked): it becomes an override.
#[server(endpoint = "rotas/accept_cover")]
pub async fn accept_cover(request_id: i64) -> Result<(), AppError> {
    rota_change(false, move |state, user, client| async move {
        crate::backend::rotas::accept_cover(&state.db, &user, request_id, Some(client)).await
    })
    .await
}

/// Lets an on-call schedule hold a role at the organisation (organisation admins).
#[server(endpoint = "rotas/hold_role")]
pub async fn hold_role(
    org_code: String,
    role_key: String,
    schedule_id: i64,
) -> Result<(), AppError> {
    rota_change(true, move |state, user, client| async move {
        crate::backend::rotas::hold_role(
            &state.db,
            &user,
            &org_code,
            &role_key,
            schedule_id,
            Some(client),
        )
        .await
    })
    .await
}

/// Whether the caller has a private calendar feed of their shifts, and since when.
#[server(endpoint = "rotas/calendar")]
pub async fn my_calendar_feed() -> Result<crate::domain::rota::CalendarFeedView, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let mut view = crate::backend::rotas::feed_status(&state.db, &user).await?;
            // Made by a plain form post just now: shown on this render only.
            // Read first: removing marks the session changed, and this runs on every render
            // of the account page.
            let session = crate::backend::caller::session().await?;
            let key = crate::backend::caller::CALENDAR_URL_ONCE_KEY;
            let session_err = |e| crate::backend::errors::internal("session", &e);
            let once = match session.get::<String>(key).await.map_err(session_err)? {
                Some(url) => {
                    session.remove::<String>(key).await.map_err(session_err)?;
                    Some(url)
                }
                None => None,
            };
            if view.since.is_some() {
                view.url = once;
            }
            Ok(view)
        }
        .await,
    )
}

/// Makes the caller a new private calendar feed (the old URL stops working); its URL is in
/// this answer only.
#[server(endpoint = "rotas/calendar_create")]
pub async fn create_calendar_feed() -> Result<crate::domain::rota::CalendarFeedView, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            state.limits.action(user.person_id, "calendar").await?;
            let client = crate::backend::caller::client_ip().await?.to_string();
            let made = crate::backend::rotas::create_feed(
                &state.db,
                &user,
                &state.auth.public_url,
                Some(client),
            )
            .await?;
            // Without JavaScript the browser is sent back to the account page, which cannot
            // read this answer: the session carries the address to it.
            if crate::backend::http::is_plain_form_post() {
                let session = crate::backend::caller::session().await?;
                session
                    .insert(
                        crate::backend::caller::CALENDAR_URL_ONCE_KEY,
                        made.url.clone(),
                    )
                    .await
                    .map_err(|e| crate::backend::errors::internal("session", &e))?;
            }
            Ok(made)
        }
        .await,
    )
}

/// Revokes the caller's calendar feed: its URL answers "not found" from now on.
#[server(endpoint = "rotas/calendar_revoke")]
pub async fn revoke_calendar_feed() -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let client = crate::backend::caller::client_ip().await?.to_string();
            crate::backend::rotas::revoke_feed(&state.db, &user, Some(client)).await
        }
        .await,
    )
}

/// Declines a request to cover (the colleague asked); both are told.
#[server(endpoint = "rotas/decline_cover")]
pub async fn decline_cover(request_id: i64) -> Result<(), AppError> {
    rota_change(false, move |state, user, client| async move {
        crate::backend::rotas::decline_cover(&state.db, &user, request_id, Some(client)).await
    })
    .await
}

/// Hands a role held by a schedule back to its named holder (organisation admins).
#[server(endpoint = "rotas/release_role")]
pub async fn release_role(org_code: String, role_key: String) -> Result<(), AppError> {
    rota_change(true, move |state, user, client| async move {
        crate::backend::rotas::release_role(&state.db, &user, &org_code, &role_key, Some(client))
            .await
    })
    .await
}
