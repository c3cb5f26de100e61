//! Opening the database: SQLite set up to lose nothing, or PostgreSQL for a national deployment.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// How often the write-ahead log is copied back into an SQLite database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Connects with settings that keep every acknowledged write: on SQLite, WAL with
/// `synchronous=FULL` (a committed transaction survives power loss), foreign keys enforced,
/// and a busy timeout so concurrent writers wait instead of failing.
///
/// On an SQLite file no committing connection copies the write-ahead log back into the
/// database (SQLite's automatic checkpoint would do it inside whichever commit crossed the
/// threshold, stalling that commit and everyone waiting on it); a background task does it
/// every 100 ms on a connection of its own, alongside the writers.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        let file = !url.contains(":memory:");

        options.map_sqlx_sqlite_opts(move |o| {
            let o = o
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
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

/// Copies the write-ahead log back into the database file every `CHECKPOINT_EVERY`, without
/// blocking readers or writers (a passive checkpoint copies what no reader still needs).
/// Runs for as long as the runtime does; a failed checkpoint is logged and tried again.
async fn checkpoint(db: DatabaseConnection) {
    use sea_orm::{ConnectionTrait, Statement};
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let sql =
            Statement::from_string(db.get_database_backend(), "PRAGMA wal_checkpoint(PASSIVE)");
        if let Err(e) = db.query_one_raw(sql).await {
            tracing::warn!(error = %e, "write-ahead log checkpoint failed");
        }
    }
}
