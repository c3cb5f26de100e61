//! CAF readiness.

use leptos::prelude::*;

use crate::domain::caf::Readiness;
use crate::error::AppError;

#[server(endpoint = "caf/readiness")]
pub async fn get_readiness(org_code: String) -> Result<Readiness, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::caf::readiness(&state.db, &state.charts, &user, &org_code).await
        }
        .await,
    )
}
