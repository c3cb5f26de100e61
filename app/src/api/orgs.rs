//! Reading the organisation map.

use leptos::prelude::*;

use crate::domain::org::{OrgDetail, OrgTree};
use crate::error::AppError;

/// The organisation map (or what matches a search), never the whole country at once, for
/// anyone signed in: organisation names and codes are
/// public ODS facts (people and incidents are scoped separately).
#[server(endpoint = "orgs/tree")]
pub async fn get_org_tree(q: Option<String>) -> Result<OrgTree, AppError> {
    let result = async {
        let (state, _) = crate::backend::caller::caller().await?;
        crate::backend::orgs::tree(&state.db, q.as_deref().unwrap_or_default()).await
    }
    .await;
    crate::backend::http::respond(result)
}

/// One organisation's page, by its code.
#[server(endpoint = "orgs/detail")]
pub async fn get_org_detail(code: String, page: Option<u64>) -> Result<OrgDetail, AppError> {
    let result = async {
        if code.len() > 16 {
            return Err(AppError::NotFound);
        }
        let (state, user) = crate::backend::caller::caller().await?;
        let mut d = crate::backend::orgs::detail_page(&state.db, &code, page).await?;
        d.can_designate = user.is_national_admin();
        Ok(d)
    }
    .await;
    crate::backend::http::respond(result)
}

/// Records whether DHSC designated an organisation (an independent provider) an operator of
/// essential services, so NIS applies to its incidents. National admins only.
#[server(endpoint = "orgs/essential_service")]
pub async fn designate_essential_service(
    code: String,
    designated: Option<String>,
) -> Result<(), AppError> {
    let result = async {
        let (state, user) = crate::backend::caller::writer().await?;
        crate::backend::incidents::designate(
            &state.db,
            &user,
            &code,
            designated.is_some_and(|v| !v.is_empty()),
        )
        .await
    }
    .await;
    crate::backend::http::respond(result)
}
