//! The change generation: a number the database's own triggers bump whenever the
//! organisation tree, people, roles, holdings, runbooks or escalation policies change
//! (migration 000010). What was read while it had one value is still true while it has it.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::error::AppError;

async fn one(db: &impl ConnectionTrait, sql: &str) -> Result<i64, AppError> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| super::errors::internal("generation", &"no change_generation row"))?;
    Ok(row.try_get("", "value")?)
}

/// The query that reads the generation (as `value`).
pub const READ: &str = "SELECT value FROM change_generation WHERE id = 1";

/// The generation now. Read it before reading what it guards, so that what is read is at
/// least as new as the number it is tagged with.
pub async fn read(db: &impl ConnectionTrait) -> Result<i64, AppError> {
    one(db, READ).await
}

/// The generation and its parts' own, read together (migration 001901).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// Moved by every watched table.
    pub all: i64,
    /// Moved only by role holdings.
    pub holdings: i64,
    /// Moved only by the organisation tree: organisations, their links, the roles.
    pub tree: i64,
}

impl Parts {
    /// Whether anything other than holdings and the tree changed between `self` and a
    /// later reading: the first moved further than those two together.
    pub fn more_than_holdings_and_tree(&self, later: &Parts) -> bool {
        later.all - self.all != (later.holdings - self.holdings) + (later.tree - self.tree)
    }
}

/// The generation and its parts' own, read in one statement, so they agree.
pub async fn read_parts(db: &impl ConnectionTrait) -> Result<Parts, AppError> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT (SELECT value FROM change_generation WHERE id = 1) AS value, \
             (SELECT value FROM change_generation WHERE id = 2) AS holdings, \
             (SELECT value FROM change_generation WHERE id = 3) AS tree",
        ))
        .await?
        .ok_or_else(|| super::errors::internal("generation", &"no change_generation row"))?;
    let part = |name: &str| -> Result<i64, AppError> {
        let v: Option<i64> = row.try_get("", name)?;
        v.ok_or_else(|| super::errors::internal("generation", &"a part's row is missing"))
    };
    Ok(Parts {
        all: row.try_get("", "value")?,
        holdings: part("holdings")?,
        tree: part("tree")?,
    })
}

/// The generation, read as the first statement of a writing transaction, and held until it
/// commits: nothing can change the watched tables meanwhile (their triggers must update the
/// same row), and a change that began first is committed before the number is read. On
/// SQLite it is read by a write that changes nothing, so the transaction holds the write
/// lock from its first statement and never has to upgrade a read snapshot; on PostgreSQL
/// the row is locked (`FOR UPDATE`), so two instances' writers and an admin's change take
/// turns.
pub async fn read_for_write(db: &impl ConnectionTrait) -> Result<i64, AppError> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            one(
                db,
                "UPDATE change_generation SET value = value WHERE id = 1 RETURNING value",
            )
            .await
        }
        _ => {
            one(
                db,
                "SELECT value FROM change_generation WHERE id = 1 FOR UPDATE",
            )
            .await
        }
    }
}
