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
    /// A form sent from another site (refused before any handler runs).
    #[error("Cross-site requests are not accepted.")]
    CrossSite,
    #[error("{0}")]
    Conflict(String),
    #[error("That is too much to send at once. Please make it shorter and try again.")]
    TooLarge,
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
            AppError::Forbidden | AppError::CrossSite => 403,
            AppError::Conflict(_) => 409,
            AppError::TooLarge => 413,
            AppError::TooManyRequests => 429,
            AppError::Unavailable => 503,
            AppError::Internal(_) => 500,
        }
    }
}

/// What a caller whose request could not be decoded is told: nothing about why, in detail.
const NOT_UNDERSTOOD: &str = "The request was not understood.";

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // A request the server could not decode is the caller's mistake.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::Invalid(NOT_UNDERSTOOD.into())
            }
            // On the server this is a request body that could not be read as text: not UTF-8,
            // or cut off at its size limit. (In the browser it is a reply that did not decode,
            // which is ours.)
            #[cfg(not(feature = "hydrate"))]
            ServerFnErrorErr::Deserialization(_) => AppError::Invalid(NOT_UNDERSTOOD.into()),
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
        assert_eq!(AppError::TooLarge.status(), 413);
    }

    #[test]
    fn a_request_the_server_cannot_decode_is_the_callers_mistake() {
        for err in [
            ServerFnErrorErr::Args("invalid digit found in string at i32".into()),
            ServerFnErrorErr::MissingArg("org_code".into()),
            ServerFnErrorErr::Deserialization("invalid utf-8 sequence of 1 bytes".into()),
        ] {
            let mapped = AppError::from_server_fn_error(err);
            assert_eq!(mapped.status(), 422);
            assert_eq!(mapped.to_string(), NOT_UNDERSTOOD);
        }
    }

    #[test]
    fn an_internal_error_shows_only_a_reference() {
        let shown = AppError::Internal("ab12".into()).to_string();
        assert!(shown.contains("ab12"));
        assert!(!shown.to_lowercase().contains("sql"));
    }
}
