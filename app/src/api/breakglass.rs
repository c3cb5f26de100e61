//! The break-glass pack.

use leptos::prelude::*;

use crate::domain::breakglass::BreakGlassPack;
use crate::error::AppError;

#[server(endpoint = "breakglass/pack")]
pub async fn get_pack(org_code: String) -> Result<BreakGlassPack, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::breakglass::pack(&state.db, &user, &org_code).await
        }
        .await,
    )
}
