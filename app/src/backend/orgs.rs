//! Organisations: the tree, one organisation's page, and the writes that keep history
//! (a parent change closes the old link rather than overwriting it).

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use time::{Date, OffsetDateTime};

use super::entity::{org_link, organisation, supplier_service};
use crate::domain::org::{
    OdsCode, OrgDetail, OrgKind, OrgStatus, OrgTree, ParentPeriod, ServiceLink, SupplierEntry,
};
use crate::domain::tree;
use crate::error::AppError;

/// What is needed to create or refresh an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgInput {
    pub code: OdsCode,
    pub name: String,
    pub kind: OrgKind,
    pub status: OrgStatus,
    pub opened_on: Option<Date>,
    pub closed_on: Option<Date>,
    pub postcode: Option<String>,
}

/// Whether an upsert created, changed or left alone the stored organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created(i64),
    Updated(i64),
    Unchanged(i64),
}

impl Upserted {
    pub fn id(self) -> i64 {
        match self {
            Upserted::Created(id) | Upserted::Updated(id) | Upserted::Unchanged(id) => id,
        }
    }
}

/// How many organisations the map shows at most; the rest are counted and on their
/// organisations' pages.
pub const MAP_SHOWS: usize = 500;
/// How many clients the map lists under each supplier.
pub const MAP_CLIENTS: usize = 20;

/// The organisation map, or the part of it matching `query`: never the whole country at
/// once (whole levels from the top while they fit in [`MAP_SHOWS`]).
#[tracing::instrument(skip_all, err)]
pub async fn tree(db: &impl ConnectionTrait, query: &str) -> Result<OrgTree, AppError> {
    let query = query.trim();
    if query.chars().count() > 100 {
        return Err(AppError::Invalid(
            "Search with at most 100 characters.".into(),
        ));
    }
    let orgs = organisation::Entity::find().all(db).await?;
    let links = org_link::Entity::find()
        .filter(org_link::Column::ValidTo.is_null())
        .all(db)
        .await?;
    let services = supplier_service::Entity::find()
        .filter(supplier_service::Column::ValidTo.is_null())
        .all(db)
        .await?;

    let by_id: HashMap<i64, &organisation::Model> = orgs.iter().map(|o| (o.id, o)).collect();
    let mut suppliers: Vec<SupplierEntry> = orgs
        .iter()
        .filter(|o| o.kind == OrgKind::Supplier.as_str())
        .map(|s| {
            let mut serves: Vec<ServiceLink> = services
                .iter()
                .filter(|l| l.supplier_id == s.id)
                .filter_map(|l| {
                    by_id.get(&l.client_id).map(|c| ServiceLink {
                        org: c.summary(),
                        service: l.service.clone(),
                    })
                })
                .collect();
            serves.sort_by(|a, b| a.org.name.cmp(&b.org.name));
            let more = serves.len().saturating_sub(MAP_CLIENTS);
            serves.truncate(MAP_CLIENTS);
            SupplierEntry {
                supplier: s.summary(),
                serves,
                more,
            }
        })
        .collect();
    suppliers.sort_by(|a, b| a.supplier.name.cmp(&b.supplier.name));

    let hierarchy: Vec<_> = orgs
        .iter()
        .filter(|o| o.kind != OrgKind::Supplier.as_str())
        .map(|o| (o.id, o.summary()))
        .collect();
    let pairs: Vec<(i64, i64)> = links.iter().map(|l| (l.child_id, l.parent_id)).collect();
    let whole = tree::build(hierarchy, &pairs);
    let total = tree::count(&whole);
    let (roots, matched) = if query.is_empty() {
        (tree::prune(whole, MAP_SHOWS), None)
    } else {
        let found = tree::filter(&whole, query);
        let matched = tree::count_matching(&found, query);
        suppliers.retain(|s| tree::matches(&s.supplier, query));
        (tree::prune(found, MAP_SHOWS), Some(matched))
    };
    Ok(OrgTree {
        roots,
        suppliers,
        total,
        matched,
    })
}

pub async fn find_by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<organisation::Model>, AppError> {
    let code = code.trim().to_ascii_uppercase();
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Code.eq(code))
        .one(db)
        .await?)
}

/// An organisation's page: its detail with one page (`ORG_PAGE_SIZE`) of its children and
/// of its clients, never thousands at once, and the totals of both.
pub async fn detail_page(
    db: &impl ConnectionTrait,
    code: &str,
    page: Option<u64>,
) -> Result<OrgDetail, AppError> {
    use crate::domain::org::ORG_PAGE_SIZE;
    let mut d = detail(db, code).await?;
    let pages = |n: usize| n.div_ceil(ORG_PAGE_SIZE).max(1) as u64;
    d.children_total = d.children.len();
    d.clients_total = d.clients.len();
    d.page = page
        .unwrap_or(1)
        .clamp(1, pages(d.children_total).max(pages(d.clients_total)));
    let skip = (d.page as usize - 1) * ORG_PAGE_SIZE;
    d.children = d
        .children
        .drain(..)
        .skip(skip)
        .take(ORG_PAGE_SIZE)
        .collect();
    d.clients = d.clients.drain(..).skip(skip).take(ORG_PAGE_SIZE).collect();
    Ok(d)
}

#[tracing::instrument(skip_all, err)]
pub async fn detail(db: &impl ConnectionTrait, code: &str) -> Result<OrgDetail, AppError> {
    let org = find_by_code(db, code).await?.ok_or(AppError::NotFound)?;

    let parent_links = org_link::Entity::find()
        .filter(org_link::Column::ChildId.eq(org.id))
        .order_by_desc(org_link::Column::ValidFrom)
        .all(db)
        .await?;
    let child_links = org_link::Entity::find()
        .filter(org_link::Column::ParentId.eq(org.id))
        .filter(org_link::Column::ValidTo.is_null())
        .all(db)
        .await?;
    let services = supplier_service::Entity::find()
        .filter(
            Condition::any()
                .add(supplier_service::Column::SupplierId.eq(org.id))
                .add(supplier_service::Column::ClientId.eq(org.id)),
        )
        .filter(supplier_service::Column::ValidTo.is_null())
        .all(db)
        .await?;

    let mut wanted: Vec<i64> = parent_links.iter().map(|l| l.parent_id).collect();
    wanted.extend(child_links.iter().map(|l| l.child_id));
    wanted.extend(services.iter().flat_map(|s| [s.supplier_id, s.client_id]));
    let others: HashMap<i64, organisation::Model> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(wanted))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let summary = |id: i64| others.get(&id).map(organisation::Model::summary);

    let parent_history: Vec<ParentPeriod> = parent_links
        .iter()
        .filter_map(|l| {
            Some(ParentPeriod {
                parent: summary(l.parent_id)?,
                from: l.valid_from,
                to: l.valid_to,
            })
        })
        .collect();
    let parent = parent_links
        .iter()
        .find(|l| l.valid_to.is_none())
        .and_then(|l| summary(l.parent_id));
    let mut children: Vec<_> = child_links
        .iter()
        .filter_map(|l| summary(l.child_id))
        .collect();
    children.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    let link = |id: i64, service: &str| {
        summary(id).map(|org| ServiceLink {
            org,
            service: service.to_owned(),
        })
    };
    let suppliers = services
        .iter()
        .filter(|s| s.client_id == org.id)
        .filter_map(|s| link(s.supplier_id, &s.service))
        .collect();
    let clients = services
        .iter()
        .filter(|s| s.supplier_id == org.id)
        .filter_map(|s| link(s.client_id, &s.service))
        .collect();

    Ok(OrgDetail {
        org: org.summary(),
        opened_on: org.opened_on,
        closed_on: org.closed_on,
        postcode: org.postcode.clone(),
        parent,
        parent_history,
        children,
        suppliers,
        clients,
        essential_service: org.essential_service,
        can_designate: false,
        page: 1,
        children_total: 0,
        clients_total: 0,
    })
}

/// Creates the organisation, or brings the stored one up to date; says which.
#[tracing::instrument(skip_all, err, fields(code = %input.code))]
pub async fn upsert(db: &impl ConnectionTrait, input: &OrgInput) -> Result<Upserted, AppError> {
    let now = OffsetDateTime::now_utc();
    match find_by_code(db, input.code.as_str()).await? {
        None => {
            let row = organisation::ActiveModel {
                code: Set(input.code.to_string()),
                name: Set(input.name.clone()),
                kind: Set(input.kind.as_str().to_owned()),
                status: Set(input.status),
                opened_on: Set(input.opened_on),
                closed_on: Set(input.closed_on),
                postcode: Set(input.postcode.clone()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
            Ok(Upserted::Created(row.id))
        }
        Some(existing) => {
            let same = existing.name == input.name
                && existing.kind == input.kind.as_str()
                && existing.status == input.status
                && existing.opened_on == input.opened_on
                && existing.closed_on == input.closed_on
                && existing.postcode == input.postcode;
            if same {
                return Ok(Upserted::Unchanged(existing.id));
            }
            let id = existing.id;
            let mut row: organisation::ActiveModel = existing.into();
            row.name = Set(input.name.clone());
            row.kind = Set(input.kind.as_str().to_owned());
            row.status = Set(input.status);
            row.opened_on = Set(input.opened_on);
            row.closed_on = Set(input.closed_on);
            row.postcode = Set(input.postcode.clone());
            row.updated_at = Set(now);
            row.update(db).await?;
            Ok(Upserted::Updated(id))
        }
    }
}

/// Puts `child` under `parent` from `from`. A current link to another parent is closed on
/// that date, so the history keeps where the organisation used to sit. Returns whether
/// anything changed.
#[tracing::instrument(skip_all, err)]
pub async fn set_parent(
    db: &impl ConnectionTrait,
    child_id: i64,
    parent_id: i64,
    from: Date,
) -> Result<bool, AppError> {
    if child_id == parent_id {
        return Err(AppError::Invalid(
            "An organisation cannot be its own parent.".into(),
        ));
    }
    let current = org_link::Entity::find()
        .filter(org_link::Column::ChildId.eq(child_id))
        .filter(org_link::Column::ValidTo.is_null())
        .one(db)
        .await?;
    // Already there: nothing to check or change (the common case on re-import).
    if current.as_ref().is_some_and(|l| l.parent_id == parent_id) {
        return Ok(false);
    }
    let child = organisation::Entity::find_by_id(child_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let parent = organisation::Entity::find_by_id(parent_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let (child_kind, parent_kind) = (child.summary().kind, parent.summary().kind);
    if !child_kind.may_have_parent(parent_kind) {
        return Err(AppError::Invalid(format!(
            "A {} cannot sit under a {}.",
            child_kind.label().to_lowercase(),
            parent_kind.label().to_lowercase()
        )));
    }
    if ancestors(db, parent_id).await?.contains(&child_id) {
        return Err(AppError::Invalid(format!(
            "{} is below {} already; the move would make a loop.",
            parent.name, child.name
        )));
    }
    if let Some(link) = current {
        let mut link: org_link::ActiveModel = link.into();
        link.valid_to = Set(Some(from));
        link.update(db).await?;
    }
    org_link::ActiveModel {
        child_id: Set(child_id),
        parent_id: Set(parent_id),
        valid_from: Set(from),
        valid_to: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(true)
}

/// The current ancestors of an organisation, nearest first.
pub async fn ancestors(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<i64>, AppError> {
    let mut chain = Vec::new();
    let mut at = org_id;
    // The depth of the NHS tree is small; the bound stops a corrupt cycle from spinning.
    for _ in 0..16 {
        let link = org_link::Entity::find()
            .filter(org_link::Column::ChildId.eq(at))
            .filter(org_link::Column::ValidTo.is_null())
            .one(db)
            .await?;
        match link {
            Some(l) if !chain.contains(&l.parent_id) && l.parent_id != org_id => {
                chain.push(l.parent_id);
                at = l.parent_id;
            }
            _ => break,
        }
    }
    Ok(chain)
}

/// The organisation and its ancestors, nearest first, in one recursive query (portable:
/// SQLite and PostgreSQL both run `WITH RECURSIVE`). The depth bound stops a corrupt cycle.
pub async fn chain(db: &impl ConnectionTrait, org_id: i64) -> Result<Vec<i64>, AppError> {
    use sea_orm::{DbBackend, Statement};
    let backend = db.get_database_backend();
    let p = if backend == DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!(
        "WITH RECURSIVE up(id, depth) AS (\
           SELECT CAST({p} AS BIGINT), 0 \
           UNION ALL \
           SELECT l.parent_id, up.depth + 1 FROM org_link l JOIN up ON l.child_id = up.id \
           WHERE l.valid_to IS NULL AND up.depth < 16\
         ) SELECT id FROM up ORDER BY depth"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [org_id.into()],
        ))
        .await?;
    let mut out: Vec<i64> = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.try_get("", "id")?;
        if out.contains(&id) {
            break; // a cycle in corrupt data
        }
        out.push(id);
    }
    Ok(out)
}

/// Records that a supplier serves an organisation; returns whether it was new.
#[tracing::instrument(skip_all, err)]
pub async fn link_supplier(
    db: &impl ConnectionTrait,
    supplier_id: i64,
    client_id: i64,
    service: &str,
    from: Date,
) -> Result<bool, AppError> {
    let service = service.trim();
    if service.is_empty() {
        return Err(AppError::Invalid(
            "Say which service the supplier provides.".into(),
        ));
    }
    let existing = supplier_service::Entity::find()
        .filter(supplier_service::Column::SupplierId.eq(supplier_id))
        .filter(supplier_service::Column::ClientId.eq(client_id))
        .filter(supplier_service::Column::Service.eq(service))
        .one(db)
        .await?;
    if existing.is_some() {
        return Ok(false);
    }
    supplier_service::ActiveModel {
        supplier_id: Set(supplier_id),
        client_id: Set(client_id),
        service: Set(service.to_owned()),
        valid_from: Set(from),
        valid_to: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(true)
}

/// Merges `from` into `into` on a date: everything under `from` moves under `into`, the roles
/// held at `from` end, and `from` closes. History stays: charts as at earlier moments still
/// show the old shape. Returns how many organisations moved.
#[tracing::instrument(skip_all, err)]
pub async fn merge(
    db: &sea_orm::DatabaseConnection,
    actor: Option<i64>,
    from_code: &str,
    into_code: &str,
    on: Date,
) -> Result<usize, AppError> {
    use sea_orm::TransactionTrait;
    use sea_orm::sea_query::Expr;
    let txn = db.begin().await?;
    let from = find_by_code(&txn, from_code)
        .await?
        .ok_or(AppError::NotFound)?;
    let into = find_by_code(&txn, into_code)
        .await?
        .ok_or(AppError::NotFound)?;
    if from.id == into.id {
        return Err(AppError::Invalid(
            "An organisation cannot merge into itself.".into(),
        ));
    }
    if from.kind != into.kind {
        return Err(AppError::Invalid(
            "Only organisations of the same kind can merge.".into(),
        ));
    }
    if from.status == OrgStatus::Closed || into.status == OrgStatus::Closed {
        return Err(AppError::Invalid(
            "Both organisations must be open to merge.".into(),
        ));
    }
    let children = org_link::Entity::find()
        .filter(org_link::Column::ParentId.eq(from.id))
        .filter(org_link::Column::ValidTo.is_null())
        .all(&txn)
        .await?;
    for link in &children {
        if link.valid_from > on {
            return Err(AppError::Invalid(
                "The merge date is before some of the current links began.".into(),
            ));
        }
        set_parent(&txn, link.child_id, into.id, on).await?;
    }
    let ended_at = time::OffsetDateTime::new_utc(on, time::Time::MIDNIGHT);
    super::entity::assignment::Entity::update_many()
        .col_expr(
            super::entity::assignment::Column::EndsAt,
            Expr::value(ended_at),
        )
        .filter(super::entity::assignment::Column::OrgId.eq(from.id))
        .filter(super::entity::assignment::Column::EndsAt.is_null())
        .exec(&txn)
        .await?;
    let name = from.name.clone();
    let mut row: organisation::ActiveModel = from.into();
    row.status = Set(OrgStatus::Closed);
    row.closed_on = Set(Some(on));
    row.updated_at = Set(time::OffsetDateTime::now_utc());
    let from = row.update(&txn).await?;
    super::audit::record(
        &txn,
        super::audit::Event {
            actor,
            action: "organisations_merged",
            org: Some(into.id),
            subject: Some(from.code.clone()),
            detail: Some(format!(
                "{name} merged into {} on {on}; {} moved",
                into.name,
                children.len()
            )),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(children.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::db;
    use migrations::{Migrator, MigratorTrait};
    use time::macros::date;

    async fn fresh() -> sea_orm::DatabaseConnection {
        let conn = db::connect(&db::scratch("sqlite::memory:").await)
            .await
            .unwrap();
        Migrator::up(&conn, None).await.unwrap();
        conn
    }

    fn input(kind: OrgKind, code: &str, name: &str) -> OrgInput {
        OrgInput {
            code: OdsCode::parse(kind, code).unwrap(),
            name: name.into(),
            kind,
            status: OrgStatus::Active,
            opened_on: None,
            closed_on: None,
            postcode: None,
        }
    }

    #[tokio::test]
    async fn upsert_creates_then_reports_unchanged_then_updates() {
        let db = fresh().await;
        let org = input(OrgKind::Trust, "RJ1", "Guy's and St Thomas'");
        let first = upsert(&db, &org).await.unwrap();
        assert!(matches!(first, Upserted::Created(_)));
        assert_eq!(
            upsert(&db, &org).await.unwrap(),
            Upserted::Unchanged(first.id())
        );
        let renamed = OrgInput {
            name: "Guy's and St Thomas' NHS FT".into(),
            ..org
        };
        assert_eq!(
            upsert(&db, &renamed).await.unwrap(),
            Upserted::Updated(first.id())
        );
        assert_eq!(
            detail(&db, "rj1").await.unwrap().org.name,
            "Guy's and St Thomas' NHS FT"
        );
    }

    #[tokio::test]
    async fn moving_an_organisation_keeps_where_it_used_to_be() {
        let db = fresh().await;
        let london = upsert(&db, &input(OrgKind::Region, "Y56", "London"))
            .await
            .unwrap()
            .id();
        let old = upsert(&db, &input(OrgKind::Icb, "QKA", "Old ICB"))
            .await
            .unwrap()
            .id();
        let new = upsert(&db, &input(OrgKind::Icb, "QKK", "New ICB"))
            .await
            .unwrap()
            .id();
        let trust = upsert(&db, &input(OrgKind::Trust, "RJ1", "Trust"))
            .await
            .unwrap()
            .id();
        for icb in [old, new] {
            set_parent(&db, icb, london, date!(2022 - 07 - 01))
                .await
                .unwrap();
        }
        assert!(
            set_parent(&db, trust, old, date!(2022 - 07 - 01))
                .await
                .unwrap()
        );
        assert!(
            !set_parent(&db, trust, old, date!(2023 - 01 - 01))
                .await
                .unwrap(),
            "no-op"
        );
        assert!(
            set_parent(&db, trust, new, date!(2026 - 04 - 01))
                .await
                .unwrap()
        );

        let page = detail(&db, "RJ1").await.unwrap();
        assert_eq!(page.parent.unwrap().code, "QKK");
        assert_eq!(page.parent_history.len(), 2);
        assert_eq!(page.parent_history[1].parent.code, "QKA");
        assert_eq!(page.parent_history[1].to, Some(date!(2026 - 04 - 01)));
        assert!(detail(&db, "QKA").await.unwrap().children.is_empty());
    }

    #[tokio::test]
    async fn parents_of_the_wrong_kind_and_loops_are_refused() {
        let db = fresh().await;
        let region = upsert(&db, &input(OrgKind::Region, "Y56", "London"))
            .await
            .unwrap()
            .id();
        let icb = upsert(&db, &input(OrgKind::Icb, "QKK", "ICB"))
            .await
            .unwrap()
            .id();
        let err = set_parent(&db, region, icb, date!(2024 - 01 - 01))
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Invalid(_)), "{err:?}");
        assert!(
            detail(&db, "Y56").await.unwrap().parent.is_none(),
            "nothing written"
        );
    }

    #[tokio::test]
    async fn unknown_codes_are_not_found() {
        let db = fresh().await;
        assert_eq!(detail(&db, "ZZZ").await.unwrap_err(), AppError::NotFound);
    }
}
