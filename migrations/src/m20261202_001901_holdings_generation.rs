//! A second change counter, moved only by role holdings, alongside the first (which every
//! watched table moves, holdings included, migration 000010). Whoever keeps something read
//! from many tables compares the two: when both moved by the same amount since it was read,
//! only holdings changed, and only they need reading again. The chart's snapshot of the
//! whole country does this, so someone confirming or taking a role does not cost reading
//! every organisation in England again.
//!
//! Every trigger that moves this row fires with one that moves the first by the same amount
//! (per row on SQLite, per statement on PostgreSQL, as migration 000010's do).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The row of `change_generation` that holdings alone move.
const ROW: i64 = 2;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "INSERT INTO change_generation (id, value) VALUES ({ROW}, 0)"
        ))
        .await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION bump_holdings_generation() RETURNS trigger AS $$ \
                     BEGIN UPDATE change_generation SET value = value + 1 WHERE id = {ROW}; \
                     RETURN NULL; END $$ LANGUAGE plpgsql"
                ))
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER holdings_generation AFTER INSERT OR UPDATE OR DELETE \
                     ON assignment FOR EACH STATEMENT EXECUTE FUNCTION bump_holdings_generation()",
                )
                .await?;
            }
            _ => {
                for op in ["insert", "update", "delete"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER holdings_generation_{op} AFTER {op} ON assignment \
                         BEGIN UPDATE change_generation SET value = value + 1 WHERE id = {ROW}; END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("DROP TRIGGER IF EXISTS holdings_generation ON assignment")
                    .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS bump_holdings_generation()")
                    .await?;
            }
            _ => {
                for op in ["insert", "update", "delete"] {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS holdings_generation_{op}"
                    ))
                    .await?;
                }
            }
        }
        db.execute_unprepared(&format!("DELETE FROM change_generation WHERE id = {ROW}"))
            .await?;
        Ok(())
    }
}
