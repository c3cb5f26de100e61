//! Runbooks: versioned templates per incident kind. The national library is the default;
//! an organisation's own version overrides it for the organisation and everything below it.
//! Saving an edit always makes a new version: incidents already running keep the tasks
//! they were given.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use time::OffsetDateTime;

use super::access::{self, User};
use super::entity::{organisation, role, runbook, runbook_step};
use super::{audit, orgs};
use crate::domain::incidents::{
    IncidentKind, Phase, RunbookIndex, RunbookView, StepInput, StepTemplate, validate_steps,
};
use crate::error::AppError;

mod in_force;

pub use in_force::{runbook_in_force, runbook_in_force_along, seed_runbooks};

use crate::domain::dates::moment as fmt;

/// The organisation a runbook request is about: the code given, else the caller's first.
/// `None` means the national library (only when asked for with an empty code by a
/// national admin, or by someone with no organisation).
async fn org_for(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: Option<&str>,
) -> Result<Option<organisation::Model>, AppError> {
    let org = match org_code.map(str::trim) {
        Some("") | Some("national") => None,
        Some(code) => Some(
            orgs::find_by_code(db, code)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
        None => match user.grants.iter().find(|(o, _)| *o > 0) {
            Some((id, _)) if !user.is_national_admin() => {
                organisation::Entity::find_by_id(*id).one(db).await?
            }
            _ => None,
        },
    };
    if let Some(o) = &org
        && !access::within(&access::readable_orgs(db, user).await?, o.id)
    {
        return Err(AppError::NotFound);
    }
    Ok(org)
}

async fn owner_name(db: &impl ConnectionTrait, rb: &runbook::Model) -> Result<String, AppError> {
    Ok(match rb.org_id {
        Some(id) => organisation::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|o| o.name)
            .unwrap_or_default(),
        None => "National default".into(),
    })
}

/// The runbooks in force for an organisation (or the national library): one per kind.
pub async fn index(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: Option<&str>,
) -> Result<(Option<String>, RunbookIndex), AppError> {
    let org = org_for(db, user, org_code).await?;
    let mut out = Vec::new();
    for kind in IncidentKind::ALL {
        let rb = match &org {
            Some(o) => runbook_in_force(db, o.id, *kind).await?,
            None => national(db, *kind).await?,
        };
        out.push((
            *kind,
            rb.title.clone(),
            rb.version,
            owner_name(db, &rb).await?,
        ));
    }
    Ok((org.map(|o| o.code), out))
}

async fn national(
    db: &impl ConnectionTrait,
    kind: IncidentKind,
) -> Result<runbook::Model, AppError> {
    runbook::Entity::find()
        .filter(runbook::Column::Kind.eq(kind.as_str()))
        .filter(runbook::Column::OrgId.is_null())
        .order_by_desc(runbook::Column::Version)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

async fn may_edit(
    db: &impl ConnectionTrait,
    user: &User,
    org: Option<&organisation::Model>,
) -> Result<bool, AppError> {
    if user.is_read_only_user() {
        return Ok(false);
    }
    Ok(match org {
        None => user.is_national_admin(),
        Some(o) => access::within(&access::administered_orgs(db, user).await?, o.id),
    })
}

/// The runbook in force for `kind` at an organisation, or a given version of the
/// organisation's own (or the national) line.
pub async fn view(
    db: &impl ConnectionTrait,
    user: &User,
    kind: IncidentKind,
    org_code: Option<&str>,
    version: Option<i32>,
) -> Result<RunbookView, AppError> {
    let org = org_for(db, user, org_code).await?;
    let in_force = match &org {
        Some(o) => runbook_in_force(db, o.id, kind).await?,
        None => national(db, kind).await?,
    };
    let rb = match version {
        Some(v) => runbook::Entity::find()
            .filter(runbook::Column::Kind.eq(kind.as_str()))
            .filter(match in_force.org_id {
                Some(id) => runbook::Column::OrgId.eq(id),
                None => runbook::Column::OrgId.is_null(),
            })
            .filter(runbook::Column::Version.eq(v))
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?,
        None => in_force,
    };
    let steps = runbook_step::Entity::find()
        .filter(runbook_step::Column::RunbookId.eq(rb.id))
        .order_by_asc(runbook_step::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|s| StepTemplate {
            phase: Phase::parse(&s.phase).unwrap_or(Phase::Triage),
            title: s.title,
            owner_role: s.owner_role,
            due_minutes: s.due_minutes,
            instructions: s.instructions,
            required: s.required,
            depends_on: s
                .depends_on
                .split(',')
                .filter_map(|d| d.trim().parse().ok())
                .collect(),
        })
        .collect();
    let history = runbook::Entity::find()
        .filter(runbook::Column::Kind.eq(kind.as_str()))
        .filter(match rb.org_id {
            Some(id) => runbook::Column::OrgId.eq(id),
            None => runbook::Column::OrgId.is_null(),
        })
        .order_by_desc(runbook::Column::Version)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.version, fmt(r.created_at)))
        .collect();
    let owner_code = match rb.org_id {
        Some(id) => organisation::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|o| o.code),
        None => None,
    };
    Ok(RunbookView {
        id: rb.id,
        kind,
        version: rb.version,
        title: rb.title.clone(),
        owner: owner_name(db, &rb).await?,
        owner_code,
        created_at: fmt(rb.created_at),
        steps,
        editable: may_edit(db, user, org.as_ref()).await?,
        for_code: org.map(|o| o.code),
        history,
    })
}

/// A checked step as the row it is stored as, at `position` (from 1) in runbook `runbook_id`.
pub(crate) fn step_row(
    runbook_id: i64,
    position: i32,
    s: &crate::domain::incidents::StepTemplate,
) -> runbook_step::ActiveModel {
    runbook_step::ActiveModel {
        runbook_id: Set(runbook_id),
        position: Set(position),
        phase: Set(s.phase.as_str().to_owned()),
        title: Set(s.title.clone()),
        owner_role: Set(s.owner_role.clone()),
        due_minutes: Set(s.due_minutes),
        instructions: Set(s.instructions.clone()),
        required: Set(s.required),
        depends_on: Set(s
            .depends_on
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(",")),
        ..Default::default()
    }
}

/// Saves an edit as the next version of the organisation's own runbook for `kind` (the
/// national library's, for a national admin with no organisation). Returns the version.
#[tracing::instrument(skip_all, err)]
pub async fn save(
    db: &DatabaseConnection,
    user: &User,
    kind: IncidentKind,
    org_code: Option<&str>,
    title: &str,
    steps: &[StepInput],
) -> Result<i32, AppError> {
    let org = org_for(db, user, org_code).await?;
    if let Some(o) = &org {
        access::org_id_in_reach(db, user, o.id, access::Action::Administer).await?;
    }
    if !may_edit(db, user, org.as_ref()).await? {
        return Err(AppError::Forbidden);
    }
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::Invalid(
            "Give the runbook a title of up to 200 characters.".into(),
        ));
    }
    let keys: Vec<String> = role::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.key)
        .collect();
    let steps = validate_steps(steps, &keys).map_err(AppError::Invalid)?;
    let org_id = org.as_ref().map(|o| o.id);
    let now = OffsetDateTime::now_utc();
    let txn = db.begin().await?;
    // Written first with a placeholder, so the transaction holds the write lock before it
    // reads the latest version; the unique index refuses a duplicate from another server.
    let mut rb = runbook::ActiveModel {
        org_id: Set(org_id),
        kind: Set(kind.as_str().to_owned()),
        version: Set(0),
        title: Set(title.to_owned()),
        created_at: Set(now),
        created_by: Set(Some(user.person_id)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let latest = runbook::Entity::find()
        .filter(runbook::Column::Kind.eq(kind.as_str()))
        .filter(match org_id {
            Some(id) => runbook::Column::OrgId.eq(id),
            None => runbook::Column::OrgId.is_null(),
        })
        .order_by_desc(runbook::Column::Version)
        .one(&txn)
        .await?
        .map(|r| r.version)
        .unwrap_or(0);
    let version = latest + 1;
    let mut m: runbook::ActiveModel = rb.clone().into();
    m.version = Set(version);
    rb = m.update(&txn).await?;
    runbook_step::Entity::insert_many(
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| step_row(rb.id, i as i32 + 1, s)),
    )
    .exec(&txn)
    .await?;
    audit::record(
        &txn,
        audit::Event {
            actor: Some(user.person_id),
            action: "runbook_saved",
            org: org_id,
            subject: Some(format!("{} v{version}", kind.as_str())),
            detail: Some(format!("{} steps", steps.len())),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(version)
}
