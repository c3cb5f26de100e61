//! On-call rotas reaching people (issue 15.1): a private calendar feed of one's shifts, a role
//! handed to a rota and back, the chart and the break-glass pack naming who is on call, and
//! cover requests answered by the colleague asked. Attackers' ids, people and tokens are
//! refused; regulators change nothing.

use app::domain::accountability::Chart;
use app::domain::breakglass::BreakGlassPack;
use app::domain::escalation::InboxItem;
use app::domain::rota::{CalendarFeedView, OnCallPage};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::people::{GARETH, NADIA, OWEN, PRIYA, RUTH, TOM};
use crate::helpers::{TestApp, spawn_app};

const HELEN: &str = "helen.marsh@demo.wardline.test";

/// A daily rotation of `who` (one a line) started ten days ago, and a schedule of it around
/// the clock, made by `client` at `org`: (rotation, schedule).
async fn daily_rota(app: &TestApp, client: &reqwest::Client, org: &str, who: &str) -> (i64, i64) {
    let start = (time::OffsetDateTime::now_utc().date() - time::Duration::days(10)).to_string();
    let res = app
        .post_with(
            client,
            "/api/rotas/create_rotation",
            &[
                ("org_code", org),
                ("name", "Gold commanders"),
                ("participants", who),
                ("shift_count", "1"),
                ("shift_unit", "days"),
                ("handover", "08:00"),
                ("start", &start),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let rotation: i64 = res.json().await.unwrap();
    let res = app
        .post_with(
            client,
            "/api/rotas/create_schedule",
            &[
                ("org_code", org),
                ("name", "Gold on call"),
                ("days", "every day"),
                ("from", "00:00"),
                ("until", "00:00"),
                ("rotation_id", &rotation.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    (rotation, res.json().await.unwrap())
}

/// As if every change to the rotas so far had been made `days` days ago (each change keeps
/// a version of the rotas from its moment; the chart reads the one in force at "as at").
async fn set_up_days_ago(app: &TestApp, days: i64) {
    use app::backend::entity::{role_schedule, rota_version};
    let then = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    rota_version::Entity::update_many()
        .col_expr(
            rota_version::Column::ValidFrom,
            sea_orm::sea_query::Expr::value(then),
        )
        .exec(&app.db)
        .await
        .unwrap();
    role_schedule::Entity::update_many()
        .col_expr(
            role_schedule::Column::CreatedAt,
            sea_orm::sea_query::Expr::value(then),
        )
        .exec(&app.db)
        .await
        .unwrap();
}

/// The chart's row for `role` at `org`, as at `as_at` (London time, minutes) or now.
async fn chart_row(
    app: &TestApp,
    client: &reqwest::Client,
    org: &str,
    role: &str,
    as_at: Option<&str>,
) -> app::domain::accountability::ChartRow {
    let mut form = vec![("org_code", org)];
    form.extend(as_at.map(|a| ("as_at", a)));
    let res = app.post_with(client, "/api/chart/get", &form).await;
    assert_eq!(res.status(), 200);
    let c: Chart = res.json().await.unwrap();
    c.orgs
        .into_iter()
        .find(|o| o.org.code == org)
        .unwrap()
        .rows
        .into_iter()
        .find(|r| r.role_key == role)
        .unwrap()
}

async fn create_feed(app: &TestApp, client: &reqwest::Client) -> String {
    let res = app
        .post_with(client, "/api/rotas/calendar_create", &[])
        .await;
    assert_eq!(res.status(), 200);
    let v: CalendarFeedView = res.json().await.unwrap();
    assert!(v.since.is_some());
    v.url.expect("the URL is shown when it is made")
}

/// The feed at `url` (made with the test app's public address) fetched from this app.
async fn fetch(app: &TestApp, url: &str) -> reqwest::Response {
    let path = &url[url.find("/calendar/").unwrap()..];
    app.new_client()
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap()
}

async fn inbox(app: &TestApp, client: &reqwest::Client) -> Vec<InboxItem> {
    app.inbox_page(client, 1).await.items
}

#[tokio::test]
async fn a_person_subscribes_to_their_shifts_and_revoking_the_url_makes_it_404() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    daily_rota(&app, &priya, "RJ1", &format!("{TOM}\n{HELEN}")).await;
    let tom = app.enrolled(TOM).await;

    let status: CalendarFeedView = app
        .post_with(&tom, "/api/rotas/calendar", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status, CalendarFeedView::default());

    let url = create_feed(&app, &tom).await;
    let res = fetch(&app, &url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    let ics = res.text().await.unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(
        ics.contains("X-WR-CALNAME:Wardline on call: Tom Okafor"),
        "{ics}"
    );
    // Every other day for eight weeks: 28 shifts (29 when today's is Tom's and under way).
    let events = ics.matches("BEGIN:VEVENT").count();
    assert!((27..=29).contains(&events), "{events} events");
    assert!(ics.contains("SUMMARY:On call: Gold on call"));
    // The status says a feed is live, without its URL.
    let status: CalendarFeedView = app
        .post_with(&tom, "/api/rotas/calendar", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(status.since.is_some() && status.url.is_none());
    // The token is stored hashed: the database does not hold it.
    let token = url.rsplit('/').next().unwrap().trim_end_matches(".ics");
    let stored = app::backend::entity::calendar_feed::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, token);
    assert_eq!(stored[0].token_hash, app::backend::tokens::digest(token));

    // A new URL replaces the old one, which stops working.
    let second = create_feed(&app, &tom).await;
    assert_ne!(second, url);
    assert_eq!(fetch(&app, &url).await.status(), 404);
    assert_eq!(fetch(&app, &second).await.status(), 200);
    // Revoked, it is gone too; a made-up token never worked.
    let res = app.post_with(&tom, "/api/rotas/calendar_revoke", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(fetch(&app, &second).await.status(), 404);
    let res = app
        .new_client()
        .get(format!("{}/calendar/{}.ics", app.address, "A".repeat(43)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(app.audit_rows("calendar_feed_created").await.len(), 2);
    assert_eq!(app.audit_rows("calendar_feed_revoked").await.len(), 1);

    // Someone on no rota gets an empty calendar; a regulator may keep one of their own.
    let ruth = app.enrolled(RUTH).await;
    let url = create_feed(&app, &ruth).await;
    let ics = fetch(&app, &url).await.text().await.unwrap();
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 0);
    // Signed out, nobody can make one.
    let res = app
        .post_with(&app.new_client(), "/api/rotas/calendar_create", &[])
        .await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn guessing_calendar_tokens_is_rate_limited() {
    let app = spawn_app().await.with_demo().await;
    let client = app.new_client();
    let mut limited = 0;
    for i in 0..40 {
        let res = client
            .get(format!("{}/calendar/guess{i}.ics", app.address))
            .send()
            .await
            .unwrap();
        match res.status().as_u16() {
            404 => {}
            429 => limited += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(limited >= 15, "{limited} of 40 guesses limited");
}

#[tokio::test]
async fn a_role_handed_to_a_rota_shows_who_is_on_call_in_the_chart_now_and_as_at() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let (_, schedule) = daily_rota(&app, &priya, "RJ1", &format!("{TOM}\n{HELEN}")).await;
    let schedule_s = schedule.to_string();

    // The on-call page offers the form, as plain HTML before any script.
    let html = priya
        .get(format!("{}/orgs/RJ1/on-call", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Let a rota hold a role"), "no form");
    assert!(
        html.contains("action=\"/api/rotas/hold_role\""),
        "not a plain post"
    );

    let res = app
        .post_with(
            &priya,
            "/api/rotas/hold_role",
            &[
                ("org_code", "RJ1"),
                ("role_key", "head_of_cyber"),
                ("schedule_id", &schedule_s),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(app.audit_rows("rota_role_held").await.len(), 1);
    let page: OnCallPage = app
        .post_with(&priya, "/api/rotas/page", &[("org_code", "RJ1")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page.held_roles.len(), 1);
    assert_eq!(page.held_roles[0].2, "Gold on call");

    let chart = |as_at: Option<String>| {
        let priya = priya.clone();
        let app = &app;
        async move {
            let mut form = vec![("org_code", "RJ1".to_owned())];
            form.extend(as_at.map(|a| ("as_at", a)));
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = app.post_with(&priya, "/api/chart/get", &form).await;
            assert_eq!(res.status(), 200);
            let c: Chart = res.json().await.unwrap();
            c.orgs
                .into_iter()
                .find(|o| o.org.code == "RJ1")
                .unwrap()
                .rows
                .into_iter()
                .find(|r| r.role_key == "head_of_cyber")
                .unwrap()
        }
    };
    let now_row = chart(None).await;
    let on_call = now_row.on_call.clone().expect("held by the rota");
    assert_eq!(on_call.schedule, "Gold on call");
    let expected_now =
        app::backend::rotas::on_call_at(&app.db, schedule, time::OffsetDateTime::now_utc())
            .await
            .unwrap();
    assert_eq!(on_call.now.len(), expected_now.len());
    let next = on_call.next.expect("a daily rota changes within a day");
    assert_ne!(next.people, on_call.now);
    // The named holder stands behind the rota.
    assert_eq!(now_row.holding.unwrap().holder_name, "Priya Raman");

    // As the chart stood yesterday (the rota held the role since ten days ago): who was on
    // call then, the other of the two.
    set_up_days_ago(&app, 10).await;
    let then = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let then = then
        .replace_second(0)
        .unwrap()
        .replace_nanosecond(0)
        .unwrap();
    let as_at = format!("{}T{:02}:{:02}", then.date(), then.hour(), then.minute());
    let past = chart(Some(as_at)).await.on_call.expect("held then too");
    let who_then = app::backend::rotas::on_call_at(&app.db, schedule, then)
        .await
        .unwrap();
    let name_then = if who_then == vec![app.person_id(TOM).await] {
        "Tom Okafor"
    } else {
        "Helen Marsh"
    };
    assert_eq!(past.now, vec![name_then.to_owned()]);

    // Handed back, the chart names the person again.
    let res = app
        .post_with(
            &priya,
            "/api/rotas/release_role",
            &[("org_code", "RJ1"), ("role_key", "head_of_cyber")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(chart(None).await.on_call.is_none());
    assert_eq!(app.audit_rows("rota_role_released").await.len(), 1);
    // Releasing what no rota holds says so.
    let res = app
        .post_with(
            &priya,
            "/api/rotas/release_role",
            &[("org_code", "RJ1"), ("role_key", "head_of_cyber")],
        )
        .await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn roles_cannot_be_handed_to_another_organisations_rota_or_by_non_admins() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let (_, theirs) = daily_rota(&app, &gareth, "G85028", &format!("{OWEN}\n{NADIA}")).await;
    let priya = app.enrolled(PRIYA).await;
    let (_, ours) = daily_rota(&app, &priya, "RJ1", TOM).await;
    let (theirs, ours) = (theirs.to_string(), ours.to_string());
    let hold = |org: &'static str, role: String, schedule: String| {
        let app = &app;
        move |client: reqwest::Client| async move {
            app.post_with(
                &client,
                "/api/rotas/hold_role",
                &[
                    ("org_code", org),
                    ("role_key", role.as_str()),
                    ("schedule_id", schedule.as_str()),
                ],
            )
            .await
            .status()
        }
    };
    // Another organisation's schedule, or another organisation's role holding: not found.
    assert_eq!(
        hold("RJ1", "head_of_cyber".into(), theirs.clone())(priya.clone()).await,
        404
    );
    assert_eq!(
        hold("G85028", "head_of_cyber".into(), ours.clone())(priya.clone()).await,
        404
    );
    // A lead of the trust and a regulator may not.
    let tom = app.enrolled(TOM).await;
    assert_eq!(
        hold("RJ1", "head_of_cyber".into(), ours.clone())(tom.clone()).await,
        403
    );
    let ruth = app.enrolled(RUTH).await;
    assert_eq!(
        hold("RJ1", "head_of_cyber".into(), ours.clone())(ruth.clone()).await,
        403
    );
    let res = app
        .post_with(
            &ruth,
            "/api/rotas/release_role",
            &[("org_code", "RJ1"), ("role_key", "head_of_cyber")],
        )
        .await;
    assert_eq!(res.status(), 403);
    // A made-up role, and a 200 KB one, are refused with a message.
    let res = app
        .post_with(
            &priya,
            "/api/rotas/hold_role",
            &[
                ("org_code", "RJ1"),
                ("role_key", "no_such_role"),
                ("schedule_id", ours.as_str()),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Choose a role"));
    let huge = "r".repeat(200 * 1024);
    let res = app
        .post_with(
            &priya,
            "/api/rotas/hold_role",
            &[
                ("org_code", "RJ1"),
                ("role_key", huge.as_str()),
                ("schedule_id", ours.as_str()),
            ],
        )
        .await;
    assert!(
        res.status() == 413 || res.status() == 422,
        "{}",
        res.status()
    );
    assert!(!res.text().await.unwrap().is_empty(), "a message says why");
    assert!(
        app::backend::entity::role_schedule::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_break_glass_pack_lists_the_next_14_days_of_each_rota() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let (_, schedule) = daily_rota(&app, &priya, "RJ1", &format!("{TOM}\n{HELEN}")).await;
    app.post_with(
        &priya,
        "/api/rotas/hold_role",
        &[
            ("org_code", "RJ1"),
            ("role_key", "head_of_cyber"),
            ("schedule_id", &schedule.to_string()),
        ],
    )
    .await;
    let res = app
        .post_with(&priya, "/api/breakglass/pack", &[("org_code", "RJ1")])
        .await;
    assert_eq!(res.status(), 200);
    let pack: BreakGlassPack = res.json().await.unwrap();
    assert_eq!(pack.on_call.len(), 1);
    let rota = &pack.on_call[0];
    assert_eq!(rota.schedule, "Gold on call");
    assert_eq!(rota.roles.len(), 1);
    // Daily handovers for 14 days: 14 or 15 shifts, back to back, each one person.
    assert!(
        (14..=15).contains(&rota.shifts.len()),
        "{}",
        rota.shifts.len()
    );
    let span = rota.shifts.last().unwrap().end - rota.shifts[0].start;
    assert_eq!(span, time::Duration::days(14));
    assert!(rota.shifts.iter().all(|s| s.people.len() == 1));
    assert!(rota.shifts.windows(2).all(|w| w[0].end == w[1].start));
    // The printed page shows it, in London time.
    let html = priya
        .get(format!("{}/orgs/RJ1/break-glass", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Who is on call: the next 14 days"),
        "not on the page"
    );
    // A practice's lead cannot read the trust's pack.
    let owen = app.enrolled(OWEN).await;
    let res = app
        .post_with(&owen, "/api/breakglass/pack", &[("org_code", "RJ1")])
        .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn a_colleague_asked_to_cover_declines_or_accepts_and_both_are_told() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let (_, schedule) = daily_rota(&app, &priya, "RJ1", TOM).await;
    let schedule = schedule.to_string();
    let tom = app.enrolled(TOM).await;
    let helen = app.enrolled(HELEN).await;
    let ask = |client: reqwest::Client, colleague: &'static str, start: &'static str| {
        let app = &app;
        let schedule = schedule.clone();
        async move {
            app.post_with(
                &client,
                "/api/rotas/request_cover",
                &[
                    ("schedule_id", schedule.as_str()),
                    ("colleague", colleague),
                    ("start", start),
                    ("end", "2030-01-02T08:00"),
                ],
            )
            .await
        }
    };
    // Only people of the trust can be asked; only people on the rota can ask.
    assert_eq!(
        ask(tom.clone(), OWEN, "2030-01-01T08:00").await.status(),
        404
    );
    assert_eq!(
        ask(priya.clone(), HELEN, "2030-01-01T08:00").await.status(),
        422
    );
    let res = ask(tom.clone(), HELEN, "2030-01-01T08:00").await;
    assert_eq!(res.status(), 200);
    let first: i64 = res.json().await.unwrap();
    let told = inbox(&app, &helen).await;
    assert!(
        told.iter()
            .any(|n| n.title == "Tom Okafor asks you to cover Gold on call"),
        "{told:?}"
    );
    assert!(
        inbox(&app, &tom)
            .await
            .iter()
            .any(|n| n.title == "You asked Helen Marsh to cover Gold on call")
    );
    // Neither the person asking nor an admin can answer for the colleague.
    let id = first.to_string();
    for (who, want) in [(&tom, 403), (&priya, 404)] {
        for verb in ["accept_cover", "decline_cover"] {
            let res = app
                .post_with(who, &format!("/api/rotas/{verb}"), &[("request_id", &id)])
                .await;
            assert_eq!(res.status(), want, "{verb}");
        }
    }
    let res = app
        .post_with(&helen, "/api/rotas/decline_cover", &[("request_id", &id)])
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        inbox(&app, &tom)
            .await
            .iter()
            .any(|n| n.title == "Helen Marsh declined your request to cover Gold on call")
    );
    assert!(
        inbox(&app, &helen)
            .await
            .iter()
            .any(|n| n.title == "You declined covering Gold on call for Tom Okafor")
    );
    // Answered once: accepting now is a conflict, and no override was made.
    let res = app
        .post_with(&helen, "/api/rotas/accept_cover", &[("request_id", &id)])
        .await;
    assert_eq!(res.status(), 409);
    assert!(
        app::backend::entity::schedule_override::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(app.audit_rows("rota_cover_declined").await.len(), 1);

    // Asked again, she accepts: the override puts her on call for the period.
    let res = ask(tom.clone(), HELEN, "2030-01-01T20:00").await;
    let second: i64 = res.json().await.unwrap();
    let res = app
        .post_with(
            &helen,
            "/api/rotas/accept_cover",
            &[("request_id", &second.to_string())],
        )
        .await;
    assert_eq!(res.status(), 200);
    let overrides = app::backend::entity::schedule_override::Entity::find()
        .filter(app::backend::entity::schedule_override::Column::Kind.eq("replace"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(overrides.len(), 1);
    assert_eq!(overrides[0].person_id, app.person_id(HELEN).await);
    assert!(
        inbox(&app, &tom)
            .await
            .iter()
            .any(|n| n.title == "Helen Marsh accepted your request to cover Gold on call")
    );
    // A regulator may not ask for cover.
    let ruth = app.enrolled(RUTH).await;
    assert_eq!(ask(ruth, HELEN, "2030-01-01T08:00").await.status(), 403);
}

#[tokio::test]
async fn the_organisation_page_says_who_is_on_call_now_and_next() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let page = |client: reqwest::Client| {
        let url = format!("{}/orgs/RJ1", app.address);
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let before = page(priya.clone()).await;
    assert!(before.contains("On call now"), "the section is there");
    assert!(
        before.contains("No on-call rotas here"),
        "and says there is none"
    );

    daily_rota(&app, &priya, "RJ1", &format!("{TOM}\n{HELEN}")).await;
    let res = app
        .post_with(&priya, "/api/rotas/page", &[("org_code", "RJ1")])
        .await;
    let on_call: OnCallPage = res.json().await.unwrap();
    let gold = &on_call.schedules[0];
    let (now, next) = (
        gold.now.join(", "),
        gold.next.as_ref().unwrap().people.join(", "),
    );
    assert_ne!(now, next, "two people alternate daily");
    let html = page(priya.clone()).await;
    let section = html
        .split("On call now")
        .nth(1)
        .and_then(|s| s.split("Organisations under this one").next())
        .unwrap();
    assert!(section.contains("Gold on call"), "{section}");
    assert!(section.contains(&now), "who is on call now: {section}");
    assert!(section.contains(&format!("next: {next} from")), "{section}");

    // Another trust's staff reading RJ1's page are not shown its rota.
    let aisha = app.signed_in_as(crate::helpers::people::AISHA).await;
    let res = aisha
        .get(format!("{}/orgs/RJ1", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "the organisation page itself is still theirs to read"
    );
    let theirs = res.text().await.unwrap();
    assert!(theirs.contains("Guy"), "it is the trust's page");
    assert!(!theirs.contains("Gold on call"));
    assert!(!theirs.contains("On call now"), "nor a section about it");
}

#[tokio::test]
async fn who_was_on_call_at_a_past_moment_is_read_from_the_rotas_as_they_were_then() {
    let app = spawn_app().await.with_demo().await;
    let priya = app.enrolled(PRIYA).await;
    let (rotation, schedule) = daily_rota(&app, &priya, "RJ1", &format!("{TOM}\n{HELEN}")).await;
    let res = app
        .post_with(
            &priya,
            "/api/rotas/hold_role",
            &[
                ("org_code", "RJ1"),
                ("role_key", "head_of_cyber"),
                ("schedule_id", &schedule.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    set_up_days_ago(&app, 3).await;

    // Yesterday, and now, as the rota stands.
    let then = (time::OffsetDateTime::now_utc() - time::Duration::days(1))
        .replace_second(0)
        .unwrap()
        .replace_nanosecond(0)
        .unwrap();
    // The chart reads "as at" in UTC, the rota page in London time: the same minute.
    let as_at = format!("{}T{:02}:{:02}", then.date(), then.hour(), then.minute());
    let local = app::domain::rota::london_local(then);
    let london = format!("{}T{:02}:{:02}", local.date(), local.hour(), local.minute());
    let before_then = chart_row(&app, &priya, "RJ1", "head_of_cyber", Some(&as_at))
        .await
        .on_call
        .expect("held by the rota then")
        .now;
    let before_now = chart_row(&app, &priya, "RJ1", "head_of_cyber", None)
        .await
        .on_call
        .unwrap()
        .now;
    let who = |at: String| {
        let (app, priya) = (&app, priya.clone());
        async move {
            let res = app
                .post_with(
                    &priya,
                    "/api/rotas/who",
                    &[("schedule_id", &schedule.to_string()), ("at", &at)],
                )
                .await;
            assert_eq!(res.status(), 200);
            res.json::<Vec<String>>().await.unwrap()
        }
    };
    assert_eq!(who(london.clone()).await, before_then);

    // The rotation is turned round today: from now on the other person is on call.
    let start = (time::OffsetDateTime::now_utc().date() - time::Duration::days(10)).to_string();
    let res = app
        .post_with(
            &priya,
            "/api/rotas/update_rotation",
            &[
                ("rotation_id", rotation.to_string().as_str()),
                ("name", "Gold commanders"),
                ("participants", &format!("{HELEN}\n{TOM}")),
                ("shift_count", "1"),
                ("shift_unit", "days"),
                ("handover", "08:00"),
                ("start", &start),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let after_now = chart_row(&app, &priya, "RJ1", "head_of_cyber", None)
        .await
        .on_call
        .unwrap()
        .now;
    assert_ne!(after_now, before_now, "the change holds from now");
    // Yesterday is still answered by yesterday's rota.
    let after_then = chart_row(&app, &priya, "RJ1", "head_of_cyber", Some(&as_at))
        .await
        .on_call
        .unwrap()
        .now;
    assert_eq!(after_then, before_then);
    assert_eq!(who(london).await, before_then);
    // Handing the role back today leaves yesterday's chart naming the rota.
    let res = app
        .post_with(
            &priya,
            "/api/rotas/release_role",
            &[("org_code", "RJ1"), ("role_key", "head_of_cyber")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        chart_row(&app, &priya, "RJ1", "head_of_cyber", None)
            .await
            .on_call
            .is_none()
    );
    assert_eq!(
        chart_row(&app, &priya, "RJ1", "head_of_cyber", Some(&as_at))
            .await
            .on_call
            .map(|o| o.now),
        Some(before_then)
    );
}
