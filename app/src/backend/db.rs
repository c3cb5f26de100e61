//! Opening the database: SQLite set up to lose nothing, or PostgreSQL for a national deployment.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Connects with settings that keep every acknowledged write: on SQLite, WAL with
/// `synchronous=FULL` (a committed transaction survives power loss), foreign keys enforced,
/// and a busy timeout so concurrent writers wait instead of failing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
        if url.contains(":memory:") {
            // Every pooled connection to ":memory:" would be a different, empty database.
            options.max_connections(1).min_connections(1);
        }
    }
    Database::connect(options).await
}
