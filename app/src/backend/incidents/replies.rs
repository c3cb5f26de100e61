//! Acting on a reply to a text: `ACK 4821` acknowledges the task the text was about, as the
//! person it was sent to, through the same state machine as the button (timeline and audit
//! say it came by text); `ESC 4821` makes the task's escalation due now, so the engine fires
//! its next level on its next tick. Only a live code, sent from the verified number of the
//! person it was sent to, counts. Anything else changes nothing, is audited (never with the
//! code) and counts against the sender's allowance of bad replies.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};

use crate::backend::access::User;
use crate::backend::entity::{
    contact_method, escalation as escalation_row, incident, notification, reply_code, task,
};
use crate::backend::limits::Limits;
use crate::backend::{audit, escalation, reply_codes, timeline};
use crate::domain::contacts::UkMobile;
use crate::domain::incidents::{TaskAction, TaskState};
use crate::domain::replies::{Reply, ReplyVerb, parse_reply};
use crate::error::AppError;

use super::access::{event, task_with_incident};
use super::tasks::{Taken, act_via, take_escalated_via};

/// How the timeline and the audit trail say it was done.
const BY_TEXT: &str = " by text message reply";

/// `notification.subject` of the text confirming a reply.
pub const REPLY: &str = "text_reply";

/// What became of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// The task was acknowledged; its incident's reference.
    Acknowledged(String),
    /// The task's escalation was made due now; its incident's reference.
    Escalated(String),
    /// Not a reply that counts; nothing changed.
    Refused,
    /// From a number (or at a time) that has sent too many bad replies; not read at all.
    Ignored,
}

/// Reads a text sent back to Wardline from `source` (as Notify gives it, `447700900123`)
/// and acts on it if it counts. `client` is who posted it, for the audit trail.
#[tracing::instrument(skip_all, err)]
// Long because it is one guard after another, in the order a reply must be checked (limit,
// shape, number, code, sender, task state, person, spending the code), each refusal recorded
// in its own words; split up, that order would be scattered across functions.
pub async fn reply_by_text(
    db: &DatabaseConnection,
    limits: &Limits,
    source: &str,
    message: &str,
    client: Option<String>,
) -> Result<ReplyOutcome, AppError> {
    let number = UkMobile::parse(source).ok();
    // Unreadable numbers share one allowance, so varying them buys nothing.
    let key = number
        .as_ref()
        .map_or("unknown".to_owned(), |n| n.as_str().to_owned());
    let from = number
        .as_ref()
        .map_or("a number that is not a UK mobile".to_owned(), |n| {
            n.masked()
        });
    let refuse = |why: String, count: bool| {
        let client = client.clone();
        let key = key.clone();
        async move {
            if count {
                limits.reply_failed(&key).await;
            }
            refused(db, why, client).await?;
            Ok::<_, AppError>(ReplyOutcome::Refused)
        }
    };
    if limits.reply_allowed(&key).await.is_err() {
        refused(
            db,
            format!("ignored: too many bad replies from {from}"),
            client.clone(),
        )
        .await?;
        return Ok(ReplyOutcome::Ignored);
    }
    let Some(reply) = parse_reply(message) else {
        // Not a guess at a code ("on my way"): recorded, not counted.
        return refuse(format!("not a reply Wardline reads, from {from}"), false).await;
    };
    let word = reply.verb.word();
    let Some(number) = number else {
        return refuse(format!("{word} from {from}"), true).await;
    };
    let now = timeline::now();
    let Some(code) = reply_codes::find_live(db, &reply.code, now).await? else {
        return refuse(
            format!("{word} from {from}: no such code, or used or expired"),
            true,
        )
        .await;
    };
    if !from_their_number(db, &code, &number).await? {
        return refuse(
            format!("{word} from {from}: not the number the code was sent to"),
            true,
        )
        .await;
    }
    if let Some(why) = reply_codes::settled(db, &code).await? {
        return refuse(format!("{word} from {from}: {why}"), true).await;
    }
    let Some(user) = user_of(db, code.person_id).await? else {
        return refuse(format!("{word} from {from}: the person cannot act"), true).await;
    };
    if !reply_codes::spend(db, code.id, now).await? {
        return refuse(format!("{word} from {from}: the code was just used"), true).await;
    }
    let done = match reply.verb {
        ReplyVerb::Acknowledge => acknowledge(db, &user, &code).await,
        ReplyVerb::Escalate => escalate_now(db, &user, &code).await,
    };
    let reference = match done {
        Ok(Some(reference)) => reference,
        Ok(None) => {
            return refuse(format!("{word} from {from}: the task has moved on"), false).await;
        }
        Err(AppError::Internal(r)) => return Err(AppError::Internal(r)),
        Err(_) => {
            return refuse(format!("{word} from {from}: not allowed"), false).await;
        }
    };
    confirm(db, &user, &code, &reply, &reference).await?;
    let inc = incident::Entity::find_by_id(code.incident_id)
        .one(db)
        .await?;
    audit::record(
        db,
        audit::Event {
            actor: Some(user.person_id),
            action: "text_reply",
            org: inc.map(|i| i.org_id),
            subject: Some(reference.clone()),
            detail: Some(format!("{word} from {from}")),
            client,
            ..Default::default()
        },
    )
    .await?;
    Ok(match reply.verb {
        ReplyVerb::Acknowledge => ReplyOutcome::Acknowledged(reference),
        ReplyVerb::Escalate => ReplyOutcome::Escalated(reference),
    })
}

async fn refused(
    db: &impl ConnectionTrait,
    detail: String,
    client: Option<String>,
) -> Result<(), AppError> {
    audit::record(
        db,
        audit::Event {
            action: "text_reply",
            subject: Some("text reply".into()),
            detail: Some(detail),
            client,
            outcome: Some(audit::REFUSED),
            ..Default::default()
        },
    )
    .await
}

/// Whether `number` is the verified mobile of the person the code was sent to.
async fn from_their_number(
    db: &impl ConnectionTrait,
    code: &reply_code::Model,
    number: &UkMobile,
) -> Result<bool, AppError> {
    Ok(contact_method::Entity::find()
        .filter(contact_method::Column::PersonId.eq(code.person_id))
        .filter(contact_method::Column::Kind.eq(crate::backend::contacts::SMS))
        .filter(contact_method::Column::VerifiedAt.is_not_null())
        .filter(contact_method::Column::Address.eq(number.as_str()))
        .one(db)
        .await?
        .is_some())
}

/// The person the code was sent to, acting without a session: the verified phone and the
/// code stand for signing in. `None` when they are disabled.
async fn user_of(db: &impl ConnectionTrait, person_id: i64) -> Result<Option<User>, AppError> {
    // The same read as a signed-in request's, so a disabled person's reply counts for nothing.
    let Some(known) = crate::backend::callers::read(db, person_id)
        .await?
        .filter(|k| !k.disabled)
    else {
        return Ok(None);
    };
    Ok(Some(User {
        person_id,
        name: known.name,
        email: known.email,
        grants: known.grants,
        mfa_enabled: known.mfa_enabled,
        second_factor: false,
    }))
}

/// Acknowledges task `id` as its holder, through the task state machine, marked as done by
/// a text reply on the timeline.
async fn acknowledge_by_text(
    db: &DatabaseConnection,
    user: &User,
    id: i64,
) -> Result<String, AppError> {
    act_via(
        db,
        user,
        id,
        TaskAction::Acknowledge,
        "",
        "",
        Default::default(),
        BY_TEXT,
    )
    .await
}

/// A page at once (level 0) tells the person of all their new tasks in the incident in one
/// text with one code ("4 new tasks …"): acknowledging it acknowledges every task of theirs
/// there still waiting, so the ones not named first do not escalate past someone who
/// answered. An escalation's text is about one task, and acknowledges that one only.
async fn acknowledge_the_rest(
    db: &DatabaseConnection,
    user: &User,
    code: &reply_code::Model,
    first: &task::Model,
) -> Result<(), AppError> {
    let Some(n) = code.notification_id else {
        return Ok(());
    };
    let at_once = notification::Entity::find_by_id(n)
        .one(db)
        .await?
        .is_some_and(|n| n.level == 0);
    if !at_once {
        return Ok(());
    }
    let waiting = task::Entity::find()
        .filter(task::Column::IncidentId.eq(first.incident_id))
        .filter(task::Column::AssigneeId.eq(user.person_id))
        .filter(task::Column::State.eq(TaskState::Open))
        .filter(task::Column::Id.ne(first.id))
        .all(db)
        .await?;
    for t in waiting {
        match acknowledge_by_text(db, user, t.id).await {
            // Moved on meanwhile (acknowledged in the app, reassigned): nothing to do.
            Ok(_) | Err(AppError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Acknowledges as the person: the assignee through the task state machine, someone an
/// escalation reached by taking the task on, as the email link does. `None` when someone
/// else acknowledged it first.
async fn acknowledge(
    db: &DatabaseConnection,
    user: &User,
    code: &reply_code::Model,
) -> Result<Option<String>, AppError> {
    let t = task::Entity::find_by_id(code.task_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if t.assignee_id == Some(user.person_id) {
        let reference = acknowledge_by_text(db, user, t.id).await?;
        acknowledge_the_rest(db, user, code, &t).await?;
        return Ok(Some(reference));
    }
    let Some(n) = code.notification_id else {
        return Err(AppError::Forbidden);
    };
    match take_escalated_via(db, user, n, false, BY_TEXT).await? {
        (Taken::Taken, reference) => Ok(Some(reference)),
        (Taken::AlreadyAcknowledged, _) => Ok(None),
    }
}

/// Makes the task's escalation due now, by one conditional update (still unacknowledged,
/// not flagged, something left to fire), with a line on the timeline and an audit row.
/// `None` when there is nothing left to escalate to.
async fn escalate_now(
    db: &DatabaseConnection,
    user: &User,
    code: &reply_code::Model,
) -> Result<Option<String>, AppError> {
    let (t, inc) = task_with_incident(db, code.task_id).await?;
    let now = timeline::now();
    let txn = db.begin().await?;
    let pushed = escalation_row::Entity::update_many()
        .filter(escalation_row::Column::Subject.eq(escalation::TASK))
        .filter(escalation_row::Column::SubjectId.eq(t.id))
        .filter(escalation_row::Column::AcknowledgedAt.is_null())
        .filter(escalation_row::Column::Flagged.eq(false))
        .filter(escalation_row::Column::FiresAt.is_not_null())
        .col_expr(escalation_row::Column::FiresAt, Expr::value(now))
        .col_expr(escalation_row::Column::UpdatedAt, Expr::value(now))
        .exec(&txn)
        .await?
        .rows_affected;
    if pushed != 1 {
        return Ok(None);
    }
    reply_codes::expire_for_task(&txn, t.id).await?;
    let detail = format!("“{}” escalated now{BY_TEXT}", t.title);
    event(
        &txn,
        inc.id,
        Some(user.person_id),
        "task",
        format!("{detail} ({})", user.name),
    )
    .await?;
    audit::record(
        &txn,
        audit::Event {
            actor: Some(user.person_id),
            action: "task_escalated_now",
            org: Some(inc.org_id),
            subject: Some(inc.reference.clone()),
            detail: Some(detail),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Some(inc.reference))
}

/// Texts the person back that their reply was acted on, through the outbox (one per code).
async fn confirm(
    db: &impl ConnectionTrait,
    user: &User,
    code: &reply_code::Model,
    reply: &Reply,
    reference: &str,
) -> Result<(), AppError> {
    let title = task::Entity::find_by_id(code.task_id)
        .one(db)
        .await?
        .map(|t| t.title)
        .unwrap_or_default();
    let what = match reply.verb {
        ReplyVerb::Acknowledge => "Acknowledged",
        ReplyVerb::Escalate => "Escalated now",
    };
    let now = timeline::now();
    escalation::outbox::insert(
        db,
        vec![notification::ActiveModel {
            subject: Set(REPLY.to_owned()),
            subject_id: Set(code.id),
            incident_id: Set(code.incident_id),
            level: Set(0),
            round: Set(0),
            recipient_key: Set(format!("person:{}", user.person_id)),
            person_id: Set(Some(user.person_id)),
            channel: Set("sms".into()),
            title: Set(format!("{what}: “{title}” ({reference})")
                .chars()
                .take(300)
                .collect()),
            body: Set("Wardline has recorded your reply.".into()),
            status: Set(crate::domain::escalation::NotificationStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_at: Set(now),
            ..Default::default()
        }],
    )
    .await
}
