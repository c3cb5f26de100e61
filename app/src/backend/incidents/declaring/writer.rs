//! The group-commit writer: declarations waiting together are committed together.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::backend::access::User;
use crate::backend::paging::Channels;
use tokio::sync::{mpsc, oneshot};

use crate::backend::entity::{incident, organisation};
use crate::backend::incidents::access::touch;
use crate::backend::incidents::lifecycle::finish;
use crate::backend::{generation, orgs, timeline};
use crate::domain::incidents::IncidentKind;
use crate::error::AppError;

use crate::backend::incidents::declaring::plan::{
    Plan, check_assets, declaring_org, may_declare, plan_and_prepare,
};
use crate::backend::incidents::declaring::postgres::commit_batch_postgres;
use crate::backend::incidents::declaring::prepare::{Prepared, prepare};
use crate::backend::incidents::declaring::write::{commit_batch_sqlite, write_all};
use crate::backend::incidents::declaring::{DeclareInput, Declared};

/// What the writer is asked to write: declarations, committed in batches; or the linked
/// incidents a supplier's incident opens, committed alone after the batch they came with.
// Declarations are nearly all of the traffic: kept inline, not boxed, on the hot path.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Work {
    Declare(Job),
    Linked(LinkedJob),
}

/// Linked incidents at a supplier's clients, prepared on the caller's task.
pub(crate) struct LinkedJob {
    /// The supplier's incident.
    pub(crate) parent: incident::Model,
    pub(crate) user: User,
    /// Each client, what is declared there, and its rows as prepared (routed again under
    /// the write lock if what routed them has changed).
    pub(crate) clients: Vec<(organisation::Model, DeclareInput, Option<Prepared>)>,
    pub(crate) channels: Channels,
    /// How many linked incidents the parent had when these were prepared.
    pub(crate) already: usize,
    /// The parent's timeline line.
    pub(crate) detail: String,
    pub(crate) reply: oneshot::Sender<Result<Vec<String>, AppError>>,
}

/// A declaration waiting for the writer, with what is needed to route it again if what it
/// was routed by has changed by then.
pub(crate) struct Job {
    /// Taken by the writer when it writes it; routed again if it has to write it again.
    pub(crate) prepared: Option<Prepared>,
    pub(crate) user: User,
    pub(crate) input: DeclareInput,
    /// The channels its assignees are paged on.
    pub(crate) channels: Channels,
    pub(crate) reply: oneshot::Sender<Result<Declared, AppError>>,
}

/// Plans kept in memory, per (organisation as asked for, kind).
#[derive(Debug)]
pub(crate) struct Plans {
    /// The generation the writer last found in the database.
    seen: AtomicI64,
    map: Mutex<HashMap<(String, IncidentKind), Arc<Plan>>>,
}

/// Most declarations written in one transaction.
pub(crate) const BATCH_MOST: usize = 256;

/// How many times the writer lets waiting requests run before it writes a batch.
pub(crate) const GATHER_ROUNDS: usize = 8;

/// Plans kept before the cache starts again (each is a few kilobytes).
pub(crate) const PLANS_KEPT: usize = 4096;

/// Writes declarations through one writer that commits whatever is waiting together (group
/// commit): one durable commit and one insert per table for a burst of declarations
/// instead of one each. Routing is read once per organisation and kind and kept while the
/// database's change generation says it is still true; the writer checks that generation
/// under its write lock and routes again any declaration whose plan went out of date. A
/// declaration's reference is returned only after the commit that holds it.
#[derive(Clone, Debug)]
pub struct Declarations {
    tx: mpsc::Sender<Work>,
    plans: Arc<Plans>,
    /// The channels assignees are paged on (none until [`Declarations::paging`]).
    channels: Channels,
    /// Told when a batch commits, so its pages leave at once (the delivery engine's waker).
    wake: Arc<Mutex<Option<Arc<tokio::sync::Notify>>>>,
    /// Batches and declarations handed to the writer so far.
    counts: Arc<[AtomicU64; 2]>,
}

impl Declarations {
    /// Starts the writer on the current Tokio runtime.
    pub fn start(db: DatabaseConnection) -> Declarations {
        Declarations::start_with(db, BATCH_MOST)
    }

    /// A writer that commits each declaration in a transaction of its own: for comparison
    /// (`--bench declarations`), never what the server runs.
    pub fn one_at_a_time(db: DatabaseConnection) -> Declarations {
        Declarations::start_with(db, 1)
    }

    fn start_with(db: DatabaseConnection, most: usize) -> Declarations {
        let (tx, mut rx) = mpsc::channel::<Work>(4096);
        let plans = Arc::new(Plans {
            seen: AtomicI64::new(i64::MIN),
            map: Mutex::new(HashMap::new()),
        });
        let writer_plans = plans.clone();
        let wake: Arc<Mutex<Option<Arc<tokio::sync::Notify>>>> = Arc::default();
        let writer_wake = wake.clone();
        let counts: Arc<[AtomicU64; 2]> = Arc::default();
        let writer_counts = counts.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(most);
            while rx.recv_many(&mut batch, most).await > 0 {
                // Declarations being prepared at this moment join this batch instead of
                // waiting for it to commit: let them run, and take what they sent, for as
                // long as more keep coming (a few rounds at most, no timer involved).
                for _ in 0..GATHER_ROUNDS {
                    tokio::task::yield_now().await;
                    let before = batch.len();
                    while batch.len() < most {
                        match rx.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    if batch.len() == before {
                        break;
                    }
                }
                let (mut jobs, mut linked) = (Vec::new(), Vec::new());
                for work in batch.drain(..) {
                    match work {
                        Work::Declare(job) => jobs.push(job),
                        Work::Linked(job) => linked.push(job),
                    }
                }
                if !jobs.is_empty() {
                    writer_counts[0].fetch_add(1, Ordering::Relaxed);
                    writer_counts[1].fetch_add(jobs.len() as u64, Ordering::Relaxed);
                    write_batch(&db, &writer_plans, jobs).await;
                }
                for mut job in linked {
                    let outcome = commit_linked(&db, &mut job).await;
                    let _ = job.reply.send(outcome);
                }
                let waker = writer_wake.lock().ok().and_then(|w| w.clone());
                if let Some(w) = waker {
                    w.notify_one();
                }
            }
        });
        Declarations {
            tx,
            plans,
            channels: Channels::default(),
            wake,
            counts,
        }
    }

    /// Pages each assignee by their notification rules on `channels`, waking `wake` (the
    /// delivery engine) when a batch has committed.
    pub fn paging(
        self,
        channels: Channels,
        wake: Option<Arc<tokio::sync::Notify>>,
    ) -> Declarations {
        if let Ok(mut w) = self.wake.lock() {
            *w = wake;
        }
        Declarations { channels, ..self }
    }

    /// (batches, declarations) the writer has been given so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.counts[0].load(Ordering::Relaxed),
            self.counts[1].load(Ordering::Relaxed),
        )
    }

    /// The channels assignees are paged on.
    pub fn channels(&self) -> Channels {
        self.channels
    }

    /// Wakes the delivery engine: pages were committed outside the writer (a task handed to
    /// someone, an organisation added, linked incidents opened) and should leave now rather
    /// than at the engine's next tick.
    pub fn pages_written(&self) {
        if let Some(w) = self.wake.lock().ok().and_then(|w| w.clone()) {
            w.notify_one();
        }
    }

    /// Declares an incident: checked and routed on the caller's task, written by the writer.
    #[tracing::instrument(skip_all, err)]
    pub async fn declare(
        &self,
        db: &DatabaseConnection,
        user: &User,
        input: DeclareInput,
    ) -> Result<Declared, AppError> {
        let plan = self.plan(db, user, &input).await?;
        may_declare(user, &plan.chain)?;
        check_assets(db, plan.org.id, &input.assets).await?;
        let prepared = prepare(user, &plan, &input, None, self.channels)?;
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Work::Declare(Job {
                prepared: Some(prepared),
                user: user.clone(),
                input,
                channels: self.channels,
                reply,
            }))
            .await
            .map_err(|_| AppError::Unavailable)?;
        answer.await.map_err(|_| AppError::Unavailable)?
    }

    /// Writes a supplier's incident's linked incidents, through the writer like every
    /// incident. Returns their references.
    pub(crate) async fn write_linked(
        &self,
        parent: incident::Model,
        user: &User,
        clients: Vec<(organisation::Model, DeclareInput, Prepared)>,
        already: usize,
        detail: String,
    ) -> Result<Vec<String>, AppError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Work::Linked(LinkedJob {
                parent,
                user: user.clone(),
                clients: clients
                    .into_iter()
                    .map(|(org, input, p)| (org, input, Some(p)))
                    .collect(),
                channels: self.channels,
                already,
                detail,
                reply,
            }))
            .await
            .map_err(|_| AppError::Unavailable)?;
        answer.await.map_err(|_| AppError::Unavailable)?
    }

    /// The plan for this declaration: the one kept, while the writer has seen nothing
    /// change since it was read, else read again.
    async fn plan(
        &self,
        db: &DatabaseConnection,
        user: &User,
        input: &DeclareInput,
    ) -> Result<Arc<Plan>, AppError> {
        let asked = match input.org_code.as_deref().map(str::trim) {
            Some(code) if !code.is_empty() => code.to_ascii_uppercase(),
            _ => format!("#{}", user.grants.first().ok_or(AppError::Forbidden)?.0),
        };
        let key = (asked, input.kind);
        let now = timeline::now();
        let seen = self.plans.seen.load(Ordering::Acquire);
        if let Some(plan) = self
            .plans
            .lock()
            .get(&key)
            .filter(|p| p.routed.current(seen, now))
        {
            return Ok(plan.clone());
        }
        let (org, chain) = declaring_org(db, user, input.org_code.as_deref()).await?;
        let plan = Arc::new(Plan::load(db, org, chain, input.kind, now).await?);
        let mut map = self.plans.lock();
        if map.len() >= PLANS_KEPT {
            map.clear();
        }
        map.insert(key, plan.clone());
        Ok(plan)
    }
}

impl Plans {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, IncidentKind), Arc<Plan>>> {
        // A panic while holding it leaves only a cache behind: keep using it.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) async fn write_batch(db: &DatabaseConnection, plans: &Plans, mut batch: Vec<Job>) {
    // The common case: every declaration in one transaction, one durable commit.
    match commit_batch(db, &mut batch).await {
        Ok((generation, outcomes)) => {
            plans.seen.store(generation, Ordering::Release);
            for (job, outcome) in batch.into_iter().zip(outcomes) {
                let _ = job.reply.send(outcome);
            }
        }
        // Something in the batch failed (and the whole batch rolled back): write each
        // alone, routed again, so one bad declaration cannot take the others with it.
        Err(_) => {
            for mut job in batch {
                let one = commit_batch(db, std::slice::from_mut(&mut job)).await;
                let outcome = match one {
                    Ok((_, mut o)) => o.pop().unwrap_or(Err(AppError::Unavailable)),
                    Err(e) => Err(e),
                };
                let _ = job.reply.send(outcome);
            }
        }
    }
}

/// Writes a batch in one transaction. Under the write lock it reads the change generation;
/// a declaration routed by a plan that is no longer current is routed again there and
/// then (and refused if its organisation or the person's right to declare there is gone).
/// Returns the generation and each declaration's outcome, in order.
pub(crate) async fn commit_batch(
    db: &DatabaseConnection,
    batch: &mut [Job],
) -> Result<(i64, Vec<Result<Declared, AppError>>), AppError> {
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite
        && let Some(done) = commit_batch_sqlite(db.get_sqlite_connection_pool(), batch).await?
    {
        return Ok(done);
    }
    if db.get_database_backend() == sea_orm::DbBackend::Postgres
        && let Some(done) = commit_batch_postgres(db.get_postgres_connection_pool(), batch).await?
    {
        return Ok(done);
    }
    let txn = db.begin().await?;
    let generation = generation::read_for_write(&txn).await?;
    let now = timeline::now();
    let mut ready = Vec::with_capacity(batch.len());
    let mut refused: HashMap<usize, AppError> = HashMap::new();
    for (i, job) in batch.iter_mut().enumerate() {
        if let Some(p) = job.prepared.take_if(|p| p.routed.current(generation, now)) {
            ready.push(p);
            continue;
        }
        match plan_and_prepare(&txn, &job.user, &job.input, job.channels).await {
            Ok(again) => ready.push(again),
            Err(e @ AppError::Internal(_)) => return Err(e),
            Err(e) => {
                refused.insert(i, e);
            }
        }
    }
    let mut written = write_all(&txn, ready).await?.into_iter();
    txn.commit().await?;
    let outcomes = (0..batch.len())
        .map(|i| match refused.remove(&i) {
            Some(e) => Err(e),
            None => written
                .next()
                .map(|(_, declared)| declared)
                .ok_or_else(|| crate::backend::errors::internal("declare", &"batch miscounted")),
        })
        .collect();
    Ok((generation, outcomes))
}

/// Writes one supplier incident's linked incidents in a transaction of their own: refused
/// if linked incidents were opened since they were prepared (a second click), each routed
/// again if what routed it has changed, the parent's timeline and the audit in the same
/// commit.
async fn commit_linked(
    db: &DatabaseConnection,
    job: &mut LinkedJob,
) -> Result<Vec<String>, AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let txn = db.begin().await?;
    let generation = generation::read_for_write(&txn).await?;
    touch(&txn, job.parent.id).await?;
    let now_linked = incident::Entity::find()
        .filter(incident::Column::ParentId.eq(job.parent.id))
        .count(&txn)
        .await?;
    if now_linked as usize != job.already {
        return Err(AppError::Conflict(
            "Linked incidents were opened just now. Reload to see them.".into(),
        ));
    }
    let now = timeline::now();
    let mut ready = Vec::with_capacity(job.clients.len());
    for (org, input, prepared) in &mut job.clients {
        if let Some(p) = prepared.take_if(|p| p.routed.current(generation, now)) {
            ready.push(p);
            continue;
        }
        let chain = orgs::chain(&txn, org.id).await?;
        let plan = Plan::load(&txn, org.clone(), chain, input.kind, now).await?;
        ready.push(prepare(
            &job.user,
            &plan,
            input,
            Some(job.parent.id),
            job.channels,
        )?);
    }
    let refs = write_all(&txn, ready)
        .await?
        .into_iter()
        .map(|(_, declared)| declared.reference)
        .collect();
    finish(
        &txn,
        &job.user,
        &job.parent,
        "linked",
        "incident_linked",
        job.detail.clone(),
    )
    .await?;
    txn.commit().await?;
    Ok(refs)
}
