//! Sealed secrets are longer than the plain ones the columns were sized for: a webhook's
//! signing secret (64 hex characters) sealed is about 155 characters, over the 100 its
//! column allowed. SQLite never enforced the length, so this showed only on PostgreSQL,
//! where saving a webhook failed. Both secret columns become unbounded text there; SQLite's
//! columns are text already.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each table, column and the length it had.
const COLUMNS: [(&str, &str, u32); 2] =
    [("webhook", "secret", 100), ("account", "totp_secret", 128)];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, column, _) in COLUMNS {
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ALTER COLUMN {column} TYPE text"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, column, len) in COLUMNS {
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({len})"
            ))
            .await?;
        }
        Ok(())
    }
}
