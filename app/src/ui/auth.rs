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
    // Signed out, however it happened: the break-glass copy kept in this browser goes too.
    // Only on a real answer; a failed request (offline) keeps the copy for reading.
    Effect::new(move |_| {
        if let Some(Ok(AuthStatus::Anonymous | AuthStatus::SecondFactor)) = status.get() {
            forget_break_glass_copy();
        }
    });
    provide_context(Auth { status, version });
}

/// Deletes the break-glass copy from the page itself (the cache `public/break-glass-sw.js`
/// keeps it in), so it goes whether or not the worker is running. Effects run only in the
/// browser.
fn forget_break_glass_copy() {
    #[cfg(feature = "hydrate")]
    if let Some(caches) = web_sys::window().and_then(|w| w.caches().ok()) {
        let _ = caches.delete("wardline-break-glass-v1");
    }
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}
