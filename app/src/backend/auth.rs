//! Signing in and out, second factors, passwords and sessions.

use std::net::IpAddr;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use time::OffsetDateTime;
use tower_sessions::Session;

use super::access::User;
use super::audit::{self, Event};
use super::caller::SIGNED_IN_AT_KEY;
use super::entity::{account, person};
use super::passwords::{self, Verified};
use super::sessions::{self, PERSON_KEY, SECOND_FACTOR_KEY};
use super::state::AppState;
use super::{mfa, tokens};
use crate::domain::auth::{Email, SessionView, SignInOutcome};
use crate::error::AppError;

const PENDING_KEY: &str = "pending_person_id";
const PENDING_AT_KEY: &str = "pending_at";
/// How long the second-factor step stays open after the password.
const PENDING_SECS: i64 = 5 * 60;

fn session_err(e: tower_sessions::session::Error) -> AppError {
    super::errors::internal("session store", &e)
}

fn failed() -> AppError {
    AppError::SignInFailed
}

/// Checks email and password. An unknown email, a wrong password and a disabled account all
/// get the same answer after the same work.
#[tracing::instrument(skip_all, err)]
pub async fn sign_in(
    state: &AppState,
    session: &Session,
    client: IpAddr,
    email: &str,
    password: String,
) -> Result<SignInOutcome, AppError> {
    state.limits.sign_in_allowed(email, client).await?;
    let email = Email::parse(email).ok();
    let found = match &email {
        Some(e) => {
            person::Entity::find()
                .filter(person::Column::Email.eq(e.as_str()))
                .one(&state.db)
                .await?
        }
        None => None,
    };
    // The same queries, the same hash and the same audit write whether or not the person
    // exists, so neither the answer nor its timing tells an attacker which emails are real.
    let acct = account::Entity::find_by_id(found.as_ref().map_or(-1, |p| p.id))
        .one(&state.db)
        .await?;
    let verdict = passwords::verify(
        password.clone(),
        acct.as_ref().and_then(|a| a.password_hash.clone()),
    )
    .await?;
    // An organisation that signs in only through its identity provider refuses passwords
    // (with the same answer as a wrong one).
    let password_allowed = match found.as_ref().and_then(|p| p.org_id) {
        Some(org) => super::entity::organisation::Entity::find_by_id(org)
            .one(&state.db)
            .await?
            .is_none_or(|o| o.password_sign_in),
        None => true,
    };
    let ok =
        verdict != Verified::No && password_allowed && found.as_ref().is_some_and(|p| !p.disabled);
    let (Some(person), Some(acct), true) = (found.clone(), acct, ok) else {
        let key = email.as_ref().map_or("", |e| e.as_str());
        state.limits.sign_in_failed(key, client).await;
        audit::record(
            &state.db,
            Event {
                actor: found.as_ref().map(|p| p.id),
                action: "sign_in_failed",
                client: Some(client.to_string()),
                outcome: Some(audit::FAILURE),
                ..Default::default()
            },
        )
        .await?;
        return Err(failed());
    };
    if verdict == Verified::YesRehash {
        let mut row: account::ActiveModel = acct.clone().into();
        row.password_hash = Set(Some(passwords::hash(password).await?));
        row.update(&state.db).await?;
    }
    forget_who_it_held(session).await?;
    if acct.totp_enabled_at.is_some() {
        return await_second_factor(session, person.id).await;
    }
    complete(state, session, person.id, client, None).await?;
    Ok(SignInOutcome::SignedIn)
}

/// The second step: a current TOTP code or an unused recovery code. Wrong codes are limited
/// per account (at most 100 an hour, wherever they come from) besides the sign-in limits,
/// and each one is audited, as is every use of a recovery code.
#[tracing::instrument(skip_all, err)]
pub async fn second_factor(
    state: &AppState,
    session: &Session,
    client: IpAddr,
    code: &str,
) -> Result<(), AppError> {
    let person_id = session.get::<i64>(PENDING_KEY).await.map_err(session_err)?;
    let at = session
        .get::<i64>(PENDING_AT_KEY)
        .await
        .map_err(session_err)?
        .unwrap_or(0);
    let Some(person_id) = person_id else {
        return Err(AppError::Unauthorized);
    };
    if OffsetDateTime::now_utc().unix_timestamp() - at > PENDING_SECS {
        session.flush().await.map_err(session_err)?;
        return Err(AppError::Invalid(
            "That took too long. Sign in again.".into(),
        ));
    }
    let key = format!("mfa:{person_id}");
    state.limits.sign_in_allowed(&key, client).await?;
    state.limits.second_factor_allowed(person_id).await?;
    let Some(factor) = mfa::check_code(&state.db, person_id, code).await? else {
        state.limits.sign_in_failed(&key, client).await;
        state.limits.second_factor_failed(person_id).await;
        audit::record(
            &state.db,
            Event {
                actor: Some(person_id),
                action: "second_factor_failed",
                client: Some(client.to_string()),
                outcome: Some(audit::FAILURE),
                ..Default::default()
            },
        )
        .await?;
        return Err(AppError::Invalid(
            "That code is not right. Try the newest code from your app.".into(),
        ));
    };
    if factor == mfa::Factor::RecoveryCode {
        audit::record(
            &state.db,
            Event {
                actor: Some(person_id),
                action: "recovery_code_used",
                client: Some(client.to_string()),
                detail: Some(format!(
                    "{} recovery codes left",
                    mfa::recovery_codes_left(&state.db, person_id).await?
                )),
                ..Default::default()
            },
        )
        .await?;
    }
    session
        .remove_value(PENDING_KEY)
        .await
        .map_err(session_err)?;
    session
        .remove_value(PENDING_AT_KEY)
        .await
        .map_err(session_err)?;
    session.cycle_id().await.map_err(session_err)?;
    complete(state, session, person_id, client, Some(factor)).await
}

/// A fresh id at every change of privilege (a planted session id is worthless), and
/// nothing of whoever this session held before (or their second factor) carried over to the
/// person signing in now.
async fn forget_who_it_held(session: &Session) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_err)?;
    for key in [PERSON_KEY, SECOND_FACTOR_KEY, sessions::PROVIDER_FACTOR_KEY] {
        session.remove_value(key).await.map_err(session_err)?;
    }
    Ok(())
}

/// Holds the sign-in of `person_id` until they give their second factor.
async fn await_second_factor(session: &Session, person_id: i64) -> Result<SignInOutcome, AppError> {
    session
        .insert(PENDING_KEY, person_id)
        .await
        .map_err(session_err)?;
    session
        .insert(PENDING_AT_KEY, OffsetDateTime::now_utc().unix_timestamp())
        .await
        .map_err(session_err)?;
    Ok(SignInOutcome::NeedsSecondFactor)
}

/// Signs `person_id` in after their identity provider vouched for them (single sign-on).
/// `second_factor` is whether the provider's own multi-factor check counts here; when it does
/// not and they have an authenticator, they are asked for its code as after a password.
pub async fn sign_in_vouched(
    state: &AppState,
    session: &Session,
    person_id: i64,
    client: IpAddr,
    second_factor: bool,
    provider: &str,
) -> Result<SignInOutcome, AppError> {
    forget_who_it_held(session).await?;
    let has_totp = account::Entity::find_by_id(person_id)
        .one(&state.db)
        .await?
        .is_some_and(|a| a.totp_enabled_at.is_some());
    if has_totp && !second_factor {
        return await_second_factor(session, person_id).await;
    }
    session
        .insert(PERSON_KEY, person_id)
        .await
        .map_err(session_err)?;
    session
        .insert(SECOND_FACTOR_KEY, second_factor)
        .await
        .map_err(session_err)?;
    session
        .insert(sessions::PROVIDER_FACTOR_KEY, second_factor)
        .await
        .map_err(session_err)?;
    session
        .insert(SIGNED_IN_AT_KEY, OffsetDateTime::now_utc().unix_timestamp())
        .await
        .map_err(session_err)?;
    session.save().await.map_err(session_err)?;
    audit::record(
        &state.db,
        Event {
            actor: Some(person_id),
            action: "sign_in",
            client: Some(client.to_string()),
            detail: Some(format!(
                "single sign-on with {provider}{}",
                if second_factor {
                    ", its multi-factor check trusted"
                } else {
                    ""
                }
            )),
            ..Default::default()
        },
    )
    .await?;
    Ok(SignInOutcome::SignedIn)
}

/// Signs the session in; `factor` is the second factor it passed, if any.
async fn complete(
    state: &AppState,
    session: &Session,
    person_id: i64,
    client: IpAddr,
    factor: Option<mfa::Factor>,
) -> Result<(), AppError> {
    session
        .insert(PERSON_KEY, person_id)
        .await
        .map_err(session_err)?;
    session
        .insert(SECOND_FACTOR_KEY, factor.is_some())
        .await
        .map_err(session_err)?;
    session
        .insert(SIGNED_IN_AT_KEY, OffsetDateTime::now_utc().unix_timestamp())
        .await
        .map_err(session_err)?;
    // Saved now so the row carries the person, for "sign out everywhere".
    session.save().await.map_err(session_err)?;
    if let Some(acct) = account::Entity::find_by_id(person_id)
        .one(&state.db)
        .await?
    {
        let mut row: account::ActiveModel = acct.into();
        row.last_sign_in_at = Set(Some(OffsetDateTime::now_utc()));
        row.update(&state.db).await?;
    }
    audit::record(
        &state.db,
        Event {
            actor: Some(person_id),
            action: "sign_in",
            client: Some(client.to_string()),
            detail: Some(
                match factor {
                    None => "password",
                    Some(mfa::Factor::Totp) => "password and authenticator code",
                    Some(mfa::Factor::RecoveryCode) => "password and recovery code",
                }
                .into(),
            ),
            ..Default::default()
        },
    )
    .await
}

/// Ends this session on the server: the old cookie no longer works.
pub async fn sign_out(state: &AppState, session: &Session) -> Result<(), AppError> {
    let person = session.get::<i64>(PERSON_KEY).await.map_err(session_err)?;
    session.flush().await.map_err(session_err)?;
    if let Some(person) = person {
        audit::record(
            &state.db,
            Event {
                actor: Some(person),
                action: "sign_out",
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// The key of the current session's row, if it has one.
pub fn current_key(session: &Session) -> Option<String> {
    session.id().map(|id| sessions::key_of(&id))
}

pub async fn list_sessions(
    state: &AppState,
    session: &Session,
    user: &User,
) -> Result<Vec<SessionView>, AppError> {
    let current = current_key(session);
    // On UK clocks, saying GMT or BST, as every page shows a moment.
    let fmt = crate::domain::dates::moment;
    Ok(sessions::of_person(&state.db, user.person_id)
        .await?
        .into_iter()
        .map(|s| SessionView {
            id_hint: s.id[..8].to_owned(),
            started: fmt(s.created_at),
            expires: fmt(s.expires_at),
            current: current.as_deref() == Some(s.id.as_str()),
        })
        .collect())
}

/// Ends every other session of the caller.
pub async fn sign_out_everywhere(
    state: &AppState,
    session: &Session,
    user: &User,
) -> Result<u64, AppError> {
    let ended =
        sessions::end_all(&state.db, user.person_id, current_key(session).as_deref()).await?;
    audit::record(
        &state.db,
        Event {
            actor: Some(user.person_id),
            action: "sign_out_everywhere",
            detail: Some(format!("{ended} sessions")),
            ..Default::default()
        },
    )
    .await?;
    Ok(ended)
}

/// Confirms the caller's MFA enrolment with a code from their app. This session passed that
/// factor, so it keeps admin powers; every other session of the person ends. Wrong codes
/// count against the same per-account limit as the second step of signing in, and are
/// audited.
pub async fn confirm_mfa(
    state: &AppState,
    session: &Session,
    user: &User,
    client: IpAddr,
    code: &str,
) -> Result<Vec<String>, AppError> {
    state.limits.second_factor_allowed(user.person_id).await?;
    session.cycle_id().await.map_err(session_err)?;
    session.save().await.map_err(session_err)?;
    let keep = current_key(session);
    let result = mfa::confirm(
        &state.db,
        user,
        code,
        keep.as_deref(),
        Some(client.to_string()),
    )
    .await;
    match &result {
        Ok(_) => {
            session
                .insert(SECOND_FACTOR_KEY, true)
                .await
                .map_err(session_err)?;
        }
        Err(AppError::Invalid(_)) => {
            state.limits.second_factor_failed(user.person_id).await;
            audit::record(
                &state.db,
                Event {
                    actor: Some(user.person_id),
                    action: "mfa_enrol_failed",
                    client: Some(client.to_string()),
                    outcome: Some(audit::FAILURE),
                    ..Default::default()
                },
            )
            .await?;
        }
        Err(_) => {}
    }
    result
}

/// Changes the caller's password after checking the current one; ends their other sessions.
pub async fn change_password(
    state: &AppState,
    session: &Session,
    user: &User,
    client: IpAddr,
    current: String,
    new: String,
) -> Result<(), AppError> {
    state
        .limits
        .action(user.person_id, "change_password")
        .await?;
    passwords::check_new(&new, &user.email)?;
    let acct = account::Entity::find_by_id(user.person_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    if passwords::verify(current, acct.password_hash.clone()).await? == Verified::No {
        return Err(AppError::Invalid(
            "Your current password is not right.".into(),
        ));
    }
    let hash = passwords::hash(new).await?;
    session.cycle_id().await.map_err(session_err)?;
    session.save().await.map_err(session_err)?;
    let keep = current_key(session);
    let txn = state.db.begin().await?;
    let mut row: account::ActiveModel = acct.into();
    row.password_hash = Set(Some(hash));
    row.password_changed_at = Set(Some(OffsetDateTime::now_utc()));
    row.update(&txn).await?;
    sessions::end_all(&txn, user.person_id, keep.as_deref()).await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "password_changed",
            client: Some(client.to_string()),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Sets a password for a person (first admin from the CLI, an accepted invitation, the demo).
pub async fn set_password(
    db: &impl ConnectionTrait,
    person_id: i64,
    email: &str,
    password: String,
) -> Result<(), AppError> {
    passwords::check_new(&password, email)?;
    let hash = passwords::hash(password).await?;
    let now = OffsetDateTime::now_utc();
    match account::Entity::find_by_id(person_id).one(db).await? {
        Some(acct) => {
            let mut row: account::ActiveModel = acct.into();
            row.password_hash = Set(Some(hash));
            row.password_changed_at = Set(Some(now));
            row.update(db).await?;
        }
        None => {
            account::ActiveModel {
                person_id: Set(person_id),
                password_hash: Set(Some(hash)),
                password_changed_at: Set(Some(now)),
                failed_attempts: Set(0),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Used by tests and the CLI: a fresh random password that passes the rules.
pub fn random_password() -> String {
    tokens::new_token()
}
