//! API tokens: made by a person for themselves or by an organisation admin for a service
//! account, scoped to organisations and to reading or writing, with an expiry. The secret
//! is shown once; only its SHA-256 is kept (256 random bits need no slow hash). A request
//! with a token acts as its holder with the token's scope, through the same services and
//! reach checks as the pages.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use time::{Duration, OffsetDateTime};

use crate::backend::access::{self, Action, User};
use crate::backend::entity::{access_grant, api_token, organisation, person, service_account};
use crate::backend::state::AppState;
use crate::backend::{audit, orgs, tokens};
use crate::domain::api::{
    DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, NewToken, ServiceAccountView, TOKEN_PREFIX, TokenView,
};
use crate::domain::auth::AccessRole;
use crate::error::AppError;

/// What a token may do, as asked for when it is made.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub name: String,
    /// Organisation codes; empty for every organisation the holder reaches.
    pub orgs: Vec<String>,
    pub write: bool,
    pub days: i64,
}

impl TokenRequest {
    /// From a form's fields: codes separated by commas or spaces, `read` or `write`, days.
    pub fn from_form(
        name: &str,
        orgs: &str,
        access: &str,
        days: Option<&str>,
    ) -> Result<TokenRequest, AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::Invalid(
                "Give the token a name of up to 100 characters, saying what uses it.".into(),
            ));
        }
        let write = match access {
            "read" => false,
            "write" => true,
            _ => {
                return Err(AppError::Invalid(
                    "Choose read only, or read and write.".into(),
                ));
            }
        };
        let days = match days.map(str::trim).filter(|d| !d.is_empty()) {
            None => DEFAULT_TOKEN_DAYS,
            Some(d) => d
                .parse::<i64>()
                .ok()
                .filter(|d| (1..=MAX_TOKEN_DAYS).contains(d))
                .ok_or_else(|| {
                    AppError::Invalid(format!("A token lasts from 1 to {MAX_TOKEN_DAYS} days."))
                })?,
        };
        let orgs: Vec<String> = orgs
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|c| !c.is_empty())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if orgs.len() > 50 {
            return Err(AppError::Invalid(
                "Scope a token to at most 50 organisations (or leave it empty for all yours)."
                    .into(),
            ));
        }
        Ok(TokenRequest {
            name: name.to_owned(),
            orgs,
            write,
            days,
        })
    }
}

/// One stored scope entry: the organisation, the holder's grant it came through, and the
/// role it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scoped {
    org: i64,
    via: i64,
    role: AccessRole,
}

fn encode_scope(scope: &[Scoped]) -> String {
    scope
        .iter()
        .map(|s| format!("{}:{}:{}", s.org, s.via, s.role.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

fn decode_scope(raw: &str) -> Vec<Scoped> {
    raw.split(',')
        .filter_map(|e| {
            let mut p = e.split(':');
            Some(Scoped {
                org: p.next()?.parse().ok()?,
                via: p.next()?.parse().ok()?,
                role: AccessRole::parse(p.next()?)?,
            })
        })
        .collect()
}

/// The grants a token carries now: every grant of its holder when unscoped; otherwise each
/// scoped organisation for as long as the holder still has the grant it came through.
fn grants_now(holder: &[(i64, AccessRole)], scope: &str) -> Vec<(i64, AccessRole)> {
    if scope.is_empty() {
        return holder.to_vec();
    }
    decode_scope(scope)
        .into_iter()
        .filter(|s| {
            holder.iter().any(|(o, r)| {
                *o == s.via
                    && (*r == s.role
                        || (*r == AccessRole::NationalAdmin && s.role == AccessRole::OrgAdmin))
            })
        })
        .map(|s| (s.org, s.role))
        .collect()
}

/// Works out a token's scope for `holder`: each organisation must be within their reach,
/// and carries the role of the grant that reaches it (a national admin's becomes an
/// organisation admin's, so a scoped token never reaches everywhere).
async fn scope_for(
    db: &impl ConnectionTrait,
    holder: &User,
    codes: &[String],
) -> Result<Vec<Scoped>, AppError> {
    let mut scope = Vec::new();
    for code in codes {
        let org = access::org_in_reach(db, holder, code, Action::Read)
            .await
            .map_err(|e| match e {
                AppError::NotFound | AppError::Forbidden => {
                    AppError::Invalid(format!("{code} is not an organisation you can reach."))
                }
                e => e,
            })?;
        let chain = orgs::chain(db, org.id).await?;
        let via = chain
            .iter()
            .find_map(|o| holder.grants.iter().find(|(g, _)| g == o).copied())
            .map(|(g, r)| {
                (
                    g,
                    if r == AccessRole::NationalAdmin {
                        AccessRole::OrgAdmin
                    } else {
                        r
                    },
                )
            })
            .or_else(|| {
                holder
                    .grants
                    .iter()
                    .find(|(_, r)| *r == AccessRole::NationalAdmin)
                    .map(|(g, _)| (*g, AccessRole::OrgAdmin))
            });
        let Some((via, role)) = via else {
            return Err(AppError::Invalid(format!(
                "{code} is not an organisation you can reach."
            )));
        };
        if !scope.iter().any(|s: &Scoped| s.org == org.id) {
            scope.push(Scoped {
                org: org.id,
                via,
                role,
            });
        }
    }
    Ok(scope)
}

/// Makes a token held by `holder`, made by `maker` (themselves, or an admin of the service
/// account's organisation). The secret is in the answer and nowhere else.
async fn make(
    db: &impl ConnectionTrait,
    holder: &User,
    maker: &User,
    request: &TokenRequest,
    client: Option<String>,
) -> Result<NewToken, AppError> {
    if request.write && holder.is_read_only_user() {
        return Err(AppError::Invalid(
            "A regulator's token reads only: choose read only.".into(),
        ));
    }
    let scope = scope_for(db, holder, &request.orgs).await?;
    let secret = format!("{TOKEN_PREFIX}{}", tokens::new_token());
    let prefix = tokens::shown_prefix(&secret, TOKEN_PREFIX);
    let now = OffsetDateTime::now_utc();
    let row = api_token::ActiveModel {
        person_id: Set(holder.person_id),
        name: Set(request.name.clone()),
        prefix: Set(prefix),
        secret_hash: Set(tokens::digest(&secret)),
        scope: Set(encode_scope(&scope)),
        can_write: Set(request.write),
        created_by: Set(Some(maker.person_id)),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(request.days)),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        audit::Event {
            actor: Some(maker.person_id),
            action: "api_token.create",
            subject: Some(format!("token {} ({})", row.id, row.prefix)),
            detail: Some(format!(
                "holder {}; {}; expires {}",
                holder.person_id,
                if row.can_write {
                    "read and write"
                } else {
                    "read only"
                },
                crate::domain::dates::moment(row.expires_at)
            )),
            client,
            ..Default::default()
        },
    )
    .await?;
    let codes = codes_of(db, std::slice::from_ref(&row)).await?;
    Ok(NewToken {
        secret,
        token: view(&row, &codes, now),
    })
}

async fn codes_of(
    db: &impl ConnectionTrait,
    rows: &[api_token::Model],
) -> Result<HashMap<i64, String>, AppError> {
    let ids: Vec<i64> = rows
        .iter()
        .flat_map(|r| decode_scope(&r.scope).into_iter().map(|s| s.org))
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.code))
        .collect())
}

fn view(row: &api_token::Model, codes: &HashMap<i64, String>, now: OffsetDateTime) -> TokenView {
    let scope = decode_scope(&row.scope);
    TokenView {
        id: row.id,
        name: row.name.clone(),
        prefix: row.prefix.clone(),
        scope: if scope.is_empty() {
            "Every organisation the holder reaches".into()
        } else {
            scope
                .iter()
                .filter_map(|s| codes.get(&s.org).cloned())
                .collect::<Vec<_>>()
                .join(", ")
        },
        can_write: row.can_write,
        created_at: crate::domain::dates::moment(row.created_at),
        expires_at: crate::domain::dates::moment(row.expires_at),
        last_used_at: row.last_used_at.map(crate::domain::dates::moment),
        ended: row.revoked_at.is_some() || row.expires_at <= now,
    }
}

async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<api_token::Model>,
) -> Result<Vec<TokenView>, AppError> {
    let codes = codes_of(db, &rows).await?;
    let now = OffsetDateTime::now_utc();
    Ok(rows.iter().map(|r| view(r, &codes, now)).collect())
}

async fn held_by(
    db: &impl ConnectionTrait,
    person_id: i64,
) -> Result<Vec<api_token::Model>, AppError> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::PersonId.eq(person_id))
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// The caller's own tokens, newest first.
pub async fn mine(db: &impl ConnectionTrait, user: &User) -> Result<Vec<TokenView>, AppError> {
    views(db, held_by(db, user.person_id).await?).await
}

/// Makes a personal token for the caller.
pub async fn create_mine(
    db: &impl ConnectionTrait,
    user: &User,
    request: &TokenRequest,
    client: Option<String>,
) -> Result<NewToken, AppError> {
    make(db, user, user, request, client).await
}

/// Revokes a token the caller holds, or one of a service account of an organisation they
/// administer. Anyone else's answers as not found.
pub async fn revoke(
    db: &impl ConnectionTrait,
    user: &User,
    token_id: i64,
    client: Option<String>,
) -> Result<(), AppError> {
    let row = api_token::Entity::find_by_id(token_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.person_id != user.person_id {
        let service = service_account::Entity::find_by_id(row.person_id)
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?;
        access::org_id_in_reach(db, user, service.org_id, Action::Administer).await?;
    }
    if row.revoked_at.is_none() {
        let mut active: api_token::ActiveModel = row.clone().into();
        active.revoked_at = Set(Some(OffsetDateTime::now_utc()));
        active.update(db).await?;
    }
    audit::record(
        db,
        audit::Event {
            actor: Some(user.person_id),
            action: "api_token.revoke",
            subject: Some(format!("token {} ({})", row.id, row.prefix)),
            client,
            ..Default::default()
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Service accounts.

/// A service account's email: unique, never a mailbox.
fn service_email(code: &str) -> String {
    format!(
        "service-{}@{}.service.wardline.invalid",
        &tokens::new_token()[..12].to_ascii_lowercase(),
        code.to_ascii_lowercase()
    )
}

/// Makes a person row for a system, owned by `org`, with one grant there. Used by service
/// accounts (a lead's grant: they read and act as a lead would) and alert sources (staff:
/// they declare).
pub(super) async fn new_service_person(
    db: &impl ConnectionTrait,
    org: &organisation::Model,
    name: &str,
    role: AccessRole,
    maker: Option<i64>,
) -> Result<person::Model, AppError> {
    let now = OffsetDateTime::now_utc();
    let p = person::ActiveModel {
        display_name: Set(name.to_owned()),
        email: Set(service_email(&org.code)),
        job_title: Set(Some("Service account".into())),
        org_id: Set(None),
        disabled: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    service_account::ActiveModel {
        person_id: Set(p.id),
        org_id: Set(org.id),
        created_by: Set(maker),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    access_grant::ActiveModel {
        person_id: Set(p.id),
        org_id: Set(org.id),
        role: Set(role.as_str().to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(p)
}

/// An organisation's service accounts with their tokens (alert sources' accounts are shown
/// with their keys instead). Organisation admins only.
pub async fn service_accounts(
    db: &impl ConnectionTrait,
    org: &organisation::Model,
) -> Result<Vec<ServiceAccountView>, AppError> {
    let alert_people: Vec<i64> = crate::backend::entity::integration_key::Entity::find()
        .filter(crate::backend::entity::integration_key::Column::OrgId.eq(org.id))
        .all(db)
        .await?
        .into_iter()
        .map(|k| k.person_id)
        .collect();
    let accounts = service_account::Entity::find()
        .filter(service_account::Column::OrgId.eq(org.id))
        .filter(service_account::Column::PersonId.is_not_in(alert_people))
        .order_by_asc(service_account::Column::PersonId)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for a in accounts {
        let Some(p) = person::Entity::find_by_id(a.person_id).one(db).await? else {
            continue;
        };
        out.push(ServiceAccountView {
            id: p.id,
            name: p.display_name,
            disabled: p.disabled,
            tokens: views(db, held_by(db, a.person_id).await?).await?,
        });
    }
    Ok(out)
}

/// Makes a service account for an organisation the caller administers.
pub async fn create_service_account(
    db: &sea_orm::DatabaseConnection,
    user: &User,
    org_code: &str,
    name: &str,
    client: Option<String>,
) -> Result<i64, AppError> {
    let org = access::org_in_reach(db, user, org_code, Action::Administer).await?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::Invalid(
            "Name the service account (up to 100 characters), saying what system uses it.".into(),
        ));
    }
    let txn = db.begin().await?;
    let p = new_service_person(&txn, &org, name, AccessRole::Lead, Some(user.person_id)).await?;
    audit::record(
        &txn,
        audit::Event {
            actor: Some(user.person_id),
            action: "service_account.create",
            org: Some(org.id),
            subject: Some(format!("service account {} ({name})", p.id)),
            client,
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(p.id)
}

/// The service account with this id, if it is one of an organisation the caller administers.
async fn service_in_reach(
    db: &impl ConnectionTrait,
    user: &User,
    id: i64,
) -> Result<(service_account::Model, person::Model), AppError> {
    let account = service_account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    access::org_id_in_reach(db, user, account.org_id, Action::Administer).await?;
    let p = person::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((account, p))
}

/// Makes a token for a service account of an organisation the caller administers.
pub async fn create_service_token(
    db: &impl ConnectionTrait,
    user: &User,
    service_id: i64,
    request: &TokenRequest,
    client: Option<String>,
) -> Result<NewToken, AppError> {
    let (_, p) = service_in_reach(db, user, service_id).await?;
    if p.disabled {
        return Err(AppError::Invalid(
            "That service account is disabled: it cannot be given a token.".into(),
        ));
    }
    let known = crate::backend::callers::read(db, p.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let holder = User {
        person_id: p.id,
        name: known.name.clone(),
        email: known.email.clone(),
        grants: known.grants.clone(),
        mfa_enabled: false,
        second_factor: true,
    };
    make(db, &holder, user, request, client).await
}

/// Disables a service account: its tokens stop at once (and the change is kept in its
/// status history, as a person's is).
pub async fn disable_service_account(
    db: &sea_orm::DatabaseConnection,
    user: &User,
    service_id: i64,
    client: Option<String>,
) -> Result<(), AppError> {
    let (account, _) = service_in_reach(db, user, service_id).await?;
    crate::backend::people::mark_disabled(db, Some(user.person_id), service_id, true).await?;
    audit::record(
        db,
        audit::Event {
            actor: Some(user.person_id),
            action: "service_account.disable",
            org: Some(account.org_id),
            subject: Some(format!("service account {service_id}")),
            client,
            ..Default::default()
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Using a token.

/// A request made with a token: who it acts as, and what the token allows.
#[derive(Debug, Clone)]
pub struct TokenCaller {
    pub user: User,
    pub token_id: i64,
    pub can_write: bool,
}

impl TokenCaller {
    /// The caller, if this token may change things (a read-only token, or a regulator's,
    /// may not).
    pub fn writer(&self) -> Result<&User, AppError> {
        if self.can_write && !self.user.is_read_only_user() {
            Ok(&self.user)
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// Who a bearer token acts as. An unknown, revoked or expired token, or one whose holder is
/// disabled, is `Unauthorized`; one whose holder has to enrol in two-step verification
/// first is `Forbidden`.
pub async fn authenticate(state: &AppState, bearer: &str) -> Result<TokenCaller, AppError> {
    if !bearer.starts_with(TOKEN_PREFIX) || bearer.len() > 100 {
        return Err(AppError::Unauthorized);
    }
    let row = api_token::Entity::find()
        .filter(api_token::Column::SecretHash.eq(tokens::digest(bearer)))
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let now = OffsetDateTime::now_utc();
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Err(AppError::Unauthorized);
    }
    let known = state
        .callers
        .known(&state.db, row.person_id)
        .await?
        .filter(|k| !k.disabled)
        .ok_or(AppError::Unauthorized)?;
    let grants = grants_now(&known.grants, &row.scope);
    // A role that needs two-step verification needs it set up still (a reset one stops the
    // holder's tokens until they enrol again).
    if !known.mfa_enabled && grants.iter().any(|(_, r)| r.requires_mfa()) {
        return Err(AppError::Forbidden);
    }
    let user = User {
        person_id: row.person_id,
        name: known.name.clone(),
        email: known.email.clone(),
        grants,
        mfa_enabled: known.mfa_enabled,
        // The token was made behind the holder's second factor.
        second_factor: true,
    };
    if user.grants.is_empty() {
        return Err(AppError::Forbidden);
    }
    if user.needs_second_factor() {
        return Err(AppError::Forbidden);
    }
    state.limits.token(row.id).await?;
    Ok(TokenCaller {
        user,
        token_id: row.id,
        can_write: row.can_write,
    })
}

/// Records one use of a token: when it was last used, and an audit entry saying what was
/// asked and how it ended.
pub async fn record_use(
    db: &impl ConnectionTrait,
    caller: &TokenCaller,
    request: &str,
    status: u16,
    client: Option<String>,
) -> Result<(), AppError> {
    let now = OffsetDateTime::now_utc();
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::LastUsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(api_token::Column::Id.eq(caller.token_id))
        .exec(db)
        .await?;
    audit::record(
        db,
        audit::Event {
            actor: Some(caller.user.person_id),
            action: "api_token.use",
            subject: Some(format!("token {}: {request}", caller.token_id)),
            detail: Some(format!("status {status}")),
            client,
            outcome: Some(match status {
                0..400 => audit::SUCCESS,
                400..500 => audit::REFUSED,
                _ => audit::ERROR,
            }),
            ..Default::default()
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_token_keeps_an_organisation_only_while_its_grant_lasts() {
        let scope = encode_scope(&[
            Scoped {
                org: 7,
                via: 3,
                role: AccessRole::Lead,
            },
            Scoped {
                org: 9,
                via: 1,
                role: AccessRole::OrgAdmin,
            },
        ]);
        let holder = vec![(3, AccessRole::Lead), (1, AccessRole::NationalAdmin)];
        assert_eq!(
            grants_now(&holder, &scope),
            vec![(7, AccessRole::Lead), (9, AccessRole::OrgAdmin)]
        );
        // The lead grant at 3 revoked, then changed to staff: organisation 7 goes.
        assert_eq!(
            grants_now(&[(1, AccessRole::NationalAdmin)], &scope),
            vec![(9, AccessRole::OrgAdmin)]
        );
        assert_eq!(
            grants_now(&[(3, AccessRole::Staff)], &scope),
            Vec::<(i64, AccessRole)>::new()
        );
        // Unscoped: whatever the holder has now.
        assert_eq!(grants_now(&holder, ""), holder);
    }

    #[test]
    fn a_token_request_is_checked_field_by_field() {
        let ok = TokenRequest::from_form(" Reporting ", "rj1, rjz", "read", None).unwrap();
        assert_eq!(ok.orgs, vec!["RJ1", "RJZ"]);
        assert!(!ok.write);
        assert_eq!(ok.days, DEFAULT_TOKEN_DAYS);
        assert!(TokenRequest::from_form("", "", "read", None).is_err());
        assert!(TokenRequest::from_form("x", "", "admin", None).is_err());
        assert!(TokenRequest::from_form("x", "", "write", Some("0")).is_err());
        assert!(TokenRequest::from_form("x", "", "write", Some("366")).is_err());
        assert_eq!(
            TokenRequest::from_form("x", "", "write", Some("30"))
                .unwrap()
                .days,
            30
        );
    }
}
