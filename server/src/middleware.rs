//! Response and request middleware shared by every route: error statuses, cross-site request
//! refusal, safe redirects and security headers.

use axum::body::{Body, to_bytes};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use app::backend::state::AppState;
use app::error::AppError;

/// Leptos answers a server function's error with 500 unless the function set a status
/// itself; errors raised before the body runs (an argument that does not decode) never can.
/// This gives every `AppError` its own status, whichever path produced it.
pub async fn error_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // Error bodies are small; anything bigger is not an AppError and passes through as is.
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(err.status())
    {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn host(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|h| h.to_str().ok())
}

/// The authority (host and port) of an absolute http(s) URL.
fn authority(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

/// A `Location` that stays on this site, in its normal form (an absolute URL on this host
/// stays absolute), or `None`; the one rule for return addresses decides.
fn local_location(location: &str, host: Option<&str>) -> Option<String> {
    match authority(location) {
        Some(authority) if Some(authority) == host => {
            let start = location.find(authority)? + authority.len();
            let (origin, rest) = location.split_at(start);
            let path = if rest.starts_with('/') {
                rest.to_owned()
            } else {
                format!("/{rest}")
            };
            app::domain::redirect::safe_next(&path).map(|path| format!("{origin}{path}"))
        }
        Some(_) => None,
        None => app::domain::redirect::safe_next(location),
    }
}

/// Refuses state-changing requests from other sites: any non-GET/HEAD/OPTIONS request whose
/// `Origin` is not this host, or that the browser marks `Sec-Fetch-Site: cross-site`. Plain
/// HTML form posts carry both headers, so they are covered without a custom header.
pub async fn same_origin(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let headers = req.headers();
        let cross_site = headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"cross-site");
        let foreign_origin = match headers.get(header::ORIGIN).map(|o| o.to_str()) {
            None => false,
            Some(Ok(origin)) => authority(origin).is_none() || authority(origin) != host(headers),
            Some(Err(_)) => true,
        };
        if cross_site || foreign_origin {
            return app::error::AppError::CrossSite.into_response();
        }
    }
    let host = host(req.headers()).map(str::to_owned);
    // Single sign-on's start sends the browser to the identity provider: the one redirect
    // off this site, to an address built from the provider's own configuration.
    let to_provider = {
        let path = req.uri().path();
        path.starts_with("/sso/") && path.ends_with("/start")
    };
    let mut res = next.run(req).await;
    if to_provider {
        return res;
    }
    // The no-script form fallback redirects to the Referer: never let that leave the site.
    // The same rule as every redirect the app makes (`domain::redirect::safe_next`).
    if let Some(location) = res.headers().get(header::LOCATION) {
        let kept = location
            .to_str()
            .ok()
            .and_then(|l| local_location(l, host.as_deref()))
            .and_then(|path| HeaderValue::from_str(&path).ok())
            .unwrap_or(HeaderValue::from_static("/"));
        res.headers_mut().insert(header::LOCATION, kept);
    }
    res
}

/// The policy for HTML pages: scripts only with this response's nonce (which Leptos puts on
/// its hydration scripts), everything else from this origin.
fn page_policy(nonce: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         worker-src 'self'; manifest-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ))
    .ok()
}

/// Gives the page being rendered the nonce this middleware chose for the request (see
/// `security_headers`), so the scripts Leptos writes and the policy sent always agree.
pub fn provide_request_nonce() {
    use leptos::prelude::{provide_context, use_context};
    if let Some(nonce) = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<leptos::nonce::Nonce>().cloned())
    {
        provide_context(nonce);
    }
}

/// Headers on every response. Each request gets a fresh nonce here; an HTML response is sent
/// with the page policy naming it (the page's scripts carry it through
/// `provide_request_nonce`), so no page can leave without its policy whichever handler
/// rendered it. Everything else gets a policy that allows nothing.
pub async fn security_headers(mut req: Request, next: Next) -> Response {
    let nonce = leptos::nonce::Nonce::new();
    req.extensions_mut().insert(nonce.clone());
    let is_asset = req.uri().path().starts_with("/pkg/") || req.uri().path() == "/favicon.svg";
    let is_hashed = req
        .uri()
        .path()
        .strip_prefix("/pkg/")
        .is_some_and(is_content_hashed);
    // The break-glass service worker runs under its own script's policy: it may fetch from
    // this origin (to keep the pack) and nothing else.
    let is_worker = req.uri().path() == "/break-glass-sw.js";
    let mut res = next.run(req).await;
    if is_worker && res.status().is_success() {
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; connect-src 'self'"),
        );
    }
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html && let Some(policy) = page_policy(&nonce) {
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    let status = res.status();
    let h = res.headers_mut();
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ),
        );
    }
    if !is_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else if is_hashed && status.is_success() {
        // The name changes whenever the content does, so a copy never goes stale.
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    } else if status.is_success() || status == StatusCode::NOT_MODIFIED {
        // Same name, new content on the next build: check before using a kept copy.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    } else {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// A file name as cargo-leptos's `hash-files` writes it: `name.HASH.ext`, HASH being the
/// file's MD5 in unpadded URL-safe base64 (22 characters).
fn is_content_hashed(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    !name.contains('/')
        && parts.len() >= 3
        && parts[1..parts.len() - 1].iter().any(|p| {
            p.len() == 22
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Deny by default: a server function outside the public allow-list answers 401 to anyone
/// not signed in, before its arguments are even read. Each function still checks its own
/// permissions; this is the floor under them. Read-only people (regulators) are refused
/// every function not declared as reading or as their own account's (`app::api::is_write`).
/// Every refusal of a write (403 or 404, here or from the function's own scope checks) is
/// audited with the caller and their address.
pub async fn api_floor(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if !path.starts_with("/api/") || app::api::auth::PUBLIC_ENDPOINTS.contains(&path.as_str()) {
        return next.run(req).await;
    }
    // The session and the change generation in one statement: the caller is checked
    // against the generation next (here for a write, in the function for a read).
    let (person, generation) = match req.extensions().get::<tower_sessions::Session>() {
        Some(session) => {
            app::backend::sessions::reading_generation(
                session.get::<i64>(app::backend::sessions::PERSON_KEY),
            )
            .await
        }
        None => (Ok(None), None),
    };
    let Some(person) = person.ok().flatten() else {
        return refuse(AppError::Unauthorized);
    };
    req.extensions_mut()
        .insert(app::backend::callers::ReadForRequest {
            generation,
            known: None,
        });
    // A plain form post (no script on the page): what it answers is kept for the page it
    // goes back to (see `app::backend::answers`).
    // So is the answer to a form the page's script sent for it (it then reloads the page).
    let plain_post = req.method() == Method::POST
        && (req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
            || req
                .headers()
                .contains_key(app::backend::answers::FORM_HEADER));
    let session = plain_post
        .then(|| req.extensions().get::<tower_sessions::Session>().cloned())
        .flatten();
    if !app::api::is_write(&path) {
        let res = next.run(req).await;
        return match session {
            Some(session) => keep_answer(&session, &path, res).await,
            None => res,
        };
    }
    // The same rule as everywhere else: a trusted proxy's forwarded address, or the peer.
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| {
            app::backend::client_addr::resolve(
                addr.ip(),
                req.headers(),
                &state.auth.trusted_proxies,
            )
            .to_string()
        });
    let res = match state.callers.known_at(&state.db, person, generation).await {
        Ok(Some(known)) if known.is_read_only() => refuse(AppError::Forbidden),
        Ok(Some(known)) => {
            // The function's own `caller` takes them from here instead of reading again.
            req.extensions_mut()
                .insert(app::backend::callers::ReadForRequest {
                    generation,
                    known: Some((person, known)),
                });
            next.run(req).await
        }
        Ok(None) => next.run(req).await,
        Err(err) => refuse(err),
    };
    let res = match session {
        Some(session) => keep_answer(&session, &path, res).await,
        None => res,
    };
    if matches!(res.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
        let event = app::backend::audit::Event {
            actor: Some(person),
            action: "write_refused",
            subject: Some(path.clone()),
            detail: Some(res.status().as_u16().to_string()),
            client,
            outcome: Some(app::backend::audit::REFUSED),
            ..Default::default()
        };
        if let Err(err) = app::backend::audit::record(&state.db, event).await {
            tracing::warn!(?err, %path, "auditing a refused write");
        }
    }
    res
}

/// Keeps the answer of a form post that succeeded (a plain post's redirect back to the page
/// whose address carries no error, or a 2xx to the page's script) in the session. A plain
/// post's redirect is sent without it.
async fn keep_answer(session: &tower_sessions::Session, path: &str, res: Response) -> Response {
    let redirected = res.status().is_redirection();
    let kept = if redirected {
        res.headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| !l.contains("__err="))
    } else {
        res.status().is_success()
    };
    if !kept {
        return res;
    }
    let (parts, body) = res.into_parts();
    let bytes = match to_bytes(body, app::backend::answers::MOST).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(?err, %path, "reading a form's answer");
            return Response::from_parts(parts, Body::empty());
        }
    };
    if let Ok(answer) = std::str::from_utf8(&bytes)
        && let Err(err) = app::backend::answers::keep(session, path, answer.to_owned()).await
    {
        tracing::warn!(?err, %path, "keeping a form's answer");
    }
    let body = if redirected {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    Response::from_parts(parts, body)
}

/// Server functions' callers decode the error themselves.
fn refuse(err: AppError) -> Response {
    app::backend::errors::ForServerFn(err).into_response()
}

#[cfg(test)]
mod tests {
    use super::{authority, is_content_hashed, local_location};

    #[test]
    fn only_cargo_leptos_hashed_names_count_as_content_hashed() {
        assert!(is_content_hashed("wardline.Xp3w0vYtq1Ck-rn_9fZ2Aw.wasm"));
        assert!(is_content_hashed("__wasm_split.Xp3w0vYtq1Ck-rn_9fZ2Aw.js"));
        for plain in [
            "wardline.wasm",
            "wardline.css",
            "wardline.Xp3w0vYtq1Ck-rn_9fZ2A.wasm",
            "Xp3w0vYtq1Ck-rn_9fZ2Aw.wasm",
            "wardline.Xp3w0vYtq1Ck+rn/9fZ2Aw.wasm",
            "x/wardline.Xp3w0vYtq1Ck-rn_9fZ2Aw.wasm",
        ] {
            assert!(!is_content_hashed(plain), "{plain}");
        }
    }

    #[test]
    fn a_location_stays_on_this_host() {
        let host = Some("127.0.0.1:3000");
        let kept = |l: &str| local_location(l, host);
        assert_eq!(kept("/orgs/RJ1").as_deref(), Some("/orgs/RJ1"));
        assert_eq!(
            kept("http://127.0.0.1:3000/orgs?x=1").as_deref(),
            Some("http://127.0.0.1:3000/orgs?x=1")
        );
        assert_eq!(
            kept("http://127.0.0.1:3000?x=1").as_deref(),
            Some("http://127.0.0.1:3000/?x=1")
        );
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https:evil.example",
            "HTTPS://evil.example",
            "https://evil.example/orgs",
            "http://127.0.0.1:3000//evil.example",
            "http://127.0.0.1:3000@evil.example/",
            "javascript:alert(1)",
        ] {
            assert_eq!(kept(hostile), None, "{hostile}");
        }
    }

    #[test]
    fn authority_is_the_host_and_port_only() {
        assert_eq!(
            authority("http://127.0.0.1:3000/orgs?x=1"),
            Some("127.0.0.1:3000")
        );
        assert_eq!(authority("https://evil.example"), Some("evil.example"));
        assert_eq!(authority("https://evil.example?x"), Some("evil.example"));
        assert_eq!(authority("/orgs"), None);
        assert_eq!(authority("null"), None);
    }
}
