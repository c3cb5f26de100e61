//! Invitations: the only way in besides the first national admin. A link is random,
//! stored as a hash, works once and expires. Nobody sets another person's password.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use time::OffsetDateTime;

use super::access::{self, User};
use super::audit::{self, Event};
use super::entity::{access_grant, invite, person};
use super::state::AppState;
use super::{auth, orgs, passwords, tokens};
use crate::domain::auth::{AccessRole, Email};
use crate::error::AppError;

/// Creates an invitation and returns its link (to be sent to the person).
pub async fn create(
    state: &AppState,
    actor: &User,
    email: &str,
    name: &str,
    org_code: &str,
    role: AccessRole,
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
            detail: Some(role.as_str().to_owned()),
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

/// Accepts an invitation: sets the person's own password and grants the role. The token is
/// consumed by a conditional update, so two uses at once get one outcome.
pub async fn accept(state: &AppState, token: &str, password: String) -> Result<(), AppError> {
    let gone = || {
        AppError::Invalid(
            "This invitation link has expired or has already been used. Ask for a new one.".into(),
        )
    };
    let hash = tokens::digest(token);
    let inv = invite::Entity::find()
        .filter(invite::Column::TokenHash.eq(hash))
        .one(&state.db)
        .await?
        .ok_or_else(gone)?;
    let now = OffsetDateTime::now_utc();
    if inv.used_at.is_some() || inv.expires_at <= now {
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
    if claimed.rows_affected != 1 {
        return Err(gone());
    }
    let existing = person::Entity::find()
        .filter(person::Column::Email.eq(&inv.email))
        .one(&txn)
        .await?;
    let person_id = match existing {
        Some(p) => p.id,
        None => {
            person::ActiveModel {
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
            .id
        }
    };
    auth::set_password(&txn, person_id, &inv.email, password).await?;
    grant(&txn, person_id, inv.org_id, role).await?;
    audit::record(
        &txn,
        Event {
            actor: Some(person_id),
            action: "invite_accepted",
            org: Some(inv.org_id),
            subject: Some(inv.email.clone()),
            detail: Some(role.as_str().to_owned()),
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
