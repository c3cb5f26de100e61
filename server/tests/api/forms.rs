//! Pages are server-rendered and their forms are plain posts (only a few parts run in the
//! browser): what a form answers reaches the page it returns to once, in that person's
//! session only, and two-step verification can be set up with no script at all.

use crate::helpers::people::{NADIA, PRIYA};
use crate::helpers::{TestApp, spawn_app};

/// A plain form post from `page`, as a browser without script sends it: the server answers
/// with a redirect back (or to where the function sends the browser).
async fn plain_post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    page: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(format!("{}{path}", app.address))
        .header("Accept", "text/html,application/xhtml+xml")
        .header("Referer", format!("{}{page}", app.address))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_invitation_made_without_script_shows_its_link_once_and_only_to_its_maker() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.signed_in_as(PRIYA).await;
    let (_, recovery) = app.enrol_on(&priya).await;
    // Priya again, on another device: her password and a recovery code (the app's code of
    // this moment was just spent on enrolling).
    let priya_elsewhere = app.signed_in_as(PRIYA).await;
    let second = app
        .post_with(
            &priya_elsewhere,
            "/api/auth/second_factor",
            &[("code", &recovery[0])],
        )
        .await;
    assert_eq!(second.status(), 200);
    let form = [
        ("email", "new.porter@demo.wardline.test"),
        ("name", "New Porter"),
        ("org_code", "RJ1"),
        ("role", "staff"),
    ];
    let res = plain_post(&app, &priya, "/api/admin/invite", "/account", &form).await;
    assert_eq!(res.status(), 302);
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        back.trim_end_matches('?'),
        format!("{}/account", app.address)
    );
    // The answer is not in the redirect itself.
    assert_eq!(res.text().await.unwrap(), "");

    let first = app.page_text(&priya, "/account").await;
    assert!(
        first.contains("Send this link to the person"),
        "the link is shown"
    );
    assert!(first.contains("/invite/"), "with the invitation's address");
    // Shown once: the next time the page is drawn it is gone.
    let again = app.page_text(&priya, "/account").await;
    assert!(!again.contains("Send this link to the person"));
    // Another session of the same person never had it.
    let elsewhere = app.page_text(&priya_elsewhere, "/account").await;
    assert!(elsewhere.contains("Your account"), "signed in there");
    assert!(!elsewhere.contains("/invite/"));
}

#[tokio::test]
async fn a_refused_plain_post_keeps_no_answer_and_says_why() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let form = [
        ("email", "not an email"),
        ("name", "Someone"),
        ("org_code", "RJ1"),
        ("role", "staff"),
    ];
    let res = plain_post(&app, &priya, "/api/admin/invite", "/account", &form).await;
    assert_eq!(res.status(), 302);
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("__err="), "{back}");
    let shown = app
        .page_text(&priya, back.trim_start_matches(&app.address))
        .await;
    assert!(shown.contains("There is a problem"));
    assert!(!shown.contains("Send this link to the person"));
}

#[tokio::test]
async fn two_step_verification_is_set_up_with_plain_forms_and_a_wrong_code_keeps_the_key() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let start = plain_post(&app, &nadia, "/api/auth/mfa_begin", "/account", &[]).await;
    assert_eq!(start.status(), 302);
    let shown = app.page_text(&nadia, "/account").await;
    let key = shown
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the key is on the page")
        .to_owned();
    assert!(shown.contains("QR code for your authenticator app"));

    // A wrong code: refused, and the same key is still there to try again.
    let wrong = plain_post(
        &app,
        &nadia,
        "/api/auth/mfa_confirm",
        "/account",
        &[("code", "000000")],
    )
    .await;
    let back = wrong.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("__err="));
    let again = app
        .page_text(&nadia, back.trim_start_matches(&app.address))
        .await;
    assert!(again.contains(&format!("<code class=\"secret\">{key}<")));

    let code = app::backend::mfa::code_now(&key).unwrap();
    let right = plain_post(
        &app,
        &nadia,
        "/api/auth/mfa_confirm",
        "/account",
        &[("code", &code)],
    )
    .await;
    assert_eq!(right.status(), 302);
    let done = app.page_text(&nadia, "/account").await;
    assert!(done.contains("Two-step verification is on."));
    assert!(done.contains("aria-label=\"Recovery codes\""));
    // The codes are shown this once.
    let later = app.page_text(&nadia, "/account").await;
    assert!(!later.contains("aria-label=\"Recovery codes\""));
    assert!(!later.contains("class=\"secret\""));
}

#[tokio::test]
async fn a_form_the_page_script_sends_gets_its_answer_and_the_page_shows_it_once() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let res = priya
        .post(format!("{}/api/admin/invite", app.address))
        .header("Accept", "application/json")
        .header(app::domain::forms::FORM_HEADER, "1")
        .form(&[
            ("email", "new.clerk@demo.wardline.test"),
            ("name", "New Clerk"),
            ("org_code", "RJ1"),
            ("role", "staff"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let link: String = res.json().await.unwrap();
    assert!(link.contains("/invite/"));
    let shown = app.page_text(&priya, "/account").await;
    assert!(shown.contains(&link));
    assert!(!app.page_text(&priya, "/account").await.contains(&link));
}
