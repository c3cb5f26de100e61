//! Rate limits (governor's GCRA, in memory per instance).
//!
//! Sign-in counts failures only, so a busy shared ward computer is never slowed by people
//! signing in successfully. Failures are limited per client address and per
//! account-and-address: guessing is slow everywhere, while an attacker elsewhere cannot lock
//! a real person out, because the person's own address keeps its allowance. A looser
//! per-account limit caps spraying one account from many addresses. Once a limiter refuses,
//! the key is blocked until governor says a new attempt would be allowed.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
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

pub struct Limits {
    by_client: FailureLimit<IpAddr>,
    by_account_and_client: FailureLimit<(String, IpAddr)>,
    by_account: FailureLimit<String>,
    actions_by_person: DefaultKeyedRateLimiter<(i64, &'static str)>,
    second_factor_by_person: FailureLimit<i64>,
}

fn quota(every: Duration, burst: u32) -> Quota {
    // Both arguments are non-zero constants below.
    Quota::with_period(every)
        .expect("a non-zero period")
        .allow_burst(NonZeroU32::new(burst).expect("a non-zero burst"))
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            by_client: FailureLimit::new(quota(Duration::from_secs(3), 20)),
            by_account_and_client: FailureLimit::new(quota(Duration::from_secs(20), 5)),
            by_account: FailureLimit::new(quota(Duration::from_secs(6), 30)),
            actions_by_person: RateLimiter::keyed(quota(Duration::from_secs(2), 30)),
            // GCRA lets through at most burst + window / period in any window: 50 + 3600 / 72
            // = 100 wrong second factors per account in any hour, from wherever they come.
            second_factor_by_person: FailureLimit::new(quota(Duration::from_secs(72), 50)),
        }
    }
}

fn normal(account: &str) -> String {
    account.trim().to_lowercase()
}

impl Limits {
    /// Whether a sign-in (or second-factor) attempt for `account` from `client` may proceed.
    pub fn sign_in_allowed(&self, account: &str, client: IpAddr) -> Result<(), AppError> {
        let account = normal(account);
        let blocked = self.by_client.is_blocked(&client)
            || self
                .by_account_and_client
                .is_blocked(&(account.clone(), client))
            || self.by_account.is_blocked(&account);
        if blocked {
            Err(AppError::TooManyRequests)
        } else {
            Ok(())
        }
    }

    /// Records a failed attempt.
    pub fn sign_in_failed(&self, account: &str, client: IpAddr) {
        let account = normal(account);
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

    /// Forgets keys whose allowance has refilled, keeping memory bounded.
    pub fn tidy(&self) {
        self.by_client.tidy();
        self.by_account_and_client.tidy();
        self.by_account.tidy();
        self.actions_by_person.retain_recent();
        self.second_factor_by_person.tidy();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail_n(limits: &Limits, account: &str, client: IpAddr, n: usize) -> usize {
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
        let limits = Limits::default();
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
        let limits = Limits::default();
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
    fn successful_sign_ins_are_never_slowed() {
        let limits = Limits::default();
        let ward_pc: IpAddr = "10.1.2.3".parse().unwrap();
        for _ in 0..100 {
            assert!(limits.sign_in_allowed("nadia@nhs.net", ward_pc).is_ok());
        }
    }

    #[test]
    fn declarations_and_exports_are_limited_per_person_and_kind() {
        let limits = Limits::default();
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
    fn one_address_cannot_spray_many_accounts() {
        let limits = Limits::default();
        let attacker: IpAddr = "203.0.113.9".parse().unwrap();
        let allowed: usize = (0..100)
            .map(|i| fail_n(&limits, &format!("user{i}@nhs.net"), attacker, 1))
            .sum();
        assert!(allowed <= 21, "{allowed}");
    }
}
