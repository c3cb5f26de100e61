//! The runbook in force for an incident, and seeding the national default library.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use time::OffsetDateTime;

use crate::backend::entity::runbook;
use crate::backend::orgs;
use crate::domain::incidents::{IncidentKind, default_library};
use crate::error::AppError;

/// Adds version 1 of the national default runbook for any kind that has none.
pub async fn seed_runbooks(db: &impl ConnectionTrait) -> Result<usize, AppError> {
    let mut added = 0;
    for (kind, steps) in default_library() {
        let exists = runbook::Entity::find()
            .filter(runbook::Column::Kind.eq(kind.as_str()))
            .filter(runbook::Column::OrgId.is_null())
            .one(db)
            .await?
            .is_some();
        if exists {
            continue;
        }
        let rb = runbook::ActiveModel {
            org_id: Set(None),
            kind: Set(kind.as_str().to_owned()),
            version: Set(1),
            title: Set(format!("{} (national default)", kind.title())),
            created_at: Set(OffsetDateTime::now_utc()),
            created_by: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await?;
        for (i, s) in steps.iter().enumerate() {
            super::step_row(rb.id, i as i32 + 1, s).insert(db).await?;
        }
        added += 1;
    }
    Ok(added)
}

/// The runbook in force for an incident at `org_id`: the latest version of the nearest
/// organisation's own (the organisation, then each ancestor), else the latest national one.
pub async fn runbook_in_force(
    db: &impl ConnectionTrait,
    org_id: i64,
    kind: IncidentKind,
) -> Result<runbook::Model, AppError> {
    let chain = orgs::chain(db, org_id).await?;
    runbook_in_force_along(db, &chain, kind).await
}

/// As [`runbook_in_force`], for a chain already read: one query.
pub async fn runbook_in_force_along(
    db: &impl ConnectionTrait,
    chain: &[i64],
    kind: IncidentKind,
) -> Result<runbook::Model, AppError> {
    let candidates = runbook::Entity::find()
        .filter(runbook::Column::Kind.eq(kind.as_str()))
        .filter(
            Condition::any()
                .add(runbook::Column::OrgId.is_in(chain.to_vec()))
                .add(runbook::Column::OrgId.is_null()),
        )
        .order_by_desc(runbook::Column::Version)
        .all(db)
        .await?;
    chain
        .iter()
        .map(Some)
        .chain([None])
        .find_map(|owner| {
            candidates
                .iter()
                .find(|r| r.org_id.as_ref() == owner && r.version > 0)
                .cloned()
        })
        .ok_or_else(|| crate::backend::errors::internal("runbook", &"no national runbook"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::orgs;
    use crate::backend::{db, demo};
    use migrations::{Migrator, MigratorTrait};

    #[tokio::test]
    async fn the_national_library_is_seeded_once_and_found_for_any_organisation() {
        let conn = db::connect(&db::scratch("sqlite::memory:").await)
            .await
            .unwrap();
        Migrator::up(&conn, None).await.unwrap();
        demo::load(&conn).await.unwrap();
        assert_eq!(seed_runbooks(&conn).await.unwrap(), IncidentKind::ALL.len());
        assert_eq!(seed_runbooks(&conn).await.unwrap(), 0);
        let practice = orgs::find_by_code(&conn, "G85028").await.unwrap().unwrap();
        let rb = runbook_in_force(&conn, practice.id, IncidentKind::Ransomware)
            .await
            .unwrap();
        assert_eq!((rb.org_id, rb.version), (None, 1));
    }
}
