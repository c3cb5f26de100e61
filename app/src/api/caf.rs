//! CAF readiness.

use leptos::prelude::*;

use crate::domain::caf::Readiness;
use crate::error::AppError;

#[server(endpoint = "caf/readiness")]
pub async fn get_readiness(org_code: String, page: Option<u64>) -> Result<Readiness, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            // The root and a page of the organisations below it; the export stays whole.
            Ok(
                crate::backend::caf::readiness(&state.db, &state.charts, &user, &org_code)
                    .await?
                    .paged(page.unwrap_or(1)),
            )
        }
        .await,
    )
}
