//! The incident timeline: an append-only log in which each entry carries the hash of the
//! one before, with a signed head, so an entry altered, removed or recomputed afterwards, a
//! chain cut short or restarted, and an incident's facts edited outside it are all found by
//! `inspect`.
//!
//! An entry's hash covers its predecessor's hash, the incident, the time (to the
//! microsecond, which SQLite and PostgreSQL both keep exactly), the actor, the kind, the
//! text and, on entries that change them (the first, level and status changes, reports),
//! the incident's facts that drive its obligations as they stand after the change. A unique
//! index on (incident, previous hash) means two writers can never both append after the
//! same entry.
//!
//! Each chain's head (how many entries, the last hash) is signed with HMAC-SHA256 under a
//! key from the key file, which the database does not hold (`secrets`), and kept in
//! `timeline_head`. An append extends the head only when the head it finds is genuine and
//! is the chain's last entry: nothing re-signs a chain that was tampered with.

use std::collections::BTreeMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::entity::{incident, incident_event, incident_report, timeline_head};
use super::secrets;
use crate::error::AppError;

mod verify;

pub use verify::{Check, Finding, inspect, verify, verify_all};

/// The predecessor of an incident's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Entry kinds that change an incident's facts: they record the facts after the change.
const FACT_KINDS: [&str; 5] = ["declared", "changed", "report", "facts", "awareness"];

/// What a head's signature is for (the key is derived for this purpose alone).
const HEAD_PURPOSE: &str = "timeline-head";

/// The hash of one entry without recorded facts.
pub fn hash(
    prev: &str,
    incident_id: i64,
    at: OffsetDateTime,
    actor: Option<i64>,
    kind: &str,
    detail: &str,
) -> String {
    entry_hash(prev, incident_id, at, actor, kind, detail, None)
}

/// The hash of one entry.
pub fn entry_hash(
    prev: &str,
    incident_id: i64,
    at: OffsetDateTime,
    actor: Option<i64>,
    kind: &str,
    detail: &str,
    facts: Option<&str>,
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
    if let Some(f) = facts {
        h.update([0x1e]);
        h.update(f.as_bytes());
    }
    super::tokens::hex(&h.finalize())
}

fn micros(t: OffsetDateTime) -> String {
    (t.unix_timestamp_nanos() / 1_000).to_string()
}

/// An incident's facts that drive its obligations, as a canonical text (JSON with sorted
/// keys): organisation, kind, level, status, declared and awareness times, personal data,
/// exercise, and every clock report recorded.
pub fn facts(inc: &incident::Model, reports: &[incident_report::Model]) -> String {
    let mut f = declared_facts(
        inc.org_id,
        &inc.kind,
        inc.level.as_str(),
        inc.status.as_str(),
        inc.declared_at,
        inc.aware_at,
        inc.personal_data,
        inc.exercise.as_deref(),
    );
    for r in reports {
        // A CSOC report's purpose is signed with it (reports recorded before purposes
        // were asked for have none, and keep the text they were signed with).
        let purpose = r
            .purpose
            .as_deref()
            .map(|p| format!(" [{p}]"))
            .unwrap_or_default();
        f.insert(
            format!("report.{}", r.body),
            format!("{} {}{purpose}", micros(r.reported_at), r.reference),
        );
    }
    serde_json::to_string(&f).unwrap_or_default()
}

/// The facts of an incident being declared, before it has an id or reports.
#[allow(clippy::too_many_arguments)]
pub fn declared_facts(
    org_id: i64,
    kind: &str,
    level: &str,
    status: &str,
    declared_at: OffsetDateTime,
    aware_at: OffsetDateTime,
    personal_data: bool,
    exercise: Option<&str>,
) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("organisation".to_owned(), org_id.to_string()),
        ("kind".to_owned(), kind.to_owned()),
        ("level".to_owned(), level.to_owned()),
        ("status".to_owned(), status.to_owned()),
        ("declared_at".to_owned(), micros(declared_at)),
        ("aware_at".to_owned(), micros(aware_at)),
        ("personal_data".to_owned(), personal_data.to_string()),
        (
            "exercise".to_owned(),
            exercise.unwrap_or_default().to_owned(),
        ),
    ])
}

/// The canonical text of facts built by `declared_facts`.
pub fn facts_text(f: &BTreeMap<String, String>) -> String {
    serde_json::to_string(f).unwrap_or_default()
}

/// An incident's facts as they stand now; `None` when the incident is gone.
pub async fn current_facts(
    db: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Option<String>, AppError> {
    let Some(inc) = incident::Entity::find_by_id(incident_id).one(db).await? else {
        return Ok(None);
    };
    let reports = incident_report::Entity::find()
        .filter(incident_report::Column::IncidentId.eq(incident_id))
        .order_by_asc(incident_report::Column::Body)
        .all(db)
        .await?;
    Ok(Some(facts(&inc, &reports)))
}

/// Now, to the microsecond.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

fn head_message(incident_id: i64, entries: i64, head_hash: &str) -> Vec<u8> {
    format!("{incident_id}\x1f{entries}\x1f{head_hash}").into_bytes()
}

/// A newly signed head.
fn signed_head(
    incident_id: i64,
    entries: i64,
    head_hash: String,
    at: OffsetDateTime,
) -> Result<timeline_head::ActiveModel, AppError> {
    let (key_id, signature) = secrets::sign(
        HEAD_PURPOSE,
        &head_message(incident_id, entries, &head_hash),
    )?;
    Ok(timeline_head::ActiveModel {
        incident_id: Set(incident_id),
        entries: Set(entries),
        head_hash: Set(head_hash),
        key_id: Set(key_id),
        signature: Set(signature),
        signed_at: Set(at),
    })
}

/// Whether a stored head's signature holds: `None` when its key is not held.
fn head_genuine(h: &timeline_head::Model) -> Option<bool> {
    secrets::verify(
        HEAD_PURPOSE,
        &h.key_id,
        &head_message(h.incident_id, h.entries, &h.head_hash),
        &h.signature,
    )
}

async fn store_head(
    db: &impl ConnectionTrait,
    head: timeline_head::ActiveModel,
) -> Result<(), AppError> {
    use timeline_head::Column as C;
    timeline_head::Entity::insert(head)
        .on_conflict(
            OnConflict::column(C::IncidentId)
                .update_columns([C::Entries, C::HeadHash, C::KeyId, C::Signature, C::SignedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
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
    append_many(db, incident_id, vec![(actor, kind.to_owned(), detail)]).await
}

/// Makes appends to one incident's timeline take turns until this transaction ends. On
/// SQLite the transaction's first write already holds the database's write lock; on
/// PostgreSQL two transactions could read the same last entry and fork the chain, so the
/// incident's row is locked first (callers appending to several incidents do so in order of
/// id, so two of them never wait on each other).
async fn lock_chain(db: &impl ConnectionTrait, incident_id: i64) -> Result<(), AppError> {
    use sea_orm::{DbBackend, Statement};
    if db.get_database_backend() == DbBackend::Postgres {
        db.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM incident WHERE id = $1 FOR UPDATE",
            [incident_id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Appends several entries to one incident's timeline at once, chained in order: one read of
/// the last entry and of the head, one insert, and the head signed again.
pub async fn append_many(
    db: &impl ConnectionTrait,
    incident_id: i64,
    entries: Vec<(Option<i64>, String, String)>,
) -> Result<(), AppError> {
    if entries.is_empty() {
        return Ok(());
    }
    lock_chain(db, incident_id).await?;
    let last = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(incident_id))
        .order_by_desc(incident_event::Column::Id)
        .limit(1)
        .one(db)
        .await?;
    let head = timeline_head::Entity::find_by_id(incident_id)
        .one(db)
        .await?;
    let mut prev = last
        .as_ref()
        .and_then(|e| e.hash.clone())
        .unwrap_or_else(|| GENESIS.to_owned());
    let facts = if entries
        .iter()
        .any(|(_, k, _)| FACT_KINDS.contains(&k.as_str()))
    {
        current_facts(db, incident_id).await?
    } else {
        None
    };
    // The head is extended only from a genuine head that is the chain's last entry (or an
    // empty chain): a tampered chain keeps the head that shows it.
    let extends = match (&head, &last) {
        (None, None) => Some(0),
        (Some(h), Some(e))
            if head_genuine(h) == Some(true) && e.hash.as_ref() == Some(&h.head_hash) =>
        {
            Some(h.entries)
        }
        _ => None,
    };
    let at = now();
    let n = entries.len() as i64;
    let rows: Vec<incident_event::ActiveModel> = entries
        .into_iter()
        .map(|(actor, kind, detail)| {
            let f = facts
                .clone()
                .filter(|_| FACT_KINDS.contains(&kind.as_str()));
            let h = entry_hash(&prev, incident_id, at, actor, &kind, &detail, f.as_deref());
            incident_event::ActiveModel {
                incident_id: Set(incident_id),
                at: Set(at),
                actor_id: Set(actor),
                kind: Set(kind),
                detail: Set(detail),
                prev_hash: Set(Some(std::mem::replace(&mut prev, h.clone()))),
                hash: Set(Some(h)),
                facts: Set(f),
                ..Default::default()
            }
        })
        .collect();
    incident_event::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    match extends {
        Some(before) => store_head(db, signed_head(incident_id, before + n, prev, at)?).await?,
        None => tracing::warn!(
            incident_id,
            "timeline head not extended: the chain does not match its signed head"
        ),
    }
    Ok(())
}

/// The first entry of a new incident's timeline (its predecessor is the genesis) and its
/// signed head, to be inserted with the incident. The unique index refuses the entry if the
/// incident already has one.
pub fn first_entry(
    incident_id: i64,
    at: OffsetDateTime,
    actor: Option<i64>,
    kind: &str,
    detail: String,
    facts: String,
) -> Result<(incident_event::ActiveModel, timeline_head::ActiveModel), AppError> {
    let hash = entry_hash(GENESIS, incident_id, at, actor, kind, &detail, Some(&facts));
    let head = signed_head(incident_id, 1, hash.clone(), at)?;
    Ok((
        incident_event::ActiveModel {
            incident_id: Set(incident_id),
            at: Set(at),
            actor_id: Set(actor),
            kind: Set(kind.to_owned()),
            detail: Set(detail),
            prev_hash: Set(Some(GENESIS.to_owned())),
            hash: Set(Some(hash)),
            facts: Set(Some(facts)),
            ..Default::default()
        },
        head,
    ))
}

/// An incident's signed head for export, `None` when it has none.
pub async fn head_json(
    db: &impl ConnectionTrait,
    reference: &str,
) -> Result<Option<serde_json::Value>, AppError> {
    let Some(inc) = incident::Entity::find()
        .filter(incident::Column::Reference.eq(reference.trim()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(timeline_head::Entity::find_by_id(inc.id)
        .one(db)
        .await?
        .map(|h| {
            serde_json::json!({
                "entries": h.entries,
                "head_hash": h.head_hash,
                "algorithm": "HMAC-SHA256",
                "key_id": h.key_id,
                "signature": h.signature,
                "signed_at": h.signed_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            })
        }))
}

/// Signs again, under the current key, every head whose signature holds under its own key
/// (for a key rotation). A head that does not hold is left as it is, still showing it.
pub async fn resign_heads(db: &impl ConnectionTrait) -> Result<usize, AppError> {
    let mut n = 0;
    let at = now();
    for h in timeline_head::Entity::find().all(db).await? {
        if head_genuine(&h) != Some(true) {
            continue;
        }
        store_head(db, signed_head(h.incident_id, h.entries, h.head_hash, at)?).await?;
        n += 1;
    }
    Ok(n)
}

/// Brings timelines written before signed heads into the chain: an incident none of whose
/// entries carry a hash is sealed, then each incident without a head has its facts recorded
/// and its head signed. Only when `adopt` (the key file was made in this start-up, so
/// nothing was signed before); and never an incident that already has a signed head, so
/// clearing hashes or deleting entries after signing is found, not re-sealed. Returns how
/// many incidents it signed.
pub async fn seal_legacy(db: &impl ConnectionTrait, adopt: bool) -> Result<usize, AppError> {
    let headless: Vec<i64> = incident::Entity::find()
        .select_only()
        .column(incident::Column::Id)
        .filter(
            incident::Column::Id.not_in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(timeline_head::Column::IncidentId)
                    .from(timeline_head::Entity)
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
    if headless.is_empty() {
        return Ok(0);
    }
    if !adopt {
        tracing::warn!(
            incidents = headless.len(),
            "incidents without a signed timeline head; run `wardline verify-timeline`"
        );
        return Ok(0);
    }
    let mut sealed = 0;
    for incident_id in headless {
        let events = incident_event::Entity::find()
            .filter(incident_event::Column::IncidentId.eq(incident_id))
            .order_by_asc(incident_event::Column::Id)
            .all(db)
            .await?;
        let count = events.len() as i64;
        let mut prev = GENESIS.to_owned();
        if events.iter().all(|e| e.hash.is_none()) {
            for e in events {
                let at =
                    e.at.replace_nanosecond(e.at.nanosecond() / 1_000 * 1_000)
                        .unwrap_or(e.at);
                let h = entry_hash(
                    &prev,
                    e.incident_id,
                    at,
                    e.actor_id,
                    &e.kind,
                    &e.detail,
                    e.facts.as_deref(),
                );
                let mut m: incident_event::ActiveModel = e.into();
                m.at = Set(at);
                m.prev_hash = Set(Some(prev));
                m.hash = Set(Some(h.clone()));
                m.update(db).await?;
                prev = h;
            }
        } else if let Some(last) = events.last().and_then(|e| e.hash.clone()) {
            prev = last;
        }
        if count > 0 {
            store_head(db, signed_head(incident_id, count, prev, now())?).await?;
        }
        append(
            db,
            incident_id,
            None,
            "facts",
            "Facts recorded when the timeline was first signed".into(),
        )
        .await?;
        sealed += 1;
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
            // Recorded facts are covered, and which facts they are.
            entry_hash(GENESIS, 7, at, Some(3), "task", "done", Some("{}")),
            entry_hash(GENESIS, 7, at, Some(3), "task", "done", Some("")),
        ] {
            assert_ne!(base, other);
        }
    }
}
