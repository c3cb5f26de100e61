//! Rate limits (governor's GCRA, in memory per instance). Sign-in is limited per client
//! address and per account-and-address, so guessing is slow everywhere while an attacker
//! elsewhere cannot lock a real person out: their own address keeps its allowance; a looser
//! per-account limit caps spraying from many addresses.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;

pub struct Limits {
    sign_in_by_client: DefaultKeyedRateLimiter<IpAddr>,
    sign_in_by_account_and_client: DefaultKeyedRateLimiter<(String, IpAddr)>,
    sign_in_by_account: DefaultKeyedRateLimiter<String>,
    actions_by_person: DefaultKeyedRateLimiter<(i64, &'static str)>,
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
            sign_in_by_client: RateLimiter::keyed(quota(Duration::from_secs(3), 20)),
            sign_in_by_account_and_client: RateLimiter::keyed(quota(Duration::from_secs(20), 5)),
            sign_in_by_account: RateLimiter::keyed(quota(Duration::from_secs(6), 30)),
            actions_by_person: RateLimiter::keyed(quota(Duration::from_secs(2), 30)),
        }
    }
}

impl Limits {
    /// One sign-in (or second-factor) attempt for `account` from `client`.
    pub fn sign_in(&self, account: &str, client: IpAddr) -> Result<(), AppError> {
        let account = account.trim().to_lowercase();
        let ok = self.sign_in_by_client.check_key(&client).is_ok()
            && self
                .sign_in_by_account_and_client
                .check_key(&(account.clone(), client))
                .is_ok()
            && self.sign_in_by_account.check_key(&account).is_ok();
        if ok {
            Ok(())
        } else {
            Err(AppError::TooManyRequests)
        }
    }

    /// A costly or abusable action (declaring an incident, an export) by a person.
    pub fn action(&self, person: i64, kind: &'static str) -> Result<(), AppError> {
        self.actions_by_person
            .check_key(&(person, kind))
            .map_err(|_| AppError::TooManyRequests)
    }

    /// Forgets keys whose allowance has refilled, keeping memory bounded.
    pub fn tidy(&self) {
        self.sign_in_by_client.retain_recent();
        self.sign_in_by_account_and_client.retain_recent();
        self.sign_in_by_account.retain_recent();
        self.actions_by_person.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_slowed_after_five_tries_from_one_address_but_not_from_another() {
        let limits = Limits::default();
        let attacker: IpAddr = "203.0.113.9".parse().unwrap();
        let nurse: IpAddr = "10.1.2.3".parse().unwrap();
        for _ in 0..5 {
            assert!(limits.sign_in("priya@nhs.net", attacker).is_ok());
        }
        assert_eq!(
            limits.sign_in("Priya@nhs.net", attacker),
            Err(AppError::TooManyRequests)
        );
        assert!(
            limits.sign_in("priya@nhs.net", nurse).is_ok(),
            "the real person still gets in"
        );
    }

    #[test]
    fn one_address_cannot_spray_many_accounts() {
        let limits = Limits::default();
        let attacker: IpAddr = "203.0.113.9".parse().unwrap();
        let allowed = (0..100)
            .filter(|i| {
                limits
                    .sign_in(&format!("user{i}@nhs.net"), attacker)
                    .is_ok()
            })
            .count();
        assert_eq!(allowed, 20);
    }
}
