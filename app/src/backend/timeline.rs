//! The incident timeline: an append-only log in which each entry carries the hash of the
//! one before, so an entry altered or removed afterwards is found by `verify`.
//!
//! An entry's hash covers its predecessor's hash, the incident, the time (to the
//! microsecond, which SQLite and PostgreSQL both keep exactly), the actor, the kind and the
//! text. A unique index on (incident, previous hash) means two writers can never both
//! append after the same entry.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::entity::{incident, incident_event};
use crate::error::AppError;

/// The predecessor of an incident's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of one entry.
pub fn hash(
    prev: &str,
    incident_id: i64,
    at: OffsetDateTime,
    actor: Option<i64>,
    kind: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev.to_owned(),
        incident_id.to_string(),
        (at.unix_timestamp_nanos() / 1_000).to_string(),
        actor.map(|a| a.to_string()).unwrap_or_default(),
        kind.to_owned(),
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    h.update(detail.as_bytes());
    super::tokens::hex(&h.finalize())
}

/// Now, to the microsecond.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

/// Appends an entry. Call it inside the transaction that makes the change it records, after
/// that transaction's first write (so SQLite already holds the write lock).
pub async fn append(
    db: &impl ConnectionTrait,
    incident_id: i64,
    actor: Option<i64>,
    kind: &str,
    detail: String,
) -> Result<(), AppError> {
    let prev = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(incident_id))
        .order_by_desc(incident_event::Column::Id)
        .limit(1)
        .one(db)
        .await?
        .and_then(|e| e.hash)
        .unwrap_or_else(|| GENESIS.to_owned());
    let at = now();
    let hash = hash(&prev, incident_id, at, actor, kind, &detail);
    incident_event::ActiveModel {
        incident_id: Set(incident_id),
        at: Set(at),
        actor_id: Set(actor),
        kind: Set(kind.to_owned()),
        detail: Set(detail),
        prev_hash: Set(Some(prev)),
        hash: Set(Some(hash)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Appends several entries to one incident's timeline at once, chained in order: one read of
/// the last hash, one insert.
pub async fn append_many(
    db: &impl ConnectionTrait,
    incident_id: i64,
    entries: Vec<(Option<i64>, String, String)>,
) -> Result<(), AppError> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut prev = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(incident_id))
        .order_by_desc(incident_event::Column::Id)
        .limit(1)
        .one(db)
        .await?
        .and_then(|e| e.hash)
        .unwrap_or_else(|| GENESIS.to_owned());
    let at = now();
    let rows: Vec<incident_event::ActiveModel> = entries
        .into_iter()
        .map(|(actor, kind, detail)| {
            let h = hash(&prev, incident_id, at, actor, &kind, &detail);
            incident_event::ActiveModel {
                incident_id: Set(incident_id),
                at: Set(at),
                actor_id: Set(actor),
                kind: Set(kind),
                detail: Set(detail),
                prev_hash: Set(Some(std::mem::replace(&mut prev, h.clone()))),
                hash: Set(Some(h)),
                ..Default::default()
            }
        })
        .collect();
    incident_event::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The first entry of a new incident's timeline (its predecessor is the genesis), to be
/// inserted with the incident. The unique index refuses it if the incident already has one.
pub fn first_entry(
    incident_id: i64,
    at: OffsetDateTime,
    actor: Option<i64>,
    kind: &str,
    detail: String,
) -> incident_event::ActiveModel {
    let hash = hash(GENESIS, incident_id, at, actor, kind, &detail);
    incident_event::ActiveModel {
        incident_id: Set(incident_id),
        at: Set(at),
        actor_id: Set(actor),
        kind: Set(kind.to_owned()),
        detail: Set(detail),
        prev_hash: Set(Some(GENESIS.to_owned())),
        hash: Set(Some(hash)),
        ..Default::default()
    }
}

/// Checks one incident's chain. `Ok(entries)` when whole, else the first broken entry's
/// position (1-based) and what is wrong with it.
pub async fn verify(
    db: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Result<usize, (usize, String)>, AppError> {
    let events = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(incident_id))
        .order_by_asc(incident_event::Column::Id)
        .all(db)
        .await?;
    let mut prev = GENESIS.to_owned();
    for (i, e) in events.iter().enumerate() {
        let n = i + 1;
        if e.prev_hash.as_deref() != Some(prev.as_str()) {
            return Ok(Err((
                n,
                "does not follow the entry before it (an entry was removed or reordered)".into(),
            )));
        }
        let expected = hash(&prev, e.incident_id, e.at, e.actor_id, &e.kind, &e.detail);
        if e.hash.as_deref() != Some(expected.as_str()) {
            return Ok(Err((n, "was altered after it was written".into())));
        }
        prev = expected;
    }
    Ok(Ok(events.len()))
}

/// One incident's check, for the CLI and the admin page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub reference: String,
    pub result: Result<usize, (usize, String)>,
}

/// Checks every incident in `ids` (all when `None`), in reference order.
pub async fn verify_all(
    db: &impl ConnectionTrait,
    ids: Option<Vec<i64>>,
) -> Result<Vec<Check>, AppError> {
    let mut q = incident::Entity::find().order_by_asc(incident::Column::Reference);
    if let Some(ids) = ids {
        q = q.filter(incident::Column::Id.is_in(ids));
    }
    let mut out = Vec::new();
    for inc in q.all(db).await? {
        out.push(Check {
            result: verify(db, inc.id).await?,
            reference: inc.reference,
        });
    }
    Ok(out)
}

/// Seals entries written before the chain existed: only incidents none of whose entries
/// carry a hash, so it never re-seals an entry whose hash was cleared after sealing.
pub async fn seal_legacy(db: &impl ConnectionTrait) -> Result<usize, AppError> {
    let unsealed: Vec<i64> = incident_event::Entity::find()
        .filter(incident_event::Column::Hash.is_null())
        .select_only()
        .column(incident_event::Column::IncidentId)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let mut sealed = 0;
    for incident_id in unsealed {
        let events = incident_event::Entity::find()
            .filter(incident_event::Column::IncidentId.eq(incident_id))
            .order_by_asc(incident_event::Column::Id)
            .all(db)
            .await?;
        if events.iter().any(|e| e.hash.is_some()) {
            continue;
        }
        let mut prev = GENESIS.to_owned();
        for e in events {
            let at =
                e.at.replace_nanosecond(e.at.nanosecond() / 1_000 * 1_000)
                    .unwrap_or(e.at);
            let h = hash(&prev, e.incident_id, at, e.actor_id, &e.kind, &e.detail);
            let mut m: incident_event::ActiveModel = e.into();
            m.at = Set(at);
            m.prev_hash = Set(Some(prev));
            m.hash = Set(Some(h.clone()));
            m.update(db).await?;
            prev = h;
            sealed += 1;
        }
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_changes_the_hash() {
        let at = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        let base = hash(GENESIS, 7, at, Some(3), "task", "done");
        assert_eq!(base.len(), 64);
        assert_eq!(base, hash(GENESIS, 7, at, Some(3), "task", "done"));
        for other in [
            hash(&"1".repeat(64), 7, at, Some(3), "task", "done"),
            hash(GENESIS, 8, at, Some(3), "task", "done"),
            hash(
                GENESIS,
                7,
                at + time::Duration::microseconds(1),
                Some(3),
                "task",
                "done",
            ),
            hash(GENESIS, 7, at, None, "task", "done"),
            hash(GENESIS, 7, at, Some(3), "note", "done"),
            hash(GENESIS, 7, at, Some(3), "task", "done."),
            // Moving text between fields must not produce the same hash.
            hash(GENESIS, 7, at, Some(3), "taskd", "one"),
        ] {
            assert_ne!(base, other);
        }
    }
}
