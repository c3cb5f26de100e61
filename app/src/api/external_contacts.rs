//! External contacts (the CSOC, an ICB's on-call, a supplier's security desk): the list
//! everyone signed in may read, and admins' changes (national ones by national admins).

use leptos::prelude::*;

use crate::domain::escalation::{Contact, ListedContact};
use crate::error::AppError;

/// The contacts the caller can see (national ones, and those of organisations they read),
/// each saying whether the caller may change it.
#[server(endpoint = "external_contacts/list")]
pub async fn list_contacts() -> Result<Vec<ListedContact>, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::contacts_external::list(&state.db, &user).await
        }
        .await,
    )
}

/// Adds a contact: national when `org_code` is empty (national admins), else the
/// organisation's own (its admins).
#[server(endpoint = "external_contacts/add")]
pub async fn add_contact(
    org_code: String,
    key: String,
    name: String,
    phone: String,
    email: String,
    reporting_route: String,
) -> Result<Contact, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::writer().await?;
            let input = crate::backend::contacts_external::ContactInput {
                name,
                phone,
                email,
                reporting_route,
            };
            let org = Some(org_code.as_str()).filter(|c| !c.trim().is_empty());
            use sea_orm::TransactionTrait;
            let txn = state.db.begin().await?;
            let c = crate::backend::contacts_external::add(&txn, &user, org, &key, &input).await?;
            txn.commit().await?;
            Ok(c)
        }
        .await,
    )
}

/// Changes a contact's name, phone, email and reporting route.
#[server(endpoint = "external_contacts/edit")]
pub async fn edit_contact(
    key: String,
    name: String,
    phone: String,
    email: String,
    reporting_route: String,
) -> Result<Contact, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::writer().await?;
            let input = crate::backend::contacts_external::ContactInput {
                name,
                phone,
                email,
                reporting_route,
            };
            use sea_orm::TransactionTrait;
            let txn = state.db.begin().await?;
            let c = crate::backend::contacts_external::edit(&txn, &user, &key, &input).await?;
            txn.commit().await?;
            Ok(c)
        }
        .await,
    )
}
