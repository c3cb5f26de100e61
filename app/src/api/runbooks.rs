//! Runbooks: the library in force for an organisation, one runbook with its versions, and
//! saving an edit as a new version.

use leptos::prelude::*;

use crate::domain::incidents::{RunbookIndex, RunbookView, StepInput};
use crate::error::AppError;

/// The runbooks in force at an organisation (the caller's own when no code is given):
/// (the organisation's code, or none for the national library; one row per kind).
#[server(endpoint = "runbooks/index")]
pub async fn list_runbooks(
    org_code: Option<String>,
) -> Result<(Option<String>, RunbookIndex), AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::runbooks::index(&state.db, &user, org_code.as_deref()).await
        }
        .await,
    )
}

#[server(endpoint = "runbooks/get")]
pub async fn get_runbook(
    kind: String,
    org_code: Option<String>,
    version: Option<i32>,
) -> Result<RunbookView, AppError> {
    crate::backend::http::respond(
        async {
            use crate::domain::incidents::IncidentKind;
            let (state, user) = crate::backend::caller::caller().await?;
            let kind = IncidentKind::parse(&kind).ok_or(AppError::NotFound)?;
            crate::backend::runbooks::view(&state.db, &user, kind, org_code.as_deref(), version)
                .await
        }
        .await,
    )
}

/// Saves an edited runbook as a new version. As a plain form post it returns to the
/// runbook's page.
#[server(endpoint = "runbooks/save")]
pub async fn save_runbook(
    kind: String,
    org_code: Option<String>,
    title: String,
    steps: Vec<StepInput>,
) -> Result<i32, AppError> {
    crate::backend::http::respond(
        async {
            use crate::domain::incidents::IncidentKind;
            let (state, user) = crate::backend::caller::caller().await?;
            let kind = IncidentKind::parse(&kind).ok_or(AppError::NotFound)?;
            let version = crate::backend::runbooks::save(
                &state.db,
                &user,
                kind,
                org_code.as_deref(),
                &title,
                &steps,
            )
            .await?;
            let back = match org_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                Some(code) => format!("/runbooks/{}?org={code}&saved={version}", kind.as_str()),
                None => format!("/runbooks/{}?org=national&saved={version}", kind.as_str()),
            };
            crate::backend::http::redirect(&back);
            Ok(version)
        }
        .await,
    )
}
