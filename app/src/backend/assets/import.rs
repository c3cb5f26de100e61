//! Importing a catalogue of assets from CSV: rows read and checked, owners and suppliers
//! resolved, assets added or updated, dependencies linked.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use time::OffsetDateTime;

use crate::backend::access::{self, User};
use crate::backend::assignments::in_force_at;
use crate::backend::entity::{asset, asset_dependency, assignment, organisation};
use crate::backend::{audit, orgs, people};
use crate::domain::assets::{AssetImportReport, AssetRow, COLUMNS, parse_row};
use crate::domain::org::OrgKind;
use crate::error::AppError;

/// Imports a CSV (with the header row) into an organisation's catalogue; its admins only.
/// Rows are matched by name: new ones added, changed ones updated, the rest left alone.
pub async fn import_csv(
    db: &DatabaseConnection,
    user: &User,
    org_code: &str,
    text: &str,
) -> Result<AssetImportReport, AppError> {
    let org = access::org_in_reach(db, user, org_code, access::Action::Administer).await?;
    if text.len() > 5_000_000 {
        return Err(AppError::Invalid("Keep an import to 5 MB.".into()));
    }
    let mut report = AssetImportReport::default();
    let rows = read_rows(text, &mut report)?;
    let allowed = Allowed::at(db, &org).await?;
    let now = OffsetDateTime::now_utc();
    let txn = db.begin().await?;
    let mut stored: HashMap<String, i64> = asset::Entity::find()
        .filter(asset::Column::OrgId.eq(org.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|a| (a.name.to_lowercase(), a.id))
        .collect();
    let mut wanted_deps = Vec::new();
    for (line, row) in rows {
        let links = match allowed.resolve(&txn, &org, &row).await? {
            Ok(links) => links,
            Err(why) => {
                report.rejected.push((line, why));
                continue;
            }
        };
        let id = upsert(&txn, org.id, &mut stored, &row, links, now, &mut report).await?;
        wanted_deps.push((line, id, row.name, row.depends_on));
    }
    // Dependencies last, so a row may name an asset further down the file.
    for (line, id, name, deps) in wanted_deps {
        link_dependencies(&txn, &stored, line, id, &name, &deps, &mut report).await?;
    }
    audit::record(
        &txn,
        audit::Event {
            actor: Some(user.person_id),
            action: "assets_imported",
            org: Some(org.id),
            subject: Some(org.code.clone()),
            detail: Some(format!(
                "{} added, {} updated, {} unchanged, {} lines refused",
                report.added,
                report.updated,
                report.unchanged,
                report.rejected.len()
            )),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    report.rejected.sort();
    Ok(report)
}

/// The file's rows that pass every check needing no database, each with its line number;
/// the others go to the report. The first line must name `COLUMNS`.
fn read_rows(
    text: &str,
    report: &mut AssetImportReport,
) -> Result<Vec<(usize, AssetRow)>, AppError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|_| AppError::Invalid("The file is not CSV.".into()))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if header != COLUMNS {
        return Err(AppError::Invalid(format!(
            "The first line must name the columns: {}.",
            COLUMNS.join(",")
        )));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        match record {
            Ok(r) => {
                let fields: Vec<String> = r.iter().map(str::to_owned).collect();
                match parse_row(&fields) {
                    Ok(row) => rows.push((line, row)),
                    Err(why) => report.rejected.push((line, why)),
                }
            }
            Err(e) => report
                .rejected
                .push((line, format!("not readable as CSV: {e}"))),
        }
    }
    Ok(rows)
}

/// Who and what an organisation's assets may name: owners holding a role at the
/// organisation or above it, and sites below it.
struct Allowed {
    holders: HashSet<i64>,
    below: HashSet<i64>,
}

/// What a row's owner, supplier and site codes name.
struct Links {
    owner: Option<i64>,
    supplier: Option<i64>,
    site: Option<i64>,
}

impl Allowed {
    async fn at(db: &impl ConnectionTrait, org: &organisation::Model) -> Result<Self, AppError> {
        let chain = orgs::chain(db, org.id).await?;
        let holders = assignment::Entity::find()
            .filter(assignment::Column::OrgId.is_in(chain))
            .filter(in_force_at(OffsetDateTime::now_utc()))
            .all(db)
            .await?
            .into_iter()
            .map(|a| a.person_id)
            .collect();
        let below = access::subtree(db, &[org.id]).await?;
        Ok(Self { holders, below })
    }

    /// The row's owner, supplier and site, or why the row is refused.
    async fn resolve(
        &self,
        db: &impl ConnectionTrait,
        org: &organisation::Model,
        row: &AssetRow,
    ) -> Result<Result<Links, String>, AppError> {
        let owner = match &row.owner_email {
            None => None,
            Some(email) => match people::find_by_email(db, email).await? {
                Some(p) if self.holders.contains(&p.id) => Some(p.id),
                // One answer whether or not the address exists: it tells nothing about people.
                _ => {
                    return Ok(Err(format!(
                        "owner_email: {email} is not someone holding a role at {} or above it",
                        org.name
                    )));
                }
            },
        };
        let supplier = match &row.supplier_code {
            None => None,
            Some(code) => match orgs::find_by_code(db, code).await? {
                Some(s) if s.summary().kind == OrgKind::Supplier => Some(s.id),
                _ => return Ok(Err(format!("supplier_code: {code} is not a supplier"))),
            },
        };
        let site = match &row.site_code {
            None => None,
            Some(code) => match orgs::find_by_code(db, code).await? {
                Some(s) if self.below.contains(&s.id) => Some(s.id),
                _ => {
                    return Ok(Err(format!(
                        "site_code: {code} is not a site of {}",
                        org.name
                    )));
                }
            },
        };
        Ok(Ok(Links {
            owner,
            supplier,
            site,
        }))
    }
}

/// Adds the row's asset, or updates the stored one of the same name (counted unchanged when
/// nothing differs); its id.
async fn upsert(
    db: &impl ConnectionTrait,
    org_id: i64,
    stored: &mut HashMap<String, i64>,
    row: &AssetRow,
    links: Links,
    now: OffsetDateTime,
    report: &mut AssetImportReport,
) -> Result<i64, AppError> {
    let Links {
        owner,
        supplier,
        site,
    } = links;
    let existing = match stored.get(&row.name.to_lowercase()) {
        Some(id) => asset::Entity::find_by_id(*id).one(db).await?,
        None => None,
    };
    let Some(a) = existing else {
        let a = asset::ActiveModel {
            org_id: Set(org_id),
            name: Set(row.name.clone()),
            kind: Set(row.kind.clone()),
            owner_id: Set(owner),
            supplier_id: Set(supplier),
            clinical_service: Set(row.clinical_service.clone()),
            patient_safety_critical: Set(row.patient_safety_critical),
            os: Set(row.os.clone()),
            os_version: Set(row.os_version.clone()),
            end_of_support: Set(row.end_of_support),
            site_id: Set(site),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        stored.insert(row.name.to_lowercase(), a.id);
        report.added += 1;
        return Ok(a.id);
    };
    let same = a.kind == row.kind
        && a.owner_id == owner
        && a.supplier_id == supplier
        && a.clinical_service == row.clinical_service
        && a.patient_safety_critical == row.patient_safety_critical
        && a.os == row.os
        && a.os_version == row.os_version
        && a.end_of_support == row.end_of_support
        && a.site_id == site;
    let id = a.id;
    if same {
        report.unchanged += 1;
        return Ok(id);
    }
    let mut m: asset::ActiveModel = a.into();
    m.kind = Set(row.kind.clone());
    m.owner_id = Set(owner);
    m.supplier_id = Set(supplier);
    m.clinical_service = Set(row.clinical_service.clone());
    m.patient_safety_critical = Set(row.patient_safety_critical);
    m.os = Set(row.os.clone());
    m.os_version = Set(row.os_version.clone());
    m.end_of_support = Set(row.end_of_support);
    m.site_id = Set(site);
    m.updated_at = Set(now);
    m.update(db).await?;
    report.updated += 1;
    Ok(id)
}

/// Replaces asset `id`'s dependencies with the assets named in `deps`; names that match no
/// asset, or the asset itself, go to the report (the rest of the row is kept).
async fn link_dependencies(
    db: &impl ConnectionTrait,
    stored: &HashMap<String, i64>,
    line: usize,
    id: i64,
    name: &str,
    deps: &[String],
    report: &mut AssetImportReport,
) -> Result<(), AppError> {
    asset_dependency::Entity::delete_many()
        .filter(asset_dependency::Column::AssetId.eq(id))
        .exec(db)
        .await?;
    for d in deps {
        match stored.get(&d.to_lowercase()) {
            Some(on) if *on != id => {
                asset_dependency::ActiveModel {
                    asset_id: Set(id),
                    depends_on_id: Set(*on),
                    ..Default::default()
                }
                .insert(db)
                .await?;
            }
            Some(_) => report
                .rejected
                .push((line, format!("depends_on: {name} cannot depend on itself"))),
            None => report.rejected.push((
                line,
                format!("depends_on: no asset called “{d}” (the rest of the row was kept)"),
            )),
        }
    }
    Ok(())
}
