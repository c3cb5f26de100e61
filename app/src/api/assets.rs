//! The asset catalogue: read, and imported from CSV by the organisation's admins.

use leptos::prelude::*;

use crate::domain::assets::{AssetDetail, AssetImportReport, Catalogue};
use crate::error::AppError;

#[server(endpoint = "assets/catalogue")]
pub async fn get_catalogue(org_code: String) -> Result<Catalogue, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::assets::catalogue(&state.db, &user, &org_code).await
        }
        .await,
    )
}

/// Imports CSV text (header row first) into an organisation's catalogue.
#[server(endpoint = "manage/assets/import")]
pub async fn import_assets(org_code: String, csv: String) -> Result<AssetImportReport, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::assets::import_csv(&state.db, &user, &org_code, &csv).await
        }
        .await,
    )
}

/// One asset's page: what it depends on, what depends on it, the incidents it was in.
#[server(endpoint = "assets/get")]
pub async fn get_asset(id: i64) -> Result<AssetDetail, AppError> {
    crate::backend::http::respond(
        async {
            let (state, user) = crate::backend::caller::caller().await?;
            crate::backend::assets::detail(&state.db, &user, id).await
        }
        .await,
    )
}
