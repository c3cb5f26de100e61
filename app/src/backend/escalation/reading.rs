//! What the engine reads before deciding a chunk of due escalations, all outside the
//! deciding transaction: the policy in force and a router of role holders per organisation
//! (and per organisation a policy names), what each subject is called, the people a
//! decision may name, the channel webhooks. [`Read::decide`] hands one row of it to the pure
//! `domain::escalation::decide_with_rules`.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use time::OffsetDateTime;

use super::engine::Engine;
use super::policies::{Policy, policy_for};
use super::tracking::{COMMAND, TASK};
use crate::backend::entity::{
    escalation, external_contact, incident, incident_command, person, task, webhook,
};
use crate::backend::orgs;
use crate::backend::paging::{Channels, Known};
use crate::backend::routing::Router;
use crate::backend::transport::Delivery;
use crate::domain::escalation::{Contact, Decision, Reading, Target, decide_with_rules};
use crate::error::AppError;

/// Everything a chunk of decisions needs, read once.
pub(super) struct Read {
    policies: HashMap<i64, Policy>,
    /// Role holders from each organisation up.
    routers: HashMap<i64, Router>,
    /// Role holders at the organisations policies name by ODS code (None: no such code).
    fixed: HashMap<String, Option<Router>>,
    about: HashMap<(String, i64), About>,
    people: HashMap<i64, Person>,
    /// Each organisation's channel webhook that is switched on, by organisation.
    hooks: HashMap<i64, i64>,
    /// Each incident's organisation.
    incident_orgs: HashMap<i64, i64>,
    /// The external contacts (CSOC, on-call lines, security desks).
    contacts: Vec<Contact>,
    /// How each person a decision may name is paged: their rules, what reaches them.
    paging: Known,
}

/// What one subject is, for messages.
struct About {
    title: String,
    reference: String,
    /// A task's assignee: the person who must phone an external contact.
    assignee: Option<i64>,
}

#[derive(Debug, Clone)]
struct Person {
    id: i64,
    display_name: String,
    disabled: bool,
}

impl Read {
    /// Decides one due row from what was read.
    pub(super) fn decide(&self, e: &escalation::Model, delivery: &Delivery) -> Decision {
        let policy = &self.policies[&e.org_id];
        let about = self.about.get(&(e.subject.clone(), e.subject_id));
        let org = self
            .incident_orgs
            .get(&e.incident_id)
            .copied()
            .unwrap_or(e.org_id);
        let reading = Reading {
            level: e.level,
            round: e.round,
            levels: &policy.levels,
            repeat_count: policy.repeat_count,
            title: about.map(|a| a.title.as_str()).unwrap_or_default(),
            reference: about.map(|a| a.reference.as_str()).unwrap_or_default(),
            webhook: self.hooks.get(&org).copied(),
            email_on: delivery.email_enabled(),
            public_url: delivery.public_url(),
            contacts: &self.contacts,
            caller: about
                .and_then(|a| a.assignee)
                .and_then(|p| self.people.get(&p))
                .filter(|p| !p.disabled)
                .map(|p| (p.id, p.display_name.as_str())),
        };
        let channels = Channels {
            email: delivery.email_enabled(),
            sms: delivery.sms_enabled(),
            teams: true,
        };
        decide_with_rules(
            &reading,
            |t| self.reach(e.org_id, t),
            |p| self.paging.rules(p, channels),
        )
    }

    /// The incident reference of a row's subject.
    pub(super) fn reference(&self, e: &escalation::Model) -> String {
        self.about
            .get(&(e.subject.clone(), e.subject_id))
            .map(|a| a.reference.clone())
            .unwrap_or_default()
    }

    /// Whom a target reaches for a subject at `org_id`: (person, their name, or the route
    /// that found them).
    fn reach(&self, org_id: i64, t: &Target) -> Option<(i64, String)> {
        match t {
            Target::Person { id } => self
                .people
                .get(id)
                .filter(|p| !p.disabled)
                .map(|p| (p.id, p.display_name.clone())),
            // Not a person: the decision emails it and tells someone to phone it.
            Target::External { .. } => None,
            Target::Role { key, above, org } => {
                let (router, skip) = match org {
                    Some(code) => (self.fixed.get(code).and_then(|r| r.as_ref()), 0),
                    None => (self.routers.get(&org_id), usize::from(*above)),
                };
                router.and_then(|r| {
                    let (who, _, how) = r.route_from(key, skip);
                    who.map(|w| (w, how))
                })
            }
        }
    }
}

impl Engine {
    /// Reads everything deciding `rows` needs.
    pub(super) async fn read(
        &self,
        rows: &[escalation::Model],
        now: OffsetDateTime,
    ) -> Result<Read, AppError> {
        let mut policies: HashMap<i64, Policy> = HashMap::new();
        let mut routers: HashMap<i64, Router> = HashMap::new();
        let mut fixed: HashMap<String, Option<Router>> = HashMap::new();
        for e in rows {
            if let std::collections::hash_map::Entry::Vacant(v) = policies.entry(e.org_id) {
                v.insert(policy_for(&self.db, e.org_id).await?);
            }
            if let std::collections::hash_map::Entry::Vacant(v) = routers.entry(e.org_id) {
                v.insert(Router::load(&self.db, e.org_id, now).await?);
            }
            for l in &policies[&e.org_id].levels {
                for t in &l.targets {
                    if let Target::Role {
                        org: Some(code), ..
                    } = t
                        && !fixed.contains_key(code)
                    {
                        let r = match orgs::find_by_code(&self.db, code).await? {
                            Some(o) => Some(Router::load(&self.db, o.id, now).await?),
                            None => None,
                        };
                        fixed.insert(code.clone(), r);
                    }
                }
            }
        }
        let about = self.about(rows).await?;
        let mut wanted: HashSet<i64> = routers.values().flat_map(|r| r.people()).collect();
        wanted.extend(fixed.values().flatten().flat_map(|r| r.people()));
        for p in policies.values() {
            for l in &p.levels {
                for t in &l.targets {
                    if let Target::Person { id } = t {
                        wanted.insert(*id);
                    }
                }
            }
        }
        wanted.extend(about.values().filter_map(|a| a.assignee));
        let paging = Known::load(&self.db, &wanted).await?;
        let people = self.people(wanted).await?;
        let hooks: HashMap<i64, i64> = webhook::Entity::find()
            .filter(webhook::Column::Enabled.eq(true))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|w| (w.org_id, w.id))
            .collect();
        let incident_orgs: HashMap<i64, i64> = incident::Entity::find()
            .filter(
                incident::Column::Id.is_in(rows.iter().map(|e| e.incident_id).collect::<Vec<_>>()),
            )
            .all(&self.db)
            .await?
            .into_iter()
            .map(|i| (i.id, i.org_id))
            .collect();
        let contacts = external_contact::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(crate::backend::contacts_external::contact)
            .collect();
        Ok(Read {
            contacts,
            policies,
            routers,
            fixed,
            about,
            people,
            hooks,
            incident_orgs,
            paging,
        })
    }

    /// What each row's subject is called (an exercise's marked so), with its incident's
    /// reference.
    async fn about(
        &self,
        rows: &[escalation::Model],
    ) -> Result<HashMap<(String, i64), About>, AppError> {
        let refs: HashMap<i64, String> = incident::Entity::find()
            .filter(
                incident::Column::Id.is_in(rows.iter().map(|e| e.incident_id).collect::<Vec<_>>()),
            )
            .all(&self.db)
            .await?
            .into_iter()
            .map(|i| (i.id, i.reference))
            .collect();
        let drills: HashSet<i64> = incident::Entity::find()
            .filter(
                incident::Column::Id.is_in(rows.iter().map(|e| e.incident_id).collect::<Vec<_>>()),
            )
            .filter(incident::Column::Exercise.is_not_null())
            .all(&self.db)
            .await?
            .into_iter()
            .map(|i| i.id)
            .collect();
        // An exercise's messages say so, wherever they are read.
        let marked = |incident_id: i64, title: String| {
            if drills.contains(&incident_id) {
                format!("[EXERCISE] {title}")
            } else {
                title
            }
        };
        let mut out = HashMap::new();
        let task_ids: Vec<i64> = rows
            .iter()
            .filter(|e| e.subject == TASK)
            .map(|e| e.subject_id)
            .collect();
        for t in task::Entity::find()
            .filter(task::Column::Id.is_in(task_ids))
            .all(&self.db)
            .await?
        {
            out.insert(
                (TASK.to_owned(), t.id),
                About {
                    title: marked(t.incident_id, t.title),
                    reference: refs.get(&t.incident_id).cloned().unwrap_or_default(),
                    assignee: t.assignee_id,
                },
            );
        }
        let cmd_ids: Vec<i64> = rows
            .iter()
            .filter(|e| e.subject == COMMAND)
            .map(|e| e.subject_id)
            .collect();
        for c in incident_command::Entity::find()
            .filter(incident_command::Column::Id.is_in(cmd_ids))
            .all(&self.db)
            .await?
        {
            let label = crate::domain::incidents::Command::parse(&c.command)
                .map(|c| c.label())
                .unwrap_or("Command");
            out.insert(
                (COMMAND.to_owned(), c.id),
                About {
                    title: marked(c.incident_id, format!("{label} to acknowledge command")),
                    reference: refs.get(&c.incident_id).cloned().unwrap_or_default(),
                    assignee: None,
                },
            );
        }
        Ok(out)
    }

    /// The people a decision may name.
    async fn people(&self, ids: HashSet<i64>) -> Result<HashMap<i64, Person>, AppError> {
        let ids: Vec<i64> = ids.into_iter().collect();
        Ok(person::Entity::find()
            .filter(person::Column::Id.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| {
                (
                    p.id,
                    Person {
                        id: p.id,
                        display_name: p.display_name,
                        disabled: p.disabled,
                    },
                )
            })
            .collect())
    }
}
