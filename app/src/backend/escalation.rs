//! The escalation engine. Every task (and every commander's acknowledgement) has a row in
//! `escalation` saying when its next step is due. The engine wakes for the earliest
//! deadline, and decides each due row with one conditional update (still unacknowledged,
//! still at this level, still due) in a transaction that also writes the notifications to
//! the outbox under a uniqueness key (subject, level, round, recipient, channel). So two
//! engines on one database, or one restarted after a crash, never fire a step twice, and a
//! decision is never lost between being made and being delivered. Delivery is at least once,
//! with retries and back-off; every attempt is recorded and put on the incident timeline.
//!
//! Time comes from a [`Clock`], so tests move it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use time::{Duration, OffsetDateTime};
use tokio::sync::Notify;

use super::entity::{
    delivery_attempt, escalation, escalation_level, escalation_policy, incident, incident_command,
    notification, notification_pref, person, setting, task, webhook,
};
use super::incidents::Router;
use super::tokens::hex;
use super::{orgs, timeline};
use crate::domain::escalation::{
    LevelInput, LevelSpec, MAX_ATTEMPTS, Next, Target, backoff_seconds, next,
};
use crate::error::AppError;

/// Where time comes from.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// The wall clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        timeline::now()
    }
}

/// A clock tests set and move.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new(at: OffsetDateTime) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A timeline entry waiting to be written: (actor, kind, text).
type TimelineEntry = (Option<i64>, String, String);

pub const TASK: &str = "task";
pub const COMMAND: &str = "command";

/// A policy in force: its levels, its repeats, and whose it is (None: national).
#[derive(Debug, Clone)]
pub struct Policy {
    pub owner: Option<i64>,
    pub repeat_count: i32,
    pub levels: Vec<LevelSpec>,
}

/// Adds the national default policy if there is none.
pub async fn seed_policy(db: &impl ConnectionTrait) -> Result<bool, AppError> {
    if escalation_policy::Entity::find()
        .filter(escalation_policy::Column::OrgId.is_null())
        .one(db)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let (repeat, levels) = crate::domain::escalation::national_default();
    save_policy(db, None, repeat, &levels, None).await?;
    Ok(true)
}

/// Replaces an organisation's own policy (None: the national default).
pub async fn save_policy(
    db: &impl ConnectionTrait,
    org_id: Option<i64>,
    repeat_count: i32,
    levels: &[LevelSpec],
    by: Option<i64>,
) -> Result<(), AppError> {
    let now = timeline::now();
    let existing = escalation_policy::Entity::find()
        .filter(match org_id {
            Some(id) => escalation_policy::Column::OrgId.eq(id),
            None => escalation_policy::Column::OrgId.is_null(),
        })
        .one(db)
        .await?;
    let policy = match existing {
        Some(p) => {
            escalation_level::Entity::delete_many()
                .filter(escalation_level::Column::PolicyId.eq(p.id))
                .exec(db)
                .await?;
            let mut m: escalation_policy::ActiveModel = p.into();
            m.repeat_count = Set(repeat_count);
            m.updated_at = Set(now);
            m.updated_by = Set(by);
            m.update(db).await?
        }
        None => {
            escalation_policy::ActiveModel {
                org_id: Set(org_id),
                repeat_count: Set(repeat_count),
                updated_at: Set(now),
                updated_by: Set(by),
                ..Default::default()
            }
            .insert(db)
            .await?
        }
    };
    for (i, l) in levels.iter().enumerate() {
        escalation_level::ActiveModel {
            policy_id: Set(policy.id),
            position: Set(i as i32 + 1),
            timeout_seconds: Set(l.timeout_seconds),
            targets: Set(serde_json::to_string(&l.targets)
                .map_err(|e| super::errors::internal("targets", &e))?),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The policy in force for an organisation: its own, else the nearest ancestor's, else the
/// national default.
pub async fn policy_for(db: &impl ConnectionTrait, org_id: i64) -> Result<Policy, AppError> {
    let chain = orgs::chain(db, org_id).await?;
    policy_along(db, &chain).await
}

/// As [`policy_for`], for a chain already read (the organisation first).
pub async fn policy_along(db: &impl ConnectionTrait, chain: &[i64]) -> Result<Policy, AppError> {
    let policies = escalation_policy::Entity::find()
        .filter(
            Condition::any()
                .add(escalation_policy::Column::OrgId.is_in(chain.to_vec()))
                .add(escalation_policy::Column::OrgId.is_null()),
        )
        .all(db)
        .await?;
    let chosen = chain
        .iter()
        .find_map(|o| policies.iter().find(|p| p.org_id == Some(*o)))
        .or_else(|| policies.iter().find(|p| p.org_id.is_none()));
    let Some(p) = chosen else {
        let (repeat_count, levels) = crate::domain::escalation::national_default();
        return Ok(Policy {
            owner: None,
            repeat_count,
            levels,
        });
    };
    let levels = escalation_level::Entity::find()
        .filter(escalation_level::Column::PolicyId.eq(p.id))
        .order_by_asc(escalation_level::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|l| LevelSpec {
            timeout_seconds: l.timeout_seconds,
            targets: serde_json::from_str(&l.targets).unwrap_or_default(),
        })
        .collect();
    Ok(Policy {
        owner: p.org_id,
        repeat_count: p.repeat_count,
        levels,
    })
}

/// When a new subject first escalates: after the first level's time-out, or at its due time
/// if that comes first.
pub fn first_deadline(
    policy: &Policy,
    created: OffsetDateTime,
    due: Option<OffsetDateTime>,
) -> Option<OffsetDateTime> {
    let by_policy = policy
        .levels
        .first()
        .map(|l| created + Duration::seconds(l.timeout_seconds.into()));
    match (by_policy, due) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A row to start tracking a subject.
pub fn tracking(
    subject: &str,
    subject_id: i64,
    incident_id: i64,
    org_id: i64,
    fires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> escalation::ActiveModel {
    escalation::ActiveModel {
        subject: Set(subject.to_owned()),
        subject_id: Set(subject_id),
        incident_id: Set(incident_id),
        org_id: Set(org_id),
        level: Set(0),
        round: Set(0),
        fires_at: Set(fires_at),
        acknowledged_at: Set(None),
        flagged: Set(false),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Stops a subject escalating: it was acknowledged. Part of the acknowledging transaction.
pub async fn acknowledge(
    db: &impl ConnectionTrait,
    subject: &str,
    subject_id: i64,
    at: OffsetDateTime,
) -> Result<(), AppError> {
    escalation::Entity::update_many()
        .filter(escalation::Column::Subject.eq(subject))
        .filter(escalation::Column::SubjectId.eq(subject_id))
        .filter(escalation::Column::AcknowledgedAt.is_null())
        .col_expr(escalation::Column::AcknowledgedAt, Expr::value(at))
        .col_expr(escalation::Column::UpdatedAt, Expr::value(at))
        .exec(db)
        .await?;
    Ok(())
}

/// Starts a subject's escalation again from the beginning (it was reassigned).
pub async fn restart(
    db: &impl ConnectionTrait,
    subject: &str,
    subject_id: i64,
    fires_at: Option<OffsetDateTime>,
    at: OffsetDateTime,
) -> Result<(), AppError> {
    escalation::Entity::update_many()
        .filter(escalation::Column::Subject.eq(subject))
        .filter(escalation::Column::SubjectId.eq(subject_id))
        .col_expr(escalation::Column::Level, Expr::value(0))
        .col_expr(escalation::Column::Round, Expr::value(0))
        .col_expr(escalation::Column::FiresAt, Expr::value(fires_at))
        .col_expr(
            escalation::Column::AcknowledgedAt,
            Expr::value(Option::<OffsetDateTime>::None),
        )
        .col_expr(escalation::Column::Flagged, Expr::value(false))
        .col_expr(escalation::Column::UpdatedAt, Expr::value(at))
        .exec(db)
        .await?;
    Ok(())
}

/// The key that signs acknowledgement links, made once and kept in the database (sealed
/// under the secret key, `secrets`) so every server instance shares it.
pub async fn signing_key(db: &impl ConnectionTrait) -> Result<Vec<u8>, AppError> {
    const KEY: &str = super::secrets::LINK_KEY_SETTING;
    let unseal = |stored: &str| {
        use secrecy::ExposeSecret;
        hex_decode(super::secrets::open(stored)?.expose_secret())
            .ok_or_else(|| AppError::Internal("signing key".into()))
    };
    if let Some(s) = setting::Entity::find_by_id(KEY.to_owned()).one(db).await? {
        return unseal(&s.value);
    }
    let fresh = super::tokens::new_token() + &super::tokens::new_token();
    let _ = setting::Entity::insert(setting::ActiveModel {
        key: Set(KEY.to_owned()),
        value: Set(super::secrets::seal(&hex(fresh.as_bytes()))?),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    let s = setting::Entity::find_by_id(KEY.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal("signing key".into()))?;
    unseal(&s.value)
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn mac(key: &[u8], message: &str) -> String {
    use hmac::Mac;
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    m.update(message.as_bytes());
    hex(&m.finalize().into_bytes())
}

/// A signed, expiring link token for one notification: `id.expiry.signature`.
pub fn sign_link(key: &[u8], notification_id: i64, expires: OffsetDateTime) -> String {
    let body = format!("{notification_id}.{}", expires.unix_timestamp());
    format!("{body}.{}", mac(key, &body))
}

/// Checks a link token's signature and expiry; returns the notification id.
pub fn verify_link(key: &[u8], token: &str, now: OffsetDateTime) -> Result<i64, AppError> {
    let bad = || {
        AppError::Invalid("This link is not valid. Open the incident in Wardline instead.".into())
    };
    let mut parts = token.trim().splitn(3, '.');
    let (Some(id), Some(exp), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let expected = mac(key, &format!("{id}.{exp}"));
    // Constant-time comparison of the signatures.
    let same = expected.len() == sig.len()
        && expected
            .bytes()
            .zip(sig.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(bad());
    }
    let exp: i64 = exp.parse().map_err(|_| bad())?;
    if now.unix_timestamp() > exp {
        return Err(AppError::Invalid(
            "This link has expired. Open the incident in Wardline instead.".into(),
        ));
    }
    id.parse().map_err(|_| bad())
}

/// SMTP settings. Email is off when there is no host.
#[derive(Debug, Clone, Default)]
pub struct MailSettings {
    pub host: Option<String>,
    pub port: u16,
    pub from: String,
    /// none, starttls or tls
    pub security: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Sends what the outbox holds: email through SMTP, webhooks as signed JSON POSTs.
#[derive(Clone)]
pub struct Delivery {
    mail: Option<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>>,
    from: String,
    http: reqwest::Client,
    public_url: String,
    allow_private_webhooks: bool,
}

impl Delivery {
    pub fn new(mail: &MailSettings, public_url: &str) -> Result<Delivery, AppError> {
        use lettre::AsyncSmtpTransport;
        let transport = match &mail.host {
            None => None,
            Some(host) => {
                let mut b = match mail.security.as_str() {
                    "tls" => AsyncSmtpTransport::<lettre::Tokio1Executor>::relay(host)
                        .map_err(|e| super::errors::internal("smtp", &e))?,
                    "starttls" => {
                        AsyncSmtpTransport::<lettre::Tokio1Executor>::starttls_relay(host)
                            .map_err(|e| super::errors::internal("smtp", &e))?
                    }
                    _ => AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(host),
                };
                b = b.port(mail.port).timeout(Some(StdDuration::from_secs(10)));
                if let (Some(u), Some(p)) = (&mail.username, &mail.password) {
                    b = b.credentials(lettre::transport::smtp::authentication::Credentials::new(
                        u.clone(),
                        p.clone(),
                    ));
                }
                Some(b.build())
            }
        };
        Ok(Delivery {
            mail: transport,
            from: mail.from.clone(),
            http: webhook_client(false)?,
            public_url: public_url.trim_end_matches('/').to_owned(),
            allow_private_webhooks: false,
        })
    }

    /// Lets webhooks reach loopback and private addresses: local development only.
    pub fn allowing_private_webhooks(mut self, allow: bool) -> Result<Delivery, AppError> {
        self.http = webhook_client(allow)?;
        self.allow_private_webhooks = allow;
        Ok(self)
    }

    pub fn email_enabled(&self) -> bool {
        self.mail.is_some()
    }

    async fn email(&self, to: &str, subject: &str, body: &str) -> Result<String, String> {
        use lettre::AsyncTransport;
        let Some(mail) = &self.mail else {
            return Err("email is not configured".into());
        };
        let message = lettre::Message::builder()
            .from(
                self.from
                    .parse()
                    .map_err(|e| format!("sender address: {e}"))?,
            )
            .to(to.parse().map_err(|e| format!("recipient address: {e}"))?)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| e.to_string())?;
        mail.send(message)
            .await
            .map(|r| format!("accepted by the mail server ({})", r.code()))
            .map_err(|e| format!("mail server refused or unreachable: {e}"))
    }

    /// Posts to a webhook. What comes back is only a status class: the remote's answer is
    /// never written on the timeline.
    async fn post(
        &self,
        hook: &webhook::Model,
        payload: &serde_json::Value,
    ) -> Result<String, String> {
        use super::webhook_target::{self as target, Refused};
        let url = reqwest::Url::parse(&hook.url).map_err(|_| "refused: not a URL".to_owned())?;
        // A literal address never reaches the resolver, so it is checked here.
        if let Some(ip) = url.host_str().and_then(target::literal)
            && !self.allow_private_webhooks
            && !target::is_public(ip)
        {
            return Err(Refused::PrivateAddress.to_string());
        }
        let body = payload.to_string();
        let ts = OffsetDateTime::now_utc().unix_timestamp();
        let secret = super::secrets::open(&hook.secret).map_err(|e| e.to_string())?;
        let signature = {
            use secrecy::ExposeSecret;
            mac(secret.expose_secret().as_bytes(), &format!("{ts}.{body}"))
        };
        let res = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header("X-Wardline-Timestamp", ts.to_string())
            .header("X-Wardline-Signature", format!("sha256={signature}"))
            .body(body)
            .send()
            .await
            .map_err(|e| {
                if let Some(refused) = target::refusal_in(&e) {
                    refused.to_string()
                } else if e.is_timeout() {
                    "the webhook timed out: no answer within 5 seconds".to_owned()
                } else {
                    "the webhook could not be reached".to_owned()
                }
            })?;
        let class = format!("webhook answered {}xx", res.status().as_u16() / 100);
        if res.status().is_success() {
            Ok(class)
        } else {
            Err(class)
        }
    }
}

/// The client webhooks are posted with: no redirects, no proxy from the environment, and a
/// resolver that connects only to addresses it has checked.
fn webhook_client(allow_private: bool) -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .timeout(StdDuration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(super::webhook_target::CheckedResolver {
            allow_private,
        }))
        .build()
        .map_err(|e| super::errors::internal("http client", &e))
}

/// Signs a webhook body as a receiver would check it.
pub fn webhook_signature(secret: &str, timestamp: &str, body: &str) -> String {
    format!(
        "sha256={}",
        mac(secret.as_bytes(), &format!("{timestamp}.{body}"))
    )
}

/// What one subject is, for messages: (title, incident reference, assignee).
struct About {
    title: String,
    reference: String,
}

/// The engine: decides due escalations and delivers the outbox.
pub struct Engine {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    delivery: Delivery,
    /// Fault injection for the crash test: abort the process right after a decision commits.
    abort_after_decision: bool,
    /// Open pages to refresh (inbox counts, incident timelines).
    live: Option<tokio::sync::broadcast::Sender<super::state::LiveEvent>>,
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
    pub fn with_live(
        mut self,
        live: tokio::sync::broadcast::Sender<super::state::LiveEvent>,
    ) -> Engine {
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
            .filter(notification::Column::Status.eq("pending"))
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

    async fn decide(
        &self,
        rows: &[escalation::Model],
        now: OffsetDateTime,
    ) -> Result<usize, AppError> {
        // Everything read first, outside the transaction.
        let mut policies: HashMap<i64, Policy> = HashMap::new();
        let mut routers: HashMap<i64, Router> = HashMap::new();
        let mut fixed: HashMap<String, Option<Router>> = HashMap::new();
        for e in rows {
            if let std::collections::hash_map::Entry::Vacant(v) = policies.entry(e.org_id) {
                v.insert(policy_for(&self.db, e.org_id).await?);
            }
            if let std::collections::hash_map::Entry::Vacant(v) = routers.entry(e.org_id) {
                v.insert(Router::load(&self.db, e.org_id, now).await?);
            }
            for l in &policies[&e.org_id].levels {
                for t in &l.targets {
                    if let Target::Role {
                        org: Some(code), ..
                    } = t
                        && !fixed.contains_key(code)
                    {
                        let r = match orgs::find_by_code(&self.db, code).await? {
                            Some(o) => Some(Router::load(&self.db, o.id, now).await?),
                            None => None,
                        };
                        fixed.insert(code.clone(), r);
                    }
                }
            }
        }
        let about = self.about(rows).await?;
        let mut wanted: HashSet<i64> = routers.values().flat_map(|r| r.people()).collect();
        wanted.extend(fixed.values().flatten().flat_map(|r| r.people()));
        for p in policies.values() {
            for l in &p.levels {
                for t in &l.targets {
                    if let Target::Person { id } = t {
                        wanted.insert(*id);
                    }
                }
            }
        }
        let people = self.people(wanted).await?;
        let hooks: HashMap<i64, webhook::Model> = webhook::Entity::find()
            .filter(webhook::Column::Enabled.eq(true))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|w| (w.org_id, w))
            .collect();
        let incident_orgs: HashMap<i64, i64> = incident::Entity::find()
            .filter(
                incident::Column::Id.is_in(rows.iter().map(|e| e.incident_id).collect::<Vec<_>>()),
            )
            .all(&self.db)
            .await?
            .into_iter()
            .map(|i| (i.id, i.org_id))
            .collect();

        let txn = self.db.begin().await?;
        let mut decided = 0;
        let mut changed: Vec<super::state::LiveEvent> = Vec::new();
        // Written together after the decisions: one insert for the outbox, one per incident
        // for its timeline.
        let mut outbox_rows: Vec<notification::ActiveModel> = Vec::new();
        let mut lines: Vec<(i64, Vec<TimelineEntry>)> = Vec::new();
        let mut line =
            |incident: i64, text: String| match lines.iter_mut().find(|(i, _)| *i == incident) {
                Some((_, v)) => v.push((None, "escalation".to_owned(), text)),
                None => lines.push((incident, vec![(None, "escalation".to_owned(), text)])),
            };
        for e in rows {
            let policy = &policies[&e.org_id];
            let step = next(e.level, e.round, policy.levels.len(), policy.repeat_count);
            let mut q = escalation::Entity::update_many()
                .filter(escalation::Column::Id.eq(e.id))
                .filter(escalation::Column::Level.eq(e.level))
                .filter(escalation::Column::Round.eq(e.round))
                .filter(escalation::Column::AcknowledgedAt.is_null())
                .filter(escalation::Column::Flagged.eq(false))
                .filter(escalation::Column::FiresAt.lte(now))
                .col_expr(escalation::Column::UpdatedAt, Expr::value(now));
            q = match step {
                Next::Notify { level, round } => {
                    let timeout = policy.levels[(level - 1) as usize].timeout_seconds;
                    q.col_expr(escalation::Column::Level, Expr::value(level))
                        .col_expr(escalation::Column::Round, Expr::value(round))
                        .col_expr(
                            escalation::Column::FiresAt,
                            Expr::value(now + Duration::seconds(timeout.into())),
                        )
                }
                Next::Flag => q
                    .col_expr(escalation::Column::Flagged, Expr::value(true))
                    .col_expr(
                        escalation::Column::FiresAt,
                        Expr::value(Option::<OffsetDateTime>::None),
                    ),
            };
            if q.exec(&txn).await?.rows_affected != 1 {
                continue; // acknowledged meanwhile, or another engine took this step
            }
            decided += 1;
            let a = about.get(&(e.subject.clone(), e.subject_id));
            let title = a.map(|a| a.title.clone()).unwrap_or_default();
            let reference = a.map(|a| a.reference.clone()).unwrap_or_default();
            match step {
                Next::Flag => {
                    line(
                        e.incident_id,
                        format!(
                            "“{title}” is still not acknowledged after the whole escalation path: flagged for national attention"
                        ),
                    );
                }
                Next::Notify { level, round } => {
                    let spec = &policy.levels[(level - 1) as usize];
                    let mut told: Vec<(i64, String)> = Vec::new();
                    for t in &spec.targets {
                        let found = match t {
                            Target::Person { id } => people
                                .get(id)
                                .filter(|p| !p.disabled)
                                .map(|p| (p.id, p.display_name.clone())),
                            Target::Role { key, above, org } => {
                                let (router, skip) = match org {
                                    Some(code) => (fixed.get(code).and_then(|r| r.as_ref()), 0),
                                    None => (routers.get(&e.org_id), usize::from(*above)),
                                };
                                router.and_then(|r| {
                                    let (who, _, how) = r.route_from(key, skip);
                                    who.map(|w| (w, how))
                                })
                            }
                        };
                        if let Some(f) = found
                            && !told.iter().any(|(id, _)| *id == f.0)
                        {
                            told.push(f);
                        }
                    }
                    let msg_title =
                        format!("Escalated to you: “{title}” ({reference}) is not acknowledged");
                    let mut rows_out = Vec::new();
                    for (pid, how) in &told {
                        let body = format!(
                            "“{title}” in incident {reference} has not been acknowledged in time. You are at level {level} of the escalation path ({how}). Open {}/incidents/{reference} to act.",
                            self.delivery.public_url
                        );
                        let key = format!("person:{pid}");
                        rows_out.push(outbox(
                            e,
                            level,
                            round,
                            &key,
                            Some(*pid),
                            "inbox",
                            &msg_title,
                            &body,
                            "sent",
                            now,
                        ));
                        let wants_email = self.delivery.email_enabled()
                            && people.get(pid).is_some_and(|p| p.email_ok);
                        if wants_email {
                            rows_out.push(outbox(
                                e,
                                level,
                                round,
                                &key,
                                Some(*pid),
                                "email",
                                &msg_title,
                                &body,
                                "pending",
                                now,
                            ));
                        }
                    }
                    let org = incident_orgs
                        .get(&e.incident_id)
                        .copied()
                        .unwrap_or(e.org_id);
                    if let Some(h) = hooks.get(&org) {
                        let body = serde_json::json!({
                            "text": format!("Wardline: “{title}” in {reference} is not acknowledged; escalated to level {level}: {}", told.iter().map(|t| t.1.clone()).collect::<Vec<_>>().join("; ")),
                            "incident": reference,
                            "level": level,
                            "round": round,
                        })
                        .to_string();
                        rows_out.push(outbox(
                            e,
                            level,
                            round,
                            &format!("webhook:{}", h.id),
                            None,
                            "webhook",
                            &msg_title,
                            &body,
                            "pending",
                            now,
                        ));
                    }
                    changed.push(super::state::LiveEvent {
                        reference: reference.clone(),
                        people: told.iter().map(|t| t.0).collect(),
                    });
                    outbox_rows.extend(rows_out);
                    let names = if told.is_empty() {
                        "nobody could be found for this level".to_owned()
                    } else {
                        told.iter()
                            .map(|t| t.1.clone())
                            .collect::<Vec<_>>()
                            .join("; ")
                    };
                    line(
                        e.incident_id,
                        format!(
                            "“{title}” not acknowledged in time: escalated to level {level}{}: {names}",
                            if round > 0 {
                                format!(" (repeat {round})")
                            } else {
                                String::new()
                            }
                        ),
                    );
                }
            }
        }
        for part in outbox_rows.chunks(500) {
            notification::Entity::insert_many(part.to_vec())
                .on_conflict_do_nothing_on([
                    notification::Column::Subject,
                    notification::Column::SubjectId,
                    notification::Column::Level,
                    notification::Column::Round,
                    notification::Column::RecipientKey,
                    notification::Column::Channel,
                ])
                .exec_without_returning(&txn)
                .await?;
        }
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

    async fn about(
        &self,
        rows: &[escalation::Model],
    ) -> Result<HashMap<(String, i64), About>, AppError> {
        let refs: HashMap<i64, String> = incident::Entity::find()
            .filter(
                incident::Column::Id.is_in(rows.iter().map(|e| e.incident_id).collect::<Vec<_>>()),
            )
            .all(&self.db)
            .await?
            .into_iter()
            .map(|i| (i.id, i.reference))
            .collect();
        let drills: HashSet<i64> = incident::Entity::find()
            .filter(
                incident::Column::Id.is_in(rows.iter().map(|e| e.incident_id).collect::<Vec<_>>()),
            )
            .filter(incident::Column::Exercise.is_not_null())
            .all(&self.db)
            .await?
            .into_iter()
            .map(|i| i.id)
            .collect();
        // An exercise's messages say so, wherever they are read.
        let marked = |incident_id: i64, title: String| {
            if drills.contains(&incident_id) {
                format!("[EXERCISE] {title}")
            } else {
                title
            }
        };
        let mut out = HashMap::new();
        let task_ids: Vec<i64> = rows
            .iter()
            .filter(|e| e.subject == TASK)
            .map(|e| e.subject_id)
            .collect();
        for t in task::Entity::find()
            .filter(task::Column::Id.is_in(task_ids))
            .all(&self.db)
            .await?
        {
            out.insert(
                (TASK.to_owned(), t.id),
                About {
                    title: marked(t.incident_id, t.title),
                    reference: refs.get(&t.incident_id).cloned().unwrap_or_default(),
                },
            );
        }
        let cmd_ids: Vec<i64> = rows
            .iter()
            .filter(|e| e.subject == COMMAND)
            .map(|e| e.subject_id)
            .collect();
        for c in incident_command::Entity::find()
            .filter(incident_command::Column::Id.is_in(cmd_ids))
            .all(&self.db)
            .await?
        {
            let label = crate::domain::incidents::Command::parse(&c.command)
                .map(|c| c.label())
                .unwrap_or("Command");
            out.insert(
                (COMMAND.to_owned(), c.id),
                About {
                    title: marked(c.incident_id, format!("{label} to acknowledge command")),
                    reference: refs.get(&c.incident_id).cloned().unwrap_or_default(),
                },
            );
        }
        Ok(out)
    }

    /// The people a decision may name, with whether they take email.
    async fn people(&self, ids: HashSet<i64>) -> Result<HashMap<i64, Person>, AppError> {
        let ids: Vec<i64> = ids.into_iter().collect();
        let prefs: HashMap<i64, bool> = notification_pref::Entity::find()
            .filter(notification_pref::Column::PersonId.is_in(ids.clone()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.person_id, p.email))
            .collect();
        Ok(person::Entity::find()
            .filter(person::Column::Id.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| {
                (
                    p.id,
                    Person {
                        id: p.id,
                        display_name: p.display_name,
                        disabled: p.disabled,
                        email_ok: prefs.get(&p.id).copied().unwrap_or(true),
                    },
                )
            })
            .collect())
    }

    /// Delivers every email and webhook due now. Returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let waiting = notification::Entity::find()
            .filter(
                Condition::any()
                    .add(notification::Column::Status.eq("pending"))
                    .add(
                        Condition::all()
                            .add(notification::Column::Status.eq("sending"))
                            .add(notification::Column::ClaimedUntil.lt(now)),
                    ),
            )
            .filter(notification::Column::NextAttemptAt.lte(now))
            .order_by_asc(notification::Column::NextAttemptAt)
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
        // Claim it, so another instance does not send it at the same time.
        let claimed = notification::Entity::update_many()
            .filter(notification::Column::Id.eq(n.id))
            .filter(notification::Column::Status.eq(n.status.clone()))
            .filter(notification::Column::Attempts.eq(n.attempts))
            .col_expr(notification::Column::Status, Expr::value("sending"))
            .col_expr(
                notification::Column::ClaimedUntil,
                Expr::value(now + Duration::minutes(2)),
            )
            .exec(&self.db)
            .await?
            .rows_affected;
        if claimed != 1 {
            return Ok(false);
        }
        let outcome = match n.channel.as_str() {
            "email" => {
                let to = match n.person_id {
                    Some(p) => person::Entity::find_by_id(p)
                        .one(&self.db)
                        .await?
                        .map(|p| p.email),
                    None => None,
                };
                match to {
                    Some(to) => {
                        let mut body = n.body.clone();
                        if n.subject == TASK {
                            let key = signing_key(&self.db).await?;
                            let token = sign_link(&key, n.id, now + Duration::hours(24));
                            body.push_str(&format!(
                                "\n\nAcknowledge from here (you will be asked to confirm): {}/ack/{token}\nThe link works once and for 24 hours.",
                                self.delivery.public_url
                            ));
                        }
                        self.delivery.email(&to, &n.title, &body).await
                    }
                    None => Err("the person has no email address".into()),
                }
            }
            "webhook" => {
                let id: i64 = n
                    .recipient_key
                    .trim_start_matches("webhook:")
                    .parse()
                    .unwrap_or(0);
                match webhook::Entity::find_by_id(id).one(&self.db).await? {
                    Some(h) => {
                        let payload: serde_json::Value =
                            serde_json::from_str(&n.body).unwrap_or_default();
                        self.delivery.post(&h, &payload).await
                    }
                    None => Err("the webhook was removed".into()),
                }
            }
            other => Err(format!("unknown channel {other}")),
        };
        self.record(&n, outcome).await?;
        Ok(true)
    }

    /// Records an attempt. Two attempts on one incident at once may race for the next place
    /// on its timeline (the unique index lets one win), so the loser tries again.
    async fn record(
        &self,
        n: &notification::Model,
        outcome: Result<String, String>,
    ) -> Result<(), AppError> {
        let mut tries = 0;
        loop {
            match self.record_once(n, outcome.clone()).await {
                Err(AppError::Conflict(_)) if tries < 5 => tries += 1,
                other => return other,
            }
        }
    }

    async fn record_once(
        &self,
        n: &notification::Model,
        outcome: Result<String, String>,
    ) -> Result<(), AppError> {
        let now = self.clock.now();
        let attempts = n.attempts + 1;
        let who = match n.person_id {
            Some(p) => person::Entity::find_by_id(p)
                .one(&self.db)
                .await?
                .map(|p| p.display_name)
                .unwrap_or_default(),
            None => "the organisation's channel".into(),
        };
        let txn = self.db.begin().await?;
        let (status, detail) = match &outcome {
            Ok(d) => ("sent", d.clone()),
            Err(d) if attempts >= MAX_ATTEMPTS => ("failed", d.clone()),
            Err(d) => ("pending", d.clone()),
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
        let channel = if n.channel == "email" {
            "Email"
        } else {
            "Webhook"
        };
        let line = match status {
            "sent" => format!("{channel} to {who} delivered (attempt {attempts}): {detail}"),
            "failed" => {
                format!("{channel} to {who} failed for good after {attempts} attempts: {detail}")
            }
            _ => format!(
                "{channel} to {who} failed (attempt {attempts}): {detail}; retrying in {} s",
                backoff_seconds(attempts)
            ),
        };
        timeline::append(&txn, n.incident_id, None, "delivery", line).await?;
        txn.commit().await?;
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Person {
    id: i64,
    display_name: String,
    disabled: bool,
    email_ok: bool,
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
        status: Set("sent".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        delivered_at: Set(Some(now)),
        ..Default::default()
    }
}

/// A notice's title, cut to what its column holds (300 characters).
fn notice_title(title: String) -> String {
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

#[allow(clippy::too_many_arguments)]
fn outbox(
    e: &escalation::Model,
    level: i32,
    round: i32,
    key: &str,
    person: Option<i64>,
    channel: &str,
    title: &str,
    body: &str,
    status: &str,
    now: OffsetDateTime,
) -> notification::ActiveModel {
    notification::ActiveModel {
        subject: Set(e.subject.clone()),
        subject_id: Set(e.subject_id),
        incident_id: Set(e.incident_id),
        level: Set(level),
        round: Set(round),
        recipient_key: Set(key.to_owned()),
        person_id: Set(person),
        channel: Set(channel.to_owned()),
        title: Set(notice_title(title.to_owned())),
        body: Set(body.to_owned()),
        status: Set(status.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        delivered_at: Set(if status == "sent" { Some(now) } else { None }),
        read_at: Set(None),
        link_used_at: Set(None),
        ..Default::default()
    }
}

/// Checks edited levels; rows with no role are blank and skipped.
pub fn levels_from(input: &[LevelInput], role_keys: &[String]) -> Result<Vec<LevelSpec>, String> {
    let mut out = Vec::new();
    for (i, l) in input.iter().enumerate() {
        let n = i + 1;
        if l.remove.is_some() || (l.role.trim().is_empty() && l.person_email.trim().is_empty()) {
            continue;
        }
        let minutes: i32 = l.timeout_minutes.trim().parse().map_err(|_| {
            format!("Level {n}: give the minutes to acknowledge as a whole number.")
        })?;
        if !(1..=24 * 60).contains(&minutes) {
            return Err(format!("Level {n}: allow between 1 minute and 24 hours."));
        }
        let key = l.role.trim();
        if key.is_empty() {
            // A named person only: filled in by the caller, who can look people up.
            out.push(LevelSpec {
                timeout_seconds: minutes * 60,
                targets: Vec::new(),
            });
            continue;
        }
        if !role_keys.iter().any(|k| k == key) {
            return Err(format!("Level {n}: choose a role from the catalogue."));
        }
        let scope = l.scope.trim();
        let target = match scope {
            "" | "here" => Target::Role {
                key: key.into(),
                above: false,
                org: None,
            },
            "above" => Target::Role {
                key: key.into(),
                above: true,
                org: None,
            },
            code => Target::Role {
                key: key.into(),
                above: false,
                org: Some(code.to_ascii_uppercase()),
            },
        };
        out.push(LevelSpec {
            timeout_seconds: minutes * 60,
            targets: vec![target],
        });
    }
    if out.is_empty() {
        return Err("An escalation path needs at least one level.".into());
    }
    if out.len() > 10 {
        return Err("Keep an escalation path to 10 levels.".into());
    }
    Ok(out)
}

/// A policy as its page shows it, for an organisation the caller can see, read as a path.
pub async fn policy_view(
    db: &impl ConnectionTrait,
    user: &super::access::User,
    org_code: &str,
) -> Result<crate::domain::escalation::PolicyView, AppError> {
    use super::access;
    use super::entity::{organisation, role};
    use crate::domain::escalation::{LevelView, PolicyView};
    let org = orgs::find_by_code(db, org_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access::within(&access::readable_orgs(db, user).await?, org.id) {
        return Err(AppError::NotFound);
    }
    let policy = policy_for(db, org.id).await?;
    let now = timeline::now();
    let router = Router::load(db, org.id, now).await?;
    let roles: HashMap<String, String> = role::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.key, r.name))
        .collect();
    let org_name = |id: i64| async move {
        organisation::Entity::find_by_id(id)
            .one(db)
            .await
            .map(|o| o.map(|o| o.name).unwrap_or_default())
    };
    let person_name = |id: i64| async move {
        person::Entity::find_by_id(id)
            .one(db)
            .await
            .map(|p| p.map(|p| p.display_name).unwrap_or_default())
    };
    let mut path = vec![org.name.clone()];
    let mut levels = Vec::new();
    for l in &policy.levels {
        let mut targets = Vec::new();
        let mut stop: Option<String> = None;
        let mut person_email: Option<String> = None;
        for t in &l.targets {
            match t {
                Target::Person { id } => {
                    let n = person_name(*id).await?;
                    if person_email.is_none() {
                        person_email = person::Entity::find_by_id(*id)
                            .one(db)
                            .await?
                            .map(|p| p.email);
                    }
                    stop.get_or_insert(n.clone());
                    targets.push((n.clone(), n));
                }
                Target::Role {
                    key,
                    above,
                    org: fixed,
                } => {
                    let role_name = roles.get(key).cloned().unwrap_or_else(|| key.clone());
                    let (who, at, _) = match fixed {
                        Some(code) => match orgs::find_by_code(db, code).await? {
                            Some(o) => Router::load(db, o.id, now).await?.route(key),
                            None => (None, None, String::new()),
                        },
                        None => router.route_from(key, usize::from(*above)),
                    };
                    let label = match fixed {
                        Some(code) => format!("{role_name} at {code}"),
                        None if *above => format!("{role_name}, nearest above"),
                        None => format!("{role_name}, here or nearest above"),
                    };
                    let reached = match (who, at) {
                        (Some(p), Some(o)) => {
                            let on = org_name(o).await?;
                            stop.get_or_insert(on.clone());
                            format!("{} at {on}", person_name(p).await?)
                        }
                        _ => "nobody holds it: a gap in the path".into(),
                    };
                    targets.push((label, reached));
                }
            }
        }
        path.push(stop.unwrap_or_else(|| "(nobody)".into()));
        levels.push(LevelView {
            timeout_minutes: l.timeout_seconds / 60,
            targets,
            specs: l.targets.clone(),
            person_email,
        });
    }
    path.dedup();
    let source = match policy.owner {
        Some(id) if id == org.id => "This organisation's own policy".to_owned(),
        Some(id) => format!("Inherited from {}", org_name(id).await?),
        None => "The national default".to_owned(),
    };
    let editable = !user.is_read_only_user()
        && access::within(&access::administered_orgs(db, user).await?, org.id);
    let hook = if editable {
        webhook::Entity::find()
            .filter(webhook::Column::OrgId.eq(org.id))
            .one(db)
            .await?
            .map(|w| {
                use secrecy::ExposeSecret;
                super::secrets::open(&w.secret)
                    .map(|s| (w.url, s.expose_secret().to_owned(), w.enabled))
            })
            .transpose()?
    } else {
        None
    };
    Ok(PolicyView {
        webhook: hook,
        org_code: org.code,
        org_name: org.name,
        source,
        own: policy.owner == Some(org.id),
        repeat_count: policy.repeat_count,
        levels,
        path: format!("{} → then flagged for national attention", path.join(" → ")),
        editable,
    })
}

/// Saves an organisation's own policy; its admins only.
pub async fn save_policy_for(
    db: &DatabaseConnection,
    user: &super::access::User,
    org_code: &str,
    repeat_count: &str,
    input: &[LevelInput],
) -> Result<(), AppError> {
    use super::access::{self, Action};
    use super::entity::role;
    // Everyone and everywhere the levels name is checked first, so one out of reach answers
    // as absent whatever else is wrong with the request.
    let mut refused = Vec::new();
    for l in input.iter().filter(|l| l.remove.is_none()) {
        if !l.person_email.trim().is_empty() {
            let p = access::person_in_reach(db, user, &l.person_email, Action::Administer).await;
            refused.extend(p.err());
        }
        let scope = l.scope.trim();
        if !l.role.trim().is_empty() && !matches!(scope, "" | "here" | "above") {
            let o = access::org_in_reach(db, user, scope, Action::Administer).await;
            refused.extend(o.err());
        }
    }
    let org = access::org_in_reach(db, user, org_code, Action::Administer).await;
    let mut checks: Vec<Option<&AppError>> = refused.iter().map(Some).collect();
    checks.push(org.as_ref().err());
    access::absent_first(&checks)?;
    if let Some(err) = refused.into_iter().next() {
        return Err(err);
    }
    let org = org?;
    let repeat: i32 = repeat_count
        .trim()
        .parse()
        .ok()
        .filter(|r| (0..=5).contains(r))
        .ok_or_else(|| AppError::Invalid("Repeat the path between 0 and 5 times.".into()))?;
    let keys: Vec<String> = role::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.key)
        .collect();
    let mut levels = levels_from(input, &keys).map_err(AppError::Invalid)?;
    // Named people, by email, added to their level.
    let kept: Vec<&LevelInput> = input
        .iter()
        .filter(|l| {
            l.remove.is_none() && !(l.role.trim().is_empty() && l.person_email.trim().is_empty())
        })
        .collect();
    for (level, l) in levels.iter_mut().zip(kept) {
        let email = l.person_email.trim();
        if email.is_empty() {
            continue;
        }
        let p = access::person_in_reach(db, user, email, Action::Administer).await?;
        level.targets.push(Target::Person { id: p.id });
    }
    for l in &levels {
        for t in &l.targets {
            if let Target::Role {
                org: Some(code), ..
            } = t
            {
                access::org_in_reach(db, user, code, Action::Administer).await?;
            }
        }
    }
    let txn = db.begin().await?;
    save_policy(&txn, Some(org.id), repeat, &levels, Some(user.person_id)).await?;
    super::audit::record(
        &txn,
        super::audit::Event {
            actor: Some(user.person_id),
            action: "escalation_policy_saved",
            org: Some(org.id),
            subject: Some(org.code.clone()),
            detail: Some(format!("{} levels, {repeat} repeats", levels.len())),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The caller's inbox, newest first.
pub async fn inbox(
    db: &impl ConnectionTrait,
    user: &super::access::User,
) -> Result<Vec<crate::domain::escalation::InboxItem>, AppError> {
    let rows = notification::Entity::find()
        .filter(notification::Column::PersonId.eq(user.person_id))
        .filter(notification::Column::Channel.eq("inbox"))
        .order_by_desc(notification::Column::Id)
        .limit(200)
        .all(db)
        .await?;
    let refs: HashMap<i64, String> = incident::Entity::find()
        .filter(incident::Column::Id.is_in(rows.iter().map(|n| n.incident_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.reference))
        .collect();
    Ok(rows
        .into_iter()
        .map(|n| crate::domain::escalation::InboxItem {
            id: n.id,
            title: n.title,
            body: n.body,
            incident_reference: refs.get(&n.incident_id).cloned().unwrap_or_default(),
            at: crate::domain::dates::moment(n.created_at),
            read: n.read_at.is_some(),
        })
        .collect())
}

/// How many inbox items the caller has not read.
pub async fn unread(
    db: &impl ConnectionTrait,
    user: &super::access::User,
) -> Result<u64, AppError> {
    use sea_orm::PaginatorTrait;
    Ok(notification::Entity::find()
        .filter(notification::Column::PersonId.eq(user.person_id))
        .filter(notification::Column::Channel.eq("inbox"))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks one inbox item read, or all of them.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user: &super::access::User,
    id: Option<i64>,
) -> Result<(), AppError> {
    let mut q = notification::Entity::update_many()
        .filter(notification::Column::PersonId.eq(user.person_id))
        .filter(notification::Column::Channel.eq("inbox"))
        .filter(notification::Column::ReadAt.is_null())
        .col_expr(notification::Column::ReadAt, Expr::value(timeline::now()));
    if let Some(id) = id {
        q = q.filter(notification::Column::Id.eq(id));
    }
    q.exec(db).await?;
    Ok(())
}

/// Whether the caller takes escalation emails (on unless turned off).
pub async fn wants_email(db: &impl ConnectionTrait, person_id: i64) -> Result<bool, AppError> {
    Ok(notification_pref::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .is_none_or(|p| p.email))
}

pub async fn set_wants_email(
    db: &impl ConnectionTrait,
    person_id: i64,
    email: bool,
) -> Result<(), AppError> {
    use sea_orm::sea_query::OnConflict;
    notification_pref::Entity::insert(notification_pref::ActiveModel {
        person_id: Set(person_id),
        email: Set(email),
        updated_at: Set(timeline::now()),
    })
    .on_conflict(
        OnConflict::column(notification_pref::Column::PersonId)
            .update_columns([
                notification_pref::Column::Email,
                notification_pref::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// What a signed link is about, for its confirmation page. Only for the person it was sent to.
pub async fn link_info(
    db: &impl ConnectionTrait,
    user: &super::access::User,
    token: &str,
) -> Result<crate::domain::escalation::AckLink, AppError> {
    let key = signing_key(db).await?;
    let id = verify_link(&key, token, timeline::now())?;
    let n = notification::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|n| n.person_id == Some(user.person_id) && n.subject == TASK)
        .ok_or(AppError::NotFound)?;
    let t = task::Entity::find_by_id(n.subject_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let reference = incident::Entity::find_by_id(t.incident_id)
        .one(db)
        .await?
        .map(|i| i.reference)
        .unwrap_or_default();
    Ok(crate::domain::escalation::AckLink {
        title: t.title,
        incident_reference: reference,
        already: n.link_used_at.is_some() || t.state != "open",
    })
}

/// Sets an organisation's channel webhook (its admins). The URL must be https to a public
/// address; `allow_private` (local development) also lets it reach this machine and private
/// networks, over http too. A signing secret is made the first time and kept.
pub async fn set_webhook(
    db: &DatabaseConnection,
    user: &super::access::User,
    org_code: &str,
    url: &str,
    enabled: bool,
    allow_private: bool,
) -> Result<(), AppError> {
    use super::access;
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
    let parsed = reqwest::Url::parse(url).map_err(|_| {
        AppError::Invalid("Give the full webhook address, starting https://".into())
    })?;
    let host = parsed.host_str().unwrap_or_default().to_owned();
    let local = super::webhook_target::literal(&host)
        .is_some_and(|ip| !super::webhook_target::is_public(ip))
        || host == "localhost";
    let plain_ok = allow_private && local && parsed.scheme() == "http";
    if url.len() > 500 || host.is_empty() || !(parsed.scheme() == "https" || plain_ok) {
        return Err(AppError::Invalid(
            "A webhook address must start https:// (Teams and Slack give one).".into(),
        ));
    }
    // A name that cannot be resolved now is kept: it is checked again at every send.
    if super::webhook_target::check_host(&host, allow_private).await
        == Err(super::webhook_target::Refused::PrivateAddress)
    {
        return Err(AppError::Invalid(
            "A webhook must reach an address on the public internet, not this server or a \
             private network. Use the address Teams or Slack gives you."
                .into(),
        ));
    }
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
            m.updated_at = Set(now);
            m.update(&txn).await?;
        }
        None => {
            webhook::ActiveModel {
                org_id: Set(org.id),
                url: Set(url.to_owned()),
                secret: Set(super::secrets::seal(&super::tokens::new_token())?),
                enabled: Set(enabled),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    super::audit::record(
        &txn,
        super::audit::Event {
            actor: Some(user.person_id),
            action: "webhook_set",
            org: Some(org.id),
            subject: Some(org.code.clone()),
            detail: Some(format!(
                "{} ({})",
                parsed.host_str().unwrap_or_default(),
                if enabled { "on" } else { "off" }
            )),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Tasks and command acknowledgements nobody acknowledged along the whole path, in the
/// organisations the caller can see: (incident reference, what, organisation, since).
pub async fn flagged(
    db: &impl ConnectionTrait,
    user: &super::access::User,
) -> Result<Vec<(String, String, String, String)>, AppError> {
    use super::access;
    use super::entity::organisation;
    let scope = access::readable_orgs(db, user).await?;
    let rows = escalation::Entity::find()
        .filter(escalation::Column::Flagged.eq(true))
        .filter(escalation::Column::AcknowledgedAt.is_null())
        .order_by_desc(escalation::Column::UpdatedAt)
        .limit(500)
        .all(db)
        .await?
        .into_iter()
        .filter(|e| access::within(&scope, e.org_id))
        .collect::<Vec<_>>();
    let tasks: HashMap<i64, String> = task::Entity::find()
        .filter(
            task::Column::Id.is_in(
                rows.iter()
                    .filter(|e| e.subject == TASK)
                    .map(|e| e.subject_id)
                    .collect::<Vec<_>>(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.title))
        .collect();
    // An exercise's unacknowledged work is listed too (its escalations are real), marked.
    let refs: HashMap<i64, (String, bool)> = incident::Entity::find()
        .filter(incident::Column::Id.is_in(rows.iter().map(|e| e.incident_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, (i.reference, i.exercise.is_some())))
        .collect();
    let names: HashMap<i64, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(rows.iter().map(|e| e.org_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let out = rows
        .into_iter()
        .map(|e| {
            let title = match e.subject.as_str() {
                TASK => tasks.get(&e.subject_id).cloned().unwrap_or_default(),
                _ => "Gold to acknowledge command".to_owned(),
            };
            let (reference, exercise) = refs.get(&e.incident_id).cloned().unwrap_or_default();
            (
                reference,
                if exercise {
                    format!("[EXERCISE] {title}")
                } else {
                    title
                },
                names.get(&e.org_id).cloned().unwrap_or_default(),
                crate::domain::dates::moment(e.updated_at),
            )
        })
        .collect();
    Ok(out)
}
