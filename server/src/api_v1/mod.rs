//! The JSON API under `/api/v1`, for scripts and other systems: bearer tokens instead of a
//! browser session, the same services and reach checks as the pages, RFC 9457 problem
//! details for every error, and an OpenAPI 3.1 document generated from these handlers.
//!
//! It is routed outside the browser's middleware (sessions, the cross-site check, the API
//! floor): a token is sent deliberately in a header, never by a browser on its own, so a
//! forged cross-site request cannot carry one.

mod alerts;
mod docs;
mod problem;
mod reads;
mod scim;
mod writes;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use app::backend::api_access::tokens::{self, TokenCaller};
use app::backend::state::AppState;
use app::error::AppError;

pub use problem::Problem;

use crate::client::ClientAddr;

/// The largest request body the API reads (an alert, a declaration).
const MAX_BODY: usize = 64 * 1024;

pub fn routes(state: AppState) -> Router {
    let with_token = Router::new()
        .route("/api/v1/orgs", axum::routing::get(reads::orgs))
        .route("/api/v1/orgs/{code}", axum::routing::get(reads::org))
        .route(
            "/api/v1/orgs/{code}/chart",
            axum::routing::get(reads::chart),
        )
        .route(
            "/api/v1/orgs/{code}/chart.csv",
            axum::routing::get(reads::chart_csv),
        )
        .route(
            "/api/v1/orgs/{code}/assets",
            axum::routing::get(reads::assets),
        )
        .route(
            "/api/v1/incidents",
            axum::routing::get(reads::incidents).post(writes::declare),
        )
        .route(
            "/api/v1/incidents/{reference}",
            axum::routing::get(reads::incident),
        )
        .route("/api/v1/tasks", axum::routing::get(reads::tasks))
        .route(
            "/api/v1/tasks/{id}/acknowledge",
            axum::routing::post(writes::acknowledge),
        )
        .route(
            "/api/v1/tasks/{id}/complete",
            axum::routing::post(writes::complete),
        )
        .route(
            "/scim/v2/Users",
            axum::routing::get(scim::list).post(scim::create),
        )
        .route(
            "/scim/v2/Users/{id}",
            axum::routing::get(scim::get)
                .put(scim::replace)
                .patch(scim::patch)
                .delete(scim::delete),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            with_token_used,
        ));
    Router::new()
        .merge(with_token)
        .route("/api/v1/alerts", axum::routing::post(alerts::receive))
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(docs::openapi_json),
        )
        .route("/api/v1/docs", axum::routing::get(docs::page))
        .route("/api/v1/{*rest}", axum::routing::any(not_found))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(
            crate::middleware::security_headers,
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

async fn not_found() -> Problem {
    Problem::from(AppError::NotFound)
}

/// The bearer credential of a request, if it sent one.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credential.trim())
}

/// Authenticates the request's token, lets the handler run as its holder, and records the
/// use (last used, and an audit entry with the outcome).
async fn with_token_used(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(credential) = bearer(req.headers()).map(str::to_owned) else {
        return Problem::from(AppError::Unauthorized).into_response();
    };
    let caller = match tokens::authenticate(&state, &credential).await {
        Ok(c) => c,
        Err(e) => return Problem::from(e).into_response(),
    };
    let asked = format!("{} {}", req.method(), req.uri().path());
    let (mut parts, body) = req.into_parts();
    let client = ClientAddr::from_request_parts(&mut parts, &state)
        .await
        .ok()
        .map(|ClientAddr(ip)| ip.to_string());
    req = Request::from_parts(parts, body);
    req.extensions_mut().insert(caller.clone());
    let res = next.run(req).await;
    if let Err(err) =
        tokens::record_use(&state.db, &caller, &asked, res.status().as_u16(), client).await
    {
        tracing::warn!(?err, "recording an API token's use");
    }
    res
}

/// The token caller of a request that passed `with_token_used`.
pub struct Caller(pub TokenCaller);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        parts
            .extensions
            .get::<TokenCaller>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| Problem::from(AppError::Unauthorized))
    }
}

/// A JSON body, refused as a problem (400 for malformed JSON or fields, 415 for another
/// content type, 413 for too large) in the API's words, never the decoder's.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        use axum::extract::rejection::JsonRejection as R;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(R::MissingJsonContentType(_)) => Err(Problem::new(
                415,
                "Send the body as JSON, with Content-Type: application/json.",
            )),
            Err(R::JsonDataError(e)) => Err(Problem::new(
                422,
                &format!(
                    "The JSON does not fit: {}",
                    e.body_text().trim_start_matches(
                        "Failed to deserialize the JSON body into the target type: "
                    )
                ),
            )),
            Err(R::JsonSyntaxError(_)) => Err(Problem::new(400, "The body is not valid JSON.")),
            Err(R::BytesRejection(_)) => Err(Problem::from(AppError::TooLarge)),
            Err(_) => Err(Problem::new(400, "The request was not understood.")),
        }
    }
}

/// A query string, refused as a problem when it does not fit.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|_| {
                Problem::new(
                    400,
                    "The query string was not understood: see /api/v1/openapi.json for each \
                     operation's parameters.",
                )
            })
    }
}

/// Which page of a list (from 1; 50 a page).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The page, from 1 (the first when absent).
    pub page: Option<u64>,
}

/// Marks a JSON answer's type.
fn json<T: serde::Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => Problem::from(app::backend::errors::internal("api json", &e)).into_response(),
    }
}
