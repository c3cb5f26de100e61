//! The Wardline server: builds the application from settings and runs it.

pub mod admin;
pub mod alert_mail;
mod api_v1;
mod body_limit;
mod calendar;
pub mod cli;
mod client;
pub mod config;
mod export;
mod live;
mod middleware;
pub mod moving;
mod notify;
mod probes;
mod relay;
mod session_touch;
mod signed_in;
mod sso;
mod upload;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use app::backend::limits::Limits;
use app::backend::sessions::DbSessionStore;
use app::backend::state::AppState;
use app::{App, shell};
use axum::Router;
use leptos_axum::{LeptosRoutes, generate_route_list};
use migrations::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::config::Settings;

/// Opens the database and brings its schema up to date.
pub async fn open_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    settings.prepare_storage()?;
    let key_made = settings.load_secret_key()?;
    let db = app::backend::db::connect(settings.database_url.expose_secret())
        .await
        .context("opening the database")?;
    Migrator::up(&db, None)
        .await
        .context("running migrations")?;
    app::backend::roles::seed(&db)
        .await
        .context("seeding the role catalogue")?;
    app::backend::runbooks::seed_runbooks(&db)
        .await
        .context("seeding the runbook library")?;
    app::backend::escalation::seed_policy(&db)
        .await
        .context("seeding the national escalation policy")?;
    let secrets = app::backend::secrets::seal_stored(&db)
        .await
        .context("encrypting stored secrets")?;
    if secrets > 0 {
        tracing::info!(secrets, "encrypted stored secrets under the current key");
    }
    let sealed = app::backend::timeline::seal_legacy(&db, key_made)
        .await
        .context("sealing timelines written before the hash chain")?;
    if sealed > 0 {
        tracing::info!(
            sealed,
            "sealed timeline entries written before the hash chain"
        );
    }
    Ok(db)
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    declarations: app::backend::incidents::Declarations,
    /// Told when shutdown begins (live streams end then).
    closing: tokio::sync::watch::Sender<bool>,
}

/// How long a stopping instance lets requests in flight finish before it exits anyway.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = open_database(&settings).await?;
        let listener = TcpListener::bind(settings.addr)
            .await
            .with_context(|| format!("binding {}", settings.addr))?;
        let mut leptos_options = settings.leptos.clone();
        leptos_options.site_addr = listener.local_addr()?;
        let texts = settings
            .notify
            .as_ref()
            .map(app::backend::escalation::Sms::new)
            .transpose()
            .map_err(|e| anyhow::anyhow!("setting up GOV.UK Notify: {e}"))?;
        let delivery =
            app::backend::escalation::Delivery::new(&settings.mail, &settings.auth.public_url)
                .and_then(|d| d.allowing_private_webhooks(settings.auth.allow_private_webhooks))
                .map_err(|e| anyhow::anyhow!("setting up delivery: {e}"))?
                .with_sms(texts.clone());
        let email_on = delivery.email_enabled();
        let engine = app::backend::escalation::Engine::new(
            db.clone(),
            std::sync::Arc::new(app::backend::escalation::SystemClock),
            delivery,
            settings.abort_after_decision,
        );
        // Declarations page their assignees on the channels this instance sends, and wake
        // its engine to send them.
        let channels = app::backend::paging::Channels {
            email: email_on,
            sms: texts.is_some(),
            teams: true,
        };
        let declarations = app::backend::incidents::Declarations::start(db.clone())
            .paging(channels, settings.run_engine.then(|| engine.waker()));
        // Shared by every instance on PostgreSQL.
        let limits = Arc::new(Limits::for_database(&db));
        let state = AppState {
            leptos_options,
            db,
            auth: Arc::new(settings.auth.clone()),
            limits,
            live: tokio::sync::broadcast::channel(1024).0,
            declarations,
            texts,
            callers: Default::default(),
            charts: Default::default(),
        };
        spawn_housekeeping(state.clone());
        // Live events to and from other instances, on PostgreSQL.
        relay::spawn(&state.db, state.live.clone());
        // The engine refreshes this process's open pages when it escalates.
        if settings.run_engine {
            std::sync::Arc::new(engine.with_live(state.live.clone())).spawn();
            spawn_handover_notices(state.db.clone());
        }
        let (closing, closing_rx) = tokio::sync::watch::channel(false);
        let metrics =
            probes::Metrics::new(settings.metrics_allow.clone(), state.declarations.clone());
        Ok(Application {
            listener,
            closing,
            declarations: state.declarations.clone(),
            router: router(
                state,
                live::Streams::new(settings.live_recheck, closing_rx),
                notify::CallbackToken(settings.notify_callback_token.clone().map(Arc::new)),
                metrics,
            ),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The declarations writer (its batch counts, for benchmarks).
    pub fn declarations(&self) -> &app::backend::incidents::Declarations {
        &self.declarations
    }

    /// Serves until SIGTERM or Ctrl-C, then stops taking connections, ends live streams,
    /// lets requests in flight finish (for up to `DRAIN`) and returns.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let closing = self.closing;
        let mut told = closing.subscribe();
        let serving = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("stopping: finishing requests in flight");
            let _ = closing.send(true);
        });
        tokio::select! {
            served = serving => served.context("serving"),
            _ = async {
                let _ = told.wait_for(|c| *c).await;
                tokio::time::sleep(DRAIN).await;
            } => {
                tracing::warn!("requests still open {} s after the signal: stopping anyway", DRAIN.as_secs());
                Ok(())
            }
        }
    }
}

fn router(
    state: AppState,
    streams: Arc<live::Streams>,
    notify_token: notify::CallbackToken,
    metrics: Arc<probes::Metrics>,
) -> Router {
    let routes = generate_route_list(App);
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("wardline_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(state.auth.secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(state.auth.idle_timeout)
                .unwrap_or(time::Duration::minutes(30)),
        ));
    Router::new()
        .route("/export/chart.csv", axum::routing::get(export::chart_csv))
        .route("/export/chart.json", axum::routing::get(export::chart_json))
        .route("/export/assets.csv", axum::routing::get(export::assets_csv))
        .route("/export/caf.csv", axum::routing::get(export::caf_csv))
        .route(
            "/export/incident.json",
            axum::routing::get(export::incident_json),
        )
        .route(
            "/live/incidents/{reference}",
            axum::routing::get(live::incident),
        )
        .route("/live/tasks", axum::routing::get(live::tasks))
        .route("/calendar/{file}", axum::routing::get(calendar::feed))
        .route("/sso/{slug}/start", axum::routing::get(sso::start))
        .route("/sso/{slug}/callback", axum::routing::get(sso::callback))
        .route("/sso/{slug}/finish", axum::routing::get(sso::finish))
        .layer(axum::Extension(streams))
        .route(
            "/admin/import/ods",
            axum::routing::post(upload::ods).layer(axum::extract::DefaultBodyLimit::max(
                app::backend::import::jobs::MAX_BYTES,
            )),
        )
        .route(
            "/notify/receipts",
            axum::routing::post(notify::receipts).layer(axum::Extension(notify_token.clone())),
        )
        .route(
            "/notify/replies",
            axum::routing::post(notify::replies).layer(axum::Extension(notify_token)),
        )
        .leptos_routes_with_context(&state, routes, middleware::provide_request_nonce, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(middleware::provide_request_nonce, shell))
        // Bodies are limited by path in `body_limit`, in place of axum's one 2 MB default.
        .layer(axum::middleware::from_fn(body_limit::limit))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(middleware::error_status))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::api_floor,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session_touch::touch,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn(middleware::same_origin))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            metrics.clone(),
            probes::track,
        ))
        // Brotli or gzip, as the browser asks, for pages and for `/pkg` files that have no
        // precompressed copy beside them (debug builds; release builds made with
        // `--precompress` get theirs from `ServeDir`, already encoded, which this leaves
        // alone). The default predicate leaves `text/event-stream` (`/live`) unbuffered.
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state.clone())
        // The JSON API: bearer tokens, no session, none of the browser's middleware.
        .merge(api_v1::routes(state.clone()))
        .merge(probes::routes(state, metrics))
}

/// Removes expired sessions and refilled rate-limit keys every few minutes.
fn spawn_housekeeping(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
        loop {
            tick.tick().await;
            if let Err(err) = app::backend::sessions::purge_expired(&state.db).await {
                tracing::warn!(%err, "purging expired sessions");
            }
            state.limits.tidy().await;
        }
    });
}

/// Tells people of their on-call handovers, once a minute; the engine delivers the emails.
/// Each notice is keyed in the outbox, so several servers running this tell nobody twice.
fn spawn_handover_notices(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let now = app::backend::timeline::now();
            if let Err(err) = app::backend::rotas::notify_handovers(&db, now).await {
                tracing::warn!(%err, "on-call handover notices");
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
