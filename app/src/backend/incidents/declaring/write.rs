//! Writing prepared declarations: ids reserved up front, one insert per table, and the
//! direct SQLite path that overlaps building statements with running them.

use sea_orm::ConnectionTrait;

use crate::backend::{generation, timeline};
use crate::error::AppError;

use crate::backend::incidents::declaring::Declared;
use crate::backend::incidents::declaring::prepare::{Prepared, Rows, Subject, give_ids};
use crate::backend::incidents::declaring::writer::Job;

/// Most rows in one insert statement (well within SQLite's and PostgreSQL's limits on
/// parameters for the widest table written here).
pub(crate) const ROWS_PER_INSERT: usize = 128;

/// Insert statements for `tables`, made one at a time as they are asked for: rows go in runs
/// of 128, then of the largest power of two left (64, 32, …, 1), so each table has a
/// handful of statement shapes that the driver prepares once and reuses, however many rows
/// a batch holds.
pub(crate) fn inserts(
    backend: sea_orm::DbBackend,
    tables: Vec<Rows>,
) -> impl Iterator<Item = sea_orm::Statement> {
    use std::fmt::Write as _;
    tables.into_iter().flat_map(move |t| {
        let head = format!(
            "INSERT INTO \"{}\" ({}) VALUES ",
            t.table,
            t.columns
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let width = t.columns.len();
        let mut left = t.values.len();
        let mut rows = t.values.into_iter();
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let n = if left >= ROWS_PER_INSERT {
                ROWS_PER_INSERT
            } else {
                1 << (usize::BITS - 1 - left.leading_zeros())
            };
            left -= n;
            let mut sql = String::with_capacity(head.len() + n * (width * 5 + 4));
            sql.push_str(&head);
            let mut values = Vec::with_capacity(n * width);
            for (i, row) in rows.by_ref().take(n).enumerate() {
                sql.push_str(if i == 0 { "(" } else { ", (" });
                for j in 0..width {
                    if j > 0 {
                        sql.push_str(", ");
                    }
                    if backend == sea_orm::DbBackend::Postgres {
                        let _ = write!(sql, "${}", values.len() + j + 1);
                    } else {
                        sql.push('?');
                    }
                }
                values.extend(row);
                sql.push(')');
            }
            Some(sea_orm::Statement::from_sql_and_values(
                backend, sql, values,
            ))
        })
    })
}

/// Executes statements one after another, making each next one while the database runs
/// the one before (so building and executing overlap instead of taking turns). The direct
/// SQLite path has the same loop over the driver's own statements.
pub(crate) async fn execute_overlapped(
    db: &impl ConnectionTrait,
    mut statements: impl Iterator<Item = sea_orm::Statement>,
) -> Result<(), AppError> {
    let mut current = statements.next();
    while let Some(statement) = current {
        let (done, next) = tokio::join!(db.execute_raw(statement), async { statements.next() });
        done?;
        current = next;
    }
    Ok(())
}

/// Ids for `n` new rows of `table`, taken before they are inserted so that nothing has to be
/// read back. On SQLite the caller's transaction already holds the write lock, so nobody
/// else can insert before it commits: the ids follow the highest ever given (the table's
/// AUTOINCREMENT counter, or its highest row). On PostgreSQL they come from the table's
/// own sequence.
pub(crate) async fn reserve_ids(
    db: &impl ConnectionTrait,
    table: &'static str,
    n: usize,
) -> Result<Vec<i64>, AppError> {
    use sea_orm::{DbBackend, Statement};
    if n == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS value \
                     FROM generate_series(1, {n})"
                ),
            ))
            .await?;
        return rows
            .into_iter()
            .map(|r| r.try_get::<i64>("", "value").map_err(AppError::from))
            .collect();
    }
    let row = db
        .query_one_raw(Statement::from_string(backend, sqlite_highest_id(table)))
        .await?
        .ok_or_else(|| crate::backend::errors::internal("declare", &"no highest id"))?;
    Ok(ids_after(row.try_get("", "value")?, n))
}

/// Gives prepared declarations their ids (`incident_ids` one each, `task_ids` and
/// `command_ids` in order) and gathers their rows table by table, parents before children
/// for the foreign keys: the incident, its tasks, its command roles, the affected assets,
/// escalation tracking for every task and the Gold acknowledgement, each assignee's inbox
/// notice and pages, the first timeline entry and the audit record. Returns the tables and (id,
/// reference) per declaration, in order.
pub(crate) fn with_ids(
    ps: Vec<Prepared>,
    incident_ids: &[i64],
    task_ids: &[i64],
    command_ids: &[i64],
) -> Result<(Vec<Rows>, Written), AppError> {
    let miscounted = || crate::backend::errors::internal("declare", &"ids miscounted");
    if incident_ids.len() != ps.len() {
        return Err(miscounted());
    }
    let mut tables: [Rows; 10] = Default::default();
    let mut out = Vec::with_capacity(ps.len());
    let (mut first_task, mut first_command) = (0, 0);
    for (mut p, &id) in ps.into_iter().zip(incident_ids) {
        let tasks = task_ids.get(first_task..first_task + p.tasks.values.len());
        let commands = command_ids.get(first_command..first_command + p.commands.values.len());
        let (tasks, commands) = tasks.zip(commands).ok_or_else(miscounted)?;
        first_task += tasks.len();
        first_command += commands.len();
        give_ids(&mut p.incident, "id", |_| Some(id))?;
        give_ids(&mut p.tasks, "id", |i| tasks.get(i).copied())?;
        give_ids(&mut p.commands, "id", |i| commands.get(i).copied())?;
        give_ids(&mut p.tracking, "subject_id", |i| {
            match p.tracking_of.get(i)? {
                Subject::Task(k) => tasks.get(*k).copied(),
                Subject::Command(j) => commands.get(*j).copied(),
            }
        })?;
        give_ids(&mut p.told, "subject_id", |i| {
            tasks.get(*p.told_of.get(i)?).copied()
        })?;
        give_ids(&mut p.pages, "subject_id", |i| {
            tasks.get(*p.pages_of.get(i)?).copied()
        })?;
        for rows in [
            &mut p.tasks,
            &mut p.commands,
            &mut p.tracking,
            &mut p.told,
            &mut p.pages,
            &mut p.affected,
        ] {
            give_ids(rows, "incident_id", |_| Some(id))?;
        }
        let (mut event, mut head) = (Rows::default(), Rows::default());
        let (first, signed) = timeline::first_entry(
            id,
            p.declared_at,
            Some(p.actor),
            "declared",
            p.detail,
            p.facts,
        )?;
        event.push(first)?;
        head.push(signed)?;
        let rows = [
            p.incident, p.tasks, p.commands, p.affected, p.tracking, p.told, p.pages, event, head,
            p.audit,
        ];
        for (table, rows) in tables.iter_mut().zip(rows) {
            table.append(rows);
        }
        out.push((
            id,
            Declared {
                reference: p.reference,
                people: p.people,
            },
        ));
    }
    Ok((tables.into(), out))
}

/// (id, what was written) of each declaration, in order.
pub(crate) type Written = Vec<(i64, Declared)>;

/// How many ids of each kind a batch needs: incidents, tasks, command roles.
pub(crate) fn id_counts<'a>(ps: impl IntoIterator<Item = &'a Prepared>) -> [usize; 3] {
    ps.into_iter().fold([0; 3], |[i, t, c], p| {
        [i + 1, t + p.tasks.values.len(), c + p.commands.values.len()]
    })
}

/// Writes prepared declarations in the caller's transaction, which must already hold the
/// write lock (its first statement was a write). Ids are given up front, so however many
/// declarations and steps it is one insert per table (chunked only past the parameter
/// limits) and nothing is read back. Returns (id, what was written) per declaration, in
/// order.
pub(crate) async fn write_all(
    db: &impl ConnectionTrait,
    ps: Vec<Prepared>,
) -> Result<Written, AppError> {
    let [incidents, tasks, commands] = id_counts(&ps);
    let incident_ids = reserve_ids(db, "incident", incidents).await?;
    let task_ids = reserve_ids(db, "task", tasks).await?;
    let command_ids = reserve_ids(db, "incident_command", commands).await?;
    let (tables, out) = with_ids(ps, &incident_ids, &task_ids, &command_ids)?;
    execute_overlapped(db, inserts(db.get_database_backend(), tables)).await?;
    Ok(out)
}

/// The batch writer's path on SQLite: straight through the driver on one pooled connection,
/// in a transaction that takes the write lock as it begins: one round trip reads the
/// generation and the highest ids, and a small batch's inserts go in one more (see
/// `ONE_TRIP_MOST`); each round trip wakes two threads, which under load costs more than
/// the SQL. Returns `None`, having written nothing, when a
/// declaration in the batch was routed by a plan that is no longer current, or was already
/// taken: the general path routes it again.
pub(crate) async fn commit_batch_sqlite(
    pool: &sea_orm::sqlx::SqlitePool,
    batch: &mut [Job],
) -> Result<Option<(i64, Vec<Result<Declared, AppError>>)>, AppError> {
    use sea_orm::sqlx::{self, AssertSqlSafe};
    let failed = |e: sqlx::Error| crate::backend::errors::internal("declare", &e);
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(failed)?;
    // The generation and the highest ids so far, in one statement (each is a round trip to
    // the connection's thread).
    let (generation, incidents, tasks, commands): (i64, i64, i64, i64) =
        sqlx::query_as(AssertSqlSafe(sqlite_batch_start()))
            .fetch_one(&mut *tx)
            .await
            .map_err(failed)?;
    let Some(ps) = take_if_current(batch, generation) else {
        return Ok(None);
    };
    let [n_incidents, n_tasks, n_commands] = id_counts(&ps);
    let (tables, out) = with_ids(
        ps,
        &ids_after(incidents, n_incidents),
        &ids_after(tasks, n_tasks),
        &ids_after(commands, n_commands),
    )?;
    let statements: Vec<sea_orm::Statement> = inserts(sea_orm::DbBackend::Sqlite, tables).collect();
    let bound: usize = statements
        .iter()
        .map(|s| s.values.as_ref().map_or(0, |v| v.0.len()))
        .sum();
    if bound <= ONE_TRIP_MOST {
        one_trip(&mut tx, statements).await.map_err(failed)?;
    } else {
        prepared_in_turn(&mut tx, statements)
            .await
            .map_err(failed)?;
    }
    tx.commit().await.map_err(failed)?;
    Ok(Some((
        generation,
        out.into_iter().map(|(_, declared)| Ok(declared)).collect(),
    )))
}

/// Every declaration's prepared rows, taken from the batch, when each was routed by a plan
/// still current at `generation`; `None`, taking nothing, when one was not (the general
/// path routes it again).
pub(crate) fn take_if_current(batch: &mut [Job], generation: i64) -> Option<Vec<Prepared>> {
    let now = timeline::now();
    let current = |j: &Job| {
        j.prepared
            .as_ref()
            .is_some_and(|p| p.routed.current(generation, now))
    };
    if !batch.iter().all(current) {
        return None;
    }
    Some(batch.iter_mut().filter_map(|j| j.prepared.take()).collect())
}

/// Most values a batch's inserts may bind to go to SQLite as one multi-statement round
/// trip. A small batch (the usual case when declarations arrive through HTTP) is quicker in
/// one trip: each trip wakes two threads. A large one is quicker statement by statement,
/// each kept prepared: its statements' shapes repeat (runs of 128, 64, …) and parsing them
/// afresh would cost more than the trips (in the declarations benchmark, 50 clients
/// declaring a 20-step runbook, one trip per batch halved the rate).
const ONE_TRIP_MOST: usize = 4096;

type SqliteTx<'c> = sea_orm::sqlx::Transaction<'c, sea_orm::sqlx::Sqlite>;

fn arguments(values: Option<sea_orm::Values>) -> sea_orm::sqlx::sqlite::SqliteArguments {
    use sea_orm::sqlx::IntoArguments;
    IntoArguments::<sea_orm::sqlx::Sqlite>::into_arguments(sea_query_sqlx::SqlxValues(
        values.unwrap_or(sea_orm::Values(Vec::new())),
    ))
}

/// Every insert in one round trip to the connection's thread: SQLite runs the statements in
/// turn, each binding its arguments from where the one before stopped. Not kept prepared:
/// its text changes with the batch.
async fn one_trip(
    tx: &mut SqliteTx<'_>,
    statements: Vec<sea_orm::Statement>,
) -> Result<(), sea_orm::sqlx::Error> {
    use sea_orm::sqlx::{self, AssertSqlSafe};
    let (mut sql, mut values) = (String::new(), Vec::new());
    for statement in statements {
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        sql.push_str(&statement.sql);
        values.extend(statement.values.map(|v| v.0).unwrap_or_default());
    }
    sqlx::query_with(AssertSqlSafe(sql), arguments(Some(sea_orm::Values(values))))
        .persistent(false)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Each insert in its own round trip, kept prepared, the next one's arguments made while
/// the one before runs.
async fn prepared_in_turn(
    tx: &mut SqliteTx<'_>,
    statements: Vec<sea_orm::Statement>,
) -> Result<(), sea_orm::sqlx::Error> {
    use sea_orm::sqlx::{self, AssertSqlSafe};
    let mut statements = statements.into_iter().map(|s| (s.sql, arguments(s.values)));
    let mut current = statements.next();
    while let Some((sql, arguments)) = current {
        let (done, next) = tokio::join!(
            sqlx::query_with(AssertSqlSafe(sql), arguments).execute(&mut **tx),
            async { statements.next() }
        );
        done?;
        current = next;
    }
    Ok(())
}

/// The statement that opens a batch on SQLite: the change generation and the highest id
/// given so far of each table a declaration adds to.
fn sqlite_batch_start() -> String {
    format!(
        "SELECT ({}) AS generation, ({}) AS incidents, ({}) AS tasks, ({}) AS commands",
        generation::READ,
        sqlite_highest_id("incident"),
        sqlite_highest_id("task"),
        sqlite_highest_id("incident_command"),
    )
}

/// The `n` ids that follow `highest`.
pub(crate) fn ids_after(highest: i64, n: usize) -> Vec<i64> {
    (1..=n as i64).map(|i| highest + i).collect()
}

/// The highest id `table` has ever given on SQLite (its AUTOINCREMENT counter, or its
/// highest row): the next ids follow it while the caller holds the write lock.
pub(crate) fn sqlite_highest_id(table: &str) -> String {
    format!(
        "SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0), \
         COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0)) AS value"
    )
}
