//! Alerts that declare: an organisation's alert sources (its SIEM, its EDR, a supplier's
//! security desk) each hold a key. An alert sent with it opens an incident of the mapped
//! kind at that organisation, raised by the source's own service account, through the same
//! declaration writer as a person's; a repeat of the same alert while that incident is open
//! adds to its timeline instead. A resolved alert closes nothing: it is put on the timeline
//! and the incident's leads are told, because only a person decides an incident is over.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::backend::access::{self, Action, User};
use crate::backend::entity::{
    access_grant, alert_thread, incident, incident_command, integration_key, notification,
    organisation,
};
use crate::backend::state::AppState;
use crate::backend::{audit, escalation, timeline, tokens};
use crate::domain::api::{ALERT_KEY_PREFIX, IntegrationKeyView, Integrations, NewIntegrationKey};
use crate::domain::auth::AccessRole;
use crate::domain::incidents::{IncidentKind, PatientsAffected};
use crate::error::AppError;

/// Where an alert stands at its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Still happening (the default).
    #[default]
    Firing,
    /// The source says it is over.
    Resolved,
}

/// One alert, in Wardline's generic format.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// The source's own identifier for this alert (its fingerprint, rule and host, or case
    /// number): repeats with the same key while the incident is open join it.
    pub alert_key: String,
    /// What the source saw, in a line.
    pub title: String,
    #[serde(default)]
    pub status: AlertStatus,
    /// The kind of incident to open; the key's mapped kind when absent.
    #[serde(default)]
    pub kind: Option<IncidentKind>,
    #[serde(default)]
    pub description: Option<String>,
    /// Affected systems or hosts.
    #[serde(default)]
    pub systems: Option<String>,
    /// Where (a site, a ward, a data centre); "Reported by <source>" when absent.
    #[serde(default)]
    pub location: Option<String>,
}

/// What an alert did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AlertOutcome {
    /// `opened` (a new incident), `added` (a repeat, put on the open incident's timeline),
    /// `resolved` (put on the timeline, its leads told) or `ignored` (resolved, but nothing
    /// open for it).
    pub outcome: String,
    /// The incident it opened or joined.
    pub reference: Option<String>,
}

const MAX_ALERT_KEY: usize = 200;
const MAX_TITLE: usize = 200;

impl Alert {
    fn checked(mut self) -> Result<Alert, AppError> {
        self.alert_key = self.alert_key.trim().to_owned();
        self.title = self.title.trim().to_owned();
        if self.alert_key.is_empty() || self.alert_key.chars().count() > MAX_ALERT_KEY {
            return Err(AppError::Invalid(format!(
                "alert_key is required, up to {MAX_ALERT_KEY} characters."
            )));
        }
        if self.title.is_empty() || self.title.chars().count() > MAX_TITLE {
            return Err(AppError::Invalid(format!(
                "title is required, up to {MAX_TITLE} characters."
            )));
        }
        Ok(self)
    }
}

// ---------------------------------------------------------------------------------------
// Keys.

fn key_view(k: &integration_key::Model, mail_domain: &str) -> IntegrationKeyView {
    IntegrationKeyView {
        id: k.id,
        source: k.source.clone(),
        kind: IncidentKind::parse(&k.kind)
            .map(|k| k.title().to_owned())
            .unwrap_or_default(),
        prefix: k.prefix.clone(),
        email: format!("{}@{mail_domain}", k.email_local),
        created_at: crate::domain::dates::moment(k.created_at),
        last_used_at: k.last_used_at.map(crate::domain::dates::moment),
        revoked: k.revoked_at.is_some(),
    }
}

/// The domain alert emails are addressed to: this server's own host name.
pub fn mail_domain(state: &AppState) -> String {
    let url = state.auth.public_url.as_str();
    url.split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()
        .unwrap_or("localhost")
        .to_owned()
}

/// An organisation's service accounts and alert sources. Its admins only.
pub async fn integrations(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: &str,
    mail_domain: &str,
) -> Result<Integrations, AppError> {
    let org = access::org_in_reach(db, user, org_code, Action::Administer).await?;
    let keys = integration_key::Entity::find()
        .filter(integration_key::Column::OrgId.eq(org.id))
        .order_by_asc(integration_key::Column::Id)
        .all(db)
        .await?;
    Ok(Integrations {
        service_accounts: super::tokens::service_accounts(db, &org).await?,
        alert_sources: keys.iter().map(|k| key_view(k, mail_domain)).collect(),
        password_sign_in: org.password_sign_in,
        org_code: org.code,
        org_name: org.name,
    })
}

/// Makes an alert source's key for an organisation the caller administers. The secret is
/// in the answer and nowhere else.
pub async fn create_key(
    db: &sea_orm::DatabaseConnection,
    user: &User,
    org_code: &str,
    source: &str,
    kind: &str,
    mail_domain: &str,
    client: Option<String>,
) -> Result<NewIntegrationKey, AppError> {
    let org = access::org_in_reach(db, user, org_code, Action::Administer).await?;
    let source = source.trim();
    if source.is_empty() || source.chars().count() > 100 {
        return Err(AppError::Invalid(
            "Name the alert source (up to 100 characters), like \"Trust SIEM\".".into(),
        ));
    }
    let kind = IncidentKind::parse(kind)
        .ok_or_else(|| AppError::Invalid("Choose the kind of incident its alerts open.".into()))?;
    let secret = format!("{ALERT_KEY_PREFIX}{}", tokens::new_token());
    let txn = db.begin().await?;
    let person = super::tokens::new_service_person(
        &txn,
        &org,
        &format!("{source} (alerts)"),
        AccessRole::Staff,
        Some(user.person_id),
    )
    .await?;
    let key = integration_key::ActiveModel {
        org_id: Set(org.id),
        person_id: Set(person.id),
        source: Set(source.to_owned()),
        kind: Set(kind.as_str().to_owned()),
        prefix: Set(tokens::shown_prefix(&secret, ALERT_KEY_PREFIX)),
        secret_hash: Set(tokens::digest(&secret)),
        email_local: Set(format!(
            "alerts-{}",
            tokens::new_token()[..16]
                .to_ascii_lowercase()
                .replace(['-', '_'], "x")
        )),
        created_by: Set(Some(user.person_id)),
        created_at: Set(OffsetDateTime::now_utc()),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        audit::Event {
            actor: Some(user.person_id),
            action: "integration_key.create",
            org: Some(org.id),
            subject: Some(format!("alert source {} ({source})", key.id)),
            detail: Some(format!("opens {}", kind.as_str())),
            client,
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(NewIntegrationKey {
        secret,
        key: key_view(&key, mail_domain),
    })
}

/// Revokes an alert source's key (of an organisation the caller administers); its service
/// account is disabled with it.
pub async fn revoke_key(
    db: &sea_orm::DatabaseConnection,
    user: &User,
    key_id: i64,
    client: Option<String>,
) -> Result<(), AppError> {
    let key = integration_key::Entity::find_by_id(key_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    access::org_id_in_reach(db, user, key.org_id, Action::Administer).await?;
    let txn = db.begin().await?;
    if key.revoked_at.is_none() {
        let mut active: integration_key::ActiveModel = key.clone().into();
        active.revoked_at = Set(Some(OffsetDateTime::now_utc()));
        active.update(&txn).await?;
    }
    audit::record(
        &txn,
        audit::Event {
            actor: Some(user.person_id),
            action: "integration_key.revoke",
            org: Some(key.org_id),
            subject: Some(format!("alert source {} ({})", key.id, key.source)),
            client,
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    // Its service account goes with it, kept in its status history as a person's would be.
    crate::backend::people::mark_disabled(db, Some(user.person_id), key.person_id, true).await
}

/// The source an alert comes from, and who it acts as.
#[derive(Debug, Clone)]
pub struct AlertSource {
    pub key: integration_key::Model,
    pub user: User,
}

async fn source_of(
    state: &AppState,
    key: Option<integration_key::Model>,
) -> Result<AlertSource, AppError> {
    let key = key
        .filter(|k| k.revoked_at.is_none())
        .ok_or(AppError::Unauthorized)?;
    let known = state
        .callers
        .known(&state.db, key.person_id)
        .await?
        .filter(|k| !k.disabled)
        .ok_or(AppError::Unauthorized)?;
    state.limits.alert_key(key.id).await?;
    Ok(AlertSource {
        user: User {
            person_id: key.person_id,
            name: known.name.clone(),
            email: known.email.clone(),
            grants: known.grants.clone(),
            mfa_enabled: false,
            second_factor: true,
        },
        key,
    })
}

/// The alert source whose key this is. Unknown and revoked keys are `Unauthorized`.
pub async fn authenticate(state: &AppState, bearer: &str) -> Result<AlertSource, AppError> {
    if !bearer.starts_with(ALERT_KEY_PREFIX) || bearer.len() > 100 {
        return Err(AppError::Unauthorized);
    }
    let key = integration_key::Entity::find()
        .filter(integration_key::Column::SecretHash.eq(tokens::digest(bearer)))
        .one(&state.db)
        .await?;
    source_of(state, key).await
}

/// The alert source whose email address has this local part (before the `@`).
pub async fn by_email(state: &AppState, local: &str) -> Result<AlertSource, AppError> {
    let local = local.trim().to_ascii_lowercase();
    if !local.starts_with("alerts-") || local.len() > 64 {
        return Err(AppError::Unauthorized);
    }
    let key = integration_key::Entity::find()
        .filter(integration_key::Column::EmailLocal.eq(local))
        .one(&state.db)
        .await?;
    source_of(state, key).await
}

// ---------------------------------------------------------------------------------------
// Receiving an alert.

/// How long a first alert's claim waits for its incident before another may take it over
/// (its declaration failed, or the instance making it stopped).
const CLAIM_STALE: time::Duration = time::Duration::seconds(30);

enum Step {
    /// This request declares the incident for the thread.
    Declare(alert_thread::Model),
    /// The thread's incident is open: join it.
    Join(alert_thread::Model, Box<incident::Model>),
    /// Another request is declaring it: look again shortly.
    Wait,
    /// Resolved, with nothing open for it.
    Nothing,
}

async fn next_step(
    db: &impl ConnectionTrait,
    key_id: i64,
    alert: &Alert,
) -> Result<Step, AppError> {
    use alert_thread::Column as C;
    let now = OffsetDateTime::now_utc();
    let found = alert_thread::Entity::find()
        .filter(C::IntegrationKeyId.eq(key_id))
        .filter(C::AlertKey.eq(alert.alert_key.as_str()))
        .one(db)
        .await?;
    let Some(thread) = found else {
        if alert.status == AlertStatus::Resolved {
            return Ok(Step::Nothing);
        }
        let inserted = alert_thread::Entity::insert(alert_thread::ActiveModel {
            integration_key_id: Set(key_id),
            alert_key: Set(alert.alert_key.clone()),
            incident_id: Set(None),
            claimed_at: Set(now),
            last_at: Set(now),
            received: Set(1),
            last_status: Set("firing".into()),
            ..Default::default()
        })
        .on_conflict_do_nothing_on([C::IntegrationKeyId, C::AlertKey])
        .exec(db)
        .await;
        return Ok(match inserted {
            Ok(sea_orm::TryInsertResult::Inserted(r)) => {
                match alert_thread::Entity::find_by_id(r.last_insert_id)
                    .one(db)
                    .await?
                {
                    Some(t) => Step::Declare(t),
                    None => Step::Wait,
                }
            }
            Ok(_) => Step::Wait,
            Err(e) => return Err(e.into()),
        });
    };
    match thread.incident_id {
        Some(id) => {
            let inc = incident::Entity::find_by_id(id).one(db).await?;
            match inc {
                Some(inc) if inc.status.open() => Ok(Step::Join(thread, Box::new(inc))),
                _ if alert.status == AlertStatus::Resolved => Ok(Step::Nothing),
                // Its incident is over: this alert opens a new one, if it takes the thread
                // first.
                _ => {
                    let taken = alert_thread::Entity::update_many()
                        .col_expr(
                            C::IncidentId,
                            sea_orm::sea_query::Expr::value(Option::<i64>::None),
                        )
                        .col_expr(C::ClaimedAt, sea_orm::sea_query::Expr::value(now))
                        .filter(C::Id.eq(thread.id))
                        .filter(C::IncidentId.eq(id))
                        .exec(db)
                        .await?
                        .rows_affected
                        == 1;
                    Ok(if taken {
                        Step::Declare(thread)
                    } else {
                        Step::Wait
                    })
                }
            }
        }
        None if thread.claimed_at + CLAIM_STALE < now => {
            let taken = alert_thread::Entity::update_many()
                .col_expr(C::ClaimedAt, sea_orm::sea_query::Expr::value(now))
                .filter(C::Id.eq(thread.id))
                .filter(C::IncidentId.is_null())
                .filter(C::ClaimedAt.eq(thread.claimed_at))
                .exec(db)
                .await?
                .rows_affected
                == 1;
            Ok(if taken {
                Step::Declare(thread)
            } else {
                Step::Wait
            })
        }
        None => Ok(Step::Wait),
    }
}

/// Receives one alert from `source`.
pub async fn receive(
    state: &AppState,
    source: &AlertSource,
    alert: Alert,
) -> Result<AlertOutcome, AppError> {
    let alert = alert.checked()?;
    integration_key::Entity::update_many()
        .col_expr(
            integration_key::Column::LastUsedAt,
            sea_orm::sea_query::Expr::value(OffsetDateTime::now_utc()),
        )
        .filter(integration_key::Column::Id.eq(source.key.id))
        .exec(&state.db)
        .await?;
    // A first alert's claim is held for the moment its declaration takes; a repeat arriving
    // then waits for it (for up to five seconds) rather than opening a second incident.
    for _ in 0..200 {
        match next_step(&state.db, source.key.id, &alert).await? {
            Step::Declare(thread) => return declare(state, source, &alert, thread).await,
            Step::Join(thread, inc) => return join(state, source, &alert, thread, *inc).await,
            Step::Nothing => {
                return Ok(AlertOutcome {
                    outcome: "ignored".into(),
                    reference: None,
                });
            }
            Step::Wait => tokio::time::sleep(std::time::Duration::from_millis(25)).await,
        }
    }
    Err(AppError::Unavailable)
}

fn alert_line(source: &AlertSource, alert: &Alert) -> String {
    format!(
        "Alert from {}: {} (alert key {})",
        source.key.source, alert.title, alert.alert_key
    )
}

async fn declare(
    state: &AppState,
    source: &AlertSource,
    alert: &Alert,
    thread: alert_thread::Model,
) -> Result<AlertOutcome, AppError> {
    let org = organisation::Entity::find_by_id(source.key.org_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let kind = alert
        .kind
        .or_else(|| IncidentKind::parse(&source.key.kind))
        .unwrap_or(IncidentKind::SystemDown);
    let summary: String = format!(
        "{}\n\n{}",
        alert_line(source, alert),
        alert.description.as_deref().unwrap_or_default().trim()
    )
    .trim()
    .chars()
    .take(2000)
    .collect();
    let input = crate::backend::incidents::DeclareInput {
        org_code: Some(org.code.clone()),
        kind,
        summary,
        location: alert
            .location
            .clone()
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| format!("Reported by {}", source.key.source)),
        patients_affected: PatientsAffected::Unknown,
        systems: alert.systems.clone().unwrap_or_default(),
        personal_data: None,
        assets: Vec::new(),
        exercise: None,
    };
    let declared = match state
        .declarations
        .declare(&state.db, &source.user, input)
        .await
    {
        Ok(d) => d,
        Err(e) => {
            // Let the next alert try again at once.
            alert_thread::Entity::update_many()
                .col_expr(
                    alert_thread::Column::ClaimedAt,
                    sea_orm::sea_query::Expr::value(OffsetDateTime::UNIX_EPOCH),
                )
                .filter(alert_thread::Column::Id.eq(thread.id))
                .filter(alert_thread::Column::IncidentId.is_null())
                .exec(&state.db)
                .await?;
            return Err(e);
        }
    };
    let reference = declared.reference.clone();
    let inc = incident::Entity::find()
        .filter(incident::Column::Reference.eq(reference.as_str()))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let txn = state.db.begin().await?;
    alert_thread::Entity::update_many()
        .col_expr(
            alert_thread::Column::IncidentId,
            sea_orm::sea_query::Expr::value(inc.id),
        )
        .col_expr(
            alert_thread::Column::LastAt,
            sea_orm::sea_query::Expr::value(OffsetDateTime::now_utc()),
        )
        .col_expr(
            alert_thread::Column::LastStatus,
            sea_orm::sea_query::Expr::value("firing"),
        )
        .filter(alert_thread::Column::Id.eq(thread.id))
        .exec(&txn)
        .await?;
    timeline::append(
        &txn,
        inc.id,
        Some(source.user.person_id),
        "alert",
        format!(
            "Raised by {}: {}",
            source.key.source,
            alert_line(source, alert)
        ),
    )
    .await?;
    txn.commit().await?;
    state.publish_declared(declared);
    Ok(AlertOutcome {
        outcome: "opened".into(),
        reference: Some(reference),
    })
}

async fn join(
    state: &AppState,
    source: &AlertSource,
    alert: &Alert,
    thread: alert_thread::Model,
    inc: incident::Model,
) -> Result<AlertOutcome, AppError> {
    let now = OffsetDateTime::now_utc();
    let resolved = alert.status == AlertStatus::Resolved;
    let txn = state.db.begin().await?;
    alert_thread::Entity::update_many()
        .col_expr(
            alert_thread::Column::Received,
            sea_orm::sea_query::ExprTrait::add(
                sea_orm::sea_query::Expr::col(alert_thread::Column::Received),
                1,
            ),
        )
        .col_expr(
            alert_thread::Column::LastAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            alert_thread::Column::LastStatus,
            sea_orm::sea_query::Expr::value(if resolved { "resolved" } else { "firing" }),
        )
        .filter(alert_thread::Column::Id.eq(thread.id))
        .exec(&txn)
        .await?;
    let line = alert_line(source, alert);
    if resolved {
        timeline::append(
            &txn,
            inc.id,
            Some(source.user.person_id),
            "alert_resolved",
            format!("{line}: the source says it is resolved. This closes nothing; a lead decides."),
        )
        .await?;
        tell_leads(&txn, &inc, &thread, source, alert, now).await?;
    } else {
        timeline::append(
            &txn,
            inc.id,
            Some(source.user.person_id),
            "alert",
            format!("Repeated: {line}"),
        )
        .await?;
    }
    txn.commit().await?;
    state.publish(&inc.reference).await;
    Ok(AlertOutcome {
        outcome: if resolved { "resolved" } else { "added" }.into(),
        reference: Some(inc.reference),
    })
}

/// Puts a note in the inbox of the incident's command holders, or, with none yet, of the
/// leads and admins of its organisation.
async fn tell_leads(
    db: &impl ConnectionTrait,
    inc: &incident::Model,
    thread: &alert_thread::Model,
    source: &AlertSource,
    alert: &Alert,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let mut people: Vec<i64> = incident_command::Entity::find()
        .filter(incident_command::Column::IncidentId.eq(inc.id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.person_id)
        .collect();
    if people.is_empty() {
        people = access_grant::Entity::find()
            .filter(access_grant::Column::OrgId.eq(inc.org_id))
            .filter(
                access_grant::Column::Role
                    .is_in([AccessRole::Lead.as_str(), AccessRole::OrgAdmin.as_str()]),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|g| g.person_id)
            .filter(|p| *p != source.user.person_id)
            .collect();
    }
    people.sort_unstable();
    people.dedup();
    let rows = people
        .into_iter()
        .map(|person| notification::ActiveModel {
            subject: Set("alert".to_owned()),
            subject_id: Set(thread.id),
            incident_id: Set(inc.id),
            level: Set(0),
            round: Set(thread.received as i32 + 1),
            recipient_key: Set(format!("person:{person}")),
            person_id: Set(Some(person)),
            channel: Set("inbox".into()),
            title: Set(escalation::outbox::notice_title(format!(
                "{} says “{}” is resolved ({})",
                source.key.source, alert.title, inc.reference
            ))),
            body: Set(
                "The alert source reports this resolved. The incident stays open until a lead \
                 closes or stands it down."
                    .into(),
            ),
            status: Set(crate::domain::escalation::NotificationStatus::Sent),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_at: Set(now),
            delivered_at: Set(Some(now)),
            ..Default::default()
        })
        .collect();
    escalation::outbox::insert(db, rows).await
}
