//! An incident's life after declaring: level and status changes, awareness, and the
//! command roles.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use time::Duration;

use crate::backend::access::User;

use crate::backend::entity::{incident, incident_command};
use crate::backend::escalation;
use crate::backend::{audit, timeline};
use crate::domain::incidents::{Command, IncidentLevel, IncidentStatus};
use crate::error::AppError;

use crate::domain::dates::moment as fmt;

use crate::backend::incidents::access::{event, find_readable, may_lead, touch};
use crate::backend::incidents::declaring::bounded;
use crate::backend::incidents::view::command_candidates;

/// A lead's change to an incident, checked and ready to find the incident.
pub(crate) async fn lead_incident(
    db: &impl ConnectionTrait,
    user: &User,
    reference: &str,
) -> Result<incident::Model, AppError> {
    let inc = find_readable(db, user, reference).await?;
    if !may_lead(db, user, inc.org_id).await? {
        return Err(AppError::Forbidden);
    }
    Ok(inc)
}

/// Changes an incident's level and/or status, with a reason on the timeline. Leads and
/// admins over the incident's organisation may; staff and regulators may not.
pub async fn change(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    level: Option<IncidentLevel>,
    status: Option<IncidentStatus>,
    reason: &str,
) -> Result<(), AppError> {
    let reason = bounded(reason, "why it changes", 1000, true)?;
    let inc = lead_incident(db, user, reference).await?;
    if level.is_none() && status.is_none() {
        return Err(AppError::Invalid("Choose a new level or status.".into()));
    }
    let mut detail = Vec::new();
    let mut q = incident::Entity::update_many()
        .filter(incident::Column::Id.eq(inc.id))
        // Only from what the person saw: a change made meanwhile by someone else wins.
        .filter(incident::Column::Level.eq(inc.level))
        .filter(incident::Column::Status.eq(inc.status))
        .col_expr(incident::Column::UpdatedAt, Expr::value(timeline::now()));
    if let Some(l) = level {
        q = q.col_expr(incident::Column::Level, Expr::value(l));
        detail.push(format!(
            "level {} → {}",
            inc.level.as_str().replace('_', " "),
            l.as_str().replace('_', " ")
        ));
    }
    if let Some(s) = status {
        q = q.col_expr(incident::Column::Status, Expr::value(s));
        detail.push(format!(
            "status {} → {}",
            inc.status.as_str().replace('_', " "),
            s.as_str().replace('_', " ")
        ));
    }
    let txn = db.begin().await?;
    if q.exec(&txn).await?.rows_affected != 1 {
        return Err(AppError::Conflict(
            "Someone else changed this incident just now. Reload to see it.".into(),
        ));
    }
    let detail = format!("{}: {reason} ({})", detail.join(", "), user.name);
    finish(&txn, user, &inc, "changed", "incident_changed", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// Sets when the organisation became aware of the incident, earlier than its declaration
/// (never later), with a reason on the timeline and in the audit: every reporting clock
/// counts from it. Moving it again keeps each move on the timeline.
pub async fn set_awareness(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    aware_at: &str,
    reason: &str,
) -> Result<(), AppError> {
    let reason = bounded(reason, "how the organisation knew earlier", 1000, true)?;
    let at = crate::domain::dates::parse_moment(aware_at)
        .map_err(AppError::Invalid)?
        .ok_or_else(|| AppError::Invalid("Say when the organisation became aware.".into()))?;
    let inc = lead_incident(db, user, reference).await?;
    if at > inc.declared_at {
        return Err(AppError::Invalid(format!(
            "Awareness cannot be later than the declaration ({}).",
            fmt(inc.declared_at)
        )));
    }
    if at < inc.declared_at - Duration::days(365) {
        return Err(AppError::Invalid(
            "That is more than a year before the declaration: check the date.".into(),
        ));
    }
    if at == inc.aware_at {
        return Err(AppError::Invalid(
            "That is already when the organisation became aware.".into(),
        ));
    }
    let txn = db.begin().await?;
    let moved = incident::Entity::update_many()
        .filter(incident::Column::Id.eq(inc.id))
        // Only from what the person saw: a move made meanwhile by someone else wins.
        .filter(incident::Column::AwareAt.eq(inc.aware_at))
        .col_expr(incident::Column::AwareAt, Expr::value(at))
        .col_expr(incident::Column::UpdatedAt, Expr::value(timeline::now()))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(
            "Someone else changed this incident just now. Reload to see it.".into(),
        ));
    }
    let detail = format!(
        "Became aware set to {} (was {}); every reporting clock counts from it: {reason} ({})",
        fmt(at),
        fmt(inc.aware_at),
        user.name
    );
    finish(
        &txn,
        user,
        &inc,
        "awareness",
        "incident_awareness_set",
        detail,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Writes the timeline entry and the audit record for a lead's change.
pub(crate) async fn finish(
    txn: &impl ConnectionTrait,
    user: &User,
    inc: &incident::Model,
    kind: &str,
    action: &str,
    detail: String,
) -> Result<(), AppError> {
    event(txn, inc.id, Some(user.person_id), kind, detail.clone()).await?;
    audit::record(
        txn,
        audit::Event {
            actor: Some(user.person_id),
            action,
            org: Some(inc.org_id),
            subject: Some(inc.reference.clone()),
            detail: Some(detail),
            ..Default::default()
        },
    )
    .await
}

/// Gives a command role to one of the people holding a role around the incident, or
/// clears it (`person` None).
pub async fn assign_command(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    command: Command,
    person: Option<i64>,
) -> Result<(), AppError> {
    let inc = lead_incident(db, user, reference).await?;
    let name = match person {
        Some(p) => Some(
            command_candidates(db, &inc)
                .await?
                .into_iter()
                .find(|c| c.person_id == p)
                // Only the people the incident's page offers; anyone else does not exist.
                .ok_or(AppError::NotFound)?
                .label,
        ),
        None => None,
    };
    let policy = escalation::policy_for(db, inc.org_id).await?;
    let now = timeline::now();
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    let old = incident_command::Entity::find()
        .filter(incident_command::Column::IncidentId.eq(inc.id))
        .filter(incident_command::Column::Command.eq(command.as_str()))
        .one(&txn)
        .await?;
    incident_command::Entity::delete_many()
        .filter(incident_command::Column::IncidentId.eq(inc.id))
        .filter(incident_command::Column::Command.eq(command.as_str()))
        .exec(&txn)
        .await?;
    let new = match person {
        Some(p) => Some(
            incident_command::ActiveModel {
                incident_id: Set(inc.id),
                command: Set(command.as_str().to_owned()),
                person_id: Set(p),
                assigned_at: Set(now),
                assigned_by: Set(Some(user.person_id)),
                ..Default::default()
            }
            .insert(&txn)
            .await?,
        ),
        None => None,
    };
    if command == Command::Gold {
        // The old commander's acknowledgement no longer matters; the new one's does.
        if let Some(o) = old {
            escalation::acknowledge(&txn, escalation::COMMAND, o.id, now).await?;
        }
        if let Some(n) = new {
            escalation::tracking(
                escalation::COMMAND,
                n.id,
                inc.id,
                inc.org_id,
                escalation::first_deadline(&policy, now, None),
                now,
            )
            .insert(&txn)
            .await?;
        }
    }
    let detail = match name {
        Some(n) => format!("{}: {n} (given by {})", command.label(), user.name),
        None => format!("{}: nobody now (cleared by {})", command.label(), user.name),
    };
    finish(&txn, user, &inc, "command", "incident_command", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// The Gold commander acknowledges taking command, which stops that escalation.
pub async fn acknowledge_command(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
) -> Result<(), AppError> {
    let inc = find_readable(db, user, reference).await?;
    let now = timeline::now();
    let txn = db.begin().await?;
    let changed = incident_command::Entity::update_many()
        .filter(incident_command::Column::IncidentId.eq(inc.id))
        .filter(incident_command::Column::Command.eq(Command::Gold.as_str()))
        .filter(incident_command::Column::PersonId.eq(user.person_id))
        .filter(incident_command::Column::AcknowledgedAt.is_null())
        .col_expr(incident_command::Column::AcknowledgedAt, Expr::value(now))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::Conflict(
            "You do not hold Gold on this incident, or it is already acknowledged.".into(),
        ));
    }
    let gold = incident_command::Entity::find()
        .filter(incident_command::Column::IncidentId.eq(inc.id))
        .filter(incident_command::Column::Command.eq(Command::Gold.as_str()))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    escalation::acknowledge(&txn, escalation::COMMAND, gold.id, now).await?;
    let detail = format!("Gold command acknowledged by {}", user.name);
    finish(&txn, user, &inc, "command", "command_acknowledged", detail).await?;
    txn.commit().await?;
    Ok(())
}
