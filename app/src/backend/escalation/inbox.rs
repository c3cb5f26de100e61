//! The in-app inbox: a person's notices (new tasks, escalations), the unread count, marking
//! them read.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::backend::entity::{incident, notification};
use crate::backend::timeline;
use crate::domain::listing::Listing;
use crate::error::AppError;

/// One page of the caller's inbox: unread first, then the newest.
pub async fn inbox(
    db: &impl ConnectionTrait,
    user: &crate::backend::access::User,
    page: u64,
) -> Result<Listing<crate::domain::escalation::InboxItem>, AppError> {
    use sea_orm::PaginatorTrait;
    let mine = notification::Entity::find()
        .filter(notification::Column::PersonId.eq(user.person_id))
        .filter(notification::Column::Channel.eq("inbox"));
    let total = mine.clone().count(db).await?;
    let (page, skip) = crate::domain::listing::window(page, total);
    // Unread first, then the newest.
    let rows = mine
        .order_by_desc(sea_orm::sea_query::ExprTrait::is_null(Expr::col(
            notification::Column::ReadAt,
        )))
        .order_by_desc(notification::Column::Id)
        .offset(skip)
        .limit(crate::domain::listing::PER_PAGE)
        .all(db)
        .await?;
    let refs: HashMap<i64, String> = incident::Entity::find()
        .filter(incident::Column::Id.is_in(rows.iter().map(|n| n.incident_id).collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.reference))
        .collect();
    let items = rows
        .into_iter()
        .map(|n| crate::domain::escalation::InboxItem {
            id: n.id,
            title: n.title,
            body: n.body,
            incident_reference: refs.get(&n.incident_id).cloned().unwrap_or_default(),
            at: crate::domain::dates::moment(n.created_at),
            read: n.read_at.is_some(),
        })
        .collect();
    Ok(Listing::from_page(items, page, total))
}

/// How many inbox items the caller has not read.
pub async fn unread(
    db: &impl ConnectionTrait,
    user: &crate::backend::access::User,
) -> Result<u64, AppError> {
    use sea_orm::PaginatorTrait;
    Ok(notification::Entity::find()
        .filter(notification::Column::PersonId.eq(user.person_id))
        .filter(notification::Column::Channel.eq("inbox"))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks one inbox item read, or all of them.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user: &crate::backend::access::User,
    id: Option<i64>,
) -> Result<(), AppError> {
    let mut q = notification::Entity::update_many()
        .filter(notification::Column::PersonId.eq(user.person_id))
        .filter(notification::Column::Channel.eq("inbox"))
        .filter(notification::Column::ReadAt.is_null())
        .col_expr(notification::Column::ReadAt, Expr::value(timeline::now()));
    if let Some(id) = id {
        q = q.filter(notification::Column::Id.eq(id));
    }
    q.exec(db).await?;
    Ok(())
}
