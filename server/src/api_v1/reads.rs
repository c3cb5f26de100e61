//! What the API reads: organisations, charts and gaps, incidents, tasks and assets. Each is
//! the page's own service, called as the token's holder with the token's scope.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Deserialize;

use app::backend::entity::organisation;
use app::backend::state::AppState;
use app::domain::accountability::{Chart, ChartFilter};
use app::domain::assets::AssetView;
use app::domain::incidents::{IncidentRow, IncidentView, TaskView};
use app::domain::listing::{Listing, PER_PAGE, window};
use app::domain::org::{OrgDetail, OrgSummary};
use app::error::AppError;

use super::{Caller, PageQuery, Problem, Query, json};

/// Searching and paging the organisations.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgsQuery {
    /// Part of a name or an ODS code.
    pub q: Option<String>,
    /// The page, from 1.
    pub page: Option<u64>,
}

/// Organisations, by name, 50 a page; `q` searches names and codes. Every signed-in person
/// may read the map of organisations, as the pages show it.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "organisations", params(OrgsQuery),
    responses((status = 200, body = Listing<OrgSummary>), (status = "4XX", body = Problem)),
    security(("token" = [])))]
pub async fn orgs(
    State(state): State<AppState>,
    Caller(_): Caller,
    Query(q): Query<OrgsQuery>,
) -> Result<Response, Problem> {
    let mut find = organisation::Entity::find();
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > 100 {
            return Err(Problem::new(422, "Search with up to 100 characters."));
        }
        find = find.filter(
            Condition::any()
                .add(organisation::Column::Name.contains(text))
                .add(organisation::Column::Code.eq(text.to_ascii_uppercase())),
        );
    }
    let total = find
        .clone()
        .count(&state.db)
        .await
        .map_err(AppError::from)?;
    let (page, skip) = window(q.page.unwrap_or(1), total);
    let items = find
        .order_by_asc(organisation::Column::Name)
        .order_by_asc(organisation::Column::Id)
        .offset(skip)
        .limit(PER_PAGE)
        .all(&state.db)
        .await
        .map_err(AppError::from)?
        .iter()
        .map(organisation::Model::summary)
        .collect();
    Ok(json(&Listing::from_page(items, page, total)))
}

/// One organisation: its parent and its history, its children, its suppliers and clients.
#[utoipa::path(get, path = "/api/v1/orgs/{code}", tag = "organisations",
    params(("code" = String, Path, description = "The ODS code")),
    responses((status = 200, body = OrgDetail), (status = "4XX", body = Problem)),
    security(("token" = [])))]
pub async fn org(
    State(state): State<AppState>,
    Caller(_): Caller,
    Path(code): Path<String>,
) -> Result<Response, Problem> {
    if code.len() > 16 {
        return Err(AppError::NotFound.into());
    }
    Ok(json(&app::backend::orgs::detail(&state.db, &code).await?))
}

/// The chart's filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChartQuery {
    /// A past moment (`2026-11-01T09:00:00Z`, or a date) to see the chart as it stood then.
    pub as_at: Option<String>,
    /// Only organisations of this kind (`trust`, `gp_practice`, …).
    pub kind: Option<String>,
    /// Only organisations with this kind of gap.
    pub gap: Option<String>,
    /// The page of organisations, from 1.
    pub page: Option<u64>,
}

fn chart_filter(q: &ChartQuery) -> Result<ChartFilter, AppError> {
    let nonempty = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    Ok(ChartFilter {
        kind: nonempty(&q.kind)
            .map(|k| {
                app::domain::org::OrgKind::parse(&k)
                    .ok_or_else(|| AppError::Invalid("Unknown kind of organisation.".into()))
            })
            .transpose()?,
        gap: nonempty(&q.gap)
            .map(|g| {
                app::domain::gaps::GapKind::parse(&g)
                    .ok_or_else(|| AppError::Invalid("Unknown kind of gap.".into()))
            })
            .transpose()?,
    })
}

async fn load_chart(
    state: &AppState,
    caller: &Caller,
    code: &str,
    q: &ChartQuery,
) -> Result<Chart, AppError> {
    let at = app::domain::dates::parse_moment(q.as_at.as_deref().unwrap_or(""))
        .map_err(AppError::Invalid)?;
    app::backend::chart::chart(
        &state.db,
        &state.charts,
        &caller.0.user,
        code,
        at,
        &chart_filter(q)?,
    )
    .await
}

/// The responsibility chart of an organisation and everything under it, with its gaps: who
/// holds each role, their deputies and contacts, and whether they confirmed. `as_at` shows
/// it as it stood at a past moment.
#[utoipa::path(get, path = "/api/v1/orgs/{code}/chart", tag = "charts",
    params(("code" = String, Path, description = "The ODS code"), ChartQuery),
    responses((status = 200, body = Chart), (status = "4XX", body = Problem)),
    security(("token" = [])))]
pub async fn chart(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<ChartQuery>,
) -> Result<Response, Problem> {
    let at = app::domain::dates::parse_moment(q.as_at.as_deref().unwrap_or(""))
        .map_err(AppError::Invalid)?;
    let chart = app::backend::chart::chart_page(
        &state.db,
        &state.charts,
        &caller.0.user,
        &code,
        at,
        &chart_filter(&q)?,
        q.page.unwrap_or(1),
    )
    .await?;
    Ok(json(&chart))
}

/// The whole chart as CSV, one row per role holding (the export the chart page offers).
#[utoipa::path(get, path = "/api/v1/orgs/{code}/chart.csv", tag = "charts",
    params(("code" = String, Path, description = "The ODS code"), ChartQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = Problem)),
    security(("token" = [])))]
pub async fn chart_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<ChartQuery>,
) -> Result<Response, Problem> {
    let chart = load_chart(&state, &caller, &code, &q).await?;
    let body = app::backend::chart::to_csv(&chart)?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response())
}

/// An organisation's catalogue of systems and devices, 50 a page.
#[utoipa::path(get, path = "/api/v1/orgs/{code}/assets", tag = "assets",
    params(("code" = String, Path, description = "The ODS code"), PageQuery),
    responses((status = 200, body = Listing<AssetView>), (status = "4XX", body = Problem)),
    security(("token" = [])))]
pub async fn assets(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, Problem> {
    let catalogue = app::backend::assets::catalogue(&state.db, &caller.user, &code).await?;
    Ok(json(&Listing::of(catalogue.assets, q.page.unwrap_or(1))))
}

/// Narrowing the incidents.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentsQuery {
    /// `open` (still being handled) or `closed` (closed or stood down).
    pub status: Option<String>,
    /// Only this organisation's (an ODS code).
    pub org: Option<String>,
    /// The page, from 1.
    pub page: Option<u64>,
}

/// The incidents the token reaches, the holder's own first, then the open, the most serious
/// and the newest; 50 a page.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(IncidentsQuery),
    responses((status = 200, body = Listing<IncidentRow>), (status = "4XX", body = Problem)),
    security(("token" = [])))]
pub async fn incidents(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(q): Query<IncidentsQuery>,
) -> Result<Response, Problem> {
    let open = match q.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("open") => Some(true),
        Some("closed") => Some(false),
        Some(_) => return Err(Problem::new(422, "status is open or closed.")),
    };
    let filter = app::backend::incidents::IncidentFilter {
        open,
        org_code: q.org.filter(|o| !o.trim().is_empty()),
    };
    Ok(json(
        &app::backend::incidents::list_where(&state.db, &caller.user, q.page.unwrap_or(1), &filter)
            .await?,
    ))
}

/// One incident: its tasks and who holds them, its clocks and obligations, its timeline.
#[utoipa::path(get, path = "/api/v1/incidents/{reference}", tag = "incidents",
    params(("reference" = String, Path, description = "The incident's reference, like WL-2026-0001")),
    responses((status = 200, body = IncidentView), (status = "4XX", body = Problem)),
    security(("token" = [])))]
pub async fn incident(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(reference): Path<String>,
) -> Result<Response, Problem> {
    if reference.len() > 40 {
        return Err(AppError::NotFound.into());
    }
    Ok(json(
        &app::backend::incidents::view(&state.db, &caller.user, &reference).await?,
    ))
}

/// The token holder's open tasks, most urgent first; 50 a page.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(PageQuery),
    responses((status = 200, body = Listing<TaskView>), (status = "4XX", body = Problem)),
    security(("token" = [])))]
pub async fn tasks(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Query(q): Query<PageQuery>,
) -> Result<Response, Problem> {
    let mine = app::backend::incidents::my_tasks(&state.db, &caller.user).await?;
    Ok(json(&Listing::of(mine, q.page.unwrap_or(1))))
}
