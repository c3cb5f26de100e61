//! Tasks and their state machine: every change is one conditional update, so of two people
//! acting at once one wins and the other is told it has moved on.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
};
use time::OffsetDateTime;

use crate::backend::access::{self, User};
use crate::backend::paging::Channels;

use crate::backend::entity::notification;
use crate::backend::entity::{incident, task};
use crate::backend::escalation;
use crate::backend::{audit, timeline};
use crate::domain::incidents::{TaskAction, TaskState, transition};
use crate::error::AppError;

use crate::backend::incidents::access::{event, readable, task_with_incident};
use crate::backend::incidents::declaring::bounded;
use crate::backend::incidents::lifecycle::finish;

/// Acts on a task. Where the task may go is `domain::incidents::transition`; the change is
/// one conditional update: it only happens if the task is still in a state the action
/// applies to, so of two people acting at once one wins and the other is told it has moved
/// on. `note` is what was done (complete) or why (not applicable, reassign); `to_email` is
/// whom a reassigned task goes to.
#[tracing::instrument(skip_all, err)]
pub async fn act(
    db: &DatabaseConnection,
    user: &User,
    task_id: i64,
    action: TaskAction,
    note: &str,
    to_email: &str,
) -> Result<String, AppError> {
    act_paging(
        db,
        user,
        task_id,
        action,
        note,
        to_email,
        Channels::default(),
    )
    .await
}

/// As [`act`]; a reassigned task's new holder is also paged by their notification rules on
/// `channels`, in the same transaction.
#[tracing::instrument(skip_all, err)]
pub async fn act_paging(
    db: &DatabaseConnection,
    user: &User,
    task_id: i64,
    action: TaskAction,
    note: &str,
    to_email: &str,
    channels: Channels,
) -> Result<String, AppError> {
    act_via(db, user, task_id, action, note, to_email, channels, "").await
}

/// [`act_paging`], saying on the timeline and in the audit trail how the person acted when
/// it was not in Wardline itself (`via`, e.g. " by text message reply").
#[allow(clippy::too_many_arguments)]
pub(crate) async fn act_via(
    db: &DatabaseConnection,
    user: &User,
    task_id: i64,
    action: TaskAction,
    note: &str,
    to_email: &str,
    channels: Channels,
    via: &str,
) -> Result<String, AppError> {
    let (t, inc) = task_to_act_on(db, user, task_id).await?;
    let now = timeline::now();
    let (q, detail) = change_for(db, user, &t, action, note, to_email, now).await?;
    let detail = format!("{detail}{via}");
    let moved_on = || {
        AppError::Conflict(
            "Someone else has already moved this task on. Reload to see where it stands.".into(),
        )
    };
    let next = transition(t.state, action).map_err(|_| moved_on())?;
    let q = q.col_expr(task::Column::State, Expr::value(next));
    let from = action.applies_from();
    let restart_at = match action {
        TaskAction::Reassign => {
            let policy = escalation::policy_for(db, inc.org_id).await?;
            Some(escalation::first_deadline(&policy, now, Some(t.due_at)))
        }
        _ => None,
    };
    let txn = db.begin().await?;
    let changed = q
        .filter(task::Column::State.is_in(from))
        .filter(match t.assignee_id {
            Some(a) => Condition::all().add(task::Column::AssigneeId.eq(a)),
            None => Condition::all().add(task::Column::AssigneeId.is_null()),
        })
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(moved_on());
    }
    // In the same transaction: acknowledging stops the escalation; reassigning starts it
    // again for the new assignee, who is told in their inbox.
    match restart_at {
        Some(fires_at) => {
            escalation::restart(&txn, escalation::TASK, t.id, fires_at, now).await?;
            let moved = task::Entity::find_by_id(t.id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound)?;
            if let Some(a) = moved.assignee_id {
                tell_holder(&txn, &moved, a, &inc, channels, now).await?;
            }
        }
        None => escalation::acknowledge(&txn, escalation::TASK, t.id, now).await?,
    }
    // Texts sent about the task before this answer nothing any more.
    crate::backend::reply_codes::expire_for_task(&txn, t.id).await?;
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
            action: "task_changed",
            org: Some(inc.org_id),
            subject: Some(inc.reference.clone()),
            detail: Some(detail),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(inc.reference)
}

/// Task `task_id` and its incident, when the person may act on it: it is theirs, or they
/// administer the incident's organisation (never with read-only access). Tasks of
/// incidents they cannot read are not found.
async fn task_to_act_on(
    db: &DatabaseConnection,
    user: &User,
    task_id: i64,
) -> Result<(task::Model, incident::Model), AppError> {
    let (t, inc) = task_with_incident(db, task_id).await?;
    let inc = readable(db, user, inc).await?;
    let admin = access::within(&access::administered_orgs(db, user).await?, inc.org_id);
    if t.assignee_id != Some(user.person_id) && !admin {
        return Err(AppError::Forbidden);
    }
    if user.is_read_only_user() {
        return Err(AppError::Forbidden);
    }
    Ok((t, inc))
}

/// The update `action` makes to task `t` (state aside), checked for its note and new
/// holder, and what the timeline says of it.
async fn change_for(
    db: &DatabaseConnection,
    user: &User,
    t: &task::Model,
    action: TaskAction,
    note: &str,
    to_email: &str,
    now: OffsetDateTime,
) -> Result<(sea_orm::UpdateMany<task::Entity>, String), AppError> {
    let mut q = task::Entity::update_many()
        .filter(task::Column::Id.eq(t.id))
        .col_expr(task::Column::UpdatedAt, Expr::value(now));
    let detail = match action {
        TaskAction::Acknowledge => {
            q = q.col_expr(task::Column::AcknowledgedAt, Expr::value(now));
            format!("“{}” acknowledged", t.title)
        }
        TaskAction::Start => {
            q = q.col_expr(task::Column::StartedAt, Expr::value(now));
            if t.acknowledged_at.is_none() {
                q = q.col_expr(task::Column::AcknowledgedAt, Expr::value(now));
            }
            format!("“{}” started", t.title)
        }
        TaskAction::Complete => {
            let note = bounded(note, "what was done", 4000, true)?;
            q = q
                .col_expr(task::Column::CompletedAt, Expr::value(now))
                .col_expr(task::Column::Note, Expr::value(note.clone()));
            format!("“{}” done: {note}", t.title)
        }
        TaskAction::NotApplicable => {
            let reason = bounded(note, "why it does not apply", 1000, true)?;
            q = q.col_expr(task::Column::Note, Expr::value(reason.clone()));
            format!("“{}” marked not applicable: {reason}", t.title)
        }
        TaskAction::Reassign => {
            let reason = bounded(note, "why it is reassigned", 1000, true)?;
            let to = access::person_in_reach(db, user, to_email, access::Action::Act).await?;
            q = q
                .col_expr(task::Column::AssigneeId, Expr::value(to.id))
                .col_expr(
                    task::Column::AcknowledgedAt,
                    Expr::value(Option::<OffsetDateTime>::None),
                )
                .col_expr(
                    task::Column::Routing,
                    Expr::value(format!(
                        "reassigned to {} by {}: {reason}",
                        to.display_name, user.name
                    )),
                );
            format!("“{}” reassigned to {}: {reason}", t.title, to.display_name)
        }
    };
    Ok((q, detail))
}

/// Tells `person` they hold task `t` now: their inbox notice, and pages by their
/// notification rules on `channels` as a declaration pages its assignees. Part of the
/// caller's transaction; written once per task and holder however often it is called.
pub(crate) async fn tell_holder(
    db: &impl sea_orm::ConnectionTrait,
    t: &task::Model,
    person: i64,
    inc: &incident::Model,
    channels: Channels,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let notice = escalation::assigned(t, person, &inc.reference, now);
    let known = crate::backend::paging::Known::load(db, &[person].into()).await?;
    let mut rows: Vec<notification::ActiveModel> = known
        .rules(person, channels)
        .iter()
        .map(|rule| {
            escalation::outbox::paged(
                &notice,
                person,
                rule,
                &inc.reference,
                inc.exercise.is_some(),
                now,
            )
        })
        .collect();
    rows.push(notice);
    escalation::outbox::insert(db, rows).await
}

/// How taking an escalated task went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// The caller acknowledged it and now holds it.
    Taken,
    /// Someone acknowledged it first; nothing changed.
    AlreadyAcknowledged,
}

/// Someone an escalation reached acknowledges the task and takes it on. With `spend_link`,
/// the signed email link is used up in the same transaction (it works once).
pub async fn take_escalated(
    db: &DatabaseConnection,
    user: &User,
    notification_id: i64,
    spend_link: bool,
) -> Result<(Taken, String), AppError> {
    let via = if spend_link {
        " (from the email link)"
    } else {
        ""
    };
    take_escalated_via(db, user, notification_id, spend_link, via).await
}

/// [`take_escalated`], saying on the timeline how (`via`).
pub(crate) async fn take_escalated_via(
    db: &DatabaseConnection,
    user: &User,
    notification_id: i64,
    spend_link: bool,
    via: &str,
) -> Result<(Taken, String), AppError> {
    let n = notification::Entity::find_by_id(notification_id)
        .one(db)
        .await?
        .filter(|n| n.person_id == Some(user.person_id) && n.subject == escalation::TASK)
        .ok_or(AppError::NotFound)?;
    if user.is_read_only_user() {
        return Err(AppError::Forbidden);
    }
    let (t, inc) = task_with_incident(db, n.subject_id).await?;
    let now = timeline::now();
    let txn = db.begin().await?;
    if spend_link {
        let spent = notification::Entity::update_many()
            .filter(notification::Column::Id.eq(n.id))
            .filter(notification::Column::LinkUsedAt.is_null())
            .col_expr(notification::Column::LinkUsedAt, Expr::value(now))
            .exec(&txn)
            .await?;
        if spent.rows_affected != 1 {
            return Err(AppError::Conflict(
                "This link has already been used. Open the incident in Wardline instead.".into(),
            ));
        }
    }
    let taken = task::Entity::update_many()
        .filter(task::Column::Id.eq(t.id))
        .filter(task::Column::State.eq(TaskState::Open))
        .col_expr(task::Column::State, Expr::value(TaskState::Acknowledged))
        .col_expr(task::Column::AcknowledgedAt, Expr::value(now))
        .col_expr(task::Column::AssigneeId, Expr::value(user.person_id))
        .col_expr(
            task::Column::Routing,
            Expr::value(format!(
                "{}; taken on escalation (level {}) by {}",
                t.routing, n.level, user.name
            )),
        )
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .exec(&txn)
        .await?;
    if taken.rows_affected != 1 {
        txn.commit().await?;
        return Ok((Taken::AlreadyAcknowledged, inc.reference));
    }
    escalation::acknowledge(&txn, escalation::TASK, t.id, now).await?;
    crate::backend::reply_codes::expire_for_task(&txn, t.id).await?;
    let detail = format!(
        "“{}” acknowledged on escalation and taken by {}{via}",
        t.title, user.name,
    );
    finish(&txn, user, &inc, "task", "task_taken", detail).await?;
    txn.commit().await?;
    Ok((Taken::Taken, inc.reference))
}
