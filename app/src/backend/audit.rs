//! The audit trail: every change that matters, who made it, when and from where.

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use time::OffsetDateTime;

use super::entity::audit_event;
use crate::error::AppError;

/// One audited event. Written in the same transaction as the change it records.
#[derive(Debug, Default, Clone)]
pub struct Event<'a> {
    pub actor: Option<i64>,
    pub action: &'a str,
    pub org: Option<i64>,
    pub subject: Option<String>,
    pub detail: Option<String>,
    pub client: Option<String>,
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
        ..Default::default()
    }
}
