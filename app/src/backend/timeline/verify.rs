//! Checking a timeline: the chain, its signed head and the incident's facts, and what was
//! found when they do not agree.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::backend::entity::{incident, incident_event, timeline_head};
use crate::error::AppError;

use super::*;

/// What checking one incident's timeline found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The chain is whole, matches its signed head and the incident's facts.
    Whole { entries: usize },
    /// No signed head: removed, or the chain was never signed. `hashes_cleared` when the
    /// entries carry no hashes either (cleared to have the chain restarted).
    NoSignedHead { hashes_cleared: bool },
    /// The stored head's signature does not hold: the head was edited.
    HeadForged,
    /// The head was signed with a key the key file no longer holds.
    UnknownKey { key_id: String },
    /// Entry hashes were cleared after the chain was signed.
    HashesNulled { entry: usize },
    /// An entry does not follow the one before it.
    EntryRemoved { entry: usize },
    /// An entry's content no longer matches its hash.
    EntryAltered { entry: usize },
    /// Entries after the signed head's last one were deleted.
    Truncated { signed: usize, found: usize },
    /// The hashes were worked out again after an edit: the chain holds together but is not
    /// the chain that was signed.
    Recomputed,
    /// Entries follow the signed head that were never signed (added outside Wardline, or
    /// after it found the chain tampered with).
    UnsignedEntries { signed: usize, found: usize },
    /// The incident's facts differ from those its timeline last recorded.
    FactsEdited { fields: Vec<String> },
}

impl Finding {
    /// A short stable name, for the command line and exports.
    pub fn name(&self) -> &'static str {
        match self {
            Finding::Whole { .. } => "whole",
            Finding::NoSignedHead { .. } => "no-signed-head",
            Finding::HeadForged => "head-forged",
            Finding::UnknownKey { .. } => "unknown-key",
            Finding::HashesNulled { .. } => "hashes-nulled",
            Finding::EntryRemoved { .. } => "entry-removed",
            Finding::EntryAltered { .. } => "entry-altered",
            Finding::Truncated { .. } => "truncated",
            Finding::Recomputed => "recomputed",
            Finding::UnsignedEntries { .. } => "unsigned-entries",
            Finding::FactsEdited { .. } => "facts-edited",
        }
    }

    /// The entry it concerns (1-based), or 0 for the chain as a whole.
    pub fn entry(&self) -> usize {
        match self {
            Finding::HashesNulled { entry }
            | Finding::EntryRemoved { entry }
            | Finding::EntryAltered { entry } => *entry,
            Finding::Truncated { found, .. } => *found,
            Finding::UnsignedEntries { signed, .. } => signed + 1,
            _ => 0,
        }
    }

    /// What happened, in a sentence.
    pub fn describe(&self) -> String {
        match self {
            Finding::Whole { entries } => format!("Whole ({entries} entries)"),
            Finding::NoSignedHead {
                hashes_cleared: true,
            } => "It has no signed head and its hashes were cleared (the chain was nulled to be restarted)".into(),
            Finding::NoSignedHead { .. } => "It has no signed head (it was removed)".into(),
            Finding::HeadForged => "Its signed head was altered (the signature does not match)".into(),
            Finding::UnknownKey { key_id } => {
                format!("Its head was signed with key {key_id}, which the key file does not hold")
            }
            Finding::HashesNulled { entry } => format!(
                "Entry {entry}'s hash was cleared after the chain was signed (not re-sealed)"
            ),
            Finding::EntryRemoved { entry } => format!(
                "Entry {entry} does not follow the entry before it (an entry was removed or reordered)"
            ),
            Finding::EntryAltered { entry } => {
                format!("Entry {entry} was altered after it was written")
            }
            Finding::Truncated { signed, found } => format!(
                "It was truncated: the signed head has {signed} entries, {found} remain"
            ),
            Finding::Recomputed => "Its hashes were recomputed after an edit (the chain holds together but does not match its signed head)".into(),
            Finding::UnsignedEntries { signed, found } => format!(
                "It has {} entries after its signed head that were never signed",
                found - signed
            ),
            Finding::FactsEdited { fields } => format!(
                "The incident's {} changed outside its timeline",
                fields.join(", ")
            ),
        }
    }
}

/// Which facts differ between two recorded texts.
fn differing(recorded: &str, now: &str) -> Vec<String> {
    let parse = |s: &str| serde_json::from_str::<BTreeMap<String, String>>(s).unwrap_or_default();
    let (a, b) = (parse(recorded), parse(now));
    let mut fields: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    fields.dedup();
    if fields.is_empty() {
        fields.push("facts".into());
    }
    fields
}

/// Checks one incident's chain against itself, its signed head and the incident's facts.
pub async fn inspect(db: &impl ConnectionTrait, incident_id: i64) -> Result<Finding, AppError> {
    let events = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(incident_id))
        .order_by_asc(incident_event::Column::Id)
        .all(db)
        .await?;
    let head = timeline_head::Entity::find_by_id(incident_id)
        .one(db)
        .await?;
    let Some(head) = head else {
        return Ok(Finding::NoSignedHead {
            hashes_cleared: events.iter().any(|e| e.hash.is_none()),
        });
    };
    match head_genuine(&head) {
        None => {
            return Ok(Finding::UnknownKey {
                key_id: head.key_id,
            });
        }
        Some(false) => return Ok(Finding::HeadForged),
        Some(true) => {}
    }
    let mut prev = GENESIS.to_owned();
    for (i, e) in events.iter().enumerate() {
        let entry = i + 1;
        if e.hash.is_none() || e.prev_hash.is_none() {
            return Ok(Finding::HashesNulled { entry });
        }
        if e.prev_hash.as_deref() != Some(prev.as_str()) {
            return Ok(Finding::EntryRemoved { entry });
        }
        let expected = entry_hash(
            &prev,
            e.incident_id,
            e.at,
            e.actor_id,
            &e.kind,
            &e.detail,
            e.facts.as_deref(),
        );
        if e.hash.as_deref() != Some(expected.as_str()) {
            return Ok(Finding::EntryAltered { entry });
        }
        prev = expected;
    }
    let (signed, found) = (usize::try_from(head.entries).unwrap_or(0), events.len());
    if found < signed {
        return Ok(Finding::Truncated { signed, found });
    }
    if signed == 0 || events[signed - 1].hash.as_deref() != Some(head.head_hash.as_str()) {
        return Ok(Finding::Recomputed);
    }
    if found > signed {
        return Ok(Finding::UnsignedEntries { signed, found });
    }
    if let Some(recorded) = events.iter().rev().find_map(|e| e.facts.as_deref())
        && let Some(now) = current_facts(db, incident_id).await?
        && recorded != now
    {
        return Ok(Finding::FactsEdited {
            fields: differing(recorded, &now),
        });
    }
    Ok(Finding::Whole { entries: found })
}

/// Checks one incident's chain. `Ok(entries)` when whole, else the entry concerned
/// (1-based, 0 for the chain as a whole) and what is wrong.
pub async fn verify(
    db: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Result<usize, (usize, String)>, AppError> {
    Ok(outcome(&inspect(db, incident_id).await?))
}

fn outcome(f: &Finding) -> Result<usize, (usize, String)> {
    match f {
        Finding::Whole { entries } => Ok(*entries),
        other => Err((other.entry(), other.describe())),
    }
}

/// One incident's check, for the CLI and the admin page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub reference: String,
    pub result: Result<usize, (usize, String)>,
    pub finding: Finding,
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
        let finding = inspect(db, inc.id).await?;
        out.push(Check {
            result: outcome(&finding),
            finding,
            reference: inc.reference,
        });
    }
    Ok(out)
}
