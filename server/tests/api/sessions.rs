//! Sessions behave as documented: activity extends the idle time-out, and live-update
//! streams end with the session and are few per person.

use std::time::Duration;

use crate::helpers::{DEMO_PASSWORD, TestApp, spawn_app, spawn_app_with};

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

/// A request reads its session and the change generation in one statement; what a person
/// may do still follows the generation at once: a grant revoked between two requests
/// refuses the second, and a session read outside `reading_generation` reads no generation.
#[tokio::test]
async fn the_session_brings_the_generation_and_a_revoked_grant_is_seen_at_once() {
    use app::backend::entity::access_grant;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use tower_sessions::SessionStore;

    let app = spawn_app().await.with_demo().await;
    app.sign_in(NADIA).await;
    let declare = [
        ("kind", "ransomware"),
        ("location", "Reception"),
        ("patients_affected", "unknown"),
    ];
    assert_eq!(
        app.post_form("/api/incidents/declare", &declare)
            .await
            .status(),
        200
    );

    // The store itself: the generation comes with the session only when asked for.
    let row = app::backend::entity::session::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let store = app::backend::sessions::DbSessionStore::new(app.db.clone());
    let mut record = tower_sessions::session::Record {
        id: tower_sessions::session::Id::default(),
        data: Default::default(),
        expiry_date: row.expires_at,
    };
    record
        .data
        .insert("person_id".into(), serde_json::json!(row.person_id));
    store.create(&mut record).await.unwrap();
    let (loaded, generation) =
        app::backend::sessions::reading_generation(store.load(&record.id)).await;
    assert!(loaded.unwrap().is_some());
    assert_eq!(
        generation,
        Some(app::backend::generation::read(&app.db).await.unwrap())
    );
    let (_, none) = app::backend::sessions::reading_generation(async {}).await;
    assert_eq!(none, None, "no session loaded, no generation");
    let (missing, none) = app::backend::sessions::reading_generation(
        store.load(&tower_sessions::session::Id::default()),
    )
    .await;
    assert!(missing.unwrap().is_none());
    assert_eq!(none, None, "no such session, no generation");

    // Through HTTP: Nadia loses her grant; her next declaration is refused.
    access_grant::Entity::delete_many()
        .filter(access_grant::Column::PersonId.eq(app.person_id(NADIA).await))
        .exec(&app.db)
        .await
        .unwrap();
    let refused = app.post_form("/api/incidents/declare", &declare).await;
    assert!(
        matches!(refused.status().as_u16(), 403 | 404),
        "declared after the grant was revoked: {}",
        refused.status()
    );
}
