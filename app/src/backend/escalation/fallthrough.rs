//! Falling through: a page by text or Teams that cannot reach its person (Notify's receipt
//! says it failed, or every attempt failed) pages them by email at once, with a line on the incident
//! timeline. Each failed text falls through once, whoever notices first. And a page whose
//! delayed rule is no longer needed (its task acknowledged, done or handed on) is cancelled
//! instead of sent.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use time::OffsetDateTime;

use super::outbox;
use super::tracking::TASK;
use crate::backend::entity::{escalation, notification, person, task, text_message};
use crate::backend::timeline;
use crate::domain::escalation::Channel;
use crate::domain::incidents::TaskState;
use crate::error::AppError;

/// Notify's statuses for a text that did not arrive.
pub const FAILED_STATUSES: [&str; 3] = [
    "permanent-failure",
    "temporary-failure",
    "technical-failure",
];

/// The email that replaces a text `n` that could not be delivered: the same page, due now,
/// keyed after the text so it is written once.
pub fn email_instead(n: &notification::Model, now: OffsetDateTime) -> notification::ActiveModel {
    notification::ActiveModel {
        subject: Set(n.subject.clone()),
        subject_id: Set(n.subject_id),
        incident_id: Set(n.incident_id),
        level: Set(n.level),
        round: Set(n.round),
        recipient_key: Set(format!("{}/instead", n.recipient_key)),
        person_id: Set(n.person_id),
        channel: Set(Channel::Email.as_str().to_owned()),
        title: Set(n.title.clone()),
        body: Set(format!(
            "{}\n\n(Sent by email because the {} could not be delivered.)",
            n.body,
            if n.channel == Channel::Teams.as_str() {
                "post in your organisation's Microsoft Teams channel"
            } else {
                "text message to your mobile"
            }
        )),
        status: Set(crate::domain::escalation::NotificationStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    }
}

/// Writes the email replacing text `n` in the caller's transaction, with its timeline line
/// (`why` the text failed). Nothing when `n` is not a page by text to a person.
pub async fn write(
    db: &impl ConnectionTrait,
    n: &notification::Model,
    why: &str,
    email_on: bool,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let what = match Channel::parse(&n.channel) {
        Some(Channel::Sms) => "Text message",
        Some(Channel::Teams) => "Teams post",
        _ => return Ok(()),
    };
    let Some(person_id) = n.person_id else {
        return Ok(());
    };
    let who = person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .map(|p| p.display_name)
        .unwrap_or_default();
    let line = if email_on {
        outbox::insert(db, vec![email_instead(n, now)]).await?;
        format!("{what} to {who} not delivered ({why}): paging {who} by email instead")
    } else {
        format!(
            "{what} to {who} not delivered ({why}); email is not connected, so the inbox is all that is left"
        )
    };
    // A notice about no incident (an on-call handover) has no timeline.
    if n.incident_id > 0 {
        timeline::append(db, n.incident_id, None, "delivery", line).await?;
    }
    Ok(())
}

/// After Notify's receipt for the text sent under `reference` said `status`: a failed page
/// falls through to email (once, however often the receipt comes).
pub async fn after_receipt(
    db: &sea_orm::DatabaseConnection,
    reference: &str,
    status: &str,
    email_on: bool,
) -> Result<(), AppError> {
    if !FAILED_STATUSES.contains(&status) {
        return Ok(());
    }
    let txn = db.begin().await?;
    let Some(sent) = text_message::Entity::find()
        .filter(text_message::Column::Reference.eq(reference))
        .one(&txn)
        .await?
    else {
        return Ok(());
    };
    let found = match sent.notification_id {
        Some(id) => notification::Entity::find_by_id(id).one(&txn).await?,
        None => None,
    };
    let Some(n) = found else {
        return Ok(());
    };
    let already = notification::Entity::find()
        .filter(notification::Column::Subject.eq(n.subject.clone()))
        .filter(notification::Column::SubjectId.eq(n.subject_id))
        .filter(notification::Column::Level.eq(n.level))
        .filter(notification::Column::Round.eq(n.round))
        .filter(notification::Column::RecipientKey.eq(format!("{}/instead", n.recipient_key)))
        .one(&txn)
        .await?
        .is_some();
    if already {
        return Ok(());
    }
    write(
        &txn,
        &n,
        &format!("GOV.UK Notify reports {status}"),
        email_on,
        timeline::now(),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Why a page by a delayed rule is no longer needed, if it is not: its person holds no task
/// of the incident still waiting to be acknowledged (a declaration's or a new holder's page),
/// or the escalation it came from was acknowledged.
pub async fn no_longer_needed(
    db: &impl ConnectionTrait,
    n: &notification::Model,
) -> Result<Option<&'static str>, AppError> {
    if !crate::domain::paging::is_delayed_key(&n.recipient_key) {
        return Ok(None);
    }
    if n.level == 0 && n.subject == TASK {
        let Some(person_id) = n.person_id else {
            return Ok(None);
        };
        let waiting = task::Entity::find()
            .filter(task::Column::IncidentId.eq(n.incident_id))
            .filter(task::Column::AssigneeId.eq(person_id))
            .filter(task::Column::State.eq(TaskState::Open))
            .one(db)
            .await?;
        return Ok(waiting
            .is_none()
            .then_some("their tasks were acknowledged or handed on"));
    }
    let acknowledged = escalation::Entity::find()
        .filter(escalation::Column::Subject.eq(n.subject.clone()))
        .filter(escalation::Column::SubjectId.eq(n.subject_id))
        .filter(escalation::Column::AcknowledgedAt.is_not_null())
        .one(db)
        .await?
        .is_some();
    Ok(acknowledged.then_some("it was acknowledged"))
}

/// Cancels a claimed page that is no longer needed, with a line on the timeline.
pub async fn cancel(
    db: &sea_orm::DatabaseConnection,
    n: &notification::Model,
    why: &str,
) -> Result<(), AppError> {
    let txn = db.begin().await?;
    notification::Entity::update_many()
        .filter(notification::Column::Id.eq(n.id))
        .col_expr(
            notification::Column::Status,
            Expr::value(crate::domain::escalation::NotificationStatus::Cancelled),
        )
        .col_expr(
            notification::Column::ClaimedUntil,
            Expr::value(Option::<OffsetDateTime>::None),
        )
        .exec(&txn)
        .await?;
    let who = match n.person_id {
        Some(p) => person::Entity::find_by_id(p)
            .one(&txn)
            .await?
            .map(|p| p.display_name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let channel = match Channel::parse(&n.channel) {
        Some(Channel::Sms) => "Text message",
        Some(Channel::Teams) => "Teams post",
        _ => "Email",
    };
    timeline::append(
        &txn,
        n.incident_id,
        None,
        "delivery",
        format!("{channel} reminder to {who} not sent: {why}"),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
