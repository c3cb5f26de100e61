//! The browser's side of single sign-on: `/sso/{provider}/start` sends it to the identity
//! provider, `/sso/{provider}/callback` brings it back signed in (or to the sign-in page with
//! a fixed sentence saying why not).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use app::backend::sso::{self, Callback, Finished};
use app::backend::state::AppState;
use app::error::AppError;

use crate::client::ClientAddr;

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

pub async fn start(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(client): ClientAddr,
    Path(slug): Path<String>,
    Query(q): Query<StartQuery>,
) -> Result<Response, AppError> {
    // Starting costs the provider a page: limited as sign-in attempts are, per client.
    state
        .limits
        .sign_in_allowed(&format!("sso:{slug}"), client)
        .await?;
    let url = sso::start(&state, &session, &slug, q.next.as_deref().unwrap_or("/")).await?;
    Ok(Redirect::to(&url).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The provider sends the browser back here from its own site, and the session cookie is
/// `SameSite=Strict`: a browser does not send it with a navigation another site started. So
/// this page only moves the browser on, from Wardline's own page, to `finish`, where the
/// cookie comes along; nothing is decided here.
pub async fn callback(uri: axum::http::Uri, Path(slug): Path<String>) -> Response {
    let slug: String = slug
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let target = format!("/sso/{slug}/finish?{}", uri.query().unwrap_or_default());
    let attr = target
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let html = format!(
        "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"0;url={attr}\"><title>Signing in</title></head>\
         <body><main><p>Signing you in… <a href=\"{attr}\">Continue</a></p></main></body></html>"
    );
    (
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

pub async fn finish(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(client): ClientAddr,
    Path(slug): Path<String>,
    q: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = q.map_err(|_| AppError::Invalid("The request was not understood.".into()))?;
    let back = Callback {
        code: q.code,
        state: q.state,
        error: q.error,
    };
    Ok(
        match sso::finish(&state, &session, &slug, back, client).await? {
            Finished::Go(to) => Redirect::to(&to).into_response(),
            Finished::Refused(why) => {
                Redirect::to(&format!("/sign-in?sso={}", why.code())).into_response()
            }
        },
    )
}
