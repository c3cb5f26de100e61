//! Sessions behave as documented: activity extends the idle time-out, and live-update
//! streams end with the session and are few per person.

use std::time::Duration;

use crate::helpers::{DEMO_PASSWORD, TestApp, spawn_app_with};

const NADIA: &str = "nadia.kowalski@demo.wardline.test";
const AISHA: &str = "aisha.bello@demo.wardline.test";

#[tokio::test]
async fn busy_session_outlives_the_idle_timeout() {
    let app = spawn_app_with(|s| s.auth.idle_timeout = Duration::from_secs(3))
        .await
        .with_demo()
        .await;
    app.sign_in(NADIA).await;
    // Eight seconds of activity: well past the idle time-out counted from sign-in.
    for i in 0..16 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let status = app.post_form("/api/orgs/tree", &[]).await.status();
        assert_eq!(status, 200, "request {i} after {} ms", (i + 1) * 500);
    }
    // Idle again: the time-out still ends it.
    tokio::time::sleep(Duration::from_millis(4200)).await;
    assert_eq!(app.post_form("/api/orgs/tree", &[]).await.status(), 401);
}

async fn live_app() -> TestApp {
    spawn_app_with(|s| s.live_recheck = Duration::from_millis(200))
        .await
        .with_demo()
        .await
}

async fn signed_in(app: &TestApp, email: &str) -> reqwest::Client {
    let c = app.new_client();
    assert_eq!(
        app.sign_in_with(&c, email, DEMO_PASSWORD).await.status(),
        200
    );
    c
}

async fn open_stream(app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
    client
        .get(format!("{}/live/tasks", app.address))
        .send()
        .await
        .unwrap()
}

/// Whether the stream's body ends within `within` (it only ever sends keep-alives here).
async fn ends_within(res: &mut reqwest::Response, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        while let Ok(Some(_)) = res.chunk().await {}
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn live_stream_closes_when_the_session_ends() {
    let app = live_app().await;
    let person = app::backend::people::find_by_email(&app.db, NADIA)
        .await
        .unwrap()
        .unwrap()
        .id;

    // Signing out.
    let nadia = signed_in(&app, NADIA).await;
    let mut stream = open_stream(&app, &nadia).await;
    assert_eq!(stream.status(), 200);
    assert!(
        !ends_within(&mut stream, Duration::from_millis(700)).await,
        "open while signed in"
    );
    assert_eq!(
        app.post_with(&nadia, "/api/auth/sign_out", &[])
            .await
            .status(),
        200
    );
    assert!(
        ends_within(&mut stream, Duration::from_secs(3)).await,
        "ends on sign-out"
    );

    // Signing out everywhere, from another browser.
    let here = signed_in(&app, NADIA).await;
    let elsewhere = signed_in(&app, NADIA).await;
    let mut stream = open_stream(&app, &here).await;
    assert_eq!(stream.status(), 200);
    assert!(!ends_within(&mut stream, Duration::from_millis(500)).await);
    assert_eq!(
        app.post_with(&elsewhere, "/api/auth/sign_out_everywhere", &[])
            .await
            .status(),
        200
    );
    assert!(
        ends_within(&mut stream, Duration::from_secs(3)).await,
        "ends everywhere"
    );

    // Being disabled.
    let nadia = signed_in(&app, NADIA).await;
    let mut stream = open_stream(&app, &nadia).await;
    assert!(!ends_within(&mut stream, Duration::from_millis(500)).await);
    app::backend::people::mark_disabled(&app.db, None, person, true)
        .await
        .unwrap();
    assert!(
        ends_within(&mut stream, Duration::from_secs(3)).await,
        "ends when disabled"
    );
}

#[tokio::test]
async fn live_stream_closes_when_the_session_times_out() {
    let app = spawn_app_with(|s| {
        s.live_recheck = Duration::from_millis(200);
        s.auth.idle_timeout = Duration::from_secs(2);
    })
    .await
    .with_demo()
    .await;
    let nadia = signed_in(&app, NADIA).await;
    let mut stream = open_stream(&app, &nadia).await;
    assert_eq!(stream.status(), 200);
    // An open stream is not activity: nothing else is asked, so the session times out.
    assert!(ends_within(&mut stream, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn a_person_has_at_most_a_few_open_streams() {
    let app = live_app().await;
    let nadia = signed_in(&app, NADIA).await;
    let mut open = Vec::new();
    for _ in 0..6 {
        let res = open_stream(&app, &nadia).await;
        assert_eq!(res.status(), 200);
        open.push(res);
    }
    assert_eq!(open_stream(&app, &nadia).await.status(), 429, "the seventh");
    let aisha = signed_in(&app, AISHA).await;
    assert_eq!(
        open_stream(&app, &aisha).await.status(),
        200,
        "others are not held up"
    );
    // A closed tab gives its stream back.
    drop(open.pop());
    let mut status = 0;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let res = open_stream(&app, &nadia).await;
        status = res.status().as_u16();
        if status == 200 {
            open.push(res);
            break;
        }
    }
    assert_eq!(status, 200);
}
