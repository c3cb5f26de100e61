//! Rate limits: governor's GCRA in memory on SQLite (one instance), the same rules in the
//! database on PostgreSQL, where several instances share every allowance (`Shared`).
//!
//! Sign-in is limited twice. Every attempt takes allowance before its password is checked
//! (per client address and per account-and-address, with bursts generous enough for a busy
//! shared ward computer), so a flood of concurrent attempts is refused before it reaches the
//! costly hash. Failures are limited more tightly, per client address and per
//! account-and-address: guessing is slow everywhere, while an attacker elsewhere cannot lock
//! a real person out, because the person's own address keeps its allowance. A looser
//! per-account limit caps spraying one account from many addresses. Once a limiter refuses,
//! the key is blocked until governor says a new attempt would be allowed.
//!
//! Clients are keyed by address, IPv6 clients by their /64 (one subscriber's whole network).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

/// A keyed limiter whose tokens are spent only by failures, with the blocks it hands out.
struct FailureLimit<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    blocked: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> FailureLimit<K> {
    fn new(quota: Quota) -> Self {
        FailureLimit {
            limiter: RateLimiter::keyed(quota),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    fn is_blocked(&self, key: &K) -> bool {
        let blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        blocked
            .get(key)
            .is_some_and(|until| *until > Instant::now())
    }

    fn fail(&self, key: &K) {
        if let Err(not_until) = self.limiter.check_key(key) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
            blocked.insert(key.clone(), Instant::now() + wait);
        }
    }

    fn tidy(&self) {
        self.limiter.retain_recent();
        let now = Instant::now();
        self.blocked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, until| *until > now);
    }
}

/// The key a client is limited by: an IPv4 address (also when written as IPv4-mapped IPv6),
/// or the /64 an IPv6 address belongs to, since one subscriber holds a whole /64.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !((1u128 << 64) - 1))),
        },
    }
}

/// One token every `every`, at most `burst` at once.
#[derive(Debug, Clone, Copy)]
struct Rule {
    every: Duration,
    burst: u32,
}

const fn rule(every_ms: u64, burst: u32) -> Rule {
    Rule {
        every: Duration::from_millis(every_ms),
        burst,
    }
}

const ATTEMPTS_BY_CLIENT: Rule = rule(500, 100);
const ATTEMPTS_BY_ACCOUNT_AND_CLIENT: Rule = rule(3_000, 10);
const FAILURES_BY_CLIENT: Rule = rule(3_000, 20);
const FAILURES_BY_ACCOUNT_AND_CLIENT: Rule = rule(20_000, 5);
const FAILURES_BY_ACCOUNT: Rule = rule(6_000, 30);
const ACTIONS_BY_PERSON: Rule = rule(2_000, 30);
// GCRA lets through at most burst + window / period in any window: 50 + 3600 / 72 = 100
// wrong second factors per account in any hour, from wherever they come.
const SECOND_FACTOR_FAILURES: Rule = rule(72_000, 50);
// Text replies guessing a code: the fifth bad one from a number blocks it for an hour (at
// most 4 + 3600 / 3600 = 5 in any hour); and 200 from all numbers together, then one a
// second.
const BAD_REPLIES_BY_NUMBER: Rule = rule(3_600_000, 4);
const BAD_REPLIES: Rule = rule(1_000, 200);
// Calendar apps poll a feed every few minutes at most; a client guessing tokens gets 20
// at once, then one every 3 seconds.
const CALENDAR_FEEDS_BY_CLIENT: Rule = rule(3_000, 20);
// An API token or an alert source's key: 2,000 requests at once (a reporting job pulling
// many charts, an alert storm), then a thousand a second: enough for any one tool, and a
// leaked key still cannot take the server from everyone else.
const REQUESTS_BY_KEY: Rule = rule(1, 2_000);

/// The limits in this process's memory.
struct Local {
    attempts_by_client: DefaultKeyedRateLimiter<IpAddr>,
    attempts_by_account_and_client: DefaultKeyedRateLimiter<(String, IpAddr)>,
    by_client: FailureLimit<IpAddr>,
    by_account_and_client: FailureLimit<(String, IpAddr)>,
    by_account: FailureLimit<String>,
    actions_by_person: DefaultKeyedRateLimiter<(i64, &'static str)>,
    second_factor_by_person: FailureLimit<i64>,
    bad_replies_by_number: FailureLimit<String>,
    bad_replies: FailureLimit<()>,
    calendar_feeds_by_client: DefaultKeyedRateLimiter<IpAddr>,
    requests_by_key: DefaultKeyedRateLimiter<(&'static str, i64)>,
}

fn quota(rule: Rule) -> Quota {
    // Both are non-zero constants above.
    Quota::with_period(rule.every)
        .expect("a non-zero period")
        .allow_burst(NonZeroU32::new(rule.burst).expect("a non-zero burst"))
}

impl Default for Local {
    fn default() -> Self {
        Local {
            attempts_by_client: RateLimiter::keyed(quota(ATTEMPTS_BY_CLIENT)),
            attempts_by_account_and_client: RateLimiter::keyed(quota(
                ATTEMPTS_BY_ACCOUNT_AND_CLIENT,
            )),
            by_client: FailureLimit::new(quota(FAILURES_BY_CLIENT)),
            by_account_and_client: FailureLimit::new(quota(FAILURES_BY_ACCOUNT_AND_CLIENT)),
            by_account: FailureLimit::new(quota(FAILURES_BY_ACCOUNT)),
            actions_by_person: RateLimiter::keyed(quota(ACTIONS_BY_PERSON)),
            second_factor_by_person: FailureLimit::new(quota(SECOND_FACTOR_FAILURES)),
            bad_replies_by_number: FailureLimit::new(quota(BAD_REPLIES_BY_NUMBER)),
            bad_replies: FailureLimit::new(quota(BAD_REPLIES)),
            calendar_feeds_by_client: RateLimiter::keyed(quota(CALENDAR_FEEDS_BY_CLIENT)),
            requests_by_key: RateLimiter::keyed(quota(REQUESTS_BY_KEY)),
        }
    }
}

/// The account key for accepting an invitation: its token, hashed (the token is a
/// credential, and is not kept in memory longer than the request).
pub fn invitation_key(token: &str) -> String {
    format!("invite:{}", super::tokens::digest(token))
}

fn normal(account: &str) -> String {
    account.trim().to_lowercase()
}

impl Local {
    /// Whether a sign-in (or second-factor, or invitation) attempt for `account` from
    /// `client` may proceed. Called before the password is checked; the attempt takes
    /// allowance whatever its outcome.
    pub fn sign_in_allowed(&self, account: &str, client: IpAddr) -> Result<(), AppError> {
        let account = normal(account);
        let client = client_key(client);
        let blocked = self.by_client.is_blocked(&client)
            || self
                .by_account_and_client
                .is_blocked(&(account.clone(), client))
            || self.by_account.is_blocked(&account);
        if blocked {
            return Err(AppError::TooManyRequests);
        }
        // The narrower key first, so one account's attempts do not also use up the
        // address's allowance once they are refused.
        self.attempts_by_account_and_client
            .check_key(&(account, client))
            .and_then(|()| self.attempts_by_client.check_key(&client))
            .map_err(|_| AppError::TooManyRequests)
    }

    /// Records a failed attempt.
    pub fn sign_in_failed(&self, account: &str, client: IpAddr) {
        let account = normal(account);
        let client = client_key(client);
        self.by_client.fail(&client);
        self.by_account_and_client.fail(&(account.clone(), client));
        self.by_account.fail(&account);
    }

    /// Whether a second-factor attempt for a person may proceed: a per-account cap on top of
    /// [`Limits::sign_in_allowed`], whatever address the attempts come from.
    pub fn second_factor_allowed(&self, person: i64) -> Result<(), AppError> {
        if self.second_factor_by_person.is_blocked(&person) {
            Err(AppError::TooManyRequests)
        } else {
            Ok(())
        }
    }

    /// Records a wrong second factor for a person.
    pub fn second_factor_failed(&self, person: i64) {
        self.second_factor_by_person.fail(&person);
    }

    /// A costly or abusable action (declaring an incident, an export) by a person.
    pub fn action(&self, person: i64, kind: &'static str) -> Result<(), AppError> {
        self.actions_by_person
            .check_key(&(person, kind))
            .map_err(|_| AppError::TooManyRequests)
    }

    /// Whether a text reply from `number` is read at all: not once it, or everyone, has sent
    /// too many bad ones.
    pub fn reply_allowed(&self, number: &str) -> Result<(), AppError> {
        if self.bad_replies_by_number.is_blocked(&number.to_owned())
            || self.bad_replies.is_blocked(&())
        {
            Err(AppError::TooManyRequests)
        } else {
            Ok(())
        }
    }

    /// Records a bad text reply (wrong, used, expired or someone else's code) from `number`.
    pub fn reply_failed(&self, number: &str) {
        self.bad_replies_by_number.fail(&number.to_owned());
        self.bad_replies.fail(&());
    }

    /// A request made with an API token or an alert source's key.
    pub fn by_key(&self, kind: &'static str, id: i64) -> Result<(), AppError> {
        self.requests_by_key
            .check_key(&(kind, id))
            .map_err(|_| AppError::TooManyRequests)
    }

    /// Whether a client may fetch a calendar feed (whatever the token).
    pub fn calendar_feed(&self, client: IpAddr) -> Result<(), AppError> {
        self.calendar_feeds_by_client
            .check_key(&client_key(client))
            .map_err(|_| AppError::TooManyRequests)
    }

    /// Forgets keys whose allowance has refilled, keeping memory bounded.
    pub fn tidy(&self) {
        self.attempts_by_client.retain_recent();
        self.attempts_by_account_and_client.retain_recent();
        self.by_client.tidy();
        self.by_account_and_client.tidy();
        self.by_account.tidy();
        self.actions_by_person.retain_recent();
        self.second_factor_by_person.tidy();
        self.bad_replies_by_number.tidy();
        self.bad_replies.tidy();
        self.calendar_feeds_by_client.retain_recent();
        self.requests_by_key.retain_recent();
    }
}

/// The limits in PostgreSQL's `rate_limit` table, shared by every instance: the same GCRA
/// as governor's, each check one statement (an upsert that advances the key's arrival time
/// only when the request fits), timed by the database's clock.
struct Shared {
    db: sea_orm::DatabaseConnection,
}

/// The database's clock, in milliseconds.
const NOW_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// Keys longer than this are stored as their digest: an account name is whatever a
/// stranger typed, and an index entry cannot be arbitrarily long.
const LONGEST_KEY: usize = 200;

/// The key as stored.
fn stored(key: String) -> String {
    if key.len() <= LONGEST_KEY {
        key
    } else {
        format!("digest:{}", super::tokens::digest(&key))
    }
}

impl Shared {
    async fn run(
        &self,
        sql: String,
        values: Vec<sea_orm::Value>,
    ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
        use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
        self.db
            .query_all_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql,
                values,
            ))
            .await
    }

    fn millis(rule: Rule) -> (i64, i64) {
        let every = i64::try_from(rule.every.as_millis()).unwrap_or(i64::MAX);
        (every, every.saturating_mul(i64::from(rule.burst)))
    }

    /// Takes a token from `key` if it has one.
    async fn take(&self, key: String, rule: Rule) -> Result<bool, sea_orm::DbErr> {
        let (every, window) = Self::millis(rule);
        // EXCLUDED.tat - every is now, as the row would have been written fresh.
        let sql = format!(
            "INSERT INTO rate_limit AS r (key, tat) VALUES ($1, {NOW_MS} + $2) \
             ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, EXCLUDED.tat - $2) + $2 \
             WHERE GREATEST(r.tat, EXCLUDED.tat - $2) + $2 - (EXCLUDED.tat - $2) <= $3 \
             RETURNING r.tat"
        );
        let rows = self
            .run(sql, vec![stored(key).into(), every.into(), window.into()])
            .await?;
        Ok(!rows.is_empty())
    }

    /// Spends a failure's token from `key`; with none left, blocks the key until one is.
    async fn fail(&self, key: String, rule: Rule) -> Result<(), sea_orm::DbErr> {
        let (every, window) = Self::millis(rule);
        let fits = "GREATEST(r.tat, EXCLUDED.tat - $2) + $2 - (EXCLUDED.tat - $2) <= $3";
        let sql = format!(
            "INSERT INTO rate_limit AS r (key, tat) VALUES ($1, {NOW_MS} + $2) \
             ON CONFLICT (key) DO UPDATE SET \
             tat = CASE WHEN {fits} THEN GREATEST(r.tat, EXCLUDED.tat - $2) + $2 ELSE r.tat END, \
             blocked_until = CASE WHEN {fits} THEN r.blocked_until ELSE r.tat + $2 - $3 END"
        );
        self.run(sql, vec![stored(key).into(), every.into(), window.into()])
            .await?;
        Ok(())
    }

    /// Whether any of `keys` is blocked now.
    async fn blocked(&self, keys: Vec<String>) -> Result<bool, sea_orm::DbErr> {
        let marks: Vec<String> = (1..=keys.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT 1 FROM rate_limit WHERE key IN ({}) AND blocked_until > {NOW_MS} LIMIT 1",
            marks.join(", ")
        );
        let values = keys.into_iter().map(|k| stored(k).into()).collect();
        Ok(!self.run(sql, values).await?.is_empty())
    }

    async fn tidy(&self) -> Result<(), sea_orm::DbErr> {
        use sea_orm::ConnectionTrait;
        self.db
            .execute_unprepared(&format!(
                "DELETE FROM rate_limit WHERE tat < {NOW_MS} AND blocked_until < {NOW_MS}"
            ))
            .await?;
        Ok(())
    }
}

fn too_many(allowed: bool) -> Result<(), AppError> {
    if allowed {
        Ok(())
    } else {
        Err(AppError::TooManyRequests)
    }
}

/// Recording a failure must not fail the request it belongs to; a lost record is logged.
fn logged(result: Result<(), sea_orm::DbErr>) {
    if let Err(err) = result {
        tracing::warn!(%err, "recording a rate-limited failure");
    }
}

/// Every rate limit, in memory or shared through PostgreSQL.
pub struct Limits {
    local: Local,
    shared: Option<Shared>,
}

impl Default for Limits {
    /// In this process's memory.
    fn default() -> Self {
        Limits {
            local: Local::default(),
            shared: None,
        }
    }
}

impl Limits {
    /// Shared by every instance when `db` is PostgreSQL; in memory on SQLite, which serves
    /// one instance.
    pub fn for_database(db: &sea_orm::DatabaseConnection) -> Limits {
        let shared = (db.get_database_backend() == sea_orm::DatabaseBackend::Postgres)
            .then(|| Shared { db: db.clone() });
        Limits {
            local: Local::default(),
            shared,
        }
    }

    /// Whether a sign-in (or second-factor, or invitation) attempt for `account` from
    /// `client` may proceed. Called before the password is checked; the attempt takes
    /// allowance whatever its outcome.
    pub async fn sign_in_allowed(&self, account: &str, client: IpAddr) -> Result<(), AppError> {
        let Some(shared) = &self.shared else {
            return self.local.sign_in_allowed(account, client);
        };
        let (account, client) = (normal(account), client_key(client));
        let blocked = shared
            .blocked(vec![
                format!("fail:client:{client}"),
                format!("fail:account-client:{account}|{client}"),
                format!("fail:account:{account}"),
            ])
            .await?;
        too_many(!blocked)?;
        // The narrower key first, as in memory.
        too_many(
            shared
                .take(
                    format!("try:account-client:{account}|{client}"),
                    ATTEMPTS_BY_ACCOUNT_AND_CLIENT,
                )
                .await?,
        )?;
        too_many(
            shared
                .take(format!("try:client:{client}"), ATTEMPTS_BY_CLIENT)
                .await?,
        )
    }

    /// Records a failed attempt.
    pub async fn sign_in_failed(&self, account: &str, client: IpAddr) {
        let Some(shared) = &self.shared else {
            return self.local.sign_in_failed(account, client);
        };
        let (account, client) = (normal(account), client_key(client));
        logged(
            shared
                .fail(format!("fail:client:{client}"), FAILURES_BY_CLIENT)
                .await,
        );
        logged(
            shared
                .fail(
                    format!("fail:account-client:{account}|{client}"),
                    FAILURES_BY_ACCOUNT_AND_CLIENT,
                )
                .await,
        );
        logged(
            shared
                .fail(format!("fail:account:{account}"), FAILURES_BY_ACCOUNT)
                .await,
        );
    }

    /// Whether a second-factor attempt for a person may proceed: a per-account cap on top of
    /// [`Limits::sign_in_allowed`], whatever address the attempts come from.
    pub async fn second_factor_allowed(&self, person: i64) -> Result<(), AppError> {
        match &self.shared {
            None => self.local.second_factor_allowed(person),
            Some(shared) => too_many(
                !shared
                    .blocked(vec![format!("fail:second-factor:{person}")])
                    .await?,
            ),
        }
    }

    /// Records a wrong second factor for a person.
    pub async fn second_factor_failed(&self, person: i64) {
        match &self.shared {
            None => self.local.second_factor_failed(person),
            Some(shared) => logged(
                shared
                    .fail(
                        format!("fail:second-factor:{person}"),
                        SECOND_FACTOR_FAILURES,
                    )
                    .await,
            ),
        }
    }

    /// A request made with an API token.
    pub async fn token(&self, token: i64) -> Result<(), AppError> {
        self.by_key("token", token).await
    }

    /// An alert sent with an alert source's key.
    pub async fn alert_key(&self, key: i64) -> Result<(), AppError> {
        self.by_key("alerts", key).await
    }

    async fn by_key(&self, kind: &'static str, id: i64) -> Result<(), AppError> {
        match &self.shared {
            None => self.local.by_key(kind, id),
            Some(shared) => too_many(
                shared
                    .take(format!("key:{kind}:{id}"), REQUESTS_BY_KEY)
                    .await?,
            ),
        }
    }

    /// A costly or abusable action (declaring an incident, an export) by a person.
    pub async fn action(&self, person: i64, kind: &'static str) -> Result<(), AppError> {
        match &self.shared {
            None => self.local.action(person, kind),
            Some(shared) => too_many(
                shared
                    .take(format!("action:{kind}:{person}"), ACTIONS_BY_PERSON)
                    .await?,
            ),
        }
    }

    /// Whether a text reply from `number` is read at all: not once it, or everyone, has sent
    /// too many bad ones.
    pub async fn reply_allowed(&self, number: &str) -> Result<(), AppError> {
        match &self.shared {
            None => self.local.reply_allowed(number),
            Some(shared) => too_many(
                !shared
                    .blocked(vec![
                        format!("fail:reply:{number}"),
                        "fail:replies".to_owned(),
                    ])
                    .await?,
            ),
        }
    }

    /// Records a bad text reply (wrong, used, expired or someone else's code) from `number`.
    pub async fn reply_failed(&self, number: &str) {
        match &self.shared {
            None => self.local.reply_failed(number),
            Some(shared) => {
                logged(
                    shared
                        .fail(format!("fail:reply:{number}"), BAD_REPLIES_BY_NUMBER)
                        .await,
                );
                logged(shared.fail("fail:replies".to_owned(), BAD_REPLIES).await);
            }
        }
    }

    /// Whether a client may fetch a calendar feed (whatever the token).
    pub async fn calendar_feed(&self, client: IpAddr) -> Result<(), AppError> {
        match &self.shared {
            None => self.local.calendar_feed(client),
            Some(shared) => too_many(
                shared
                    .take(
                        format!("calendar:{}", client_key(client)),
                        CALENDAR_FEEDS_BY_CLIENT,
                    )
                    .await?,
            ),
        }
    }

    /// Forgets keys whose allowance has refilled, keeping memory (or the table) small.
    pub async fn tidy(&self) {
        self.local.tidy();
        if let Some(shared) = &self.shared {
            logged(shared.tidy().await);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail_n(limits: &Local, account: &str, client: IpAddr, n: usize) -> usize {
        (0..n)
            .filter(|_| {
                let ok = limits.sign_in_allowed(account, client).is_ok();
                if ok {
                    limits.sign_in_failed(account, client);
                }
                ok
            })
            .count()
    }

    #[test]
    fn second_factor_failures_are_capped_per_account_within_100_an_hour() {
        let limits = Local::default();
        // Keyed by the person alone: no address appears, so changing it cannot help.
        let refused_at = (0..200u32)
            .find(|_| {
                if limits.second_factor_allowed(7).is_err() {
                    return true;
                }
                limits.second_factor_failed(7);
                false
            })
            .expect("refused within 200 attempts");
        assert!(refused_at <= 100, "refused only after {refused_at}");
        assert!(
            refused_at >= 50,
            "a person mistyping is not locked out early"
        );
        assert!(
            limits.second_factor_allowed(8).is_ok(),
            "other accounts unaffected"
        );
    }

    #[test]
    fn an_account_is_slowed_after_five_failures_from_one_address_but_not_from_another() {
        let limits = Local::default();
        let attacker: IpAddr = "203.0.113.9".parse().unwrap();
        let nurse: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(
            fail_n(&limits, "priya@nhs.net", attacker, 10),
            6,
            "five in the burst, the sixth is refused and blocks"
        );
        assert_eq!(
            limits.sign_in_allowed("Priya@nhs.net", attacker),
            Err(AppError::TooManyRequests)
        );
        assert!(
            limits.sign_in_allowed("priya@nhs.net", nurse).is_ok(),
            "the real person still gets in"
        );
    }

    #[test]
    fn a_ward_pc_where_many_people_sign_in_is_not_slowed() {
        let limits = Local::default();
        let ward_pc: IpAddr = "10.1.2.3".parse().unwrap();
        for i in 0..100 {
            let nurse = format!("nurse{i}@nhs.net");
            assert!(limits.sign_in_allowed(&nurse, ward_pc).is_ok(), "{i}");
        }
        for _ in 0..10 {
            assert!(
                limits
                    .sign_in_allowed("nadia@nhs.net", "10.1.2.4".parse().unwrap())
                    .is_ok()
            );
        }
    }

    #[test]
    fn sign_in_attempts_take_allowance_before_the_password_is_checked() {
        let limits = Local::default();
        let attacker: IpAddr = "203.0.113.9".parse().unwrap();
        // Hundreds in flight at once: none has failed yet, so only attempts can refuse them.
        let one_account = (0..300)
            .filter(|_| limits.sign_in_allowed("priya@nhs.net", attacker).is_ok())
            .count();
        assert_eq!(one_account, 10);
        let many_accounts = (0..300)
            .filter(|i| {
                limits
                    .sign_in_allowed(&format!("user{i}@nhs.net"), attacker)
                    .is_ok()
            })
            .count();
        assert!(many_accounts <= 100, "{many_accounts}");
        assert!(
            limits
                .sign_in_allowed("priya@nhs.net", "198.51.100.1".parse().unwrap())
                .is_ok(),
            "another address keeps its allowance"
        );
    }

    #[test]
    fn ipv6_clients_share_a_limit_per_64() {
        let limits = Local::default();
        let first: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        assert_eq!(fail_n(&limits, "priya@nhs.net", first, 10), 6);
        let same_64: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:fffe".parse().unwrap();
        assert_eq!(
            limits.sign_in_allowed("priya@nhs.net", same_64),
            Err(AppError::TooManyRequests),
            "another address in the same /64 is the same client"
        );
        let next_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limits.sign_in_allowed("priya@nhs.net", next_64).is_ok());
        assert_eq!(
            client_key("::ffff:203.0.113.9".parse().unwrap()),
            "203.0.113.9".parse::<IpAddr>().unwrap(),
            "an IPv4-mapped address is its IPv4 address"
        );
    }

    #[test]
    fn declarations_and_exports_are_limited_per_person_and_kind() {
        let limits = Local::default();
        let allowed = (0..40)
            .filter(|_| limits.action(7, "export").is_ok())
            .count();
        assert_eq!(allowed, 30);
        assert!(
            limits.action(7, "declare").is_ok(),
            "each kind has its own allowance"
        );
        assert!(limits.action(8, "export").is_ok(), "and each person");
    }

    #[test]
    fn five_bad_text_replies_block_their_number_but_not_other_numbers() {
        let limits = Local::default();
        let guesser = "+447700900999";
        let refused_at = (0..20)
            .find(|_| {
                if limits.reply_allowed(guesser).is_err() {
                    return true;
                }
                limits.reply_failed(guesser);
                false
            })
            .expect("blocked within 20 bad replies");
        assert_eq!(refused_at, 5, "the fifth bad reply blocks the number");
        assert!(limits.reply_allowed("+447700900123").is_ok());
    }

    #[test]
    fn one_address_cannot_spray_many_accounts() {
        let limits = Local::default();
        let attacker: IpAddr = "203.0.113.9".parse().unwrap();
        let allowed: usize = (0..100)
            .map(|i| fail_n(&limits, &format!("user{i}@nhs.net"), attacker, 1))
            .sum();
        assert!(allowed <= 21, "{allowed}");
    }
}
