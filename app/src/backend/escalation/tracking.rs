//! The `escalation` rows that follow each task and command acknowledgement: started with a
//! declaration, stopped by an acknowledgement, started again by a reassignment.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use time::{Duration, OffsetDateTime};

use super::policies::Policy;
use crate::backend::entity::escalation;
use crate::error::AppError;

/// A task's escalation (`subject`).
pub const TASK: &str = "task";
/// A command role's acknowledgement (`subject`).
pub const COMMAND: &str = "command";

/// When a new subject first escalates: after the first level's time-out, or at its due time
/// if that comes first.
pub fn first_deadline(
    policy: &Policy,
    created: OffsetDateTime,
    due: Option<OffsetDateTime>,
) -> Option<OffsetDateTime> {
    let by_policy = policy
        .levels
        .first()
        .map(|l| created + Duration::seconds(l.timeout_seconds.into()));
    match (by_policy, due) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A row to start tracking a subject.
pub fn tracking(
    subject: &str,
    subject_id: i64,
    incident_id: i64,
    org_id: i64,
    fires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> escalation::ActiveModel {
    escalation::ActiveModel {
        subject: Set(subject.to_owned()),
        subject_id: Set(subject_id),
        incident_id: Set(incident_id),
        org_id: Set(org_id),
        level: Set(0),
        round: Set(0),
        fires_at: Set(fires_at),
        acknowledged_at: Set(None),
        flagged: Set(false),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Stops a subject escalating: it was acknowledged. Part of the acknowledging transaction.
pub async fn acknowledge(
    db: &impl ConnectionTrait,
    subject: &str,
    subject_id: i64,
    at: OffsetDateTime,
) -> Result<(), AppError> {
    escalation::Entity::update_many()
        .filter(escalation::Column::Subject.eq(subject))
        .filter(escalation::Column::SubjectId.eq(subject_id))
        .filter(escalation::Column::AcknowledgedAt.is_null())
        .col_expr(escalation::Column::AcknowledgedAt, Expr::value(at))
        .col_expr(escalation::Column::UpdatedAt, Expr::value(at))
        .exec(db)
        .await?;
    Ok(())
}

/// Starts a subject's escalation again from the beginning (it was reassigned).
pub async fn restart(
    db: &impl ConnectionTrait,
    subject: &str,
    subject_id: i64,
    fires_at: Option<OffsetDateTime>,
    at: OffsetDateTime,
) -> Result<(), AppError> {
    escalation::Entity::update_many()
        .filter(escalation::Column::Subject.eq(subject))
        .filter(escalation::Column::SubjectId.eq(subject_id))
        .col_expr(escalation::Column::Level, Expr::value(0))
        .col_expr(escalation::Column::Round, Expr::value(0))
        .col_expr(escalation::Column::FiresAt, Expr::value(fires_at))
        .col_expr(
            escalation::Column::AcknowledgedAt,
            Expr::value(Option::<OffsetDateTime>::None),
        )
        .col_expr(escalation::Column::Flagged, Expr::value(false))
        .col_expr(escalation::Column::UpdatedAt, Expr::value(at))
        .exec(db)
        .await?;
    Ok(())
}
