//! Two more change counters beside the first (which every watched table moves, migration
//! 000010): one moved only by role holdings, one only by the organisation tree (organisations,
//! their links and the roles). Whoever keeps something read from many tables compares them
//! with the first to see what changed since: the chart's snapshot of the whole country reads
//! again only the part that did, so someone confirming or taking a role, or a person being
//! disabled, does not cost reading every organisation in England again.
//!
//! Every trigger here fires with one of migration 000010's on the same table and event, so
//! each part's counter moves exactly as far as those tables move the first (per row on
//! SQLite, per statement on PostgreSQL).
//!
//! Also an index on who is disabled: every snapshot asks it, of everyone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each part's row of `change_generation`, and the tables that move it.
const PARTS: [(i64, &[&str]); 2] = [
    (2, &["assignment"]),
    (3, &["organisation", "org_link", "role"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        if postgres {
            db.execute_unprepared(
                "CREATE FUNCTION bump_part_generation() RETURNS trigger AS $$ \
                 BEGIN UPDATE change_generation SET value = value + 1 \
                 WHERE id = TG_ARGV[0]::bigint; RETURN NULL; END $$ LANGUAGE plpgsql",
            )
            .await?;
        }
        for (row, tables) in PARTS {
            db.execute_unprepared(&format!(
                "INSERT INTO change_generation (id, value) VALUES ({row}, 0)"
            ))
            .await?;
            for table in tables {
                if postgres {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER part_generation_{table} AFTER INSERT OR UPDATE OR DELETE \
                         ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_part_generation('{row}')"
                    ))
                    .await?;
                } else {
                    for op in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER part_generation_{table}_{op} AFTER {op} ON {table} \
                             BEGIN UPDATE change_generation SET value = value + 1 \
                             WHERE id = {row}; END"
                        ))
                        .await?;
                    }
                }
            }
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_person_disabled")
                    .table(Alias::new("person"))
                    .col(Alias::new("disabled"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_person_disabled")
                    .table(Alias::new("person"))
                    .to_owned(),
            )
            .await?;
        for (row, tables) in PARTS {
            for table in tables {
                if postgres {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS part_generation_{table} ON {table}"
                    ))
                    .await?;
                } else {
                    for op in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS part_generation_{table}_{op}"
                        ))
                        .await?;
                    }
                }
            }
            db.execute_unprepared(&format!("DELETE FROM change_generation WHERE id = {row}"))
                .await?;
        }
        if postgres {
            db.execute_unprepared("DROP FUNCTION IF EXISTS bump_part_generation()")
                .await?;
        }
        Ok(())
    }
}
