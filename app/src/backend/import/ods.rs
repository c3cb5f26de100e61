//! The ODS organisation files (`etr.csv` trusts, `eccg.csv` ICBs and sub-ICB locations,
//! `epraccur.csv` GP practices): headerless CSV, dates as YYYYMMDD, Windows line endings,
//! quoted fields with commas. Parsing is pure; `apply` stores the rows, each batch in one
//! transaction, so a malformed row rejects only itself and a crash loses no stored row.

use std::collections::HashMap;

use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::super::orgs::{self, OrgInput, Upserted};
use crate::domain::dates;
use crate::domain::org::{OdsCode, OrgKind, OrgStatus};
use crate::error::AppError;

/// Which ODS file is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OdsFile {
    Trusts,
    Icbs,
    Practices,
}

impl OdsFile {
    pub fn parse(raw: &str) -> Option<OdsFile> {
        match raw {
            "trusts" | "etr" => Some(OdsFile::Trusts),
            "icbs" | "eccg" => Some(OdsFile::Icbs),
            "practices" | "epraccur" => Some(OdsFile::Practices),
            _ => None,
        }
    }
}

/// One organisation read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OdsRow {
    pub line: usize,
    pub org: OrgInput,
    pub parent_code: Option<String>,
    pub parent_from: Option<Date>,
}

/// A row that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Rejection {
    pub line: usize,
    pub reason: String,
}

/// What one line of a file turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Row(OdsRow),
    /// A well-formed line that is not for this import (a prescribing setting other than a
    /// GP practice in `epraccur.csv`).
    Skipped {
        line: usize,
        reason: String,
    },
    Rejected(Rejection),
}

fn field(rec: &csv::StringRecord, n: usize) -> &str {
    rec.get(n - 1).map(str::trim).unwrap_or("")
}

fn optional_date(rec: &csv::StringRecord, n: usize, what: &str) -> Result<Option<Date>, String> {
    let raw = field(rec, n);
    if raw.is_empty() {
        return Ok(None);
    }
    dates::parse_ods(raw)
        .map(Some)
        .ok_or_else(|| format!("{what} “{raw}” is not a date in YYYYMMDD form"))
}

/// Reads a whole file. Never panics, whatever the bytes.
pub fn parse(file: OdsFile, bytes: &[u8], today: Date) -> Vec<Parsed> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 1;
        let parsed = match rec {
            Err(e) => Parsed::Rejected(Rejection {
                line,
                reason: format!("unreadable line: {e}"),
            }),
            Ok(rec) if rec.iter().all(str::is_empty) => continue,
            Ok(rec) => match parse_record(file, &rec, line, today) {
                Ok(p) => p,
                Err(reason) => Parsed::Rejected(Rejection { line, reason }),
            },
        };
        out.push(parsed);
    }
    out
}

/// What kind of organisation a row of `file` is: the ICB file holds ICBs (three characters
/// starting Q) and their sub-ICB locations.
fn kind_of(file: OdsFile, raw_code: &str) -> OrgKind {
    match file {
        OdsFile::Trusts => OrgKind::Trust,
        OdsFile::Practices => OrgKind::GpPractice,
        OdsFile::Icbs => {
            let c = raw_code.to_ascii_uppercase();
            if c.len() == 3 && c.starts_with('Q') {
                OrgKind::Icb
            } else {
                OrgKind::SubIcb
            }
        }
    }
}

fn parse_record(
    file: OdsFile,
    rec: &csv::StringRecord,
    line: usize,
    today: Date,
) -> Result<Parsed, String> {
    if rec.len() < 12 {
        return Err(format!("expected at least 12 columns, found {}", rec.len()));
    }
    let raw_code = field(rec, 1);
    let name = field(rec, 2);
    if name.is_empty() {
        return Err(format!("organisation {raw_code} has no name"));
    }
    if name.chars().count() > 200 {
        return Err("the name is longer than 200 characters".into());
    }
    let kind = kind_of(file, raw_code);
    let code = OdsCode::parse(kind, raw_code)?;
    let opened_on = optional_date(rec, 11, "the open date")?;
    let closed_on = optional_date(rec, 12, "the close date")?;
    let postcode = Some(field(rec, 10))
        .filter(|p| !p.is_empty())
        .map(|p| p.chars().take(16).collect());
    let mut status = match closed_on {
        Some(d) if d <= today => OrgStatus::Closed,
        _ => OrgStatus::Active,
    };
    let (parent_code, parent_from) = match file {
        OdsFile::Trusts => {
            let geography = field(rec, 4);
            let parent = if geography.starts_with('Q') {
                geography
            } else {
                field(rec, 3)
            };
            (Some(parent.to_owned()).filter(|p| !p.is_empty()), opened_on)
        }
        OdsFile::Icbs => {
            let parent = if kind == OrgKind::Icb {
                field(rec, 3)
            } else {
                field(rec, 4)
            };
            (
                Some(parent.to_owned()).filter(|p| !p.is_empty() && *p != code.as_str()),
                opened_on,
            )
        }
        OdsFile::Practices => {
            let setting = field(rec, 26);
            if !setting.is_empty() && setting != "4" {
                return Ok(Parsed::Skipped {
                    line,
                    reason: format!("{code} is not a GP practice (prescribing setting {setting})"),
                });
            }
            match field(rec, 13) {
                "C" => status = OrgStatus::Closed,
                "A" | "D" | "P" | "" => {}
                other => return Err(format!("unknown status code “{other}”")),
            }
            let from = optional_date(rec, 16, "the join parent date")?.or(opened_on);
            (
                Some(field(rec, 15).to_owned()).filter(|p| !p.is_empty()),
                from,
            )
        }
    };
    Ok(Parsed::Row(OdsRow {
        line,
        org: OrgInput {
            code,
            name: name.to_owned(),
            kind,
            status,
            opened_on,
            closed_on,
            postcode,
        },
        parent_code: parent_code.map(|p| p.to_ascii_uppercase()),
        parent_from,
    }))
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub closed: usize,
    pub skipped: usize,
    pub links_made: usize,
    /// Parents named in the file that Wardline does not know yet: (line, child, parent).
    pub parents_unknown: Vec<(usize, String, String)>,
    pub rejected: Vec<Rejection>,
}

impl ImportReport {
    pub fn changed_nothing(&self) -> bool {
        self.created == 0 && self.updated == 0 && self.links_made == 0
    }

    pub fn summary(&self) -> String {
        if self.changed_nothing() && self.rejected.is_empty() {
            return format!(
                "No changes: all {} organisations were already up to date.",
                self.unchanged
            );
        }
        format!(
            "{} created, {} updated ({} closed), {} unchanged, {} parent links made, {} skipped, {} rejected, {} with a parent not yet known.",
            self.created,
            self.updated,
            self.closed,
            self.unchanged,
            self.links_made,
            self.skipped,
            self.rejected.len(),
            self.parents_unknown.len()
        )
    }
}

const BATCH: usize = 500;

/// Stores parsed rows in batches; calls `progress(done, total)` after each batch.
pub async fn apply(
    db: &DatabaseConnection,
    parsed: Vec<Parsed>,
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::default();
    let mut rows = Vec::new();
    for p in parsed {
        match p {
            Parsed::Row(r) => rows.push(r),
            Parsed::Skipped { .. } => report.skipped += 1,
            Parsed::Rejected(r) => report.rejected.push(r),
        }
    }
    // A file can list the same code twice (an amended record): the later line wins.
    let mut last: HashMap<String, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        last.insert(r.org.code.to_string(), i);
    }
    let total = rows.len();
    let mut ids: HashMap<String, i64> = HashMap::new();
    for (n, chunk) in rows.chunks(BATCH).enumerate() {
        let txn = db.begin().await?;
        for (j, row) in chunk.iter().enumerate() {
            if last.get(&row.org.code.to_string()) != Some(&(n * BATCH + j)) {
                continue;
            }
            let before = orgs::find_by_code(&txn, row.org.code.as_str()).await?;
            let was_closed = before
                .as_ref()
                .is_some_and(|b| b.status == OrgStatus::Closed);
            match orgs::upsert(&txn, &row.org).await? {
                Upserted::Created(id) => {
                    report.created += 1;
                    ids.insert(row.org.code.to_string(), id);
                }
                Upserted::Updated(id) => {
                    report.updated += 1;
                    if row.org.status == OrgStatus::Closed && !was_closed {
                        report.closed += 1;
                    }
                    ids.insert(row.org.code.to_string(), id);
                }
                Upserted::Unchanged(id) => {
                    report.unchanged += 1;
                    ids.insert(row.org.code.to_string(), id);
                }
            }
        }
        txn.commit().await?;
        progress(((n + 1) * BATCH).min(total), total);
    }
    // Parents after every organisation exists, so a parent later in the file is found.
    link_parents(db, &rows, &ids, &mut report).await?;
    report.rejected.sort_by_key(|r| r.line);
    Ok(report)
}

/// Links each stored organisation to its parent, in one transaction; unknown parents and
/// refused links are reported, not fatal.
async fn link_parents(
    db: &DatabaseConnection,
    rows: &[OdsRow],
    ids: &HashMap<String, i64>,
    report: &mut ImportReport,
) -> Result<(), AppError> {
    let txn = db.begin().await?;
    let mut parent_ids: HashMap<String, Option<i64>> = HashMap::new();
    for row in rows {
        let (Some(parent), Some(&child)) = (&row.parent_code, ids.get(row.org.code.as_str()))
        else {
            continue;
        };
        let parent_id = match parent_ids.get(parent) {
            Some(known) => *known,
            None => {
                let found = orgs::find_by_code(&txn, parent).await?.map(|o| o.id);
                parent_ids.insert(parent.clone(), found);
                found
            }
        };
        let Some(parent_id) = parent_id else {
            report
                .parents_unknown
                .push((row.line, row.org.code.to_string(), parent.clone()));
            continue;
        };
        let from = row.parent_from.unwrap_or(OffsetDateTime::now_utc().date());
        match orgs::set_parent(&txn, child, parent_id, from).await {
            Ok(true) => report.links_made += 1,
            Ok(false) => {}
            Err(AppError::Invalid(reason)) => report.rejected.push(Rejection {
                line: row.line,
                reason: format!("parent {parent}: {reason}"),
            }),
            Err(e) => return Err(e),
        }
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{db, demo};
    use migrations::{Migrator, MigratorTrait};
    use proptest::prelude::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 28);

    fn practice_line(
        code: &str,
        name: &str,
        status: &str,
        commissioner: &str,
        close: &str,
    ) -> String {
        // 27 columns, as in epraccur.csv.
        format!(
            "\"{code}\",\"{name}\",\"Y56\",\"QKK\",\"1 THE STREET\",\"\",\"LONDON\",\"\",\"\",\"SW9 9AB\",\"19740401\",\"{close}\",\"{status}\",\"B\",\"{commissioner}\",\"20220701\",\"\",\"02071234567\",\"\",\"\",\"\",\"0\",\"\",\"4\",\"\",\"4\",\"\"\r\n"
        )
    }

    #[test]
    fn practices_parse_with_quotes_commas_and_windows_line_endings() {
        let file = practice_line(
            "G85028",
            "STOCKWELL GROUP PRACTICE, LAMBETH",
            "A",
            "72Q",
            "",
        ) + &practice_line("G85999", "OLD PRACTICE", "C", "72Q", "20200101");
        let parsed = parse(OdsFile::Practices, file.as_bytes(), TODAY);
        assert_eq!(parsed.len(), 2);
        let Parsed::Row(row) = &parsed[0] else {
            panic!("{parsed:?}")
        };
        assert_eq!(row.org.name, "STOCKWELL GROUP PRACTICE, LAMBETH");
        assert_eq!(row.org.postcode.as_deref(), Some("SW9 9AB"));
        assert_eq!(row.parent_code.as_deref(), Some("72Q"));
        assert_eq!(row.parent_from, Some(date!(2022 - 07 - 01)));
        let Parsed::Row(closed) = &parsed[1] else {
            panic!()
        };
        assert_eq!(closed.org.status, OrgStatus::Closed);
    }

    #[test]
    fn a_malformed_row_is_rejected_with_its_line_and_reason_and_others_survive() {
        let file = practice_line("G85028", "STOCKWELL", "A", "72Q", "")
            + "\"BAD\",\"NO GOOD\"\r\n"
            + &practice_line("NOTACODE", "X", "A", "72Q", "")
            + &practice_line("G85054", "LAMBETH WALK", "A", "72Q", "2099XX01");
        let parsed = parse(OdsFile::Practices, file.as_bytes(), TODAY);
        let rejected: Vec<_> = parsed
            .iter()
            .filter_map(|p| {
                if let Parsed::Rejected(r) = p {
                    Some(r.line)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(rejected, [2, 3, 4]);
        assert!(matches!(parsed[0], Parsed::Row(_)));
        let Parsed::Rejected(r) = &parsed[3] else {
            panic!()
        };
        assert!(r.reason.contains("2099XX01"), "{}", r.reason);
    }

    #[test]
    fn other_prescribing_settings_are_skipped_not_rejected() {
        let line = practice_line("Y01234", "WALK-IN CENTRE", "A", "72Q", "")
            .replace(",\"4\",\"\"\r\n", ",\"1\",\"\"\r\n");
        let parsed = parse(OdsFile::Practices, line.as_bytes(), TODAY);
        assert!(matches!(parsed[0], Parsed::Skipped { .. }), "{parsed:?}");
    }

    #[test]
    fn trusts_and_icbs_find_their_parents() {
        let etr = "\"RJ1\",\"GUY'S AND ST THOMAS' NHS FOUNDATION TRUST\",\"Y56\",\"QKK\",\"ST THOMAS' HOSPITAL\",\"WESTMINSTER BRIDGE ROAD\",\"LONDON\",\"\",\"\",\"SE1 7EH\",\"19930401\",\"\",\"\",\"\",\"\",\"\",\"\",\"02071887188\",\"\",\"\",\"\",\"0\",\"\",\"\",\"\",\"\",\"\"\n";
        let Parsed::Row(t) = &parse(OdsFile::Trusts, etr.as_bytes(), TODAY)[0] else {
            panic!()
        };
        assert_eq!(t.parent_code.as_deref(), Some("QKK"));
        let eccg = "\"QKK\",\"NHS SOUTH EAST LONDON INTEGRATED CARE BOARD\",\"Y56\",\"Y56\",\"\",\"\",\"\",\"\",\"\",\"SE1 2TZ\",\"20220701\",\"\",\"\",\"E\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"0\",\"\",\"\",\"\",\"\",\"\"\n\
                    \"72Q\",\"NHS SOUTH EAST LONDON ICB - 72Q\",\"Y56\",\"QKK\",\"\",\"\",\"\",\"\",\"\",\"SE1 2TZ\",\"20200401\",\"\",\"\",\"C\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"0\",\"\",\"\",\"\",\"\",\"\"\n";
        let parsed = parse(OdsFile::Icbs, eccg.as_bytes(), TODAY);
        let Parsed::Row(icb) = &parsed[0] else {
            panic!()
        };
        let Parsed::Row(sub) = &parsed[1] else {
            panic!()
        };
        assert_eq!(
            (icb.org.kind, icb.parent_code.as_deref()),
            (OrgKind::Icb, Some("Y56"))
        );
        assert_eq!(
            (sub.org.kind, sub.parent_code.as_deref()),
            (OrgKind::SubIcb, Some("QKK"))
        );
    }

    #[tokio::test]
    async fn importing_twice_changes_nothing_and_changed_rows_update_in_place() {
        let conn = db::connect(&db::scratch("sqlite::memory:").await)
            .await
            .unwrap();
        Migrator::up(&conn, None).await.unwrap();
        demo::load(&conn).await.unwrap();
        let file = practice_line("G85028", "STOCKWELL GROUP PRACTICE", "A", "72Q", "")
            + &practice_line("G85777", "NEW PRACTICE", "A", "72Q", "")
            + &practice_line("G85888", "ORPHAN PRACTICE", "A", "99Z", "");
        let first = apply(
            &conn,
            parse(OdsFile::Practices, file.as_bytes(), TODAY),
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!((first.created, first.updated), (2, 1), "{first:?}");
        assert_eq!(
            first.parents_unknown,
            vec![(3, "G85888".to_string(), "99Z".to_string())]
        );
        let second = apply(
            &conn,
            parse(OdsFile::Practices, file.as_bytes(), TODAY),
            |_, _| {},
        )
        .await
        .unwrap();
        assert!(second.changed_nothing(), "{second:?}");
        assert!(second.summary().starts_with("No changes"));
        let closed = practice_line("G85777", "NEW PRACTICE", "C", "72Q", "20261101");
        let third = apply(
            &conn,
            parse(OdsFile::Practices, closed.as_bytes(), TODAY),
            |_, _| {},
        )
        .await
        .unwrap();
        assert_eq!((third.updated, third.closed), (1, 1));
        let page = orgs::detail(&conn, "G85777").await.unwrap();
        assert_eq!(page.org.status, OrgStatus::Closed);
        assert_eq!(
            page.parent.unwrap().code,
            "72Q",
            "history and links are kept"
        );
    }

    proptest! {
        #[test]
        fn the_parser_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            for file in [OdsFile::Trusts, OdsFile::Icbs, OdsFile::Practices] {
                let _ = parse(file, &bytes, TODAY);
            }
        }

        #[test]
        fn the_parser_never_panics_on_csv_shaped_text(
            fields in proptest::collection::vec(proptest::collection::vec("[A-Z0-9 ,\"\\r\\n]{0,12}", 0..30), 0..20)
        ) {
            let text: String = fields.iter().map(|f| f.join(",") + "\r\n").collect();
            for file in [OdsFile::Trusts, OdsFile::Icbs, OdsFile::Practices] {
                let _ = parse(file, text.as_bytes(), TODAY);
            }
        }
    }
}
