//! GOV.UK Notify's callbacks: delivery receipts for the text messages Wardline sent, posted
//! to `/notify/receipts` with the bearer token set in Notify
//! (`WARDLINE_NOTIFY_CALLBACK_TOKEN_FILE`), checked in constant time. Each receipt's status
//! is recorded against the text sent under its `reference`; a page that failed falls
//! through to email. A wrong or missing token is
//! refused (401) and audited, and changes nothing.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};

use app::backend::audit::{self, Event};
use app::backend::state::AppState;

use crate::client::ClientAddr;

/// The token Notify's callbacks must carry; none set refuses every callback.
#[derive(Clone)]
pub struct CallbackToken(pub Option<Arc<SecretString>>);

impl CallbackToken {
    fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.0 else {
            return false;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        app::backend::tokens::same_secret(given, expected.expose_secret())
    }
}

pub async fn receipts(
    State(state): State<AppState>,
    Extension(token): Extension<CallbackToken>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !token.admits(&headers) {
        let _ = audit::record(
            &state.db,
            Event {
                action: "notify_receipt",
                detail: Some("wrong or missing bearer token".into()),
                client: Some(client.to_string()),
                outcome: Some(audit::REFUSED),
                ..Default::default()
            },
        )
        .await;
        return (StatusCode::UNAUTHORIZED, "Not authorised.").into_response();
    }
    let receipt: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return (StatusCode::BAD_REQUEST, "Not a receipt.").into_response(),
    };
    let (Some(reference), Some(status)) =
        (receipt["reference"].as_str(), receipt["status"].as_str())
    else {
        return (StatusCode::BAD_REQUEST, "Not a receipt.").into_response();
    };
    match app::backend::contacts::record_receipt(
        &state.db,
        reference,
        status,
        receipt["id"].as_str(),
    )
    .await
    {
        // A page by text that did not arrive falls through to the person's email.
        Ok(true) => match app::backend::escalation::fallthrough::after_receipt(
            &state.db,
            reference,
            status,
            state.declarations.channels().email,
        )
        .await
        {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => e.into_response(),
        },
        // Not one of Wardline's: answered as received, so Notify does not keep retrying it.
        Ok(false) => {
            tracing::warn!(reference, "a delivery receipt for no text Wardline sent");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => e.into_response(),
    }
}
