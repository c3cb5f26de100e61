//! Escalation policies: the national default, an organisation's own path (edited by its
//! admins), the policy in force along the tree, and how a policy reads as a path.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::backend::entity::{escalation_level, escalation_policy, person, webhook};
use crate::backend::routing::Router;
use crate::backend::{orgs, timeline};
use crate::domain::channel_post::ChannelFormat;
use crate::domain::escalation::{LevelInput, LevelSpec, Target, WebhookView};
use crate::error::AppError;

/// A policy in force: its levels, its repeats, and whose it is (None: national).
#[derive(Debug, Clone)]
pub struct Policy {
    pub owner: Option<i64>,
    pub repeat_count: i32,
    pub levels: Vec<LevelSpec>,
}

/// Adds the national default policy if there is none (and the CSOC contact its last level
/// names).
pub async fn seed_policy(db: &impl ConnectionTrait) -> Result<bool, AppError> {
    crate::backend::contacts_external::seed(db).await?;
    if escalation_policy::Entity::find()
        .filter(escalation_policy::Column::OrgId.is_null())
        .one(db)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let (repeat, levels) = crate::domain::escalation::national_default();
    save_policy(db, None, repeat, &levels, None).await?;
    Ok(true)
}

/// Replaces an organisation's own policy (None: the national default).
pub async fn save_policy(
    db: &impl ConnectionTrait,
    org_id: Option<i64>,
    repeat_count: i32,
    levels: &[LevelSpec],
    by: Option<i64>,
) -> Result<(), AppError> {
    let now = timeline::now();
    let existing = escalation_policy::Entity::find()
        .filter(match org_id {
            Some(id) => escalation_policy::Column::OrgId.eq(id),
            None => escalation_policy::Column::OrgId.is_null(),
        })
        .one(db)
        .await?;
    let policy = match existing {
        Some(p) => {
            escalation_level::Entity::delete_many()
                .filter(escalation_level::Column::PolicyId.eq(p.id))
                .exec(db)
                .await?;
            let mut m: escalation_policy::ActiveModel = p.into();
            m.repeat_count = Set(repeat_count);
            m.updated_at = Set(now);
            m.updated_by = Set(by);
            m.update(db).await?
        }
        None => {
            escalation_policy::ActiveModel {
                org_id: Set(org_id),
                repeat_count: Set(repeat_count),
                updated_at: Set(now),
                updated_by: Set(by),
                ..Default::default()
            }
            .insert(db)
            .await?
        }
    };
    for (i, l) in levels.iter().enumerate() {
        escalation_level::ActiveModel {
            policy_id: Set(policy.id),
            position: Set(i as i32 + 1),
            timeout_seconds: Set(l.timeout_seconds),
            targets: Set(serde_json::to_string(&l.targets)
                .map_err(|e| crate::backend::errors::internal("targets", &e))?),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The policy in force for an organisation: its own, else the nearest ancestor's, else the
/// national default.
pub async fn policy_for(db: &impl ConnectionTrait, org_id: i64) -> Result<Policy, AppError> {
    let chain = orgs::chain(db, org_id).await?;
    policy_along(db, &chain).await
}

/// As [`policy_for`], for a chain already read (the organisation first).
pub async fn policy_along(db: &impl ConnectionTrait, chain: &[i64]) -> Result<Policy, AppError> {
    let policies = escalation_policy::Entity::find()
        .filter(
            Condition::any()
                .add(escalation_policy::Column::OrgId.is_in(chain.to_vec()))
                .add(escalation_policy::Column::OrgId.is_null()),
        )
        .all(db)
        .await?;
    let chosen = chain
        .iter()
        .find_map(|o| policies.iter().find(|p| p.org_id == Some(*o)))
        .or_else(|| policies.iter().find(|p| p.org_id.is_none()));
    let Some(p) = chosen else {
        let (repeat_count, levels) = crate::domain::escalation::national_default();
        return Ok(Policy {
            owner: None,
            repeat_count,
            levels,
        });
    };
    let levels = escalation_level::Entity::find()
        .filter(escalation_level::Column::PolicyId.eq(p.id))
        .order_by_asc(escalation_level::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|l| LevelSpec {
            timeout_seconds: l.timeout_seconds,
            targets: serde_json::from_str(&l.targets).unwrap_or_default(),
        })
        .collect();
    Ok(Policy {
        owner: p.org_id,
        repeat_count: p.repeat_count,
        levels,
    })
}

/// Checks edited levels; rows with no role are blank and skipped.
pub fn levels_from(input: &[LevelInput], role_keys: &[String]) -> Result<Vec<LevelSpec>, String> {
    let mut out = Vec::new();
    for (i, l) in input.iter().enumerate() {
        let n = i + 1;
        if l.remove.is_some() || (l.role.trim().is_empty() && l.person_email.trim().is_empty()) {
            continue;
        }
        let minutes: i32 = l.timeout_minutes.trim().parse().map_err(|_| {
            format!("Level {n}: give the minutes to acknowledge as a whole number.")
        })?;
        if !(1..=24 * 60).contains(&minutes) {
            return Err(format!("Level {n}: allow between 1 minute and 24 hours."));
        }
        let key = l.role.trim();
        if key.is_empty() {
            // A named person only: filled in by the caller, who can look people up.
            out.push(LevelSpec {
                timeout_seconds: minutes * 60,
                targets: Vec::new(),
            });
            continue;
        }
        if !role_keys.iter().any(|k| k == key) {
            return Err(format!("Level {n}: choose a role from the catalogue."));
        }
        let scope = l.scope.trim();
        let target = match scope {
            "" | "here" => Target::Role {
                key: key.into(),
                above: false,
                org: None,
            },
            "above" => Target::Role {
                key: key.into(),
                above: true,
                org: None,
            },
            code => Target::Role {
                key: key.into(),
                above: false,
                org: Some(code.to_ascii_uppercase()),
            },
        };
        out.push(LevelSpec {
            timeout_seconds: minutes * 60,
            targets: vec![target],
        });
    }
    if out.is_empty() {
        return Err("An escalation path needs at least one level.".into());
    }
    if out.len() > 10 {
        return Err("Keep an escalation path to 10 levels.".into());
    }
    Ok(out)
}

/// A policy as its page shows it, for an organisation the caller can see, read as a path.
pub async fn policy_view(
    db: &impl ConnectionTrait,
    user: &crate::backend::access::User,
    org_code: &str,
) -> Result<crate::domain::escalation::PolicyView, AppError> {
    use crate::backend::access;
    use crate::backend::entity::role;
    use crate::domain::escalation::PolicyView;
    let org = orgs::find_by_code(db, org_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access::within(&access::readable_orgs(db, user).await?, org.id) {
        return Err(AppError::NotFound);
    }
    let policy = policy_for(db, org.id).await?;
    let now = timeline::now();
    let router = Router::load(db, org.id, now).await?;
    let roles: HashMap<String, String> = role::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.key, r.name))
        .collect();
    let mut path = vec![org.name.clone()];
    let mut levels = Vec::new();
    for l in &policy.levels {
        let (level, stop) = level_view(db, &router, &roles, l, now).await?;
        path.push(stop.unwrap_or_else(|| "(nobody)".into()));
        levels.push(level);
    }
    path.dedup();
    let source = match policy.owner {
        Some(id) if id == org.id => "This organisation's own policy".to_owned(),
        Some(id) => format!("Inherited from {}", org_name(db, id).await?),
        None => "The national default".to_owned(),
    };
    let editable = !user.is_read_only_user()
        && access::within(&access::administered_orgs(db, user).await?, org.id);
    let hook = if editable {
        webhook::Entity::find()
            .filter(webhook::Column::OrgId.eq(org.id))
            .one(db)
            .await?
            .map(|w| {
                use secrecy::ExposeSecret;
                crate::backend::secrets::open(&w.secret).map(|s| WebhookView {
                    url: w.url,
                    secret: s.expose_secret().to_owned(),
                    enabled: w.enabled,
                    format: ChannelFormat::parse(&w.format).unwrap_or_default(),
                })
            })
            .transpose()?
    } else {
        None
    };
    Ok(PolicyView {
        webhook: hook,
        org_code: org.code,
        org_name: org.name,
        source,
        own: policy.owner == Some(org.id),
        repeat_count: policy.repeat_count,
        levels,
        path: format!("{} → then flagged for national attention", path.join(" → ")),
        editable,
    })
}

/// One level in words, with whom each target reaches now, and where the level stops on the
/// path (the first person named, else the first organisation reached).
async fn level_view(
    db: &impl ConnectionTrait,
    router: &Router,
    roles: &HashMap<String, String>,
    l: &LevelSpec,
    now: time::OffsetDateTime,
) -> Result<(crate::domain::escalation::LevelView, Option<String>), AppError> {
    let mut targets = Vec::new();
    let mut stop: Option<String> = None;
    let mut person_email: Option<String> = None;
    for t in &l.targets {
        match t {
            Target::Person { id } => {
                let n = person_name(db, *id).await?;
                if person_email.is_none() {
                    person_email = person::Entity::find_by_id(*id)
                        .one(db)
                        .await?
                        .map(|p| p.email);
                }
                stop.get_or_insert(n.clone());
                targets.push((n.clone(), n));
            }
            Target::Role {
                key,
                above,
                org: fixed,
            } => {
                let role_name = roles.get(key).cloned().unwrap_or_else(|| key.clone());
                let (who, at, _) = match fixed {
                    Some(code) => match orgs::find_by_code(db, code).await? {
                        Some(o) => Router::load(db, o.id, now).await?.route(key),
                        None => (None, None, String::new()),
                    },
                    None => router.route_from(key, usize::from(*above)),
                };
                let label = match fixed {
                    Some(code) => format!("{role_name} at {code}"),
                    None if *above => format!("{role_name}, nearest above"),
                    None => format!("{role_name}, here or nearest above"),
                };
                let reached = match (who, at) {
                    (Some(p), Some(o)) => {
                        let on = org_name(db, o).await?;
                        stop.get_or_insert(on.clone());
                        format!("{} at {on}", person_name(db, p).await?)
                    }
                    _ => "nobody holds it: a gap in the path".into(),
                };
                targets.push((label, reached));
            }
            Target::External { key } => {
                let c = crate::backend::contacts_external::by_key(db, key).await?;
                let (label, reached) = match c {
                    Some(c) => {
                        stop.get_or_insert(c.name.clone());
                        let email = if c.email.is_empty() {
                            "no email address set".to_owned()
                        } else {
                            format!("email {}", c.email)
                        };
                        (
                            format!("{} (external contact)", c.name),
                            format!("phone {}; {email}", c.phone),
                        )
                    }
                    None => (
                        format!("External contact {key}"),
                        "no such contact: a gap in the path".into(),
                    ),
                };
                targets.push((label, reached));
            }
        }
    }
    let view = crate::domain::escalation::LevelView {
        timeout_minutes: l.timeout_seconds / 60,
        targets,
        specs: l.targets.clone(),
        person_email,
    };
    Ok((view, stop))
}

async fn org_name(db: &impl ConnectionTrait, id: i64) -> Result<String, AppError> {
    use crate::backend::entity::organisation;
    Ok(organisation::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|o| o.name)
        .unwrap_or_default())
}

async fn person_name(db: &impl ConnectionTrait, id: i64) -> Result<String, AppError> {
    Ok(person::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|p| p.display_name)
        .unwrap_or_default())
}

/// Saves an organisation's own policy; its admins only.
pub async fn save_policy_for(
    db: &DatabaseConnection,
    user: &crate::backend::access::User,
    org_code: &str,
    repeat_count: &str,
    input: &[LevelInput],
) -> Result<(), AppError> {
    use crate::backend::access::{self, Action};
    use crate::backend::entity::role;
    let org = org_to_edit(db, user, org_code, input).await?;
    let repeat: i32 = repeat_count
        .trim()
        .parse()
        .ok()
        .filter(|r| (0..=5).contains(r))
        .ok_or_else(|| AppError::Invalid("Repeat the path between 0 and 5 times.".into()))?;
    let keys: Vec<String> = role::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.key)
        .collect();
    let mut levels = levels_from(input, &keys).map_err(AppError::Invalid)?;
    // Named people, by email, added to their level.
    let kept: Vec<&LevelInput> = input
        .iter()
        .filter(|l| {
            l.remove.is_none() && !(l.role.trim().is_empty() && l.person_email.trim().is_empty())
        })
        .collect();
    for (level, l) in levels.iter_mut().zip(kept) {
        let email = l.person_email.trim();
        if email.is_empty() {
            continue;
        }
        let p = access::person_in_reach(db, user, email, Action::Administer).await?;
        level.targets.push(Target::Person { id: p.id });
    }
    for l in &levels {
        for t in &l.targets {
            if let Target::Role {
                org: Some(code), ..
            } = t
            {
                access::org_in_reach(db, user, code, Action::Administer).await?;
            }
        }
    }
    let txn = db.begin().await?;
    save_policy(&txn, Some(org.id), repeat, &levels, Some(user.person_id)).await?;
    crate::backend::audit::record(
        &txn,
        crate::backend::audit::Event {
            actor: Some(user.person_id),
            action: "escalation_policy_saved",
            org: Some(org.id),
            subject: Some(org.code.clone()),
            detail: Some(format!("{} levels, {repeat} repeats", levels.len())),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The organisation whose policy an admin edits, once everyone and everywhere the levels
/// name is checked: one out of reach answers as absent whatever else is wrong.
async fn org_to_edit(
    db: &DatabaseConnection,
    user: &crate::backend::access::User,
    org_code: &str,
    input: &[LevelInput],
) -> Result<crate::backend::entity::organisation::Model, AppError> {
    use crate::backend::access::{self, Action};
    // Everyone and everywhere the levels name is checked first, so one out of reach answers
    // as absent whatever else is wrong with the request.
    let mut refused = Vec::new();
    for l in input.iter().filter(|l| l.remove.is_none()) {
        if !l.person_email.trim().is_empty() {
            let p = access::person_in_reach(db, user, &l.person_email, Action::Administer).await;
            refused.extend(p.err());
        }
        let scope = l.scope.trim();
        if !l.role.trim().is_empty() && !matches!(scope, "" | "here" | "above") {
            let o = access::org_in_reach(db, user, scope, Action::Administer).await;
            refused.extend(o.err());
        }
    }
    let org = access::org_in_reach(db, user, org_code, Action::Administer).await;
    let mut checks: Vec<Option<&AppError>> = refused.iter().map(Some).collect();
    checks.push(org.as_ref().err());
    access::absent_first(&checks)?;
    if let Some(err) = refused.into_iter().next() {
        return Err(err);
    }
    org
}
