//! Accounts and sessions over HTTP: sign-in, cookies, time-outs, sign-out, password changes,
//! MFA, invitations and rate limits.

use app::domain::auth::{
    AccessRole, AuthStatus, GrantRequestView, MfaEnrolment, SessionView, SignInOutcome,
};

use crate::helpers::people::{GARETH, NADIA, OWEN, PRIYA, TOM};
use crate::helpers::{DEMO_PASSWORD, TestApp, spawn_app};

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("wardline_session="))
        .map(str::to_owned)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_strict() {
    let app = spawn_app().await.with_demo().await;
    let res = app.sign_in_with(&app.client, NADIA, DEMO_PASSWORD).await;
    assert_eq!(res.status(), 200);
    let cookie = session_cookie(&res).expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    // Tests run over plain http with Secure explicitly switched off; see secure_is_the_default.
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[test]
fn secure_cookies_are_the_default() {
    assert!(app::backend::state::AuthSettings::default().secure_cookies);
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in() {
    let app = spawn_app().await.with_demo().await;
    let client = app.new_client();
    // A session that exists before sign-in (a pending second factor makes one; so does any
    // write) must not survive it: an attacker-planted id is worthless.
    let before = app.sign_in_with(&client, NADIA, "wrong password").await;
    assert_eq!(before.status(), 401);
    let planted = "wardline_session=AAAAAAAAAAAAAAAAAAAAAA";
    let res = client
        .post(format!("{}/api/auth/sign_in", app.address))
        .header("Accept", "application/json")
        .header("Cookie", planted)
        .form(&[("email", NADIA), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let issued = cookie_value(&session_cookie(&res).unwrap());
    assert_ne!(issued, planted);
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = spawn_app().await.with_demo().await;
    let res = app.sign_in_with(&app.client, NADIA, DEMO_PASSWORD).await;
    let cookie = cookie_value(&session_cookie(&res).unwrap());
    let bare = reqwest::Client::new();
    let call = |c: &str| {
        bare.post(format!("{}/api/orgs/tree", app.address))
            .header("Accept", "application/json")
            .header("Cookie", c.to_owned())
            .send()
    };
    assert_eq!(call(&cookie).await.unwrap().status(), 200);
    assert_eq!(app.post_form("/api/auth/sign_out", &[]).await.status(), 200);
    assert_eq!(
        call(&cookie).await.unwrap().status(),
        401,
        "the old cookie must no longer work"
    );
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_look_the_same() {
    let app = spawn_app().await.with_demo().await;
    let unknown = app
        .sign_in_with(
            &app.new_client(),
            "nobody@demo.wardline.test",
            "some password",
        )
        .await;
    let wrong = app
        .sign_in_with(&app.new_client(), NADIA, "some password")
        .await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(unknown.status(), wrong.status());
    assert_eq!(unknown.text().await.unwrap(), wrong.text().await.unwrap());
}

#[tokio::test]
async fn a_disabled_person_is_signed_out_and_cannot_sign_in() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.new_client();
    assert_eq!(
        app.sign_in_with(&nadia, NADIA, DEMO_PASSWORD)
            .await
            .status(),
        200
    );
    let id = app::backend::people::find_by_email(&app.db, NADIA)
        .await
        .unwrap()
        .unwrap()
        .id;
    app::backend::people::mark_disabled(&app.db, None, id, true)
        .await
        .unwrap();
    assert_eq!(
        app.post_with(&nadia, "/api/orgs/tree", &[]).await.status(),
        401
    );
    let again = app
        .sign_in_with(&app.new_client(), NADIA, DEMO_PASSWORD)
        .await;
    assert_eq!(again.status(), 401);
}

#[tokio::test]
async fn changing_a_password_needs_the_current_one_and_ends_other_sessions() {
    let app = spawn_app().await.with_demo().await;
    let laptop = app.new_client();
    let phone = app.new_client();
    for c in [&laptop, &phone] {
        assert_eq!(
            app.sign_in_with(c, NADIA, DEMO_PASSWORD).await.status(),
            200
        );
    }
    let wrong = app
        .post_with(
            &laptop,
            "/api/auth/change_password",
            &[
                ("current", "not it at all"),
                ("new", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let common = app
        .post_with(
            &laptop,
            "/api/auth/change_password",
            &[("current", DEMO_PASSWORD), ("new", "password123")],
        )
        .await;
    assert_eq!(common.status(), 422);
    let ok = app
        .post_with(
            &laptop,
            "/api/auth/change_password",
            &[
                ("current", DEMO_PASSWORD),
                ("new", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(
        app.post_with(&laptop, "/api/orgs/tree", &[]).await.status(),
        200,
        "this session stays"
    );
    assert_eq!(
        app.post_with(&phone, "/api/orgs/tree", &[]).await.status(),
        401,
        "others end"
    );
    assert_eq!(
        app.sign_in_with(&app.new_client(), NADIA, DEMO_PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.sign_in_with(&app.new_client(), NADIA, "a brand new passphrase")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_person_sees_their_sessions_and_can_sign_out_everywhere_else() {
    let app = spawn_app().await.with_demo().await;
    let other = app.new_client();
    app.sign_in(NADIA).await;
    assert_eq!(
        app.sign_in_with(&other, NADIA, DEMO_PASSWORD)
            .await
            .status(),
        200
    );
    let list: Vec<SessionView> = app
        .post_form("/api/auth/sessions", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s.current).count(), 1);
    let ended: u64 = app
        .post_form("/api/auth/sign_out_everywhere", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ended, 1);
    assert_eq!(
        app.post_with(&other, "/api/orgs/tree", &[]).await.status(),
        401
    );
    assert_eq!(app.post_form("/api/orgs/tree", &[]).await.status(), 200);
}

#[tokio::test]
async fn repeated_guesses_are_slowed_with_429() {
    let app = spawn_app().await.with_demo().await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            app.sign_in_with(&app.new_client(), NADIA, "guess guess guess")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(&statuses[..5], &[401; 5]);
    assert_eq!(statuses[6], 429);
}

#[tokio::test]
async fn an_admin_must_enrol_in_mfa_and_then_signs_in_with_a_code() {
    let app = spawn_app().await.with_demo().await;
    app.sign_in(PRIYA).await;
    // Until enrolled, an org admin can reach nothing but enrolment.
    assert_eq!(app.post_form("/api/orgs/tree", &[]).await.status(), 403);
    let enrol: MfaEnrolment = app
        .post_form("/api/auth/mfa_begin", &[])
        .await
        .json()
        .await
        .unwrap();
    let secret = enrol.secret.clone();
    assert!(enrol.otpauth_url.starts_with("otpauth://totp/"));
    assert!(enrol.qr_svg.contains("<svg"));
    let bad = app
        .post_form("/api/auth/mfa_confirm", &[("code", "000000")])
        .await;
    assert_eq!(bad.status(), 422);
    let code = app::backend::mfa::code_now(&secret).unwrap();
    let codes: Vec<String> = app
        .post_form("/api/auth/mfa_confirm", &[("code", &code)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);
    assert_eq!(app.post_form("/api/orgs/tree", &[]).await.status(), 200);

    // A new sign-in now needs the second factor; the same code cannot be used twice.
    let phone = app.new_client();
    let step1: SignInOutcome = app
        .sign_in_with(&phone, PRIYA, DEMO_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(step1, SignInOutcome::NeedsSecondFactor);
    assert_eq!(
        app.post_with(&phone, "/api/orgs/tree", &[]).await.status(),
        401
    );
    let replay = app
        .post_with(&phone, "/api/auth/second_factor", &[("code", &code)])
        .await;
    assert_eq!(replay.status(), 422, "a code is accepted once");
    let recovery = app
        .post_with(&phone, "/api/auth/second_factor", &[("code", &codes[0])])
        .await;
    assert_eq!(recovery.status(), 200);
    assert_eq!(
        app.post_with(&phone, "/api/orgs/tree", &[]).await.status(),
        200
    );

    let tablet = app.new_client();
    app.sign_in_with(&tablet, PRIYA, DEMO_PASSWORD).await;
    let reused = app
        .post_with(&tablet, "/api/auth/second_factor", &[("code", &codes[0])])
        .await;
    assert_eq!(reused.status(), 422, "a recovery code works once");
}

#[tokio::test]
async fn an_invitation_works_once_and_the_invitee_sets_their_own_password() {
    let app = spawn_app().await.with_demo().await;
    let db = &app.db;
    let admin_id = app::backend::people::find_by_email(db, PRIYA)
        .await
        .unwrap()
        .unwrap()
        .id;
    // Act as Priya, an org admin of RJ1, directly through the service.
    let state = app.state();
    let priya = app::backend::access::User {
        person_id: admin_id,
        name: "Priya Raman".into(),
        email: PRIYA.into(),
        grants: vec![(
            app::backend::orgs::find_by_code(db, "RJ1")
                .await
                .unwrap()
                .unwrap()
                .id,
            app::domain::auth::AccessRole::OrgAdmin,
        )],
        mfa_enabled: true,
        second_factor: true,
    };
    let link = app::backend::invites::create(
        &state,
        &priya,
        "new.nurse@demo.wardline.test",
        "New Nurse",
        "RJ1",
        app::domain::auth::AccessRole::Staff,
        None,
    )
    .await
    .unwrap();
    let token = link.rsplit('/').next().unwrap().to_owned();
    // Outside her subtree the organisation does not exist for her.
    let outside = app::backend::invites::create(
        &state,
        &priya,
        "x@demo.wardline.test",
        "X",
        "RJZ",
        app::domain::auth::AccessRole::Staff,
        None,
    )
    .await;
    assert_eq!(outside.unwrap_err(), app::error::AppError::NotFound);

    let weak = app
        .post_form(
            "/api/auth/accept_invite",
            &[("token", &token), ("password", "12345678")],
        )
        .await;
    assert_eq!(weak.status(), 422);
    let ok = app
        .post_form(
            "/api/auth/accept_invite",
            &[("token", &token), ("password", "night shift on ward 7")],
        )
        .await;
    assert_eq!(ok.status(), 200);
    let again = app
        .post_form(
            "/api/auth/accept_invite",
            &[("token", &token), ("password", "another good passphrase")],
        )
        .await;
    assert_eq!(again.status(), 422, "single use");
    let res = app
        .sign_in_with(
            &app.new_client(),
            "new.nurse@demo.wardline.test",
            "night shift on ward 7",
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn an_idle_session_times_out() {
    let app =
        crate::helpers::spawn_app_with(|s| s.auth.idle_timeout = std::time::Duration::from_secs(1))
            .await
            .with_demo()
            .await;
    app.sign_in(NADIA).await;
    assert_eq!(app.post_form("/api/orgs/tree", &[]).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(app.post_form("/api/orgs/tree", &[]).await.status(), 401);
}

#[tokio::test]
async fn a_busy_session_still_ends_at_its_absolute_limit() {
    // Generous numbers: the suite runs many tests at once on two cores.
    let limit = std::time::Duration::from_secs(4);
    let app = crate::helpers::spawn_app_with(|s| s.auth.absolute_timeout = limit)
        .await
        .with_demo()
        .await;
    let started = std::time::Instant::now();
    app.sign_in(NADIA).await;
    for _ in 0..3 {
        assert_eq!(app.post_form("/api/orgs/tree", &[]).await.status(), 200);
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }
    // Busy all along, but past the limit counted from sign-in.
    let wait = (limit + std::time::Duration::from_secs(1)).saturating_sub(started.elapsed());
    tokio::time::sleep(wait).await;
    assert_eq!(app.post_form("/api/orgs/tree", &[]).await.status(), 401);
}

#[tokio::test]
async fn the_first_national_admin_comes_from_the_cli_and_must_enrol_mfa() {
    let app = spawn_app().await;
    server::admin::create_national_admin(
        &app.db,
        "Chief@Example.nhs.uk",
        "Chief Admin",
        "X24",
        "a long admin passphrase".into(),
    )
    .await
    .unwrap();
    let again = server::admin::create_national_admin(
        &app.db,
        "chief@example.nhs.uk",
        "Again",
        "X24",
        "another long passphrase".into(),
    )
    .await;
    assert!(again.is_err(), "an existing email is refused");
    let weak = server::admin::create_national_admin(
        &app.db,
        "b@example.nhs.uk",
        "B",
        "X24",
        "password".into(),
    )
    .await;
    assert!(weak.is_err(), "the password rules apply");
    let res = app
        .sign_in_with(
            &app.client,
            "chief@example.nhs.uk",
            "a long admin passphrase",
        )
        .await;
    assert_eq!(res.status(), 200);
    let status: AuthStatus = app
        .post_form("/api/auth/status", &[])
        .await
        .json()
        .await
        .unwrap();
    let AuthStatus::SignedIn(me) = status else {
        panic!("signed in: {status:?}")
    };
    assert!(me.must_enrol_mfa);
    assert_eq!(me.grants[0].role, AccessRole::NationalAdmin);
    assert_eq!(
        app.post_form("/api/orgs/tree", &[]).await.status(),
        403,
        "nothing until MFA"
    );
}

#[tokio::test]
async fn an_expired_invitation_is_refused() {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let app = spawn_app().await.with_demo().await;
    let db = &app.db;
    let priya = app::backend::access::User {
        person_id: app::backend::people::find_by_email(db, PRIYA)
            .await
            .unwrap()
            .unwrap()
            .id,
        name: "Priya Raman".into(),
        email: PRIYA.into(),
        grants: vec![(
            app::backend::orgs::find_by_code(db, "RJ1")
                .await
                .unwrap()
                .unwrap()
                .id,
            app::domain::auth::AccessRole::OrgAdmin,
        )],
        mfa_enabled: true,
        second_factor: true,
    };
    let link = app::backend::invites::create(
        &app.state(),
        &priya,
        "late@demo.wardline.test",
        "Late",
        "RJ1",
        app::domain::auth::AccessRole::Staff,
        None,
    )
    .await
    .unwrap();
    let token = link.rsplit('/').next().unwrap().to_owned();
    let invite = app::backend::entity::invite::Entity::find()
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let mut row: app::backend::entity::invite::ActiveModel = invite.into();
    row.expires_at = Set(time::OffsetDateTime::now_utc() - time::Duration::minutes(1));
    row.update(db).await.unwrap();
    let res = app
        .post_form(
            "/api/auth/accept_invite",
            &[("token", &token), ("password", "night shift on ward 7")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("expired"));
    assert!(
        app::backend::people::find_by_email(db, "late@demo.wardline.test")
            .await
            .unwrap()
            .is_none()
    );
}

fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}

async fn grant_requests(app: &TestApp, client: &reqwest::Client) -> Vec<GrantRequestView> {
    let res = app.post_with(client, "/api/auth/grant_requests", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The signed-in person's roles, as "role org_code".
async fn roles_of(app: &TestApp, client: &reqwest::Client) -> Vec<String> {
    let status: AuthStatus = app
        .post_with(client, "/api/auth/status", &[])
        .await
        .json()
        .await
        .unwrap();
    let AuthStatus::SignedIn(me) = status else {
        panic!("signed in: {status:?}")
    };
    me.grants
        .iter()
        .map(|g| format!("{} {}", g.role.as_str(), g.org_code))
        .collect()
}

#[tokio::test]
async fn invitation_to_an_existing_person_never_sets_their_password() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let fresh = app
        .invite(&priya, "new.nurse@demo.wardline.test", "RJ1", "staff")
        .await;
    let existing = app.invite(&priya, TOM, "RJ1", "staff").await;
    // The admin cannot tell an existing account from a new one by the answer.
    assert_eq!(
        fresh.rsplit_once('/').unwrap().0,
        existing.rsplit_once('/').unwrap().0
    );
    assert_eq!(token_of(&fresh).len(), token_of(&existing).len());

    let hijack = app
        .post_form(
            "/api/auth/accept_invite",
            &[
                ("token", &token_of(&existing)),
                ("password", "the admin chose this one"),
            ],
        )
        .await;
    assert_eq!(hijack.status(), 422);
    assert!(hijack.text().await.unwrap().contains("account page"));
    assert_eq!(
        app.sign_in_with(&app.new_client(), TOM, "the admin chose this one")
            .await
            .status(),
        401,
        "the link set no password"
    );

    // Tom answers it himself, signed in as himself.
    let tom = app.new_client();
    assert_eq!(
        app.sign_in_with(&tom, TOM, DEMO_PASSWORD).await.status(),
        200
    );
    let pending = grant_requests(&app, &tom).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].role, AccessRole::Staff);
    assert_eq!(pending[0].org_code, "RJ1");
    assert!(!roles_of(&app, &tom).await.contains(&"staff RJ1".to_owned()));
    let id = pending[0].id.to_string();
    assert_eq!(
        app.post_with(&tom, "/api/auth/accept_grant_request", &[("id", &id)])
            .await
            .status(),
        200
    );
    assert!(roles_of(&app, &tom).await.contains(&"staff RJ1".to_owned()));
    assert!(grant_requests(&app, &tom).await.is_empty());
    assert_eq!(
        app.post_with(&tom, "/api/auth/accept_grant_request", &[("id", &id)])
            .await
            .status(),
        409,
        "answered once"
    );
    // Nobody else can answer a request made to Tom.
    let other = app.invite(&priya, TOM, "RJ1", "lead").await;
    drop(other);
    let nadia = app.signed_in_as(NADIA).await;
    let toms = grant_requests(&app, &tom).await;
    assert_eq!(
        app.post_with(
            &nadia,
            "/api/auth/accept_grant_request",
            &[("id", &toms[0].id.to_string())]
        )
        .await
        .status(),
        404
    );
}

#[tokio::test]
async fn accepting_an_invitation_ends_other_sessions() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    app.invite(&priya, TOM, "RJ1", "staff").await;
    let laptop = app.new_client();
    let phone = app.new_client();
    for c in [&laptop, &phone] {
        assert_eq!(app.sign_in_with(c, TOM, DEMO_PASSWORD).await.status(), 200);
    }
    let id = grant_requests(&app, &laptop).await[0].id.to_string();
    assert_eq!(
        app.post_with(&laptop, "/api/auth/accept_grant_request", &[("id", &id)])
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_with(&laptop, "/api/orgs/tree", &[]).await.status(),
        200,
        "this session stays"
    );
    assert_eq!(
        app.post_with(&phone, "/api/orgs/tree", &[]).await.status(),
        401,
        "others end"
    );
}

#[tokio::test]
async fn enrolling_mfa_ends_other_sessions() {
    let app = spawn_app().await.with_demo().await;
    let laptop = app.new_client();
    let phone = app.new_client();
    for c in [&laptop, &phone] {
        assert_eq!(
            app.sign_in_with(c, NADIA, DEMO_PASSWORD).await.status(),
            200
        );
    }
    app.enrol_on(&laptop).await;
    assert_eq!(
        app.post_with(&laptop, "/api/orgs/tree", &[]).await.status(),
        200
    );
    assert_eq!(
        app.post_with(&phone, "/api/orgs/tree", &[]).await.status(),
        401,
        "a session that never passed the new factor ends"
    );
}

#[tokio::test]
async fn admin_powers_need_a_session_that_passed_a_second_factor() {
    use app::backend::entity::session;
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    let app = spawn_app().await.with_demo().await;
    let laptop = app.new_client();
    app.sign_in_with(&laptop, PRIYA, DEMO_PASSWORD).await;
    let (_, codes) = app.enrol_on(&laptop).await;
    assert_eq!(
        app.post_with(&laptop, "/api/orgs/tree", &[]).await.status(),
        200
    );
    // A session of Priya's that signed in with the password alone (as sessions from before
    // enrolment, or from before this rule, did): the same data, without the passed factor.
    let id = app.person_id(PRIYA).await;
    let row = session::Entity::find()
        .filter(session::Column::PersonId.eq(id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut data: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&row.data).unwrap();
    assert_eq!(data.remove("second_factor"), Some(serde_json::json!(true)));
    let sid = tower_sessions::session::Id::default();
    session::ActiveModel {
        id: Set(app::backend::sessions::key_of(&sid)),
        person_id: Set(Some(id)),
        data: Set(serde_json::to_string(&data).unwrap()),
        expires_at: Set(row.expires_at),
        created_at: Set(time::OffsetDateTime::now_utc()),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let old = reqwest::Client::new();
    let cookie = format!("wardline_session={sid}");
    let call = |path: &str, form: &[(&str, &str)]| {
        old.post(format!("{}{path}", app.address))
            .header("Accept", "application/json")
            .header("Cookie", cookie.clone())
            .form(form)
            .send()
    };
    assert_eq!(
        call("/api/auth/sessions", &[]).await.unwrap().status(),
        200,
        "the session itself is live"
    );
    assert_eq!(
        call("/api/orgs/tree", &[]).await.unwrap().status(),
        403,
        "MFA is on, but this session never passed it"
    );
    assert_eq!(
        call(
            "/api/admin/invite",
            &[
                ("email", "x@demo.wardline.test"),
                ("name", "X"),
                ("org_code", "RJ1"),
                ("role", "staff")
            ]
        )
        .await
        .unwrap()
        .status(),
        403
    );
    let export = old
        .get(format!("{}/export/chart.csv?org=RJ1", app.address))
        .header("Cookie", cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 403, "exports too");

    // Signing in again with a second factor gives the powers back.
    let fresh = app.new_client();
    app.sign_in_with(&fresh, PRIYA, DEMO_PASSWORD).await;
    assert_eq!(
        app.post_with(&fresh, "/api/auth/second_factor", &[("code", &codes[0])])
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_with(&fresh, "/api/orgs/tree", &[]).await.status(),
        200
    );
}

#[tokio::test]
async fn second_factor_failures_are_limited_per_account_and_audited() {
    let app = spawn_app().await.with_demo().await;
    app.enrolled(PRIYA).await;
    let phone = app.new_client();
    app.sign_in_with(&phone, PRIYA, DEMO_PASSWORD).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            app.post_with(&phone, "/api/auth/second_factor", &[("code", "000000")])
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(&statuses[..5], &[422; 5]);
    assert_eq!(statuses[6], 429);
    let wrong = statuses.iter().filter(|s| **s == 422).count();
    let rows = app.audit_rows("second_factor_failed").await;
    assert_eq!(rows.len(), wrong, "every wrong code, and only those");
    let priya = app.person_id(PRIYA).await;
    for r in &rows {
        assert_eq!(r.actor_id, Some(priya));
        assert_eq!(r.client.as_deref(), Some("127.0.0.1"));
        assert_eq!(r.outcome, "failure");
    }
    // The limit follows the account into a fresh session.
    let tablet = app.new_client();
    app.sign_in_with(&tablet, PRIYA, DEMO_PASSWORD).await;
    assert_eq!(
        app.post_with(&tablet, "/api/auth/second_factor", &[("code", "000000")])
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn recovery_code_use_is_audited() {
    let app = spawn_app().await.with_demo().await;
    let laptop = app.new_client();
    app.sign_in_with(&laptop, PRIYA, DEMO_PASSWORD).await;
    let (_, codes) = app.enrol_on(&laptop).await;
    let phone = app.new_client();
    app.sign_in_with(&phone, PRIYA, DEMO_PASSWORD).await;
    assert!(app.audit_rows("recovery_code_used").await.is_empty());
    assert_eq!(
        app.post_with(&phone, "/api/auth/second_factor", &[("code", &codes[3])])
            .await
            .status(),
        200
    );
    let rows = app.audit_rows("recovery_code_used").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].actor_id, Some(app.person_id(PRIYA).await));
    assert_eq!(rows[0].client.as_deref(), Some("127.0.0.1"));
    assert_eq!(rows[0].outcome, "success");
    assert_eq!(rows[0].detail.as_deref(), Some("9 recovery codes left"));
}

async fn status_of(app: &TestApp, client: &reqwest::Client) -> AuthStatus {
    app.post_with(client, "/api/auth/status", &[])
        .await
        .json()
        .await
        .unwrap()
}

/// The server keeps each signed-in caller as last read, checked against the change
/// generation: a grant revoked, a second factor reset or a person disabled straight in the
/// database (another instance, a hand-run fix) is seen by the very next request.
#[tokio::test]
async fn changes_to_a_signed_in_person_made_anywhere_count_at_the_next_request() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await.with_demo().await;
    let run = |sql: String| {
        let db = app.db.clone();
        async move {
            db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap();
        }
    };
    let owen = app.signed_in_as(OWEN).await;
    assert_eq!(roles_of(&app, &owen).await, ["lead G85028"]);
    let owen_id = app.person_id(OWEN).await;
    run(format!(
        "DELETE FROM access_grant WHERE person_id = {owen_id}"
    ))
    .await;
    assert!(
        roles_of(&app, &owen).await.is_empty(),
        "the revoked grant is gone at once"
    );

    let gareth = app.enrolled(GARETH).await;
    let AuthStatus::SignedIn(me) = status_of(&app, &gareth).await else {
        panic!("signed in")
    };
    assert!(me.mfa_enabled && !me.must_enrol_mfa);
    let gareth_id = app.person_id(GARETH).await;
    run(format!(
        "UPDATE account SET totp_enabled_at = NULL WHERE person_id = {gareth_id}"
    ))
    .await;
    let AuthStatus::SignedIn(me) = status_of(&app, &gareth).await else {
        panic!("still signed in")
    };
    assert!(
        !me.mfa_enabled && me.must_enrol_mfa,
        "a reset second factor counts for nothing at once: {me:?}"
    );

    let nadia = app.signed_in_as(NADIA).await;
    assert!(matches!(
        status_of(&app, &nadia).await,
        AuthStatus::SignedIn(_)
    ));
    let nadia_id = app.person_id(NADIA).await;
    run(format!(
        "UPDATE person SET disabled = TRUE WHERE id = {nadia_id}"
    ))
    .await;
    assert!(
        matches!(status_of(&app, &nadia).await, AuthStatus::Anonymous),
        "a disabled person's session ends at once"
    );
}
