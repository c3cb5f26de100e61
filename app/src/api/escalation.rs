//! Escalation: policies read as paths, the in-app inbox, notification choices, taking an
//! escalated task, and acknowledging from a signed email link (a confirmation POST; a GET
//! alone never acknowledges).

use leptos::prelude::*;

use crate::domain::escalation::{AckLink, FlaggedRow, InboxItem, LevelInput, PolicyView};
use crate::error::AppError;

/// The escalation policy in force at an organisation, as a path.
#[server(endpoint = "escalation/policy")]
pub async fn get_policy(org_code: String) -> Result<PolicyView, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::escalation::policy_view(&state.db, &user, &org_code).await
        }
        .await,
    )
}

/// Saves an organisation's own escalation policy (its admins).
#[server(endpoint = "manage/escalation")]
pub async fn save_policy(
    org_code: String,
    repeat_count: String,
    levels: Vec<LevelInput>,
) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::escalation::save_policy_for(
                &state.db,
                &user,
                &org_code,
                &repeat_count,
                &levels,
            )
            .await
        }
        .await,
    )
}

/// One page of the caller's inbox (50 a page, from 1; none asked is the first).
#[server(endpoint = "inbox/list")]
pub async fn inbox(
    page: Option<u64>,
) -> Result<crate::domain::listing::Listing<InboxItem>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::escalation::inbox(&state.db, &user, page.unwrap_or(1)).await
        }
        .await,
    )
}

#[server(endpoint = "inbox/unread")]
pub async fn unread() -> Result<u64, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::escalation::unread(&state.db, &user).await
        }
        .await,
    )
}

/// Marks one item read, or every item when no id is given.
#[server(endpoint = "inbox/read")]
pub async fn mark_read(id: Option<i64>) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::escalation::mark_read(&state.db, &user, id).await?;
            let _ = state.live.send(crate::backend::live::LiveEvent {
                reference: String::new(),
                people: vec![user.person_id],
                relayed: false,
            });
            Ok(())
        }
        .await,
    )
}

/// Acknowledges and takes a task an escalation brought to the caller.
#[server(endpoint = "inbox/take")]
pub async fn take_task(id: i64) -> Result<String, AppError> {
    crate::backend::http::respond(
        async {
            use crate::backend::incidents::{Taken, take_escalated};
            let (state, user) = crate::backend::caller::caller().await?;
            let (taken, reference) = take_escalated(&state.db, &user, id, false).await?;
            state.publish(&reference).await;
            match taken {
                Taken::Taken => Ok(reference),
                Taken::AlreadyAcknowledged => Err(AppError::Conflict(
                    "Someone has already acknowledged this task.".into(),
                )),
            }
        }
        .await,
    )
}

/// Whether the caller takes escalation emails.
#[server(endpoint = "me/prefs")]
pub async fn get_prefs() -> Result<bool, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::escalation::wants_email(&state.db, user.person_id).await
        }
        .await,
    )
}

#[server(endpoint = "me/set_prefs")]
pub async fn set_prefs(email: Option<String>) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::escalation::set_wants_email(&state.db, user.person_id, email.is_some())
                .await
        }
        .await,
    )
}

/// What an email link is about (the confirmation page shows it; nothing changes).
#[server(endpoint = "ack/info")]
pub async fn link_info(token: String) -> Result<AckLink, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::escalation::link_info(&state.db, &user, &token).await
        }
        .await,
    )
}

/// Confirms an acknowledgement from an email link: signed, expiring, single use, and only
/// for the person it was sent to.
#[server(endpoint = "ack/confirm")]
pub async fn confirm_link(token: String) -> Result<String, AppError> {
    crate::backend::http::respond(
        async {
            use crate::backend::incidents::{Taken, take_escalated};
            let (state, user) = crate::backend::caller::caller().await?;
            let key = crate::backend::escalation::signing_key(&state.db).await?;
            let id = crate::backend::escalation::verify_link(
                &key,
                &token,
                crate::backend::timeline::now(),
            )?;
            let (taken, reference) = take_escalated(&state.db, &user, id, true).await?;
            state.publish(&reference).await;
            crate::backend::http::redirect(&format!("/incidents/{reference}"));
            match taken {
                Taken::Taken => Ok(reference),
                Taken::AlreadyAcknowledged => Err(AppError::Conflict(
                    "Someone has already acknowledged this task.".into(),
                )),
            }
        }
        .await,
    )
}

/// The Gold commander acknowledges taking command.
#[server(endpoint = "incidents/lead/ack_command")]
pub async fn acknowledge_command(reference: String) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::incidents::acknowledge_command(&state.db, &user, &reference).await?;
            state.publish(&reference).await;
            Ok(())
        }
        .await,
    )
}

/// Sets an organisation's channel webhook (its admins).
#[server(endpoint = "manage/webhook")]
pub async fn set_webhook(
    org_code: String,
    url: String,
    enabled: Option<String>,
    /// `teams`, `slack` or `json`; Teams when not sent.
    format: Option<String>,
) -> Result<(), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            let format = match format.as_deref() {
                None | Some("") => crate::domain::channel_post::ChannelFormat::Teams,
                Some(f) => {
                    crate::domain::channel_post::ChannelFormat::parse(f).ok_or_else(|| {
                        AppError::Invalid("Choose Teams, Slack or Wardline JSON.".into())
                    })?
                }
            };
            crate::backend::escalation::set_webhook(
                &state.db,
                &user,
                &org_code,
                &url,
                enabled.is_some(),
                format,
                state.auth.allow_private_webhooks,
            )
            .await
        }
        .await,
    )
}

/// Tasks and command acknowledgements nobody acknowledged along the whole escalation path,
/// in the organisations the caller can see: (incident, what, organisation, since).
#[server(endpoint = "escalation/flagged")]
pub async fn flagged() -> Result<Vec<FlaggedRow>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::escalation::flagged(&state.db, &user).await
        }
        .await,
    )
}
