//! Who is calling, for routes outside Leptos (exports, live streams, the upload): signed in,
//! and past the second factor where their role needs one. The same rule as
//! `caller::require_user` gives server functions, written once for these routes.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use app::backend::access::User;
use app::backend::caller;
use app::backend::state::AppState;
use app::error::AppError;

/// The signed-in caller of this request. A handler that names it is never run for anyone
/// else: not signed in answers 401, a session that has not passed a needed second factor 403.
pub struct SignedIn(pub User);

/// Why a request was refused, and who asked if they were signed in (so a route that audits
/// refusals, like the exports, can say whose it was).
pub struct Refused {
    pub error: AppError,
    pub user: Option<User>,
}

impl From<AppError> for Refused {
    fn from(error: AppError) -> Self {
        Refused { error, user: None }
    }
}

impl From<Refused> for AppError {
    fn from(refused: Refused) -> Self {
        refused.error
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        self.error.into_response()
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refused> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, why)| app::backend::errors::internal("session", &why))?;
        match caller::current_user(state, &session).await? {
            None => Err(AppError::Unauthorized.into()),
            Some(user) if user.needs_second_factor() => Err(Refused {
                error: AppError::Forbidden,
                user: Some(user),
            }),
            Some(user) => Ok(SignedIn(user)),
        }
    }
}
