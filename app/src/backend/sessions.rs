//! Sessions stored in Wardline's own database through SeaORM, so the same code serves SQLite
//! and PostgreSQL (several app instances share sessions). Rows are keyed by a SHA-256 of the
//! session id: a copy of the database does not hand out live sessions.

use std::cell::Cell;
use std::future::Future;

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result as StoreResult, SessionStore};

use super::entity::session;
use super::tokens::hex;
use crate::error::AppError;

/// The key under which a signed-in person's id sits in the session data.
pub const PERSON_KEY: &str = "person_id";
/// Set (true) once this session has passed a second factor; admin and regulator powers
/// need it.
pub const SECOND_FACTOR_KEY: &str = "second_factor";
/// The second factor of this session was the identity provider's own (single sign-on).
pub const PROVIDER_FACTOR_KEY: &str = "provider_factor";

tokio::task_local! {
    /// Present while `reading_generation` runs: a session loaded then reads the change
    /// generation in the same statement and leaves it here.
    static GENERATION_READ: Cell<Option<i64>>;
}

/// Runs `f` (which loads the session, if it was not loaded yet) and returns, beside what it
/// returns, the change generation read in the same statement as the session: one trip to
/// the database instead of two for a request that checks the signed-in person against the
/// generation right after (`callers::Callers::known_at`). `None` if the session was already
/// loaded, or there was none.
pub async fn reading_generation<T>(f: impl Future<Output = T>) -> (T, Option<i64>) {
    GENERATION_READ
        .scope(Cell::new(None), async move {
            let out = f.await;
            (out, GENERATION_READ.with(Cell::get))
        })
        .await
}

pub fn key_of(id: &Id) -> String {
    hex(&Sha256::digest(id.to_string().as_bytes()))
}

#[derive(Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        DbSessionStore { db }
    }
}

fn backend(err: impl std::fmt::Display) -> Error {
    Error::Backend(err.to_string())
}

fn row(record: &Record) -> StoreResult<session::ActiveModel> {
    let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
    let person_id = record
        .data
        .get(PERSON_KEY)
        .and_then(serde_json::Value::as_i64);
    Ok(session::ActiveModel {
        id: Set(key_of(&record.id)),
        person_id: Set(person_id),
        data: Set(data),
        expires_at: Set(record.expiry_date),
        created_at: Set(OffsetDateTime::now_utc()),
    })
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    /// Inserts, never overwrites: on an id collision a fresh id is drawn.
    async fn create(&self, record: &mut Record) -> StoreResult<()> {
        for _ in 0..8 {
            match session::Entity::insert(row(record)?).exec(&self.db).await {
                Ok(_) => return Ok(()),
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    record.id = Id::default();
                }
                Err(e) => return Err(backend(e)),
            }
        }
        Err(Error::Backend("could not draw a unique session id".into()))
    }

    async fn save(&self, record: &Record) -> StoreResult<()> {
        session::Entity::insert(row(record)?)
            .on_conflict(
                OnConflict::column(session::Column::Id)
                    .update_columns([
                        session::Column::PersonId,
                        session::Column::Data,
                        session::Column::ExpiresAt,
                    ])
                    .to_owned(),
            )
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> StoreResult<Option<Record>> {
        let live = session::Entity::find_by_id(key_of(id))
            .filter(session::Column::ExpiresAt.gt(OffsetDateTime::now_utc()))
            .select_only()
            .column(session::Column::Data)
            .column(session::Column::ExpiresAt);
        let found = if GENERATION_READ.try_with(|_| ()).is_ok() {
            let found = live
                .column_as(
                    Expr::cust(format!("({})", super::generation::READ)),
                    "generation",
                )
                .into_tuple::<(String, OffsetDateTime, i64)>()
                .one(&self.db)
                .await
                .map_err(backend)?;
            found.map(|(data, expires_at, generation)| {
                let _ = GENERATION_READ.try_with(|g| g.set(Some(generation)));
                (data, expires_at)
            })
        } else {
            live.into_tuple::<(String, OffsetDateTime)>()
                .one(&self.db)
                .await
                .map_err(backend)?
        };
        let Some((data, expires_at)) = found else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: expires_at,
        }))
    }

    async fn delete(&self, id: &Id) -> StoreResult<()> {
        session::Entity::delete_by_id(key_of(id))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// A person's live sessions, newest first.
pub async fn of_person(
    db: &impl ConnectionTrait,
    person_id: i64,
) -> Result<Vec<session::Model>, AppError> {
    Ok(session::Entity::find()
        .filter(session::Column::PersonId.eq(person_id))
        .filter(session::Column::ExpiresAt.gt(OffsetDateTime::now_utc()))
        .order_by_desc(session::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Ends every session of a person, except the one keyed `keep` if given. Returns how many.
pub async fn end_all(
    db: &impl ConnectionTrait,
    person_id: i64,
    keep: Option<&str>,
) -> Result<u64, AppError> {
    let mut q = session::Entity::delete_many().filter(session::Column::PersonId.eq(person_id));
    if let Some(keep) = keep {
        q = q.filter(session::Column::Id.ne(keep));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// Removes expired rows; run now and then.
pub async fn purge_expired(db: &impl ConnectionTrait) -> Result<u64, AppError> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(OffsetDateTime::now_utc()))
        .exec(db)
        .await?
        .rows_affected)
}
