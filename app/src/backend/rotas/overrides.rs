//! Overrides, and requests to cover that become overrides when the colleague accepts.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use time::OffsetDateTime;

use crate::backend::access::{self, Action, User};
use crate::backend::audit::{self, Event};
use crate::backend::entity::{cover_request, schedule_override};
use crate::backend::rotas::{period, schedule_in_reach};
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
    let now = crate::backend::timeline::now();
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
