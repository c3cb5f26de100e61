//! The engine's delivery half: claim each waiting outbox row (so two instances never send
//! it at once), address it, hand it to the transport for its channel, and record the
//! attempt (a `delivery_attempt` row and a line on the incident timeline), retrying with
//! back-off until `MAX_ATTEMPTS`.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use time::{Duration, OffsetDateTime};

use super::engine::Engine;
use super::fallthrough;
use super::links::{sign_link, signing_key};
use super::tracking::TASK;
use crate::backend::entity::{delivery_attempt, notification, person, text_message, webhook};
use crate::backend::timeline;
use crate::backend::transport::{Address, Message, Transport};
use crate::domain::channel_post::ChannelFormat;
use crate::domain::escalation::{Channel, MAX_ATTEMPTS, NotificationStatus, backoff_seconds};
use crate::error::AppError;

impl Engine {
    /// Delivers every email and webhook due now. Returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let waiting = notification::Entity::find()
            .filter(
                Condition::any()
                    .add(notification::Column::Status.eq(NotificationStatus::Pending))
                    .add(
                        Condition::all()
                            .add(notification::Column::Status.eq(NotificationStatus::Sending))
                            .add(notification::Column::ClaimedUntil.lt(now)),
                    ),
            )
            .filter(notification::Column::NextAttemptAt.lte(now))
            .order_by_asc(notification::Column::NextAttemptAt)
            // Oldest first among those due together, on every engine.
            .order_by_asc(notification::Column::Id)
            .limit(200)
            .all(&self.db)
            .await?;
        // Up to 16 at once, so one slow mail server or webhook does not hold up the rest.
        use futures::StreamExt;
        let results: Vec<Result<bool, AppError>> = futures::stream::iter(waiting)
            .map(|n| self.deliver_one(n, now))
            .buffer_unordered(16)
            .collect()
            .await;
        let mut attempted = 0;
        for r in results {
            if r? {
                attempted += 1;
            }
        }
        Ok(attempted)
    }

    /// Claims one notification and tries to deliver it; false when another instance has it.
    async fn deliver_one(
        &self,
        n: notification::Model,
        now: OffsetDateTime,
    ) -> Result<bool, AppError> {
        // Claim it, so another instance does not send it at the same time. Still "sending"
        // after its claim ran out: a crash fell mid-send, and the provider may have it.
        let repeat = n.status == NotificationStatus::Sending;
        let claimed = notification::Entity::update_many()
            .filter(notification::Column::Id.eq(n.id))
            .filter(notification::Column::Status.eq(n.status))
            .filter(notification::Column::Attempts.eq(n.attempts))
            .filter(notification::Column::Repeats.eq(n.repeats))
            .col_expr(
                notification::Column::Status,
                Expr::value(NotificationStatus::Sending),
            )
            .col_expr(
                notification::Column::ClaimedUntil,
                Expr::value(now + Duration::minutes(2)),
            )
            .col_expr(
                notification::Column::Repeats,
                Expr::value(n.repeats + i32::from(repeat)),
            )
            .exec(&self.db)
            .await?
            .rows_affected;
        if claimed != 1 {
            return Ok(false);
        }
        if let Some(why) = fallthrough::no_longer_needed(&self.db, &n).await? {
            fallthrough::cancel(&self.db, &n, why).await?;
            return Ok(true);
        }
        if repeat && n.repeats >= 1 {
            let why = "interrupted mid-send twice: not sent again, so it repeats at most once";
            self.record(&n, Err(why.into()), true).await?;
            return Ok(true);
        }
        let outcome = match self.addressed(&n, now).await? {
            Ok((transport, mut message)) => {
                if repeat {
                    mark_repeat(&mut message);
                }
                transport.send(&message).await
            }
            Err(why) => Err(why),
        };
        self.record(&n, outcome, false).await?;
        Ok(true)
    }

    /// An outbox row addressed for its channel's transport; `Err` says why it cannot be sent
    /// (the attempt fails and is recorded).
    async fn addressed(
        &self,
        n: &notification::Model,
        now: OffsetDateTime,
    ) -> Result<Result<(&dyn Transport, Message), String>, AppError> {
        let channel = Channel::parse(&n.channel);
        let Some((channel, transport)) =
            channel.and_then(|c| Some((c, self.delivery.transport(c)?)))
        else {
            return Ok(Err(format!("unknown channel {}", n.channel)));
        };
        let addressed = match channel {
            Channel::Email => self.by_email(n, now).await?,
            Channel::Webhook => self.by_webhook(n, now).await?,
            Channel::Teams => self.by_teams(n, now).await?,
            Channel::Sms => self.by_text(n, now).await?,
            Channel::Inbox => return Ok(Err(format!("unknown channel {}", n.channel))),
        };
        Ok(addressed.map(|(to, body)| {
            let message = Message {
                to,
                title: n.title.clone(),
                body,
            };
            (transport, message)
        }))
    }

    /// To the person's (or external contact's) email, a task's with its signed link.
    async fn by_email(
        &self,
        n: &notification::Model,
        now: OffsetDateTime,
    ) -> Result<Result<(Address, String), String>, AppError> {
        let to = match n.person_id {
            Some(p) => person::Entity::find_by_id(p)
                .one(&self.db)
                .await?
                .map(|p| p.email),
            None => crate::backend::contacts_external::for_key(&self.db, &n.recipient_key)
                .await?
                .map(|c| c.email)
                .filter(|e| !e.is_empty()),
        };
        let Some(to) = to else {
            return Ok(Err("the person has no email address".into()));
        };
        let mut body = n.body.clone();
        if n.subject == TASK {
            let key = signing_key(&self.db).await?;
            let token = sign_link(&key, n.id, now + Duration::hours(24));
            body.push_str(&format!(
                "\n\nAcknowledge from here (you will be asked to confirm): {}/ack/{token}\nThe link works once and for 24 hours.",
                self.delivery.public_url()
            ));
        }
        Ok(Ok((Address::Email(to), body)))
    }

    /// To an organisation's channel webhook, in the format it was connected with.
    async fn by_webhook(
        &self,
        n: &notification::Model,
        now: OffsetDateTime,
    ) -> Result<Result<(Address, String), String>, AppError> {
        let id: i64 = n
            .recipient_key
            .trim_start_matches("webhook:")
            .parse()
            .unwrap_or(0);
        let Some(h) = webhook::Entity::find_by_id(id).one(&self.db).await? else {
            return Ok(Err("the webhook was removed".into()));
        };
        let format = ChannelFormat::parse(&h.format).unwrap_or_default();
        let body =
            super::channel::body(&self.db, n, format, self.delivery.public_url(), now).await?;
        Ok(Ok((
            Address::Webhook {
                url: h.url,
                sealed_secret: h.secret,
            },
            body,
        )))
    }

    /// A card naming the person, in their organisation's Teams channel.
    async fn by_teams(
        &self,
        n: &notification::Model,
        now: OffsetDateTime,
    ) -> Result<Result<(Address, String), String>, AppError> {
        let Some(person_id) = n.person_id else {
            return Ok(Err("a Teams page names nobody".into()));
        };
        let Some(h) = super::channel::teams_channel_for(&self.db, n, person_id).await? else {
            return Ok(Err(
                "none of the person's organisations has a Teams channel connected".into(),
            ));
        };
        let body =
            super::channel::person_card(&self.db, n, person_id, self.delivery.public_url(), now)
                .await?;
        Ok(Ok((
            Address::Webhook {
                url: h.url,
                sealed_secret: h.secret,
            },
            body,
        )))
    }

    /// To the person's verified mobile, a task's with its reply code first.
    async fn by_text(
        &self,
        n: &notification::Model,
        now: OffsetDateTime,
    ) -> Result<Result<(Address, String), String>, AppError> {
        let phone = match n.person_id {
            Some(p) => crate::backend::contacts::verified_mobile(&self.db, p).await?,
            None => None,
        };
        let Some(phone) = phone else {
            return Ok(Err("the person has no verified mobile number".into()));
        };
        let mut body = n.body.clone();
        if n.subject == TASK {
            // First, so cutting a long text to size never cuts the code.
            if let Some(line) = crate::backend::reply_codes::line_for(&self.db, n, now).await? {
                body = format!("{line}\n{body}");
            }
        }
        Ok(Ok((
            Address::Sms {
                phone,
                reference: text_reference(n.id, n.attempts + 1),
            },
            body,
        )))
    }

    /// Records an attempt. Two attempts on one incident at once may race for the next place
    /// on its timeline (the unique index lets one win), so the loser tries again.
    async fn record(
        &self,
        n: &notification::Model,
        outcome: Result<String, String>,
        give_up: bool,
    ) -> Result<(), AppError> {
        let mut tries = 0;
        loop {
            match self.record_once(n, outcome.clone(), give_up).await {
                Err(AppError::Conflict(_)) if tries < 5 => tries += 1,
                other => return other,
            }
        }
    }

    async fn record_once(
        &self,
        n: &notification::Model,
        outcome: Result<String, String>,
        give_up: bool,
    ) -> Result<(), AppError> {
        let now = self.clock.now();
        let attempts = n.attempts + 1;
        let who = recipient_name(&self.db, n).await?;
        let txn = self.db.begin().await?;
        let (status, detail) = match &outcome {
            Ok(d) => (NotificationStatus::Sent, d.clone()),
            Err(d) if attempts >= MAX_ATTEMPTS || give_up => {
                (NotificationStatus::Failed, d.clone())
            }
            Err(d) => (NotificationStatus::Pending, d.clone()),
        };
        let mut q = notification::Entity::update_many()
            .filter(notification::Column::Id.eq(n.id))
            .col_expr(notification::Column::Status, Expr::value(status))
            .col_expr(notification::Column::Attempts, Expr::value(attempts))
            .col_expr(
                notification::Column::ClaimedUntil,
                Expr::value(Option::<OffsetDateTime>::None),
            );
        q = match &outcome {
            Ok(_) => q.col_expr(notification::Column::DeliveredAt, Expr::value(now)),
            Err(e) => q
                .col_expr(notification::Column::LastError, Expr::value(e.clone()))
                .col_expr(
                    notification::Column::NextAttemptAt,
                    Expr::value(now + Duration::seconds(backoff_seconds(attempts))),
                ),
        };
        q.exec(&txn).await?;
        delivery_attempt::ActiveModel {
            notification_id: Set(n.id),
            at: Set(now),
            ok: Set(outcome.is_ok()),
            detail: Set(detail.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if n.channel == Channel::Sms.as_str() && outcome.is_ok() {
            // Notify's receipts name the reference each attempt was sent under.
            text_message::ActiveModel {
                reference: Set(text_reference(n.id, attempts)),
                person_id: Set(n.person_id),
                notification_id: Set(Some(n.id)),
                purpose: Set("page".into()),
                status: Set("accepted".into()),
                status_at: Set(Some(now)),
                provider_id: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        let line = timeline_line(&n.channel, &who, status, attempts, &detail);
        // A notice about no incident (an on-call handover, `incident_id` 0) has no timeline.
        if n.incident_id > 0 {
            timeline::append(&txn, n.incident_id, None, "delivery", line).await?;
        }
        if status == NotificationStatus::Failed {
            let email_on = self.delivery.email_enabled();
            fallthrough::write(&txn, n, &detail, email_on, now).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

/// Who an outbox row is for, as the timeline names them.
async fn recipient_name(
    db: &impl ConnectionTrait,
    n: &notification::Model,
) -> Result<String, AppError> {
    Ok(match n.person_id {
        Some(p) => person::Entity::find_by_id(p)
            .one(db)
            .await?
            .map(|p| p.display_name)
            .unwrap_or_default(),
        None => match crate::backend::contacts_external::for_key(db, &n.recipient_key).await? {
            Some(c) => c.name,
            None => "the organisation's channel".into(),
        },
    })
}

/// An attempt as the incident's timeline tells it: sent, failed for good, or retrying.
fn timeline_line(
    channel: &str,
    who: &str,
    status: NotificationStatus,
    attempts: i32,
    detail: &str,
) -> String {
    let channel = match channel {
        "email" => "Email",
        "sms" => "Text message",
        "teams" => "Teams post",
        _ => "Webhook",
    };
    match status {
        NotificationStatus::Sent => {
            format!("{channel} to {who} delivered (attempt {attempts}): {detail}")
        }
        NotificationStatus::Failed => {
            format!("{channel} to {who} failed for good after {attempts} attempts: {detail}")
        }
        _ => format!(
            "{channel} to {who} failed (attempt {attempts}): {detail}; retrying in {} s",
            backoff_seconds(attempts)
        ),
    }
}

/// Marks a message sent again after a crash mid-send ("Repeat: …", after an exercise's
/// mark), so whoever gets it twice knows why. A webhook's JSON is left as it is.
fn mark_repeat(message: &mut Message) {
    if matches!(message.to, Address::Webhook { .. }) {
        return;
    }
    let mark = crate::domain::escalation::EXERCISE_MARK;
    let repeated = |text: &str| match text.strip_prefix(mark) {
        Some(rest) => format!("{mark}Repeat: {rest}"),
        None => format!("Repeat: {text}"),
    };
    message.title = repeated(&message.title);
    message.body = repeated(&message.body);
}

/// The reference a text is sent under: its outbox row and attempt, so each attempt's receipt
/// is told apart.
pub fn text_reference(notification_id: i64, attempt: i32) -> String {
    format!("wl-n{notification_id}-a{attempt}")
}
