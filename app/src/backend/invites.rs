//! Invitations: the only way in besides the first national admin. A link is random,
//! stored as a hash, works once and expires. Nobody sets another person's password: a link
//! only ever creates a new account. An invitation naming the email of an existing person is
//! a grant request instead, which that person accepts or refuses on their account page while
//! signed in as themselves; the admin who made it sees the same answer either way.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use time::OffsetDateTime;
use tower_sessions::Session;

use super::access::{self, User};
use super::audit::{self, Event};
use super::entity::{access_grant, invite, organisation, person};
use super::state::AppState;
use super::{auth, orgs, passwords, sessions, tokens};
use crate::domain::auth::{AccessRole, Email, GrantRequestView};
use crate::error::AppError;

/// The one answer to a link that cannot be used, whatever the reason: expired, used, unknown,
/// or naming an account that already exists (which must be accepted while signed in).
fn gone() -> AppError {
    AppError::Invalid(
        "This invitation link has expired or has already been used. If you already have a \
         Wardline account, sign in and accept the invitation on your account page; otherwise \
         ask for a new link."
            .into(),
    )
}

/// Creates an invitation and returns its link (to be sent to the person). For an existing
/// person it is a grant request they answer on their account page; the answer here is the
/// same, so it does not tell the admin whether the email has an account.
pub async fn create(
    state: &AppState,
    actor: &User,
    email: &str,
    name: &str,
    org_code: &str,
    role: AccessRole,
    client: Option<String>,
) -> Result<String, AppError> {
    let email = Email::parse(email).map_err(AppError::Invalid)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::Invalid(
            "Enter the person's full name (up to 120 characters).".into(),
        ));
    }
    let org = orgs::find_by_code(&state.db, org_code)
        .await?
        .ok_or(AppError::NotFound)?;
    let scope = access::administered_orgs(&state.db, actor).await?;
    if !access::within(&scope, org.id) {
        // Outside the actor's reach: as if it did not exist.
        return Err(AppError::NotFound);
    }
    // Oversight and national roles are given nationally, never by an organisation's admin.
    if matches!(role, AccessRole::Regulator | AccessRole::NationalAdmin)
        && !actor.is_national_admin()
    {
        return Err(AppError::Forbidden);
    }
    let existing = person::Entity::find()
        .filter(person::Column::Email.eq(email.as_str()))
        .one(&state.db)
        .await?;
    let token = tokens::new_token();
    let now = OffsetDateTime::now_utc();
    let txn = state.db.begin().await?;
    invite::ActiveModel {
        token_hash: Set(tokens::digest(&token)),
        email: Set(email.as_str().to_owned()),
        display_name: Set(name.to_owned()),
        org_id: Set(org.id),
        role: Set(role.as_str().to_owned()),
        invited_by: Set(Some(actor.person_id)),
        created_at: Set(now),
        expires_at: Set(now + state.auth.invite_ttl),
        used_at: Set(None),
        refused_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Event {
            actor: Some(actor.person_id),
            action: "invite_created",
            org: Some(org.id),
            subject: Some(email.as_str().to_owned()),
            detail: Some(match existing {
                Some(_) => format!("{}; grant request to an existing account", role.as_str()),
                None => role.as_str().to_owned(),
            }),
            client,
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(format!(
        "{}/invite/{token}",
        state.auth.public_url.trim_end_matches('/')
    ))
}

/// Accepts the live invitation for `email` on the word of the person's identity provider
/// (single sign-on, which has verified the address): the account is made without a password
/// and the role granted, as accepting the link would. `None` when no live invitation is for
/// that address (or an account exists already: an invitation never touches one).
pub async fn accept_vouched(
    db: &sea_orm::DatabaseConnection,
    email: &str,
) -> Result<Option<person::Model>, AppError> {
    let now = OffsetDateTime::now_utc();
    // Compared here, not in SQL: stored moments compare as text on SQLite.
    let Some(inv) = invite::Entity::find()
        .filter(invite::Column::Email.eq(email))
        .filter(invite::Column::UsedAt.is_null())
        .filter(invite::Column::RefusedAt.is_null())
        .order_by_desc(invite::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .find(|i| i.expires_at > now)
    else {
        return Ok(None);
    };
    let Some(role) = AccessRole::parse(&inv.role) else {
        return Ok(None);
    };
    let txn = db.begin().await?;
    let claimed = invite::Entity::update_many()
        .col_expr(invite::Column::UsedAt, Expr::value(now))
        .filter(invite::Column::Id.eq(inv.id))
        .filter(invite::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 || has_account(&txn, &inv.email).await? {
        return Ok(None);
    }
    let person = person::ActiveModel {
        display_name: Set(inv.display_name.clone()),
        email: Set(inv.email.clone()),
        job_title: Set(None),
        org_id: Set(Some(inv.org_id)),
        disabled: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    grant(&txn, person.id, inv.org_id, role).await?;
    audit::record(
        &txn,
        Event {
            actor: Some(person.id),
            action: "invite_accepted",
            org: Some(inv.org_id),
            subject: Some(inv.email.clone()),
            detail: Some(format!("{}; through single sign-on", role.as_str())),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Some(person))
}

/// Accepts an invitation by its link: creates the person's account with their own password
/// and grants the role. A link never touches an existing account. The token is consumed by
/// a conditional update, so two uses at once get one outcome. Refusals are audited.
pub async fn accept(
    state: &AppState,
    token: &str,
    password: String,
    client: Option<String>,
) -> Result<(), AppError> {
    let refused = |inv: Option<&invite::Model>, why: &str| Event {
        actor: None,
        action: "invite_accepted",
        org: inv.map(|i| i.org_id),
        subject: inv.map(|i| i.email.clone()),
        detail: Some(why.to_owned()),
        client: client.clone(),
        outcome: Some(audit::REFUSED),
    };
    let hash = tokens::digest(token);
    let Some(inv) = invite::Entity::find()
        .filter(invite::Column::TokenHash.eq(hash))
        .one(&state.db)
        .await?
    else {
        audit::record(&state.db, refused(None, "unknown link")).await?;
        return Err(gone());
    };
    let now = OffsetDateTime::now_utc();
    if inv.used_at.is_some() || inv.expires_at <= now {
        audit::record(&state.db, refused(Some(&inv), "expired or used")).await?;
        return Err(gone());
    }
    if has_account(&state.db, &inv.email).await? {
        audit::record(
            &state.db,
            refused(
                Some(&inv),
                "existing account: the link never sets its password",
            ),
        )
        .await?;
        return Err(gone());
    }
    passwords::check_new(&password, &inv.email)?;
    let role = AccessRole::parse(&inv.role).ok_or_else(gone)?;
    let txn = state.db.begin().await?;
    let claimed = invite::Entity::update_many()
        .col_expr(invite::Column::UsedAt, Expr::value(now))
        .filter(invite::Column::Id.eq(inv.id))
        .filter(invite::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    // Checked again inside the transaction: an account made meanwhile is still never touched.
    if claimed.rows_affected != 1 || has_account(&txn, &inv.email).await? {
        return Err(gone());
    }
    let person_id = person::ActiveModel {
        display_name: Set(inv.display_name.clone()),
        email: Set(inv.email.clone()),
        job_title: Set(None),
        org_id: Set(Some(inv.org_id)),
        disabled: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?
    .id;
    auth::set_password(&txn, person_id, &inv.email, password).await?;
    grant(&txn, person_id, inv.org_id, role).await?;
    sessions::end_all(&txn, person_id, None).await?;
    audit::record(
        &txn,
        Event {
            actor: Some(person_id),
            action: "invite_accepted",
            org: Some(inv.org_id),
            subject: Some(inv.email.clone()),
            detail: Some(role.as_str().to_owned()),
            client: client.clone(),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn has_account(db: &impl sea_orm::ConnectionTrait, email: &str) -> Result<bool, AppError> {
    Ok(person::Entity::find()
        .filter(person::Column::Email.eq(email))
        .one(db)
        .await?
        .is_some())
}

/// The open grant requests (invitations naming the caller's email), oldest first.
pub async fn pending_for(
    db: &impl sea_orm::ConnectionTrait,
    user: &User,
) -> Result<Vec<GrantRequestView>, AppError> {
    let rows = invite::Entity::find()
        .filter(invite::Column::Email.eq(user.email.as_str()))
        .filter(invite::Column::UsedAt.is_null())
        .filter(invite::Column::ExpiresAt.gt(OffsetDateTime::now_utc()))
        .order_by_asc(invite::Column::CreatedAt)
        .all(db)
        .await?;
    let orgs: HashMap<i64, organisation::Model> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(rows.iter().map(|r| r.org_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let inviters: HashMap<i64, String> = person::Entity::find()
        .filter(person::Column::Id.is_in(rows.iter().filter_map(|r| r.invited_by)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect();
    // The day on UK clocks, as every date on the pages.
    let fmt = |t: OffsetDateTime| {
        crate::domain::rota::london_local(t)
            .format(time::macros::format_description!(
                "[day] [month repr:short] [year]"
            ))
            .unwrap_or_default()
    };
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let org = orgs.get(&r.org_id)?;
            Some(GrantRequestView {
                id: r.id,
                org_code: org.code.clone(),
                org_name: org.name.clone(),
                role: AccessRole::parse(&r.role)?,
                invited_by: r.invited_by.and_then(|i| inviters.get(&i).cloned()),
                expires: fmt(r.expires_at),
            })
        })
        .collect())
}

/// The signed-in person answers a grant request made to their email. Accepting grants the
/// role and, as a change of privilege, ends their other sessions; refusing closes it. Each
/// request is answered once (a conditional update).
pub async fn answer(
    state: &AppState,
    session: &Session,
    user: &User,
    id: i64,
    accept: bool,
    client: Option<String>,
) -> Result<(), AppError> {
    let inv = invite::Entity::find_by_id(id)
        .filter(invite::Column::Email.eq(user.email.as_str()))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let closed =
        || AppError::Conflict("This invitation has expired or was already answered.".into());
    let now = OffsetDateTime::now_utc();
    if inv.used_at.is_some() || inv.expires_at <= now {
        return Err(closed());
    }
    let role = AccessRole::parse(&inv.role).ok_or(AppError::NotFound)?;
    let keep = if accept {
        session
            .cycle_id()
            .await
            .map_err(|e| super::errors::internal("session store", &e))?;
        session
            .save()
            .await
            .map_err(|e| super::errors::internal("session store", &e))?;
        auth::current_key(session)
    } else {
        None
    };
    let txn = state.db.begin().await?;
    let mut claim = invite::Entity::update_many()
        .col_expr(invite::Column::UsedAt, Expr::value(now))
        .filter(invite::Column::Id.eq(inv.id))
        .filter(invite::Column::UsedAt.is_null());
    if !accept {
        claim = claim.col_expr(invite::Column::RefusedAt, Expr::value(now));
    }
    if claim.exec(&txn).await?.rows_affected != 1 {
        return Err(closed());
    }
    let mut detail = role.as_str().to_owned();
    if accept {
        grant(&txn, user.person_id, inv.org_id, role).await?;
        let ended = sessions::end_all(&txn, user.person_id, keep.as_deref()).await?;
        detail = format!("{detail}; {ended} other sessions ended");
    }
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: if accept {
                "grant_request_accepted"
            } else {
                "grant_request_refused"
            },
            org: Some(inv.org_id),
            subject: Some(inv.email.clone()),
            detail: Some(detail),
            client,
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Gives a person a role over an organisation; an existing identical grant is kept.
pub async fn grant(
    db: &impl sea_orm::ConnectionTrait,
    person_id: i64,
    org_id: i64,
    role: AccessRole,
) -> Result<(), AppError> {
    let exists = access_grant::Entity::find()
        .filter(access_grant::Column::PersonId.eq(person_id))
        .filter(access_grant::Column::OrgId.eq(org_id))
        .filter(access_grant::Column::Role.eq(role.as_str()))
        .one(db)
        .await?
        .is_some();
    if !exists {
        access_grant::ActiveModel {
            person_id: Set(person_id),
            org_id: Set(org_id),
            role: Set(role.as_str().to_owned()),
            created_at: Set(OffsetDateTime::now_utc()),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}
