//! The signed-in state, shared by the header and every page.

use leptos::prelude::*;

use crate::api::auth::get_auth_status;
use crate::domain::auth::AuthStatus;
use crate::error::AppError;

#[derive(Clone, Copy)]
pub struct Auth {
    pub status: Resource<Result<AuthStatus, AppError>>,
    version: RwSignal<u32>,
}

impl Auth {
    /// Asks the server again, after signing in or out.
    pub fn refresh(&self) {
        self.version.update(|v| *v += 1);
    }
}

pub fn provide_auth() {
    let version = RwSignal::new(0u32);
    let status = Resource::new(move || version.get(), |_| get_auth_status());
    provide_context(Auth { status, version });
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

/// A `next` path from a query string, only if it stays on this site.
pub fn safe_next(next: Option<String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => "/orgs".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_never_leaves_the_site() {
        assert_eq!(safe_next(Some("/orgs/RJ1".into())), "/orgs/RJ1");
        assert_eq!(safe_next(Some("//evil.example".into())), "/orgs");
        assert_eq!(safe_next(Some("https://evil.example".into())), "/orgs");
        assert_eq!(safe_next(Some("/\\evil.example".into())), "/orgs");
        assert_eq!(safe_next(None), "/orgs");
    }
}
