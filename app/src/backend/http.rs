//! The HTTP side of server functions: every error answers with its own status, not 500.

use crate::error::AppError;

/// Sets the response from the error, then hands the result back unchanged.
/// - A call from script gets the error's status.
/// - A plain form post (no script) is left to redirect back to its page.
/// - A page being rendered on the server gets the status too, except that a visitor who is
///   not signed in is sent to sign in and brought back afterwards.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    use leptos::prelude::use_context;
    let Err(err) = &result else { return result };
    let Some(options) = use_context::<leptos_axum::ResponseOptions>() else {
        return result;
    };
    let parts = use_context::<http::request::Parts>();
    let path = parts
        .as_ref()
        .map(|p| p.uri.path().to_owned())
        .unwrap_or_default();
    let wants_html = parts
        .as_ref()
        .and_then(|p| p.headers.get(http::header::ACCEPT))
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let is_call = path.starts_with("/api/");
    if is_call && wants_html {
        return result;
    }
    if !is_call && *err == AppError::Unauthorized {
        let query = parts
            .as_ref()
            .and_then(|p| p.uri.query())
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        redirect(&crate::domain::redirect::sign_in_then(&format!(
            "{path}{query}"
        )));
        return result;
    }
    if let Ok(status) = http::StatusCode::from_u16(err.status()) {
        options.set_status(status);
    }
    result
}

/// Redirects this response to `target` if it is a path on this site, else to the home page.
/// Every redirect the app makes goes through here (and `<Redirect/>` too, see `ui::App`):
/// `leptos_axum::redirect` panics on a value that is not a valid header, and a target built
/// from what a visitor sent must never panic the server or send them off-site.
pub fn redirect(target: &str) {
    let target = crate::domain::redirect::safe_next(target).unwrap_or_else(|| "/".to_owned());
    leptos_axum::redirect(&target);
}

/// Whether this call is a plain form post (the page's script has not loaded): such a call is
/// redirected back to its page with the error, and whatever the person typed would be lost
/// with it unless kept with [`keep_typed`].
pub fn is_plain_form_post() -> bool {
    let parts = leptos::prelude::use_context::<http::request::Parts>();
    parts.as_ref().is_some_and(|p| {
        p.uri.path().starts_with("/api/")
            && p.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
    })
}

/// Keeps a value a person typed (never a secret) for the page at `page` to show again after
/// a plain form post is refused: a cookie only that page receives, for two minutes, unreadable
/// by script. [`typed`] reads it back while the page renders.
pub fn keep_typed(name: &str, page: &str, value: &str, secure: bool) {
    use base64::Engine;
    let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.as_bytes());
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "wardline_typed_{name}={encoded}; Path={page}; Max-Age=120; HttpOnly; SameSite=Strict{secure}"
    );
    if let Ok(value) = http::HeaderValue::from_str(&cookie) {
        options.append_header(http::header::SET_COOKIE, value);
    }
}

/// A value kept by [`keep_typed`] for the page being rendered, if any (at most 320 bytes of
/// text; anything else is ignored).
pub fn typed(name: &str) -> Option<String> {
    use base64::Engine;
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    let wanted = format!("wardline_typed_{name}");
    parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == wanted)
        .and_then(|(_, value)| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(value)
                .ok()
        })
        .filter(|bytes| bytes.len() <= 320)
        .and_then(|bytes| String::from_utf8(bytes).ok())
}
