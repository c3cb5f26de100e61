//! Reading rotas: who is on call at T, the organisation's on-call page with its
//! four-week preview, and the roles schedules hold.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::{Duration, OffsetDateTime};

use crate::backend::access::{self, Action, User};
use crate::backend::entity::{
    on_call_schedule, person, role_schedule, rotation, rotation_member, schedule_override,
    schedule_rule,
};
use crate::backend::rotas::{GAP_DAYS, PREVIEW_DAYS, schedule_in_reach};
use crate::domain::rota::{
    self, Change, Days, Override, Rotation, Rule, Schedule, ShiftUnit, ShiftView, parse_clock,
};
use crate::error::AppError;

pub(crate) fn to_rotation(r: &rotation::Model, members: &[rotation_member::Model]) -> Rotation {
    let mut m: Vec<&rotation_member::Model> =
        members.iter().filter(|m| m.rotation_id == r.id).collect();
    m.sort_by_key(|m| m.position);
    Rotation {
        id: r.id,
        participants: m.into_iter().map(|m| m.person_id).collect(),
        shift_count: r.shift_count.max(1) as u32,
        shift_unit: ShiftUnit::parse(&r.shift_unit).unwrap_or(ShiftUnit::Weeks),
        handover: parse_clock(&r.handover).unwrap_or(time::Time::MIDNIGHT),
        start: r.start_on,
    }
}

pub(crate) fn to_override(o: &schedule_override::Model) -> Override {
    let change = match (o.kind.as_str(), o.replaces_id) {
        ("remove", _) => Change::Remove(o.person_id),
        ("replace", Some(from)) => Change::Replace {
            from,
            to: o.person_id,
        },
        _ => Change::Add(o.person_id),
    };
    Override {
        start: o.starts_at,
        end: o.ends_at,
        change,
    }
}

/// Everything an organisation's schedules need, loaded at once.
pub(crate) struct Loaded {
    pub(crate) schedules: Vec<on_call_schedule::Model>,
    pub(crate) rotations: Vec<rotation::Model>,
    pub(crate) members: Vec<rotation_member::Model>,
    pub(crate) rules: Vec<schedule_rule::Model>,
    pub(crate) overrides: Vec<schedule_override::Model>,
}

impl Loaded {
    pub(crate) fn schedule(&self, schedule_id: i64) -> Schedule {
        let mut rules: Vec<&schedule_rule::Model> = self
            .rules
            .iter()
            .filter(|r| r.schedule_id == schedule_id)
            .collect();
        rules.sort_by_key(|r| (r.position, r.id));
        Schedule {
            rules: rules
                .iter()
                .map(|r| Rule {
                    days: Days(r.days.clamp(0, 127) as u8),
                    from: parse_clock(&r.from_time).unwrap_or(time::Time::MIDNIGHT),
                    until: parse_clock(&r.until_time).unwrap_or(time::Time::MIDNIGHT),
                    rotation_id: r.rotation_id,
                })
                .collect(),
            rotations: self
                .rotations
                .iter()
                .filter(|r| rules.iter().any(|rule| rule.rotation_id == r.id))
                .map(|r| to_rotation(r, &self.members))
                .collect(),
            overrides: self
                .overrides
                .iter()
                .filter(|o| o.schedule_id == schedule_id)
                .map(to_override)
                .collect(),
        }
    }
}

pub(crate) async fn load(
    db: &impl ConnectionTrait,
    schedules: Vec<on_call_schedule::Model>,
    overrides_after: OffsetDateTime,
) -> Result<Loaded, AppError> {
    let ids: Vec<i64> = schedules.iter().map(|s| s.id).collect();
    let orgs: Vec<i64> = schedules.iter().map(|s| s.org_id).collect();
    let rules = schedule_rule::Entity::find()
        .filter(schedule_rule::Column::ScheduleId.is_in(ids.clone()))
        .all(db)
        .await?;
    let rotations = rotation::Entity::find()
        .filter(rotation::Column::OrgId.is_in(orgs))
        .order_by_asc(rotation::Column::Id)
        .all(db)
        .await?;
    let members = rotation_member::Entity::find()
        .filter(rotation_member::Column::RotationId.is_in(rotations.iter().map(|r| r.id)))
        .all(db)
        .await?;
    let overrides = schedule_override::Entity::find()
        .filter(schedule_override::Column::ScheduleId.is_in(ids))
        .filter(schedule_override::Column::EndsAt.gt(overrides_after))
        .order_by_asc(schedule_override::Column::Id)
        .all(db)
        .await?;
    Ok(Loaded {
        schedules,
        rotations,
        members,
        rules,
        overrides,
    })
}

/// The schedule's rules, rotations and the overrides still in force after `from`.
pub async fn load_schedule(
    db: &impl ConnectionTrait,
    schedule_id: i64,
    from: OffsetDateTime,
) -> Result<Option<Schedule>, AppError> {
    let Some(s) = on_call_schedule::Entity::find_by_id(schedule_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(load(db, vec![s], from).await?.schedule(schedule_id)))
}

/// Who a schedule has on call at `t` (no one for an unknown schedule), by the rotas as they
/// stood at `t` (`history`).
pub async fn on_call_at(
    db: &impl ConnectionTrait,
    schedule_id: i64,
    t: OffsetDateTime,
) -> Result<Vec<i64>, AppError> {
    let Some(s) = on_call_schedule::Entity::find_by_id(schedule_id)
        .one(db)
        .await?
    else {
        return Ok(Vec::new());
    };
    let versions = super::history::as_at(db, &[s.org_id], t).await?;
    let org = s.org_id;
    let loaded = load(db, vec![s], t).await?;
    Ok(super::history::schedule_then(&loaded, &versions, org, schedule_id).on_call_at(t))
}

/// Names of who a schedule the caller may read has on call at `t`.
pub async fn who_at(
    db: &impl ConnectionTrait,
    user: &User,
    schedule_id: i64,
    t: OffsetDateTime,
) -> Result<Vec<String>, AppError> {
    schedule_in_reach(db, user, schedule_id, Action::Read).await?;
    let ids = on_call_at(db, schedule_id, t).await?;
    let who = names(db, ids.iter().copied()).await?;
    Ok(ids.iter().filter_map(|i| who.get(i).cloned()).collect())
}

/// Hours with nobody on call in the schedule between `from` and [`GAP_DAYS`] later.
pub fn gap_hours(s: &Schedule, from: OffsetDateTime) -> i64 {
    let secs: i64 = s
        .gaps(from, from + Duration::days(GAP_DAYS))
        .iter()
        .map(|g| (g.end - g.start).whole_seconds())
        .sum();
    (secs + 3599) / 3600
}

pub(crate) async fn names(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, AppError> {
    let ids: Vec<i64> = ids.into_iter().collect();
    Ok(person::Entity::find()
        .filter(person::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect())
}

/// Who each of the organisation's schedules has on call now and who comes next, for readers
/// of its rotas: what its page shows, without the rest of the on-call page.
pub async fn now_and_next(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: &str,
    now: OffsetDateTime,
) -> Result<Vec<rota::OnCallNow>, AppError> {
    let org = access::org_in_reach(db, user, org_code, Action::Read).await?;
    let schedules = on_call_schedule::Entity::find()
        .filter(on_call_schedule::Column::OrgId.eq(org.id))
        .order_by_asc(on_call_schedule::Column::Id)
        .all(db)
        .await?;
    let loaded = load(db, schedules, now).await?;
    let spans: Vec<Vec<rota::Shift>> = loaded
        .schedules
        .iter()
        .map(|s| {
            let mut shifts = loaded
                .schedule(s.id)
                .shifts(now, now + Duration::days(PREVIEW_DAYS));
            shifts.truncate(2);
            shifts
        })
        .collect();
    let who = names(db, spans.iter().flatten().flat_map(|x| x.people.clone())).await?;
    let name_of = |id: &i64| who.get(id).cloned().unwrap_or_else(|| "Someone".into());
    Ok(loaded
        .schedules
        .iter()
        .zip(spans)
        .map(|(s, shifts)| rota::OnCallNow {
            id: s.id,
            name: s.name.clone(),
            now: shifts
                .first()
                .map(|x| x.people.iter().map(name_of).collect())
                .unwrap_or_default(),
            next: shifts.get(1).map(|x| ShiftView {
                start: x.start,
                end: x.end,
                people: x.people.iter().map(name_of).collect(),
            }),
        })
        .collect())
}

/// For every role held by a schedule at an organisation in `orgs`: (organisation, role, who
/// is on call at `at`, when that next changes within the preview span).
pub async fn on_call_holdings(
    db: &impl ConnectionTrait,
    orgs: &[i64],
    at: OffsetDateTime,
) -> Result<Vec<(i64, i64, Vec<i64>, Option<OffsetDateTime>)>, AppError> {
    let held = role_schedule::Entity::find()
        .filter(role_schedule::Column::OrgId.is_in(orgs.to_vec()))
        .order_by_asc(role_schedule::Column::Id)
        .all(db)
        .await?;
    if held.is_empty() {
        return Ok(Vec::new());
    }
    let schedules = on_call_schedule::Entity::find()
        .filter(on_call_schedule::Column::Id.is_in(held.iter().map(|h| h.schedule_id)))
        .all(db)
        .await?;
    let loaded = load(db, schedules, at).await?;
    Ok(held
        .iter()
        .map(|h| {
            let s = loaded.schedule(h.schedule_id);
            let first = s
                .shifts(at, at + Duration::days(rota::MAX_SPAN_DAYS))
                .into_iter()
                .next();
            let until = first.as_ref().map(|x| x.end);
            let people = first.map(|x| x.people).unwrap_or_default();
            (h.org_id, h.role_id, people, until)
        })
        .collect())
}

/// For every role held by a schedule at an organisation in `orgs` at `at`: who was on call
/// at `at` and who came next, by name, keyed by (organisation, role). The chart shows these,
/// now or as at a past moment, reading the rotas as they stood then (`history`).
pub async fn on_call_views(
    db: &impl ConnectionTrait,
    orgs: &[i64],
    at: OffsetDateTime,
) -> Result<HashMap<(i64, i64), rota::OnCallHolding>, AppError> {
    let versions = super::history::as_at(db, orgs, at).await?;
    // (organisation, role, schedule id) for every role a schedule held at `at`: from the
    // version then, or for rotas made before versions were kept, as they stand (held since
    // `at` or before).
    let mut pairs: Vec<(i64, i64, i64)> = versions
        .iter()
        .flat_map(|(org, v)| v.roles.iter().map(|(role, s)| (*org, *role, *s)))
        .collect();
    let unversioned: Vec<i64> = orgs
        .iter()
        .copied()
        .filter(|o| !versions.contains_key(o))
        .collect();
    pairs.extend(
        role_schedule::Entity::find()
            .filter(role_schedule::Column::OrgId.is_in(unversioned))
            .filter(role_schedule::Column::CreatedAt.lte(at))
            .order_by_asc(role_schedule::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|h| (h.org_id, h.role_id, h.schedule_id)),
    );
    if pairs.is_empty() {
        return Ok(HashMap::new());
    }
    let schedules = on_call_schedule::Entity::find()
        .filter(on_call_schedule::Column::Id.is_in(pairs.iter().map(|(_, _, s)| *s)))
        .all(db)
        .await?;
    let loaded = load(db, schedules, at).await?;
    // (organisation, role, schedule id, schedule name, schedule) for every role held.
    let held: Vec<(i64, i64, i64, String, Schedule)> = pairs
        .into_iter()
        .filter_map(|(org, role, id)| {
            let s = loaded.schedules.iter().find(|s| s.id == id)?;
            let schedule = super::history::schedule_then(&loaded, &versions, org, id);
            Some((org, role, id, s.name.clone(), schedule))
        })
        .collect();
    let spans: Vec<Vec<rota::Shift>> = held
        .iter()
        .map(|(_, _, _, _, schedule)| {
            let mut shifts = schedule.shifts(at, at + Duration::days(PREVIEW_DAYS));
            shifts.truncate(2);
            shifts
        })
        .collect();
    let ids: Vec<i64> = spans
        .iter()
        .flatten()
        .flat_map(|x| x.people.clone())
        .collect();
    let who = names(db, ids).await?;
    let name_of = |id: &i64| who.get(id).cloned().unwrap_or_else(|| "Someone".into());
    Ok(held
        .iter()
        .zip(&spans)
        .map(|((org, role, schedule_id, name, _), shifts)| {
            (
                (*org, *role),
                rota::OnCallHolding {
                    schedule_id: *schedule_id,
                    schedule: name.clone(),
                    now: shifts
                        .first()
                        .map(|x| x.people.iter().map(name_of).collect())
                        .unwrap_or_default(),
                    next: shifts.get(1).map(|x| ShiftView {
                        start: x.start,
                        end: x.end,
                        people: x.people.iter().map(name_of).collect(),
                    }),
                },
            )
        })
        .collect())
}

/// The next `days` days of every schedule of the organisation, and of every schedule holding
/// a role along `chain` (the organisation and its ancestors): who is on call when, for the
/// break-glass pack.
pub async fn next_days(
    db: &impl ConnectionTrait,
    org_id: i64,
    chain: &[i64],
    from: OffsetDateTime,
    days: i64,
) -> Result<Vec<rota::RotaDays>, AppError> {
    let held = role_schedule::Entity::find()
        .filter(role_schedule::Column::OrgId.is_in(chain.to_vec()))
        .all(db)
        .await?;
    let schedules = on_call_schedule::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(on_call_schedule::Column::OrgId.eq(org_id))
                .add(on_call_schedule::Column::Id.is_in(held.iter().map(|h| h.schedule_id))),
        )
        .order_by_asc(on_call_schedule::Column::Id)
        .all(db)
        .await?;
    if schedules.is_empty() {
        return Ok(Vec::new());
    }
    let role_names: HashMap<i64, String> = crate::backend::entity::role::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let loaded = load(db, schedules, from).await?;
    let spans: Vec<(i64, Vec<rota::Shift>)> = loaded
        .schedules
        .iter()
        .map(|s| {
            (
                s.id,
                loaded
                    .schedule(s.id)
                    .shifts(from, from + Duration::days(days)),
            )
        })
        .collect();
    let ids: Vec<i64> = spans
        .iter()
        .flat_map(|(_, v)| v.iter().flat_map(|x| x.people.clone()))
        .collect();
    let who = names(db, ids).await?;
    let name_of = |id: &i64| who.get(id).cloned().unwrap_or_else(|| "Someone".into());
    Ok(loaded
        .schedules
        .iter()
        .zip(spans)
        .map(|(s, (_, shifts))| rota::RotaDays {
            schedule: s.name.clone(),
            roles: held
                .iter()
                .filter(|h| h.schedule_id == s.id)
                .filter_map(|h| role_names.get(&h.role_id).cloned())
                .collect(),
            shifts: shifts
                .iter()
                .map(|x| ShiftView {
                    start: x.start,
                    end: x.end,
                    people: x.people.iter().map(name_of).collect(),
                })
                .collect(),
        })
        .collect())
}
