//! Reading the organisation map.

use leptos::prelude::*;

use crate::domain::org::{OrgDetail, OrgTree};
use crate::error::AppError;

/// The whole organisation map, for anyone signed in: organisation names and codes are
/// public ODS facts (people and incidents are scoped separately).
#[server(endpoint = "orgs/tree")]
pub async fn get_org_tree() -> Result<OrgTree, AppError> {
    let result = async {
        let (state, _) = crate::backend::caller::caller().await?;
        crate::backend::orgs::tree(&state.db).await
    }
    .await;
    crate::backend::http::respond(result)
}

/// One organisation's page, by its code.
#[server(endpoint = "orgs/detail")]
pub async fn get_org_detail(code: String) -> Result<OrgDetail, AppError> {
    let result = async {
        if code.len() > 16 {
            return Err(AppError::NotFound);
        }
        let (state, _) = crate::backend::caller::caller().await?;
        crate::backend::orgs::detail(&state.db, &code).await
    }
    .await;
    crate::backend::http::respond(result)
}
