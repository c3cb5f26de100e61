//! The HTTP side of server functions: every error answers with its own status, not 500.

use crate::error::AppError;

/// Sets the response status from the error, then hands the result back unchanged.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(err) = &result
        && let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = http::StatusCode::from_u16(err.status())
    {
        options.set_status(status);
    }
    result
}
