//! Rotating the secret key: the key file, every sealed secret and every signed timeline head
//! move to a new key together. Kept apart from `secrets` (the key ring and sealing) and
//! `timeline` (which signs with it), since it is the one step that needs both.

use std::path::Path;

use sea_orm::TransactionTrait;

use super::secrets::{Keyring, install, seal_stored};
use super::{audit, errors, timeline};
use crate::error::AppError;

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    pub old_keys: Vec<String>,
    pub new_key: String,
    pub secrets: usize,
    pub heads: usize,
}

/// Rotates the key in `path`: a new key is written into the file in front of the old ones,
/// every stored secret is sealed and every timeline head whose signature holds is signed
/// again under it, in one transaction, and only once that has committed are the old keys
/// dropped from the file. Stopped at any point, the file still holds every key the database
/// needs.
pub async fn rotate(db: &sea_orm::DatabaseConnection, path: &Path) -> Result<Rotated, AppError> {
    let file = |e: String| errors::internal("key file", &e);
    let ring = Keyring::load(path)
        .map_err(file)?
        .ok_or_else(|| file(format!("{} does not exist", path.display())))?;
    install(&ring);
    let next = ring.with_new_primary();
    next.save(path).map_err(file)?;
    install(&next);
    let txn = db.begin().await?;
    let secrets = seal_stored(&txn).await?;
    let heads = timeline::resign_heads(&txn).await?;
    audit::record(
        &txn,
        audit::Event {
            action: "secret_key_rotated",
            detail: Some(format!(
                "key {} replaces {}; {secrets} secrets sealed, {heads} timeline heads signed again",
                next.primary_id(),
                ring.ids().join(", ")
            )),
            client: Some("cli".into()),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    next.primary_only().save(path).map_err(file)?;
    Ok(Rotated {
        old_keys: ring.ids(),
        new_key: next.primary_id().to_owned(),
        secrets,
        heads,
    })
}
