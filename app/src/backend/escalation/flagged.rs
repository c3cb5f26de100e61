//! The flagged list: tasks and command acknowledgements nobody acknowledged along the whole
//! escalation path, for national attention.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::tracking::TASK;
use crate::backend::entity::{escalation, incident, task};
use crate::domain::escalation::FlaggedRow;
use crate::error::AppError;

/// Tasks and command acknowledgements nobody acknowledged along the whole path, in the
/// organisations the caller can see.
pub async fn flagged(
    db: &impl ConnectionTrait,
    user: &crate::backend::access::User,
) -> Result<Vec<FlaggedRow>, AppError> {
    use crate::backend::access;
    use crate::backend::entity::organisation;
    let scope = access::readable_orgs(db, user).await?;
    let rows = escalation::Entity::find()
        .filter(escalation::Column::Flagged.eq(true))
        .filter(escalation::Column::AcknowledgedAt.is_null())
        .order_by_desc(escalation::Column::UpdatedAt)
        .limit(500)
        .all(db)
        .await?
        .into_iter()
        .filter(|e| access::within(&scope, e.org_id))
        .collect::<Vec<_>>();
    let tasks: HashMap<i64, String> = task::Entity::find()
        .filter(
            task::Column::Id.is_in(
                rows.iter()
                    .filter(|e| e.subject == TASK)
                    .map(|e| e.subject_id)
                    .collect::<Vec<_>>(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.title))
        .collect();
    // An exercise's unacknowledged work is listed too (its escalations are real), marked.
    let refs: HashMap<i64, (String, bool)> = incident::Entity::find()
        .filter(incident::Column::Id.is_in(rows.iter().map(|e| e.incident_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, (i.reference, i.exercise.is_some())))
        .collect();
    let names: HashMap<i64, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(rows.iter().map(|e| e.org_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let out = rows
        .into_iter()
        .map(|e| {
            let title = match e.subject.as_str() {
                TASK => tasks.get(&e.subject_id).cloned().unwrap_or_default(),
                _ => "Gold to acknowledge command".to_owned(),
            };
            let (reference, exercise) = refs.get(&e.incident_id).cloned().unwrap_or_default();
            FlaggedRow {
                reference,
                what: if exercise {
                    format!("[EXERCISE] {title}")
                } else {
                    title
                },
                org_name: names.get(&e.org_id).cloned().unwrap_or_default(),
                since: e.updated_at,
            }
        })
        .collect();
    Ok(out)
}
