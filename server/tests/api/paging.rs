//! Paging people by their own notification rules: the rules on the account page, pages
//! written with a declaration's tasks and to a task's new holder, delayed pages that stop
//! once acknowledged, exercises marked in every message, and delivery that survives GOV.UK
//! Notify going down, falls through to email when a text cannot arrive, and repeats a
//! message interrupted mid-send at most once, marked as a repeat.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use app::backend::entity::{incident_event, notification, task};
use app::backend::escalation::{Delivery, Engine, MailSettings, ManualClock, Sms};
use app::domain::paging::RulesView;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use time::{Duration, OffsetDateTime};

use crate::escalation::{SmtpSink, smtp_sink};
use crate::helpers::people::{CHRIS, GARETH, NADIA, OWEN, PRIYA};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::texts::{CALLBACK_TOKEN, Fake, fake_notify, notify_settings, verified};

pub(crate) const GARETH_MOBILE: &str = "+447700900301";

pub(crate) fn mail(port: u16) -> MailSettings {
    MailSettings {
        host: Some("127.0.0.1".into()),
        port,
        from: "wardline@nhs.test".into(),
        security: "none".into(),
        username: None,
        password: None,
    }
}

/// The app with email (a real SMTP listener) and text messages (the fake Notify) connected;
/// its own engine does not run: each test drives one with a moved clock.
pub(crate) struct Paging {
    pub(crate) app: TestApp,
    pub(crate) fake: Fake,
    pub(crate) notify_url: String,
    pub(crate) sink: SmtpSink,
}

pub(crate) async fn paging_app() -> Paging {
    let (notify_url, fake) = fake_notify().await;
    let sink = smtp_sink().await;
    let (settings, port) = (notify_settings(&notify_url), sink.port);
    let app = spawn_app_with(move |s| {
        s.notify = Some(settings);
        s.notify_callback_token = Some(CALLBACK_TOKEN.to_owned().into());
        s.mail = mail(port);
    })
    .await
    .with_demo()
    .await;
    Paging {
        app,
        fake,
        notify_url,
        sink,
    }
}

impl Paging {
    pub(crate) async fn engine(&self, clock: Arc<ManualClock>) -> Engine {
        let db = app::backend::db::connect(&self.app.database_url)
            .await
            .unwrap();
        let delivery = Delivery::new(&mail(self.sink.port), &self.app.address)
            .unwrap()
            .with_sms(Some(Sms::new(&notify_settings(&self.notify_url)).unwrap()));
        Engine::new(db, clock, delivery, false)
    }

    /// The texts the fake Notify accepted for `phone`.
    pub(crate) fn texts_to(&self, phone: &str) -> Vec<String> {
        self.fake
            .texts
            .lock()
            .unwrap()
            .iter()
            .filter(|t| t.phone == phone)
            .map(|t| t.message.clone())
            .collect()
    }

    /// Gareth, signed in, with a verified mobile and exactly these rules.
    pub(crate) async fn gareth_with_rules(&self, rules: &[(&str, &str)]) -> reqwest::Client {
        let gareth = self.app.enrolled(GARETH).await;
        verified(&self.app, &self.fake, &gareth, "07700 900301").await;
        for (channel, delay) in rules {
            let res = add_rule(&self.app, &gareth, channel, delay).await;
            assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        }
        gareth
    }
}

async fn add_rule(
    app: &TestApp,
    client: &reqwest::Client,
    channel: &str,
    delay: &str,
) -> reqwest::Response {
    app.post_with(
        client,
        "/api/contacts/add_rule",
        &[("channel", channel), ("delay_minutes", delay)],
    )
    .await
}

async fn rules(app: &TestApp, client: &reqwest::Client) -> RulesView {
    let res = app.post_with(client, "/api/contacts/rules", &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// The pages (outbox rows other than inbox notices) of an incident, oldest first.
pub(crate) async fn pages(app: &TestApp, reference: &str) -> Vec<notification::Model> {
    notification::Entity::find()
        .filter(notification::Column::IncidentId.eq(app.incident_id(reference).await))
        .filter(notification::Column::Channel.ne("inbox"))
        .order_by_asc(notification::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

pub(crate) async fn timeline(app: &TestApp, reference: &str) -> Vec<String> {
    incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(app.incident_id(reference).await))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect()
}

async fn tasks_of(app: &TestApp, reference: &str, person: i64) -> Vec<task::Model> {
    task::Entity::find()
        .filter(task::Column::IncidentId.eq(app.incident_id(reference).await))
        .filter(task::Column::AssigneeId.eq(person))
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn rules_are_kept_by_their_owner_refused_when_wrong_and_audited() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let mine = rules(&app, &nadia).await;
    assert!(mine.own.is_empty() && !mine.has_mobile);
    assert_eq!(
        mine.in_force,
        ["Email at once"],
        "the default without a mobile"
    );

    // Bad input is refused with a reason and changes nothing.
    for (channel, delay, status, says) in [
        ("pager", "0", 422, "email, text message or Microsoft Teams"),
        ("email", "121", 422, "from 0 to 120"),
        ("email", "-5", 422, "from 0 to 120"),
        ("email", "soon", 422, "from 0 to 120"),
        ("sms", "0", 409, "Verify your mobile number first"),
    ] {
        let res = add_rule(&app, &nadia, channel, delay).await;
        assert_eq!(res.status(), status, "{channel} {delay}");
        let body = res.text().await.unwrap();
        assert!(body.contains(says), "{channel} {delay}: {body}");
    }
    let huge = "9".repeat(200_000);
    assert!(
        add_rule(&app, &nadia, "email", &huge)
            .await
            .status()
            .is_client_error()
    );
    assert!(rules(&app, &nadia).await.own.is_empty());

    assert_eq!(add_rule(&app, &nadia, "email", "5").await.status(), 200);
    assert_eq!(add_rule(&app, &nadia, "email", "").await.status(), 200);
    assert_eq!(
        add_rule(&app, &nadia, "email", "5").await.status(),
        409,
        "the same rule twice"
    );
    let mine = rules(&app, &nadia).await;
    assert_eq!(mine.in_force, ["Email at once", "Email after 5 minutes"]);
    let (first, _) = mine.own[0];

    // Someone else's rule is as if it did not exist.
    let owen = app.signed_in_as(OWEN).await;
    let id = first.to_string();
    let res = app
        .post_with(&owen, "/api/contacts/remove_rule", &[("id", &id)])
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(rules(&app, &nadia).await.own.len(), 2);
    assert!(rules(&app, &owen).await.own.is_empty());
    // Signed out: refused.
    let res = app
        .post_with(
            &app.new_client(),
            "/api/contacts/add_rule",
            &[("channel", "email")],
        )
        .await;
    assert_eq!(res.status(), 401);

    let res = app
        .post_with(&nadia, "/api/contacts/remove_rule", &[("id", &id)])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(rules(&app, &nadia).await.own.len(), 1);
    assert_eq!(app.audit_rows("notification_rule_added").await.len(), 2);
    let removed = app.audit_rows("notification_rule_removed").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].actor_id, Some(app.person_id(NADIA).await));
}

#[tokio::test]
async fn a_declaration_pages_each_assignee_by_their_rules_and_delayed_pages_stop_once_acknowledged()
{
    let p = paging_app().await;
    let app = &p.app;
    // Gareth: a text at once and again after 5 minutes; no email.
    let gareth = p.gareth_with_rules(&[("sms", "0"), ("sms", "5")]).await;
    let gareth_id = app.person_id(GARETH).await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;

    // Written with the tasks: nothing has run since the declaration answered.
    let written = pages(app, &reference).await;
    let his: Vec<(&str, &str)> = written
        .iter()
        .filter(|n| n.person_id == Some(gareth_id))
        .map(|n| (n.channel.as_str(), n.recipient_key.as_str()))
        .collect();
    let key = format!("person:{gareth_id}");
    let later = format!("person:{gareth_id}+5m");
    assert_eq!(his, [("sms", key.as_str()), ("sms", later.as_str())]);
    let delayed = written.iter().find(|n| n.recipient_key == later).unwrap();
    assert_eq!(
        delayed.next_attempt_at - delayed.created_at,
        Duration::minutes(5)
    );
    assert!(delayed.title.starts_with("Reminder: "), "{}", delayed.title);
    // Everyone else given a task, with no rules and no mobile: an email at once.
    let others: Vec<&notification::Model> = written
        .iter()
        .filter(|n| n.person_id != Some(gareth_id))
        .collect();
    assert!(!others.is_empty());
    assert!(
        others.iter().all(|n| n.channel == "email"
            && n.level == 0
            && n.status == app::domain::escalation::NotificationStatus::Pending),
        "{others:?}"
    );

    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = p.engine(clock.clone()).await;
    e.deliver_due().await.unwrap();
    let texts = p.texts_to(GARETH_MOBILE);
    let paged: Vec<&String> = texts.iter().filter(|t| t.contains(&reference)).collect();
    assert_eq!(paged.len(), 1, "only the page at once so far: {texts:?}");
    assert!(paged[0].contains("new tasks"), "{}", paged[0]);
    assert_eq!(p.sink.messages.lock().unwrap().len(), others.len());

    // Gareth acknowledges every task of his: the reminder is not sent.
    for t in tasks_of(app, &reference, gareth_id).await {
        let res = app.act_on_task(&gareth, t.id, "acknowledge").await;
        assert_eq!(res.status(), 200);
    }
    clock.advance(Duration::minutes(6));
    e.deliver_due().await.unwrap();
    let now: Vec<String> = p
        .texts_to(GARETH_MOBILE)
        .into_iter()
        .filter(|t| t.contains(&reference))
        .collect();
    assert_eq!(now.len(), 1, "no reminder after acknowledging: {now:?}");
    let row = notification::Entity::find_by_id(delayed.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.status,
        app::domain::escalation::NotificationStatus::Cancelled
    );
    assert!(
        timeline(app, &reference).await.iter().any(|l| l
            == "Text message reminder to Gareth Lloyd not sent: their tasks were acknowledged or handed on"),
    );

    // Not acknowledged: the reminder goes after its five minutes, once.
    let second = app.declare(&nadia, "ransomware").await;
    e.deliver_due().await.unwrap();
    clock.advance(Duration::minutes(6));
    e.deliver_due().await.unwrap();
    e.deliver_due().await.unwrap();
    let of_second: Vec<String> = p
        .texts_to(GARETH_MOBILE)
        .into_iter()
        .filter(|t| t.contains(&second))
        .collect();
    assert_eq!(of_second.len(), 2, "{of_second:?}");
    assert_eq!(
        of_second
            .iter()
            .filter(|t| t.starts_with("Reminder: "))
            .count(),
        1
    );
}

#[tokio::test]
async fn an_exercise_says_so_at_the_start_of_every_page() {
    let p = paging_app().await;
    let app = &p.app;
    // Default rules: with a verified mobile, a text and an email at once.
    let gareth = p.gareth_with_rules(&[]).await;
    let res = app
        .post_with(
            &gareth,
            "/api/incidents/lead/exercise",
            &[
                ("org_code", "G85028"),
                ("kind", "ransomware"),
                ("exercise", "tabletop"),
                ("scenario", "Reception screens show a ransom note at 08:05."),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let reference: String = res.json().await.unwrap();
    let written = pages(app, &reference).await;
    let gareth_id = app.person_id(GARETH).await;
    let mut his: Vec<&str> = written
        .iter()
        .filter(|n| n.person_id == Some(gareth_id))
        .map(|n| n.channel.as_str())
        .collect();
    his.sort();
    assert_eq!(his, ["email", "sms"]);
    for n in &written {
        assert!(n.title.starts_with("[EXERCISE] "), "{}", n.title);
        assert!(n.body.starts_with("[EXERCISE] "), "{}", n.body);
    }
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = p.engine(clock.clone()).await;
    e.deliver_due().await.unwrap();
    // Escalated too: the level's pages say so first as well.
    clock.advance(Duration::minutes(16));
    assert!(e.decide_due().await.unwrap() >= 1);
    e.deliver_due().await.unwrap();
    let texts = p.texts_to(GARETH_MOBILE);
    assert!(texts.len() >= 2, "{texts:?}");
    assert!(
        texts
            .iter()
            .filter(|t| !t.contains("verification code"))
            .all(|t| t.starts_with("[EXERCISE] ")),
        "{texts:?}"
    );
    let mails = p.sink.messages.lock().unwrap().clone();
    assert!(!mails.is_empty());
    assert!(
        mails.iter().all(|m| m.contains("Subject: [EXERCISE]")),
        "{mails:?}"
    );
}

#[tokio::test]
async fn a_task_handed_to_someone_else_pages_its_new_holder() {
    let p = paging_app().await;
    let app = &p.app;
    let gareth = app.enrolled(GARETH).await;
    let nadia = app.signed_in_as(NADIA).await;
    verified(app, &p.fake, &nadia, "07700 900401").await;
    let reference = app.declare(&nadia, "ransomware").await;
    let gareth_id = app.person_id(GARETH).await;
    let nadia_id = app.person_id(NADIA).await;
    let t = tasks_of(app, &reference, gareth_id).await.remove(0);
    let id = t.id.to_string();
    let res = app
        .post_with(
            &gareth,
            "/api/tasks/act",
            &[
                ("id", id.as_str()),
                ("action", "reassign"),
                ("note", "On leave this week"),
                ("to_email", NADIA),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let hers: Vec<(String, i64)> = pages(app, &reference)
        .await
        .into_iter()
        .filter(|n| n.person_id == Some(nadia_id))
        .map(|n| (n.channel, n.subject_id))
        .collect();
    assert!(hers.contains(&("sms".into(), t.id)), "{hers:?}");
    assert!(hers.contains(&("email".into(), t.id)), "{hers:?}");
    let e = p
        .engine(Arc::new(ManualClock::new(OffsetDateTime::now_utc())))
        .await;
    e.deliver_due().await.unwrap();
    let texts = p.texts_to("+447700900401");
    assert!(
        texts
            .iter()
            .any(|m| m.contains(&t.title) && m.contains(&reference)),
        "{texts:?}"
    );
}

#[tokio::test]
async fn notify_down_then_up_delivers_the_page_once_with_every_retry_on_the_timeline() {
    let p = paging_app().await;
    let app = &p.app;
    p.gareth_with_rules(&[("sms", "0")]).await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    p.fake.failing.store(3, Ordering::SeqCst);
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = p.engine(clock.clone()).await;
    for _ in 0..8 {
        e.deliver_due().await.unwrap();
        clock.advance(Duration::minutes(1));
    }
    let texts: Vec<String> = p
        .texts_to(GARETH_MOBILE)
        .into_iter()
        .filter(|t| t.contains(&reference))
        .collect();
    assert_eq!(
        texts.len(),
        1,
        "delivered exactly once after recovery: {texts:?}"
    );
    let lines = timeline(app, &reference).await;
    for attempt in 1..=3 {
        let wanted = format!(
            "Text message to Gareth Lloyd failed (attempt {attempt}): GOV.UK Notify answered 500; retrying in"
        );
        assert!(
            lines.iter().any(|l| l.starts_with(&wanted)),
            "{wanted}: {lines:?}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Text message to Gareth Lloyd delivered (attempt 4)")),
        "{lines:?}"
    );
    let sms: Vec<notification::Model> = pages(app, &reference)
        .await
        .into_iter()
        .filter(|n| n.channel == "sms")
        .collect();
    assert_eq!(sms.len(), 1);
    assert_eq!((sms[0].status.as_str(), sms[0].attempts), ("sent", 4));
}

#[tokio::test]
async fn a_text_that_never_gets_through_falls_through_to_email() {
    let p = paging_app().await;
    let app = &p.app;
    p.gareth_with_rules(&[("sms", "0")]).await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    p.fake.failing.store(1000, Ordering::SeqCst);
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = p.engine(clock.clone()).await;
    for _ in 0..9 {
        e.deliver_due().await.unwrap();
        clock.advance(Duration::minutes(16));
    }
    let gareth_id = app.person_id(GARETH).await;
    let his: Vec<notification::Model> = pages(app, &reference)
        .await
        .into_iter()
        .filter(|n| n.person_id == Some(gareth_id))
        .collect();
    let text = his.iter().find(|n| n.channel == "sms").unwrap();
    assert_eq!((text.status.as_str(), text.attempts), ("failed", 8));
    let instead: Vec<&notification::Model> = his.iter().filter(|n| n.channel == "email").collect();
    assert_eq!(instead.len(), 1, "one email instead: {his:?}");
    assert_eq!(
        instead[0].status,
        app::domain::escalation::NotificationStatus::Sent
    );
    assert!(
        p.sink
            .messages
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.contains("gareth.lloyd@demo.wardline.test") && m.contains(&reference)),
    );
    let lines = timeline(app, &reference).await;
    assert!(
        lines.iter().any(|l| l
            == "Text message to Gareth Lloyd not delivered (GOV.UK Notify answered 500): paging Gareth Lloyd by email instead"),
        "{lines:?}"
    );
}

async fn receipt(app: &TestApp, reference: &str, status: &str) -> reqwest::StatusCode {
    app.new_client()
        .post(format!("{}/notify/receipts", app.address))
        .bearer_auth(CALLBACK_TOKEN)
        .json(&serde_json::json!({
            "id": "740e5834-3a29-46b4-9a6f-16142fde0000",
            "reference": reference,
            "to": "07700900301",
            "status": status,
            "created_at": "2026-11-29T03:00:00.000000Z",
            "completed_at": "2026-11-29T03:00:05.000000Z",
            "sent_at": "2026-11-29T03:00:01.000000Z",
            "notification_type": "sms",
            "template_id": "f33517ff-2a88-4f6e-b855-c550268ce08a",
            "template_version": 1,
        }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_text_notify_reports_failed_falls_through_to_email_once() {
    let p = paging_app().await;
    let app = &p.app;
    p.gareth_with_rules(&[("sms", "0")]).await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = p.engine(clock.clone()).await;
    e.deliver_due().await.unwrap();
    let sent = p
        .fake
        .texts
        .lock()
        .unwrap()
        .iter()
        .find(|t| t.message.contains(&reference))
        .cloned()
        .expect("the page was texted");
    let gareth_id = app.person_id(GARETH).await;
    let emails = || async {
        pages(app, &reference)
            .await
            .into_iter()
            .filter(|n| n.person_id == Some(gareth_id) && n.channel == "email")
            .count()
    };
    assert_eq!(emails().await, 0);
    assert_eq!(receipt(app, &sent.reference, "delivered").await, 204);
    assert_eq!(emails().await, 0, "delivered: nothing more");
    for _ in 0..2 {
        assert_eq!(
            receipt(app, &sent.reference, "permanent-failure").await,
            204
        );
    }
    assert_eq!(
        emails().await,
        1,
        "one email instead, however often Notify says so"
    );
    let lines = timeline(app, &reference).await;
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(
                "(GOV.UK Notify reports permanent-failure): paging Gareth Lloyd by email instead"
            ))
            .count(),
        1,
        "{lines:?}"
    );
    let before = p.sink.messages.lock().unwrap().len();
    clock.advance(Duration::seconds(5));
    e.deliver_due().await.unwrap();
    assert_eq!(p.sink.messages.lock().unwrap().len(), before + 1);
}

/// Leaves the row as a crash mid-send would: claimed, its claim run out.
async fn interrupted(app: &TestApp, id: i64) {
    notification::Entity::update_many()
        .filter(notification::Column::Id.eq(id))
        .col_expr(
            notification::Column::Status,
            Expr::value(app::domain::escalation::NotificationStatus::Sending),
        )
        .col_expr(
            notification::Column::ClaimedUntil,
            Expr::value(OffsetDateTime::now_utc() - Duration::minutes(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_page_interrupted_mid_send_goes_once_more_marked_as_a_repeat_and_never_again() {
    let p = paging_app().await;
    let app = &p.app;
    p.gareth_with_rules(&[("sms", "0")]).await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let text = pages(app, &reference)
        .await
        .into_iter()
        .find(|n| n.channel == "sms")
        .unwrap();
    interrupted(app, text.id).await;
    let e = p
        .engine(Arc::new(ManualClock::new(OffsetDateTime::now_utc())))
        .await;
    e.deliver_due().await.unwrap();
    let texts: Vec<String> = p
        .texts_to(GARETH_MOBILE)
        .into_iter()
        .filter(|t| t.contains(&reference))
        .collect();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].starts_with("Repeat: "), "{}", texts[0]);
    let row = notification::Entity::find_by_id(text.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.status.as_str(), row.repeats), ("sent", 1));

    // A second crash during the repeat: not sent a third time, and the person is emailed.
    interrupted(app, text.id).await;
    e.deliver_due().await.unwrap();
    let after: Vec<String> = p
        .texts_to(GARETH_MOBILE)
        .into_iter()
        .filter(|t| t.contains(&reference))
        .collect();
    assert_eq!(after.len(), 1, "never repeated twice: {after:?}");
    let row = notification::Entity::find_by_id(text.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.status,
        app::domain::escalation::NotificationStatus::Failed
    );
    let lines = timeline(app, &reference).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("interrupted mid-send twice") && l.contains("failed for good")),
        "{lines:?}"
    );
    assert!(
        pages(app, &reference)
            .await
            .iter()
            .any(|n| n.channel == "email" && n.recipient_key.ends_with("/instead")),
    );
}

#[tokio::test]
async fn the_incident_page_shows_who_was_paged_how_and_whether_it_arrived() {
    let p = paging_app().await;
    let app = &p.app;
    let gareth = p.gareth_with_rules(&[("sms", "0")]).await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let e = p.engine(clock.clone()).await;
    e.deliver_due().await.unwrap();
    let his = |v: &app::domain::incidents::IncidentView| {
        v.paging
            .iter()
            .filter(|r| r.who == "Gareth Lloyd")
            .map(|r| (r.how.clone(), r.status.clone(), r.acknowledged))
            .collect::<Vec<_>>()
    };
    let view = app.incident(&nadia, &reference).await;
    let rows = his(&view);
    assert!(
        rows.contains(&(
            "Text message".into(),
            "Sent to GOV.UK Notify, awaiting the delivery receipt".into(),
            false
        )),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|(how, status, _)| how == "In Wardline" && status == "In their inbox"),
        "{rows:?}"
    );

    // Notify's receipt turns it to delivered; acknowledging shows on every row of that task.
    let sent = p
        .fake
        .texts
        .lock()
        .unwrap()
        .iter()
        .find(|t| t.message.contains(&reference))
        .cloned()
        .expect("the page was texted");
    assert_eq!(receipt(app, &sent.reference, "delivered").await, 204);
    let task = tasks_of(app, &reference, app.person_id(GARETH).await).await[0].clone();
    assert_eq!(
        app.act_on_task(&gareth, task.id, "acknowledge")
            .await
            .status(),
        200
    );
    let view = app.incident(&nadia, &reference).await;
    let texted: Vec<_> = view
        .paging
        .iter()
        .filter(|r| r.who == "Gareth Lloyd" && r.how == "Text message" && r.task_id == task.id)
        .collect();
    assert_eq!(texted.len(), 1, "{:?}", view.paging);
    assert!(texted[0].status.starts_with("Delivered"), "{:?}", texted[0]);
    assert!(texted[0].acknowledged);

    // A reader from another organisation does not see the incident at all.
    let priya = app.enrolled(crate::helpers::people::PRIYA).await;
    let res = app
        .post_with(&priya, "/api/incidents/get", &[("reference", &reference)])
        .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn tasks_given_by_adding_an_organisation_or_opening_linked_incidents_page_their_holders() {
    let p = paging_app().await;
    let app = &p.app;
    let priya_id = app.person_id(PRIYA).await;

    // Gareth adds Guy's and St Thomas' to a practice's incident: Priya's new task is in her
    // inbox, paged by email and followed by escalation, in the same change.
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let gareth = app.enrolled(GARETH).await;
    let res = app
        .post_with(
            &gareth,
            "/api/incidents/lead/affect",
            &[("reference", reference.as_str()), ("org_code", "RJ1")],
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let assess = tasks_of(app, &reference, priya_id)
        .await
        .into_iter()
        .find(|t| t.title.starts_with("Assess the impact at"))
        .unwrap();
    let told: Vec<(String, String)> = notification::Entity::find()
        .filter(notification::Column::SubjectId.eq(assess.id))
        .filter(notification::Column::PersonId.eq(priya_id))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.channel, n.status.as_str().to_owned()))
        .collect();
    assert!(told.contains(&("inbox".into(), "sent".into())), "{told:?}");
    assert!(
        told.contains(&("email".into(), "pending".into())),
        "{told:?}"
    );
    let tracked = app::backend::entity::escalation::Entity::find()
        .filter(app::backend::entity::escalation::Column::Subject.eq("task"))
        .filter(app::backend::entity::escalation::Column::SubjectId.eq(assess.id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the new task escalates like any other");
    assert!(tracked.fires_at.is_some() && tracked.acknowledged_at.is_none());

    // A supplier's incident opens linked incidents: each one's assignees are paged.
    let chris = app.signed_in_as(CHRIS).await;
    let supplier = app.declare(&chris, "supplier_compromise").await;
    let res = app
        .post_with(
            &chris,
            "/api/incidents/lead/link",
            &[("reference", supplier.as_str())],
        )
        .await;
    assert_eq!(res.status(), 200);
    let linked: Vec<String> = res.json().await.unwrap();
    assert_eq!(linked.len(), 2);
    for r in &linked {
        let written = pages(app, r).await;
        assert!(
            !written.is_empty()
                && written
                    .iter()
                    .all(|n| n.status == app::domain::escalation::NotificationStatus::Pending),
            "{r}: {written:?}"
        );
    }
    let e = p
        .engine(Arc::new(ManualClock::new(OffsetDateTime::now_utc())))
        .await;
    e.deliver_due().await.unwrap();
    let mail = p.sink.messages.lock().unwrap().clone();
    for r in linked.iter().chain([&reference]) {
        assert!(
            mail.iter().any(|m| m.contains(r.as_str())),
            "an email names {r}"
        );
    }
}
