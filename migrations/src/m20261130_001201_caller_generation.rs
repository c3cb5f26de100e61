//! The change generation also moves when what a signed-in person may do changes: their
//! access grants, and whether they have enrolled a second factor. The server keeps each
//! signed-in caller as last read and checks this one number per request instead of reading
//! the person, their grants and their account again (`backend::caller`); a grant revoked or
//! an MFA reset through any path (another instance, a hand-run SQL fix) is seen by the next
//! request.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each table and the columns whose update matters (empty: any).
const WATCHED: [(&str, &str); 2] = [("access_grant", ""), ("account", "totp_enabled_at")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, columns) in WATCHED {
            let update = if columns.is_empty() {
                "UPDATE".to_owned()
            } else {
                format!("UPDATE OF {columns}")
            };
            match manager.get_database_backend() {
                DbBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER generation_{table} AFTER INSERT OR {update} OR DELETE \
                         ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_change_generation()"
                    ))
                    .await?;
                }
                _ => {
                    for (name, op) in [
                        ("insert", "INSERT"),
                        ("update", &update),
                        ("delete", "DELETE"),
                    ] {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER generation_{table}_{name} AFTER {op} ON {table} \
                             BEGIN UPDATE change_generation SET value = value + 1 WHERE id = 1; END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, _) in WATCHED {
            match manager.get_database_backend() {
                DbBackend::Postgres => {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS generation_{table} ON {table}"
                    ))
                    .await?;
                }
                _ => {
                    for name in ["insert", "update", "delete"] {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS generation_{table}_{name}"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }
}
