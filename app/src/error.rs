//! `AppError`: the one error type every server function returns, shared by both sides.
//! Its variants are things a person can act on; internals never cross the wire.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Invalid(String),
    #[error("Not found.")]
    NotFound,
    #[error("Please sign in.")]
    Unauthorized,
    /// The same answer for an unknown email, a wrong password and a disabled account.
    #[error("That email address and password do not match an account.")]
    SignInFailed,
    #[error("You do not have permission to do that.")]
    Forbidden,
    #[error("{0}")]
    Conflict(String),
    #[error("Too many attempts. Please wait a moment and try again.")]
    TooManyRequests,
    #[error("Wardline could not be reached. Check your connection and try again.")]
    Unavailable,
    #[error("Something went wrong on our side (reference {0}). Please try again.")]
    Internal(String),
}

impl AppError {
    /// The HTTP status that carries this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid(_) => 422,
            AppError::NotFound => 404,
            AppError::Unauthorized | AppError::SignInFailed => 401,
            AppError::Forbidden => 403,
            AppError::Conflict(_) => 409,
            AppError::TooManyRequests => 429,
            AppError::Unavailable => 503,
            AppError::Internal(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // A request the server could not decode is the caller's mistake.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::Invalid("The request was not understood.".into())
            }
            ServerFnErrorErr::Request(_) => AppError::Unavailable,
            _ => AppError::Internal("unexpected".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_carries_its_own_status() {
        assert_eq!(AppError::Invalid("x".into()).status(), 422);
        assert_eq!(AppError::NotFound.status(), 404);
        assert_eq!(AppError::Unauthorized.status(), 401);
        assert_eq!(AppError::Forbidden.status(), 403);
        assert_eq!(AppError::Internal("r".into()).status(), 500);
    }

    #[test]
    fn an_internal_error_shows_only_a_reference() {
        let shown = AppError::Internal("ab12".into()).to_string();
        assert!(shown.contains("ab12"));
        assert!(!shown.to_lowercase().contains("sql"));
    }
}
