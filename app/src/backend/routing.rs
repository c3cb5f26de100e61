//! Routing a runbook step to a person: the holder of its role at the organisation, else the
//! deputy, else up the tree, every fallback written down.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use crate::backend::entity::{assignment, organisation, person, role};
use crate::backend::orgs;
use crate::error::AppError;

/// Routing for one organisation, loaded in a handful of queries: the organisation and its
/// ancestors, the role catalogue, the holdings in force along that chain and who of those
/// people can be reached. Routing each step is then done in memory.
#[derive(Debug)]
pub struct Router {
    pub(crate) chain: Vec<i64>,
    pub(crate) names: HashMap<i64, String>,
    pub(crate) roles: HashMap<String, (i64, String)>,
    pub(crate) holdings: HashMap<(i64, i64), (i64, Option<i64>)>,
    pub(crate) reachable: HashSet<i64>,
    /// When a holding along the chain next starts or ends (the routing changes then).
    pub(crate) valid_until: Option<OffsetDateTime>,
}

impl Router {
    pub async fn load(
        db: &impl ConnectionTrait,
        org_id: i64,
        at: OffsetDateTime,
    ) -> Result<Router, AppError> {
        let chain = orgs::chain(db, org_id).await?;
        Router::along(db, chain, at).await
    }

    /// For a chain already read (the organisation first, then its ancestors).
    pub async fn along(
        db: &impl ConnectionTrait,
        chain: Vec<i64>,
        at: OffsetDateTime,
    ) -> Result<Router, AppError> {
        // Read in chunks: a router over a whole region's organisations (CAF readiness)
        // names more people than one statement may bind.
        let names = super::db::all_in(
            db,
            organisation::Entity::find(),
            organisation::Column::Id,
            &chain,
        )
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
        let roles = role::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.key, (r.id, r.name)))
            .collect();
        let mut holdings = HashMap::new();
        let mut people = Vec::new();
        let mut valid_until: Option<OffsetDateTime> = None;
        // In order of id within each organisation, so the first holding of a role wins.
        for h in super::db::all_in(
            db,
            assignment::Entity::find()
                .filter(
                    Condition::any()
                        .add(assignment::Column::EndsAt.is_null())
                        .add(assignment::Column::EndsAt.gt(at)),
                )
                .order_by_asc(assignment::Column::Id),
            assignment::Column::OrgId,
            &chain,
        )
        .await?
        {
            // The routing read now stays true until the next holding starts or ends.
            let boundary = if h.starts_at > at {
                Some(h.starts_at)
            } else {
                h.ends_at
            };
            if let Some(b) = boundary {
                valid_until = Some(valid_until.map_or(b, |v| v.min(b)));
            }
            if h.starts_at > at {
                continue;
            }
            people.push(h.person_id);
            people.extend(h.deputy_id);
            holdings
                .entry((h.org_id, h.role_id))
                .or_insert((h.person_id, h.deputy_id));
        }
        // A role held by an on-call schedule routes to whoever is on call, the named holder
        // (if any) standing behind them; the routing changes at the next handover.
        for (org_id, role_id, on_call, until) in
            crate::backend::rotas::on_call_holdings(db, &chain, at).await?
        {
            if let Some(b) = until {
                valid_until = Some(valid_until.map_or(b, |v| v.min(b)));
            }
            if let Some(first) = on_call.first() {
                people.extend(on_call.iter().copied());
                let named = holdings.get(&(org_id, role_id)).map(|(h, _)| *h);
                holdings.insert((org_id, role_id), (*first, named));
            }
        }
        people.sort_unstable();
        people.dedup();
        let reachable = super::db::all_in(
            db,
            person::Entity::find().filter(person::Column::Disabled.eq(false)),
            person::Column::Id,
            &people,
        )
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
        Ok(Router {
            chain,
            names,
            roles,
            holdings,
            reachable,
            valid_until,
        })
    }

    /// Who gets a task for `role_key`: the holder, else the deputy, else the same up the
    /// tree. Returns (person, organisation where found, how it was routed).
    pub fn route(&self, role_key: &str) -> (Option<i64>, Option<i64>, String) {
        self.route_from(role_key, 0)
    }

    /// Everyone this router could name.
    pub fn people(&self) -> impl Iterator<Item = i64> + '_ {
        self.reachable.iter().copied()
    }

    /// As [`Router::route`], starting `skip` organisations up the chain (1: the parent).
    pub fn route_from(&self, role_key: &str, skip: usize) -> (Option<i64>, Option<i64>, String) {
        self.route_in(&self.chain, role_key, skip)
    }

    /// As [`Router::route_from`] along `chain` (an organisation then its ancestors), for a
    /// router read over many organisations at once: every one of them must be in it.
    pub fn route_in(
        &self,
        chain: &[i64],
        role_key: &str,
        skip: usize,
    ) -> (Option<i64>, Option<i64>, String) {
        let Some((role_id, role_name)) = self.roles.get(role_key) else {
            return (
                None,
                None,
                format!("No role “{role_key}” in the catalogue."),
            );
        };
        let mut notes = Vec::new();
        for org in chain.iter().skip(skip) {
            let name = self.names.get(org).map(String::as_str).unwrap_or_default();
            match self.holdings.get(&(*org, *role_id)) {
                Some((holder, deputy)) => {
                    if self.reachable.contains(holder) {
                        notes.push(format!("{role_name} at {name}"));
                        return (Some(*holder), Some(*org), notes.join("; then "));
                    }
                    notes.push(format!(
                        "the {role_name} at {name} cannot be reached (account disabled)"
                    ));
                    if let Some(d) = deputy.filter(|d| self.reachable.contains(d)) {
                        notes.push(format!("deputy {role_name} at {name}"));
                        return (Some(d), Some(*org), notes.join("; so "));
                    }
                }
                None => notes.push(format!("no {role_name} at {name}")),
            }
        }
        notes.push("nobody holds it anywhere above: flagged for national attention".into());
        (None, None, notes.join("; "))
    }
}

/// Who gets a task for `role_key` at `org_id` (see [`Router::route`]).
pub async fn route(
    db: &impl ConnectionTrait,
    org_id: i64,
    role_key: &str,
    at: OffsetDateTime,
) -> Result<(Option<i64>, Option<i64>, String), AppError> {
    Ok(Router::load(db, org_id, at).await?.route(role_key))
}
