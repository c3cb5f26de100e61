//! An organisation's channel, as Teams and Slack are connected now: an Adaptive Card for a
//! Teams Workflows webhook (checked by Microsoft's own card library), Slack-compatible text
//! and blocks, or Wardline's JSON; each with a button per person paged that opens their own
//! signed acknowledge page.

use std::sync::{Arc, Mutex};

use app::backend::entity::{notification, notification_rule, person, webhook};
use app::backend::escalation::{Delivery, Engine, MailSettings, ManualClock};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use time::{Duration, OffsetDateTime};

use crate::helpers::people::{GARETH, NADIA, OWEN, PRIYA};
use crate::helpers::{TestApp, spawn_app};

/// A channel on loopback that accepts every post and keeps its body.
async fn channel() -> (String, Arc<Mutex<Vec<String>>>) {
    use axum::routing::post;
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept = got.clone();
    let router = axum::Router::new().route(
        "/workflow",
        post(move |body: String| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push(body);
                http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/workflow", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, got)
}

/// The ICB's admin sets the practice's channel in `format` through the form's server
/// function (an https address, as Teams gives), then it is pointed at the loopback channel
/// straight in the database (the form refuses loopback, as it should).
async fn connect(
    app: &TestApp,
    gareth: &reqwest::Client,
    format: &str,
    url: &str,
) -> reqwest::StatusCode {
    let res = app
        .post_with(
            gareth,
            "/api/manage/webhook",
            &[
                ("org_code", "G85028"),
                (
                    "url",
                    "https://prod-00.uksouth.logic.azure.com/workflows/abc/triggers/manual",
                ),
                ("enabled", "on"),
                ("format", format),
            ],
        )
        .await;
    if res.status().is_success() {
        let practice = app::backend::orgs::find_by_code(&app.db, "G85028")
            .await
            .unwrap()
            .unwrap();
        let row = webhook::Entity::find()
            .filter(webhook::Column::OrgId.eq(practice.id))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let mut row: webhook::ActiveModel = row.into();
        row.url = Set(url.to_owned());
        row.update(&app.db).await.unwrap();
    }
    res.status()
}

/// Declares at the practice and runs an engine past the first time-out; returns the
/// incident's reference and the channel's post about its first task (the incident's
/// command has a post of its own).
async fn escalate(app: &TestApp, got: &Arc<Mutex<Vec<String>>>) -> (String, serde_json::Value) {
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let delivery = Delivery::new(
        &MailSettings {
            host: None,
            port: 25,
            from: "wardline@nhs.test".into(),
            security: "none".into(),
            username: None,
            password: None,
        },
        &app.address,
    )
    .unwrap()
    .allowing_private_webhooks(true)
    .unwrap();
    let db = app::backend::db::connect(&app.database_url).await.unwrap();
    let engine = Engine::new(db, clock.clone(), delivery, false);
    clock.advance(Duration::minutes(16));
    engine.decide_due().await.unwrap();
    engine.deliver_due().await.unwrap();
    let posts: Vec<serde_json::Value> = got
        .lock()
        .unwrap()
        .iter()
        .map(|p| serde_json::from_str(p).expect("JSON"))
        .collect();
    assert!(
        posts.len() >= 2,
        "the command and the first task: {posts:?}"
    );
    let task = posts
        .into_iter()
        .find(|p| !p.to_string().contains("to acknowledge command"))
        .expect("a post about a task");
    (reference, task)
}

/// Runs Microsoft's Adaptive Cards library (installed with the browser tests' npm packages
/// by `scripts/install-tools.sh`) over a Teams post; the problems it finds, if any.
fn microsofts_library_reads(post: &serde_json::Value) -> Result<(), String> {
    use std::io::Write;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../end2end/scripts/check-adaptive-card.cjs"
    );
    let mut child = std::process::Command::new("node")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs (scripts/install-tools.sh installs the end2end packages)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(post.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() {
        Ok(())
    } else {
        Err(said)
    }
}

#[tokio::test]
async fn a_teams_channel_gets_an_adaptive_card_whose_buttons_work_only_for_the_person_paged() {
    let app = spawn_app().await.with_demo().await;
    let (url, got) = channel().await;
    let gareth = app.enrolled(GARETH).await;
    assert_eq!(connect(&app, &gareth, "teams", &url).await, 200);
    let (reference, post) = escalate(&app, &got).await;

    microsofts_library_reads(&post).expect("a card Teams can render");
    // And the checker itself refuses a broken card, so its approval means something.
    let mut broken = post.clone();
    broken["attachments"][0]["content"]["body"][0]["type"] = "TextBlok".into();
    assert!(microsofts_library_reads(&broken).is_err());

    let card = &post["attachments"][0]["content"];
    let facts = card["body"][1]["facts"].as_array().unwrap();
    assert_eq!(facts[0]["value"], reference.as_str());
    assert_eq!(facts[2]["value"], "Level 1");
    let acknowledge: Vec<(String, String)> = card["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| {
            let name = a["title"].as_str()?.strip_prefix("Acknowledge (")?;
            Some((
                name.trim_end_matches(')').to_owned(),
                a["url"].as_str()?.to_owned(),
            ))
        })
        .collect();
    assert!(!acknowledge.is_empty(), "a button per person paged: {card}");
    assert!(
        facts[3]["value"]
            .as_str()
            .unwrap()
            .contains(&acknowledge[0].0)
    );
    let last = card["actions"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["url"].as_str().unwrap(),
        format!("{}/incidents/{reference}", app.address)
    );

    // The button opens the signed page for the person paged, and for nobody else.
    let (name, link) = &acknowledge[0];
    let token = link
        .strip_prefix(&format!("{}/ack/", app.address))
        .expect("a link to this Wardline's acknowledge page");
    let paged = person::Entity::find()
        .filter(person::Column::DisplayName.eq(name.as_str()))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the person named on the button");
    let them = if paged.email == GARETH {
        gareth.clone()
    } else {
        app.enrolled(&paged.email).await
    };
    let res = app
        .post_with(&them, "/api/ack/info", &[("token", token)])
        .await;
    assert_eq!(res.status(), 200, "the person paged opens it");
    let nadia = app.signed_in_as(NADIA).await;
    let res = app
        .post_with(&nadia, "/api/ack/info", &[("token", token)])
        .await;
    assert_eq!(
        res.status(),
        404,
        "someone else in the channel cannot use it"
    );
}

#[tokio::test]
async fn slack_and_wardline_json_channels_get_their_own_shapes() {
    let app = spawn_app().await.with_demo().await;
    let (url, got) = channel().await;
    let gareth = app.enrolled(GARETH).await;
    assert_eq!(connect(&app, &gareth, "slack", &url).await, 200);
    let (reference, post) = escalate(&app, &got).await;
    assert!(post["text"].as_str().unwrap().contains(&reference));
    let section = post["blocks"][0]["text"]["text"].as_str().unwrap();
    assert_eq!(post["blocks"][0]["type"], "section");
    assert!(section.contains("|Acknowledge ("), "{section}");

    let app = spawn_app().await.with_demo().await;
    let (url, got) = channel().await;
    let gareth = app.enrolled(GARETH).await;
    assert_eq!(connect(&app, &gareth, "json", &url).await, 200);
    let (reference, post) = escalate(&app, &got).await;
    assert_eq!(post["incident"], reference.as_str());
    assert_eq!(post["level"], 1);
    assert!(post["task"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(post["paged"].as_array().is_some_and(|p| !p.is_empty()));
}

#[tokio::test]
async fn an_unknown_format_is_refused_and_the_channel_is_left_as_it_was() {
    let app = spawn_app().await.with_demo().await;
    let (url, _) = channel().await;
    let gareth = app.enrolled(GARETH).await;
    assert_eq!(connect(&app, &gareth, "slack", &url).await, 200);
    assert_eq!(connect(&app, &gareth, "msteams-connector", &url).await, 422);
    let rows = webhook::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].format, "slack");
    assert_eq!(rows[0].url, url, "nothing changed by the refused save");
}

#[tokio::test]
async fn a_person_paged_by_teams_gets_a_card_in_their_organisations_channel_with_their_own_button()
{
    let app = spawn_app().await.with_demo().await;
    let (url, got) = channel().await;
    let gareth = app.enrolled(GARETH).await;
    assert_eq!(connect(&app, &gareth, "teams", &url).await, 200);

    // Priya's trust has no Teams channel: her Teams rule is refused, her rules untouched.
    let priya = app.enrolled(PRIYA).await;
    let res = app
        .post_with(
            &priya,
            "/api/contacts/add_rule",
            &[("channel", "teams"), ("delay_minutes", "0")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("has a Microsoft Teams channel connected")
    );
    assert!(
        notification_rule::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );

    // Owen, at the practice, is paged by Teams only.
    let owen = app.signed_in_as(OWEN).await;
    let res = app
        .post_with(
            &owen,
            "/api/contacts/add_rule",
            &[("channel", "teams"), ("delay_minutes", "0")],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let nadia = app.signed_in_as(NADIA).await;
    // Patients' records: the practice's Caldicott Guardian, Owen, is given tasks.
    let reference = app.declare(&nadia, "data_breach").await;
    let owen_id = app.person_id(OWEN).await;
    let his: Vec<notification::Model> = notification::Entity::find()
        .filter(notification::Column::PersonId.eq(owen_id))
        .filter(notification::Column::Channel.ne("inbox"))
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        !his.is_empty(),
        "Owen holds tasks in a practice data breach"
    );
    assert!(his.iter().all(|n| n.channel == "teams"), "{his:?}");

    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let delivery = Delivery::new(
        &MailSettings {
            host: None,
            port: 25,
            from: "wardline@nhs.test".into(),
            security: "none".into(),
            username: None,
            password: None,
        },
        &app.address,
    )
    .unwrap()
    .allowing_private_webhooks(true)
    .unwrap();
    let db = app::backend::db::connect(&app.database_url).await.unwrap();
    Engine::new(db, clock, delivery, false)
        .deliver_due()
        .await
        .unwrap();
    let posts: Vec<serde_json::Value> = got
        .lock()
        .unwrap()
        .iter()
        .map(|p| serde_json::from_str(p).expect("JSON"))
        .collect();
    assert_eq!(posts.len(), 1, "one card, for Owen: {posts:?}");
    let post = &posts[0];
    microsofts_library_reads(post).expect("a card Teams can render");
    let card = &post["attachments"][0]["content"];
    assert!(card.to_string().contains("Owen Fraser"), "{card}");
    assert!(card.to_string().contains(&reference), "{card}");
    let buttons: Vec<&str> = card["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["url"].as_str())
        .filter(|u| u.contains("/ack/"))
        .collect();
    assert_eq!(buttons.len(), 1, "his own button only: {card}");
    let token = buttons[0]
        .strip_prefix(&format!("{}/ack/", app.address))
        .unwrap();
    let res = app
        .post_with(&owen, "/api/ack/info", &[("token", token)])
        .await;
    assert_eq!(res.status(), 200, "Owen opens his own page");
    let res = app
        .post_with(&nadia, "/api/ack/info", &[("token", token)])
        .await;
    assert_eq!(res.status(), 404, "nobody else can");
    let sent: Vec<app::domain::escalation::NotificationStatus> = notification::Entity::find()
        .filter(notification::Column::PersonId.eq(owen_id))
        .filter(notification::Column::Channel.eq("teams"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.status)
        .collect();
    assert!(
        sent.iter()
            .all(|s| *s == app::domain::escalation::NotificationStatus::Sent),
        "{sent:?}"
    );
}
