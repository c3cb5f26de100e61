//! A channel webhook's post, written when it is sent: the decision's own JSON (the line,
//! the incident, the task, the level) plus who this step paged, each with a signed link to
//! their own acknowledge page, rendered in the organisation's format
//! (`domain::channel_post`).

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::{Duration, OffsetDateTime};

use super::links::{sign_link, signing_key};
use super::tracking::TASK;
use crate::backend::entity::{access_grant, incident, notification, person, task, webhook};
use crate::domain::channel_post::{ChannelFormat, ChannelPost, Paged};
use crate::error::AppError;

/// How long a channel's acknowledge buttons work, as an email's link does.
const LINK_HOURS: i64 = 24;

/// The body to post for outbox row `n` (a webhook row), in `format`. `public_url` is where
/// people open Wardline.
pub async fn body(
    db: &impl ConnectionTrait,
    n: &notification::Model,
    format: ChannelFormat,
    public_url: &str,
    now: OffsetDateTime,
) -> Result<String, AppError> {
    let decided: serde_json::Value = serde_json::from_str(&n.body).unwrap_or_default();
    let text = |k: &str| decided[k].as_str().unwrap_or_default().to_owned();
    let task = text("task");
    let (exercise, task) = match task.strip_prefix("[EXERCISE] ") {
        Some(rest) => (true, rest.to_owned()),
        None => (false, task),
    };
    let incident = text("incident");
    let post = ChannelPost {
        text: text("text"),
        incident_url: format!("{public_url}/incidents/{incident}"),
        incident,
        task,
        level: n.level,
        round: n.round,
        exercise,
        paged: paged(db, n, public_url, now).await?,
    };
    Ok(post.render(format).to_string())
}

/// The people this step told (every channel they were told on counts once), with a signed
/// link to their own notice's acknowledge page when the step is about a task.
async fn paged(
    db: &impl ConnectionTrait,
    n: &notification::Model,
    public_url: &str,
    now: OffsetDateTime,
) -> Result<Vec<Paged>, AppError> {
    let told = notification::Entity::find()
        .filter(notification::Column::Subject.eq(n.subject.clone()))
        .filter(notification::Column::SubjectId.eq(n.subject_id))
        .filter(notification::Column::Level.eq(n.level))
        .filter(notification::Column::Round.eq(n.round))
        .filter(notification::Column::PersonId.is_not_null())
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await?;
    let key = if n.subject == TASK {
        Some(signing_key(db).await?)
    } else {
        None
    };
    let ids: Vec<i64> = told.iter().filter_map(|r| r.person_id).collect();
    let names: HashMap<i64, String> = person::Entity::find()
        .filter(person::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect();
    let mut out: Vec<(i64, Paged)> = Vec::new();
    for row in told {
        let Some(person_id) = row.person_id else {
            continue;
        };
        if out.iter().any(|(p, _)| *p == person_id) {
            continue;
        }
        let ack_url = key.as_ref().map(|k| ack_url(k, row.id, public_url, now));
        out.push((
            person_id,
            Paged {
                name: names.get(&person_id).cloned().unwrap_or_default(),
                ack_url,
            },
        ));
    }
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

fn ack_url(key: &[u8], notification_id: i64, public_url: &str, now: OffsetDateTime) -> String {
    let token = sign_link(key, notification_id, now + Duration::hours(LINK_HOURS));
    format!("{public_url}/ack/{token}")
}

/// The Teams channel a page to `person_id` goes to: the incident's own organisation's when
/// they belong to it, else their own organisation's, else that of the first organisation
/// they have access to that has one. `None` when none of theirs has a Teams channel on.
pub async fn teams_channel_for(
    db: &impl ConnectionTrait,
    n: &notification::Model,
    person_id: i64,
) -> Result<Option<webhook::Model>, AppError> {
    let own = person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .and_then(|p| p.org_id);
    let granted: Vec<i64> = access_grant::Entity::find()
        .filter(access_grant::Column::PersonId.eq(person_id))
        .order_by_asc(access_grant::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.org_id)
        .collect();
    let incident_org = incident::Entity::find_by_id(n.incident_id)
        .one(db)
        .await?
        .map(|i| i.org_id);
    let orgs: Vec<i64> = own.into_iter().chain(granted.iter().copied()).collect();
    let mut channels = crate::backend::paging::teams_channels_of(db, &orgs).await?;
    let theirs = |o: &i64| own == Some(*o) || granted.contains(o);
    let pick = incident_org
        .filter(theirs)
        .into_iter()
        .chain(own)
        .chain(granted.iter().copied())
        .find(|o| channels.contains_key(o));
    Ok(pick.and_then(|o| channels.remove(&o)))
}

/// A Teams post paging one person (their own notification rule): the page's title, the
/// incident and task, and one button opening their own signed acknowledge page.
pub async fn person_card(
    db: &impl ConnectionTrait,
    n: &notification::Model,
    person_id: i64,
    public_url: &str,
    now: OffsetDateTime,
) -> Result<String, AppError> {
    let mark = crate::domain::escalation::EXERCISE_MARK;
    let exercise = n.title.starts_with(mark) || n.body.starts_with(mark);
    let name = person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .map(|p| p.display_name)
        .unwrap_or_default();
    let incident = incident::Entity::find_by_id(n.incident_id)
        .one(db)
        .await?
        .map(|i| i.reference)
        .unwrap_or_default();
    let task = if n.subject == TASK {
        task::Entity::find_by_id(n.subject_id)
            .one(db)
            .await?
            .map(|t| t.title)
    } else {
        None
    };
    let title = n.title.strip_prefix(mark).unwrap_or(&n.title);
    let ack = if n.subject == TASK {
        Some(ack_url(&signing_key(db).await?, n.id, public_url, now))
    } else {
        None
    };
    let post = ChannelPost {
        text: format!("{name}: {title}"),
        incident_url: format!("{public_url}/incidents/{incident}"),
        incident,
        task: task.unwrap_or_else(|| title.to_owned()),
        level: n.level,
        round: n.round,
        exercise,
        paged: vec![Paged { name, ack_url: ack }],
    };
    Ok(post.render(ChannelFormat::Teams).to_string())
}
