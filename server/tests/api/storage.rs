//! The embedded database is set up to lose nothing.

use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::spawn_app;

async fn pragma(db: &sea_orm::DatabaseConnection, name: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("PRAGMA {name}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<String>(0)
        .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
        .unwrap()
}

#[tokio::test]
async fn sqlite_runs_in_wal_with_full_sync_foreign_keys_and_a_busy_timeout() {
    let app = spawn_app().await;
    if app.on_postgres() {
        // SQLite's own settings; PostgreSQL is durable and enforces keys by default.
        return;
    }
    assert_eq!(pragma(&app.db, "journal_mode").await, "wal");
    assert_eq!(pragma(&app.db, "synchronous").await, "2", "2 is FULL");
    assert_eq!(pragma(&app.db, "foreign_keys").await, "1");
    assert!(
        pragma(&app.db, "busy_timeout")
            .await
            .parse::<i64>()
            .unwrap()
            >= 5000
    );
}

#[tokio::test]
async fn migrations_ran_at_start_up_and_foreign_keys_are_enforced() {
    let app = spawn_app().await;
    let err = app
        .db
        .execute_raw(Statement::from_string(
            app.db.get_database_backend(),
            "INSERT INTO org_link (child_id, parent_id, valid_from) VALUES (999, 998, '2024-01-01')",
        ))
        .await;
    assert!(
        err.is_err(),
        "a link to organisations that do not exist must be refused"
    );
    assert!(app.database_url.starts_with("sqlite://") || app.on_postgres());
}

#[tokio::test]
async fn the_write_ahead_log_is_copied_into_the_database_in_the_background() {
    let app = spawn_app().await;
    if app.on_postgres() {
        // SQLite's write-ahead log; PostgreSQL checkpoints its own.
        return;
    }
    assert_eq!(
        pragma(&app.db, "wal_autocheckpoint").await,
        "0",
        "no commit stops to checkpoint"
    );
    let file = std::path::PathBuf::from(app.database_url.trim_start_matches("sqlite://"));
    let before = std::fs::metadata(&file).unwrap().len();
    // About 4 MB committed: it lands in the log first, and in the file only when checkpointed.
    app.db
        .execute_unprepared(
            "CREATE TABLE bulk (v TEXT NOT NULL); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000) \
             INSERT INTO bulk (v) SELECT printf('%.1000c', 'x') FROM n;",
        )
        .await
        .unwrap();
    let mut after = before;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = std::fs::metadata(&file).unwrap().len();
        if after >= before + 4_000_000 {
            break;
        }
    }
    assert!(
        after >= before + 4_000_000,
        "the database file grew from {before} to {after} bytes only"
    );
    let rows = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM bulk",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rows.try_get::<i64>("", "n").unwrap(), 4000);
}
