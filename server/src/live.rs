//! Live updates by server-sent events: an open incident page, and a lead's "my tasks", hear
//! "changed" the moment a task moves, and fetch again.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;
use tower_sessions::Session;

use app::backend::access::{self, User};
use app::backend::state::{AppState, LiveEvent};
use app::error::AppError;

fn refuse(err: AppError) -> Response {
    (
        StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        err.to_string(),
    )
        .into_response()
}

async fn user(state: &AppState, session: &Session) -> Result<User, AppError> {
    match access::current_user(state, session).await? {
        Some(u) if !u.must_enrol_mfa() => Ok(u),
        Some(_) => Err(AppError::Forbidden),
        None => Err(AppError::Unauthorized),
    }
}

fn changes(
    rx: tokio::sync::broadcast::Receiver<LiveEvent>,
    wanted: impl Fn(&LiveEvent) -> bool + Send + 'static,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold((rx, wanted), |(mut rx, wanted)| async move {
        loop {
            match rx.recv().await {
                Ok(ev) if wanted(&ev) => {
                    return Some((
                        Ok(Event::default().event("changed").data(ev.reference)),
                        (rx, wanted),
                    ));
                }
                Ok(_) => continue,
                // Missed some: say "changed" so the page fetches the truth.
                Err(RecvError::Lagged(_)) => {
                    return Some((Ok(Event::default().event("changed").data("")), (rx, wanted)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

pub async fn incident(
    State(state): State<AppState>,
    session: Session,
    reference: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(reference)) = reference else {
        return refuse(AppError::Invalid("The request was not understood.".into()));
    };
    let user = match user(&state, &session).await {
        Ok(u) => u,
        Err(e) => return refuse(e),
    };
    // Only for incidents the person may read.
    if let Err(e) = app::backend::incidents::view(&state.db, &user, &reference).await {
        return refuse(e);
    }
    Sse::new(changes(state.live.subscribe(), move |ev| {
        ev.reference == reference
    }))
    .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
    .into_response()
}

pub async fn tasks(State(state): State<AppState>, session: Session) -> Response {
    let user = match user(&state, &session).await {
        Ok(u) => u,
        Err(e) => return refuse(e),
    };
    let me = user.person_id;
    Sse::new(changes(state.live.subscribe(), move |ev| {
        ev.people.contains(&me)
    }))
    .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
    .into_response()
}
