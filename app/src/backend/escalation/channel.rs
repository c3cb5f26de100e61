//! A channel webhook's post, written when it is sent: the decision's own JSON (the line,
//! the incident, the task, the level) plus who this step paged, each with a signed link to
//! their own acknowledge page, rendered in the organisation's format
//! (`domain::channel_post`).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::{Duration, OffsetDateTime};

use super::links::{sign_link, signing_key};
use super::tracking::TASK;
use crate::backend::entity::{notification, person};
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
    let mut out: Vec<(i64, Paged)> = Vec::new();
    for row in told {
        let Some(person_id) = row.person_id else {
            continue;
        };
        if out.iter().any(|(p, _)| *p == person_id) {
            continue;
        }
        let name = person::Entity::find_by_id(person_id)
            .one(db)
            .await?
            .map(|p| p.display_name)
            .unwrap_or_default();
        let ack_url = key.as_ref().map(|k| {
            let token = sign_link(k, row.id, now + Duration::hours(LINK_HOURS));
            format!("{public_url}/ack/{token}")
        });
        out.push((person_id, Paged { name, ack_url }));
    }
    Ok(out.into_iter().map(|(_, p)| p).collect())
}
