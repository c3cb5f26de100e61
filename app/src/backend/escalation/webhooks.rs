//! An organisation's channel webhook (Teams, Slack), set by its admins: checked to reach a
//! public address, given a signing secret the first time (sealed at rest), audited.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};

use crate::backend::entity::webhook;
use crate::backend::{orgs, timeline};
use crate::domain::channel_post::ChannelFormat;
use crate::error::AppError;

/// Sets an organisation's channel webhook (its admins). The URL must be https to a public
/// address; `allow_private` (local development) also lets it reach this machine and private
/// networks, over http too. A signing secret is made the first time and kept.
pub async fn set_webhook(
    db: &DatabaseConnection,
    user: &crate::backend::access::User,
    org_code: &str,
    url: &str,
    enabled: bool,
    format: ChannelFormat,
    allow_private: bool,
) -> Result<(), AppError> {
    use crate::backend::access;
    let org = orgs::find_by_code(db, org_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access::within(&access::readable_orgs(db, user).await?, org.id) {
        return Err(AppError::NotFound);
    }
    if user.is_read_only_user()
        || !access::within(&access::administered_orgs(db, user).await?, org.id)
    {
        return Err(AppError::Forbidden);
    }
    let url = url.trim();
    let parsed = checked_url(url, allow_private).await?;
    let now = timeline::now();
    let txn = db.begin().await?;
    match webhook::Entity::find()
        .filter(webhook::Column::OrgId.eq(org.id))
        .one(&txn)
        .await?
    {
        Some(w) => {
            let mut m: webhook::ActiveModel = w.into();
            m.url = Set(url.to_owned());
            m.enabled = Set(enabled);
            m.format = Set(format.as_str().to_owned());
            m.updated_at = Set(now);
            m.update(&txn).await?;
        }
        None => {
            webhook::ActiveModel {
                org_id: Set(org.id),
                url: Set(url.to_owned()),
                secret: Set(crate::backend::secrets::seal(
                    &crate::backend::tokens::new_token(),
                )?),
                enabled: Set(enabled),
                format: Set(format.as_str().to_owned()),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    crate::backend::audit::record(
        &txn,
        crate::backend::audit::Event {
            actor: Some(user.person_id),
            action: "webhook_set",
            org: Some(org.id),
            subject: Some(org.code.clone()),
            detail: Some(format!(
                "{} ({}, {})",
                parsed.host_str().unwrap_or_default(),
                if enabled { "on" } else { "off" },
                format.as_str()
            )),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A webhook address as given, parsed and checked: https to a public address (or, with
/// `allow_private`, http to this machine or a private network too).
async fn checked_url(url: &str, allow_private: bool) -> Result<reqwest::Url, AppError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| {
        AppError::Invalid("Give the full webhook address, starting https://".into())
    })?;
    let host = parsed.host_str().unwrap_or_default().to_owned();
    let local = crate::backend::webhook_target::literal(&host)
        .is_some_and(|ip| !crate::backend::webhook_target::is_public(ip))
        || host == "localhost";
    let plain_ok = allow_private && local && parsed.scheme() == "http";
    if url.len() > 500 || host.is_empty() || !(parsed.scheme() == "https" || plain_ok) {
        return Err(AppError::Invalid(
            "A webhook address must start https:// (Teams and Slack give one).".into(),
        ));
    }
    // A name that cannot be resolved now is kept: it is checked again at every send.
    if crate::backend::webhook_target::check_host(&host, allow_private).await
        == Err(crate::backend::webhook_target::Refused::PrivateAddress)
    {
        return Err(AppError::Invalid(
            "A webhook must reach an address on the public internet, not this server or a \
             private network. Use the address Teams or Slack gives you."
                .into(),
        ));
    }
    Ok(parsed)
}
