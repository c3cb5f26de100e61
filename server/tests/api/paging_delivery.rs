//! Pages are never lost and never doubled, whatever goes wrong while they are sent: the
//! sending process killed mid-send, GOV.UK Notify not answering for ten minutes, two
//! engines sharing one database.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration as StdDuration;

use app::backend::entity::notification;
use app::backend::escalation::{Delivery, Engine, ManualClock, Sms};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use time::{Duration, OffsetDateTime};

use crate::helpers::people::{NADIA, OWEN};
use crate::paging::{GARETH_MOBILE, Paging, mail, pages, paging_app, timeline};
use crate::texts::{SECRET, SERVICE_ID, TEMPLATE, notify_settings, verified};

impl Paging {
    /// An engine on its own connection, as another instance would have, giving Notify
    /// `notify_timeout` to answer.
    async fn engine_timing_out(
        &self,
        clock: Arc<ManualClock>,
        notify_timeout: StdDuration,
    ) -> Engine {
        let db = app::backend::db::connect(&self.app.database_url)
            .await
            .unwrap();
        let sms = Sms::new(&notify_settings(&self.notify_url))
            .unwrap()
            .with_timeout(notify_timeout)
            .unwrap();
        let delivery = Delivery::new(&mail(self.sink.port), &self.app.address)
            .unwrap()
            .with_sms(Some(sms));
        Engine::new(db, clock, delivery, false)
    }

    /// The texts to Gareth's mobile about `reference`.
    fn gareths_texts(&self, reference: &str) -> Vec<String> {
        self.texts_to(GARETH_MOBILE)
            .into_iter()
            .filter(|t| t.contains(reference))
            .collect()
    }
}

async fn row(p: &Paging, id: i64) -> notification::Model {
    notification::Entity::find_by_id(id)
        .one(&p.app.db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_server_killed_while_notify_takes_a_page_sends_it_once_more_marked_as_a_repeat() {
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
    assert_eq!(
        text.status,
        app::domain::escalation::NotificationStatus::Pending
    );

    // A real Wardline process sends it; Notify takes the text and the process is killed
    // (SIGKILL) before Notify's answer reaches it.
    p.fake.holding.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("notify.key");
    std::fs::write(&key_file, format!("wardline_test-{SERVICE_ID}-{SECRET}")).unwrap();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_wardline"))
        .arg("serve")
        .env("WARDLINE_DATABASE_URL", &app.database_url)
        .env("WARDLINE_SECRET_KEY_FILE", &app.key_file)
        .env("WARDLINE_ADDR", "127.0.0.1:0")
        .env("WARDLINE_SMTP_HOST", "127.0.0.1")
        .env("WARDLINE_SMTP_PORT", p.sink.port.to_string())
        .env("WARDLINE_SMTP_SECURITY", "none")
        .env("WARDLINE_NOTIFY_API_KEY_FILE", &key_file)
        .env("WARDLINE_NOTIFY_BASE_URL", &p.notify_url)
        .env("WARDLINE_NOTIFY_SMS_TEMPLATE_ID", TEMPLATE)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut waited = 0;
    while p.gareths_texts(&reference).is_empty() && waited < 600 {
        tokio::time::sleep(StdDuration::from_millis(50)).await;
        waited += 1;
    }
    server.kill().unwrap();
    let status = tokio::task::spawn_blocking(move || server.wait().unwrap())
        .await
        .unwrap();
    assert!(!status.success(), "killed");
    assert_eq!(p.gareths_texts(&reference).len(), 1, "Notify took it once");
    let after_kill = row(&p, text.id).await;
    assert_eq!(
        (after_kill.status.as_str(), after_kill.attempts),
        ("sending", 0),
        "Wardline never learnt that Notify took it"
    );

    // Another instance, once the dead one's claim has run out: the text goes once more,
    // marked, and never a third time.
    p.fake.holding.store(false, Ordering::SeqCst);
    let clock = Arc::new(ManualClock::new(
        OffsetDateTime::now_utc() + Duration::minutes(3),
    ));
    let e = p.engine(clock.clone()).await;
    e.deliver_due().await.unwrap();
    clock.advance(Duration::minutes(10));
    e.deliver_due().await.unwrap();
    let texts = p.gareths_texts(&reference);
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(!texts[0].starts_with("Repeat: "), "{}", texts[0]);
    assert!(texts[1].starts_with("Repeat: "), "{}", texts[1]);
    let sent = row(&p, text.id).await;
    assert_eq!(
        (sent.status.as_str(), sent.attempts, sent.repeats),
        ("sent", 1, 1)
    );
}

#[tokio::test]
async fn notify_not_answering_for_ten_minutes_delays_a_page_but_never_drops_or_doubles_it() {
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

    p.fake.hanging.store(true, Ordering::SeqCst);
    let start = OffsetDateTime::now_utc();
    let clock = Arc::new(ManualClock::new(start));
    let e = p
        .engine_timing_out(clock.clone(), StdDuration::from_millis(300))
        .await;
    // Every 30 seconds for 15 minutes; Notify answers nothing for the first ten.
    for step in 0..=30 {
        if step == 20 {
            p.fake.hanging.store(false, Ordering::SeqCst);
        }
        e.deliver_due().await.unwrap();
        clock.advance(Duration::seconds(30));
    }
    let texts = p.gareths_texts(&reference);
    assert_eq!(
        texts.len(),
        1,
        "delivered once, after Notify came back: {texts:?}"
    );
    let sent = row(&p, text.id).await;
    assert_eq!(
        sent.status,
        app::domain::escalation::NotificationStatus::Sent
    );
    let delivered_at = sent.delivered_at.unwrap();
    assert!(
        delivered_at >= start + Duration::minutes(10),
        "not before Notify answered: {delivered_at}"
    );
    let lines = timeline(app, &reference).await;
    let failed: Vec<&String> = lines
        .iter()
        .filter(|l| {
            l.starts_with("Text message to Gareth Lloyd failed (attempt ")
                && l.contains("GOV.UK Notify timed out: no answer within 300 ms; retrying in ")
        })
        .collect();
    assert_eq!(
        failed.len() as i32,
        sent.attempts - 1,
        "every failed attempt is on the timeline: {lines:?}"
    );
    assert!(failed.len() >= 5, "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "Text message to Gareth Lloyd delivered (attempt {})",
            sent.attempts
        ))),
        "{lines:?}"
    );
    assert!(
        !pages(app, &reference)
            .await
            .iter()
            .any(|n| n.recipient_key.ends_with("/instead")),
        "no fall-through: the text got there in the end"
    );
}

#[tokio::test]
async fn two_engines_on_one_database_send_every_page_exactly_once() {
    let p = paging_app().await;
    let app = &p.app;
    p.gareth_with_rules(&[("sms", "0"), ("email", "0")]).await;
    let owen = app.signed_in_as(OWEN).await;
    verified(app, &p.fake, &owen, "07700 900402").await;
    let nadia = app.signed_in_as(NADIA).await;
    let mut references = Vec::new();
    for kind in ["ransomware", "phishing", "data_breach", "ransomware"] {
        references.push(app.declare(&nadia, kind).await);
    }
    let mut due = Vec::new();
    for r in &references {
        due.extend(pages(app, r).await);
    }
    let texts_due = due.iter().filter(|n| n.channel == "sms").count();
    let emails_due = due.iter().filter(|n| n.channel == "email").count();
    assert!(
        texts_due >= 4 && emails_due >= 8,
        "{texts_due} texts, {emails_due} emails"
    );

    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let a = p.engine(clock.clone()).await;
    let b = p.engine(clock.clone()).await;
    for _ in 0..5 {
        let (x, y) = tokio::join!(a.deliver_due(), b.deliver_due());
        x.unwrap();
        y.unwrap();
    }
    let rows: Vec<notification::Model> = notification::Entity::find()
        .filter(notification::Column::Id.is_in(due.iter().map(|n| n.id)))
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        rows.iter().all(
            |n| n.status == app::domain::escalation::NotificationStatus::Sent
                && n.attempts == 1
                && n.repeats == 0
        ),
        "{:?}",
        rows.iter()
            .map(|n| (n.id, &n.status, n.attempts, n.repeats))
            .collect::<Vec<_>>()
    );
    let texts = p.fake.texts.lock().unwrap().clone();
    let page_texts = texts
        .iter()
        .filter(|t| references.iter().any(|r| t.message.contains(r.as_str())))
        .count();
    assert_eq!(page_texts, texts_due, "each text once");
    let emails = p.sink.messages.lock().unwrap().clone();
    let page_emails = emails
        .iter()
        .filter(|m| references.iter().any(|r| m.contains(r.as_str())))
        .count();
    assert_eq!(page_emails, emails_due, "each email once");
}
