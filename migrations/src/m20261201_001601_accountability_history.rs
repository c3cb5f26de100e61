//! History a regulator can replay. A holding's attestations are kept one row each
//! (`attestation`), written by the database itself whenever a holding is stored or
//! re-confirmed with a confirmation time, so no path can confirm without leaving one; a
//! person's disabled status is kept one row per change (`person_status`), written with the
//! change. A chart "as at" a past moment reads both as they stood then. Contact details
//! need no table of their own: a holding's contacts are never edited in place (a change is a
//! new holding, the old one ended), and rotas keep their versions (migration 001101).
//!
//! What existed before: each holding's latest confirmation becomes its first attestation;
//! every disable and re-enable in the audit trail becomes a status row at its audited time.
//!
//! The chart of the present is also kept between requests, tagged with the change
//! generation (migration 000010): so the generation now also moves when an account gets or
//! loses its password (whether a holder can be reached) and when a setting changes (how old
//! a confirmation may be).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Assignment {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Attestation {
    Table,
    Id,
    AssignmentId,
    ConfirmedAt,
}

#[derive(DeriveIden)]
enum PersonStatus {
    Table,
    Id,
    PersonId,
    Disabled,
    ChangedAt,
    ChangedBy,
}

/// Each table and the columns whose update moves the change generation.
const WATCHED: [(&str, &str, &str); 2] = [
    ("account", "password", "password_hash"),
    ("setting", "value", "value"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Attestation::Table)
                    .col(
                        ColumnDef::new(Attestation::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Attestation::AssignmentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Attestation::ConfirmedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attestation_assignment")
                            .from(Attestation::Table, Attestation::AssignmentId)
                            .to(Assignment::Table, Assignment::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_attestation_assignment")
                    .table(Attestation::Table)
                    .col(Attestation::AssignmentId)
                    .col(Attestation::ConfirmedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PersonStatus::Table)
                    .col(
                        ColumnDef::new(PersonStatus::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PersonStatus::PersonId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PersonStatus::Disabled).boolean().not_null())
                    .col(
                        ColumnDef::new(PersonStatus::ChangedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PersonStatus::ChangedBy).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_status_person")
                            .from(PersonStatus::Table, PersonStatus::PersonId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_person_status_person")
                    .table(PersonStatus::Table)
                    .col(PersonStatus::PersonId)
                    .col(PersonStatus::ChangedAt)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO attestation (assignment_id, confirmed_at) \
             SELECT id, confirmed_at FROM assignment WHERE confirmed_at IS NOT NULL ORDER BY id",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO person_status (person_id, disabled, changed_at, changed_by) \
             SELECT p.id, a.action = 'person_disabled', a.at, a.actor_id \
             FROM audit_event a JOIN person p ON p.email = a.subject \
             WHERE a.action IN ('person_disabled', 'person_enabled') ORDER BY a.id",
        )
        .await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION record_attestation() RETURNS trigger AS $$ \
                     BEGIN \
                       IF NEW.confirmed_at IS NOT NULL AND (TG_OP = 'INSERT' \
                          OR NEW.confirmed_at IS DISTINCT FROM OLD.confirmed_at) THEN \
                         INSERT INTO attestation (assignment_id, confirmed_at) \
                         VALUES (NEW.id, NEW.confirmed_at); \
                       END IF; \
                       RETURN NULL; \
                     END $$ LANGUAGE plpgsql",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER attestation_kept AFTER INSERT OR UPDATE OF confirmed_at \
                     ON assignment FOR EACH ROW EXECUTE FUNCTION record_attestation()",
                )
                .await?;
                for (table, name, column) in WATCHED {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER generation_{table}_{name} AFTER UPDATE OF {column} \
                         ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_change_generation()"
                    ))
                    .await?;
                }
                db.execute_unprepared(
                    "CREATE TRIGGER generation_setting_rows AFTER INSERT OR DELETE \
                     ON setting FOR EACH STATEMENT EXECUTE FUNCTION bump_change_generation()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TRIGGER attestation_kept_insert AFTER INSERT ON assignment \
                     WHEN NEW.confirmed_at IS NOT NULL BEGIN \
                     INSERT INTO attestation (assignment_id, confirmed_at) \
                     VALUES (NEW.id, NEW.confirmed_at); END",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER attestation_kept_update AFTER UPDATE OF confirmed_at \
                     ON assignment WHEN NEW.confirmed_at IS NOT NULL \
                     AND NEW.confirmed_at IS NOT OLD.confirmed_at BEGIN \
                     INSERT INTO attestation (assignment_id, confirmed_at) \
                     VALUES (NEW.id, NEW.confirmed_at); END",
                )
                .await?;
                for (table, name, column) in WATCHED {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER generation_{table}_{name} AFTER UPDATE OF {column} \
                         ON {table} BEGIN UPDATE change_generation SET value = value + 1 \
                         WHERE id = 1; END"
                    ))
                    .await?;
                }
                for op in ["INSERT", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER generation_setting_{} AFTER {op} ON setting \
                         BEGIN UPDATE change_generation SET value = value + 1 WHERE id = 1; END",
                        op.to_lowercase()
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
                db.execute_unprepared("DROP TRIGGER IF EXISTS attestation_kept ON assignment")
                    .await?;
                db.execute_unprepared("DROP FUNCTION IF EXISTS record_attestation()")
                    .await?;
                for (table, name, _) in WATCHED {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS generation_{table}_{name} ON {table}"
                    ))
                    .await?;
                }
                db.execute_unprepared("DROP TRIGGER IF EXISTS generation_setting_rows ON setting")
                    .await?;
            }
            _ => {
                for t in [
                    "attestation_kept_insert",
                    "attestation_kept_update",
                    "generation_account_password",
                    "generation_setting_value",
                    "generation_setting_insert",
                    "generation_setting_delete",
                ] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}"))
                        .await?;
                }
            }
        }
        manager
            .drop_table(Table::drop().table(PersonStatus::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Attestation::Table).to_owned())
            .await
    }
}
