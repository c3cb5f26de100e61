//! Rate limits shared by every instance on PostgreSQL: one row per limited key, holding
//! the GCRA's theoretical arrival time and, for limits spent by failures, when a block
//! ends (both in milliseconds since 1970 by the database's clock). Unlogged: limits are
//! not records, so their writes skip the write-ahead log (they are emptied if PostgreSQL
//! crashes, and a standby does not have them). SQLite serves one instance, whose limits
//! stay in its memory, so there is no table there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNLOGGED TABLE rate_limit (\
                   key text PRIMARY KEY, \
                   tat bigint NOT NULL, \
                   blocked_until bigint NOT NULL DEFAULT 0)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE rate_limit")
            .await?;
        Ok(())
    }
}
