//! Access for systems rather than browsers: API tokens (a person's, or a service account's)
//! and alert sources' keys.

pub mod alerts;
pub mod tokens;
