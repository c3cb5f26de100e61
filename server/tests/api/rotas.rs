//! On-call rotas over HTTP: an admin builds a rotation and schedule and sees the preview;
//! other organisations see nothing; staff and regulators cannot change them; names stay
//! plain and bounded.

use app::domain::rota::OnCallPage;
use sea_orm::EntityTrait;

use crate::helpers::people::{GARETH, NADIA, OWEN, PRIYA, RUTH, TOM};
use crate::helpers::{TestApp, spawn_app};

const HELEN: &str = "helen.marsh@demo.wardline.test";

/// A week ago, so the rotation has started.
fn last_week() -> String {
    (time::OffsetDateTime::now_utc().date() - time::Duration::days(7)).to_string()
}

async fn create_rotation(
    app: &TestApp,
    client: &reqwest::Client,
    org: &str,
    name: &str,
    participants: &str,
) -> reqwest::Response {
    let start = last_week();
    app.post_with(
        client,
        "/api/rotas/create_rotation",
        &[
            ("org_code", org),
            ("name", name),
            ("participants", participants),
            ("shift_count", "1"),
            ("shift_unit", "weeks"),
            ("handover", "08:00"),
            ("start", &start),
        ],
    )
    .await
}

async fn create_schedule(
    app: &TestApp,
    client: &reqwest::Client,
    org: &str,
    rotation_id: i64,
) -> reqwest::Response {
    let rotation_id = rotation_id.to_string();
    app.post_with(
        client,
        "/api/rotas/create_schedule",
        &[
            ("org_code", org),
            ("name", "Gold on call"),
            ("days", "every day"),
            ("from", "00:00"),
            ("until", "00:00"),
            ("rotation_id", &rotation_id),
        ],
    )
    .await
}

/// A rotation and a schedule built by `client` at `org`; their ids.
async fn built(app: &TestApp, client: &reqwest::Client, org: &str, who: &str) -> (i64, i64) {
    let res = create_rotation(app, client, org, "Gold commanders", who).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let rotation: i64 = res.json().await.unwrap();
    let res = create_schedule(app, client, org, rotation).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    (rotation, res.json().await.unwrap())
}

async fn page(app: &TestApp, client: &reqwest::Client, org: &str) -> reqwest::Response {
    app.post_with(client, "/api/rotas/page", &[("org_code", org)])
        .await
}

#[tokio::test]
async fn an_admin_creates_a_rotation_and_sees_the_preview() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let (_, schedule) = built(&app, &priya, "RJ1", &format!("{TOM}\n{HELEN}")).await;

    let res = page(&app, &priya, "RJ1").await;
    assert_eq!(res.status(), 200);
    let p: OnCallPage = res.json().await.unwrap();
    let s = &p.schedules[0];
    assert_eq!(s.id, schedule);
    assert_eq!(s.now.len(), 1, "one person on call now");
    assert!(s.now[0] == "Tom Okafor" || s.now[0] == "Helen Marsh");
    assert!(s.preview.len() >= 4, "four weekly handovers in 4 weeks");
    assert!(s.preview.iter().all(|x| !x.people.is_empty()));
    assert_eq!(s.gap_hours, 0);
    assert_eq!(p.rotations[0].participants.len(), 2);

    let res = app
        .post_with(
            &priya,
            "/api/rotas/who",
            &[("schedule_id", &schedule.to_string())],
        )
        .await;
    assert_eq!(res.status(), 200);
    let who: Vec<String> = res.json().await.unwrap();
    assert_eq!(who, s.now);

    // The page renders on the server, with the preview as a captioned table.
    let html = priya
        .get(format!("{}/orgs/RJ1/on-call", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Gold on call: who is on call for the next 4 weeks"));
    assert!(html.contains(&s.now[0]));
    assert!(html.contains("Add a rotation"));

    assert_eq!(app.audit_rows("rota_rotation_created").await.len(), 1);
    assert_eq!(app.audit_rows("rota_schedule_created").await.len(), 1);
}

#[tokio::test]
async fn another_organisations_admin_gets_404_for_its_rota() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let (rotation, schedule) = built(&app, &gareth, "G85028", &format!("{OWEN}\n{NADIA}")).await;
    let priya = app.enrolled(PRIYA).await;

    assert_eq!(page(&app, &priya, "G85028").await.status(), 404);
    let schedule = schedule.to_string();
    let rotation = rotation.to_string();
    for (path, form) in [
        ("/api/rotas/who", vec![("schedule_id", schedule.as_str())]),
        (
            "/api/rotas/add_rule",
            vec![
                ("schedule_id", schedule.as_str()),
                ("days", "weekdays"),
                ("from", "08:00"),
                ("until", "18:00"),
                ("rotation_id", rotation.as_str()),
            ],
        ),
        (
            "/api/rotas/update_rotation",
            vec![
                ("rotation_id", rotation.as_str()),
                ("name", "Mine now"),
                ("participants", PRIYA),
                ("shift_count", "1"),
                ("shift_unit", "days"),
                ("handover", "09:00"),
                ("start", "2026-01-05"),
            ],
        ),
        (
            "/api/rotas/add_override",
            vec![
                ("schedule_id", schedule.as_str()),
                ("kind", "add"),
                ("person", PRIYA),
                ("start", "2026-12-01T08:00"),
                ("end", "2026-12-02T08:00"),
            ],
        ),
    ] {
        let res = app.post_with(&priya, path, &form).await;
        assert_eq!(res.status(), 404, "{path}");
    }
    // Nor may she put the practice's people on her own trust's rota.
    assert_eq!(
        create_rotation(&app, &priya, "RJ1", "Borrowed", OWEN)
            .await
            .status(),
        404
    );
    // The practice's rota is as Gareth left it.
    let p: OnCallPage = page(&app, &gareth, "G85028").await.json().await.unwrap();
    assert_eq!(p.rotations[0].name, "Gold commanders");
    assert_eq!(p.schedules[0].rules.len(), 1);
    assert!(p.schedules[0].overrides.is_empty());
}

#[tokio::test]
async fn staff_and_regulators_cannot_change_a_rota() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    assert_eq!(
        create_rotation(&app, &nadia, "G85028", "Mine", OWEN)
            .await
            .status(),
        403
    );
    let ruth = app.enrolled(RUTH).await;
    assert_eq!(
        create_rotation(&app, &ruth, "G85028", "Mine", OWEN)
            .await
            .status(),
        403
    );
    // Both may read the page.
    assert_eq!(page(&app, &nadia, "G85028").await.status(), 200);
    assert_eq!(page(&app, &ruth, "G85028").await.status(), 200);
    assert!(
        app::backend::entity::rotation::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn markup_and_huge_names_are_refused_cleanly() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let res = create_rotation(&app, &priya, "RJ1", "<script>alert(1)</script>", TOM).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(!body.contains("<script>"), "{body}");

    let huge = "a".repeat(200 * 1024);
    let res = create_rotation(&app, &priya, "RJ1", &huge, TOM).await;
    assert!(
        res.status() == 413 || res.status() == 422,
        "{}",
        res.status()
    );
    let res = create_rotation(&app, &priya, "RJ1", &"a".repeat(121), TOM).await;
    assert_eq!(res.status(), 422);
    assert!(
        app::backend::entity::rotation::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
    // The page still answers.
    assert_eq!(page(&app, &priya, "RJ1").await.status(), 200);
}
