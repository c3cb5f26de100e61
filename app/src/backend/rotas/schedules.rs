//! Schedules and their time rules (the first matching rule wins).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};

use crate::backend::access::{self, Action, User};
use crate::backend::audit::{self, Event};
use crate::backend::entity::{on_call_schedule, schedule_rule};
use crate::backend::rotas::{invalid, name, rotation_in_reach, schedule_in_reach};
use crate::domain::rota::{Days, MAX_RULES, Rule, clock_label, parse_clock};
use crate::error::AppError;

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
        created_at: Set(crate::backend::timeline::now()),
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
    super::history::record(&txn, org.id, crate::backend::timeline::now()).await?;
    txn.commit().await?;
    Ok(row.id)
}

pub(crate) async fn parse_rule(
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

pub(crate) async fn insert_rule(
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
    super::history::record(&txn, s.org_id, crate::backend::timeline::now()).await?;
    txn.commit().await?;
    Ok(())
}
