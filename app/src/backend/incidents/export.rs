//! An incident's timeline for export, and checking the timelines of many incidents.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::backend::access::{self, User};

use crate::backend::entity::{incident, incident_event};
use crate::backend::timeline;
use crate::error::AppError;

use crate::backend::incidents::access::find_readable;
use crate::backend::incidents::view::view;

/// Checks the timelines of the incidents the caller administers (all, for a national admin).
pub async fn verify_timelines(
    db: &impl ConnectionTrait,
    user: &User,
) -> Result<Vec<timeline::Check>, AppError> {
    let scope = access::administered_orgs(db, user).await?;
    let ids = match scope {
        None => None,
        Some(orgs) if !orgs.is_empty() => Some(
            incident::Entity::find()
                .filter(incident::Column::OrgId.is_in(orgs.into_iter().collect::<Vec<_>>()))
                .all(db)
                .await?
                .into_iter()
                .map(|i| i.id)
                .collect(),
        ),
        Some(_) => return Err(AppError::Forbidden),
    };
    timeline::verify_all(db, ids).await
}

/// An incident for export: what its page shows, plus every timeline entry with its hashes
/// and the result of checking the chain.
pub async fn export(
    db: &impl ConnectionTrait,
    user: &User,
    reference: &str,
) -> Result<serde_json::Value, AppError> {
    let v = view(db, user, reference).await?;
    let inc = find_readable(db, user, reference).await?;
    let entries: Vec<serde_json::Value> = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(inc.id))
        .order_by_asc(incident_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "at": e.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "kind": e.kind,
                "detail": e.detail,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            })
        })
        .collect();
    let check = match timeline::verify(db, inc.id).await? {
        Ok(n) => serde_json::json!({ "whole": true, "entries": n }),
        Err((n, why)) => serde_json::json!({ "whole": false, "entry": n, "problem": why }),
    };
    Ok(serde_json::json!({
        "exported_at": timeline::now().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "incident": v,
        "timeline": entries,
        "timeline_check": check,
    }))
}
