//! The batch writer's path on PostgreSQL: straight through the driver, in as few round
//! trips as the protocol allows. Each trip to a PostgreSQL server costs a network wait that
//! the commit itself does not, so a batch is: BEGIN; one statement that locks the change
//! generation and reserves every id the batch needs; its inserts as one statement (every
//! table at once, as data-modifying `WITH` clauses, split only past the protocol's limit on
//! bound values); COMMIT.

use sea_orm::sqlx::{self, AssertSqlSafe, IntoArguments, PgPool, Postgres};

use crate::backend::generation;
use crate::error::AppError;

use crate::backend::incidents::declaring::Declared;
use crate::backend::incidents::declaring::prepare::Rows;
use crate::backend::incidents::declaring::write::{id_counts, take_if_current, with_ids};
use crate::backend::incidents::declaring::writer::Job;

/// Most values bound to one statement: the extended protocol counts them in 16 bits.
const BOUND_MOST: usize = u16::MAX as usize;

/// Writes a batch in one transaction when every declaration in it was routed by a plan
/// that is still current (checked under the generation's row lock). Returns `None`,
/// having written nothing, when one was not: the general path routes it again. The ids
/// reserved then are skipped, as a rolled-back insert's would be.
pub(crate) async fn commit_batch_postgres(
    pool: &PgPool,
    batch: &mut [Job],
) -> Result<Option<(i64, Vec<Result<Declared, AppError>>)>, AppError> {
    let failed = |e: sqlx::Error| crate::backend::errors::internal("declare", &e);
    if batch.iter().any(|j| j.prepared.is_none()) {
        return Ok(None);
    }
    let counts = id_counts(batch.iter().filter_map(|j| j.prepared.as_ref()));
    let mut tx = pool.begin().await.map_err(failed)?;
    let rows: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(batch_start()))
        .bind(counts[0] as i64)
        .bind(counts[1] as i64)
        .bind(counts[2] as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(failed)?;
    let mut ids: [Vec<i64>; 4] = Default::default();
    for (kind, value) in rows {
        if let Some(list) = usize::try_from(kind).ok().and_then(|k| ids.get_mut(k)) {
            list.push(value);
        }
    }
    let [generation, incident_ids, task_ids, command_ids] = ids;
    let generation = *generation
        .first()
        .ok_or_else(|| crate::backend::errors::internal("declare", &"no change_generation row"))?;
    let Some(ps) = take_if_current(batch, generation) else {
        return Ok(None);
    };
    debug_assert_eq!(id_counts(&ps), counts);
    let (tables, out) = with_ids(ps, &incident_ids, &task_ids, &command_ids)?;
    let (columnar, rest) = columnar(tables);
    if let Some((sql, columns)) = columnar {
        // Its text depends only on which tables the batch writes: kept prepared.
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for c in columns {
            query = c.bind_to(query);
        }
        query.execute(&mut *tx).await.map_err(failed)?;
    }
    for (sql, values) in statements(rest) {
        let arguments = IntoArguments::<Postgres>::into_arguments(sea_query_sqlx::SqlxValues(
            sea_orm::Values(values),
        ));
        // Not kept prepared: its text is this batch's own.
        sqlx::query_with(AssertSqlSafe(sql), arguments)
            .persistent(false)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
    }
    tx.commit().await.map_err(failed)?;
    Ok(Some((
        generation,
        out.into_iter().map(|(_, declared)| Ok(declared)).collect(),
    )))
}

/// The statement that opens a batch: the change generation, locked until the commit (so
/// two instances' writers and an admin's change take turns), as kind 0; then as many new
/// ids of incidents (1), tasks (2) and command roles (3) as the three parameters ask for.
fn batch_start() -> String {
    let ids = |kind: u8, table: &str, n: u8| {
        format!(
            " UNION ALL SELECT {kind}::int8, nextval((SELECT pg_get_serial_sequence('{table}', 'id'))::regclass) \
             FROM generate_series(1, ${n}::int8)"
        )
    };
    format!(
        "WITH g AS ({} FOR UPDATE) SELECT 0::int8 AS kind, value FROM g{}{}{}",
        generation::READ,
        ids(1, "incident", 1),
        ids(2, "task", 2),
        ids(3, "incident_command", 3),
    )
}

/// One column of a table's rows, as the array PostgreSQL's `unnest` takes.
pub(crate) enum Column {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i32>>),
    BigInt(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Moment(Vec<Option<time::OffsetDateTime>>),
    Date(Vec<Option<time::Date>>),
}

impl Column {
    fn empty(first: &sea_orm::Value, n: usize) -> Option<Column> {
        use sea_orm::Value as V;
        Some(match first {
            V::Bool(_) => Column::Bool(Vec::with_capacity(n)),
            V::TinyInt(_) | V::SmallInt(_) | V::Int(_) => Column::Int(Vec::with_capacity(n)),
            V::BigInt(_) => Column::BigInt(Vec::with_capacity(n)),
            V::String(_) => Column::Text(Vec::with_capacity(n)),
            V::TimeDateTimeWithTimeZone(_) => Column::Moment(Vec::with_capacity(n)),
            V::TimeDate(_) => Column::Date(Vec::with_capacity(n)),
            _ => return None,
        })
    }

    /// Adds a value; false when it is not of this column's type.
    fn push(&mut self, v: sea_orm::Value) -> bool {
        use sea_orm::Value as V;
        match (self, v) {
            (Column::Bool(c), V::Bool(x)) => c.push(x),
            (Column::Int(c), V::TinyInt(x)) => c.push(x.map(i32::from)),
            (Column::Int(c), V::SmallInt(x)) => c.push(x.map(i32::from)),
            (Column::Int(c), V::Int(x)) => c.push(x),
            (Column::BigInt(c), V::BigInt(x)) => c.push(x),
            (Column::Text(c), V::String(x)) => c.push(x),
            (Column::Moment(c), V::TimeDateTimeWithTimeZone(x)) => c.push(x),
            (Column::Date(c), V::TimeDate(x)) => c.push(x),
            _ => return false,
        }
        true
    }

    fn array_type(&self) -> &'static str {
        match self {
            Column::Bool(_) => "bool[]",
            Column::Int(_) => "int4[]",
            Column::BigInt(_) => "int8[]",
            Column::Text(_) => "text[]",
            Column::Moment(_) => "timestamptz[]",
            Column::Date(_) => "date[]",
        }
    }

    fn bind_to<'q>(
        self,
        q: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
        match self {
            Column::Bool(c) => q.bind(c),
            Column::Int(c) => q.bind(c),
            Column::BigInt(c) => q.bind(c),
            Column::Text(c) => q.bind(c),
            Column::Moment(c) => q.bind(c),
            Column::Date(c) => q.bind(c),
        }
    }
}

/// A table's rows as one array per column, when every column holds values of one type the
/// arrays carry (else the rows are given back, for `statements`).
fn to_columns(t: Rows) -> Result<(Rows, Vec<Column>), Rows> {
    let n = t.values.len();
    let Some(first) = t.values.first() else {
        return Err(t);
    };
    let Some(mut columns) = first
        .iter()
        .map(|v| Column::empty(v, n))
        .collect::<Option<Vec<Column>>>()
    else {
        return Err(t);
    };
    // Checked before anything is moved, so a table that cannot go as arrays goes whole.
    let fits = t.values.iter().all(|row| {
        row.len() == columns.len()
            && row
                .iter()
                .zip(&columns)
                .all(|(v, c)| Column::empty(v, 0).is_some_and(|e| e.array_type() == c.array_type()))
    });
    if !fits {
        return Err(t);
    }
    let Rows {
        table,
        columns: names,
        values,
    } = t;
    for row in values {
        for (v, c) in row.into_iter().zip(columns.iter_mut()) {
            c.push(v);
        }
    }
    Ok((
        Rows {
            table,
            columns: names,
            values: Vec::new(),
        },
        columns,
    ))
}

/// The batch's inserts as one statement whose every table is `INSERT … SELECT * FROM
/// unnest(…)` of one array per column (all but the last as data-modifying `WITH` clauses):
/// a bound value per column, not per row, so its text depends only on which tables the
/// batch writes and PostgreSQL parses and plans it once per connection. Tables that do not
/// fit arrays are returned for [`statements`].
pub(crate) fn columnar(tables: Vec<Rows>) -> (Option<(String, Vec<Column>)>, Vec<Rows>) {
    let (mut parts, mut columns, mut rest) = (Vec::new(), Vec::new(), Vec::new());
    for t in tables {
        if t.values.is_empty() {
            continue;
        }
        // Tables come parents first: once one cannot go as arrays, it and every table after
        // it go in the statements that follow, so no child is written before its parent.
        if !rest.is_empty() {
            rest.push(t);
            continue;
        }
        match to_columns(t) {
            Ok((t, cols)) => {
                let arrays: Vec<String> = cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("${}::{}", columns.len() + i + 1, c.array_type()))
                    .collect();
                parts.push(format!(
                    "INSERT INTO \"{}\" ({}) SELECT * FROM unnest({})",
                    t.table,
                    t.columns
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>()
                        .join(", "),
                    arrays.join(", ")
                ));
                columns.extend(cols);
            }
            Err(t) => rest.push(t),
        }
    }
    (one_statement(parts).map(|sql| (sql, columns)), rest)
}

/// Inserts as one statement, parents first: every one but the last as a data-modifying
/// `WITH` clause (PostgreSQL checks foreign keys at the end of the whole statement).
fn one_statement(mut parts: Vec<String>) -> Option<String> {
    let last = parts.pop()?;
    let mut sql = String::new();
    for (i, part) in parts.iter().enumerate() {
        sql.push_str(if i == 0 { "WITH " } else { ", " });
        sql.push_str(&format!("w{i} AS ({part})"));
    }
    if !parts.is_empty() {
        sql.push(' ');
    }
    sql.push_str(&last);
    Some(sql)
}

/// The batch's inserts as few statements as the limit on bound values allows: one
/// `INSERT … VALUES` per table, every table but the last as a data-modifying `WITH` clause
/// of the same statement. Tables come parents first; PostgreSQL checks foreign keys at the
/// end of the whole statement, and a later statement sees an earlier one's rows.
pub(crate) fn statements(tables: Vec<Rows>) -> Vec<(String, Vec<sea_orm::Value>)> {
    let mut out = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let finish = |parts: &mut Vec<String>, values: &mut Vec<sea_orm::Value>, out: &mut Vec<_>| {
        if let Some(sql) = one_statement(std::mem::take(parts)) {
            out.push((sql, std::mem::take(values)));
        }
    };
    for t in tables {
        let width = t.columns.len();
        if width == 0 || width > BOUND_MOST {
            continue;
        }
        let head = format!(
            "INSERT INTO \"{}\" ({}) VALUES ",
            t.table,
            t.columns
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut part = String::new();
        for row in t.values {
            if values.len() + width > BOUND_MOST {
                if !part.is_empty() {
                    parts.push(std::mem::take(&mut part));
                }
                finish(&mut parts, &mut values, &mut out);
            }
            part.push_str(if part.is_empty() { &head } else { ", " });
            part.push('(');
            for j in 0..width {
                if j > 0 {
                    part.push_str(", ");
                }
                part.push('$');
                part.push_str(&(values.len() + j + 1).to_string());
            }
            part.push(')');
            values.extend(row);
        }
        if !part.is_empty() {
            parts.push(part);
        }
    }
    finish(&mut parts, &mut values, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(table: &'static str, width: usize, n: usize) -> Rows {
        Rows {
            table,
            columns: ["a", "b", "c", "d"][..width].to_vec(),
            values: (0..n)
                .map(|i| {
                    (0..width)
                        .map(|j| sea_orm::Value::from((i * 10 + j) as i64))
                        .collect()
                })
                .collect(),
        }
    }

    #[test]
    fn columnar_inserts_bind_one_array_per_column_whatever_the_row_count() {
        let text = |n: usize| Rows {
            table: "task",
            columns: vec!["title", "due"],
            values: (0..n)
                .map(|i| {
                    vec![
                        sea_orm::Value::from(format!("step {i}")),
                        sea_orm::Value::TimeDateTimeWithTimeZone(None),
                    ]
                })
                .collect(),
        };
        let (one, rest) = columnar(vec![rows("incident", 2, 3), text(5)]);
        let (sql, columns) = one.expect("both tables fit arrays");
        assert!(rest.is_empty());
        assert_eq!(
            sql,
            "WITH w0 AS (INSERT INTO \"incident\" (\"a\", \"b\") SELECT * FROM unnest($1::int8[], $2::int8[])) \
             INSERT INTO \"task\" (\"title\", \"due\") SELECT * FROM unnest($3::text[], $4::timestamptz[])"
        );
        assert_eq!(columns.len(), 4);
        assert!(matches!(&columns[0], Column::BigInt(v) if v == &[Some(0), Some(10), Some(20)]));
        assert!(matches!(&columns[3], Column::Moment(v) if v.len() == 5 && v[0].is_none()));
        // The same tables with more rows: the same text, so it stays prepared.
        let (again, _) = columnar(vec![rows("incident", 2, 300), text(5000)]);
        assert_eq!(again.unwrap().0, sql);
    }

    #[test]
    fn a_table_that_cannot_go_as_arrays_goes_after_with_every_table_below_it() {
        let odd = Rows {
            table: "incident_command",
            columns: vec!["a"],
            values: vec![vec![sea_orm::Value::Double(Some(1.5))]],
        };
        // A column whose rows disagree on type cannot go as one array either.
        let mixed = Rows {
            table: "incident",
            columns: vec!["a"],
            values: vec![
                vec![sea_orm::Value::from(1i64)],
                vec![sea_orm::Value::from("one")],
            ],
        };
        let (one, rest) = columnar(vec![rows("incident", 1, 2), odd, rows("task", 2, 2)]);
        assert!(one.unwrap().0.contains("\"incident\""));
        let names: Vec<&str> = rest.iter().map(|t| t.table).collect();
        assert_eq!(
            names,
            ["incident_command", "task"],
            "parents before children"
        );
        assert_eq!(rest[1].values.len(), 2, "rows kept whole");
        let (none, rest) = columnar(vec![mixed]);
        assert!(none.is_none());
        assert_eq!(rest[0].values.len(), 2);
    }

    #[test]
    fn every_table_goes_in_one_statement_parents_first() {
        let out = statements(vec![rows("incident", 2, 2), rows("task", 3, 1)]);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].0,
            "WITH w0 AS (INSERT INTO \"incident\" (\"a\", \"b\") VALUES ($1, $2), ($3, $4)) \
             INSERT INTO \"task\" (\"a\", \"b\", \"c\") VALUES ($5, $6, $7)"
        );
        assert_eq!(out[0].1.len(), 7);
        assert_eq!(out[0].1[4], sea_orm::Value::from(0i64));
    }

    #[test]
    fn statements_split_before_the_protocol_limit_and_keep_every_row_in_order() {
        // 40,000 rows of 4 values: 160,000 values, three statements.
        let out = statements(vec![rows("incident", 1, 3), rows("task", 4, 40_000)]);
        assert!(out.len() >= 3, "{} statements", out.len());
        let mut all = Vec::new();
        for (sql, values) in &out {
            assert!(values.len() <= BOUND_MOST);
            let last = format!("${}", values.len());
            assert!(sql.contains(&format!("{last})")), "numbered to the end");
            assert!(!sql.contains(&format!("${})", values.len() + 1)));
            all.extend(values.iter().cloned());
        }
        assert_eq!(all.len(), 3 + 160_000);
        assert_eq!(all[3], sea_orm::Value::from(0i64));
        assert_eq!(all.last(), Some(&sea_orm::Value::from(399_993i64)));
        assert!(out[0].0.starts_with("WITH w0 AS (INSERT INTO \"incident\""));
        assert!(out[1].0.starts_with("INSERT INTO \"task\""));
    }
}
