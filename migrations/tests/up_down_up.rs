//! Every migration applies, reverts and applies again on a fresh database.

use migrations::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

/// An empty database: in memory, or a new one on the PostgreSQL server named by
/// `WARDLINE_TEST_POSTGRES` (as `scripts/test.sh` runs the suite the second time).
async fn fresh() -> sea_orm_migration::sea_orm::DatabaseConnection {
    let Some(server) = std::env::var("WARDLINE_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.trim().is_empty())
    else {
        return Database::connect("sqlite::memory:").await.unwrap();
    };
    let server = server.trim().trim_end_matches('/');
    let name = format!("wl_migrations_{}", std::process::id());
    let admin = Database::connect(format!("{server}/postgres"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    Database::connect(format!("{server}/{name}")).await.unwrap()
}

async fn table_names(db: &sea_orm_migration::sea_orm::DatabaseConnection) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            match db.get_database_backend() {
                DbBackend::Postgres => {
                    "SELECT table_name::text AS name FROM information_schema.tables \
                     WHERE table_schema = 'public' AND table_name <> 'seaql_migrations' \
                     ORDER BY name"
                }
                _ => {
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations' ORDER BY name"
                }
            },
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect()
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let db = fresh().await;
    Migrator::up(&db, None).await.unwrap();
    let after_first_up = table_names(&db).await;
    assert!(
        after_first_up.contains(&"organisation".to_string()),
        "{after_first_up:?}"
    );
    assert!(after_first_up.contains(&"person".to_string()));

    Migrator::down(&db, None).await.unwrap();
    assert!(
        table_names(&db).await.is_empty(),
        "down must drop every table"
    );

    Migrator::up(&db, None).await.unwrap();
    assert_eq!(table_names(&db).await, after_first_up);
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
}
