//! Moving up and backing up: `wardline copy --to postgres://…` moves an SQLite deployment's
//! data into an empty PostgreSQL database; `wardline backup FILE` takes an online,
//! consistent copy of an SQLite database while the server runs.
//!
//! The copy reads every table inside one read transaction (one snapshot of the source, so
//! a server still writing cannot make it inconsistent), writes them all in one transaction
//! on the target (so a failure leaves nothing half copied), checks each table's row count
//! on the target after it commits, and then checks every incident timeline on the copy.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, bail};
use migrations::{Migrator, MigratorTrait};
use sea_orm::sea_query::Value;
use sea_orm::{
    ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, QueryResult, Statement,
    TransactionTrait,
};

/// Rows read from the source per query.
const PAGE: i64 = 1_000;
/// Bound values per insert statement (PostgreSQL takes at most 65,535).
const VALUES_PER_INSERT: usize = 20_000;
/// Tables of the migration tool and SQLite itself, and PostgreSQL's shared rate limits
/// (not data), never copied.
const NOT_COPIED: &[&str] = &["seaql_migrations", "sqlite_sequence", "rate_limit"];
/// Written to by triggers while other tables are copied, so copied last.
const LAST: &str = "change_generation";

/// What a copy did, table by table.
#[derive(Debug, Default)]
pub struct CopyReport {
    /// (table, rows in the source's snapshot, rows on the target after commit)
    pub tables: Vec<(String, u64, u64)>,
    pub timelines_checked: usize,
    pub timelines_broken: usize,
}

/// A column of the target and how its values travel.
struct Column {
    name: String,
    kind: Kind,
    /// Filled from a sequence when not given (an identity or serial column).
    serial: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    BigInt,
    Int,
    Bool,
    Text,
    Timestamp,
    Date,
    Real,
}

impl Kind {
    fn of(data_type: &str) -> anyhow::Result<Kind> {
        Ok(match data_type {
            "bigint" => Kind::BigInt,
            "integer" | "smallint" => Kind::Int,
            "boolean" => Kind::Bool,
            "text" | "character varying" | "character" => Kind::Text,
            "timestamp with time zone" => Kind::Timestamp,
            "date" => Kind::Date,
            "double precision" | "real" => Kind::Real,
            other => bail!("a column of type {other} cannot be copied yet"),
        })
    }

    /// The source's value in this column, as the target should get it.
    fn read(self, row: &QueryResult, index: usize) -> anyhow::Result<Value> {
        Ok(match self {
            Kind::BigInt => Value::BigInt(row.try_get_by_index(index)?),
            Kind::Int => Value::Int(row.try_get_by_index(index)?),
            Kind::Bool => Value::Bool(row.try_get_by_index(index)?),
            Kind::Text => Value::String(row.try_get_by_index::<Option<String>>(index)?),
            Kind::Timestamp => Value::TimeDateTimeWithTimeZone(
                row.try_get_by_index::<Option<time::OffsetDateTime>>(index)?,
            ),
            Kind::Date => Value::TimeDate(row.try_get_by_index::<Option<time::Date>>(index)?),
            Kind::Real => Value::Double(row.try_get_by_index(index)?),
        })
    }
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn strings(db: &impl ConnectionTrait, sql: &str) -> anyhow::Result<Vec<Vec<String>>> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|r| {
            (0..)
                .map_while(|i| r.try_get_by_index::<String>(i).ok())
                .collect::<Vec<_>>()
        })
        .map(Ok)
        .collect()
}

/// The target's tables, parents before children (by its foreign keys), `LAST` at the end.
async fn tables_in_order(target: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    let names: BTreeSet<String> = strings(
        target,
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .await?
    .into_iter()
    .filter_map(|r| r.into_iter().next())
    .filter(|t| !NOT_COPIED.contains(&t.as_str()))
    .collect();
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in strings(
        target,
        "SELECT c.relname::text, p.relname::text FROM pg_constraint k \
         JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid \
         WHERE k.contype = 'f'",
    )
    .await?
    {
        if let [child, parent] = &r[..]
            && child != parent
        {
            parents
                .entry(child.clone())
                .or_default()
                .insert(parent.clone());
        }
    }
    let mut ordered: Vec<String> = Vec::new();
    let mut left: BTreeSet<String> = names.iter().filter(|t| *t != LAST).cloned().collect();
    while !left.is_empty() {
        let ready: Vec<String> = left
            .iter()
            .filter(|t| {
                parents
                    .get(*t)
                    .is_none_or(|ps| ps.iter().all(|p| !left.contains(p)))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            bail!("the target's foreign keys form a cycle among {left:?}");
        }
        for t in ready {
            left.remove(&t);
            ordered.push(t);
        }
    }
    if names.contains(LAST) {
        ordered.push(LAST.to_owned());
    }
    Ok(ordered)
}

async fn columns_of(target: &DatabaseConnection, table: &str) -> anyhow::Result<Vec<Column>> {
    let rows = target
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT column_name::text, data_type::text, \
             (is_identity = 'YES' OR COALESCE(column_default LIKE 'nextval(%', false)) \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            [table.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            let name: String = r.try_get_by_index(0)?;
            let data_type: String = r.try_get_by_index(1)?;
            let serial: bool = r.try_get_by_index(2)?;
            let kind = Kind::of(&data_type).with_context(|| format!("{table}.{name}"))?;
            Ok(Column { name, kind, serial })
        })
        .collect()
}

async fn count(db: &impl ConnectionTrait, table: &str) -> anyhow::Result<u64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) FROM {}", quoted(table)),
        ))
        .await?
        .context("a count answers")?;
    Ok(u64::try_from(row.try_get_by_index::<i64>(0)?).unwrap_or(0))
}

/// Whether the target database holds no tables at all.
async fn is_empty(target: &DatabaseConnection) -> anyhow::Result<bool> {
    let tables = strings(
        target,
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema()",
    )
    .await?;
    Ok(tables.is_empty())
}

/// Copies one table's rows, a page at a time, into the target's transaction; the number
/// copied.
async fn copy_table(
    source: &impl ConnectionTrait,
    target: &impl ConnectionTrait,
    table: &str,
    columns: &[Column],
) -> anyhow::Result<u64> {
    let names: Vec<String> = columns.iter().map(|c| quoted(&c.name)).collect();
    let select = format!(
        "SELECT rowid, {} FROM {} WHERE rowid > ? ORDER BY rowid LIMIT {PAGE}",
        names.join(", "),
        quoted(table)
    );
    let rows_per_insert = (VALUES_PER_INSERT / columns.len().max(1)).max(1);
    let (mut after, mut copied) = (i64::MIN, 0u64);
    loop {
        let page = source
            .query_all_raw(Statement::from_sql_and_values(
                DatabaseBackend::Sqlite,
                &select,
                [after.into()],
            ))
            .await
            .with_context(|| format!("reading {table}"))?;
        let Some(last) = page.last() else { break };
        after = last.try_get_by_index(0)?;
        for chunk in page.chunks(rows_per_insert) {
            let mut values = Vec::with_capacity(chunk.len() * columns.len());
            let mut tuples = Vec::with_capacity(chunk.len());
            for row in chunk {
                let first = values.len();
                for (i, c) in columns.iter().enumerate() {
                    values.push(
                        c.kind
                            .read(row, i + 1)
                            .with_context(|| format!("reading {table}.{}", c.name))?,
                    );
                }
                let marks: Vec<String> = (first + 1..=values.len())
                    .map(|n| format!("${n}"))
                    .collect();
                tuples.push(format!("({})", marks.join(", ")));
            }
            let insert = format!(
                "INSERT INTO {} ({}) VALUES {}",
                quoted(table),
                names.join(", "),
                tuples.join(", ")
            );
            target
                .execute_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    &insert,
                    values,
                ))
                .await
                .with_context(|| format!("writing {table}"))?;
        }
        copied += page.len() as u64;
    }
    Ok(copied)
}

/// Copies everything in `source` (SQLite, already migrated) into the empty PostgreSQL
/// database at `target_url`, printing progress table by table.
pub async fn copy_to(source: &DatabaseConnection, target_url: &str) -> anyhow::Result<CopyReport> {
    if source.get_database_backend() != DatabaseBackend::Sqlite {
        bail!("copy moves an SQLite deployment; this one is already on PostgreSQL");
    }
    if !target_url.starts_with("postgres://") && !target_url.starts_with("postgresql://") {
        bail!("--to must be a postgres:// URL");
    }
    let target = Database::connect(target_url)
        .await
        .context("connecting to the target PostgreSQL database")?;
    if !is_empty(&target).await? {
        bail!(
            "the target database already holds tables; copy only into a new, empty database \
             (CREATE DATABASE …)"
        );
    }
    Migrator::up(&target, None)
        .await
        .context("making the schema on the target")?;
    let copied = copy_all(source, &target).await.context(
        "nothing was copied (the copy's transaction was rolled back), but the target now \
         holds Wardline's empty schema: drop and create it again before trying once more",
    );
    let _ = target.close().await;
    copied
}

/// Copies every table in one transaction on each side, then checks the copy.
async fn copy_all(
    source: &DatabaseConnection,
    target: &DatabaseConnection,
) -> anyhow::Result<CopyReport> {
    let tables = tables_in_order(target).await?;
    let mut report = CopyReport::default();
    // One snapshot of the source for the whole copy.
    let read = source.begin().await?;
    let write = target.begin().await?;
    // Rows the migrations themselves wrote (the change counter, seeded catalogues) give way
    // to the source's own.
    for table in tables.iter().rev() {
        write
            .execute_unprepared(&format!("DELETE FROM {}", quoted(table)))
            .await?;
    }
    let mut expected = Vec::new();
    for table in &tables {
        let columns = columns_of(target, table).await?;
        // Rows a trigger wrote here while earlier tables were copied (each holding stored
        // with a confirmation writes its attestation) give way to the source's own.
        write
            .execute_unprepared(&format!("DELETE FROM {}", quoted(table)))
            .await?;
        let in_source = count(&read, table).await?;
        let copied = copy_table(&read, &write, table, &columns).await?;
        if copied != in_source {
            bail!("{table}: read {copied} rows of {in_source}");
        }
        if let Some(serial) = columns.iter().find(|c| c.serial) {
            write
                .execute_unprepared(&format!(
                    "SELECT setval(pg_get_serial_sequence('{t}', '{c}'), \
                     COALESCE(MAX({qc}), 0) + 1, false) FROM {t}",
                    t = quoted(table),
                    c = serial.name,
                    qc = quoted(&serial.name)
                ))
                .await
                .with_context(|| format!("moving {table}'s id sequence on"))?;
        }
        println!("  {table}: {copied} rows");
        expected.push((table.clone(), in_source));
    }
    write.commit().await.context("committing the copy")?;
    read.rollback().await?;
    for (table, in_source) in expected {
        let on_target = count(target, &table).await?;
        report.tables.push((table, in_source, on_target));
    }
    let checks = app::backend::timeline::verify_all(target, None)
        .await
        .map_err(|e| anyhow::anyhow!("checking timelines on the copy: {e}"))?;
    report.timelines_checked = checks.len();
    report.timelines_broken = checks.iter().filter(|c| c.result.is_err()).count();
    Ok(report)
}

/// Writes an online, consistent copy of the SQLite database to `file`, which must not exist:
/// written beside it under a temporary name, flushed to disk, checked, then renamed.
/// Returns the number of incidents it holds.
pub async fn backup(db: &DatabaseConnection, file: &Path) -> anyhow::Result<u64> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        bail!(
            "backup copies an SQLite database; back PostgreSQL up with its own tools \
             (pg_dump, or pg_basebackup with WAL archiving): see the README"
        );
    }
    if strings(db, "SELECT name FROM sqlite_master WHERE name = 'incident'")
        .await?
        .is_empty()
    {
        bail!(
            "this database holds no Wardline data: nothing to back up (is WARDLINE_DATABASE_URL right?)"
        );
    }
    if file.exists() {
        bail!("{} already exists; choose a new file name", file.display());
    }
    let partial = file.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let path = partial
        .to_str()
        .context("the backup's path is not valid UTF-8")?
        .to_owned();
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        "VACUUM INTO ?",
        [path.clone().into()],
    ))
    .await
    .with_context(|| format!("writing {}", partial.display()))?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .context("flushing the backup to disk")?;
    let copy = Database::connect(format!("sqlite://{path}?mode=ro"))
        .await
        .context("opening the backup to check it")?;
    let check = copy
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await?
        .context("an integrity check answers")?;
    let verdict: String = check.try_get_by_index(0)?;
    let incidents = count(&copy, "incident").await?;
    let _ = copy.close().await;
    if verdict != "ok" {
        bail!("the backup failed SQLite's integrity check: {verdict}");
    }
    std::fs::rename(&partial, file).context("naming the backup")?;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .context("flushing the backup's folder")?;
    }
    Ok(incidents)
}
