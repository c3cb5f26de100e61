//! Two-step verification: TOTP (RFC 6238) with one-time recovery codes. A code is accepted
//! once: the step it matched is stored and only a later step is accepted after it.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use secrecy::ExposeSecret;
use time::OffsetDateTime;
use totp_rs::{Builder, Secret, Totp};

use super::access::User;
use super::audit::{self, Event};
use super::entity::{account, person, recovery_code};
use super::{sessions, tokens};
use crate::domain::auth::MfaEnrolment;
use crate::error::AppError;

const ISSUER: &str = "Wardline";
const RECOVERY_CODES: usize = 10;

fn totp(secret_b32: &str, account_name: &str) -> Result<Totp, AppError> {
    let secret = Secret::try_from_base32(secret_b32)
        .map_err(|e| super::errors::internal("totp secret", &e))?;
    Builder::new()
        .with_secret(secret)
        .with_skew(1)
        .with_account_name(account_name.replace(':', ""))
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| super::errors::internal("totp", &e))
}

/// Starts enrolment: a new secret, kept unconfirmed until a code from it is entered.
pub async fn begin(db: &impl ConnectionTrait, user: &User) -> Result<MfaEnrolment, AppError> {
    let acct = account::Entity::find_by_id(user.person_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if acct.totp_enabled_at.is_some() {
        return Err(AppError::Conflict(
            "Two-step verification is already set up.".into(),
        ));
    }
    let secret = Secret::generate().to_base32();
    let enrolment = enrolment(secret, &user.email)?;
    let mut row: account::ActiveModel = acct.into();
    row.totp_secret = Set(Some(super::secrets::seal(&enrolment.secret)?));
    row.totp_last_step = Set(None);
    row.update(db).await?;
    Ok(enrolment)
}

/// The enrolment started and not yet confirmed, if any: the page shows it again (after a
/// wrong code, or on coming back) until a code from it is entered.
pub async fn pending(
    db: &impl ConnectionTrait,
    user: &User,
) -> Result<Option<MfaEnrolment>, AppError> {
    let Some(acct) = account::Entity::find_by_id(user.person_id).one(db).await? else {
        return Ok(None);
    };
    match (acct.totp_enabled_at, acct.totp_secret) {
        (None, Some(sealed)) => {
            let secret = super::secrets::open(&sealed)?;
            Ok(Some(enrolment(
                secret.expose_secret().to_owned(),
                &user.email,
            )?))
        }
        _ => Ok(None),
    }
}

/// What an authenticator app needs: the key, its `otpauth:` address and that as a QR code.
fn enrolment(secret: String, email: &str) -> Result<MfaEnrolment, AppError> {
    let t = totp(&secret, email)?;
    let url = t
        .to_url()
        .map_err(|e| super::errors::internal("totp url", &e))?;
    let qr = qrcode::QrCode::new(url.as_bytes()).map_err(|e| super::errors::internal("qr", &e))?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(MfaEnrolment {
        secret,
        otpauth_url: url,
        qr_svg,
    })
}

/// Which second factor a code turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Totp,
    RecoveryCode,
}

/// Confirms enrolment with a code; returns the recovery codes, shown once. Every session of
/// the person except `keep` (the enrolling one) ends: none of them passed this factor.
pub async fn confirm(
    db: &sea_orm::DatabaseConnection,
    user: &User,
    code: &str,
    keep: Option<&str>,
    client: Option<String>,
) -> Result<Vec<String>, AppError> {
    let txn = db.begin().await?;
    let acct = account::Entity::find_by_id(user.person_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(secret) = acct
        .totp_secret
        .as_deref()
        .map(super::secrets::open)
        .transpose()?
    else {
        return Err(AppError::Invalid(
            "Start setting up two-step verification first.".into(),
        ));
    };
    if acct.totp_enabled_at.is_some() {
        return Err(AppError::Conflict(
            "Two-step verification is already set up.".into(),
        ));
    }
    let Some(step) = totp(secret.expose_secret(), &user.email)?.check_current(code.trim()) else {
        return Err(AppError::Invalid(
            "That code is not right. Try the newest code from your app.".into(),
        ));
    };
    let mut row: account::ActiveModel = acct.into();
    row.totp_enabled_at = Set(Some(OffsetDateTime::now_utc()));
    row.totp_last_step = Set(Some(step as i64));
    row.update(&txn).await?;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::PersonId.eq(user.person_id))
        .exec(&txn)
        .await?;
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| tokens::new_recovery_code())
        .collect();
    for c in &codes {
        recovery_code::ActiveModel {
            person_id: Set(user.person_id),
            code_hash: Set(tokens::hash_recovery_code(c.clone()).await?),
            used_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let ended = sessions::end_all(&txn, user.person_id, keep).await?;
    audit::record(
        &txn,
        Event {
            actor: Some(user.person_id),
            action: "mfa_enrolled",
            subject: Some(user.email.clone()),
            detail: Some(format!("{ended} other sessions ended")),
            client,
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(codes)
}

/// Turns a person's two-step verification off (an admin's reset, for a lost phone): the
/// secret and recovery codes go, every session of the person ends, and they must enrol
/// again at their next sign-in. The caller checks that the actor may do this.
pub async fn reset(
    db: &sea_orm::DatabaseConnection,
    actor: i64,
    person_id: i64,
    client: Option<String>,
) -> Result<(), AppError> {
    let txn = db.begin().await?;
    let p = person::Entity::find_by_id(person_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(acct) = account::Entity::find_by_id(person_id).one(&txn).await? {
        let mut row: account::ActiveModel = acct.into();
        row.totp_secret = Set(None);
        row.totp_enabled_at = Set(None);
        row.totp_last_step = Set(None);
        row.update(&txn).await?;
    }
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::PersonId.eq(person_id))
        .exec(&txn)
        .await?;
    let ended = sessions::end_all(&txn, person_id, None).await?;
    audit::record(
        &txn,
        Event {
            actor: Some(actor),
            action: "mfa_reset",
            org: p.org_id,
            subject: Some(p.email),
            detail: Some(format!("{ended} sessions ended")),
            client,
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Checks a TOTP code or a recovery code, consuming it; `None` if it is not right.
pub async fn check_code(
    db: &impl ConnectionTrait,
    person_id: i64,
    code: &str,
) -> Result<Option<Factor>, AppError> {
    let code = code.trim().to_lowercase();
    let acct = account::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let (Some(secret), Some(_)) = (acct.totp_secret.clone(), acct.totp_enabled_at) else {
        return Ok(None);
    };
    if code.len() == 11 && code.as_bytes()[5] == b'-' {
        // Each code has its own salt: compare against the person's unused codes.
        let unused = recovery_code::Entity::find()
            .filter(recovery_code::Column::PersonId.eq(person_id))
            .filter(recovery_code::Column::UsedAt.is_null())
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.id, r.code_hash))
            .collect();
        let Some(id) = tokens::match_recovery_code(code, unused).await? else {
            return Ok(None);
        };
        // Used once: the update only succeeds while the code is still unused.
        let used = recovery_code::Entity::update_many()
            .col_expr(
                recovery_code::Column::UsedAt,
                Expr::value(OffsetDateTime::now_utc()),
            )
            .filter(recovery_code::Column::Id.eq(id))
            .filter(recovery_code::Column::UsedAt.is_null())
            .exec(db)
            .await?;
        return Ok((used.rows_affected == 1).then_some(Factor::RecoveryCode));
    }
    let secret = super::secrets::open(&secret)?;
    let Some(step) = totp(secret.expose_secret(), "x")?.check_current(&code) else {
        return Ok(None);
    };
    let step = step as i64;
    let accepted = account::Entity::update_many()
        .col_expr(account::Column::TotpLastStep, Expr::value(step))
        .filter(account::Column::PersonId.eq(person_id))
        .filter(
            Condition::any()
                .add(account::Column::TotpLastStep.is_null())
                .add(account::Column::TotpLastStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok((accepted.rows_affected == 1).then_some(Factor::Totp))
}

/// How many unused recovery codes a person has left.
pub async fn recovery_codes_left(
    db: &impl ConnectionTrait,
    person_id: i64,
) -> Result<u64, AppError> {
    use sea_orm::PaginatorTrait;
    Ok(recovery_code::Entity::find()
        .filter(recovery_code::Column::PersonId.eq(person_id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .count(db)
        .await?)
}

/// The current code for a base32 secret: for tests and the demo's documentation.
pub fn code_now(secret_b32: &str) -> Result<String, AppError> {
    Ok(totp(secret_b32, "x")?.generate_current().to_string())
}
