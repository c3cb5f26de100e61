//! Rotations: who takes turns, for how long, from when.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};

use crate::backend::access::{self, Action, User};
use crate::backend::audit::{self, Event};
use crate::backend::entity::{rotation, rotation_member};
use crate::backend::rotas::{invalid, name, rotation_in_reach};
use crate::domain::rota::{MAX_PARTICIPANTS, ShiftUnit, clock_label, parse_clock, parse_date};
use crate::error::AppError;

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

pub(crate) struct ParsedRotation {
    pub(crate) name: String,
    pub(crate) participants: Vec<i64>,
    pub(crate) shift_count: i32,
    pub(crate) unit: ShiftUnit,
    pub(crate) handover: time::Time,
    pub(crate) start: time::Date,
}

pub(crate) async fn parse_rotation(
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

pub(crate) async fn write_members(
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
        created_at: Set(crate::backend::timeline::now()),
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
    super::history::record(&txn, org.id, crate::backend::timeline::now()).await?;
    txn.commit().await?;
    Ok(row.id)
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
    super::history::record(&txn, existing.org_id, crate::backend::timeline::now()).await?;
    txn.commit().await?;
    Ok(())
}
