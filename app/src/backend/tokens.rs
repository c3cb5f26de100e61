//! Random tokens for links and recovery codes, and the hashes they are stored as.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Lower-case hexadecimal, as hashes and signatures are stored and compared.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA256 of `message` under `key`, in hex: signs links and webhook bodies.
pub fn mac(key: &[u8], message: &str) -> String {
    use hmac::Mac;
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    m.update(message.as_bytes());
    hex(&m.finalize().into_bytes())
}

/// The first characters of a credential (its kind's prefix and six more), kept and shown so
/// its holder can tell one from another; never enough to use.
pub fn shown_prefix(secret: &str, kind_prefix: &str) -> String {
    secret.chars().take(kind_prefix.len() + 6).collect()
}

/// 256 random bits, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A recovery code a person can type: ten characters from an alphabet without look-alikes.
pub fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let code: String = (0..10)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &code[..5], &code[5..])
}

/// How recovery codes are stored: argon2id (4 MiB, three passes) with a salt of its own, as a
/// PHC string. A code has only ~49 bits, so a fast digest of it could be reversed by trying
/// them all.
pub async fn hash_recovery_code(code: String) -> Result<String, crate::error::AppError> {
    use argon2::PasswordHasher;
    let code = code.trim().to_lowercase();
    tokio::task::spawn_blocking(move || {
        recovery_hasher()
            .hash_password(code.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| super::errors::internal("hashing a recovery code", &e))
    })
    .await
    .map_err(|e| super::errors::internal("hashing task", &e))?
}

/// Which of `stored` (recovery code hashes, by id) `code` matches. Hashes stored before
/// argon2 (a bare SHA-256) are still recognised.
pub async fn match_recovery_code(
    code: String,
    stored: Vec<(i64, String)>,
) -> Result<Option<i64>, crate::error::AppError> {
    use argon2::{PasswordHash, PasswordVerifier};
    let code = code.trim().to_lowercase();
    tokio::task::spawn_blocking(move || {
        let legacy = digest(&code);
        stored.into_iter().find_map(|(id, h)| {
            let hit = match PasswordHash::new(&h) {
                Ok(parsed) => recovery_hasher()
                    .verify_password(code.as_bytes(), &parsed)
                    .is_ok(),
                Err(_) => h == legacy,
            };
            hit.then_some(id)
        })
    })
    .await
    .map_err(|e| super::errors::internal("hashing task", &e))
}

fn recovery_hasher() -> argon2::Argon2<'static> {
    let params = argon2::Params::new(4096, 3, 1, None).expect("valid argon2 parameters");
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// How tokens are stored: a SHA-256 (the tokens are random, so no salt or slow hash is needed).
pub fn digest(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether two secrets are equal, in time that depends on neither: their SHA-256 digests
/// (always 32 bytes) are compared whole.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_distinct() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(digest(&a).len(), 64);
        assert_eq!(digest(&a), digest(&format!(" {a} ")));
    }

    #[tokio::test]
    async fn recovery_codes_are_stored_with_a_slow_salted_hash() {
        let code = new_recovery_code();
        let (a, b) = (
            hash_recovery_code(code.clone()).await.unwrap(),
            hash_recovery_code(code.clone()).await.unwrap(),
        );
        assert!(a.starts_with("$argon2id$v=19$m=4096,t=3,p=1$"), "{a}");
        assert_ne!(a, b, "each code has its own salt");
        assert!(!a.contains(&digest(&code)));
        let stored = vec![
            (1, hash_recovery_code(new_recovery_code()).await.unwrap()),
            (2, a),
        ];
        assert_eq!(
            match_recovery_code(code.to_uppercase(), stored.clone())
                .await
                .unwrap(),
            Some(2)
        );
        assert_eq!(
            match_recovery_code(new_recovery_code(), stored)
                .await
                .unwrap(),
            None
        );
    }

    #[test]
    fn recovery_codes_read_cleanly() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        assert!(!code.contains(['0', 'o', '1', 'l', 'i']));
    }
}
