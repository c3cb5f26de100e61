//! Handover notices: at each handover on a schedule, whoever comes on call and whoever goes
//! off get an inbox notice, and an email through the outbox if they take email. Run every
//! minute or so ([`notify_handovers`]); each notice is an outbox row keyed by (handover,
//! schedule, handover minute, person, channel), so running twice, or on two servers, tells
//! nobody twice. Only handovers within [`WINDOW_MINUTES`] of now are looked at, so a server
//! back after a long stop does not send a flood of stale notices.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use time::{Duration, OffsetDateTime};

use crate::backend::entity::{notification, notification_pref, on_call_schedule, person};
use crate::backend::rotas::reading::load;
use crate::domain::rota::{Handover, local_label};
use crate::error::AppError;

/// The outbox subject of handover notices.
pub const HANDOVER: &str = "handover";

/// How far either side of now handovers are noticed: a notice comes up to this long before
/// the handover, and one missed while the server was down is still sent this long after.
pub const WINDOW_MINUTES: i64 = 10;

/// Writes the notices for every handover within the window around `now`. Returns how many
/// handovers it looked at.
#[tracing::instrument(skip_all, err)]
pub async fn notify_handovers(
    db: &impl ConnectionTrait,
    now: OffsetDateTime,
) -> Result<usize, AppError> {
    let schedules = on_call_schedule::Entity::find()
        .order_by_asc(on_call_schedule::Column::Id)
        .all(db)
        .await?;
    if schedules.is_empty() {
        return Ok(0);
    }
    let window = Duration::minutes(WINDOW_MINUTES);
    let (from, to) = (now - window, now + window);
    let loaded = load(db, schedules, from).await?;
    let found: Vec<(&on_call_schedule::Model, Handover)> = loaded
        .schedules
        .iter()
        .flat_map(|s| {
            loaded
                .schedule(s.id)
                .handovers(from, to)
                .into_iter()
                .map(move |h| (s, h))
        })
        .collect();
    if found.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = found
        .iter()
        .flat_map(|(_, h)| h.incoming.iter().chain(&h.outgoing).chain(&h.next))
        .copied()
        .collect();
    let people: HashMap<i64, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let names = |ids: &[i64]| -> String {
        let v: Vec<String> = ids
            .iter()
            .filter_map(|i| people.get(i).map(|p| p.display_name.clone()))
            .collect();
        if v.is_empty() {
            "nobody".into()
        } else {
            v.join(", ")
        }
    };
    let mut rows = Vec::new();
    for (s, h) in &found {
        let when = local_label(h.at);
        let round = i32::try_from(h.at.unix_timestamp().div_euclid(60)).unwrap_or(i32::MAX);
        let outgoing = names(&h.outgoing);
        for p in &h.incoming {
            let title = format!("On call for {} from {when}", s.name);
            let body = format!(
                "You are on call for {} from {when} (London time), taking over from {outgoing}.",
                s.name
            );
            rows.extend(notices(db, &people, *p, s.id, round, &title, &body, now).await?);
        }
        for p in &h.outgoing {
            let title = format!("Your on-call shift for {} ends {when}", s.name);
            let body = if h.next.is_empty() {
                format!(
                    "Your on-call shift for {} ends at {when} (London time), and nobody is on call after you. Tell an admin of your organisation so the gap is filled.",
                    s.name
                )
            } else {
                format!(
                    "Your on-call shift for {} ends at {when} (London time). {} take{} over.",
                    s.name,
                    names(&h.next),
                    if h.next.len() == 1 { "s" } else { "" }
                )
            };
            rows.extend(notices(db, &people, *p, s.id, round, &title, &body, now).await?);
        }
    }
    insert(db, rows).await?;
    Ok(found.len())
}

/// Writes outbox rows, skipping any whose key is already there (as the escalation outbox
/// does; not imported from it, since escalation routes through rotas).
pub(crate) async fn insert(
    db: &impl ConnectionTrait,
    rows: Vec<notification::ActiveModel>,
) -> Result<(), AppError> {
    for part in rows.chunks(500) {
        notification::Entity::insert_many(part.to_vec())
            .on_conflict_do_nothing_on([
                notification::Column::Subject,
                notification::Column::SubjectId,
                notification::Column::Level,
                notification::Column::Round,
                notification::Column::RecipientKey,
                notification::Column::Channel,
            ])
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Whether a person takes email (on unless turned off), read as the escalation engine reads it.
async fn wants_email(db: &impl ConnectionTrait, person_id: i64) -> Result<bool, AppError> {
    Ok(notification_pref::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .is_none_or(|p| p.email))
}

/// The inbox notice, and the email if the person takes email, for one person.
#[allow(clippy::too_many_arguments)]
async fn notices(
    db: &impl ConnectionTrait,
    people: &HashMap<i64, person::Model>,
    person_id: i64,
    schedule_id: i64,
    round: i32,
    title: &str,
    body: &str,
    now: OffsetDateTime,
) -> Result<Vec<notification::ActiveModel>, AppError> {
    if people.get(&person_id).is_none_or(|p| p.disabled) {
        return Ok(Vec::new());
    }
    let mut channels = vec!["inbox"];
    if wants_email(db, person_id).await? {
        channels.push("email");
    }
    Ok(channels
        .into_iter()
        .map(|channel| notification::ActiveModel {
            subject: Set(HANDOVER.to_owned()),
            subject_id: Set(schedule_id),
            // Not about an incident: 0 names none (and has no timeline).
            incident_id: Set(0),
            level: Set(0),
            round: Set(round),
            recipient_key: Set(format!("person:{person_id}")),
            person_id: Set(Some(person_id)),
            channel: Set(channel.to_owned()),
            title: Set(title.chars().take(300).collect()),
            body: Set(body.to_owned()),
            status: Set(if channel == "inbox" {
                crate::domain::escalation::NotificationStatus::Sent
            } else {
                crate::domain::escalation::NotificationStatus::Pending
            }),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_at: Set(now),
            delivered_at: Set((channel == "inbox").then_some(now)),
            ..Default::default()
        })
        .collect())
}

/// Every handover notice written so far for a schedule, oldest first (for tests and the
/// schedule's history).
pub async fn handover_notices(
    db: &impl ConnectionTrait,
    schedule_id: i64,
) -> Result<Vec<notification::Model>, AppError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::Subject.eq(HANDOVER))
        .filter(notification::Column::SubjectId.eq(schedule_id))
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await?)
}
