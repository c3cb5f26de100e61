//! The asset catalogue: read per organisation, imported and exported as CSV with a report of
//! every line refused and why. Good rows are kept; a bad row changes nothing.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use time::OffsetDateTime;

use super::access::{self, User};
use super::entity::{asset, asset_dependency, incident, incident_asset, organisation, person};
use super::orgs;
use crate::domain::assets::{
    AssetDetail, AssetIncident, AssetRef, AssetView, COLUMNS, Catalogue, DeclareOptions, KINDS,
    support,
};
use crate::domain::incidents::IncidentKind;
use crate::domain::org::OrgKind;
use crate::error::AppError;

mod import;

pub use import::import_csv;

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
