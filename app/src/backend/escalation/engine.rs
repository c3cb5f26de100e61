//! The engine loop: wake for the earliest deadline, decide every escalation now due, deliver
//! what waits in the outbox, sleep again. Each due row is decided by the pure
//! `domain::escalation::decide_with_rules` from what was read (`reading.rs`), and its step taken by one
//! conditional update (still unacknowledged, still at this level, still due) in the
//! transaction that also writes the outbox and the timeline. Delivery is `deliver.rs`.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use time::{Duration, OffsetDateTime};
use tokio::sync::Notify;

use super::clock::Clock;
use super::outbox;
use crate::backend::entity::{escalation, notification};
use crate::backend::live::LiveEvent;
use crate::backend::timeline;
use crate::backend::transport::Delivery;
use crate::domain::escalation::Decision;
use crate::error::AppError;

/// A timeline entry waiting to be written: (actor, kind, text).
type TimelineEntry = (Option<i64>, String, String);

/// The engine: decides due escalations and delivers the outbox.
pub struct Engine {
    pub(super) db: DatabaseConnection,
    pub(super) clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    pub(super) delivery: Delivery,
    /// Fault injection for the crash test: abort the process right after a decision commits.
    abort_after_decision: bool,
    /// Open pages to refresh (inbox counts, incident timelines).
    live: Option<tokio::sync::broadcast::Sender<LiveEvent>>,
}

impl Engine {
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        delivery: Delivery,
        abort_after_decision: bool,
    ) -> Engine {
        Engine {
            db,
            clock,
            wake: Arc::new(Notify::new()),
            delivery,
            abort_after_decision,
            live: None,
        }
    }

    /// Tells open pages in this process when escalations change something.
    pub fn with_live(mut self, live: tokio::sync::broadcast::Sender<LiveEvent>) -> Engine {
        self.live = Some(live);
        self
    }

    /// Something new may be due sooner than the engine is sleeping for.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until the process ends: decide what is due, deliver what is waiting, then sleep
    /// until the next deadline (at most a second, so deadlines written by another server
    /// instance are seen in time), or until woken.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(e) = self.decide_due().await {
                    tracing::warn!(error = %e, "escalation decisions");
                }
                if let Err(e) = self.deliver_due().await {
                    tracing::warn!(error = %e, "notification delivery");
                }
                let sleep = match self.next_deadline().await {
                    Ok(Some(at)) => {
                        let ms = (at - self.clock.now()).whole_milliseconds().clamp(0, 1000);
                        StdDuration::from_millis(ms as u64)
                    }
                    _ => StdDuration::from_secs(1),
                };
                tokio::select! {
                    _ = tokio::time::sleep(sleep) => {}
                    _ = self.wake.notified() => {}
                }
            }
        })
    }

    /// The earliest moment anything is due.
    pub async fn next_deadline(&self) -> Result<Option<OffsetDateTime>, AppError> {
        let e = escalation::Entity::find()
            .filter(escalation::Column::AcknowledgedAt.is_null())
            .filter(escalation::Column::Flagged.eq(false))
            .filter(escalation::Column::FiresAt.is_not_null())
            .order_by_asc(escalation::Column::FiresAt)
            .one(&self.db)
            .await?
            .and_then(|e| e.fires_at);
        let n = notification::Entity::find()
            .filter(
                notification::Column::Status
                    .eq(crate::domain::escalation::NotificationStatus::Pending),
            )
            .order_by_asc(notification::Column::NextAttemptAt)
            .one(&self.db)
            .await?
            .map(|n| n.next_attempt_at);
        Ok(match (e, n) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    /// Decides every escalation now due. Returns how many steps this engine took.
    pub async fn decide_due(&self) -> Result<usize, AppError> {
        let mut total = 0;
        loop {
            let now = self.clock.now();
            let due = escalation::Entity::find()
                .filter(escalation::Column::AcknowledgedAt.is_null())
                .filter(escalation::Column::Flagged.eq(false))
                .filter(escalation::Column::FiresAt.lte(now))
                .order_by_asc(escalation::Column::FiresAt)
                .limit(2000)
                .all(&self.db)
                .await?;
            if due.is_empty() {
                return Ok(total);
            }
            let mut decided_any = false;
            for chunk in due.chunks(250) {
                let n = self.decide(chunk, now).await?;
                decided_any |= n > 0;
                total += n;
                if n > 0 && self.abort_after_decision {
                    tracing::error!("fault injection: aborting after an escalation decision");
                    std::process::abort();
                }
            }
            if !decided_any {
                // Everything due was taken by another engine meanwhile.
                return Ok(total);
            }
        }
    }

    /// Decides a chunk of due rows: everything read first, outside the transaction; then in
    /// one transaction each row's step taken, and the outbox (one insert) and each
    /// incident's timeline written together. Returns how many steps were taken.
    async fn decide(
        &self,
        rows: &[escalation::Model],
        now: OffsetDateTime,
    ) -> Result<usize, AppError> {
        let read = self.read(rows, now).await?;
        let txn = self.db.begin().await?;
        let ours = claim(&txn, rows).await?;
        let mut decided = 0;
        let mut changed: Vec<LiveEvent> = Vec::new();
        let mut outbox_rows: Vec<notification::ActiveModel> = Vec::new();
        let mut lines: Vec<(i64, Vec<TimelineEntry>)> = Vec::new();
        for e in rows
            .iter()
            .filter(|e| ours.as_ref().is_none_or(|o| o.contains(&e.id)))
        {
            let decision = read.decide(e, &self.delivery);
            if !take_step(&txn, e, &decision, now).await? {
                continue; // acknowledged meanwhile, or another engine took this step
            }
            decided += 1;
            let text = match decision {
                Decision::Flag { line } => line,
                Decision::Notify {
                    level,
                    round,
                    told,
                    outbox: out,
                    line,
                    ..
                } => {
                    outbox_rows.extend(out.iter().map(|o| outbox::row(e, level, round, o, now)));
                    changed.push(LiveEvent {
                        reference: read.reference(e),
                        people: told,
                        relayed: false,
                    });
                    line
                }
            };
            let entry = (None, "escalation".to_owned(), text);
            match lines.iter_mut().find(|(i, _)| *i == e.incident_id) {
                Some((_, v)) => v.push(entry),
                None => lines.push((e.incident_id, vec![entry])),
            }
        }
        outbox::insert(&txn, outbox_rows).await?;
        // In order of incident, so two engines' transactions lock timelines in one order.
        lines.sort_by_key(|(incident_id, _)| *incident_id);
        for (incident_id, entries) in lines {
            timeline::append_many(&txn, incident_id, entries).await?;
        }
        txn.commit().await?;
        if let Some(live) = &self.live {
            for c in changed {
                let _ = live.send(c);
            }
        }
        Ok(decided)
    }
}

/// On PostgreSQL, locks the rows of a chunk no other engine holds, so engines on several
/// instances share the work: each decides the rows it locked and passes over the rest (the
/// other engine's, decided there). `None` on SQLite, where one writer at a time holds the
/// whole database and the conditional update alone keeps each step to one engine.
async fn claim(
    txn: &sea_orm::DatabaseTransaction,
    rows: &[escalation::Model],
) -> Result<Option<std::collections::HashSet<i64>>, AppError> {
    use sea_orm::sea_query::{LockBehavior, LockType};
    if txn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(None);
    }
    let ids: Vec<i64> = escalation::Entity::find()
        .select_only()
        .column(escalation::Column::Id)
        .filter(escalation::Column::Id.is_in(rows.iter().map(|e| e.id)))
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .into_tuple()
        .all(txn)
        .await?;
    Ok(Some(ids.into_iter().collect()))
}

/// Takes a decided step by one conditional update: only if the row is still unacknowledged,
/// unflagged, at the level and round it was read at, and due. False when it was not.
async fn take_step(
    db: &impl ConnectionTrait,
    e: &escalation::Model,
    decision: &Decision,
    now: OffsetDateTime,
) -> Result<bool, AppError> {
    let q = escalation::Entity::update_many()
        .filter(escalation::Column::Id.eq(e.id))
        .filter(escalation::Column::Level.eq(e.level))
        .filter(escalation::Column::Round.eq(e.round))
        .filter(escalation::Column::AcknowledgedAt.is_null())
        .filter(escalation::Column::Flagged.eq(false))
        .filter(escalation::Column::FiresAt.lte(now))
        .col_expr(escalation::Column::UpdatedAt, Expr::value(now));
    let q = match decision {
        Decision::Notify {
            level,
            round,
            fires_in_seconds,
            ..
        } => q
            .col_expr(escalation::Column::Level, Expr::value(*level))
            .col_expr(escalation::Column::Round, Expr::value(*round))
            .col_expr(
                escalation::Column::FiresAt,
                Expr::value(now + Duration::seconds((*fires_in_seconds).into())),
            ),
        Decision::Flag { .. } => q
            .col_expr(escalation::Column::Flagged, Expr::value(true))
            .col_expr(
                escalation::Column::FiresAt,
                Expr::value(Option::<OffsetDateTime>::None),
            ),
    };
    Ok(q.exec(db).await?.rows_affected == 1)
}
