//! CAF readiness per organisation, computed from Wardline's own records: the chart (roles,
//! deputies, confirmations), the asset catalogue, the runbooks in force and who they reach,
//! the exercises held and the reviews with their actions. Rolled up over a subtree and
//! exported as CSV.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use time::OffsetDateTime;

use super::access::User;
use super::entity::{
    asset, assignment, incident, organisation, review, review_action, role, runbook, runbook_step,
    supplier_service,
};
use super::routing::Router;
use super::{chart, exercises, timeline};
use crate::domain::assets::{Support, support};
use crate::domain::caf::{Facts, OUTCOMES, OrgReadiness, Readiness, Status, judge};
use crate::domain::gaps::GapKind;
use crate::domain::incidents::{IncidentKind, IncidentStatus};
use crate::error::AppError;

/// Readiness for an organisation and everything below it that the person may read.
pub async fn readiness(
    db: &impl ConnectionTrait,
    charts: &chart::Cache,
    user: &User,
    org_code: &str,
) -> Result<Readiness, AppError> {
    // The chart checks who may read what, and gives each organisation's role gaps.
    let chart = chart::gaps_chart(db, charts, user, org_code).await?;
    let now = timeline::now();
    let codes: Vec<String> = chart.orgs.iter().map(|o| o.org.code.clone()).collect();
    let ids: HashMap<String, i64> = organisation::Entity::find()
        .filter(organisation::Column::Code.is_in(codes))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.code, o.id))
        .collect();
    let loaded = Loaded::read(db, ids.values().copied().collect(), now).await?;
    // One router over every organisation here and those above the root, and the tree read
    // once: each organisation's chain is walked in memory, not read again per organisation.
    let parents = chart::links_on(db, now.date()).await?;
    let chain_of = |id: i64| {
        let mut chain = vec![id];
        while let Some(p) = parents.get(chain.last().unwrap_or(&id)) {
            // The depth bound stops a corrupt cycle from spinning.
            if chain.contains(p) || chain.len() > 16 {
                break;
            }
            chain.push(*p);
        }
        chain
    };
    let mut everyone: Vec<i64> = ids.values().flat_map(|id| chain_of(*id)).collect();
    everyone.sort_unstable();
    everyone.dedup();
    let router = Router::along(db, everyone, now).await?;
    let mut out: Vec<OrgReadiness> = Vec::with_capacity(chart.orgs.len());
    for o in &chart.orgs {
        let Some(&id) = ids.get(&o.org.code) else {
            continue;
        };
        let mut f = Facts::default();
        role_facts(&mut f, o);
        loaded.asset_facts(&mut f, id, now.date());
        loaded.supplier_facts(&mut f, id);
        loaded.runbook_facts(&mut f, &chain_of(id), &router);
        loaded.incident_facts(&mut f, id, now);
        out.push(OrgReadiness {
            code: o.org.code.clone(),
            name: o.org.name.clone(),
            depth: o.depth,
            outcomes: judge(&f),
            rollup: Vec::new(),
        });
    }
    roll_up(&mut out);
    Ok(Readiness {
        root_code: chart.root.code,
        root_name: chart.root.name,
        generated_at: crate::domain::dates::moment(now),
        orgs: out,
        page: 1,
        pages: 1,
        below_total: 0,
    })
}

/// What readiness reads once for every organisation in the chart.
struct Loaded {
    assets: Vec<asset::Model>,
    runbooks: Vec<runbook::Model>,
    role_names: HashMap<String, String>,
    steps: Vec<runbook_step::Model>,
    incidents: Vec<incident::Model>,
    last: HashMap<(i64, crate::domain::incidents::ExerciseKind), incident::Model>,
    /// Contracts in force with these organisations as clients.
    services: Vec<supplier_service::Model>,
    supplier_names: HashMap<i64, String>,
    /// Suppliers with a security incident contact named now.
    supplier_contacts: HashSet<i64>,
    reviews: HashMap<i64, review::Model>,
    actions: Vec<review_action::Model>,
}

impl Loaded {
    async fn read(
        db: &impl ConnectionTrait,
        id_list: Vec<i64>,
        now: OffsetDateTime,
    ) -> Result<Self, AppError> {
        let assets = asset::Entity::find()
            .filter(asset::Column::OrgId.is_in(id_list.clone()))
            .all(db)
            .await?;
        let today = now.date();
        let services: Vec<supplier_service::Model> = supplier_service::Entity::find()
            .filter(supplier_service::Column::ClientId.is_in(id_list.clone()))
            .filter(supplier_service::Column::ValidFrom.lte(today))
            .all(db)
            .await?
            .into_iter()
            .filter(|s| s.valid_to.is_none_or(|to| to >= today))
            .collect();
        let mut supplier_ids: Vec<i64> = services
            .iter()
            .map(|s| s.supplier_id)
            .chain(assets.iter().filter_map(|a| a.supplier_id))
            .collect();
        supplier_ids.sort_unstable();
        supplier_ids.dedup();
        let supplier_names = organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(supplier_ids.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let roles = role::Entity::find().all(db).await?;
        let contact_role = roles
            .iter()
            .find(|r| r.key == "supplier_security_contact")
            .map_or(-1, |r| r.id);
        let supplier_contacts = assignment::Entity::find()
            .filter(assignment::Column::RoleId.eq(contact_role))
            .filter(assignment::Column::OrgId.is_in(supplier_ids))
            .filter(assignment::Column::StartsAt.lte(now))
            .all(db)
            .await?
            .into_iter()
            .filter(|a| a.ends_at.is_none_or(|end| end > now))
            .map(|a| a.org_id)
            .collect();
        let runbooks = runbook::Entity::find().all(db).await?;
        let role_names: HashMap<String, String> =
            roles.into_iter().map(|r| (r.key, r.name)).collect();
        let steps = runbook_step::Entity::find().all(db).await?;
        let incidents = incident::Entity::find()
            .filter(incident::Column::OrgId.is_in(id_list))
            .all(db)
            .await?;
        let incident_ids: Vec<i64> = incidents.iter().map(|i| i.id).collect();
        let reviews: HashMap<i64, review::Model> = review::Entity::find()
            .filter(review::Column::IncidentId.is_in(incident_ids.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.incident_id, r))
            .collect();
        // A real incident whose review records lessons stands in for a live exercise.
        let learned: HashSet<i64> = reviews
            .values()
            .filter(|r| !r.lessons.trim().is_empty())
            .map(|r| r.incident_id)
            .collect();
        let last = exercises::last_of(&incidents, &learned);
        let actions = review_action::Entity::find()
            .filter(review_action::Column::IncidentId.is_in(incident_ids))
            .all(db)
            .await?;
        Ok(Self {
            assets,
            runbooks,
            role_names,
            steps,
            incidents,
            last,
            services,
            supplier_names,
            supplier_contacts,
            reviews,
            actions,
        })
    }

    fn role_name(&self, key: &str) -> String {
        self.role_names
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_owned())
    }

    /// Suppliers `id` depends on, by a contract in force or a catalogued asset, and whether
    /// each has a named security incident contact.
    fn supplier_facts(&self, f: &mut Facts, id: i64) {
        let mut ids: Vec<i64> = self
            .services
            .iter()
            .filter(|s| s.client_id == id)
            .map(|s| s.supplier_id)
            .chain(
                self.assets
                    .iter()
                    .filter(|a| a.org_id == id)
                    .filter_map(|a| a.supplier_id),
            )
            .collect();
        ids.sort_unstable();
        ids.dedup();
        for s in ids {
            let name = self
                .supplier_names
                .get(&s)
                .cloned()
                .unwrap_or_else(|| format!("supplier {s}"));
            if !self.supplier_contacts.contains(&s) {
                f.suppliers_without_contact.push(name.clone());
            }
            f.suppliers.push(name);
        }
    }

    fn asset_facts(&self, f: &mut Facts, id: i64, today: time::Date) {
        for a in self.assets.iter().filter(|a| a.org_id == id) {
            f.assets += 1;
            if a.owner_id.is_none() {
                f.unowned.push(a.name.clone());
            }
            if support(a.end_of_support, today) == Support::Unsupported {
                f.unsupported.push(a.name.clone());
            }
        }
    }

    /// Runbooks in force along the chain, and whether each step reaches someone.
    fn runbook_facts(&self, f: &mut Facts, chain: &[i64], router: &Router) {
        for role in COMMAND_ROLES {
            let name = self.role_name(role);
            if router.route_in(chain, role, 0).0.is_none() {
                f.command_unreached.push(name.clone());
            }
            f.command_roles.push(name);
        }
        f.kinds = IncidentKind::ALL.len();
        for kind in IncidentKind::ALL {
            let in_force = chain.iter().map(Some).chain([None]).find_map(|owner| {
                self.runbooks
                    .iter()
                    .filter(|r| r.kind == kind.as_str() && r.org_id.as_ref() == owner)
                    .max_by_key(|r| r.version)
            });
            let Some(rb) = in_force else {
                f.kinds_without_runbook.push(kind.title().to_owned());
                continue;
            };
            let mut roles: Vec<&str> = self
                .steps
                .iter()
                .filter(|s| s.runbook_id == rb.id)
                .map(|s| s.owner_role.as_str())
                .collect();
            roles.sort_unstable();
            roles.dedup();
            for role in roles {
                if router.route_in(chain, role, 0).0.is_none() {
                    f.unrouted
                        .push(format!("{}: {}", kind.title(), self.role_name(role)));
                }
            }
        }
    }

    /// Exercises against their cadence, incidents finished and reviewed, and review actions.
    fn incident_facts(&self, f: &mut Facts, id: i64, now: OffsetDateTime) {
        let today = now.date();
        for row in exercises::cadence(id, &self.last, now) {
            if row.overdue {
                f.exercises_overdue.push(row.kind.label().to_owned());
            } else {
                f.exercises_in_cadence.push(row.kind.label().to_owned());
            }
        }
        for i in self.incidents.iter().filter(|i| i.org_id == id) {
            let finished = matches!(
                i.status,
                IncidentStatus::Recovered | IncidentStatus::Closed | IncidentStatus::StoodDown
            );
            if finished {
                f.finished += 1;
            }
            if let Some(r) = self.reviews.get(&i.id) {
                f.reviewed += 1;
                if !r.what_happened.trim().is_empty() {
                    f.analysed += 1;
                }
                if !r.lessons.trim().is_empty() {
                    f.lessons += 1;
                }
                if !finished {
                    // Reviewed before finishing still counts as learning from it.
                    f.finished += 1;
                }
            }
            for a in self.actions.iter().filter(|a| a.incident_id == i.id) {
                if a.closed_at.is_some() {
                    f.actions_closed += 1;
                } else {
                    f.actions_open += 1;
                    if a.due_on < today {
                        f.actions_overdue
                            .push(format!("{} ({})", a.title, i.reference));
                    }
                }
            }
        }
    }
}

/// Roles held at board level (A1.a).
const BOARD_ROLES: [&str; 3] = ["chief_executive", "board_cyber_lead", "siro"];

/// Command roles that must reach someone at any hour (D1.b), Gold first.
const COMMAND_ROLES: [&str; 2] = ["gold_on_call", "silver_on_call"];

/// The mandatory roles that are vacant, without a deputy or unconfirmed; and the board-level
/// roles (for a practice, its Caldicott Guardian) that are vacant or unconfirmed.
fn role_facts(f: &mut Facts, o: &crate::domain::accountability::ChartOrg) {
    let board = |keys: &[&str]| -> Vec<&crate::domain::accountability::ChartRow> {
        o.rows
            .iter()
            .filter(|r| keys.contains(&r.role_key.as_str()))
            .collect()
    };
    let mut rows = board(&BOARD_ROLES);
    if rows.is_empty() {
        // A practice has no board: its Caldicott Guardian is a GP partner.
        rows = board(&["caldicott_guardian"]);
    }
    if rows.is_empty() {
        // Nor has a region or a supplier: the roles it must have named stand for it.
        rows = o.rows.iter().filter(|r| r.mandatory).collect();
    }
    for r in rows {
        f.board_roles += 1;
        if r.gaps.contains(&GapKind::Vacant) {
            f.board_vacant.push(r.role_name.clone());
        } else if r.gaps.contains(&GapKind::Unconfirmed) {
            f.board_unconfirmed.push(r.role_name.clone());
        }
    }
    for r in o.rows.iter().filter(|r| r.mandatory) {
        f.mandatory_roles += 1;
        if r.gaps.contains(&GapKind::Vacant) {
            f.vacant.push(r.role_name.clone());
        }
        if r.gaps.contains(&GapKind::NoDeputy) || r.gaps.contains(&GapKind::DeputyIsHolder) {
            f.no_deputy.push(r.role_name.clone());
        }
        if r.gaps.contains(&GapKind::Unconfirmed) {
            f.unconfirmed.push(r.role_name.clone());
        }
    }
}

/// Each organisation counts itself and everything listed below it (the chart lists a
/// subtree depth-first, so "below" is the run of deeper entries that follows).
fn roll_up(out: &mut [OrgReadiness]) {
    for i in 0..out.len() {
        let depth = out[i].depth;
        let end = out[i + 1..]
            .iter()
            .position(|o| o.depth <= depth)
            .map_or(out.len(), |p| i + 1 + p);
        out[i].rollup = OUTCOMES
            .iter()
            .enumerate()
            .map(|(k, (id, _))| {
                let mut n = (0, 0, 0);
                for o in &out[i..end] {
                    match o.outcomes[k].status {
                        Status::Not => n.0 += 1,
                        Status::Partially => n.1 += 1,
                        Status::Achieved => n.2 += 1,
                    }
                }
                ((*id).to_owned(), n.0, n.1, n.2)
            })
            .collect();
    }
}

/// Readiness as CSV: one line per organisation and outcome, with status, reason and evidence.
pub fn to_csv(r: &Readiness) -> Result<String, AppError> {
    let mut sheet = super::csv::Sheet::new([
        "org_code",
        "org_name",
        "outcome",
        "title",
        "status",
        "reason",
        "evidence",
        "generated",
    ])?;
    for o in &r.orgs {
        for x in &o.outcomes {
            // Names and evidence come from imported files and people: never formulas.
            sheet.safe_row([
                o.code.as_str(),
                o.name.as_str(),
                x.id.as_str(),
                x.title.as_str(),
                x.status.label(),
                x.reason.as_str(),
                x.evidence.join(" | ").as_str(),
                r.generated_at.as_str(),
            ])?;
        }
    }
    sheet.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::caf::{OrgReadiness, Outcome, Readiness, Status};

    #[test]
    fn an_imported_name_or_evidence_never_reaches_a_spreadsheet_as_a_formula() {
        let r = Readiness {
            root_code: "X1".into(),
            root_name: "x".into(),
            generated_at: "2026-11-29 09:00".into(),
            orgs: vec![OrgReadiness {
                code: "X1".into(),
                name: "=1+2".into(),
                depth: 0,
                outcomes: vec![Outcome {
                    id: "A1".into(),
                    title: "Governance".into(),
                    status: Status::Achieved,
                    reason: "ok".into(),
                    evidence: vec!["+cmd|' /C calc'!A0".into()],
                }],
                rollup: vec![],
            }],
            page: 1,
            pages: 1,
            below_total: 0,
        };
        let csv = to_csv(&r).unwrap();
        assert!(
            csv.contains("X1,'=1+2,A1"),
            "the name is kept, defused: {csv}"
        );
        assert!(csv.contains(",'+cmd|' /C calc'!A0,"), "{csv}");
    }
}
