//! Alerts from an organisation's security tools. Sent with the alert source's key (not an
//! API token), in Wardline's generic format or as a Prometheus Alertmanager webhook.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use app::backend::api_access::alerts::{self, Alert, AlertOutcome, AlertStatus};
use app::backend::state::AppState;
use app::error::AppError;

use super::{Json, Problem, bearer, json};

/// An alert body: Wardline's generic format, or Alertmanager's webhook (whose alerts are
/// each taken on their own, keyed by their fingerprint).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AlertBody {
    Generic(Alert),
    Alertmanager(AlertmanagerWebhook),
}

/// Prometheus Alertmanager's webhook payload (version 4), the fields Wardline reads.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AlertmanagerWebhook {
    /// Read only to tell the two formats apart.
    #[allow(dead_code)]
    pub version: String,
    pub alerts: Vec<AlertmanagerAlert>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AlertmanagerAlert {
    /// `firing` or `resolved`.
    pub status: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub annotations: std::collections::BTreeMap<String, String>,
    pub fingerprint: String,
}

impl AlertmanagerAlert {
    fn into_alert(self) -> Alert {
        let title = self
            .annotations
            .get("summary")
            .or_else(|| self.labels.get("alertname"))
            .cloned()
            .unwrap_or_else(|| "Alert".into());
        Alert {
            alert_key: self.fingerprint,
            title,
            status: if self.status == "resolved" {
                AlertStatus::Resolved
            } else {
                AlertStatus::Firing
            },
            kind: self
                .labels
                .get("wardline_kind")
                .and_then(|k| app::domain::incidents::IncidentKind::parse(k)),
            description: self.annotations.get("description").cloned(),
            systems: self.labels.get("instance").cloned(),
            location: None,
        }
    }
}

/// What the alerts did, one outcome per alert, in order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertsReceived {
    pub results: Vec<AlertOutcome>,
}

/// Receives an alert from a security tool. A firing alert opens an incident of the key's
/// kind (or the alert's `kind`) at the key's organisation, raised by that source; a repeat
/// with the same `alert_key` while it is open is added to its timeline; a resolved alert
/// closes nothing, but is put on the timeline and the incident's leads are told.
#[utoipa::path(post, path = "/api/v1/alerts", tag = "alerts", request_body = AlertBody,
    responses((status = 200, body = AlertsReceived), (status = "4XX", body = Problem)),
    security(("alert_key" = [])))]
pub async fn receive(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Result<Json<AlertBody>, Problem>,
) -> Result<Response, Problem> {
    let key = bearer(&headers).ok_or(AppError::Unauthorized)?;
    let source = alerts::authenticate(&state, key).await?;
    let Json(body) = body?;
    let batch = match body {
        AlertBody::Generic(a) => vec![a],
        AlertBody::Alertmanager(w) => {
            if w.alerts.len() > 100 {
                return Err(Problem::new(413, "Send at most 100 alerts at once."));
            }
            w.alerts
                .into_iter()
                .map(AlertmanagerAlert::into_alert)
                .collect()
        }
    };
    let mut results = Vec::with_capacity(batch.len());
    for alert in batch {
        results.push(alerts::receive(&state, &source, alert).await?);
    }
    let mut res = json(&AlertsReceived { results });
    *res.status_mut() = StatusCode::OK;
    Ok(res)
}
