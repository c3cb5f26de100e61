//! Reply codes for texts about a task. Each text (one outbox row, one attempt) carries a new
//! random code (`OsRng`), unique among the codes that still work, for the person it goes to
//! alone. Only a keyed hash of the code is stored (`secrets`, so the database alone cannot be
//! searched for it); a code works once, for at most a day, and only while its task waits
//! for acknowledgement in an incident still open. Acting on a reply is
//! `incidents::replies`; this module only mints, finds and spends codes.

use rand::TryRngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TryInsertResult};
use time::{Duration, OffsetDateTime};

use super::entity::{incident, notification, reply_code, task};
use crate::domain::incidents::{IncidentStatus, TaskState};
use crate::domain::replies::{CODE_DIGITS, LONG_CODE_DIGITS, reply_line};
use crate::error::AppError;

/// Purpose of the key the codes are hashed under.
const PURPOSE: &str = "reply-code";

/// How long a code works at most, if its task is not settled sooner.
pub const CODE_TTL: Duration = Duration::hours(24);

/// Tries at drawing a short code not already live, before drawing a long one.
const SHORT_TRIES: usize = 20;

/// The reply line for a text delivering outbox row `n` (a task's page to a person), with a
/// new code minted for it; `None` when the text is about no task waiting for
/// acknowledgement, so no reply could act on it.
pub async fn line_for(
    db: &impl ConnectionTrait,
    n: &notification::Model,
    now: OffsetDateTime,
) -> Result<Option<String>, AppError> {
    let Some(person_id) = n.person_id else {
        return Ok(None);
    };
    let Some(t) = task::Entity::find_by_id(n.subject_id).one(db).await? else {
        return Ok(None);
    };
    if t.state != TaskState::Open || !incident_open(db, t.incident_id).await? {
        return Ok(None);
    }
    // Codes past their time free their place first.
    reply_code::Entity::update_many()
        .filter(reply_code::Column::LiveKey.is_not_null())
        .filter(reply_code::Column::ExpiresAt.lte(now))
        .col_expr(
            reply_code::Column::LiveKey,
            Expr::value(Option::<String>::None),
        )
        .exec(db)
        .await?;
    for attempt in 0..SHORT_TRIES + 5 {
        let digits = if attempt < SHORT_TRIES {
            CODE_DIGITS
        } else {
            LONG_CODE_DIGITS
        };
        let code = draw(digits)?;
        let inserted = reply_code::Entity::insert(reply_code::ActiveModel {
            task_id: Set(t.id),
            person_id: Set(person_id),
            notification_id: Set(Some(n.id)),
            incident_id: Set(t.incident_id),
            live_key: Set(Some(live_key(&code)?)),
            created_at: Set(now),
            expires_at: Set(now + CODE_TTL),
            used_at: Set(None),
            ..Default::default()
        })
        .on_conflict_do_nothing_on([reply_code::Column::LiveKey])
        .exec_without_returning(db)
        .await?;
        if matches!(inserted, TryInsertResult::Inserted(1)) {
            return Ok(Some(reply_line(&code)));
        }
    }
    tracing::warn!("no free reply code: the text goes without one");
    Ok(None)
}

/// The code's row, if it is live: not used, not past its time. Whether its task and incident
/// still allow a reply is [`settled`].
pub async fn find_live(
    db: &impl ConnectionTrait,
    code: &str,
    now: OffsetDateTime,
) -> Result<Option<reply_code::Model>, AppError> {
    Ok(reply_code::Entity::find()
        .filter(reply_code::Column::LiveKey.eq(live_key(code)?))
        .filter(reply_code::Column::UsedAt.is_null())
        .filter(reply_code::Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Why a live code's task no longer takes a reply, if it does not: acknowledged, done or
/// not applicable, or its incident closed or stood down.
pub async fn settled(
    db: &impl ConnectionTrait,
    row: &reply_code::Model,
) -> Result<Option<&'static str>, AppError> {
    let Some(t) = task::Entity::find_by_id(row.task_id).one(db).await? else {
        return Ok(Some("the task is gone"));
    };
    if t.state != TaskState::Open {
        return Ok(Some("the task is no longer waiting for acknowledgement"));
    }
    if !incident_open(db, t.incident_id).await? {
        return Ok(Some("the incident is closed"));
    }
    Ok(None)
}

/// Uses a code up, by one conditional update: of two replies at once, one wins. False when
/// it was used already.
pub async fn spend(
    db: &impl ConnectionTrait,
    id: i64,
    now: OffsetDateTime,
) -> Result<bool, AppError> {
    Ok(reply_code::Entity::update_many()
        .filter(reply_code::Column::Id.eq(id))
        .filter(reply_code::Column::UsedAt.is_null())
        .col_expr(reply_code::Column::UsedAt, Expr::value(now))
        .col_expr(
            reply_code::Column::LiveKey,
            Expr::value(Option::<String>::None),
        )
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Ends every code still live for a task: it was acted on (acknowledged, reassigned, done),
/// so earlier texts about it answer nothing any more. Part of the acting transaction.
pub async fn expire_for_task(db: &impl ConnectionTrait, task_id: i64) -> Result<(), AppError> {
    reply_code::Entity::update_many()
        .filter(reply_code::Column::TaskId.eq(task_id))
        .filter(reply_code::Column::LiveKey.is_not_null())
        .col_expr(
            reply_code::Column::LiveKey,
            Expr::value(Option::<String>::None),
        )
        .exec(db)
        .await?;
    Ok(())
}

async fn incident_open(db: &impl ConnectionTrait, incident_id: i64) -> Result<bool, AppError> {
    Ok(incident::Entity::find_by_id(incident_id)
        .one(db)
        .await?
        .is_some_and(|i| !matches!(i.status, IncidentStatus::Closed | IncidentStatus::StoodDown)))
}

/// A code of `digits` digits from the operating system's generator.
fn draw(digits: usize) -> Result<String, AppError> {
    let bound = 10u32.pow(digits as u32);
    // Draws past the last whole multiple of `bound` are thrown back, so every code is as
    // likely as every other.
    let zone = u32::MAX - u32::MAX % bound;
    loop {
        let n = rand::rngs::OsRng
            .try_next_u32()
            .map_err(|e| super::errors::internal("random reply code", &e))?;
        if n < zone {
            let n = n % bound;
            return Ok(format!("{n:0digits$}"));
        }
    }
}

/// `key id.hmac` of the code under the key file's key: the same code always gives the same
/// key (so live codes are unique and found by it), and the database alone reveals nothing.
fn live_key(code: &str) -> Result<String, AppError> {
    let (key_id, sig) = super::secrets::sign(PURPOSE, code.as_bytes())?;
    Ok(format!("{key_id}.{sig}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_length_and_their_key_hides_them() {
        super::super::secrets::install_for_tests();
        for _ in 0..50 {
            let code = draw(CODE_DIGITS).unwrap();
            assert_eq!(code.len(), 4);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(draw(LONG_CODE_DIGITS).unwrap().len(), 6);
        let key = live_key("4821").unwrap();
        assert!(!key.contains("4821"));
        assert_eq!(key, live_key("4821").unwrap());
        assert_ne!(key, live_key("4822").unwrap());
    }
}
