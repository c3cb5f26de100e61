//! On-call rotas kept by an organisation's admins: rotations, schedules of time rules,
//! overrides, and requests to cover that become overrides when the colleague accepts. The
//! rules themselves are pure (`domain::rota`); this module stores them, checks reach, audits
//! every change and answers "who is on call at T".

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use time::{Duration, OffsetDateTime};

use super::access::{self, Action, User};
use super::audit::{self, Event};
use super::entity::{
    cover_request, on_call_schedule, person, role_schedule, rotation, rotation_member,
    schedule_override, schedule_rule,
};
use crate::domain::rota::{
    self, Change, CoverView, Days, MAX_PARTICIPANTS, MAX_RULES, OnCallPage, Override, OverrideView,
    Rotation, RotationView, Rule, RuleView, Schedule, ScheduleView, ShiftUnit, ShiftView,
    clock_label, parse_clock, parse_date, parse_local_moment,
};
use crate::error::AppError;

/// Longest name of a rotation or schedule.
pub const MAX_NAME: usize = 120;
/// Longest override or cover period.
const MAX_PERIOD_DAYS: i64 = 92;
/// Days the preview shows.
pub const PREVIEW_DAYS: i64 = 28;
/// Days searched for gaps.
pub const GAP_DAYS: i64 = 14;

/// A name typed into a form: required, bounded, and plain text.
pub fn name(raw: &str) -> Result<String, AppError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(AppError::Invalid("Give it a name.".into()));
    }
    if v.chars().count() > MAX_NAME {
        return Err(AppError::Invalid(format!(
            "Keep the name to {MAX_NAME} characters."
        )));
    }
    if v.chars().any(|c| c == '<' || c == '>' || c.is_control()) {
        return Err(AppError::Invalid(
            "Use letters, numbers and ordinary punctuation in the name (no < or >).".into(),
        ));
    }
    Ok(v.to_owned())
}

fn invalid(e: String) -> AppError {
    AppError::Invalid(e)
}

/// What a rotation form sends.
#[derive(Debug, Clone, Default)]
pub struct RotationInput {
    pub name: String,
    /// Email addresses in turn order, one a line or separated by commas.
    pub participants: String,
    pub shift_count: u32,
    pub shift_unit: String,
    pub handover: String,
    pub start: String,
}

struct ParsedRotation {
    name: String,
    participants: Vec<i64>,
    shift_count: i32,
    unit: ShiftUnit,
    handover: time::Time,
    start: time::Date,
}

async fn parse_rotation(
    db: &impl ConnectionTrait,
    user: &User,
    input: &RotationInput,
) -> Result<ParsedRotation, AppError> {
    let name = name(&input.name)?;
    let unit = ShiftUnit::parse(&input.shift_unit).map_err(invalid)?;
    let most = match unit {
        ShiftUnit::Hours => 24 * 28,
        ShiftUnit::Days => 28,
        ShiftUnit::Weeks => 8,
    };
    if input.shift_count == 0 || input.shift_count > most {
        return Err(AppError::Invalid(format!(
            "A shift is 1 to {most} {}.",
            unit.as_str()
        )));
    }
    let handover = parse_clock(&input.handover).map_err(invalid)?;
    let start = parse_date(&input.start).map_err(invalid)?;
    let emails: Vec<&str> = input
        .participants
        .split([',', '\n', ';'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if emails.is_empty() {
        return Err(AppError::Invalid(
            "Name at least one participant by email address.".into(),
        ));
    }
    if emails.len() > MAX_PARTICIPANTS {
        return Err(AppError::Invalid(format!(
            "A rotation has at most {MAX_PARTICIPANTS} participants."
        )));
    }
    let mut participants = Vec::with_capacity(emails.len());
    for email in emails {
        let p = access::person_in_reach(db, user, email, Action::Administer).await?;
        participants.push(p.id);
    }
    Ok(ParsedRotation {
        name,
        participants,
        shift_count: input.shift_count as i32,
        unit,
        handover,
        start,
    })
}

async fn write_members(
    db: &impl ConnectionTrait,
    rotation_id: i64,
    participants: &[i64],
) -> Result<(), AppError> {
    rotation_member::Entity::delete_many()
        .filter(rotation_member::Column::RotationId.eq(rotation_id))
        .exec(db)
        .await?;
    for (i, p) in participants.iter().enumerate() {
        rotation_member::ActiveModel {
            rotation_id: Set(rotation_id),
            position: Set(i as i32),
            person_id: Set(*p),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Adds a rotation to the organisation with this code; admins only.
#[tracing::instrument(skip_all, err)]
pub async fn create_rotation(
    db: &DatabaseConnection,
    user: &User,
    org_code: &str,
    input: RotationInput,
    client: Option<String>,
) -> Result<i64, AppError> {
    let org = access::org_in_reach(db, user, org_code, Action::Administer).await?;
    let r = parse_rotation(db, user, &input).await?;
    let txn = db.begin().await?;
    let row = rotation::ActiveModel {
        org_id: Set(org.id),
        name: Set(r.name.clone()),
        shift_count: Set(r.shift_count),
        shift_unit: Set(r.unit.as_str().to_owned()),
        handover: Set(clock_label(r.handover)),
        start_on: Set(r.start),
        created_at: Set(super::timeline::now()),
        created_by: Set(Some(user.person_id)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    write_members(&txn, row.id, &r.participants).await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "rota_rotation_created",
            org: Some(org.id),
            subject: Some(format!("rotation:{}", row.id)),
            detail: Some(r.name),
            client,
            outcome: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// The rotation, if the caller may do `action` in its organisation (404 otherwise).
async fn rotation_in_reach(
    db: &impl ConnectionTrait,
    user: &User,
    rotation_id: i64,
    action: Action,
) -> Result<rotation::Model, AppError> {
    let Some(r) = rotation::Entity::find_by_id(rotation_id).one(db).await? else {
        return Err(AppError::NotFound);
    };
    access::org_id_in_reach(db, user, r.org_id, action).await?;
    Ok(r)
}

async fn schedule_in_reach(
    db: &impl ConnectionTrait,
    user: &User,
    schedule_id: i64,
    action: Action,
) -> Result<on_call_schedule::Model, AppError> {
    let Some(s) = on_call_schedule::Entity::find_by_id(schedule_id)
        .one(db)
        .await?
    else {
        return Err(AppError::NotFound);
    };
    access::org_id_in_reach(db, user, s.org_id, action).await?;
    Ok(s)
}

/// Changes a rotation: its name, participants, shift and start; admins only.
#[tracing::instrument(skip_all, err)]
pub async fn update_rotation(
    db: &DatabaseConnection,
    user: &User,
    rotation_id: i64,
    input: RotationInput,
    client: Option<String>,
) -> Result<(), AppError> {
    let existing = rotation_in_reach(db, user, rotation_id, Action::Administer).await?;
    let r = parse_rotation(db, user, &input).await?;
    let txn = db.begin().await?;
    let mut row: rotation::ActiveModel = existing.clone().into();
    row.name = Set(r.name.clone());
    row.shift_count = Set(r.shift_count);
    row.shift_unit = Set(r.unit.as_str().to_owned());
    row.handover = Set(clock_label(r.handover));
    row.start_on = Set(r.start);
    row.update(&txn).await?;
    write_members(&txn, rotation_id, &r.participants).await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "rota_rotation_changed",
            org: Some(existing.org_id),
            subject: Some(format!("rotation:{rotation_id}")),
            detail: Some(r.name),
            client,
            outcome: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// What a rule form sends.
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    pub days: String,
    pub from: String,
    pub until: String,
    pub rotation_id: i64,
}

/// Adds a schedule with its first rule to the organisation with this code; admins only.
#[tracing::instrument(skip_all, err)]
pub async fn create_schedule(
    db: &DatabaseConnection,
    user: &User,
    org_code: &str,
    schedule_name: &str,
    first_rule: RuleInput,
    client: Option<String>,
) -> Result<i64, AppError> {
    let org = access::org_in_reach(db, user, org_code, Action::Administer).await?;
    let schedule_name = name(schedule_name)?;
    let rule = parse_rule(db, user, org.id, &first_rule).await?;
    let txn = db.begin().await?;
    let row = on_call_schedule::ActiveModel {
        org_id: Set(org.id),
        name: Set(schedule_name.clone()),
        created_at: Set(super::timeline::now()),
        created_by: Set(Some(user.person_id)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    insert_rule(&txn, row.id, 0, &rule).await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "rota_schedule_created",
            org: Some(org.id),
            subject: Some(format!("schedule:{}", row.id)),
            detail: Some(schedule_name),
            client,
            outcome: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

async fn parse_rule(
    db: &impl ConnectionTrait,
    user: &User,
    org_id: i64,
    input: &RuleInput,
) -> Result<Rule, AppError> {
    let days = Days::parse(&input.days).map_err(invalid)?;
    let from = parse_clock(&input.from).map_err(invalid)?;
    let until = parse_clock(&input.until).map_err(invalid)?;
    let r = rotation_in_reach(db, user, input.rotation_id, Action::Administer).await?;
    if r.org_id != org_id {
        return Err(AppError::NotFound);
    }
    Ok(Rule {
        days,
        from,
        until,
        rotation_id: r.id,
    })
}

async fn insert_rule(
    db: &impl ConnectionTrait,
    schedule_id: i64,
    position: i32,
    rule: &Rule,
) -> Result<(), AppError> {
    schedule_rule::ActiveModel {
        schedule_id: Set(schedule_id),
        position: Set(position),
        days: Set(i32::from(rule.days.0)),
        from_time: Set(clock_label(rule.from)),
        until_time: Set(clock_label(rule.until)),
        rotation_id: Set(rule.rotation_id),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Adds a rule after the schedule's others (the first matching rule wins); admins only.
#[tracing::instrument(skip_all, err)]
pub async fn add_rule(
    db: &DatabaseConnection,
    user: &User,
    schedule_id: i64,
    input: RuleInput,
    client: Option<String>,
) -> Result<(), AppError> {
    let s = schedule_in_reach(db, user, schedule_id, Action::Administer).await?;
    let rule = parse_rule(db, user, s.org_id, &input).await?;
    let txn = db.begin().await?;
    let existing = schedule_rule::Entity::find()
        .filter(schedule_rule::Column::ScheduleId.eq(schedule_id))
        .all(&txn)
        .await?;
    if existing.len() >= MAX_RULES {
        return Err(AppError::Invalid(format!(
            "A schedule has at most {MAX_RULES} rules."
        )));
    }
    let position = existing.iter().map(|r| r.position + 1).max().unwrap_or(0);
    insert_rule(&txn, schedule_id, position, &rule).await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "rota_rule_added",
            org: Some(s.org_id),
            subject: Some(format!("schedule:{schedule_id}")),
            detail: Some(format!(
                "{} {}–{} rotation {}",
                rule.days.label(),
                clock_label(rule.from),
                clock_label(rule.until),
                rule.rotation_id
            )),
            client,
            outcome: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn period(start: &str, end: &str) -> Result<(OffsetDateTime, OffsetDateTime), AppError> {
    let start = parse_local_moment(start).map_err(invalid)?;
    let end = parse_local_moment(end).map_err(invalid)?;
    if end <= start {
        return Err(AppError::Invalid("The end must be after the start.".into()));
    }
    if end - start > Duration::days(MAX_PERIOD_DAYS) {
        return Err(AppError::Invalid(format!(
            "Keep a period to {MAX_PERIOD_DAYS} days."
        )));
    }
    Ok((start, end))
}

/// What an override form sends.
#[derive(Debug, Clone, Default)]
pub struct OverrideInput {
    /// "add", "remove" or "replace".
    pub kind: String,
    /// The person added, removed, or taking over.
    pub person: String,
    /// For "replace": the person replaced.
    pub replaces: String,
    pub start: String,
    pub end: String,
}

/// Adds an override to a schedule; admins only, naming people in their reach.
#[tracing::instrument(skip_all, err)]
pub async fn add_override(
    db: &DatabaseConnection,
    user: &User,
    schedule_id: i64,
    input: OverrideInput,
    client: Option<String>,
) -> Result<i64, AppError> {
    let s = schedule_in_reach(db, user, schedule_id, Action::Administer).await?;
    let kind = input.kind.trim().to_ascii_lowercase();
    if !matches!(kind.as_str(), "add" | "remove" | "replace") {
        return Err(AppError::Invalid(
            "Choose whether to add, remove or replace a person.".into(),
        ));
    }
    let (start, end) = period(&input.start, &input.end)?;
    let who = access::person_in_reach(db, user, &input.person, Action::Administer).await?;
    let replaces = if kind == "replace" {
        Some(
            access::person_in_reach(db, user, &input.replaces, Action::Administer)
                .await?
                .id,
        )
    } else {
        None
    };
    let txn = db.begin().await?;
    let id = insert_override(&txn, s.id, &kind, who.id, replaces, (start, end), user).await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "rota_override_added",
            org: Some(s.org_id),
            subject: Some(format!("schedule:{}", s.id)),
            detail: Some(format!(
                "{kind} person {}{} {}–{}",
                who.id,
                replaces.map(|r| format!(" for {r}")).unwrap_or_default(),
                start,
                end
            )),
            client,
            outcome: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

async fn insert_override(
    db: &impl ConnectionTrait,
    schedule_id: i64,
    kind: &str,
    person_id: i64,
    replaces: Option<i64>,
    (start, end): (OffsetDateTime, OffsetDateTime),
    user: &User,
) -> Result<i64, AppError> {
    Ok(schedule_override::ActiveModel {
        schedule_id: Set(schedule_id),
        starts_at: Set(start),
        ends_at: Set(end),
        kind: Set(kind.to_owned()),
        person_id: Set(person_id),
        replaces_id: Set(replaces),
        created_at: Set(super::timeline::now()),
        created_by: Set(Some(user.person_id)),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id)
}

/// Removes an override; admins only.
#[tracing::instrument(skip_all, err)]
pub async fn remove_override(
    db: &DatabaseConnection,
    user: &User,
    override_id: i64,
    client: Option<String>,
) -> Result<(), AppError> {
    let Some(o) = schedule_override::Entity::find_by_id(override_id)
        .one(db)
        .await?
    else {
        return Err(AppError::NotFound);
    };
    let s = schedule_in_reach(db, user, o.schedule_id, Action::Administer).await?;
    let txn = db.begin().await?;
    schedule_override::Entity::delete_by_id(o.id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "rota_override_removed",
            org: Some(s.org_id),
            subject: Some(format!("schedule:{}", s.id)),
            detail: Some(format!("override {}", o.id)),
            client,
            outcome: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The caller asks a colleague to cover them on a schedule for a period.
#[tracing::instrument(skip_all, err)]
pub async fn request_cover(
    db: &DatabaseConnection,
    user: &User,
    schedule_id: i64,
    colleague: &str,
    start: &str,
    end: &str,
    client: Option<String>,
) -> Result<i64, AppError> {
    let s = schedule_in_reach(db, user, schedule_id, Action::Act).await?;
    let cover = access::person_in_reach(db, user, colleague, Action::Act).await?;
    if cover.id == user.person_id {
        return Err(AppError::Invalid(
            "Ask a colleague, not yourself, to cover.".into(),
        ));
    }
    let (start, end) = period(start, end)?;
    let txn = db.begin().await?;
    let row = cover_request::ActiveModel {
        schedule_id: Set(s.id),
        requester_id: Set(user.person_id),
        cover_id: Set(cover.id),
        starts_at: Set(start),
        ends_at: Set(end),
        status: Set("open".into()),
        override_id: Set(None),
        created_at: Set(super::timeline::now()),
        answered_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "rota_cover_requested",
            org: Some(s.org_id),
            subject: Some(format!("cover:{}", row.id)),
            detail: Some(format!("person {} {start}–{end}", cover.id)),
            client,
            outcome: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// The colleague asked accepts: the requester is replaced by them for the period, once.
#[tracing::instrument(skip_all, err)]
pub async fn accept_cover(
    db: &DatabaseConnection,
    user: &User,
    request_id: i64,
    client: Option<String>,
) -> Result<(), AppError> {
    let req = cover_request::Entity::find_by_id(request_id)
        .one(db)
        .await?
        .filter(|r| r.cover_id == user.person_id || r.requester_id == user.person_id)
        .ok_or(AppError::NotFound)?;
    if req.cover_id != user.person_id {
        return Err(AppError::Forbidden);
    }
    let s = schedule_in_reach(db, user, req.schedule_id, Action::Act).await?;
    let txn = db.begin().await?;
    let now = super::timeline::now();
    let claimed = cover_request::Entity::update_many()
        .col_expr(cover_request::Column::Status, Expr::value("accepted"))
        .col_expr(cover_request::Column::AnsweredAt, Expr::value(now))
        .filter(cover_request::Column::Id.eq(req.id))
        .filter(cover_request::Column::Status.eq("open"))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict(
            "That request has already been answered.".into(),
        ));
    }
    let override_id = insert_override(
        &txn,
        s.id,
        "replace",
        req.cover_id,
        Some(req.requester_id),
        (req.starts_at, req.ends_at),
        user,
    )
    .await?;
    cover_request::Entity::update_many()
        .col_expr(cover_request::Column::OverrideId, Expr::value(override_id))
        .filter(cover_request::Column::Id.eq(req.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "rota_cover_accepted",
            org: Some(s.org_id),
            subject: Some(format!("cover:{}", req.id)),
            detail: Some(format!("override {override_id}")),
            client,
            outcome: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn to_rotation(r: &rotation::Model, members: &[rotation_member::Model]) -> Rotation {
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

fn to_override(o: &schedule_override::Model) -> Override {
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
struct Loaded {
    schedules: Vec<on_call_schedule::Model>,
    rotations: Vec<rotation::Model>,
    members: Vec<rotation_member::Model>,
    rules: Vec<schedule_rule::Model>,
    overrides: Vec<schedule_override::Model>,
}

impl Loaded {
    fn schedule(&self, schedule_id: i64) -> Schedule {
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

async fn load(
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

/// Who a schedule has on call at `t` (no one for an unknown schedule).
pub async fn on_call_at(
    db: &impl ConnectionTrait,
    schedule_id: i64,
    t: OffsetDateTime,
) -> Result<Vec<i64>, AppError> {
    Ok(load_schedule(db, schedule_id, t)
        .await?
        .map(|s| s.on_call_at(t))
        .unwrap_or_default())
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

async fn names(
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
    let covers = cover_request::Entity::find()
        .filter(cover_request::Column::ScheduleId.is_in(loaded.schedules.iter().map(|s| s.id)))
        .filter(cover_request::Column::EndsAt.gt(now))
        .order_by_asc(cover_request::Column::StartsAt)
        .all(db)
        .await?
        .into_iter()
        .filter(|c| {
            may_administer || c.requester_id == user.person_id || c.cover_id == user.person_id
        })
        .collect::<Vec<_>>();
    let org_people = person::Entity::find()
        .filter(person::Column::OrgId.eq(org.id))
        .filter(person::Column::Disabled.eq(false))
        .order_by_asc(person::Column::DisplayName)
        .all(db)
        .await?;
    let mut wanted: Vec<i64> = loaded.members.iter().map(|m| m.person_id).collect();
    wanted.extend(
        loaded
            .overrides
            .iter()
            .flat_map(|o| [Some(o.person_id), o.replaces_id])
            .flatten(),
    );
    wanted.extend(covers.iter().flat_map(|c| [c.requester_id, c.cover_id]));
    let who = names(db, wanted).await?;
    let name_of = |id: &i64| who.get(id).cloned().unwrap_or_else(|| "Someone".into());
    let rotation_name: HashMap<i64, String> = loaded
        .rotations
        .iter()
        .map(|r| (r.id, r.name.clone()))
        .collect();
    let schedule_views = loaded
        .schedules
        .iter()
        .map(|s| {
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
        })
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
            .map(|r| {
                let rot = to_rotation(r, &loaded.members);
                RotationView {
                    id: r.id,
                    name: r.name.clone(),
                    participants: rot.participants.iter().map(|p| (*p, name_of(p))).collect(),
                    shift_count: rot.shift_count,
                    shift_unit: rot.shift_unit,
                    handover: r.handover.clone(),
                    start: r.start_on,
                }
            })
            .collect(),
        schedules: schedule_views,
        covers: covers
            .iter()
            .map(|c| CoverView {
                id: c.id,
                schedule: schedule_name
                    .get(&c.schedule_id)
                    .cloned()
                    .unwrap_or_default(),
                requester: name_of(&c.requester_id),
                cover: name_of(&c.cover_id),
                start: c.starts_at,
                end: c.ends_at,
                status: c.status.clone(),
                mine_to_answer: c.cover_id == user.person_id && c.status == "open",
            })
            .collect(),
        people: org_people
            .into_iter()
            .map(|p| (p.id, p.display_name))
            .collect(),
    })
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

/// Lets an on-call schedule hold a role at the organisation with this code (organisation
/// admins); routing, escalation and the chart then name whoever is on call.
#[tracing::instrument(skip_all, err)]
pub async fn hold_role(
    db: &DatabaseConnection,
    user: &User,
    org_code: &str,
    role_key: &str,
    schedule_id: i64,
    client: Option<String>,
) -> Result<(), AppError> {
    let org = access::org_in_reach(db, user, org_code, Action::Administer).await?;
    let s = schedule_in_reach(db, user, schedule_id, Action::Administer).await?;
    if s.org_id != org.id {
        return Err(AppError::NotFound);
    }
    let role = super::entity::role::Entity::find()
        .filter(super::entity::role::Column::Key.eq(role_key.trim()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Invalid("Choose a role from the catalogue.".into()))?;
    let txn = db.begin().await?;
    role_schedule::Entity::delete_many()
        .filter(role_schedule::Column::OrgId.eq(org.id))
        .filter(role_schedule::Column::RoleId.eq(role.id))
        .exec(&txn)
        .await?;
    role_schedule::ActiveModel {
        org_id: Set(org.id),
        role_id: Set(role.id),
        schedule_id: Set(s.id),
        created_at: Set(super::timeline::now()),
        created_by: Set(Some(user.person_id)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "rota_role_held",
            org: Some(org.id),
            subject: Some(format!("schedule:{}", s.id)),
            detail: Some(role.key),
            client,
            outcome: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Accountability gaps with rotas taken in: a role held by a schedule is not vacant, but is
/// a gap ([`GapKind::OnCallGap`]) when the schedule has nobody on call for some of the next
/// [`GAP_DAYS`] days.
pub async fn with_on_call_gaps(
    db: &impl ConnectionTrait,
    mut gaps: Vec<crate::domain::gaps::Gap>,
    at: OffsetDateTime,
    shown: impl Fn(i64) -> bool,
) -> Result<Vec<crate::domain::gaps::Gap>, AppError> {
    use crate::domain::gaps::{Gap, GapKind};
    let held = role_schedule::Entity::find()
        .order_by_asc(role_schedule::Column::Id)
        .all(db)
        .await?;
    if held.is_empty() {
        return Ok(gaps);
    }
    gaps.retain(|g| {
        g.kind != GapKind::Vacant
            || !held
                .iter()
                .any(|h| h.org_id == g.org_id && h.role_id == g.role_id)
    });
    let schedules = on_call_schedule::Entity::find()
        .filter(on_call_schedule::Column::Id.is_in(held.iter().map(|h| h.schedule_id)))
        .all(db)
        .await?;
    let loaded = load(db, schedules, at).await?;
    for h in held.iter().filter(|h| shown(h.org_id)) {
        if gap_hours(&loaded.schedule(h.schedule_id), at) > 0 {
            gaps.push(Gap {
                org_id: h.org_id,
                role_id: h.role_id,
                person_id: None,
                kind: GapKind::OnCallGap,
            });
        }
    }
    Ok(gaps)
}

/// The schedule holding a role in an organisation, if one does.
pub async fn schedule_for_role(
    db: &impl ConnectionTrait,
    org_id: i64,
    role_id: i64,
) -> Result<Option<i64>, AppError> {
    Ok(role_schedule::Entity::find()
        .filter(role_schedule::Column::OrgId.eq(org_id))
        .filter(role_schedule::Column::RoleId.eq(role_id))
        .one(db)
        .await?
        .map(|r| r.schedule_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::db;
    use crate::backend::entity::{access_grant, audit_event};
    use crate::domain::auth::AccessRole;
    use migrations::{Migrator, MigratorTrait};
    use time::macros::datetime;

    const PRIYA: &str = "priya.raman@demo.wardline.test";
    const TOM: &str = "tom.okafor@demo.wardline.test";
    const HELEN: &str = "helen.marsh@demo.wardline.test";
    const OWEN: &str = "owen.fraser@demo.wardline.test";

    async fn setup() -> DatabaseConnection {
        let conn = db::connect("sqlite::memory:").await.unwrap();
        Migrator::up(&conn, None).await.unwrap();
        crate::backend::demo::load(&conn).await.unwrap();
        conn
    }

    async fn user(db: &DatabaseConnection, email: &str) -> User {
        let p = super::super::people::find_by_email(db, email)
            .await
            .unwrap()
            .unwrap();
        let grants = access_grant::Entity::find()
            .filter(access_grant::Column::PersonId.eq(p.id))
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|g| AccessRole::parse(&g.role).map(|r| (g.org_id, r)))
            .collect();
        User {
            person_id: p.id,
            name: p.display_name,
            email: p.email,
            grants,
            mfa_enabled: true,
            second_factor: true,
        }
    }

    fn weekly(participants: &str) -> RotationInput {
        RotationInput {
            name: "Gold on call".into(),
            participants: participants.into(),
            shift_count: 1,
            shift_unit: "weeks".into(),
            handover: "08:00".into(),
            start: "2026-01-05".into(),
        }
    }

    fn always(rotation_id: i64) -> RuleInput {
        RuleInput {
            days: "every day".into(),
            from: "00:00".into(),
            until: "00:00".into(),
            rotation_id,
        }
    }

    #[tokio::test]
    async fn an_admin_builds_a_schedule_and_sees_who_is_on_call_audited() {
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let tom = user(&db, TOM).await;
        let helen = user(&db, HELEN).await;
        let rot = create_rotation(&db, &priya, "RJ1", weekly(&format!("{TOM}\n{HELEN}")), None)
            .await
            .unwrap();
        let sched = create_schedule(&db, &priya, "rj1", "Gold", always(rot), None)
            .await
            .unwrap();
        let t = datetime!(2026-01-13 12:00 UTC);
        assert_eq!(
            on_call_at(&db, sched, t).await.unwrap(),
            vec![helen.person_id]
        );
        let page = page(&db, &priya, "RJ1", datetime!(2026-01-05 09:00 UTC))
            .await
            .unwrap();
        assert_eq!(page.schedules[0].now, vec!["Tom Okafor".to_owned()]);
        assert_eq!(
            page.schedules[0].next.as_ref().unwrap().people,
            vec!["Helen Marsh".to_owned()]
        );
        assert_eq!(page.schedules[0].gap_hours, 0);
        assert!(page.may_administer);
        let audited: Vec<String> = audit_event::Entity::find()
            .filter(audit_event::Column::Action.starts_with("rota_"))
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.action)
            .collect();
        assert_eq!(
            audited,
            vec!["rota_rotation_created", "rota_schedule_created"]
        );
        // A lead of the same trust reads it but may not change it.
        let seen = super::page(&db, &tom, "RJ1", t).await.unwrap();
        assert!(!seen.may_administer);
        assert_eq!(
            create_rotation(&db, &tom, "RJ1", weekly(TOM), None).await,
            Err(AppError::Forbidden)
        );
    }

    #[tokio::test]
    async fn another_organisations_ids_and_people_are_not_found() {
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let owen = user(&db, OWEN).await;
        let rot = create_rotation(&db, &priya, "RJ1", weekly(TOM), None)
            .await
            .unwrap();
        let sched = create_schedule(&db, &priya, "RJ1", "Gold", always(rot), None)
            .await
            .unwrap();
        // Priya cannot name a GP partner at a practice outside her trust.
        assert_eq!(
            create_rotation(&db, &priya, "RJ1", weekly(OWEN), None).await,
            Err(AppError::NotFound)
        );
        // Owen, a lead at a practice, gets 404 for the trust's schedule and rotation.
        assert_eq!(
            update_rotation(&db, &owen, rot, weekly(OWEN), None).await,
            Err(AppError::NotFound)
        );
        assert_eq!(
            add_rule(&db, &owen, sched, always(rot), None).await,
            Err(AppError::NotFound)
        );
        assert_eq!(
            page(&db, &owen, "RJ1", datetime!(2026-01-05 09:00 UTC))
                .await
                .map(|_| ()),
            Err(AppError::NotFound)
        );
    }

    #[tokio::test]
    async fn an_accepted_cover_request_replaces_the_requester_once() {
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let tom = user(&db, TOM).await;
        let helen = user(&db, HELEN).await;
        let rot = create_rotation(&db, &priya, "RJ1", weekly(TOM), None)
            .await
            .unwrap();
        let sched = create_schedule(&db, &priya, "RJ1", "Gold", always(rot), None)
            .await
            .unwrap();
        let req = request_cover(
            &db,
            &tom,
            sched,
            HELEN,
            "2026-01-13T18:00",
            "2026-01-14T08:00",
            None,
        )
        .await
        .unwrap();
        let during = datetime!(2026-01-13 20:00 UTC);
        assert_eq!(
            on_call_at(&db, sched, during).await.unwrap(),
            vec![tom.person_id]
        );
        // Only the colleague asked may accept.
        assert_eq!(
            accept_cover(&db, &tom, req, None).await,
            Err(AppError::Forbidden)
        );
        accept_cover(&db, &helen, req, None).await.unwrap();
        assert_eq!(
            on_call_at(&db, sched, during).await.unwrap(),
            vec![helen.person_id]
        );
        assert_eq!(
            on_call_at(&db, sched, datetime!(2026-01-14 09:00 UTC))
                .await
                .unwrap(),
            vec![tom.person_id]
        );
        assert!(matches!(
            accept_cover(&db, &helen, req, None).await,
            Err(AppError::Conflict(_))
        ));
    }

    #[tokio::test]
    async fn overrides_and_gaps_show_in_the_preview() {
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let rot = create_rotation(&db, &priya, "RJ1", weekly(TOM), None)
            .await
            .unwrap();
        let office = RuleInput {
            days: "weekdays".into(),
            from: "08:00".into(),
            until: "18:00".into(),
            rotation_id: rot,
        };
        let sched = create_schedule(&db, &priya, "RJ1", "Office hours", office, None)
            .await
            .unwrap();
        add_override(
            &db,
            &priya,
            sched,
            OverrideInput {
                kind: "add".into(),
                person: HELEN.into(),
                replaces: String::new(),
                start: "2026-01-12T18:00".into(),
                end: "2026-01-12T20:00".into(),
            },
            None,
        )
        .await
        .unwrap();
        let page = page(&db, &priya, "RJ1", datetime!(2026-01-12 00:00 UTC))
            .await
            .unwrap();
        let s = &page.schedules[0];
        assert!(s.now.is_empty(), "midnight is a gap");
        assert_eq!(s.overrides[0].change, "Add Helen Marsh");
        // 14 days of 24 h, less 10 weekdays of 10 h, less the 2 h override.
        assert_eq!(s.gap_hours, 14 * 24 - 10 * 10 - 2);
        assert!(s.preview.iter().any(|x| x.people == vec!["Helen Marsh"]));
    }

    #[tokio::test]
    async fn a_role_held_by_a_schedule_routes_to_whoever_is_on_call() {
        use crate::backend::incidents::Router;
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let helen = user(&db, HELEN).await;
        let rj1 = access::org_in_reach(&db, &priya, "RJ1", Action::Read)
            .await
            .unwrap();
        let now = super::super::timeline::now();
        let before = Router::load(&db, rj1.id, now).await.unwrap();
        let named = before.route("head_of_cyber").0;
        assert_ne!(named, Some(helen.person_id));
        let rot = create_rotation(&db, &priya, "RJ1", weekly(HELEN), None)
            .await
            .unwrap();
        let sched = create_schedule(&db, &priya, "RJ1", "Cyber on call", always(rot), None)
            .await
            .unwrap();
        // Only an admin of the organisation may hand a role to a schedule.
        let tom = user(&db, TOM).await;
        assert_eq!(
            hold_role(&db, &tom, "RJ1", "head_of_cyber", sched, None).await,
            Err(AppError::Forbidden)
        );
        hold_role(&db, &priya, "RJ1", "head_of_cyber", sched, None)
            .await
            .unwrap();
        let after = Router::load(&db, rj1.id, now).await.unwrap();
        let (who, at, _) = after.route("head_of_cyber");
        assert_eq!(who, Some(helen.person_id));
        assert_eq!(at, Some(rj1.id));
        // The named holder at the trust (if any) stands behind the schedule.
        let role_id = before.roles["head_of_cyber"].0;
        let named_here = before.holdings.get(&(rj1.id, role_id)).map(|h| h.0);
        assert_eq!(
            after.holdings[&(rj1.id, role_id)],
            (helen.person_id, named_here)
        );
        // Read again by the time the preview span ends at the latest (one participant: no
        // handover changes who it is before then).
        assert!(
            after
                .valid_until
                .is_some_and(|u| u <= now + Duration::days(rota::MAX_SPAN_DAYS))
        );
        // A schedule with nobody on call leaves the named holder in place.
        add_override(
            &db,
            &priya,
            sched,
            OverrideInput {
                kind: "remove".into(),
                person: HELEN.into(),
                replaces: String::new(),
                start: "2000-01-01T00:00".into(),
                end: "2000-01-02T00:00".into(),
            },
            None,
        )
        .await
        .unwrap();
        let in_2000 = time::macros::datetime!(2000-01-01 12:00 UTC);
        assert_eq!(
            on_call_at(&db, sched, in_2000).await.unwrap(),
            Vec::<i64>::new()
        );
    }

    #[tokio::test]
    async fn a_schedule_with_hours_uncovered_is_an_accountability_gap() {
        use crate::domain::gaps::GapKind;
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let rot = create_rotation(&db, &priya, "RJ1", weekly(HELEN), None)
            .await
            .unwrap();
        let office = RuleInput {
            days: "weekdays".into(),
            from: "08:00".into(),
            until: "18:00".into(),
            rotation_id: rot,
        };
        let sched = create_schedule(&db, &priya, "RJ1", "Office only", office, None)
            .await
            .unwrap();
        hold_role(&db, &priya, "RJ1", "head_of_cyber", sched, None)
            .await
            .unwrap();
        let rj1 = access::org_in_reach(&db, &priya, "RJ1", Action::Read)
            .await
            .unwrap();
        let now = super::super::timeline::now();
        let gaps = with_on_call_gaps(&db, Vec::new(), now, |o| o == rj1.id)
            .await
            .unwrap();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].kind, GapKind::OnCallGap);
        assert_eq!(gaps[0].org_id, rj1.id);
        // Covered around the clock, it is no gap.
        add_rule(&db, &priya, sched, always(rot), None)
            .await
            .unwrap();
        let gaps = with_on_call_gaps(&db, Vec::new(), now, |o| o == rj1.id)
            .await
            .unwrap();
        assert!(gaps.is_empty(), "{gaps:?}");
    }

    #[tokio::test]
    async fn names_with_markup_or_too_long_are_refused() {
        let db = setup().await;
        let priya = user(&db, PRIYA).await;
        let mut input = weekly(TOM);
        input.name = "<script>alert(1)</script>".into();
        assert!(matches!(
            create_rotation(&db, &priya, "RJ1", input.clone(), None).await,
            Err(AppError::Invalid(_))
        ));
        input.name = "x".repeat(MAX_NAME + 1);
        assert!(matches!(
            create_rotation(&db, &priya, "RJ1", input, None).await,
            Err(AppError::Invalid(_))
        ));
        assert!(rotation::Entity::find().all(&db).await.unwrap().is_empty());
    }
}
