//! Password hashing with argon2id, the common-password list, and the dummy hash that makes
//! an unknown email cost the same time as a wrong password. At most one hash per core runs at
//! once: each takes 19 MiB, so a flood of sign-ins queues here instead of exhausting memory.
//! Checking a password works in 19 MiB kept for each permit and reused, rather than memory
//! allocated afresh each time, which the allocator would keep on every thread that used it.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
};

use crate::domain::auth::check_password_shape;
use crate::error::AppError;

/// OWASP's argon2id minimum: 19 MiB, two passes, one lane.
pub const M_COST: u32 = 19_456;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

fn hasher() -> Argon2<'static> {
    // The constants are valid parameters; a failure here is a programming error caught by tests.
    let params = Params::new(M_COST, T_COST, P_COST, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Common passwords (lower-cased), from the zxcvbn frequency list (MIT licence), kept to
/// those long enough to pass the length rule.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common_passwords.txt").lines().collect());

/// The full rule for a new password: its length, not a common password, not the email.
pub fn check_new(password: &str, email: &str) -> Result<(), AppError> {
    check_password_shape(password).map_err(AppError::Invalid)?;
    let lower = password.to_lowercase();
    if COMMON.contains(lower.as_str()) {
        return Err(AppError::Invalid(
            "That password is too common and easy to guess. Choose another.".into(),
        ));
    }
    if lower.trim() == email.trim().to_lowercase() {
        return Err(AppError::Invalid(
            "Do not use your email address as your password.".into(),
        ));
    }
    Ok(())
}

/// Permits for argon2 work: one per core. More at once would not finish sooner (the work is
/// CPU-bound) and each one in flight holds its 19 MiB.
static HASHING: LazyLock<tokio::sync::Semaphore> =
    LazyLock::new(|| tokio::sync::Semaphore::new(permits()));

/// Runs argon2 work on a blocking thread (it is deliberately slow and would stall the
/// runtime), once a permit is free.
async fn bounded<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| super::errors::internal("hashing permits", &e))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| super::errors::internal(what, &e))
}

/// Argon2 working memory, at most one per permit, reused while sign-ins keep coming and
/// given back once none is being checked.
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// The permits `HASHING` was made with.
fn permits() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs `work` with a permit and a working memory of today's size.
async fn with_memory<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
) -> Result<T, AppError> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| super::errors::internal("hashing permits", &e))?;
    let taken = MEMORY.lock().unwrap_or_else(|p| p.into_inner()).pop();
    let (out, memory) = tokio::task::spawn_blocking(move || {
        let mut memory = taken.unwrap_or_else(|| vec![Block::default(); M_COST as usize]);
        (work(&mut memory), memory)
    })
    .await
    .map_err(|e| super::errors::internal(what, &e))?;
    let mut kept = MEMORY.lock().unwrap_or_else(|p| p.into_inner());
    if HASHING.available_permits() + 1 < permits() {
        // Another check is running (a burst of sign-ins): keep it for the next one.
        kept.push(memory);
    } else {
        // This was the only one: an idle server holds no argon2 memory (19 MiB a permit).
        kept.clear();
    }
    Ok(out)
}

/// Checks `password` against a parsed hash, in `memory` when it is big enough.
fn matches(password: &[u8], hash: &PasswordHash, memory: &mut [Block]) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(hash.algorithm.as_str()),
        Params::try_from(hash),
    ) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let Some(memory) = memory.get_mut(..params.block_count()) else {
        // Stronger than today's parameters: more memory than is kept, so made for this once.
        return argon.verify_password(password, hash).is_ok();
    };
    let mut out = vec![0u8; expected.len()];
    argon
        .hash_password_into_with_memory(password, salt, &mut out, memory)
        .is_ok()
        && out
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Hashes a new password.
pub async fn hash(password: String) -> Result<String, AppError> {
    bounded("hashing task", move || {
        hasher()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| super::errors::internal("hashing a password", &e))
    })
    .await?
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Right password, but the hash uses weaker parameters than today's: store a new one.
    YesRehash,
}

/// Checks a password. With no stored hash (unknown person, or no password set yet) it still
/// spends the same effort on a dummy hash, so timing tells nothing.
pub async fn verify(password: String, stored: Option<String>) -> Result<Verified, AppError> {
    with_memory("verifying task", move |memory| {
        let target = stored.unwrap_or_else(|| DUMMY.clone());
        let Ok(parsed) = PasswordHash::new(&target) else {
            return Verified::No;
        };
        if !matches(password.as_bytes(), &parsed, memory) {
            return Verified::No;
        }
        if stored_is_weaker(&parsed) {
            Verified::YesRehash
        } else {
            Verified::Yes
        }
    })
    .await
}

fn stored_is_weaker(hash: &PasswordHash) -> bool {
    if hash.algorithm.as_str() != "argon2id" {
        return true;
    }
    match Params::try_from(hash) {
        Ok(p) => p.m_cost() < M_COST || p.t_cost() < T_COST || p.p_cost() < P_COST,
        Err(_) => true,
    }
}

/// A hash of a random password nobody knows, made once, with today's parameters.
static DUMMY: LazyLock<String> = LazyLock::new(|| {
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
    hasher()
        .hash_password(&secret)
        .map(|h| h.to_string())
        .unwrap_or_else(|_| String::from("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_is_argon2id_with_at_least_the_owasp_parameters_and_verifies() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_eq!(
            verify("correct horse battery".into(), Some(h.clone()))
                .await
                .unwrap(),
            Verified::Yes
        );
        assert_eq!(
            verify("wrong horse battery".into(), Some(h)).await.unwrap(),
            Verified::No
        );
    }

    #[tokio::test]
    async fn a_hash_with_weaker_parameters_asks_to_be_rehashed() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 1, 1, None).unwrap(),
        )
        .hash_password(b"correct horse battery")
        .unwrap()
        .to_string();
        assert_eq!(
            verify("correct horse battery".into(), Some(weak))
                .await
                .unwrap(),
            Verified::YesRehash
        );
    }

    #[tokio::test]
    async fn a_hash_with_stronger_parameters_than_today_still_verifies() {
        let strong = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(M_COST * 2, 2, 1, None).unwrap(),
        )
        .hash_password(b"correct horse battery")
        .unwrap()
        .to_string();
        assert_eq!(
            verify("correct horse battery".into(), Some(strong.clone()))
                .await
                .unwrap(),
            Verified::Yes
        );
        assert_eq!(
            verify("wrong horse battery".into(), Some(strong))
                .await
                .unwrap(),
            Verified::No
        );
    }

    #[tokio::test]
    async fn no_stored_hash_never_verifies() {
        assert_eq!(
            verify("anything at all".into(), None).await.unwrap(),
            Verified::No
        );
        assert_eq!(
            verify("x".into(), Some("not a hash".into())).await.unwrap(),
            Verified::No
        );
    }

    #[test]
    fn common_passwords_and_the_email_are_refused() {
        assert!(check_new("password1", "a@b.nhs.uk").is_err());
        assert!(
            check_new("PassWord123", "a@b.nhs.uk").is_err(),
            "case does not help"
        );
        assert!(check_new("qwertyuiop", "a@b.nhs.uk").is_err());
        assert!(check_new("priya@nhs.net", "priya@nhs.net").is_err());
        assert!(check_new("short", "a@b.nhs.uk").is_err());
        assert!(check_new("ward round at nine", "a@b.nhs.uk").is_ok());
    }
}
