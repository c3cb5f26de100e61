//! Opening the database: SQLite set up to lose nothing, or PostgreSQL for a national deployment.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// How often the write-ahead log is copied back into an SQLite database file: every 10 ms
/// while it keeps growing, easing off to every 100 ms while nothing is written. Small,
/// frequent checkpoints each cost a committing writer little; in the declarations
/// benchmark one every 100 ms under load held up a batch each time (p99 23–26 ms), one every
/// second held commits up for up to 100 ms, one every 5–25 ms kept p99 at 18–20 ms.
const CHECKPOINT_BUSY: Duration = Duration::from_millis(10);
const CHECKPOINT_IDLE: Duration = Duration::from_millis(100);

/// See `row_buffer_size` in `connect`.
const ROW_BUFFER: usize = 1024;

/// Connects with settings that keep every acknowledged write: on SQLite, WAL with
/// `synchronous=FULL` (a committed transaction survives power loss), foreign keys enforced,
/// and a busy timeout so concurrent writers wait instead of failing.
///
/// On an SQLite file no committing connection copies the write-ahead log back into the
/// database (SQLite's automatic checkpoint would do it inside whichever commit crossed the
/// threshold, stalling that commit and everyone waiting on it); a background task does it
/// on a connection of its own, alongside the writers (see `CHECKPOINT_BUSY`).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        // `WARDLINE_SQL_LOG=1` logs each statement (target `sqlx::query`, at info).
        .sqlx_logging(std::env::var_os("WARDLINE_SQL_LOG").is_some())
        .connect_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        let file = !url.contains(":memory:");

        options.map_sqlx_sqlite_opts(move |o| {
            let o = o
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // Rows a query's connection thread may run ahead of its reader by: the
                // default (50) parks that thread and wakes the reader every 50 rows, which
                // on a read of the whole country's holdings was most of the time spent.
                .row_buffer_size(ROW_BUFFER);
            if file {
                o.pragma("wal_autocheckpoint", "0")
                    // Once checkpointed, the log is cut back to 64 MiB.
                    .pragma("journal_size_limit", (64 * 1024 * 1024).to_string())
            } else {
                o
            }
        });
        if !file {
            // Every pooled connection to ":memory:" would be a different, empty database.
            options.max_connections(1).min_connections(1);
        } else {
            let db = Database::connect(options).await?;
            tokio::spawn(checkpoint(db.clone()));
            return Ok(db);
        }
    }
    Database::connect(options).await
}

/// The database a test runs on: `sqlite` (an SQLite URL: a temp file, or memory) unless
/// `WARDLINE_TEST_POSTGRES` names a PostgreSQL server (`postgres://user@host:port`), when
/// a new, empty database is made on it for this test alone. `scripts/test.sh` runs the
/// suite both ways.
pub async fn scratch(sqlite: &str) -> String {
    use sea_orm::ConnectionTrait;
    use std::sync::atomic::{AtomicU64, Ordering};
    static MADE: AtomicU64 = AtomicU64::new(0);
    let server = match std::env::var("WARDLINE_TEST_POSTGRES") {
        Ok(s) if !s.trim().is_empty() => s.trim().trim_end_matches('/').to_owned(),
        _ => return sqlite.to_owned(),
    };
    let name = format!(
        "wl_{}_{}_{}",
        std::process::id(),
        MADE.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    );
    let admin = Database::connect(format!("{server}/postgres"))
        .await
        .expect("the test PostgreSQL server answers");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("a test database can be made");
    let _ = admin.close().await;
    format!("{server}/{name}")
}

/// Copies the write-ahead log back into the database file, without blocking readers or
/// writers (a passive checkpoint copies what no reader still needs). Runs for as long as
/// the runtime does; a failed checkpoint is logged and tried again.
async fn checkpoint(db: DatabaseConnection) {
    use sea_orm::{ConnectionTrait, Statement};
    let mut wait = CHECKPOINT_IDLE;
    let (mut last_log, mut quiet) = (-1, 0);
    loop {
        tokio::time::sleep(wait).await;
        let sql =
            Statement::from_string(db.get_database_backend(), "PRAGMA wal_checkpoint(PASSIVE)");
        match db.query_one_raw(sql).await {
            // Its columns: busy, frames in the log, frames checkpointed.
            Ok(Some(row)) => {
                let log: i64 = row.try_get_by_index(1).unwrap_or(-1);
                // Idle once nothing has been written for as long as an idle wait.
                quiet = if log > 0 && log != last_log {
                    0
                } else {
                    quiet + 1
                };
                wait = if quiet * CHECKPOINT_BUSY < CHECKPOINT_IDLE {
                    CHECKPOINT_BUSY
                } else {
                    CHECKPOINT_IDLE
                };
                last_log = log;
            }
            Ok(None) => wait = CHECKPOINT_IDLE,
            Err(e) => {
                wait = CHECKPOINT_IDLE;
                tracing::warn!(error = %e, "write-ahead log checkpoint failed");
            }
        }
    }
}

/// How many values one `IN (…)` list binds: well inside SQLite's 32,766 bound values per
/// statement and PostgreSQL's 65,535, with room for the query's other values.
pub const IN_CHUNK: usize = 10_000;

/// The rows of `select` whose `column` is one of `ids`, read `IN_CHUNK` at a time: a
/// national chart names more people than one statement may bind.
pub async fn all_in<E>(
    db: &impl sea_orm::ConnectionTrait,
    select: sea_orm::Select<E>,
    column: E::Column,
    ids: &[i64],
) -> Result<Vec<E::Model>, DbErr>
where
    E: sea_orm::EntityTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut out = Vec::new();
    for part in ids.chunks(IN_CHUNK) {
        out.extend(
            select
                .clone()
                .filter(column.is_in(part.iter().copied()))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::entity::person;
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    #[tokio::test]
    async fn more_ids_than_one_statement_may_bind_are_read_in_chunks() {
        let conn = connect(&scratch("sqlite::memory:").await).await.unwrap();
        Migrator::up(&conn, None).await.unwrap();
        // More than either engine binds in one statement (SQLite 32,766, PostgreSQL 65,535).
        let ids: Vec<i64> = (1..=70_000).collect();
        let whole = person::Entity::find()
            .filter(person::Column::Id.is_in(ids.clone()))
            .all(&conn)
            .await;
        assert!(
            whole.is_err(),
            "one statement binding 70,000 values is refused"
        );
        let chunked = all_in(&conn, person::Entity::find(), person::Column::Id, &ids).await;
        assert_eq!(chunked.unwrap().len(), 0);
    }
}
