//! Contact methods: a person's mobile number for text messages. Added by the person
//! themself, usable only once a 6-digit code sent to it has been typed back (the code kept
//! as a keyed hash, working for 10 minutes and 5 tries, at most 3 codes an hour), removed by
//! them at will. Admins in reach may see it. Every change is audited.

use std::collections::HashSet;
use std::net::IpAddr;

use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use time::{Duration, OffsetDateTime};

use super::access::{Action, User};
use super::audit::{self, Event};
use super::entity::{contact_method, text_message};
use super::timeline;
use super::transport::Sms;
use crate::domain::contacts::{
    CODE_TTL_SECONDS, CODE_WINDOW_SECONDS, MAX_CODE_TRIES, MAX_CODES_PER_WINDOW, MobileView,
    UkMobile, parse_code,
};
use crate::error::AppError;

/// `contact_method.kind` of a mobile number for text messages.
pub const SMS: &str = "sms";

/// Purpose of the key the codes are hashed under.
const CODE_PURPOSE: &str = "contact-code";

const NOT_CONNECTED: &str =
    "Text messages are not connected on this Wardline yet. Ask your administrator.";
const NOT_SENT: &str = "The text message could not be sent just now. Try again in a few minutes.";

/// Of `ids`, the people with a verified mobile number.
pub async fn verified_among(
    db: &impl ConnectionTrait,
    ids: &HashSet<i64>,
) -> Result<HashSet<i64>, AppError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let ids: Vec<i64> = ids.iter().copied().collect();
    Ok(super::db::all_in(
        db,
        contact_method::Entity::find()
            .filter(contact_method::Column::Kind.eq(SMS))
            .filter(contact_method::Column::VerifiedAt.is_not_null()),
        contact_method::Column::PersonId,
        &ids,
    )
    .await?
    .into_iter()
    .map(|c| c.person_id)
    .collect())
}

/// The person's verified mobile number (`+447…`), if they have one.
pub async fn verified_mobile(
    db: &impl ConnectionTrait,
    person_id: i64,
) -> Result<Option<String>, AppError> {
    Ok(mobile_row(db, person_id)
        .await?
        .filter(|c| c.verified_at.is_some())
        .map(|c| c.address))
}

/// The caller's own mobile number, as their account page shows it.
pub async fn mine(db: &impl ConnectionTrait, user: &User) -> Result<Option<MobileView>, AppError> {
    Ok(mobile_row(db, user.person_id).await?.map(view))
}

/// Someone's mobile number, for an admin whose reach holds them (out of reach: not found).
pub async fn of_person(
    db: &impl ConnectionTrait,
    user: &User,
    email: &str,
) -> Result<Option<MobileView>, AppError> {
    let p = super::access::person_in_reach(db, user, email, Action::Administer).await?;
    Ok(mobile_row(db, p.id).await?.map(view))
}

/// Adds (or replaces) the caller's mobile number, unverified, and texts a code to it.
#[tracing::instrument(skip_all, err)]
pub async fn add_mobile(
    db: &impl ConnectionTrait,
    texts: Option<&Sms>,
    user: &User,
    raw: &str,
    client: Option<IpAddr>,
) -> Result<(), AppError> {
    let mobile = UkMobile::parse(raw).map_err(AppError::Invalid)?;
    let texts = texts.ok_or_else(|| AppError::Conflict(NOT_CONNECTED.into()))?;
    let now = timeline::now();
    let row = match mobile_row(db, user.person_id).await? {
        Some(c) if c.address == mobile.as_str() && c.verified_at.is_some() => {
            return Err(AppError::Conflict(
                "That number is already verified on your account.".into(),
            ));
        }
        Some(c) => {
            // A new number starts unverified; the hourly count of codes carries over.
            contact_method::Entity::update_many()
                .filter(contact_method::Column::Id.eq(c.id))
                .col_expr(
                    contact_method::Column::Address,
                    Expr::value(mobile.as_str()),
                )
                .col_expr(
                    contact_method::Column::VerifiedAt,
                    Expr::value(Option::<OffsetDateTime>::None),
                )
                .col_expr(
                    contact_method::Column::CodeHash,
                    Expr::value(Option::<String>::None),
                )
                .exec(db)
                .await?;
            contact_method::Model {
                address: mobile.as_str().to_owned(),
                verified_at: None,
                code_hash: None,
                ..c
            }
        }
        None => {
            contact_method::ActiveModel {
                person_id: Set(user.person_id),
                kind: Set(SMS.into()),
                address: Set(mobile.as_str().to_owned()),
                verified_at: Set(None),
                code_hash: Set(None),
                code_expires_at: Set(None),
                code_tries: Set(0),
                codes_sent: Set(0),
                window_started_at: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?
        }
    };
    audit::record(
        db,
        Event {
            actor: Some(user.person_id),
            action: "contact_mobile_added",
            subject: Some(format!("person:{}", user.person_id)),
            detail: Some(mobile.masked()),
            client: client.map(|c| c.to_string()),
            ..Default::default()
        },
    )
    .await?;
    send_code(db, texts, user, &row, client).await
}

/// Texts a new code to the caller's unverified number.
#[tracing::instrument(skip_all, err)]
pub async fn resend_code(
    db: &impl ConnectionTrait,
    texts: Option<&Sms>,
    user: &User,
    client: Option<IpAddr>,
) -> Result<(), AppError> {
    let texts = texts.ok_or_else(|| AppError::Conflict(NOT_CONNECTED.into()))?;
    let row = mobile_row(db, user.person_id)
        .await?
        .filter(|c| c.verified_at.is_none())
        .ok_or_else(|| AppError::Conflict("There is no number waiting to be verified.".into()))?;
    send_code(db, texts, user, &row, client).await
}

/// Makes a code, keeps its hash, counts it against the hourly allowance and texts it.
async fn send_code(
    db: &impl ConnectionTrait,
    texts: &Sms,
    user: &User,
    row: &contact_method::Model,
    client: Option<IpAddr>,
) -> Result<(), AppError> {
    let now = timeline::now();
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let hash = code_hash(row.id, &code)?;
    let fresh_window = row
        .window_started_at
        .is_none_or(|w| w + Duration::seconds(CODE_WINDOW_SECONDS) <= now);
    let (window, sent) = if fresh_window {
        (now, 1)
    } else {
        (row.window_started_at.unwrap_or(now), row.codes_sent + 1)
    };
    // Conditional on the count read, so two requests at once cannot both take the last code.
    let taken = if sent > MAX_CODES_PER_WINDOW {
        0
    } else {
        contact_method::Entity::update_many()
            .filter(contact_method::Column::Id.eq(row.id))
            .filter(contact_method::Column::CodesSent.eq(row.codes_sent))
            .col_expr(contact_method::Column::CodeHash, Expr::value(hash))
            .col_expr(
                contact_method::Column::CodeExpiresAt,
                Expr::value(now + Duration::seconds(CODE_TTL_SECONDS)),
            )
            .col_expr(contact_method::Column::CodeTries, Expr::value(0))
            .col_expr(contact_method::Column::CodesSent, Expr::value(sent))
            .col_expr(contact_method::Column::WindowStartedAt, Expr::value(window))
            .exec(db)
            .await?
            .rows_affected
    };
    let event = |outcome, detail: &str| Event {
        actor: Some(user.person_id),
        action: "contact_code_sent",
        subject: Some(format!("person:{}", user.person_id)),
        detail: Some(detail.to_owned()),
        client: client.map(|c| c.to_string()),
        outcome: Some(outcome),
        ..Default::default()
    };
    if taken != 1 {
        audit::record(db, event(audit::REFUSED, "too many codes this hour")).await?;
        return Err(AppError::TooManyRequests);
    }
    let text = format!(
        "Your Wardline verification code is {code}. It works for 10 minutes. If you did not ask for it, ignore this message."
    );
    match send(db, texts, row, "verify", &text).await? {
        Ok(()) => audit::record(db, event(audit::SUCCESS, "code sent")).await,
        Err(why) => {
            audit::record(db, event(audit::ERROR, &why)).await?;
            Err(AppError::Conflict(NOT_SENT.into()))
        }
    }
}

/// Checks a code typed back: at most [`MAX_CODE_TRIES`] answers per code, within its 10
/// minutes. The right one verifies the number and the code stops working.
#[tracing::instrument(skip_all, err)]
pub async fn verify_mobile(
    db: &impl ConnectionTrait,
    user: &User,
    raw_code: &str,
    client: Option<IpAddr>,
) -> Result<(), AppError> {
    let code = parse_code(raw_code).map_err(AppError::Invalid)?;
    let now = timeline::now();
    let event = |outcome, detail: &str| Event {
        actor: Some(user.person_id),
        action: "contact_mobile_verified",
        subject: Some(format!("person:{}", user.person_id)),
        detail: Some(detail.to_owned()),
        client: client.map(|c| c.to_string()),
        outcome: Some(outcome),
        ..Default::default()
    };
    let Some(row) = mobile_row(db, user.person_id).await? else {
        return Err(AppError::Conflict("Add your mobile number first.".into()));
    };
    if row.verified_at.is_some() {
        return Err(AppError::Conflict(
            "That number is already verified.".into(),
        ));
    }
    let Some(stored) = row.code_hash.clone() else {
        return Err(AppError::Conflict("Send yourself a new code first.".into()));
    };
    if row.code_expires_at.is_none_or(|e| e <= now) {
        audit::record(db, event(audit::REFUSED, "code expired")).await?;
        return Err(AppError::Conflict(
            "That code has expired. Send yourself a new one.".into(),
        ));
    }
    // Each answer uses up a try before it is checked, by one conditional update, so
    // answers sent at once cannot share a try.
    let counted = contact_method::Entity::update_many()
        .filter(contact_method::Column::Id.eq(row.id))
        .filter(contact_method::Column::CodeHash.eq(stored.clone()))
        .filter(contact_method::Column::CodeTries.lt(MAX_CODE_TRIES))
        .col_expr(
            contact_method::Column::CodeTries,
            Expr::col(contact_method::Column::CodeTries).add(1),
        )
        .exec(db)
        .await?
        .rows_affected;
    if counted != 1 {
        audit::record(db, event(audit::REFUSED, "too many wrong codes")).await?;
        return Err(AppError::Conflict(
            "Too many wrong codes. Send yourself a new one.".into(),
        ));
    }
    if !code_matches(&stored, row.id, &code) {
        audit::record(db, event(audit::FAILURE, "wrong code")).await?;
        return Err(AppError::Invalid(
            "That code is not right. Check the text message and try again.".into(),
        ));
    }
    let done = contact_method::Entity::update_many()
        .filter(contact_method::Column::Id.eq(row.id))
        .filter(contact_method::Column::CodeHash.eq(stored))
        .col_expr(contact_method::Column::VerifiedAt, Expr::value(now))
        .col_expr(
            contact_method::Column::CodeHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            contact_method::Column::CodeExpiresAt,
            Expr::value(Option::<OffsetDateTime>::None),
        )
        .exec(db)
        .await?
        .rows_affected;
    if done != 1 {
        return Err(AppError::Conflict(
            "That code has just been replaced. Use the newest one.".into(),
        ));
    }
    let masked = UkMobile::parse(&row.address)
        .map(|m| m.masked())
        .unwrap_or_default();
    audit::record(db, event(audit::SUCCESS, &masked)).await
}

/// Removes the caller's mobile number: nothing is texted to them any more.
#[tracing::instrument(skip_all, err)]
pub async fn remove_mobile(
    db: &impl ConnectionTrait,
    user: &User,
    client: Option<IpAddr>,
) -> Result<(), AppError> {
    let removed = contact_method::Entity::delete_many()
        .filter(contact_method::Column::PersonId.eq(user.person_id))
        .filter(contact_method::Column::Kind.eq(SMS))
        .exec(db)
        .await?
        .rows_affected;
    if removed == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        db,
        Event {
            actor: Some(user.person_id),
            action: "contact_mobile_removed",
            subject: Some(format!("person:{}", user.person_id)),
            client: client.map(|c| c.to_string()),
            ..Default::default()
        },
    )
    .await
}

/// Texts the caller's verified number, so they know pages will reach them.
#[tracing::instrument(skip_all, err)]
pub async fn send_test(
    db: &impl ConnectionTrait,
    texts: Option<&Sms>,
    user: &User,
    client: Option<IpAddr>,
) -> Result<(), AppError> {
    let texts = texts.ok_or_else(|| AppError::Conflict(NOT_CONNECTED.into()))?;
    let row = mobile_row(db, user.person_id)
        .await?
        .filter(|c| c.verified_at.is_some())
        .ok_or_else(|| AppError::Conflict("Verify your mobile number first.".into()))?;
    let text = "This is a test message from Wardline. When a task is escalated to you, a text like this one will reach you here.";
    let outcome = send(db, texts, &row, "test", text).await?;
    audit::record(
        db,
        Event {
            actor: Some(user.person_id),
            action: "contact_test_sent",
            subject: Some(format!("person:{}", user.person_id)),
            detail: outcome.as_ref().err().cloned(),
            client: client.map(|c| c.to_string()),
            outcome: Some(if outcome.is_ok() {
                audit::SUCCESS
            } else {
                audit::ERROR
            }),
            ..Default::default()
        },
    )
    .await?;
    outcome.map_err(|_| AppError::Conflict(NOT_SENT.into()))
}

/// Sends one text to a contact's number and records it for Notify's receipts.
async fn send(
    db: &impl ConnectionTrait,
    texts: &Sms,
    row: &contact_method::Model,
    purpose: &str,
    text: &str,
) -> Result<Result<(), String>, AppError> {
    let token = super::tokens::new_token();
    let reference = format!("wl-c{}-{}", row.id, &token[..16]);
    match texts.send_text(&row.address, text, &reference).await {
        Ok(accepted) => {
            let now = timeline::now();
            text_message::ActiveModel {
                reference: Set(reference),
                person_id: Set(Some(row.person_id)),
                notification_id: Set(None),
                purpose: Set(purpose.into()),
                status: Set("accepted".into()),
                status_at: Set(Some(now)),
                provider_id: Set(accepted.provider_id),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
            Ok(Ok(()))
        }
        Err(why) => {
            tracing::warn!(purpose, %why, "text message not sent");
            Ok(Err(why))
        }
    }
}

/// Records a delivery receipt from Notify against the text sent under `reference`. False
/// when no text was sent under it.
pub async fn record_receipt(
    db: &impl ConnectionTrait,
    reference: &str,
    status: &str,
    provider_id: Option<&str>,
) -> Result<bool, AppError> {
    let status: String = status.chars().take(40).collect();
    let mut q = text_message::Entity::update_many()
        .filter(text_message::Column::Reference.eq(reference))
        .col_expr(text_message::Column::Status, Expr::value(status))
        .col_expr(text_message::Column::StatusAt, Expr::value(timeline::now()));
    if let Some(id) = provider_id {
        let id: String = id.chars().take(64).collect();
        q = q.col_expr(text_message::Column::ProviderId, Expr::value(id));
    }
    Ok(q.exec(db).await?.rows_affected > 0)
}

async fn mobile_row(
    db: &impl ConnectionTrait,
    person_id: i64,
) -> Result<Option<contact_method::Model>, AppError> {
    Ok(contact_method::Entity::find()
        .filter(
            Condition::all()
                .add(contact_method::Column::PersonId.eq(person_id))
                .add(contact_method::Column::Kind.eq(SMS)),
        )
        .one(db)
        .await?)
}

fn view(c: contact_method::Model) -> MobileView {
    MobileView {
        number: UkMobile::parse(&c.address)
            .map(|m| m.national())
            .unwrap_or(c.address),
        verified: c.verified_at.is_some(),
        verified_at: c.verified_at.map(crate::domain::dates::moment),
    }
}

/// `key id.signature`: an HMAC of the contact and code under the key file's key, so the
/// database alone cannot be searched for the code.
fn code_hash(contact_id: i64, code: &str) -> Result<String, AppError> {
    let (key_id, sig) =
        super::secrets::sign(CODE_PURPOSE, format!("{contact_id}:{code}").as_bytes())?;
    Ok(format!("{key_id}.{sig}"))
}

fn code_matches(stored: &str, contact_id: i64, code: &str) -> bool {
    let Some((key_id, sig)) = stored.rsplit_once('.') else {
        return false;
    };
    super::secrets::verify(
        CODE_PURPOSE,
        key_id,
        format!("{contact_id}:{code}").as_bytes(),
        sig,
    ) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_only_itself_for_its_own_contact() {
        super::super::secrets::install_for_tests();
        let stored = code_hash(7, "123456").unwrap();
        assert!(!stored.contains("123456"));
        assert!(code_matches(&stored, 7, "123456"));
        assert!(!code_matches(&stored, 7, "123457"));
        assert!(!code_matches(&stored, 8, "123456"));
        assert!(!code_matches("garbage", 7, "123456"));
    }
}
