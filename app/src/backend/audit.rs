//! The audit trail: every change that matters, who made it, when, from where, and how it
//! ended (attempts that fail or are refused are recorded too where they guard something).

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use time::OffsetDateTime;

use super::entity::audit_event;
use crate::error::AppError;

/// How an audited attempt ended.
pub const SUCCESS: &str = "success";
/// The caller tried and got it wrong (a wrong code, a wrong password).
pub const FAILURE: &str = "failure";
/// The attempt was turned away (not allowed, expired, already used, rate limited).
pub const REFUSED: &str = "refused";
/// Something broke on the server side.
pub const ERROR: &str = "error";

/// One audited event. Written in the same transaction as the change it records.
#[derive(Debug, Default, Clone)]
pub struct Event<'a> {
    pub actor: Option<i64>,
    pub action: &'a str,
    pub org: Option<i64>,
    pub subject: Option<String>,
    pub detail: Option<String>,
    pub client: Option<String>,
    /// [`SUCCESS`] when not given.
    pub outcome: Option<&'a str>,
}

pub async fn record(db: &impl ConnectionTrait, event: Event<'_>) -> Result<(), AppError> {
    entry(event).insert(db).await?;
    Ok(())
}

/// The row [`record`] writes, for callers inserting many at once.
pub fn entry(event: Event<'_>) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        at: Set(OffsetDateTime::now_utc()),
        actor_id: Set(event.actor),
        action: Set(event.action.to_owned()),
        org_id: Set(event.org),
        subject: Set(event.subject),
        detail: Set(event.detail),
        client: Set(event.client),
        outcome: Set(event.outcome.unwrap_or(SUCCESS).to_owned()),
        ..Default::default()
    }
}

/// The outcome an error stands for: a refusal, or a failure of the caller's own input.
pub fn outcome_of(err: &AppError) -> &'static str {
    match err {
        AppError::Invalid(_) | AppError::SignInFailed => FAILURE,
        AppError::Internal(_) | AppError::Unavailable => ERROR,
        _ => REFUSED,
    }
}
