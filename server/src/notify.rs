//! GOV.UK Notify's callbacks: delivery receipts for the text messages Wardline sent, posted
//! to `/notify/receipts`, and text messages people sent back, posted to `/notify/replies`,
//! both with the bearer token set in Notify (`WARDLINE_NOTIFY_CALLBACK_TOKEN_FILE`), checked
//! in constant time. Each receipt's status is recorded against the text sent under its
//! `reference` (a page that failed falls through to email); each reply is read for a task's
//! code (`ACK 4821`, `ESC 4821`). A wrong or missing token is refused (401) and audited, and
//! changes nothing.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};

use app::backend::audit::{self, Event};
use app::backend::state::AppState;
use app::error::AppError;

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

/// Refuses a callback without the right token: audited under `action`, answered 401.
async fn unauthorised(state: &AppState, action: &'static str, client: String) -> Response {
    let _ = audit::record(
        &state.db,
        Event {
            action,
            detail: Some("wrong or missing bearer token".into()),
            client: Some(client),
            outcome: Some(audit::REFUSED),
            ..Default::default()
        },
    )
    .await;
    AppError::Unauthorized.into_response()
}

/// A text message someone sent to the service's number, as Notify's received-text callback
/// posts it. Only the two fields read here are required.
#[derive(serde::Deserialize)]
struct Received {
    source_number: String,
    message: String,
}

/// `POST /notify/replies`: a reply that counts acknowledges or escalates its task. Any other
/// (wrong, used, expired or someone else's code, another number, too many guesses) changes
/// nothing and is audited, and is answered 200 all the same, so Notify does not retry it.
pub async fn replies(
    State(state): State<AppState>,
    Extension(token): Extension<CallbackToken>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !token.admits(&headers) {
        return unauthorised(&state, "notify_reply", client.to_string()).await;
    }
    let Ok(received) = serde_json::from_slice::<Received>(&body) else {
        return AppError::Invalid("Not a received text message.".into()).into_response();
    };
    match app::backend::incidents::reply_by_text(
        &state.db,
        &state.limits,
        &received.source_number,
        &received.message,
        Some(client.to_string()),
    )
    .await
    {
        Ok(
            app::backend::incidents::ReplyOutcome::Acknowledged(reference)
            | app::backend::incidents::ReplyOutcome::Escalated(reference),
        ) => {
            state.publish(&reference).await;
            StatusCode::OK.into_response()
        }
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
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
        return unauthorised(&state, "notify_receipt", client.to_string()).await;
    }
    let receipt: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return AppError::Invalid("Not a receipt.".into()).into_response(),
    };
    let (Some(reference), Some(status)) =
        (receipt["reference"].as_str(), receipt["status"].as_str())
    else {
        return AppError::Invalid("Not a receipt.".into()).into_response();
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
