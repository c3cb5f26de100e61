//! The asset catalogue: read per organisation, imported and exported as CSV with a report of
//! every line refused and why. Good rows are kept; a bad row changes nothing.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use time::OffsetDateTime;

use super::access::{self, User};
use super::assignments::in_force_at;
use super::entity::{
    asset, asset_dependency, assignment, incident, incident_asset, organisation, person,
};
use super::{audit, orgs};
use crate::domain::assets::{
    AssetDetail, AssetImportReport, AssetIncident, AssetRef, AssetRow, AssetView, COLUMNS,
    Catalogue, DeclareOptions, KINDS, parse_row, support,
};
use crate::domain::incidents::IncidentKind;
use crate::domain::org::OrgKind;
use crate::error::AppError;

async fn readable_org(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: &str,
) -> Result<organisation::Model, AppError> {
    let org = orgs::find_by_code(db, org_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access::within(&access::readable_orgs(db, user).await?, org.id) {
        return Err(AppError::NotFound);
    }
    Ok(org)
}

fn date(d: time::Date) -> String {
    d.format(time::macros::format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// An organisation's catalogue, with support flags as of today.
pub async fn catalogue(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: &str,
) -> Result<Catalogue, AppError> {
    let org = orgs::find_by_code(db, org_code)
        .await?
        .ok_or(AppError::NotFound)?;
    let readable = access::readable_orgs(db, user).await?;
    // A supplier's page is open to everyone signed in, for what depends on it within
    // their own scope; its own catalogue only to those who may read the supplier.
    let own = access::within(&readable, org.id);
    if !own && org.summary().kind != OrgKind::Supplier {
        return Err(AppError::NotFound);
    }
    let assets = if own {
        asset::Entity::find()
            .filter(asset::Column::OrgId.eq(org.id))
            .order_by_asc(asset::Column::Name)
            .all(db)
            .await?
    } else {
        Vec::new()
    };
    let editable = own
        && !user.is_read_only_user()
        && access::within(&access::administered_orgs(db, user).await?, org.id);
    let supplied = refs(
        db,
        asset::Entity::find()
            .filter(asset::Column::SupplierId.eq(org.id))
            .order_by_asc(asset::Column::Name)
            .all(db)
            .await?
            .into_iter()
            .filter(|a| access::within(&readable, a.org_id))
            .collect(),
    )
    .await?;
    Ok(Catalogue {
        supplied,
        org_code: org.code,
        org_name: org.name,
        editable,
        assets: views(db, assets).await?,
    })
}

/// Assets as the catalogue shows them: owner, supplier and site by name, what each depends
/// on, and support as of today. A few queries, however many assets.
async fn views(
    db: &impl ConnectionTrait,
    assets: Vec<asset::Model>,
) -> Result<Vec<AssetView>, AppError> {
    let deps = asset_dependency::Entity::find()
        .filter(
            asset_dependency::Column::AssetId
                .is_in(assets.iter().map(|a| a.id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?;
    let names: HashMap<i64, String> = asset::Entity::find()
        .filter(asset::Column::Id.is_in(deps.iter().map(|d| d.depends_on_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let people: HashMap<i64, String> = person::Entity::find()
        .filter(
            person::Column::Id.is_in(assets.iter().filter_map(|a| a.owner_id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.display_name))
        .collect();
    let org_ids: Vec<i64> = assets
        .iter()
        .flat_map(|a| [a.supplier_id, a.site_id])
        .flatten()
        .collect();
    let org_names: HashMap<i64, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(org_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let today = OffsetDateTime::now_utc().date();
    Ok(assets
        .into_iter()
        .map(|a| AssetView {
            id: a.id,
            kind: KINDS
                .iter()
                .find(|k| k.0 == a.kind)
                .map(|k| k.1.to_owned())
                .unwrap_or(a.kind.clone()),
            owner: a.owner_id.and_then(|p| people.get(&p).cloned()),
            supplier: a.supplier_id.and_then(|s| org_names.get(&s).cloned()),
            site: a.site_id.and_then(|s| org_names.get(&s).cloned()),
            clinical_service: a.clinical_service.clone(),
            patient_safety_critical: a.patient_safety_critical,
            os: format!("{} {}", a.os, a.os_version).trim().to_owned(),
            end_of_support: a.end_of_support.map(date),
            support: support(a.end_of_support, today),
            depends_on: deps
                .iter()
                .filter(|d| d.asset_id == a.id)
                .filter_map(|d| names.get(&d.depends_on_id).cloned())
                .collect(),
            name: a.name,
        })
        .collect())
}

/// Names and flags for assets, with their organisations, in the order given.
pub async fn refs(
    db: &impl ConnectionTrait,
    assets: Vec<asset::Model>,
) -> Result<Vec<AssetRef>, AppError> {
    let orgs: HashMap<i64, (String, String)> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(assets.iter().map(|a| a.org_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, (o.code, o.name)))
        .collect();
    let today = OffsetDateTime::now_utc().date();
    Ok(assets
        .into_iter()
        .map(|a| {
            let (org_code, org_name) = orgs.get(&a.org_id).cloned().unwrap_or_default();
            AssetRef {
                id: a.id,
                support: support(a.end_of_support, today),
                name: a.name,
                org_code,
                org_name,
                patient_safety_critical: a.patient_safety_critical,
            }
        })
        .collect())
}

/// The assets a declaration can name: the catalogue of the organisation a declaration by
/// this person goes to when they do not choose one (their first grant).
pub async fn declare_options(
    db: &impl ConnectionTrait,
    user: &User,
) -> Result<DeclareOptions, AppError> {
    let Some((org_id, _)) = user.grants.first() else {
        return Ok(DeclareOptions::default());
    };
    let Some(org) = organisation::Entity::find_by_id(*org_id).one(db).await? else {
        return Ok(DeclareOptions::default());
    };
    Ok(DeclareOptions {
        org_name: org.name.clone(),
        assets: of_orgs(db, &[org.id]).await?,
    })
}

/// Every asset of these organisations, by name.
pub async fn of_orgs(db: &impl ConnectionTrait, orgs: &[i64]) -> Result<Vec<AssetRef>, AppError> {
    refs(
        db,
        asset::Entity::find()
            .filter(asset::Column::OrgId.is_in(orgs.to_vec()))
            .order_by_asc(asset::Column::Name)
            .all(db)
            .await?,
    )
    .await
}

/// The assets linked to an incident, by name.
pub async fn of_incident(
    db: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Vec<AssetRef>, AppError> {
    let ids: Vec<i64> = incident_asset::Entity::find()
        .filter(incident_asset::Column::IncidentId.eq(incident_id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.asset_id)
        .collect();
    refs(
        db,
        asset::Entity::find()
            .filter(asset::Column::Id.is_in(ids))
            .order_by_asc(asset::Column::Name)
            .all(db)
            .await?,
    )
    .await
}

/// One asset's page, for anyone who may read its organisation.
pub async fn detail(
    db: &impl ConnectionTrait,
    user: &User,
    id: i64,
) -> Result<AssetDetail, AppError> {
    let a = asset::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let readable = access::readable_orgs(db, user).await?;
    if !access::within(&readable, a.org_id) {
        return Err(AppError::NotFound);
    }
    let org = organisation::Entity::find_by_id(a.org_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let view = views(db, vec![a.clone()])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let deps = asset_dependency::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(asset_dependency::Column::AssetId.eq(id))
                .add(asset_dependency::Column::DependsOnId.eq(id)),
        )
        .all(db)
        .await?;
    let pick = |ids: Vec<i64>| {
        asset::Entity::find()
            .filter(asset::Column::Id.is_in(ids))
            .order_by_asc(asset::Column::Name)
            .all(db)
    };
    let depends_on = refs(
        db,
        pick(
            deps.iter()
                .filter(|d| d.asset_id == id)
                .map(|d| d.depends_on_id)
                .collect(),
        )
        .await?,
    )
    .await?;
    let needed_by = refs(
        db,
        pick(
            deps.iter()
                .filter(|d| d.depends_on_id == id)
                .map(|d| d.asset_id)
                .collect(),
        )
        .await?
        .into_iter()
        .filter(|n| access::within(&readable, n.org_id))
        .collect(),
    )
    .await?;
    let incidents = incidents_of(db, id, &readable).await?;
    Ok(AssetDetail {
        org_code: org.code,
        org_name: org.name,
        asset: view,
        depends_on,
        needed_by,
        incidents,
    })
}

/// The incidents asset `id` was tied to that the reader may see, newest first.
async fn incidents_of(
    db: &impl ConnectionTrait,
    id: i64,
    readable: &Option<HashSet<i64>>,
) -> Result<Vec<AssetIncident>, AppError> {
    let links: Vec<i64> = incident_asset::Entity::find()
        .filter(incident_asset::Column::AssetId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.incident_id)
        .collect();
    Ok(incident::Entity::find()
        .filter(incident::Column::Id.is_in(links))
        .order_by_desc(incident::Column::DeclaredAt)
        .all(db)
        .await?
        .into_iter()
        .filter(|i| access::within(readable, i.org_id))
        .map(|i| AssetIncident {
            kind: IncidentKind::parse(&i.kind)
                .map(|k| k.title().to_owned())
                .unwrap_or(i.kind.clone()),
            status: i.status.as_str().replace('_', " "),
            declared_at: crate::domain::dates::moment(i.declared_at),
            reference: i.reference,
        })
        .collect())
}

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
            Some(email) => match super::people::find_by_email(db, email).await? {
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

/// The catalogue as CSV, in the import's columns (so an export imports back unchanged).
pub async fn export_csv(
    db: &impl ConnectionTrait,
    user: &User,
    org_code: &str,
) -> Result<String, AppError> {
    let org = readable_org(db, user, org_code).await?;
    let assets = asset::Entity::find()
        .filter(asset::Column::OrgId.eq(org.id))
        .order_by_asc(asset::Column::Name)
        .all(db)
        .await?;
    let names: HashMap<i64, String> = assets.iter().map(|a| (a.id, a.name.clone())).collect();
    let deps = asset_dependency::Entity::find()
        .filter(
            asset_dependency::Column::AssetId
                .is_in(assets.iter().map(|a| a.id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?;
    let emails: HashMap<i64, String> = person::Entity::find()
        .filter(
            person::Column::Id.is_in(assets.iter().filter_map(|a| a.owner_id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.email))
        .collect();
    let codes: HashMap<i64, String> = organisation::Entity::find()
        .filter(
            organisation::Column::Id.is_in(
                assets
                    .iter()
                    .flat_map(|a| [a.supplier_id, a.site_id])
                    .flatten()
                    .collect::<Vec<_>>(),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.code))
        .collect();
    let mut sheet = super::csv::Sheet::new(COLUMNS)?;
    for a in &assets {
        let on: Vec<String> = deps
            .iter()
            .filter(|d| d.asset_id == a.id)
            .filter_map(|d| names.get(&d.depends_on_id).cloned())
            .collect();
        let record = [
            a.name.clone(),
            a.kind.clone(),
            a.owner_id
                .and_then(|p| emails.get(&p).cloned())
                .unwrap_or_default(),
            a.supplier_id
                .and_then(|s| codes.get(&s).cloned())
                .unwrap_or_default(),
            a.clinical_service.clone(),
            if a.patient_safety_critical {
                "yes"
            } else {
                "no"
            }
            .to_owned(),
            a.os.clone(),
            a.os_version.clone(),
            a.end_of_support.map(date).unwrap_or_default(),
            a.site_id
                .and_then(|s| codes.get(&s).cloned())
                .unwrap_or_default(),
            on.join("; "),
        ];
        sheet.safe_row(&record)?;
    }
    sheet.finish()
}
