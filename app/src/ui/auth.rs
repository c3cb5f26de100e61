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
