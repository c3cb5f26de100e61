//! Every migration applies, reverts and applies again on a fresh database.

use migrations::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, Statement};

async fn table_names(db: &sea_orm_migration::sea_orm::DatabaseConnection) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> 'seaql_migrations' ORDER BY name",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect()
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let db = Database::connect("sqlite::memory:").await.unwrap();
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
