//! Private calendar feeds: `GET /calendar/{token}.ics` serves a person's on-call shifts as
//! iCalendar. Outside the session: the token in the URL is the credential (calendar apps
//! send no cookies), so a wrong or revoked token is a plain 404, indistinguishable from a
//! path that never existed. Never cached by anyone, and rate limited per client address.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use app::backend::state::AppState;
use app::error::AppError;

use crate::client::ClientAddr;

pub async fn feed(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Path(file): Path<String>,
) -> Response {
    if let Err(e) = state.limits.calendar_feed(client).await {
        return e.into_response();
    }
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let now = app::backend::timeline::now();
    match app::backend::rotas::feed(&state.db, token, now).await {
        Ok(Some(ics)) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
                (
                    header::CONTENT_DISPOSITION,
                    "inline; filename=\"wardline-on-call.ics\"",
                ),
            ],
            ics,
        )
            .into_response(),
        Ok(None) => AppError::NotFound.into_response(),
        Err(e) => e.into_response(),
    }
}
