//! The HTTP surface as an attacker sees it: deny by default, no cross-site writes, no open
//! redirects, and the security headers on every response.

use leptos::server_fn::axum::server_fn_paths;

use crate::helpers::{DEMO_PASSWORD, spawn_app};

#[tokio::test]
async fn every_server_function_outside_the_allow_list_refuses_anonymous_callers() {
    let app = spawn_app().await.with_demo().await;
    let public = app::api::auth::PUBLIC_ENDPOINTS;
    let paths: Vec<_> = server_fn_paths().collect();
    assert!(
        paths.len() >= 12,
        "every registered function is found: {}",
        paths.len()
    );
    for p in public {
        assert!(
            paths.iter().any(|(path, _)| path == p),
            "{p} is a real endpoint"
        );
    }
    for (path, _) in &paths {
        if public.iter().any(|p| p == path) {
            continue;
        }
        let status = app
            .post_with(&app.new_client(), path, &[])
            .await
            .status()
            .as_u16();
        assert!(
            status == 401 || status == 403,
            "{path} answered {status} to an anonymous caller"
        );
    }
}

#[tokio::test]
async fn no_server_function_answers_get() {
    let app = spawn_app().await.with_demo().await;
    app.sign_in("nadia.kowalski@demo.wardline.test").await;
    for (path, method) in server_fn_paths() {
        assert_eq!(method, http::Method::POST, "{path}");
        let status = app.get(path).await.status();
        assert!(
            status == 405 || status == 404 || status == 401,
            "GET {path} answered {status}"
        );
    }
}

#[tokio::test]
async fn a_request_from_a_foreign_origin_is_refused() {
    let app = spawn_app().await.with_demo().await;
    let url = format!("{}/api/auth/sign_in", app.address);
    let form = [
        ("email", "nadia.kowalski@demo.wardline.test"),
        ("password", DEMO_PASSWORD),
    ];
    let foreign = app
        .client
        .post(&url)
        .header("Origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let cross = app
        .client
        .post(&url)
        .header("Sec-Fetch-Site", "cross-site")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let own_origin = app.address.clone();
    let same = app
        .client
        .post(&url)
        .header("Origin", own_origin)
        .header("Sec-Fetch-Site", "same-origin")
        .header("Accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
}

#[tokio::test]
async fn the_no_script_form_fallback_never_redirects_off_site() {
    let app = spawn_app().await.with_demo().await;
    let res = app
        .client
        .post(format!("{}/api/auth/sign_in", app.address))
        .header("Accept", "text/html")
        .header("Referer", "https://evil.example/phish")
        .form(&[
            ("email", "nobody@demo.wardline.test"),
            ("password", "whatever it is"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/");

    let own = format!("{}/sign-in", app.address);
    let res = app
        .client
        .post(format!("{}/api/auth/sign_in", app.address))
        .header("Accept", "text/html")
        .header("Referer", own.clone())
        .form(&[
            ("email", "nobody@demo.wardline.test"),
            ("password", "whatever it is"),
        ])
        .send()
        .await
        .unwrap();
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(&format!("{own}?")),
        "back to the page, with the error: {location}"
    );
}

#[tokio::test]
async fn pages_carry_a_nonce_csp_and_the_security_headers() {
    let app = spawn_app().await.with_demo().await;
    let a = app.get("/sign-in").await;
    let b = app.get("/sign-in").await;
    assert_eq!(a.status(), 200);
    let csp = a.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a nonce")
        .to_owned();
    assert_ne!(
        b.headers()["content-security-policy"].to_str().unwrap(),
        csp,
        "a fresh nonce per response"
    );
    for directive in [
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "'wasm-unsafe-eval'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let h = a.headers();
    assert!(
        h["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["cache-control"], "no-store");
    let html = a.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration scripts carry the nonce"
    );

    let api = app.post_form("/api/auth/status", &[]).await;
    assert!(
        api.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(api.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn regulators_cannot_change_anything() {
    let app = spawn_app().await.with_demo().await;
    let ruth = app.enrolled("ruth.adeyemi@demo.wardline.test").await;
    assert_eq!(
        app.post_with(&ruth, "/api/orgs/tree", &[]).await.status(),
        200,
        "a regulator reads"
    );
    let invite = app
        .post_with(
            &ruth,
            "/api/admin/invite",
            &[
                ("email", "a@demo.wardline.test"),
                ("name", "A"),
                ("org_code", "Y56"),
                ("role", "staff"),
            ],
        )
        .await;
    assert_eq!(invite.status(), 403);
    let disable = app
        .post_with(
            &ruth,
            "/api/admin/set_disabled",
            &[
                ("email", "nadia.kowalski@demo.wardline.test"),
                ("disabled", "true"),
            ],
        )
        .await;
    assert_eq!(disable.status(), 403);
}

#[tokio::test]
async fn an_org_admin_cannot_reach_people_outside_their_subtree() {
    let app = spawn_app().await.with_demo().await;
    // Gareth administers the ICB (QKK): practices and trusts under it are his; Ruth's region is not.
    let gareth = app.enrolled("gareth.lloyd@demo.wardline.test").await;
    let outside = app
        .post_with(
            &gareth,
            "/api/admin/set_disabled",
            &[
                ("email", "ruth.adeyemi@demo.wardline.test"),
                ("disabled", "true"),
            ],
        )
        .await;
    assert_eq!(outside.status(), 404);
    let inside = app
        .post_with(
            &gareth,
            "/api/admin/set_disabled",
            &[
                ("email", "nadia.kowalski@demo.wardline.test"),
                ("disabled", "true"),
            ],
        )
        .await;
    assert_eq!(inside.status(), 200);
    let outside_invite = app
        .post_with(
            &gareth,
            "/api/admin/invite",
            &[
                ("email", "a@demo.wardline.test"),
                ("name", "A"),
                ("org_code", "RRU"),
                ("role", "staff"),
            ],
        )
        .await;
    assert_eq!(
        outside_invite.status(),
        404,
        "RRU sits under the region, not the ICB"
    );
}
