//! The escalation engine: on time, exactly once, across crashes and several engines; email
//! through a real SMTP listener on loopback; signed webhooks with retries; signed email
//! links that need a confirming POST.

use std::sync::{Arc, Mutex};

use app::backend::entity::{escalation, notification, task, webhook};
use app::backend::escalation::{Delivery, Engine, MailSettings, ManualClock};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use time::{Duration, OffsetDateTime};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use app::domain::escalation::{AckLink, FlaggedRow, InboxItem, PolicyView};
use app::domain::incidents::{ExerciseKind, ExerciseReport, Exercises};

use crate::helpers::people::{GARETH, NADIA, OWEN, SAM};
use crate::helpers::{TestApp, spawn_app};

/// Meera Shah, the ICB's Senior Information Risk Owner and Gold on call.
const MEERA: &str = "meera.shah@demo.wardline.test";

/// A real SMTP listener on loopback that accepts everything and keeps each message.
pub struct SmtpSink {
    pub port: u16,
    pub messages: Arc<Mutex<Vec<String>>>,
}

pub async fn smtp_sink() -> SmtpSink {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let kept = messages.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            kept.lock().unwrap().push(std::mem::take(body));
                            data = None;
                            let _ = write.write_all(b"250 2.0.0 queued\r\n").await;
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 2.0.0 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    SmtpSink { port, messages }
}

fn delivery(smtp_port: Option<u16>, public_url: &str) -> Delivery {
    Delivery::new(
        &MailSettings {
            host: smtp_port.map(|_| "127.0.0.1".to_owned()),
            port: smtp_port.unwrap_or(25),
            from: "wardline@nhs.test".into(),
            security: "none".into(),
            username: None,
            password: None,
        },
        public_url,
    )
    .unwrap()
    // The webhook receivers here listen on loopback: these tests opt in, as local
    // development does with WARDLINE_WEBHOOK_ALLOW_PRIVATE.
    .allowing_private_webhooks(true)
    .unwrap()
}

async fn engine(app: &TestApp, clock: Arc<ManualClock>, smtp: Option<u16>) -> Engine {
    let db = app::backend::db::connect(&app.database_url).await.unwrap();
    Engine::new(db, clock, delivery(smtp, &app.address), false)
}

/// A ransomware incident declared by the person signed in on `client`.
async fn declare(app: &TestApp, client: &reqwest::Client) -> String {
    app.declare(client, "ransomware").await
}

async fn first_task(app: &TestApp, reference: &str) -> task::Model {
    use sea_orm::QueryOrder;
    task::Entity::find()
        .filter(task::Column::IncidentId.eq(app.incident_id(reference).await))
        .order_by_asc(task::Column::Position)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn state_of(app: &TestApp, task_id: i64) -> escalation::Model {
    escalation::Entity::find()
        .filter(escalation::Column::Subject.eq("task"))
        .filter(escalation::Column::SubjectId.eq(task_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn notes_for(app: &TestApp, task_id: i64, level: i32) -> Vec<notification::Model> {
    notification::Entity::find()
        .filter(notification::Column::Subject.eq("task"))
        .filter(notification::Column::SubjectId.eq(task_id))
        .filter(notification::Column::Level.eq(level))
        .all(&app.db)
        .await
        .unwrap()
}

async fn timeline(app: &TestApp, reference: &str) -> Vec<String> {
    use app::backend::entity::incident_event;
    incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(app.incident_id(reference).await))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect()
}

#[tokio::test]
async fn an_unacknowledged_task_escalates_level_by_level_once_each_and_stops_when_acknowledged() {
    let app = spawn_app().await.with_demo().await;
    let sink = smtp_sink().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = declare(&app, &nadia).await;
    let triage = first_task(&app, &reference).await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = engine(&app, clock.clone(), Some(sink.port)).await;

    assert_eq!(e.decide_due().await.unwrap(), 0, "nothing is due yet");
    let deadline = state_of(&app, triage.id).await.fires_at.unwrap();
    assert!(
        deadline <= triage.due_at,
        "first escalation no later than the task's due time"
    );

    clock.advance(Duration::minutes(16));
    let decided = e.decide_due().await.unwrap();
    assert!(decided >= 1);
    let s = state_of(&app, triage.id).await;
    assert_eq!((s.level, s.round), (1, 0));
    let level1 = notes_for(&app, triage.id, 1).await;
    let inbox: Vec<_> = level1.iter().filter(|n| n.channel == "inbox").collect();
    let email: Vec<_> = level1.iter().filter(|n| n.channel == "email").collect();
    assert_eq!(inbox.len(), 1, "the ICB's head of cyber, once");
    assert_eq!(email.len(), 1);
    assert_eq!(
        email[0].status,
        app::domain::escalation::NotificationStatus::Pending
    );

    // Running again at the same moment decides nothing and writes nothing more.
    assert_eq!(e.decide_due().await.unwrap(), 0);
    assert_eq!(notes_for(&app, triage.id, 1).await.len(), level1.len());

    // Delivery: one email through the real SMTP listener, recorded on the timeline.
    assert!(e.deliver_due().await.unwrap() >= 1);
    let mails = sink.messages.lock().unwrap().clone();
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Triage and declare the incident level") && m.contains("/ack/"))
    );
    let email_now = notification::Entity::find_by_id(email[0].id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((email_now.status.as_str(), email_now.attempts), ("sent", 1));
    let lines = timeline(&app, &reference).await;
    assert!(lines.iter().any(|l| l.contains("escalated to level 1")));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Email to Gareth Lloyd delivered (attempt 1)"))
    );
    assert_eq!(e.deliver_due().await.unwrap(), 0, "nothing is sent twice");

    // Fifteen more minutes: level 2, the regional cyber lead.
    clock.advance(Duration::minutes(15));
    e.decide_due().await.unwrap();
    assert_eq!(state_of(&app, triage.id).await.level, 2);
    let level2 = notes_for(&app, triage.id, 2).await;
    assert!(level2.iter().any(|n| n.channel == "inbox"));

    // Acknowledged now: no level 3, however long we wait.
    let gareth = app.enrolled(GARETH).await;
    let ack = app.act_on_task(&gareth, triage.id, "acknowledge").await;
    assert_eq!(ack.status(), 200);
    clock.advance(Duration::hours(3));
    e.decide_due().await.unwrap();
    assert_eq!(state_of(&app, triage.id).await.level, 2);
    assert!(notes_for(&app, triage.id, 3).await.is_empty());
}

#[tokio::test]
async fn after_the_last_level_and_its_repeat_the_task_is_flagged_and_nothing_more_fires() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = declare(&app, &nadia).await;
    let triage = first_task(&app, &reference).await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = engine(&app, clock.clone(), None).await;
    // Three levels, repeated once: six steps, then the flag.
    for _ in 0..7 {
        clock.advance(Duration::minutes(16));
        e.decide_due().await.unwrap();
    }
    let s = state_of(&app, triage.id).await;
    assert!(s.flagged && s.fires_at.is_none(), "{s:?}");
    assert_eq!((s.level, s.round), (3, 1));
    let rounds: Vec<(i32, i32)> = {
        let mut v: Vec<_> = notification::Entity::find()
            .filter(notification::Column::SubjectId.eq(triage.id))
            .filter(notification::Column::Subject.eq("task"))
            .filter(notification::Column::Channel.eq("inbox"))
            .filter(notification::Column::Level.gt(0))
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .map(|n| (n.level, n.round))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    assert_eq!(rounds, [(1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)]);
    assert!(
        timeline(&app, &reference)
            .await
            .iter()
            .any(|l| l.contains("flagged for national attention"))
    );
    // Listed for everyone who can see the practice, national teams included; not for others.
    assert!(
        flagged(&app, &nadia)
            .await
            .iter()
            .any(|r| r.reference == reference && r.what == "Triage and declare the incident level")
    );
    let sam = app.signed_in_as(SAM).await;
    assert!(flagged(&app, &sam).await.is_empty());
    clock.advance(Duration::hours(10));
    assert_eq!(e.decide_due().await.unwrap(), 0);
}

#[tokio::test]
async fn two_engines_on_one_database_fire_each_step_exactly_once() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let mut refs = Vec::new();
    for _ in 0..4 {
        refs.push(declare(&app, &nadia).await);
    }
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let a = engine(&app, clock.clone(), None).await;
    let b = engine(&app, clock.clone(), None).await;
    let mut decided = 0;
    for _ in 0..3 {
        clock.advance(Duration::minutes(16));
        let (x, y) = tokio::join!(a.decide_due(), b.decide_due());
        decided += x.unwrap() + y.unwrap();
    }
    // Every escalation row's steps were taken once in all: the sum of levels reached.
    let states = escalation::Entity::find().all(&app.db).await.unwrap();
    let steps: i32 = states.iter().map(|s| s.level + s.round * 3).sum();
    assert_eq!(
        decided as i32, steps,
        "each step decided by exactly one engine"
    );
    // One timeline line per step, and no notification beyond one per key.
    for r in &refs {
        let lines = timeline(&app, r).await;
        let t = first_task(&app, r).await;
        let s = state_of(&app, t.id).await;
        for level in 1..=s.level {
            let title_line = lines
                .iter()
                .filter(|l| {
                    l.contains("Triage and declare the incident level")
                        && l.contains(&format!("escalated to level {level}:"))
                })
                .count();
            assert_eq!(title_line, 1, "level {level} of {r}");
            let inbox = notes_for(&app, t.id, level).await;
            let mut keys: Vec<_> = inbox
                .iter()
                .map(|n| (n.recipient_key.clone(), n.channel.clone(), n.round))
                .collect();
            let before = keys.len();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), before);
        }
    }
}

#[tokio::test]
async fn on_postgres_two_engines_share_a_burst_and_take_each_step_once() {
    let app = spawn_app().await.with_demo().await;
    if !app.on_postgres() {
        // SQLite has one writer at a time: engines there take turns over the whole
        // database, and the test above shows each step is still taken once.
        eprintln!("skipped: engines share work through PostgreSQL's row locks");
        return;
    }
    // Enough incidents that the due steps span several of an engine's chunks.
    for email in [NADIA, "aisha.bello@demo.wardline.test", OWEN] {
        let client = app.signed_in_as(email).await;
        for _ in 0..25 {
            app.declare(&client, "ransomware").await;
        }
    }
    let at = OffsetDateTime::now_utc() + Duration::minutes(16);
    let clock = Arc::new(ManualClock::new(at));
    let due = escalation::Entity::find()
        .filter(escalation::Column::FiresAt.lte(at))
        .count(&app.db)
        .await
        .unwrap() as usize;
    assert!(due > 500, "a burst over two chunks: {due}");
    let a = engine(&app, clock.clone(), None).await;
    let b = engine(&app, clock.clone(), None).await;
    let (x, y) = tokio::join!(a.decide_due(), b.decide_due());
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x + y, due, "every due step taken, none twice");
    assert!(x > 0 && y > 0, "both engines took a share: {x} and {y}");
    let stepped = escalation::Entity::find()
        .filter(escalation::Column::Level.eq(1))
        .count(&app.db)
        .await
        .unwrap() as usize;
    assert_eq!(stepped, due, "each stepped exactly one level");
}

#[tokio::test]
async fn acknowledgement_racing_escalation_has_one_consistent_outcome() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let gareth = app.enrolled(GARETH).await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = engine(&app, clock.clone(), None).await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let r = declare(&app, &nadia).await;
        tasks.push((r.clone(), first_task(&app, &r).await));
    }
    clock.advance(Duration::minutes(16));
    for (_, t) in &tasks {
        let id = t.id.to_string();
        let form = [("id", id.as_str()), ("action", "acknowledge")];
        let (ack, decided) = tokio::join!(
            app.post_with(&gareth, "/api/tasks/act", &form),
            e.decide_due()
        );
        assert_eq!(ack.status(), 200);
        decided.unwrap();
    }
    for (r, t) in &tasks {
        let s = state_of(&app, t.id).await;
        assert!(s.acknowledged_at.is_some());
        let level1 = notes_for(&app, t.id, 1).await;
        let lines: Vec<_> = timeline(&app, r)
            .await
            .into_iter()
            .filter(|l| {
                l.contains("Triage and declare the incident level") && l.contains("escalated")
            })
            .collect();
        match s.level {
            0 => assert!(
                level1.is_empty() && lines.is_empty(),
                "acknowledged first: no escalation"
            ),
            1 => assert!(
                !level1.is_empty() && lines.len() == 1,
                "escalated first, then acknowledged"
            ),
            other => panic!("level {other} after one deadline"),
        }
    }
    clock.advance(Duration::hours(2));
    e.decide_due().await.unwrap();
    for (_, t) in &tasks {
        assert!(
            state_of(&app, t.id).await.level <= 1,
            "nothing escalates once acknowledged"
        );
    }
}

/// A webhook receiver on loopback: fails the first request, then accepts.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<(http::HeaderMap, String)>>>) {
    use axum::routing::post;
    let got: Arc<Mutex<Vec<(http::HeaderMap, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let kept = got.clone();
    let router = axum::Router::new().route(
        "/hook",
        post(move |headers: http::HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                let mut v = kept.lock().unwrap();
                v.push((headers, body));
                if v.len() == 1 {
                    http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, got)
}

#[tokio::test]
async fn a_webhook_is_signed_retried_with_back_off_and_every_attempt_is_on_the_timeline() {
    let app = spawn_app().await.with_demo().await;
    let (url, got) = webhook_receiver().await;
    let practice = app::backend::orgs::find_by_code(&app.db, "G85028")
        .await
        .unwrap()
        .unwrap();
    webhook::ActiveModel {
        org_id: Set(practice.id),
        url: Set(url),
        secret: Set("s3cret-for-tests".into()),
        enabled: Set(true),
        updated_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let nadia = app.signed_in_as(NADIA).await;
    let reference = declare(&app, &nadia).await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = engine(&app, clock.clone(), None).await;
    clock.advance(Duration::minutes(16));
    e.decide_due().await.unwrap();
    let pending = notification::Entity::find()
        .filter(notification::Column::Channel.eq("webhook"))
        .count(&app.db)
        .await
        .unwrap();
    assert!(pending >= 1);
    e.deliver_due().await.unwrap();
    let first = got.lock().unwrap().len() as u64;
    assert_eq!(first, pending, "one POST per webhook notification");
    // The first POST failed: retried only after the back-off.
    let retry_now = e.deliver_due().await.unwrap();
    assert_eq!(retry_now, 0, "not before the back-off");
    clock.advance(Duration::seconds(11));
    assert!(e.deliver_due().await.unwrap() >= 1);
    let received = got.lock().unwrap().clone();
    for (headers, body) in &received {
        let ts = headers["x-wardline-timestamp"].to_str().unwrap();
        let sig = headers["x-wardline-signature"].to_str().unwrap();
        assert_eq!(
            sig,
            app::backend::escalation::webhook_signature("s3cret-for-tests", ts, body)
        );
        assert!(
            serde_json::from_str::<serde_json::Value>(body).unwrap()["text"]
                .as_str()
                .unwrap()
                .contains(&reference)
        );
    }
    let lines = timeline(&app, &reference).await;
    assert!(lines.iter().any(|l| l.contains(
        "Webhook to the organisation's channel failed (attempt 1): webhook answered 5xx"
    )));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Webhook to the organisation's channel delivered (attempt 2)"))
    );
}

#[tokio::test]
async fn an_email_link_acknowledges_only_when_its_recipient_confirms_and_only_once() {
    let app = spawn_app().await.with_demo().await;
    let sink = smtp_sink().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = declare(&app, &nadia).await;
    let triage = first_task(&app, &reference).await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = engine(&app, clock.clone(), Some(sink.port)).await;
    clock.advance(Duration::minutes(16));
    e.decide_due().await.unwrap();
    e.deliver_due().await.unwrap();
    let mail = sink
        .messages
        .lock()
        .unwrap()
        .iter()
        .find(|m| m.contains("Triage and declare the incident level"))
        .cloned()
        .unwrap();
    // Quoted-printable may wrap long lines with "=\n".
    let flat = mail.replace("=\n", "");
    let token: String = flat
        .split("/ack/")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();

    let gareth = app.enrolled(GARETH).await;
    // Following the link (a GET) shows a page and changes nothing.
    let page = gareth
        .get(format!("{}/ack/{token}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        task::Entity::find_by_id(triage.id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .state
            .as_str(),
        "open"
    );
    let info: AckLink = app
        .post_with(&gareth, "/api/ack/info", &[("token", token.as_str())])
        .await
        .json()
        .await
        .unwrap();
    assert!(!info.already);
    assert_eq!(info.incident_reference, reference);

    // Someone else cannot use it; a tampered one is refused.
    let nadia_try = app
        .post_with(&nadia, "/api/ack/confirm", &[("token", token.as_str())])
        .await;
    assert_eq!(nadia_try.status(), 404);
    let tampered = format!("{}0", token);
    assert_eq!(
        app.post_with(&gareth, "/api/ack/confirm", &[("token", tampered.as_str())])
            .await
            .status(),
        422
    );

    let ok = app
        .post_with(&gareth, "/api/ack/confirm", &[("token", token.as_str())])
        .await;
    assert_eq!(ok.status(), 200);
    let t = task::Entity::find_by_id(triage.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.state.as_str(), "acknowledged");
    assert!(state_of(&app, triage.id).await.acknowledged_at.is_some());
    assert!(
        timeline(&app, &reference)
            .await
            .iter()
            .any(|l| l.contains("(from the email link)"))
    );
    let again = app
        .post_with(&gareth, "/api/ack/confirm", &[("token", token.as_str())])
        .await;
    assert_eq!(again.status(), 409, "single use");

    // An expired link is refused even with a good signature.
    let key = app::backend::escalation::signing_key(&app.db)
        .await
        .unwrap();
    let n = notes_for(&app, triage.id, 1)
        .await
        .into_iter()
        .find(|n| n.channel == "email")
        .unwrap();
    let old = app::backend::escalation::sign_link(
        &key,
        n.id,
        OffsetDateTime::now_utc() - Duration::minutes(1),
    );
    let expired = app
        .post_with(&gareth, "/api/ack/confirm", &[("token", old.as_str())])
        .await;
    assert_eq!(expired.status(), 422);
    assert!(expired.text().await.unwrap().contains("expired"));
}

#[tokio::test]
async fn a_crash_between_decision_and_delivery_loses_nothing_and_doubles_nothing() {
    let app = spawn_app().await.with_demo().await;
    let sink = smtp_sink().await;
    let nadia = app.signed_in_as(NADIA).await;
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let r = declare(&app, &nadia).await;
        tasks.push(first_task(&app, &r).await);
    }
    // Make the first deadlines already past, for a server using the wall clock.
    escalation::Entity::update_many()
        .col_expr(
            escalation::Column::FiresAt,
            sea_orm::sea_query::Expr::value(OffsetDateTime::now_utc() - Duration::minutes(1)),
        )
        .filter(escalation::Column::Subject.eq("task"))
        .exec(&app.db)
        .await
        .unwrap();
    let run = |fault: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_wardline"));
        cmd.arg("serve")
            .env("WARDLINE_DATABASE_URL", &app.database_url)
            .env("WARDLINE_SECRET_KEY_FILE", &app.key_file)
            .env("WARDLINE_ADDR", "127.0.0.1:0")
            .env("WARDLINE_SMTP_HOST", "127.0.0.1")
            .env("WARDLINE_SMTP_PORT", sink.port.to_string())
            .env("WARDLINE_SMTP_SECURITY", "none")
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if fault {
            cmd.env("WARDLINE_FAULT", "abort-after-escalation-decision");
        }
        cmd.spawn().unwrap()
    };
    // First run: decides, commits, and dies before delivering anything.
    let mut crashed = run(true);
    let status = tokio::task::spawn_blocking(move || crashed.wait().unwrap())
        .await
        .unwrap();
    assert!(!status.success(), "the process was killed by the fault");
    let pending = notification::Entity::find()
        .filter(notification::Column::Channel.eq("email"))
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        !pending.is_empty(),
        "the decision and its outbox rows survived the crash"
    );
    assert!(pending.iter().all(|n| n.status
        == app::domain::escalation::NotificationStatus::Pending
        && n.attempts == 0));
    assert!(
        sink.messages.lock().unwrap().is_empty(),
        "nothing was delivered before the crash"
    );

    // Second run: delivers what was decided, decides nothing again.
    let mut restarted = run(false);
    let want = pending.len();
    let mut waited = 0;
    while sink.messages.lock().unwrap().len() < want && waited < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += 1;
    }
    // A little longer, so any duplicate would have time to arrive.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    restarted.kill().unwrap();
    let _ = restarted.wait();
    assert_eq!(
        sink.messages.lock().unwrap().len(),
        want,
        "every email once, none twice"
    );
    for t in &tasks {
        let s = state_of(&app, t.id).await;
        assert_eq!(s.level, 1, "one escalation per (task, level)");
        let emails: Vec<_> = notes_for(&app, t.id, 1)
            .await
            .into_iter()
            .filter(|n| n.channel == "email")
            .collect();
        assert!(emails.iter().all(|n| n.status
            == app::domain::escalation::NotificationStatus::Sent
            && n.attempts == 1));
    }
}

/// The flagged tasks the person signed in on `client` may see.
async fn flagged(app: &TestApp, client: &reqwest::Client) -> Vec<FlaggedRow> {
    let res = app.post_with(client, "/api/escalation/flagged", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn policy(app: &TestApp, client: &reqwest::Client, code: &str) -> PolicyView {
    let res = app
        .post_with(client, "/api/escalation/policy", &[("org_code", code)])
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn hook(app: &TestApp, client: &reqwest::Client, url: &str) -> reqwest::StatusCode {
    app.post_with(
        client,
        "/api/manage/webhook",
        &[("org_code", "G85028"), ("url", url), ("enabled", "on")],
    )
    .await
    .status()
}

#[tokio::test]
async fn a_policy_reads_as_a_path_and_its_admins_set_their_own() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let p = policy(&app, &nadia, "G85028").await;
    assert_eq!(
        p.path,
        "Stockwell Group Practice → NHS South East London Integrated Care Board → London → NHS England Cyber Security Operations Centre (CSOC) → then flagged for national attention"
    );
    assert_eq!(p.source, "The national default");
    assert!(!p.editable);
    assert!(p.webhook.is_none());

    let form = |role: &'static str, minutes: &'static str| {
        vec![
            ("org_code", "G85028"),
            ("repeat_count", "0"),
            ("levels[0][role]", role),
            ("levels[0][scope]", "above"),
            ("levels[0][timeout_minutes]", minutes),
            ("levels[1][role]", "siro"),
            ("levels[1][scope]", "QKK"),
            ("levels[1][timeout_minutes]", "10"),
        ]
    };
    assert_eq!(
        app.post_with(
            &nadia,
            "/api/manage/escalation",
            &form("head_of_cyber", "5")
        )
        .await
        .status(),
        404,
        "QKK, above the practice, is beyond what Nadia may act on"
    );
    let gareth = app.enrolled(GARETH).await;
    assert_eq!(
        app.post_with(
            &gareth,
            "/api/manage/escalation",
            &form("no_such_role", "5")
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        app.post_with(
            &gareth,
            "/api/manage/escalation",
            &form("head_of_cyber", "0")
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        app.post_with(
            &gareth,
            "/api/manage/escalation",
            &form("head_of_cyber", "5")
        )
        .await
        .status(),
        200
    );
    let p = policy(&app, &gareth, "G85028").await;
    assert_eq!(p.source, "This organisation's own policy");
    assert_eq!(p.levels.len(), 2);
    assert_eq!(p.levels[0].timeout_minutes, 5);
    assert_eq!(
        p.levels[1].targets[0].1,
        "Meera Shah at NHS South East London Integrated Care Board"
    );

    // A new incident at the practice escalates on the new, shorter time-out.
    let reference = declare(&app, &nadia).await;
    let t = first_task(&app, &reference).await;
    let s = state_of(&app, t.id).await;
    let created = escalation::Entity::find_by_id(s.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .updated_at;
    assert_eq!((s.fires_at.unwrap() - created).whole_minutes(), 5);

    // Webhooks: https only; the secret is shown to admins alone.
    assert_eq!(hook(&app, &gareth, "http://example.com/hook").await, 422);
    assert_eq!(
        hook(&app, &gareth, "https://hooks.example.test/services/abc").await,
        200
    );
    let hook = policy(&app, &gareth, "G85028").await.webhook.unwrap();
    let (url, secret) = (hook.url, hook.secret);
    assert_eq!(url, "https://hooks.example.test/services/abc");
    assert!(secret.len() >= 20);
    assert!(policy(&app, &nadia, "G85028").await.webhook.is_none());
}

#[tokio::test]
async fn the_gold_commander_acknowledges_or_is_escalated_past() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let first = declare(&app, &nadia).await;
    let second = declare(&app, &nadia).await;
    let gold_state = |reference: String| {
        let app = &app;
        async move {
            escalation::Entity::find()
                .filter(escalation::Column::Subject.eq("command"))
                .filter(escalation::Column::IncidentId.eq(app.incident_id(&reference).await))
                .one(&app.db)
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert!(gold_state(first.clone()).await.fires_at.is_some());
    assert_eq!(
        app.post_with(
            &nadia,
            "/api/incidents/lead/ack_command",
            &[("reference", first.as_str())]
        )
        .await
        .status(),
        409,
        "only the Gold commander acknowledges command"
    );
    let meera = app.signed_in_as(MEERA).await;
    assert_eq!(
        app.post_with(
            &meera,
            "/api/incidents/lead/ack_command",
            &[("reference", first.as_str())]
        )
        .await
        .status(),
        200
    );
    assert!(gold_state(first.clone()).await.acknowledged_at.is_some());
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = engine(&app, clock.clone(), None).await;
    clock.advance(Duration::minutes(16));
    e.decide_due().await.unwrap();
    assert_eq!(
        gold_state(first.clone()).await.level,
        0,
        "acknowledged command does not escalate"
    );
    assert_eq!(
        gold_state(second.clone()).await.level,
        1,
        "unacknowledged command escalates"
    );
    assert!(
        timeline(&app, &second)
            .await
            .iter()
            .any(|l| l.contains("Gold (strategic) to acknowledge command")
                && l.contains("escalated to level 1"))
    );
}

#[tokio::test]
async fn a_person_who_turned_email_off_gets_the_inbox_only() {
    let app = spawn_app().await.with_demo().await;
    let sink = smtp_sink().await;
    let gareth = app.enrolled(GARETH).await;
    let off = app.post_with(&gareth, "/api/me/set_prefs", &[]).await;
    assert_eq!(off.status(), 200);
    let prefs: bool = app
        .post_with(&gareth, "/api/me/prefs", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(!prefs);
    let nadia = app.signed_in_as(NADIA).await;
    let reference = declare(&app, &nadia).await;
    let triage = first_task(&app, &reference).await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = engine(&app, clock.clone(), Some(sink.port)).await;
    clock.advance(Duration::minutes(16));
    e.decide_due().await.unwrap();
    let level1 = notes_for(&app, triage.id, 1).await;
    assert!(level1.iter().any(|n| n.channel == "inbox"));
    assert!(level1.iter().all(|n| n.channel != "email"), "{level1:?}");
    // The inbox shows it, unread, and marking it read clears the count.
    let unread: u64 = app
        .post_with(&gareth, "/api/inbox/unread", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(unread >= 1);
    let items: Vec<InboxItem> = app.inbox_page(&gareth, 1).await.items;
    assert!(
        items
            .iter()
            .any(|i| i.title.starts_with("Escalated to you") && !i.read)
    );
    assert_eq!(
        app.post_with(&gareth, "/api/inbox/read", &[])
            .await
            .status(),
        200
    );
    let unread: u64 = app
        .post_with(&gareth, "/api/inbox/unread", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unread, 0);
}

#[tokio::test]
async fn a_webhook_that_never_answers_times_out_and_is_retried_later() {
    let app = spawn_app().await.with_demo().await;
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let practice = app::backend::orgs::find_by_code(&app.db, "G85028")
        .await
        .unwrap()
        .unwrap();
    webhook::ActiveModel {
        org_id: Set(practice.id),
        url: Set(url),
        secret: Set("silent".into()),
        enabled: Set(true),
        updated_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let nadia = app.signed_in_as(NADIA).await;
    let reference = declare(&app, &nadia).await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = engine(&app, clock.clone(), None).await;
    clock.advance(Duration::minutes(16));
    e.decide_due().await.unwrap();
    let started = std::time::Instant::now();
    e.deliver_due().await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let hooks = notification::Entity::find()
        .filter(notification::Column::Channel.eq("webhook"))
        .all(&app.db)
        .await
        .unwrap();
    assert!(hooks.iter().all(
        |n| n.status == app::domain::escalation::NotificationStatus::Pending && n.attempts == 1
    ));
    assert!(
        timeline(&app, &reference)
            .await
            .iter()
            .any(|l| l.contains("timed out"))
    );
}

#[tokio::test]
async fn a_level_can_name_a_person_who_is_then_told() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let form = [
        ("org_code", "G85028"),
        ("repeat_count", "0"),
        ("levels[0][role]", ""),
        ("levels[0][person_email]", OWEN),
        ("levels[0][timeout_minutes]", "5"),
    ];
    assert_eq!(
        app.post_with(&gareth, "/api/manage/escalation", &form)
            .await
            .status(),
        200
    );
    let nobody = [
        ("org_code", "G85028"),
        ("repeat_count", "0"),
        ("levels[0][person_email]", "nobody@nowhere.test"),
        ("levels[0][timeout_minutes]", "5"),
    ];
    assert_eq!(
        app.post_with(&gareth, "/api/manage/escalation", &nobody)
            .await
            .status(),
        404,
        "nobody with that email: as absent as someone out of reach"
    );
    let p = policy(&app, &gareth, "G85028").await;
    assert_eq!(p.levels[0].targets[0].0, "Owen Fraser");
    assert_eq!(p.levels[0].person_email.as_deref(), Some(OWEN));
    let nadia = app.signed_in_as(NADIA).await;
    let reference = declare(&app, &nadia).await;
    let triage = first_task(&app, &reference).await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = engine(&app, clock.clone(), None).await;
    clock.advance(Duration::minutes(6));
    e.decide_due().await.unwrap();
    let told = notes_for(&app, triage.id, 1).await;
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].person_id, Some(app.person_id(OWEN).await));
}

#[tokio::test]
async fn an_exercise_runs_for_real_is_marked_everywhere_and_reports_how_it_went() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let gareth = app.enrolled(GARETH).await;
    let form = [
        ("org_code", "G85028"),
        ("kind", "ransomware"),
        ("exercise", "tabletop"),
        ("scenario", "Reception screens show a ransom note at 08:05."),
    ];
    assert_eq!(
        app.post_with(&nadia, "/api/incidents/lead/exercise", &form)
            .await
            .status(),
        403,
        "staff do not start exercises"
    );
    let res = app
        .post_with(&gareth, "/api/incidents/lead/exercise", &form)
        .await;
    assert_eq!(res.status(), 200);
    let reference: String = res.json().await.unwrap();

    // Marked on the incident, in the list and in every message; no reporting clocks.
    let i = app.incident(&gareth, &reference).await;
    assert_eq!(i.exercise, Some(ExerciseKind::Tabletop));
    assert!(i.clocks.is_empty(), "{:?}", i.clocks);
    assert!(i.dspt_text.contains("do not report it"), "{}", i.dspt_text);
    let list = app.incident_list(&gareth).await;
    let row = list.iter().find(|r| r.reference == reference).unwrap();
    assert!(row.title.starts_with("EXERCISE"), "{row:?}");
    let triage = first_task(&app, &reference).await;
    let told = notes_for(&app, triage.id, 0).await;
    assert!(
        told.iter().all(|n| n.title.starts_with("[EXERCISE]")),
        "{told:?}"
    );

    // Its escalations are real, and say so.
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = engine(&app, clock.clone(), None).await;
    clock.advance(Duration::minutes(16));
    assert!(e.decide_due().await.unwrap() >= 1);
    let level1 = notes_for(&app, triage.id, 1).await;
    assert!(!level1.is_empty());
    assert!(
        level1.iter().all(|n| n.title.contains("[EXERCISE]")),
        "{level1:?}"
    );

    // Someone acknowledges a later task; the report counts it and the escalation.
    let second = task::Entity::find()
        .filter(task::Column::IncidentId.eq(triage.incident_id))
        .filter(task::Column::Position.eq(2))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        second.assignee_id,
        Some(app.person_id(GARETH).await),
        "{}",
        second.routing
    );
    let ack = app.act_on_task(&gareth, second.id, "acknowledge").await;
    assert_eq!(ack.status(), 200, "{}", ack.text().await.unwrap());
    let report: ExerciseReport = app
        .post_with(
            &nadia,
            "/api/exercises/report",
            &[("reference", &reference)],
        )
        .await
        .json()
        .await
        .unwrap();
    let tasks = &report.tasks;
    assert_eq!(tasks[0].escalations, 1, "{:?}", tasks[0]);
    assert_eq!(tasks[0].minutes_to_acknowledge, None);
    assert_eq!(tasks[1].minutes_to_acknowledge, Some(0));
    // Gaps found: the practice has no head of cyber, so triage fell back to the ICB.
    assert!(
        report
            .gaps
            .iter()
            .any(|g| g.contains("no Head of Cyber Security at Stockwell")),
        "{:?}",
        report.gaps
    );
    let per_task: i32 = tasks.iter().map(|t| t.escalations).sum();
    assert_eq!(report.escalations, per_task);
    assert!(
        report.per_role.iter().any(|r| r.1 == 1),
        "{:?}",
        report.per_role
    );

    // The cadence now counts the table-top; the others are overdue (never held).
    let x: Exercises = app
        .post_with(&nadia, "/api/exercises/list", &[("org_code", "G85028")])
        .await
        .json()
        .await
        .unwrap();
    let of_kind = |kind: ExerciseKind| x.cadence.iter().find(|c| c.kind == kind).unwrap();
    let tabletop = of_kind(ExerciseKind::Tabletop);
    assert!(!tabletop.overdue);
    assert_eq!(tabletop.last.as_ref().unwrap().0, reference);
    assert!(of_kind(ExerciseKind::Communications).overdue);
    assert!(!x.can_start, "staff see the cadence, cannot start one");

    // A real incident has no exercise report.
    let real = declare(&app, &nadia).await;
    let res = app
        .post_with(&nadia, "/api/exercises/report", &[("reference", &real)])
        .await;
    assert_eq!(res.status(), 422);
}

/// A webhook receiver on loopback that answers every POST with `status` and a body a
/// receiver might leak; counts what it got.
async fn answering_receiver(status: u16) -> (u16, Arc<Mutex<usize>>) {
    use axum::routing::post;
    let got = Arc::new(Mutex::new(0usize));
    let kept = got.clone();
    let router = axum::Router::new().route(
        "/hook",
        post(move || {
            let kept = kept.clone();
            async move {
                *kept.lock().unwrap() += 1;
                (
                    http::StatusCode::from_u16(status).unwrap(),
                    "internal detail: db=10.0.0.7 token=abc",
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (port, got)
}

/// Points the practice's channel webhook at `url`, straight in the database (as a row saved
/// before the rule, or a name that resolved elsewhere when it was saved).
async fn practice_hook(app: &TestApp, url: &str) {
    let practice = app::backend::orgs::find_by_code(&app.db, "G85028")
        .await
        .unwrap()
        .unwrap();
    if let Some(existing) = webhook::Entity::find()
        .filter(webhook::Column::OrgId.eq(practice.id))
        .one(&app.db)
        .await
        .unwrap()
    {
        let mut row: webhook::ActiveModel = existing.into();
        row.url = Set(url.to_owned());
        row.update(&app.db).await.unwrap();
        return;
    }
    webhook::ActiveModel {
        org_id: Set(practice.id),
        url: Set(url.to_owned()),
        secret: Set("secret".into()),
        enabled: Set(true),
        updated_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
}

/// Declares an incident at the practice and runs an engine (with the given delivery) past
/// the first time-out, so the channel webhook is posted.
async fn escalate_to_the_channel(app: &TestApp, delivery: Delivery) -> String {
    let nadia = app.signed_in_as(NADIA).await;
    let reference = declare(app, &nadia).await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let db = app::backend::db::connect(&app.database_url).await.unwrap();
    let e = Engine::new(db, clock.clone(), delivery, false);
    clock.advance(Duration::minutes(16));
    e.decide_due().await.unwrap();
    e.deliver_due().await.unwrap();
    reference
}

fn webhook_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with("Webhook"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn webhook_to_a_private_address_is_refused_at_save_and_at_send() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let (port, got) = answering_receiver(200).await;
    // At save: a clear message, for literal addresses in every spelling and for a name
    // that resolves to this machine.
    for url in [
        format!("https://127.0.0.1:{port}/hook"),
        format!("http://127.0.0.1:{port}/hook"),
        format!("https://localhost:{port}/hook"),
        "https://[::1]/hook".to_owned(),
        "https://[::ffff:127.0.0.1]/hook".to_owned(),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://[fd00:ec2::254]/".to_owned(),
        "https://10.0.0.7/hook".to_owned(),
        "https://100.64.0.1/hook".to_owned(),
    ] {
        let res = app
            .post_with(
                &gareth,
                "/api/manage/webhook",
                &[("org_code", "G85028"), ("url", &url), ("enabled", "on")],
            )
            .await;
        assert_eq!(res.status(), 422, "{url}");
        let text = res.text().await.unwrap();
        assert!(
            text.contains("public internet") || text.contains("https://"),
            "{url}: {text}"
        );
    }
    let saved = webhook::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(saved, 0, "nothing was saved");

    // At send: a literal loopback address, then a name resolving to loopback.
    let refusing = Delivery::new(&MailSettings::default(), &app.address).unwrap();
    practice_hook(&app, &format!("http://127.0.0.1:{port}/hook")).await;
    let first = escalate_to_the_channel(&app, refusing.clone()).await;
    practice_hook(&app, &format!("http://localhost:{port}/hook")).await;
    let second = escalate_to_the_channel(&app, refusing).await;
    assert_eq!(*got.lock().unwrap(), 0, "nothing reached the receiver");
    for reference in [first, second] {
        let lines = webhook_lines(&timeline(&app, &reference).await);
        assert!(!lines.is_empty(), "{reference}: an attempt is recorded");
        assert!(
            lines.iter().all(|l| l.contains("refused: private address")),
            "{lines:?}"
        );
    }

    // Local development opts in explicitly; then loopback is allowed, at save and at send.
    let dev = crate::helpers::spawn_app_with(|s| s.auth.allow_private_webhooks = true)
        .await
        .with_demo()
        .await;
    let gareth = dev.enrolled(GARETH).await;
    assert_eq!(
        hook(&dev, &gareth, &format!("http://localhost:{port}/hook")).await,
        200
    );
    escalate_to_the_channel(&dev, delivery(None, &dev.address)).await;
    assert!(*got.lock().unwrap() >= 1, "the opted-in send arrived");
}

#[tokio::test]
async fn webhook_result_on_the_timeline_shows_only_a_status_class() {
    let app = spawn_app().await.with_demo().await;
    let (port, got) = answering_receiver(418).await;
    practice_hook(&app, &format!("http://127.0.0.1:{port}/hook")).await;
    let reference = escalate_to_the_channel(&app, delivery(None, &app.address)).await;
    assert!(*got.lock().unwrap() >= 1);
    let lines = webhook_lines(&timeline(&app, &reference).await);
    assert!(!lines.is_empty());
    for line in &lines {
        assert!(line.contains("webhook answered 4xx"), "{line}");
        assert!(!line.contains("418"), "{line}");
        assert!(!line.contains("internal detail"), "{line}");
    }
}
