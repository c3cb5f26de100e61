//! Versions of an organisation's rotas, so "who was on call at T" is answered by the rotas
//! as they stood at T. Every change to rotations, schedules, their rules or the roles
//! schedules hold records, in its own transaction, the organisation's rotation and rule
//! definitions and its held roles as a new version when they differ from the last one.
//! Overrides are not versioned: each already names the period it is about, so an override
//! recorded afterwards (Helen covered last night) corrects that period, and one removed no
//! longer counts.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use time::OffsetDateTime;

use crate::backend::entity::{on_call_schedule, role_schedule, rota_version};
use crate::backend::rotas::reading::load;
use crate::domain::rota::{RotaSnapshot, Schedule, SnapshotSchedule};
use crate::error::AppError;

/// The organisation's rotas as they stand now: each schedule's rules and rotations, and the
/// roles the schedules hold.
async fn current(
    db: &impl ConnectionTrait,
    org_id: i64,
    now: OffsetDateTime,
) -> Result<RotaSnapshot, AppError> {
    let schedules = on_call_schedule::Entity::find()
        .filter(on_call_schedule::Column::OrgId.eq(org_id))
        .order_by_asc(on_call_schedule::Column::Id)
        .all(db)
        .await?;
    let roles = role_schedule::Entity::find()
        .filter(role_schedule::Column::OrgId.eq(org_id))
        .order_by_asc(role_schedule::Column::RoleId)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.role_id, r.schedule_id))
        .collect();
    let loaded = load(db, schedules, now).await?;
    Ok(RotaSnapshot {
        schedules: loaded
            .schedules
            .iter()
            .map(|s| SnapshotSchedule {
                id: s.id,
                name: s.name.clone(),
                schedule: Schedule {
                    overrides: Vec::new(),
                    ..loaded.schedule(s.id)
                },
            })
            .collect(),
        roles,
    })
}

/// Records the organisation's rotas as in force from `now`, in the caller's transaction
/// (after its change), unless they are as the last version left them.
pub(crate) async fn record(
    db: &impl ConnectionTrait,
    org_id: i64,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let snapshot = current(db, org_id, now).await?;
    let definition = serde_json::to_string(&snapshot)
        .map_err(|e| crate::backend::errors::internal("rota version", &e))?;
    let last = rota_version::Entity::find()
        .filter(rota_version::Column::OrgId.eq(org_id))
        .order_by_desc(rota_version::Column::ValidFrom)
        .order_by_desc(rota_version::Column::Id)
        .one(db)
        .await?;
    if last.is_some_and(|l| l.definition == definition) {
        return Ok(());
    }
    rota_version::Entity::insert(rota_version::ActiveModel {
        org_id: Set(org_id),
        valid_from: Set(now),
        definition: Set(definition),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// For each of `orgs` that has versions, its rotas as they stood at `at`: the version in
/// force then, or an empty one for a moment before the first (no schedule held a role yet).
/// Organisations without versions are absent: their rotas were made before versions were
/// kept, and are read as they stand.
pub(crate) async fn as_at(
    db: &impl ConnectionTrait,
    orgs: &[i64],
    at: OffsetDateTime,
) -> Result<HashMap<i64, RotaSnapshot>, AppError> {
    let mut out = HashMap::new();
    if orgs.is_empty() {
        return Ok(out);
    }
    let with_versions: Vec<i64> = rota_version::Entity::find()
        .select_only()
        .column(rota_version::Column::OrgId)
        .distinct()
        .filter(rota_version::Column::OrgId.is_in(orgs.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    for org in with_versions {
        let then = rota_version::Entity::find()
            .filter(rota_version::Column::OrgId.eq(org))
            .filter(rota_version::Column::ValidFrom.lte(at))
            .order_by_desc(rota_version::Column::ValidFrom)
            .order_by_desc(rota_version::Column::Id)
            .one(db)
            .await?;
        let snapshot = match then {
            Some(v) => serde_json::from_str(&v.definition)
                .map_err(|e| crate::backend::errors::internal("rota version", &e))?,
            None => RotaSnapshot::default(),
        };
        out.insert(org, snapshot);
    }
    Ok(out)
}

/// Schedule `id` of organisation `org` as it stood at the moment `versions` were read for:
/// its rules and rotations from the version in force then (as they stand now for a schedule
/// made since, or made before versions were kept), with its overrides as recorded now
/// (`now`, loaded for that moment).
pub(crate) fn schedule_then(
    now: &crate::backend::rotas::reading::Loaded,
    versions: &HashMap<i64, RotaSnapshot>,
    org: i64,
    id: i64,
) -> Schedule {
    let mut s = now.schedule(id);
    if let Some(then) = versions.get(&org).and_then(|v| v.schedule(id)) {
        s.rules = then.schedule.rules.clone();
        s.rotations = then.schedule.rotations.clone();
    }
    s
}
