//! Activity keeps a session alive. tower-sessions saves a session (and so moves its idle
//! expiry) only when its data changes, so without this a busy session would still end the
//! idle time-out after sign-in. A signed-in request re-saves the session when its last touch
//! is older than a minute (or a third of the idle time-out, if that is shorter): one write a
//! minute per active session, not one per request. The absolute limit is unaffected.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use time::OffsetDateTime;
use tower_sessions::Session;

use app::backend::sessions::PERSON_KEY;
use app::backend::state::AppState;

/// When the session was last re-saved for activity (unix seconds).
const TOUCHED_AT_KEY: &str = "touched_at";

/// How stale a touch may get before the next request renews it.
fn touch_every(idle_timeout: Duration) -> i64 {
    let every = (idle_timeout / 3).min(Duration::from_secs(60));
    every.as_secs().max(1) as i64
}

pub async fn touch(
    State(state): State<AppState>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    let res = next.run(req).await;
    // After the request, so a session it ended (signing out) is not brought back, and only
    // for signed-in sessions, so anonymous visitors are never given a row.
    if let Ok(Some(_)) = session.get::<i64>(PERSON_KEY).await {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let touched = session
            .get::<i64>(TOUCHED_AT_KEY)
            .await
            .ok()
            .flatten()
            .unwrap_or(0);
        if now - touched >= touch_every(state.auth.idle_timeout)
            && let Err(err) = session.insert(TOUCHED_AT_KEY, now).await
        {
            tracing::warn!(%err, "touching a session");
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_touched_at_most_once_a_minute() {
        assert_eq!(touch_every(Duration::from_secs(30 * 60)), 60);
        assert_eq!(touch_every(Duration::from_secs(90)), 30);
        assert_eq!(touch_every(Duration::from_secs(1)), 1);
    }
}
