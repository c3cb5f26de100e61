//! Secrets at rest: the key file outside the database, the sealed envelopes secrets are
//! stored in, keyed signatures (timeline heads), and sealing every stored secret under the
//! current key (at start-up, and when the key is rotated).
//!
//! An envelope is `wl1.<key id>.<base64(nonce ‖ ciphertext)>` under XChaCha20-Poly1305 with
//! a random 192-bit nonce; the key id says which key of the file opens it, so a file may hold
//! an old key beside the new one while a rotation re-encrypts, and nothing is lost if the
//! rotation stops half-way.
//!
//! The keys a process holds are installed once at start-up (`install`) and read from here by
//! the code that stores secrets and appends to timelines: those calls run deep inside
//! incident and escalation work that has only a database connection. Keys are only ever
//! added, so a process serving several databases (the tests) can still open everything it
//! sealed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::Mac;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use secrecy::{ExposeSecret, SecretBox, SecretString};

use super::entity::{account, setting, webhook};
use crate::error::AppError;

/// The envelope's version tag.
const VERSION: &str = "wl1";
/// The key file's line tag.
const LINE: &str = "wardline-key 1";

/// One key: its id and 32 secret bytes.
pub struct Key {
    id: String,
    bytes: SecretBox<[u8; 32]>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Key {
    fn generate() -> Key {
        let mut bytes = Box::new([0u8; 32]);
        rand::rng().fill_bytes(bytes.as_mut());
        let mut id = [0u8; 4];
        rand::rng().fill_bytes(&mut id);
        Key {
            id: super::tokens::hex(&id),
            bytes: SecretBox::new(bytes),
        }
    }

    fn copy(&self) -> Key {
        Key {
            id: self.id.clone(),
            bytes: SecretBox::new(Box::new(*self.bytes.expose_secret())),
        }
    }

    /// A key for one purpose derived from this one, so signatures and encryption never
    /// share a key.
    fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(self.bytes.expose_secret())
            .expect("any key length");
        m.update(b"wardline/");
        m.update(purpose.as_bytes());
        m.finalize().into_bytes().into()
    }
}

/// The keys of a key file, the current (primary) one first.
#[derive(Debug)]
pub struct Keyring {
    keys: Vec<Key>,
}

impl Keyring {
    /// A ring of one new key.
    pub fn generate() -> Keyring {
        Keyring {
            keys: vec![Key::generate()],
        }
    }

    pub fn primary_id(&self) -> &str {
        &self.keys[0].id
    }

    pub fn ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.id.clone()).collect()
    }

    /// This ring with a new primary key in front, the old keys kept.
    pub fn with_new_primary(&self) -> Keyring {
        let mut keys = vec![Key::generate()];
        keys.extend(self.keys.iter().map(Key::copy));
        Keyring { keys }
    }

    /// Only the primary key.
    pub fn primary_only(&self) -> Keyring {
        Keyring {
            keys: vec![self.keys[0].copy()],
        }
    }

    fn parse(text: &str) -> Result<Keyring, String> {
        let mut keys = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let rest = line
                .strip_prefix(LINE)
                .ok_or_else(|| "a line is not a Wardline key".to_owned())?;
            let mut parts = rest.split_whitespace();
            let (Some(id), Some(b64), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err("a key line has the wrong shape".into());
            };
            let raw = STANDARD
                .decode(b64)
                .map_err(|_| "a key is not base64".to_owned())?;
            let bytes: [u8; 32] = raw
                .try_into()
                .map_err(|_| "a key is not 32 bytes".to_owned())?;
            keys.push(Key {
                id: id.to_owned(),
                bytes: SecretBox::new(Box::new(bytes)),
            });
        }
        if keys.is_empty() {
            return Err("the file holds no key".into());
        }
        Ok(Keyring { keys })
    }

    fn to_text(&self) -> String {
        let mut out = String::from(
            "# Wardline's secret key. Keep it safe and backed up, apart from the database:\n\
             # without it two-step verification and webhook secrets cannot be read and\n\
             # incident timelines cannot be verified. The first key is the current one.\n",
        );
        for k in &self.keys {
            out.push_str(&format!(
                "{LINE} {} {}\n",
                k.id,
                STANDARD.encode(k.bytes.expose_secret())
            ));
        }
        out
    }

    /// Reads the key file; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Keyring>, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => Keyring::parse(&text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("reading {}: {e}", path.display())),
        }
    }

    /// Reads the key file, or makes one (readable by its owner only) when there is none.
    /// True when it was made now.
    pub fn load_or_create(path: &Path) -> Result<(Keyring, bool), String> {
        if let Some(ring) = Keyring::load(path)? {
            return Ok((ring, false));
        }
        let ring = Keyring::generate();
        ring.save(path)?;
        Ok((ring, true))
    }

    /// Writes the key file whole or not at all: a new file (mode 0600) renamed over the old.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        use std::io::Write;
        let failed = |e: std::io::Error| format!("writing {}: {e}", path.display());
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let tmp = path.with_extension("key-new");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp).map_err(failed)?;
        f.write_all(self.to_text().as_bytes()).map_err(failed)?;
        f.sync_all().map_err(failed)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(failed)
    }
}

#[derive(Default)]
struct Registry {
    primary: Option<String>,
    keys: HashMap<String, Arc<Key>>,
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(Default::default);

/// Makes a ring's keys available to this process, its first key the one new secrets and
/// signatures use.
pub fn install(ring: &Keyring) {
    let mut r = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    for k in &ring.keys {
        r.keys.insert(k.id.clone(), Arc::new(k.copy()));
    }
    r.primary = Some(ring.keys[0].id.clone());
}

/// A fresh key for service tests, which have no key file.
#[cfg(test)]
pub fn install_for_tests() {
    if REGISTRY.read().map(|r| r.primary.is_none()).unwrap_or(true) {
        install(&Keyring::generate());
    }
}

fn no_key() -> AppError {
    super::errors::internal("secrets", &"no secret key is installed")
}

fn primary() -> Result<Arc<Key>, AppError> {
    let r = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    r.primary
        .as_ref()
        .and_then(|id| r.keys.get(id))
        .cloned()
        .ok_or_else(no_key)
}

fn key(id: &str) -> Option<Arc<Key>> {
    REGISTRY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .keys
        .get(id)
        .cloned()
}

/// True when `stored` is an envelope (anything else is a secret stored before encryption).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with("wl1.")
}

/// Which key sealed an envelope.
fn key_id(stored: &str) -> Option<&str> {
    stored.strip_prefix("wl1.")?.split('.').next()
}

/// Seals a secret under the current key.
pub fn seal(plain: &str) -> Result<String, AppError> {
    let k = primary()?;
    let cipher = XChaCha20Poly1305::new(&k.derive("encrypt").into());
    let mut nonce = [0u8; 24];
    rand::rng().fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
        .map_err(|_| super::errors::internal("secrets", &"sealing failed"))?;
    let mut body = nonce.to_vec();
    body.extend(ct);
    Ok(format!("{VERSION}.{}.{}", k.id, STANDARD.encode(body)))
}

/// Opens an envelope. A value stored before encryption is returned as it is, so a database
/// from before is still usable until its secrets are sealed at start-up.
pub fn open(stored: &str) -> Result<SecretString, AppError> {
    if !is_sealed(stored) {
        return Ok(SecretString::from(stored.to_owned()));
    }
    let failed = |why: &'static str| super::errors::internal("secrets", &why);
    let mut parts = stored.splitn(3, '.');
    let (Some(_), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(failed("envelope has the wrong shape"));
    };
    let k = key(id).ok_or_else(|| failed("envelope sealed by a key this server does not hold"))?;
    let body = STANDARD
        .decode(b64)
        .map_err(|_| failed("envelope is not base64"))?;
    if body.len() < 24 {
        return Err(failed("envelope too short"));
    }
    let (nonce, ct) = body.split_at(24);
    let plain = XChaCha20Poly1305::new(&k.derive("encrypt").into())
        .decrypt(XNonce::from_slice(nonce), ct)
        .map_err(|_| failed("envelope does not open"))?;
    String::from_utf8(plain)
        .map(SecretString::from)
        .map_err(|_| failed("envelope is not text"))
}

/// Seals a stored value again when it is plaintext or sealed by a key other than the
/// current one; `None` when it is already sealed by the current key.
fn reseal(stored: &str) -> Result<Option<String>, AppError> {
    let current = primary()?;
    if key_id(stored) == Some(current.id.as_str()) {
        return Ok(None);
    }
    seal(open(stored)?.expose_secret()).map(Some)
}

/// HMAC-SHA256 of `message` for `purpose` under the current key: (key id, hex signature).
pub fn sign(purpose: &str, message: &[u8]) -> Result<(String, String), AppError> {
    let k = primary()?;
    Ok((k.id.clone(), mac(&k, purpose, message)))
}

/// Checks a signature made by `sign`. `None` when the key that made it is not held.
pub fn verify(purpose: &str, key_id: &str, message: &[u8], signature: &str) -> Option<bool> {
    let k = key(key_id)?;
    let expected = mac(&k, purpose, message);
    Some(
        expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0,
    )
}

fn mac(k: &Key, purpose: &str, message: &[u8]) -> String {
    let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&k.derive(purpose))
        .expect("any key length");
    m.update(message);
    super::tokens::hex(&m.finalize().into_bytes())
}

/// The setting holding the key that signs acknowledgement links.
pub const LINK_KEY_SETTING: &str = "signing_key";

/// Seals every stored secret that is plaintext or sealed by an older key: TOTP secrets,
/// webhook secrets and the link-signing key. Safe to run again. Returns how many it sealed.
pub async fn seal_stored(db: &impl ConnectionTrait) -> Result<usize, AppError> {
    let mut sealed = 0;
    for a in account::Entity::find()
        .filter(account::Column::TotpSecret.is_not_null())
        .all(db)
        .await?
    {
        let Some(new) = reseal(a.totp_secret.as_deref().unwrap_or_default())? else {
            continue;
        };
        let mut m: account::ActiveModel = a.into();
        m.totp_secret = Set(Some(new));
        m.update(db).await?;
        sealed += 1;
    }
    for w in webhook::Entity::find().all(db).await? {
        let Some(new) = reseal(&w.secret)? else {
            continue;
        };
        let mut m: webhook::ActiveModel = w.into();
        m.secret = Set(new);
        m.update(db).await?;
        sealed += 1;
    }
    if let Some(s) = setting::Entity::find_by_id(LINK_KEY_SETTING.to_owned())
        .one(db)
        .await?
        && let Some(new) = reseal(&s.value)?
    {
        let mut m: setting::ActiveModel = s.into();
        m.value = Set(new);
        m.update(db).await?;
        sealed += 1;
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_opens_to_what_was_sealed_and_hides_it() {
        install_for_tests();
        let sealed = seal("JBSWY3DPEHPK3PXP").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_ne!(sealed, seal("JBSWY3DPEHPK3PXP").unwrap(), "nonces differ");
        assert_eq!(open(&sealed).unwrap().expose_secret(), "JBSWY3DPEHPK3PXP");
        let mut bad = sealed.clone();
        bad.pop();
        bad.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(open(&bad).is_err());
    }

    #[test]
    fn a_key_file_round_trips_and_keeps_old_keys_in_rotation() {
        let dir =
            std::env::temp_dir().join(format!("wl-keys-{}", super::super::tokens::new_token()));
        let path = dir.join("secret.key");
        let (ring, made) = Keyring::load_or_create(&path).unwrap();
        assert!(made);
        let (again, made) = Keyring::load_or_create(&path).unwrap();
        assert!(!made);
        assert_eq!(ring.ids(), again.ids());
        let next = ring.with_new_primary();
        assert_eq!(next.ids()[1..], ring.ids()[..]);
        assert!(!format!("{next:?}").contains("bytes"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
