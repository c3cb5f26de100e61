//! What a caller may reach (who is calling is `caller`'s): it denies by default, scopes reads to the organisations a person's grants cover (each grant reaches
//! the organisation and everything under it), and refuses changes from regulators.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entity::{org_link, organisation, person};
use crate::domain::auth::AccessRole;
use crate::error::AppError;

/// The signed-in person and their grants, resolved for this request.
#[derive(Debug, Clone)]
pub struct User {
    pub person_id: i64,
    pub name: String,
    pub email: String,
    pub grants: Vec<(i64, AccessRole)>,
    pub mfa_enabled: bool,
    /// This session passed a second factor (at sign-in, or by confirming enrolment).
    pub second_factor: bool,
}

impl User {
    pub fn is_national_admin(&self) -> bool {
        self.grants
            .iter()
            .any(|(_, r)| *r == AccessRole::NationalAdmin)
    }

    /// Holds a role that needs MFA, has no authenticator, and this session's second factor
    /// did not come from a trusted identity provider either.
    pub fn must_enrol_mfa(&self) -> bool {
        !self.mfa_enabled
            && !self.second_factor
            && self.grants.iter().any(|(_, r)| r.requires_mfa())
    }

    /// Holds a role that needs MFA but this session has not passed a second factor (not
    /// enrolled yet, or a session from before enrolment): only enrolment is open to it.
    pub fn needs_second_factor(&self) -> bool {
        self.must_enrol_mfa()
            || (!self.second_factor && self.grants.iter().any(|(_, r)| r.requires_mfa()))
    }

    /// Only regulators: they read, never write.
    pub fn is_read_only_user(&self) -> bool {
        only_reads(&self.grants)
    }
}

/// Whether these grants are a regulator's only: they read, never write.
pub fn only_reads(grants: &[(i64, AccessRole)]) -> bool {
    !grants.is_empty() && grants.iter().all(|(_, r)| *r == AccessRole::Regulator)
}

/// Every organisation at or under `roots`, following current links.
pub async fn subtree(db: &impl ConnectionTrait, roots: &[i64]) -> Result<HashSet<i64>, AppError> {
    let links = org_link::Entity::find()
        .filter(org_link::Column::ValidTo.is_null())
        .all(db)
        .await?;
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for l in &links {
        children.entry(l.parent_id).or_default().push(l.child_id);
    }
    let mut seen: HashSet<i64> = HashSet::new();
    let mut stack: Vec<i64> = roots.to_vec();
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            stack.extend(children.get(&id).into_iter().flatten());
        }
    }
    Ok(seen)
}

/// The organisations whose private records (people, incidents) the user may read, or
/// `None` for everywhere (national admins).
pub async fn readable_orgs(
    db: &impl ConnectionTrait,
    user: &User,
) -> Result<Option<HashSet<i64>>, AppError> {
    if user.is_national_admin() {
        return Ok(None);
    }
    let roots: Vec<i64> = user.grants.iter().map(|(o, _)| *o).collect();
    Ok(Some(subtree(db, &roots).await?))
}

/// The organisations the user administers (org admin grants and their subtrees), or `None`
/// for everywhere.
pub async fn administered_orgs(
    db: &impl ConnectionTrait,
    user: &User,
) -> Result<Option<HashSet<i64>>, AppError> {
    if user.is_national_admin() {
        return Ok(None);
    }
    let roots: Vec<i64> = user
        .grants
        .iter()
        .filter(|(_, r)| *r == AccessRole::OrgAdmin)
        .map(|(o, _)| *o)
        .collect();
    Ok(Some(subtree(db, &roots).await?))
}

/// Whether `org` is within a scope (`None` is everywhere).
pub fn within(scope: &Option<HashSet<i64>>, org: i64) -> bool {
    scope.as_ref().is_none_or(|s| s.contains(&org))
}

// ---------------------------------------------------------------------------------------
// Reach: the one check every write makes on each organisation, person or asset it names.
// Anything outside what the caller may act on at all is answered as if it did not exist
// (404), so a refusal says nothing about it; something they can act on but not in this way
// (a staff member editing a runbook) is refused (403), and so is a read-only caller's change.

/// What the caller means to do with what they name; each is reached through some of their
/// grants (and everywhere for a national admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Look at it: every grant reaches.
    Read,
    /// Work within it (declare, act on tasks): every grant but a regulator's.
    Act,
    /// Lead incidents there: lead and organisation admin grants.
    Lead,
    /// Keep its people, roles, runbooks, assets and policy: organisation admin grants.
    Administer,
}

impl Action {
    fn reached_by(self, role: AccessRole) -> bool {
        match self {
            Action::Read => true,
            Action::Act => role != AccessRole::Regulator,
            Action::Lead => matches!(role, AccessRole::Lead | AccessRole::OrgAdmin),
            Action::Administer => role == AccessRole::OrgAdmin,
        }
    }

    /// The action whose reach decides whether something exists for the caller at all.
    fn visibility(self) -> Action {
        match self {
            Action::Read => Action::Read,
            _ => Action::Act,
        }
    }
}

/// The organisations an action reaches: `None` is everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(Option<HashSet<i64>>);

impl Scope {
    pub fn contains(&self, org: i64) -> bool {
        within(&self.0, org)
    }

    /// Only what both reach.
    pub fn and(self, other: Scope) -> Scope {
        match (self.0, other.0) {
            (None, s) | (s, None) => Scope(s),
            (Some(a), Some(b)) => Scope(Some(a.intersection(&b).copied().collect())),
        }
    }

    /// The organisations, or `None` for everywhere.
    pub fn orgs(&self) -> Option<&HashSet<i64>> {
        self.0.as_ref()
    }
}

/// What a caller may see for an action, and what the action itself reaches.
struct Reach {
    seen: Scope,
    acting: Scope,
}

impl Reach {
    fn judge(&self, org: Option<i64>) -> Result<(), AppError> {
        match org {
            Some(o) if self.acting.contains(o) => Ok(()),
            Some(o) if self.seen.contains(o) => Err(AppError::Forbidden),
            _ => Err(AppError::NotFound),
        }
    }
}

/// The grants through which `user` may take `action`: `None` for a national admin, and
/// `Forbidden` when a read-only caller asks to change anything.
fn roots(user: &User, action: Action) -> Result<Option<Vec<i64>>, AppError> {
    if action != Action::Read && user.is_read_only_user() {
        return Err(AppError::Forbidden);
    }
    if user.is_national_admin() {
        return Ok(None);
    }
    Ok(Some(
        user.grants
            .iter()
            .filter(|(_, r)| action.reached_by(*r))
            .map(|(o, _)| *o)
            .collect(),
    ))
}

/// Parent to children over `links`.
fn children_of(links: &[org_link::Model]) -> HashMap<i64, Vec<i64>> {
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for l in links {
        children.entry(l.parent_id).or_default().push(l.child_id);
    }
    children
}

fn below(children: &HashMap<i64, Vec<i64>>, roots: &[i64]) -> HashSet<i64> {
    let mut seen: HashSet<i64> = HashSet::new();
    let mut stack: Vec<i64> = roots.to_vec();
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            stack.extend(children.get(&id).into_iter().flatten());
        }
    }
    seen
}

async fn current_children(db: &impl ConnectionTrait) -> Result<HashMap<i64, Vec<i64>>, AppError> {
    let links = org_link::Entity::find()
        .filter(org_link::Column::ValidTo.is_null())
        .all(db)
        .await?;
    Ok(children_of(&links))
}

async fn reach(db: &impl ConnectionTrait, user: &User, action: Action) -> Result<Reach, AppError> {
    let acting = roots(user, action)?;
    let seen = roots(user, action.visibility())?;
    if acting.is_none() {
        return Ok(Reach {
            seen: Scope(None),
            acting: Scope(None),
        });
    }
    let children = current_children(db).await?;
    let walk = |r: Option<Vec<i64>>| Scope(r.map(|r| below(&children, &r)));
    Ok(Reach {
        seen: walk(seen),
        acting: walk(acting),
    })
}

/// What `action` reaches for `user` over today's organisation tree.
pub async fn scope(
    db: &impl ConnectionTrait,
    user: &User,
    action: Action,
) -> Result<Scope, AppError> {
    Ok(reach(db, user, action).await?.acting)
}

/// What `action` reaches for `user` over the tree as it stood on `date` and over today's,
/// whichever is narrower: a past chart shows nothing the caller could not reach then, nor
/// anything they cannot reach now.
pub async fn scope_then_and_now(
    db: &impl ConnectionTrait,
    user: &User,
    action: Action,
    date: time::Date,
) -> Result<Scope, AppError> {
    let Some(roots) = roots(user, action)? else {
        return Ok(Scope(None));
    };
    // Where each organisation sat then; one whose recorded history starts later is taken to
    // have sat where that history starts (a missing record is not a move).
    let mut then_links: HashMap<i64, org_link::Model> = HashMap::new();
    for l in org_link::Entity::find().all(db).await? {
        let in_force = l.valid_from <= date && l.valid_to.is_none_or(|to| to > date);
        match then_links.get(&l.child_id) {
            Some(kept) if kept.valid_from <= date => {}
            Some(kept) if !in_force && kept.valid_from <= l.valid_from => {}
            _ if in_force || l.valid_from > date => {
                then_links.insert(l.child_id, l);
            }
            _ => {}
        }
    }
    let links: Vec<org_link::Model> = then_links.into_values().collect();
    let then = below(&children_of(&links), &roots);
    let now = below(&current_children(db).await?, &roots);
    Ok(Scope(Some(then)).and(Scope(Some(now))))
}

/// The organisation with this code, if `action` reaches it for `user`. Outside everything
/// the caller may act on it is `NotFound`; within it, but beyond this action's grants (or for
/// a read-only caller asking to change anything), `Forbidden`.
pub async fn org_in_reach(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: &str,
    action: Action,
) -> Result<organisation::Model, AppError> {
    let reach = reach(db, user, action).await?;
    let code = org_code.trim().to_ascii_uppercase();
    if code.is_empty() || code.len() > 32 {
        return Err(AppError::NotFound);
    }
    let org = organisation::Entity::find()
        .filter(organisation::Column::Code.eq(code))
        .one(db)
        .await?;
    reach.judge(org.as_ref().map(|o| o.id))?;
    org.ok_or(AppError::NotFound)
}

/// As [`org_in_reach`], by the organisation's id.
pub async fn org_id_in_reach(
    db: &impl ConnectionTrait,
    user: &User,
    org_id: i64,
    action: Action,
) -> Result<organisation::Model, AppError> {
    reach(db, user, action).await?.judge(Some(org_id))?;
    organisation::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

fn person_within(p: Option<person::Model>, reach: &Reach) -> Result<person::Model, AppError> {
    let p = p.filter(|p| !p.disabled);
    reach.judge(p.as_ref().and_then(|p| p.org_id))?;
    p.ok_or(AppError::NotFound)
}

/// The enabled person with this email, if their organisation is within what `action`
/// reaches for `user` (as [`org_in_reach`]). An unknown email, a disabled person and one
/// out of reach all answer `NotFound` alike, so the answer never says whether an address
/// exists.
pub async fn person_in_reach(
    db: &impl ConnectionTrait,
    user: &User,
    email: &str,
    action: Action,
) -> Result<person::Model, AppError> {
    let reach = reach(db, user, action).await?;
    person_within(person::find_by_email(db, email).await?, &reach)
}

/// As [`person_in_reach`], by the person's id.
pub async fn person_id_in_reach(
    db: &impl ConnectionTrait,
    user: &User,
    person_id: i64,
    action: Action,
) -> Result<person::Model, AppError> {
    let reach = reach(db, user, action).await?;
    person_within(person::Entity::find_by_id(person_id).one(db).await?, &reach)
}

/// The catalogued asset, if its organisation is within what `action` reaches for `user`
/// (as [`org_in_reach`]).
pub async fn asset_in_reach(
    db: &impl ConnectionTrait,
    user: &User,
    asset_id: i64,
    action: Action,
) -> Result<super::entity::asset::Model, AppError> {
    let reach = reach(db, user, action).await?;
    let a = super::entity::asset::Entity::find_by_id(asset_id)
        .one(db)
        .await?;
    reach.judge(a.as_ref().map(|a| a.org_id))?;
    a.ok_or(AppError::NotFound)
}

/// [`org_in_reach`]'s rule for a caller who already holds the organisation's chain (itself
/// first, then its ancestors): reached when a grant for `action` sits anywhere on it.
pub fn reaches_along(user: &User, chain: &[i64], action: Action) -> Result<(), AppError> {
    let on = |roots: Option<Vec<i64>>| roots.is_none_or(|r| chain.iter().any(|o| r.contains(o)));
    if on(roots(user, action)?) {
        Ok(())
    } else if on(roots(user, action.visibility())?) {
        Err(AppError::Forbidden)
    } else {
        Err(AppError::NotFound)
    }
}

/// For a request naming several things: if any is out of reach the whole answer is
/// `NotFound`, before any `Forbidden` another one earned, so refusals never tell what exists.
pub fn absent_first(checks: &[Option<&AppError>]) -> Result<(), AppError> {
    if checks.iter().flatten().any(|e| **e == AppError::NotFound) {
        return Err(AppError::NotFound);
    }
    Ok(())
}
