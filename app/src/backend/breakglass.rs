//! The break-glass pack for an organisation: contact tree, escalation path and runbooks with
//! their first-response steps, read in one go and stamped with the data's version.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::access::{self, User};
use super::assignments::in_force_at;
use super::entity::{assignment, organisation, person, role, runbook_step};
use super::{escalation, generation, orgs, runbooks, timeline};
use crate::domain::breakglass::{BreakGlassPack, PackContact, PackRunbook, PackStep, due_in};
use crate::domain::incidents::{IncidentKind, Phase};
use crate::error::AppError;

/// Days of each on-call rota the pack prints.
pub const PACK_ROTA_DAYS: i64 = 14;

/// The pack for `org_code`, for anyone who may read the organisation.
pub async fn pack(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: &str,
) -> Result<BreakGlassPack, AppError> {
    let org = orgs::find_by_code(db, org_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access::within(&access::readable_orgs(db, user).await?, org.id) {
        return Err(AppError::NotFound);
    }
    // Read before the data it versions, so the number is never newer than the pack.
    let version = generation::read(db).await?;
    let now = timeline::now();
    let chain = orgs::chain(db, org.id).await?;
    let names: HashMap<i64, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(chain.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let roles: HashMap<i64, role::Model> = role::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let contacts = contacts(db, &chain, &names, &roles, now).await?;
    let policy = escalation::policy_view(db, user, &org.code).await?;
    let escalation_levels = policy.levels.iter().enumerate().map(level_line).collect();
    let mut runbooks = Vec::new();
    for kind in IncidentKind::ALL {
        runbooks.push(runbook(db, &chain, *kind, &names, &roles).await?);
    }
    let on_call = super::rotas::next_days(db, org.id, &chain, now, PACK_ROTA_DAYS).await?;
    Ok(BreakGlassPack {
        org_code: org.code,
        org_name: org.name,
        version,
        generated_at: crate::domain::dates::moment(now),
        contacts,
        escalation_path: policy.path,
        escalation_levels,
        runbooks,
        on_call,
    })
}

/// Who holds each role along the chain now, the organisation's own first, by role name.
async fn contacts(
    db: &impl ConnectionTrait,
    chain: &[i64],
    names: &HashMap<i64, String>,
    roles: &HashMap<i64, role::Model>,
    now: time::OffsetDateTime,
) -> Result<Vec<PackContact>, AppError> {
    let holdings = assignment::Entity::find()
        .filter(assignment::Column::OrgId.is_in(chain.to_vec()))
        .filter(in_force_at(now))
        .all(db)
        .await?;
    let people: HashMap<i64, person::Model> = person::Entity::find()
        .filter(
            person::Column::Id.is_in(
                holdings
                    .iter()
                    .flat_map(|h| [Some(h.person_id), h.deputy_id])
                    .flatten()
                    .collect::<Vec<_>>(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut contacts: Vec<(usize, String, PackContact)> = holdings
        .iter()
        .filter_map(|h| {
            let holder = people.get(&h.person_id)?;
            let role = roles.get(&h.role_id)?;
            Some((
                chain
                    .iter()
                    .position(|o| *o == h.org_id)
                    .unwrap_or(usize::MAX),
                role.name.clone(),
                PackContact {
                    role: role.name.clone(),
                    org_name: names.get(&h.org_id).cloned().unwrap_or_default(),
                    holder: holder.display_name.clone(),
                    deputy: h
                        .deputy_id
                        .and_then(|d| people.get(&d))
                        .map(|d| d.display_name.clone()),
                    work_phone: h.work_phone.clone(),
                    out_of_hours_phone: h.out_of_hours_phone.clone(),
                    email: h.contact_email.clone().unwrap_or(holder.email.clone()),
                },
            ))
        })
        .collect();
    contacts.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(contacts.into_iter().map(|c| c.2).collect())
}

/// One escalation level in words.
fn level_line((i, l): (usize, &crate::domain::escalation::LevelView)) -> String {
    let whom: Vec<String> = l
        .targets
        .iter()
        .map(|(what, who)| format!("{what}: {who}"))
        .collect();
    format!(
        "Level {}: {} (after {} minutes without acknowledgement)",
        i + 1,
        whom.join("; "),
        l.timeout_minutes
    )
}

/// The runbook in force along the chain for `kind`, step by step.
async fn runbook(
    db: &impl ConnectionTrait,
    chain: &[i64],
    kind: IncidentKind,
    names: &HashMap<i64, String>,
    roles: &HashMap<i64, role::Model>,
) -> Result<PackRunbook, AppError> {
    let rb = runbooks::runbook_in_force_along(db, chain, kind).await?;
    let steps = runbook_step::Entity::find()
        .filter(runbook_step::Column::RunbookId.eq(rb.id))
        .order_by_asc(runbook_step::Column::Position)
        .all(db)
        .await?;
    let owner = match rb.org_id {
        Some(o) => names.get(&o).cloned().unwrap_or_default(),
        None => "National default".into(),
    };
    let role_name = |key: &str| {
        roles
            .values()
            .find(|r| r.key == key)
            .map(|r| r.name.clone())
            .unwrap_or(key.to_owned())
    };
    Ok(PackRunbook {
        kind: kind.title().to_owned(),
        title: rb.title,
        version: rb.version,
        owner,
        first_steps: kind.first_steps().iter().map(|s| (*s).to_owned()).collect(),
        steps: steps
            .into_iter()
            .map(|s| PackStep {
                phase: Phase::parse(&s.phase)
                    .map(|p| p.label().to_owned())
                    .unwrap_or(s.phase.clone()),
                owner: role_name(&s.owner_role),
                due: due_in(s.due_minutes),
                title: s.title,
                instructions: s.instructions,
            })
            .collect(),
    })
}
