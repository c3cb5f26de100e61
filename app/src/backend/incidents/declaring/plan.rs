//! What a declaration reads before it writes: the organisation, who may declare there, the
//! assets named, and the routing plan kept while the database says it is still true.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use crate::backend::access::{self, User};

use crate::backend::entity::{asset, organisation, runbook, runbook_step};
use crate::backend::escalation;
use crate::backend::{generation, orgs, timeline};
use crate::domain::incidents::IncidentKind;
use crate::error::AppError;

use crate::backend::incidents::declaring::DeclareInput;
use crate::backend::incidents::declaring::prepare::{Prepared, prepare};
use crate::backend::routing::Router;
use crate::backend::runbooks::runbook_in_force_along;

/// What a plan, and every declaration routed by it, was read under: the change generation
/// read before it, and when a holding along the chain next starts or ends. While both still
/// hold, the plan is true.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Routed {
    pub(crate) generation: i64,
    pub(crate) valid_until: Option<OffsetDateTime>,
}

impl Routed {
    pub(crate) fn current(&self, generation: i64, at: OffsetDateTime) -> bool {
        self.generation == generation && self.valid_until.is_none_or(|u| at < u)
    }
}

/// Everything a declaration at one organisation of one kind reads before it writes: the
/// organisation and its ancestors, the runbook in force and its steps, who holds each role
/// and the escalation policy, with what it was read under.
#[derive(Debug)]
pub struct Plan {
    pub(crate) routed: Routed,
    pub(crate) org: organisation::Model,
    pub(crate) chain: Vec<i64>,
    pub(crate) runbook: runbook::Model,
    pub(crate) steps: Vec<runbook_step::Model>,
    pub(crate) router: Router,
    pub(crate) policy: escalation::Policy,
    /// How each person the steps route to is paged (their rules, what reaches them).
    pub(crate) paging: crate::backend::paging::Known,
}

impl Plan {
    /// Reads the plan for a declaration of `kind` at `org` (whose chain is `chain`).
    pub async fn load(
        db: &impl ConnectionTrait,
        org: organisation::Model,
        chain: Vec<i64>,
        kind: IncidentKind,
        at: OffsetDateTime,
    ) -> Result<Plan, AppError> {
        let generation = generation::read(db).await?;
        let runbook = runbook_in_force_along(db, &chain, kind).await?;
        let steps = runbook_step::Entity::find()
            .filter(runbook_step::Column::RunbookId.eq(runbook.id))
            .order_by_asc(runbook_step::Column::Position)
            .all(db)
            .await?;
        let router = Router::along(db, chain.clone(), at).await?;
        let policy = escalation::policy_along(db, &chain).await?;
        let assignees = steps
            .iter()
            .filter_map(|s| router.route(&s.owner_role).0)
            .collect();
        let paging = crate::backend::paging::Known::load(db, &assignees).await?;
        Ok(Plan {
            routed: Routed {
                generation,
                valid_until: router.valid_until,
            },
            org,
            chain,
            runbook,
            steps,
            router,
            policy,
            paging,
        })
    }
}

/// Finds the organisation a declaration is for; `NotFound` when there is none.
pub(crate) async fn declaring_org(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: Option<&str>,
) -> Result<(organisation::Model, Vec<i64>), AppError> {
    let org = match org_code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => orgs::find_by_code(db, code)
            .await?
            .ok_or(AppError::NotFound)?,
        None => {
            let first = user.grants.first().ok_or(AppError::Forbidden)?.0;
            organisation::Entity::find_by_id(first)
                .one(db)
                .await?
                .ok_or(AppError::NotFound)?
        }
    };
    let chain = orgs::chain(db, org.id).await?;
    may_declare(user, &chain)?;
    Ok((org, chain))
}

/// A person may declare at an organisation their grants reach (the chain: the organisation
/// first). Otherwise it is as if the organisation did not exist.
pub(crate) fn may_declare(user: &User, chain: &[i64]) -> Result<(), AppError> {
    access::reaches_along(user, chain, access::Action::Act)
}

/// Refuses assets that are not in the declaring organisation's catalogue.
pub(crate) async fn check_assets(
    db: &impl ConnectionTrait,
    org_id: i64,
    assets: &[i64],
) -> Result<(), AppError> {
    if assets.is_empty() {
        return Ok(());
    }
    if assets.len() > 100 {
        return Err(AppError::Invalid(
            "Choose at most 100 affected systems; describe the rest in words.".into(),
        ));
    }
    let mut wanted = assets.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let found = asset::Entity::find()
        .filter(asset::Column::OrgId.eq(org_id))
        .filter(asset::Column::Id.is_in(wanted.clone()))
        .count(db)
        .await?;
    // An asset of another organisation is as if it did not exist.
    if found as usize != wanted.len() {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Reads the plan and prepares a declaration, every read on `db`; assignees are paged on
/// `channels`.
pub(crate) async fn plan_and_prepare(
    db: &impl ConnectionTrait,
    user: &User,
    input: &DeclareInput,
    channels: crate::backend::paging::Channels,
) -> Result<Prepared, AppError> {
    let (org, chain) = declaring_org(db, user, input.org_code.as_deref()).await?;
    check_assets(db, org.id, &input.assets).await?;
    let plan = Plan::load(db, org, chain, input.kind, timeline::now()).await?;
    prepare(user, &plan, input, None, channels)
}
