//! What a load balancer and a monitoring system ask of an instance: `/healthz` (the process
//! answers), `/readyz` (and its database answers; says which engine) and `/metrics`
//! (Prometheus text, only to addresses in `WARDLINE_METRICS_ALLOW`).
//!
//! Request latencies are counted here, per route as the router matched it (never the raw
//! path, so a stranger cannot make a label per URL). What is shared by every instance — the
//! escalations due and late, the outbox, failed deliveries — is read from the database when
//! scraped, so any instance reports the whole deployment's figures.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::backend::client_addr::TrustedProxies;
use app::backend::incidents::Declarations;
use app::backend::state::AppState;
use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A step due this long ago and not yet taken is late.
const LATE_AFTER: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

/// This instance's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RouteLabels, Histogram>,
    escalations_due: Gauge,
    escalations_late: Gauge,
    outbox_backlog: Gauge,
    failed_deliveries: Family<ChannelLabels, Gauge>,
    /// Server functions by path: each is its own route (they share one axum route).
    server_fns: HashSet<&'static str>,
    allow: TrustedProxies,
}

/// The declaration writer's own totals, read when scraped.
#[derive(Debug)]
struct Written(Declarations);

impl Collector for Written {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let (batches, declared) = self.0.counts();
        for (name, help, value) in [
            (
                "declarations",
                "Incidents declared through this instance",
                declared,
            ),
            (
                "declaration_batches",
                "Group commits of declarations on this instance",
                batches,
            ),
        ] {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

impl Metrics {
    pub fn new(allow: TrustedProxies, declarations: Declarations) -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("wardline");
        let requests = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 1 ms to about 16 s.
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route as matched, method and status",
            requests.clone(),
        );
        registry.register_collector(Box::new(Written(declarations)));
        let escalations_due = Gauge::default();
        registry.register(
            "escalations_due",
            "Unacknowledged escalation steps whose time has come (all instances)",
            escalations_due.clone(),
        );
        let escalations_late = Gauge::default();
        registry.register(
            "escalations_late",
            "Escalation steps due over a minute ago and not yet taken (all instances)",
            escalations_late.clone(),
        );
        let outbox_backlog = Gauge::default();
        registry.register(
            "outbox_backlog",
            "Notifications waiting to be sent or being sent (all instances)",
            outbox_backlog.clone(),
        );
        let failed_deliveries = Family::<ChannelLabels, Gauge>::default();
        registry.register(
            "failed_deliveries",
            "Notifications given up on after their last attempt, by channel (all instances)",
            failed_deliveries.clone(),
        );
        Arc::new(Metrics {
            registry,
            requests,
            escalations_due,
            escalations_late,
            outbox_backlog,
            failed_deliveries,
            server_fns: leptos::server_fn::axum::server_fn_paths()
                .map(|(path, _)| path)
                .collect(),
            allow,
        })
    }

    /// The label a request is counted under: a server function's own path, the route the
    /// router matched, or "unmatched".
    fn route_of(&self, path: &str, matched: Option<&MatchedPath>) -> String {
        if let Some(known) = self.server_fns.get(path) {
            return (*known).to_owned();
        }
        matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned())
    }
}

/// Times every request (the outermost layer but compression).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = metrics.route_of(
        request.uri().path(),
        request.extensions().get::<MatchedPath>(),
    );
    let response = next.run(request).await;
    metrics
        .requests
        .get_or_create(&RouteLabels {
            method,
            route,
            status: response.status().as_u16().to_string(),
        })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// The probes' routes, outside sessions and the rest (they must answer when nothing else
/// does, and never set a cookie).
pub fn routes(state: AppState, metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state.clone())
        .merge(
            Router::new()
                .route("/metrics", get(scrape))
                .with_state((state, metrics)),
        )
}

fn plain(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn healthz() -> Response {
    plain(StatusCode::OK, "ok\n".into())
}

fn engine_name(state: &AppState) -> &'static str {
    match state.db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "postgres",
        sea_orm::DatabaseBackend::Sqlite => "sqlite",
        _ => "database",
    }
}

/// Ready when the database answers within two seconds.
async fn readyz(State(state): State<AppState>) -> Response {
    let engine = engine_name(&state);
    let answered = tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await;
    match answered {
        Ok(Ok(())) => plain(StatusCode::OK, format!("ready: {engine}\n")),
        Ok(Err(err)) => {
            tracing::warn!(%err, "readiness: the database did not answer");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: the {engine} database is not answering\n"),
            )
        }
        Err(_) => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: the {engine} database took over 2 seconds to answer\n"),
        ),
    }
}

/// Prometheus text, for allowed addresses only; anyone else is told there is nothing here.
async fn scrape(
    State((state, metrics)): State<(AppState, Arc<Metrics>)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let client = app::backend::client_addr::resolve(
        peer.ip(),
        request.headers(),
        &state.auth.trusted_proxies,
    );
    if !metrics.allow.contains(client) {
        return plain(StatusCode::NOT_FOUND, "Not found\n".into());
    }
    if let Err(err) = read_shared(&state, &metrics).await {
        tracing::warn!(%err, "metrics: reading the database");
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "The database is not answering\n".into(),
        );
    }
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &metrics.registry).is_err() {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "\n".into());
    }
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}

/// Brings the gauges read from the database up to date.
async fn read_shared(state: &AppState, metrics: &Metrics) -> Result<(), sea_orm::DbErr> {
    let now = app::backend::timeline::now();
    let figures = app::backend::escalation::outbox::figures(
        &state.db,
        now,
        now - time::Duration::try_from(LATE_AFTER).unwrap_or(time::Duration::MINUTE),
    )
    .await?;
    metrics.escalations_due.set(figures.due);
    metrics.escalations_late.set(figures.late);
    metrics.outbox_backlog.set(figures.backlog);
    for (channel, failed) in figures.failed_by_channel {
        metrics
            .failed_deliveries
            .get_or_create(&ChannelLabels { channel })
            .set(failed);
    }
    Ok(())
}
