//! The outbox: every notification Wardline sends (inbox notices, emails, webhook posts) is
//! first a `notification` row, unique by (subject, level, round, recipient, channel). Rows
//! are built here and written through [`insert`], which skips any already there, so a
//! decision taken twice (two engines, a restart) tells nobody twice.

use sea_orm::{ConnectionTrait, EntityTrait, Set};
use time::OffsetDateTime;

use super::tracking::TASK;
use crate::backend::entity::{escalation, notification, task};
use crate::domain::escalation::{Channel, Outgoing};
use crate::error::AppError;

/// Writes outbox rows in the caller's transaction, skipping any whose key is already there.
pub async fn insert(
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

/// The in-app note telling an assignee about a new task (level 0: before any escalation).
pub fn assigned(
    t: &task::Model,
    person: i64,
    reference: &str,
    now: OffsetDateTime,
) -> notification::ActiveModel {
    notification::ActiveModel {
        subject: Set(TASK.to_owned()),
        subject_id: Set(t.id),
        incident_id: Set(t.incident_id),
        level: Set(0),
        round: Set(0),
        recipient_key: Set(format!("person:{person}")),
        person_id: Set(Some(person)),
        channel: Set("inbox".into()),
        title: Set(notice_title(format!(
            "New task: “{}” ({reference})",
            t.title
        ))),
        body: Set(t.instructions.clone()),
        status: Set(crate::domain::escalation::NotificationStatus::Sent),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        delivered_at: Set(Some(now)),
        ..Default::default()
    }
}

/// A notice's title, cut to what its column holds (300 characters).
pub fn notice_title(title: String) -> String {
    title.chars().take(300).collect()
}

/// The one inbox notice telling `person` of every task a declaration gave them (`tasks`, in
/// runbook order; the first is the notice's subject): one line per task, so a lead given
/// five steps of one incident finds one notice, not five.
pub fn assigned_all(
    tasks: &[&task::Model],
    person: i64,
    reference: &str,
    exercise: bool,
    now: OffsetDateTime,
) -> Option<notification::ActiveModel> {
    let first = tasks.first()?;
    let mut notice = assigned(first, person, reference, now);
    let mark = if exercise { "[EXERCISE] " } else { "" };
    if let [_, _, ..] = tasks {
        notice.title = Set(notice_title(format!(
            "{mark}{} new tasks ({reference}), first: “{}”",
            tasks.len(),
            first.title
        )));
        notice.body = Set(tasks
            .iter()
            .map(|t| {
                format!(
                    "• {} (due {})",
                    t.title,
                    crate::domain::dates::moment(t.due_at)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"));
    } else if exercise {
        notice.title = Set(notice_title(format!(
            "{mark}New task: “{}” ({reference})",
            first.title
        )));
    }
    Some(notice)
}

/// The page telling `person` of new tasks by one of their notification rules (`notice` is
/// their inbox notice for the same tasks, from [`assigned`] or [`assigned_all`]): waiting
/// for a transport, due after the rule's delay, keyed by the rule so it is written once.
/// An exercise's page starts with its mark, title and text alike.
pub fn paged(
    notice: &notification::ActiveModel,
    person: i64,
    rule: &crate::domain::paging::Rule,
    reference: &str,
    exercise: bool,
    now: OffsetDateTime,
) -> notification::ActiveModel {
    let mut page = notice.clone();
    let mark = if exercise {
        crate::domain::escalation::EXERCISE_MARK
    } else {
        ""
    };
    let title = page.title.take().unwrap_or_default();
    let title = title.strip_prefix(mark).unwrap_or(&title);
    let again = if rule.delay_minutes > 0 {
        "Reminder: "
    } else {
        ""
    };
    let body = page.body.take().unwrap_or_default();
    page.title = Set(notice_title(format!("{mark}{again}{title}")));
    page.body = Set(format!(
        "{mark}You hold new tasks in incident {reference}. Acknowledge them in Wardline.\n{body}"
    ));
    page.recipient_key = Set(crate::domain::paging::page_key(person, rule));
    page.channel = Set(rule.channel.as_str().to_owned());
    page.status = Set(crate::domain::escalation::NotificationStatus::Pending);
    page.next_attempt_at = Set(now + time::Duration::minutes(rule.delay_minutes.into()));
    page.delivered_at = Set(None);
    page
}

/// The outbox row for one notification a decision on `e` sends: the inbox's is written
/// already delivered, the others wait for a transport.
pub fn row(
    e: &escalation::Model,
    level: i32,
    round: i32,
    o: &Outgoing,
    now: OffsetDateTime,
) -> notification::ActiveModel {
    let status = if o.channel == Channel::Inbox {
        crate::domain::escalation::NotificationStatus::Sent
    } else {
        crate::domain::escalation::NotificationStatus::Pending
    };
    notification::ActiveModel {
        subject: Set(e.subject.clone()),
        subject_id: Set(e.subject_id),
        incident_id: Set(e.incident_id),
        level: Set(level),
        round: Set(round),
        recipient_key: Set(o.recipient_key.clone()),
        person_id: Set(o.person),
        channel: Set(o.channel.as_str().to_owned()),
        title: Set(notice_title(o.title.clone())),
        body: Set(o.body.clone()),
        status: Set(status),
        attempts: Set(0),
        next_attempt_at: Set(now + time::Duration::minutes(o.delay_minutes.into())),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        delivered_at: Set(
            (status == crate::domain::escalation::NotificationStatus::Sent).then_some(now),
        ),
        read_at: Set(None),
        link_used_at: Set(None),
        ..Default::default()
    }
}

/// What the outbox and the escalations hold now, for monitoring.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Unacknowledged escalations whose next step's time has come.
    pub due: i64,
    /// Of those, the ones due before `late_before`.
    pub late: i64,
    /// Notifications waiting to be sent or being sent.
    pub backlog: i64,
    /// Notifications given up on, by channel.
    pub failed_by_channel: Vec<(String, i64)>,
}

/// Counts, read in four small queries (each on an index or a short table scan).
pub async fn figures(
    db: &impl ConnectionTrait,
    now: OffsetDateTime,
    late_before: OffsetDateTime,
) -> Result<Figures, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QuerySelect};

    use crate::domain::escalation::NotificationStatus;

    let unacknowledged = || {
        escalation::Entity::find()
            .filter(escalation::Column::AcknowledgedAt.is_null())
            .filter(escalation::Column::FiresAt.is_not_null())
    };
    let due = unacknowledged()
        .filter(escalation::Column::FiresAt.lte(now))
        .count(db)
        .await?;
    let late = unacknowledged()
        .filter(escalation::Column::FiresAt.lt(late_before))
        .count(db)
        .await?;
    let backlog = notification::Entity::find()
        .filter(
            notification::Column::Status
                .is_in([NotificationStatus::Pending, NotificationStatus::Sending]),
        )
        .count(db)
        .await?;
    let failed_by_channel: Vec<(String, i64)> = notification::Entity::find()
        .select_only()
        .column(notification::Column::Channel)
        .column_as(notification::Column::Id.count(), "failed")
        .filter(notification::Column::Status.eq(NotificationStatus::Failed))
        .group_by(notification::Column::Channel)
        .into_tuple()
        .all(db)
        .await?;
    let whole = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    Ok(Figures {
        due: whole(due),
        late: whole(late),
        backlog: whole(backlog),
        failed_by_channel,
    })
}
