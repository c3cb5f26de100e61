//! Downloads: the responsibility chart as CSV or JSON. Plain GET links (they change
//! nothing), signed in, scoped like the chart itself, rate limited and audited: every
//! export a signed-in person asks for leaves a row with who, from where and how it ended.

use std::net::IpAddr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use app::backend::state::AppState;

use crate::client::ClientAddr;
use crate::signed_in::{Refused, SignedIn};
use app::backend::{access, audit, chart};
use app::domain::accountability::{Chart, ChartFilter};
use app::error::AppError;

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    org: String,
    as_at: Option<String>,
}

/// What is being exported, for the audit trail.
struct Export<'a> {
    action: &'static str,
    subject: &'a str,
    detail: String,
    client: IpAddr,
}

/// The signed-in person asking for an export: on a session that passed a second factor
/// where their role needs one (`SignedIn`), and within the export rate limit. Refusals of a
/// signed-in person are audited.
async fn exporting_user(
    state: &AppState,
    caller: Result<SignedIn, Refused>,
    what: &Export<'_>,
) -> Result<access::User, AppError> {
    let (user, allowed) = match caller {
        Ok(SignedIn(user)) => {
            let allowed = state.limits.action(user.person_id, "export").await;
            (user, allowed)
        }
        Err(Refused {
            error,
            user: Some(user),
        }) => (user, Err(error)),
        Err(Refused { error, user: None }) => return Err(error),
    };
    if let Err(e) = allowed {
        record(state, &user, what, &Err(e.clone())).await?;
        return Err(e);
    }
    Ok(user)
}

/// Writes the audit row of an export attempt and hands its result back.
async fn audited<T>(
    state: &AppState,
    user: &app::backend::access::User,
    what: &Export<'_>,
    result: Result<T, AppError>,
) -> Result<T, AppError> {
    let outcome = result.as_ref().map(|_| ()).map_err(Clone::clone);
    record(state, user, what, &outcome).await?;
    result
}

async fn record(
    state: &AppState,
    user: &app::backend::access::User,
    what: &Export<'_>,
    outcome: &Result<(), AppError>,
) -> Result<(), AppError> {
    audit::record(
        &state.db,
        audit::Event {
            actor: Some(user.person_id),
            action: what.action,
            subject: Some(what.subject.to_owned()),
            detail: Some(what.detail.clone()),
            client: Some(what.client.to_string()),
            outcome: Some(match outcome {
                Ok(()) => audit::SUCCESS,
                Err(e) => audit::outcome_of(e),
            }),
            ..Default::default()
        },
    )
    .await
}

/// A CSV file named for its kind and organisation.
fn csv_file(body: String, kind: &str, code: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                attachment(code, "csv").replace("wardline-chart-", &format!("wardline-{kind}-")),
            ),
        ],
        body,
    )
        .into_response()
}

/// A query string that does not fit: said plainly, without the decoder's own words.
fn not_understood() -> AppError {
    AppError::Invalid("The request was not understood.".into())
}

async fn load(
    state: &AppState,
    caller: Result<SignedIn, Refused>,
    client: IpAddr,
    q: &ExportQuery,
    format: &str,
) -> Result<Chart, AppError> {
    let mut what = Export {
        action: "chart_exported",
        subject: &q.org,
        detail: format!("{format} as at {}", q.as_at.as_deref().unwrap_or("now")),
        client,
    };
    let user = exporting_user(state, caller, &what).await?;
    let result = async {
        let at = app::domain::dates::parse_moment(q.as_at.as_deref().unwrap_or(""))
            .map_err(AppError::Invalid)?;
        chart::chart(
            &state.db,
            &state.charts,
            &user,
            &q.org,
            at,
            &ChartFilter::default(),
        )
        .await
    }
    .await;
    if let Ok(c) = &result {
        what.detail = format!("{format} as at {}", c.as_at);
    }
    audited(state, &user, &what, result).await
}

#[derive(Debug, Deserialize)]
pub struct IncidentQuery {
    reference: String,
}

/// One incident as JSON: what its page shows, with the hash-chained timeline.
pub async fn incident_json(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    caller: Result<SignedIn, Refused>,
    q: Result<Query<IncidentQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Ok(Query(q)) = q else {
        return Err(not_understood());
    };
    let what = Export {
        action: "incident_exported",
        subject: &q.reference,
        detail: "json".into(),
        client,
    };
    let result = async {
        let user = exporting_user(&state, caller, &what).await?;
        let body = async {
            let mut body = app::backend::incidents::export(&state.db, &user, &q.reference).await?;
            body["signed_head"] = app::backend::timeline::head_json(&state.db, &q.reference)
                .await?
                .unwrap_or_default();
            serde_json::to_string_pretty(&body)
                .map_err(|e| app::backend::errors::internal("incident json", &e))
        }
        .await;
        audited(&state, &user, &what, body).await
    }
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                attachment(&q.reference, "json").replace("wardline-chart-", "wardline-incident-"),
            ),
        ],
        result,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct AssetsQuery {
    org: String,
}

/// An organisation's asset catalogue as CSV, in the import's columns.
pub async fn assets_csv(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    caller: Result<SignedIn, Refused>,
    q: Result<Query<AssetsQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Ok(Query(q)) = q else {
        return Err(not_understood());
    };
    let what = Export {
        action: "assets_exported",
        subject: &q.org,
        detail: "csv".into(),
        client,
    };
    let result = async {
        let user = exporting_user(&state, caller, &what).await?;
        let body = app::backend::assets::export_csv(&state.db, &user, &q.org).await;
        audited(&state, &user, &what, body).await
    }
    .await?;
    Ok(csv_file(result, "assets", &q.org))
}

fn attachment(code: &str, ext: &str) -> String {
    let safe: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("attachment; filename=\"wardline-chart-{safe}.{ext}\"")
}

pub async fn chart_csv(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    caller: Result<SignedIn, Refused>,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Ok(Query(q)) = q else {
        return Err(not_understood());
    };
    let chart = load(&state, caller, client, &q, "csv").await?;
    let body = chart::to_csv(&chart)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                attachment(&chart.root.code, "csv"),
            ),
        ],
        body,
    )
        .into_response())
}

pub async fn chart_json(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    caller: Result<SignedIn, Refused>,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Ok(Query(q)) = q else {
        return Err(not_understood());
    };
    let chart = load(&state, caller, client, &q, "json").await?;
    let body = serde_json::to_string_pretty(&chart)
        .map_err(|e| app::backend::errors::internal("json export", &e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                attachment(&chart.root.code, "json"),
            ),
        ],
        body,
    )
        .into_response())
}

/// CAF readiness for an organisation and everything below it, as CSV.
pub async fn caf_csv(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    caller: Result<SignedIn, Refused>,
    q: Result<Query<AssetsQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Ok(Query(q)) = q else {
        return Err(not_understood());
    };
    let what = Export {
        action: "caf_exported",
        subject: &q.org,
        detail: "csv".into(),
        client,
    };
    let result = async {
        let user = exporting_user(&state, caller, &what).await?;
        let body = async {
            let r = app::backend::caf::readiness(&state.db, &state.charts, &user, &q.org).await?;
            app::backend::caf::to_csv(&r)
        }
        .await;
        audited(&state, &user, &what, body).await
    }
    .await?;
    Ok(csv_file(result, "caf", &q.org))
}
