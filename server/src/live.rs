//! Live updates by server-sent events: an open incident page, and a lead's "my tasks", hear
//! "changed" the moment a task moves, and fetch again.
//!
//! A stream lives no longer than the right to it: every `recheck` it looks again at its
//! session (signed out, signed out everywhere, timed out, disabled) and at what it shows, and
//! ends when either is gone. A person holds at most `MAX_STREAMS_PER_PERSON` at once.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Extension;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;
use tower_sessions::Session;
use tower_sessions::session::Id;

use app::backend::access::User;
use app::backend::caller;
use app::backend::live::LiveEvent;
use app::backend::sessions::DbSessionStore;
use app::backend::state::AppState;
use app::error::AppError;

use crate::signed_in::{Refused, SignedIn};

/// Each open page holds up to two (the inbox count and an incident), so this is three tabs.
pub const MAX_STREAMS_PER_PERSON: usize = 6;

/// The open streams of each person, and how often a stream checks it may go on.
pub struct Streams {
    open: Mutex<HashMap<i64, usize>>,
    recheck: Duration,
    /// True once the server is shutting down: every stream ends, so the browser reconnects
    /// (to another instance) and the server's drain is not held up by open streams.
    closing: tokio::sync::watch::Receiver<bool>,
}

impl Streams {
    pub fn new(recheck: Duration, closing: tokio::sync::watch::Receiver<bool>) -> Arc<Streams> {
        Arc::new(Streams {
            open: Mutex::new(HashMap::new()),
            recheck,
            closing,
        })
    }

    fn claim(self: &Arc<Self>, person: i64) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(person).or_default();
        if *n >= MAX_STREAMS_PER_PERSON {
            return None;
        }
        *n += 1;
        Some(Slot {
            streams: self.clone(),
            person,
        })
    }
}

/// One open stream of a person; given back when the stream ends or the browser goes.
struct Slot {
    streams: Arc<Streams>,
    person: i64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.person) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.person);
            }
        }
    }
}

/// Whether the session `id` still signs in `person`, read afresh from the store (the
/// request's own copy of the session would not see it end).
async fn still_signed_in(state: &AppState, id: Option<Id>, person: i64) -> Option<User> {
    let store = Arc::new(DbSessionStore::new(state.db.clone()));
    let session = Session::new(Some(id?), store, None);
    match caller::current_user(state, &session).await {
        Ok(Some(u)) if u.person_id == person && !u.must_enrol_mfa() => Some(u),
        _ => None,
    }
}

fn changes<W, C, F>(
    rx: tokio::sync::broadcast::Receiver<LiveEvent>,
    wanted: W,
    still_allowed: C,
    recheck: Duration,
    slot: Slot,
) -> impl Stream<Item = Result<Event, Infallible>>
where
    W: Fn(&LiveEvent) -> bool + Send + 'static,
    C: Fn() -> F + Send + 'static,
    F: Future<Output = bool> + Send,
{
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + recheck, recheck);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let closing = slot.streams.closing.clone();
    stream::unfold(
        (rx, wanted, still_allowed, tick, slot, closing),
        |(mut rx, wanted, still_allowed, mut tick, slot, mut closing)| async move {
            loop {
                tokio::select! {
                    // Shutting down (or the server is gone).
                    _ = closing.changed() => return None,
                    _ = tick.tick() => {
                        if !still_allowed().await {
                            return None;
                        }
                    }
                    got = rx.recv() => match got {
                        Ok(ev) if wanted(&ev) => {
                            let event = Event::default().event("changed").data(ev.reference);
                            return Some((Ok(event), (rx, wanted, still_allowed, tick, slot, closing)));
                        }
                        Ok(_) => continue,
                        // Missed some: say "changed" so the page fetches the truth.
                        Err(RecvError::Lagged(_)) => {
                            let event = Event::default().event("changed").data("");
                            return Some((Ok(event), (rx, wanted, still_allowed, tick, slot, closing)));
                        }
                        Err(RecvError::Closed) => return None,
                    },
                }
            }
        },
    )
}

fn sse(
    stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static,
    recheck: Duration,
) -> Response {
    // Comments at least as often as the checks, so a closed browser is noticed as soon.
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(recheck.min(Duration::from_secs(15))))
        .into_response()
}

pub async fn incident(
    State(state): State<AppState>,
    Extension(streams): Extension<Arc<Streams>>,
    session: Session,
    caller: Result<SignedIn, Refused>,
    reference: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let Ok(Path(reference)) = reference else {
        return Err(AppError::Invalid("The request was not understood.".into()));
    };
    let SignedIn(user) = caller?;
    // Only for incidents the person may read.
    app::backend::incidents::view(&state.db, &user, &reference).await?;
    let slot = streams
        .claim(user.person_id)
        .ok_or(AppError::TooManyRequests)?;
    let rx = state.live.subscribe();
    let (id, person, wanted) = (session.id(), user.person_id, reference.clone());
    let still_allowed = move || {
        let (state, reference) = (state.clone(), reference.clone());
        async move {
            match still_signed_in(&state, id, person).await {
                Some(user) => app::backend::incidents::view(&state.db, &user, &reference)
                    .await
                    .is_ok(),
                None => false,
            }
        }
    };
    let stream = changes(
        rx,
        move |ev| ev.reference == wanted,
        still_allowed,
        streams.recheck,
        slot,
    );
    Ok(sse(stream, streams.recheck))
}

pub async fn tasks(
    State(state): State<AppState>,
    Extension(streams): Extension<Arc<Streams>>,
    session: Session,
    SignedIn(user): SignedIn,
) -> Result<Response, AppError> {
    let slot = streams
        .claim(user.person_id)
        .ok_or(AppError::TooManyRequests)?;
    let rx = state.live.subscribe();
    let (id, me) = (session.id(), user.person_id);
    let still_allowed = move || {
        let state = state.clone();
        async move { still_signed_in(&state, id, me).await.is_some() }
    };
    let stream = changes(
        rx,
        move |ev| ev.people.contains(&me),
        still_allowed,
        streams.recheck,
        slot,
    );
    Ok(sse(stream, streams.recheck))
}
