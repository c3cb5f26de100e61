//! Overrides, and requests to cover that become overrides when the colleague accepts.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use time::OffsetDateTime;

use crate::backend::access::{self, Action, User};
use crate::backend::audit::{self, Event};
use crate::backend::entity::{cover_request, notification, schedule_override};
use crate::backend::rotas::handovers::insert;
use crate::backend::rotas::{period, schedule_in_reach};
use crate::domain::rota::local_label;
use crate::error::AppError;

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
    super::history::record(&txn, s.org_id, crate::backend::timeline::now()).await?;
    txn.commit().await?;
    Ok(id)
}

pub(crate) async fn insert_override(
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
        created_at: Set(crate::backend::timeline::now()),
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
    super::history::record(&txn, s.org_id, crate::backend::timeline::now()).await?;
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
    // Only a colleague of the schedule's own organisation can be asked.
    if cover.org_id != Some(s.org_id) || cover.disabled {
        return Err(AppError::NotFound);
    }
    if cover.id == user.person_id {
        return Err(AppError::Invalid(
            "Ask a colleague, not yourself, to cover.".into(),
        ));
    }
    if !on_rota(db, s.id, user.person_id).await? {
        return Err(AppError::Invalid(
            "Only someone on this schedule's rota can ask for cover on it.".into(),
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
        status: Set(crate::domain::rota::CoverStatus::Open),
        override_id: Set(None),
        created_at: Set(crate::backend::timeline::now()),
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
    let when = format!("from {} until {}", local_label(start), local_label(end));
    insert(
        &txn,
        vec![
            notice(
                row.id,
                0,
                cover.id,
                format!("{} asks you to cover {}", user.name, s.name),
                format!(
                    "{} asks you to cover them on {} {when} (London time). Accept or decline on the on-call page.",
                    user.name, s.name
                ),
            ),
            notice(
                row.id,
                0,
                user.person_id,
                format!("You asked {} to cover {}", cover.display_name, s.name),
                format!(
                    "You asked {} to cover you on {} {when} (London time). You stay on call until they accept.",
                    cover.display_name, s.name
                ),
            ),
        ],
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

/// Whether a person is on a schedule's rota: in a rotation one of its rules names, or named
/// by one of its overrides.
async fn on_rota(
    db: &impl ConnectionTrait,
    schedule_id: i64,
    person_id: i64,
) -> Result<bool, AppError> {
    use crate::backend::entity::{rotation_member, schedule_rule};
    let rotations: Vec<i64> = schedule_rule::Entity::find()
        .filter(schedule_rule::Column::ScheduleId.eq(schedule_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.rotation_id)
        .collect();
    let member = rotation_member::Entity::find()
        .filter(rotation_member::Column::RotationId.is_in(rotations))
        .filter(rotation_member::Column::PersonId.eq(person_id))
        .one(db)
        .await?
        .is_some();
    if member {
        return Ok(true);
    }
    Ok(schedule_override::Entity::find()
        .filter(schedule_override::Column::ScheduleId.eq(schedule_id))
        .filter(schedule_override::Column::PersonId.eq(person_id))
        .filter(schedule_override::Column::Kind.ne("remove"))
        .one(db)
        .await?
        .is_some())
}

/// An inbox notice about a cover request (`round` 0 when asked, 1 when answered).
fn notice(
    request_id: i64,
    round: i32,
    person_id: i64,
    title: String,
    body: String,
) -> notification::ActiveModel {
    let now = crate::backend::timeline::now();
    notification::ActiveModel {
        subject: Set(COVER.to_owned()),
        subject_id: Set(request_id),
        // Not about an incident: 0 names none.
        incident_id: Set(0),
        level: Set(0),
        round: Set(round),
        recipient_key: Set(format!("person:{person_id}")),
        person_id: Set(Some(person_id)),
        channel: Set("inbox".into()),
        title: Set(title.chars().take(300).collect()),
        body: Set(body),
        status: Set(crate::domain::escalation::NotificationStatus::Sent),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        delivered_at: Set(Some(now)),
        ..Default::default()
    }
}

/// The outbox subject of notices about cover requests.
pub const COVER: &str = "cover";

/// Tells both people of an answer to a cover request.
async fn answered_notices(
    db: &impl ConnectionTrait,
    req: &cover_request::Model,
    schedule: &str,
    accepted: bool,
) -> Result<(), AppError> {
    let who = crate::backend::rotas::reading::names(db, [req.requester_id, req.cover_id]).await?;
    let name = |id: i64| who.get(&id).cloned().unwrap_or_else(|| "Someone".into());
    let when = format!(
        "from {} until {}",
        local_label(req.starts_at),
        local_label(req.ends_at)
    );
    let (verb, then) = if accepted {
        ("accepted", "They are on call in your place then.")
    } else {
        (
            "declined",
            "You stay on call: ask someone else, or tell an admin.",
        )
    };
    insert(
        db,
        vec![
            notice(
                req.id,
                1,
                req.requester_id,
                format!(
                    "{} {verb} your request to cover {schedule}",
                    name(req.cover_id)
                ),
                format!(
                    "{} {verb} your request to cover {schedule} {when} (London time). {then}",
                    name(req.cover_id)
                ),
            ),
            notice(
                req.id,
                1,
                req.cover_id,
                format!(
                    "You {verb} covering {schedule} for {}",
                    name(req.requester_id)
                ),
                format!(
                    "You {verb} covering {} on {schedule} {when} (London time).{}",
                    name(req.requester_id),
                    if accepted {
                        " You are on call then."
                    } else {
                        ""
                    }
                ),
            ),
        ],
    )
    .await
}

/// The colleague asked declines: nothing changes on the rota; both are told.
#[tracing::instrument(skip_all, err)]
pub async fn decline_cover(
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
    let claimed = cover_request::Entity::update_many()
        .col_expr(
            cover_request::Column::Status,
            Expr::value(crate::domain::rota::CoverStatus::Declined),
        )
        .col_expr(
            cover_request::Column::AnsweredAt,
            Expr::value(crate::backend::timeline::now()),
        )
        .filter(cover_request::Column::Id.eq(req.id))
        .filter(cover_request::Column::Status.eq(crate::domain::rota::CoverStatus::Open))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict(
            "That request has already been answered.".into(),
        ));
    }
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "rota_cover_declined",
            org: Some(s.org_id),
            subject: Some(format!("cover:{}", req.id)),
            detail: None,
            client,
            outcome: None,
        },
    )
    .await?;
    answered_notices(&txn, &req, &s.name, false).await?;
    txn.commit().await?;
    Ok(())
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
    let now = crate::backend::timeline::now();
    let claimed = cover_request::Entity::update_many()
        .col_expr(
            cover_request::Column::Status,
            Expr::value(crate::domain::rota::CoverStatus::Accepted),
        )
        .col_expr(cover_request::Column::AnsweredAt, Expr::value(now))
        .filter(cover_request::Column::Id.eq(req.id))
        .filter(cover_request::Column::Status.eq(crate::domain::rota::CoverStatus::Open))
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
    answered_notices(&txn, &req, &s.name, true).await?;
    super::history::record(&txn, s.org_id, crate::backend::timeline::now()).await?;
    txn.commit().await?;
    Ok(())
}
