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

    // Whichever handler renders it (a route, the not-found fallback, a page for a signed-in
    // person), the policy sent names the nonce the page's scripts carry.
    let sam = app.enrolled(crate::helpers::people::SAM).await;
    let reference = app.declare(&sam, "ransomware").await;
    for (who, path) in [
        (&app.client, "/no-such-page".to_owned()),
        (&app.client, "/declare".to_owned()),
        (&sam, format!("/incidents/{reference}")),
        (&sam, "/orgs/RJZ/on-call".to_owned()),
    ] {
        let res = who
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: a page policy with a nonce, got {csp}"))
            .to_owned();
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("nonce=\"{nonce}\"")),
            "{path}: the scripts carry the nonce the policy names"
        );
    }

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

const PRIYA: &str = "priya.raman@demo.wardline.test";
const TOM: &str = "tom.okafor@demo.wardline.test";
const SAM: &str = "sam.whitfield@demo.wardline.test";

#[tokio::test]
async fn org_admin_cannot_change_a_person_outside_their_subtree() {
    let app = spawn_app().await.with_demo().await;
    // Priya administers RJ1; Sam's home is RJZ, a sibling trust.
    let priya = app.enrolled(PRIYA).await;
    let sam = app.enrolled(SAM).await;
    // An invitation naming Sam, to Priya's own trust, cannot take over his account.
    let link = app.invite(&priya, SAM, "RJ1", "staff").await;
    let token = link.rsplit('/').next().unwrap();
    let taken = app
        .post_form(
            "/api/auth/accept_invite",
            &[("token", token), ("password", "priya picked this one")],
        )
        .await;
    assert_eq!(taken.status(), 422);
    assert_eq!(
        app.sign_in_with(&app.new_client(), SAM, "priya picked this one")
            .await
            .status(),
        401
    );
    for (path, form) in [
        ("/api/people/reset_mfa", vec![("email", SAM)]),
        (
            "/api/admin/set_disabled",
            vec![("email", SAM), ("disabled", "true")],
        ),
    ] {
        assert_eq!(
            app.post_with(&priya, path, &form).await.status(),
            404,
            "{path}"
        );
    }
    assert_eq!(
        app.post_with(&sam, "/api/orgs/tree", &[]).await.status(),
        200,
        "Sam's session is untouched"
    );

    // Inside her subtree the reset works: Tom is signed out everywhere and must enrol again.
    let tom = app.enrolled(TOM).await;
    assert_eq!(
        app.post_with(&priya, "/api/people/reset_mfa", &[("email", TOM)])
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_with(&tom, "/api/orgs/tree", &[]).await.status(),
        401
    );
    let again = app.new_client();
    let outcome: app::domain::auth::SignInOutcome = app
        .sign_in_with(&again, TOM, DEMO_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        outcome,
        app::domain::auth::SignInOutcome::SignedIn,
        "no second factor is asked for any more"
    );
    let rows = app.audit_rows("mfa_reset").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].subject.as_deref(), Some(TOM));
}

/// Walks every sensitive action once and reads the audit trail back: each row names the
/// actor, the client's address and how the attempt ended.
#[tokio::test]
async fn every_sensitive_action_is_audited_with_actor_client_and_outcome() {
    let app = spawn_app().await.with_demo().await;
    let priya_id = app.person_id(PRIYA).await;
    let tom_id = app.person_id(TOM).await;
    let nadia = "nadia.kowalski@demo.wardline.test";
    let nadia_id = app.person_id(nadia).await;

    // MFA enrolment, a wrong second factor, a recovery code.
    let priya = app.new_client();
    app.sign_in_with(&priya, PRIYA, DEMO_PASSWORD).await;
    let (_, codes) = app.enrol_on(&priya).await;
    let phone = app.new_client();
    app.sign_in_with(&phone, PRIYA, DEMO_PASSWORD).await;
    assert_eq!(
        app.post_with(&phone, "/api/auth/second_factor", &[("code", "000000")])
            .await
            .status(),
        422
    );
    assert_eq!(
        app.post_with(&phone, "/api/auth/second_factor", &[("code", &codes[0])])
            .await
            .status(),
        200
    );

    // Invitations: to a new person (accepted by link), to existing people (a link refused,
    // one grant request accepted, one refused).
    let fresh = app
        .invite(&priya, "new.nurse@demo.wardline.test", "RJ1", "staff")
        .await;
    let fresh_token = fresh.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        app.post_form(
            "/api/auth/accept_invite",
            &[
                ("token", &fresh_token),
                ("password", "night shift on ward 7")
            ]
        )
        .await
        .status(),
        200
    );
    let new_id = app.person_id("new.nurse@demo.wardline.test").await;
    let to_tom = app.invite(&priya, TOM, "RJ1", "staff").await;
    assert_eq!(
        app.post_form(
            "/api/auth/accept_invite",
            &[
                ("token", to_tom.rsplit('/').next().unwrap()),
                ("password", "not toms choice at all")
            ]
        )
        .await
        .status(),
        422
    );
    app.invite(&priya, TOM, "RJ1", "lead").await;
    let tom = app.new_client();
    app.sign_in_with(&tom, TOM, DEMO_PASSWORD).await;
    let pending: Vec<app::domain::auth::GrantRequestView> = app
        .post_with(&tom, "/api/auth/grant_requests", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending.len(), 2);
    for (req, path) in pending.iter().zip([
        "/api/auth/accept_grant_request",
        "/api/auth/refuse_grant_request",
    ]) {
        assert_eq!(
            app.post_with(&tom, path, &[("id", &req.id.to_string())])
                .await
                .status(),
            200,
            "{path}"
        );
    }

    // An admin's reset of someone's two-step verification.
    let nadia_client = app.enrolled(nadia).await;
    drop(nadia_client);
    assert_eq!(
        app.post_with(&priya, "/api/people/reset_mfa", &[("email", nadia)])
            .await
            .status(),
        404,
        "Nadia is outside Priya's trust"
    );
    let gareth = app.enrolled("gareth.lloyd@demo.wardline.test").await;
    let gareth_id = app.person_id("gareth.lloyd@demo.wardline.test").await;
    assert_eq!(
        app.post_with(&gareth, "/api/people/reset_mfa", &[("email", nadia)])
            .await
            .status(),
        200
    );

    // Every export, one of them refused.
    let reference: String = app
        .post_with(
            &gareth,
            "/api/incidents/declare",
            &[
                ("kind", "ransomware"),
                ("location", "Reception PC"),
                ("patients_affected", "unknown"),
                ("systems", "EMIS"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    for path in [
        "/export/chart.csv?org=QKK".to_owned(),
        "/export/chart.json?org=QKK".to_owned(),
        "/export/assets.csv?org=QKK".to_owned(),
        "/export/caf.csv?org=QKK".to_owned(),
        format!("/export/incident.json?reference={reference}"),
    ] {
        let res = gareth
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
    let refused = priya
        .get(format!("{}/export/chart.csv?org=RJZ", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404, "outside Priya's reach");

    let expect: &[(&str, Option<i64>, &str)] = &[
        ("mfa_enrolled", Some(priya_id), "success"),
        ("second_factor_failed", Some(priya_id), "failure"),
        ("recovery_code_used", Some(priya_id), "success"),
        ("invite_created", Some(priya_id), "success"),
        ("invite_accepted", Some(new_id), "success"),
        ("invite_accepted", None, "refused"),
        ("grant_request_accepted", Some(tom_id), "success"),
        ("grant_request_refused", Some(tom_id), "success"),
        ("mfa_reset", Some(gareth_id), "success"),
        ("chart_exported", Some(gareth_id), "success"),
        ("chart_exported", Some(priya_id), "refused"),
        ("assets_exported", Some(gareth_id), "success"),
        ("caf_exported", Some(gareth_id), "success"),
        ("incident_exported", Some(gareth_id), "success"),
    ];
    for (action, actor, outcome) in expect {
        let rows = app.audit_rows(action).await;
        let row = rows
            .iter()
            .find(|r| r.actor_id == *actor && r.outcome == *outcome)
            .unwrap_or_else(|| panic!("{action} by {actor:?} ({outcome}): {rows:#?}"));
        assert_eq!(row.client.as_deref(), Some("127.0.0.1"), "{action}");
    }
    assert_eq!(app.audit_rows("invite_created").await.len(), 3);
    assert_eq!(
        app.audit_rows("chart_exported")
            .await
            .iter()
            .filter(|r| r.actor_id == Some(gareth_id))
            .count(),
        2,
        "csv and json"
    );
    let _ = nadia_id;
}
