//! Organisations an incident reaches beyond its own: affected organisations, linked assets,
//! and the linked incidents a supplier's incident opens at its clients.

use std::collections::HashSet;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use time::Duration;

use crate::backend::access::{self, User};

use crate::backend::entity::{incident, incident_asset, incident_org, organisation, task};
use crate::backend::paging::Channels;
use crate::backend::{escalation, orgs, timeline};
use crate::domain::incidents::{ExerciseKind, IncidentKind, PatientsAffected, Phase, TaskState};
use crate::domain::org::OrgKind;
use crate::error::AppError;

use crate::backend::incidents::access::{find_readable, incident_orgs, may_lead, touch};
use crate::backend::incidents::declaring::plan::Plan;
use crate::backend::incidents::declaring::prepare::prepare;
use crate::backend::incidents::declaring::{Declarations, DeclareInput};
use crate::backend::incidents::lifecycle::{finish, lead_incident};
use crate::backend::incidents::tasks::tell_holder;
use crate::backend::incidents::view::unlinked_clients;
use crate::backend::routing::route;

/// Adds another affected organisation. Its people can then see the incident, and its cyber
/// lead (or whoever the routing finds) gets a task to assess the impact there: told in
/// their inbox, paged by their rules on `channels` and escalated past as any task is, all
/// in the transaction that adds the organisation.
pub async fn add_affected(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    org_code: &str,
    channels: Channels,
) -> Result<(), AppError> {
    // What the request names is checked first: out of reach, it answers as absent whatever
    // else is wrong with the request.
    let org = access::org_in_reach(db, user, org_code, access::Action::Lead).await?;
    let inc = lead_incident(db, user, reference).await?;
    let now = timeline::now();
    let (assignee, found_at, routing) = route(db, org.id, "head_of_cyber", now).await?;
    let policy = escalation::policy_for(db, org.id).await?;
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    if incident_orgs(&txn, &inc).await?.contains(&org.id) {
        return Err(AppError::Invalid(format!(
            "{} is already on this incident.",
            org.name
        )));
    }
    incident_org::ActiveModel {
        incident_id: Set(inc.id),
        org_id: Set(org.id),
        added_at: Set(now),
        added_by: Set(Some(user.person_id)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let position = task::Entity::find()
        .filter(task::Column::IncidentId.eq(inc.id))
        .order_by_desc(task::Column::Position)
        .one(&txn)
        .await?
        .map(|t| t.position)
        .unwrap_or(0)
        + 1;
    let due = now + Duration::minutes(60);
    let assess = task::ActiveModel {
        incident_id: Set(inc.id),
        position: Set(position),
        phase: Set(Phase::Triage.as_str().to_owned()),
        title: Set(format!("Assess the impact at {}", org.name)),
        instructions: Set(format!(
            "{} has been added to this incident. Find out which services and systems there are affected, and whether patients are.",
            org.name
        )),
        required: Set(true),
        owner_role: Set("head_of_cyber".into()),
        org_id: Set(found_at),
        assignee_id: Set(assignee),
        routing: Set(routing),
        state: Set(TaskState::Open),
        due_at: Set(due),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    escalation::tracking(
        escalation::TASK,
        assess.id,
        inc.id,
        org.id,
        escalation::first_deadline(&policy, now, Some(due)),
        now,
    )
    .insert(&txn)
    .await?;
    if let Some(a) = assignee {
        tell_holder(&txn, &assess, a, &inc, channels, now).await?;
    }
    let detail = format!(
        "{} ({}) added as affected ({})",
        org.name, org.code, user.name
    );
    finish(&txn, user, &inc, "scope", "incident_scope", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// Links a catalogued asset of an organisation the incident affects; its leads only.
pub async fn link_asset(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    asset_id: i64,
) -> Result<(), AppError> {
    let a = access::asset_in_reach(db, user, asset_id, access::Action::Lead).await?;
    let inc = lead_incident(db, user, reference).await?;
    let txn = db.begin().await?;
    touch(&txn, inc.id).await?;
    if !incident_orgs(&txn, &inc).await?.contains(&a.org_id) {
        return Err(AppError::Invalid(
            "That asset belongs to an organisation this incident does not affect. Add the organisation first.".into(),
        ));
    }
    let already = incident_asset::Entity::find()
        .filter(incident_asset::Column::IncidentId.eq(inc.id))
        .filter(incident_asset::Column::AssetId.eq(a.id))
        .one(&txn)
        .await?;
    if already.is_some() {
        return Err(AppError::Invalid(format!(
            "{} is already linked to this incident.",
            a.name
        )));
    }
    incident_asset::ActiveModel {
        incident_id: Set(inc.id),
        asset_id: Set(a.id),
        added_at: Set(timeline::now()),
        added_by: Set(Some(user.person_id)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let detail = format!("{} linked as affected ({})", a.name, user.name);
    finish(&txn, user, &inc, "assets", "incident_asset", detail).await?;
    txn.commit().await?;
    Ok(())
}

/// From a supplier's incident, opens a linked incident at every organisation the supplier
/// serves that has none yet, each with its own runbook tasks, written through the
/// declarations writer in one transaction. Returns the new references.
pub async fn open_linked(
    db: &DatabaseConnection,
    user: &User,
    reference: &str,
    declarations: &Declarations,
) -> Result<Vec<String>, AppError> {
    let inc = find_readable(db, user, reference).await?;
    if inc.declared_by != user.person_id && !may_lead(db, user, inc.org_id).await? {
        return Err(AppError::Forbidden);
    }
    if user.is_read_only_user() {
        return Err(AppError::Forbidden);
    }
    let supplier = organisation::Entity::find_by_id(inc.org_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if supplier.summary().kind != OrgKind::Supplier {
        return Err(AppError::Invalid(
            "Only a supplier's incident opens linked incidents.".into(),
        ));
    }
    let already: HashSet<i64> = incident::Entity::find()
        .filter(incident::Column::ParentId.eq(inc.id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.org_id)
        .collect();
    let clients = unlinked_clients(db, inc.org_id, &already).await?;
    if clients.is_empty() {
        return Err(AppError::Invalid(
            "Every organisation this supplier serves already has a linked incident.".into(),
        ));
    }
    let mut prepared = Vec::new();
    for client in clients {
        let input = linked_input(&supplier, &inc);
        let chain = orgs::chain(db, client.id).await?;
        let plan = Plan::load(db, client.clone(), chain, input.kind, timeline::now()).await?;
        // Each linked incident's assignees are paged as a declaration's are.
        let p = prepare(user, &plan, &input, Some(inc.id), declarations.channels())?;
        prepared.push((client, input, p));
    }
    let names: Vec<String> = prepared.iter().map(|(c, _, _)| c.name.clone()).collect();
    let detail = format!(
        "Linked incidents opened at {} ({})",
        names.join(", "),
        user.name
    );
    let refs = declarations
        .write_linked(inc, user, prepared, already.len(), detail)
        .await?;
    Ok(refs)
}

/// What a linked incident at one of the supplier's clients says.
fn linked_input(supplier: &organisation::Model, inc: &incident::Model) -> DeclareInput {
    DeclareInput {
        org_code: None,
        kind: IncidentKind::SupplierCompromise,
        summary: format!(
            "{} reports an incident ({}): {}",
            supplier.name, inc.reference, inc.summary
        )
        .chars()
        .take(2000)
        .collect(),
        location: format!("Services from {}", supplier.name)
            .chars()
            .take(200)
            .collect(),
        patients_affected: PatientsAffected::Unknown,
        systems: inc.systems.clone(),
        personal_data: Some(inc.personal_data),
        assets: Vec::new(),
        exercise: inc.exercise.as_deref().and_then(ExerciseKind::parse),
    }
}
