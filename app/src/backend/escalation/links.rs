//! Signed acknowledgement links: the key that signs them (kept sealed in the database), the
//! `id.expiry.signature` token an email carries, and what a link is about for its
//! confirmation page.

use sea_orm::{ConnectionTrait, EntityTrait, Set};
use time::OffsetDateTime;

use super::tracking::TASK;
use crate::backend::entity::{incident, notification, setting, task};
use crate::backend::timeline;
use crate::backend::tokens::{hex, mac};
use crate::error::AppError;

/// The key that signs acknowledgement links, made once and kept in the database (sealed
/// under the secret key, `secrets`) so every server instance shares it.
pub async fn signing_key(db: &impl ConnectionTrait) -> Result<Vec<u8>, AppError> {
    const KEY: &str = crate::backend::secrets::LINK_KEY_SETTING;
    let unseal = |stored: &str| {
        use secrecy::ExposeSecret;
        hex_decode(crate::backend::secrets::open(stored)?.expose_secret())
            .ok_or_else(|| AppError::Internal("signing key".into()))
    };
    if let Some(s) = setting::Entity::find_by_id(KEY.to_owned()).one(db).await? {
        return unseal(&s.value);
    }
    let fresh = crate::backend::tokens::new_token() + &crate::backend::tokens::new_token();
    let _ = setting::Entity::insert(setting::ActiveModel {
        key: Set(KEY.to_owned()),
        value: Set(crate::backend::secrets::seal(&hex(fresh.as_bytes()))?),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    let s = setting::Entity::find_by_id(KEY.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal("signing key".into()))?;
    unseal(&s.value)
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// A signed, expiring link token for one notification: `id.expiry.signature`.
pub fn sign_link(key: &[u8], notification_id: i64, expires: OffsetDateTime) -> String {
    let body = format!("{notification_id}.{}", expires.unix_timestamp());
    format!("{body}.{}", mac(key, &body))
}

/// Checks a link token's signature and expiry; returns the notification id.
pub fn verify_link(key: &[u8], token: &str, now: OffsetDateTime) -> Result<i64, AppError> {
    let bad = || {
        AppError::Invalid("This link is not valid. Open the incident in Wardline instead.".into())
    };
    let mut parts = token.trim().splitn(3, '.');
    let (Some(id), Some(exp), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let expected = mac(key, &format!("{id}.{exp}"));
    // Constant-time comparison of the signatures.
    let same = expected.len() == sig.len()
        && expected
            .bytes()
            .zip(sig.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(bad());
    }
    let exp: i64 = exp.parse().map_err(|_| bad())?;
    if now.unix_timestamp() > exp {
        return Err(AppError::Invalid(
            "This link has expired. Open the incident in Wardline instead.".into(),
        ));
    }
    id.parse().map_err(|_| bad())
}

/// What a signed link is about, for its confirmation page. Only for the person it was sent to.
pub async fn link_info(
    db: &impl ConnectionTrait,
    user: &crate::backend::access::User,
    token: &str,
) -> Result<crate::domain::escalation::AckLink, AppError> {
    let key = signing_key(db).await?;
    let id = verify_link(&key, token, timeline::now())?;
    let n = notification::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|n| n.person_id == Some(user.person_id) && n.subject == TASK)
        .ok_or(AppError::NotFound)?;
    let t = task::Entity::find_by_id(n.subject_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let reference = incident::Entity::find_by_id(t.incident_id)
        .one(db)
        .await?
        .map(|i| i.reference)
        .unwrap_or_default();
    Ok(crate::domain::escalation::AckLink {
        title: t.title,
        incident_reference: reference,
        already: n.link_used_at.is_some() || t.state != crate::domain::incidents::TaskState::Open,
    })
}
