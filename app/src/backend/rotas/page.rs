//! The organisation's on-call page: its schedules with who is on now and next, the
//! four-week preview, rotations, overrides and the cover requests the caller may see.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use time::{Duration, OffsetDateTime};

use crate::backend::access::{self, Action, User};
use crate::backend::entity::{
    cover_request, on_call_schedule, person, role_schedule, rotation, rotation_member,
};
use crate::backend::rotas::PREVIEW_DAYS;
use crate::domain::rota::{
    self, CoverView, OnCallPage, OverrideView, RotationView, RuleView, ScheduleView, ShiftView,
    clock_label,
};
use crate::error::AppError;

use crate::backend::rotas::reading::*;

/// The organisation's on-call page as the caller may see it at `now`.
#[tracing::instrument(skip_all, err)]
pub async fn page(
    db: &DatabaseConnection,
    user: &User,
    org_code: &str,
    now: OffsetDateTime,
) -> Result<OnCallPage, AppError> {
    let org = access::org_in_reach(db, user, org_code, Action::Read).await?;
    let may_administer = access::org_id_in_reach(db, user, org.id, Action::Administer)
        .await
        .is_ok();
    let schedules = on_call_schedule::Entity::find()
        .filter(on_call_schedule::Column::OrgId.eq(org.id))
        .order_by_asc(on_call_schedule::Column::Id)
        .all(db)
        .await?;
    let mut loaded = load(db, schedules, now).await?;
    // The rotations of this organisation, even those no schedule uses yet.
    loaded.rotations.retain(|r| r.org_id == org.id);
    let covers = covers_seen_by(db, &loaded, user, may_administer, now).await?;
    let catalogue = crate::backend::entity::role::Entity::find()
        .order_by_asc(crate::backend::entity::role::Column::Name)
        .all(db)
        .await?;
    let held = role_schedule::Entity::find()
        .filter(role_schedule::Column::OrgId.eq(org.id))
        .order_by_asc(role_schedule::Column::Id)
        .all(db)
        .await?;
    let org_people = person::Entity::find()
        .filter(person::Column::OrgId.eq(org.id))
        .filter(person::Column::Disabled.eq(false))
        .order_by_asc(person::Column::DisplayName)
        .all(db)
        .await?;
    let who = names(db, people_named(&loaded, &covers)).await?;
    let name_of = |id: &i64| who.get(id).cloned().unwrap_or_else(|| "Someone".into());
    let rotation_name: HashMap<i64, String> = loaded
        .rotations
        .iter()
        .map(|r| (r.id, r.name.clone()))
        .collect();
    let schedule_views = loaded
        .schedules
        .iter()
        .map(|s| schedule_view(&loaded, s, now, &name_of, &rotation_name))
        .collect();
    let schedule_name: HashMap<i64, String> = loaded
        .schedules
        .iter()
        .map(|s| (s.id, s.name.clone()))
        .collect();
    Ok(OnCallPage {
        org_code: org.code,
        org_name: org.name,
        may_administer,
        rotations: loaded
            .rotations
            .iter()
            .map(|r| rotation_view(r, &loaded.members, &name_of))
            .collect(),
        schedules: schedule_views,
        covers: covers
            .iter()
            .map(|c| cover_view(c, user, &schedule_name, &name_of))
            .collect(),
        people: org_people
            .into_iter()
            .map(|p| (p.id, p.display_name))
            .collect(),
        held_roles: held_roles(&held, &catalogue, &schedule_name),
        roles: catalogue.into_iter().map(|r| (r.key, r.name)).collect(),
    })
}

/// A cover request as the caller sees it: answerable when it is theirs and still open.
fn cover_view(
    c: &cover_request::Model,
    user: &User,
    schedule_name: &HashMap<i64, String>,
    name_of: &impl Fn(&i64) -> String,
) -> CoverView {
    CoverView {
        id: c.id,
        schedule: schedule_name
            .get(&c.schedule_id)
            .cloned()
            .unwrap_or_default(),
        requester: name_of(&c.requester_id),
        cover: name_of(&c.cover_id),
        start: c.starts_at,
        end: c.ends_at,
        status: c.status,
        mine_to_answer: c.cover_id == user.person_id
            && c.status == crate::domain::rota::CoverStatus::Open,
    }
}

/// The cover requests of these schedules not yet over that the person may see: all for
/// admins, otherwise those they asked or were asked.
async fn covers_seen_by(
    db: &impl ConnectionTrait,
    loaded: &Loaded,
    user: &User,
    may_administer: bool,
    now: OffsetDateTime,
) -> Result<Vec<cover_request::Model>, AppError> {
    Ok(cover_request::Entity::find()
        .filter(cover_request::Column::ScheduleId.is_in(loaded.schedules.iter().map(|s| s.id)))
        .filter(cover_request::Column::EndsAt.gt(now))
        .order_by_asc(cover_request::Column::StartsAt)
        .all(db)
        .await?
        .into_iter()
        .filter(|c| {
            may_administer || c.requester_id == user.person_id || c.cover_id == user.person_id
        })
        .collect())
}

/// Everyone the on-call page names: rotation members, people in overrides and in cover
/// requests.
fn people_named(loaded: &Loaded, covers: &[cover_request::Model]) -> Vec<i64> {
    let mut wanted: Vec<i64> = loaded.members.iter().map(|m| m.person_id).collect();
    wanted.extend(
        loaded
            .overrides
            .iter()
            .flat_map(|o| [Some(o.person_id), o.replaces_id])
            .flatten(),
    );
    wanted.extend(covers.iter().flat_map(|c| [c.requester_id, c.cover_id]));
    wanted
}

/// Roles held by this organisation's schedules: (role key, role name, schedule name).
fn held_roles(
    held: &[role_schedule::Model],
    catalogue: &[crate::backend::entity::role::Model],
    schedule_name: &HashMap<i64, String>,
) -> Vec<(String, String, String)> {
    held.iter()
        .filter_map(|h| {
            let r = catalogue.iter().find(|r| r.id == h.role_id)?;
            Some((
                r.key.clone(),
                r.name.clone(),
                schedule_name.get(&h.schedule_id).cloned()?,
            ))
        })
        .collect()
}

/// One schedule as the on-call page shows it: its rules, overrides, who is on call now and
/// next, its gaps and the preview.
fn schedule_view(
    loaded: &Loaded,
    s: &on_call_schedule::Model,
    now: OffsetDateTime,
    name_of: &dyn Fn(&i64) -> String,
    rotation_name: &HashMap<i64, String>,
) -> ScheduleView {
    let sched = loaded.schedule(s.id);
    let preview = sched.shifts(now, now + Duration::days(PREVIEW_DAYS));
    let view = |x: &rota::Shift| ShiftView {
        start: x.start,
        end: x.end,
        people: x.people.iter().map(name_of).collect(),
    };
    ScheduleView {
        id: s.id,
        name: s.name.clone(),
        rules: sched
            .rules
            .iter()
            .map(|r| RuleView {
                days: r.days.label(),
                from: clock_label(r.from),
                until: clock_label(r.until),
                rotation: rotation_name
                    .get(&r.rotation_id)
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect(),
        overrides: loaded
            .overrides
            .iter()
            .filter(|o| o.schedule_id == s.id)
            .map(|o| OverrideView {
                id: o.id,
                start: o.starts_at,
                end: o.ends_at,
                change: match (o.kind.as_str(), o.replaces_id) {
                    ("remove", _) => format!("Remove {}", name_of(&o.person_id)),
                    ("replace", Some(r)) => {
                        format!("Replace {} with {}", name_of(&r), name_of(&o.person_id))
                    }
                    _ => format!("Add {}", name_of(&o.person_id)),
                },
            })
            .collect(),
        now: preview
            .first()
            .map(|x| x.people.iter().map(name_of).collect())
            .unwrap_or_default(),
        next: preview.get(1).map(view),
        gap_hours: gap_hours(&sched, now),
        preview: preview.iter().map(view).collect(),
    }
}

fn rotation_view(
    r: &rotation::Model,
    members: &[rotation_member::Model],
    name_of: &dyn Fn(&i64) -> String,
) -> RotationView {
    let rot = to_rotation(r, members);
    RotationView {
        id: r.id,
        name: r.name.clone(),
        participants: rot.participants.iter().map(|p| (*p, name_of(p))).collect(),
        shift_count: rot.shift_count,
        shift_unit: rot.shift_unit,
        handover: r.handover.clone(),
        start: r.start_on,
    }
}
