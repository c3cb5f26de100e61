//! Acknowledging by replying to a text: each page about a task carries a short code; a
//! reply through Notify's received-text callback (`POST /notify/replies`) with `ACK 4821`
//! (or the code alone) acknowledges the task, `ESC 4821` escalates it now. Only a live code
//! from the verified number of the person it was sent to counts; everything else changes
//! nothing, is audited and is answered 200, and guessing is cut off per number.

use std::collections::HashSet;
use std::sync::Arc;

use app::backend::entity::{escalation, notification, task};
use app::backend::escalation::{Clock, Engine, ManualClock};
use app::domain::incidents::TaskState;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use time::{Duration, OffsetDateTime};

use crate::helpers::TestApp;
use crate::helpers::people::{GARETH, NADIA};
use crate::texts::{
    CALLBACK_TOKEN, Fake, Text, app_with_notify, engine, fake_notify, timeline, verified,
};

/// Gareth's verified mobile, as he types it and as Notify reports a reply's sender.
const GARETH_MOBILE: &str = "07700 900111";
const GARETH_FROM: &str = "447700900111";
const NADIA_MOBILE: &str = "07700 900222";
const NADIA_FROM: &str = "447700900222";

/// A ransomware incident at Nadia's practice, 16 minutes on: level 1 has paged Gareth (the
/// ICB's head of cyber, who also holds the tasks: the practice has no head of cyber of its
/// own) by text about every task, each text with its own code.
struct Paged {
    app: TestApp,
    fake: Fake,
    engine: Engine,
    clock: Arc<ManualClock>,
    reference: String,
    nadia: reqwest::Client,
    gareth: reqwest::Client,
}

async fn paged() -> Paged {
    let (url, fake) = fake_notify().await;
    let app = app_with_notify(&url).await;
    let gareth = app.enrolled(GARETH).await;
    verified(&app, &fake, &gareth, GARETH_MOBILE).await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let engine = engine(&app, &url, clock.clone()).await;
    clock.advance(Duration::minutes(16));
    assert!(engine.decide_due().await.unwrap() >= 1);
    assert!(engine.deliver_due().await.unwrap() >= 1);
    Paged {
        app,
        fake,
        engine,
        clock,
        reference,
        nadia,
        gareth,
    }
}

/// A text that carried a code, with the code and the task it is about.
#[derive(Debug, Clone)]
struct Coded {
    code: String,
    task_id: i64,
    text: Text,
}

/// The code in a text: the digits after "Reply ACK ".
fn code_in(message: &str) -> Option<String> {
    let rest = message.split("Reply ACK ").nth(1)?;
    Some(rest.chars().take_while(|c| c.is_ascii_digit()).collect())
}

/// Every text to `phone` that carried a code.
async fn coded(app: &TestApp, fake: &Fake, phone: &str) -> Vec<Coded> {
    let texts: Vec<Text> = fake
        .texts
        .lock()
        .unwrap()
        .iter()
        .filter(|t| t.phone == phone)
        .cloned()
        .collect();
    let mut out = Vec::new();
    for text in texts {
        let Some(code) = code_in(&text.message) else {
            continue;
        };
        // `wl-n{outbox row}-a{attempt}`
        let n: i64 = text
            .reference
            .trim_start_matches("wl-n")
            .split('-')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let row = notification::Entity::find_by_id(n)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        out.push(Coded {
            code,
            task_id: row.subject_id,
            text,
        });
    }
    out
}

/// Posts a received text as Notify does; the answer's status.
async fn reply_with(app: &TestApp, token: Option<&str>, from: &str, message: &str) -> u16 {
    let mut req = app
        .new_client()
        .post(format!("{}/notify/replies", app.address))
        .json(&serde_json::json!({
            "id": "b51f7e3a-6a3c-4b5e-9d8f-2c1e0a9b8c7d",
            "source_number": from,
            "destination_number": "07797800000",
            "message": message,
            "date_received": "2026-11-30T03:02:00.000000Z",
        }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn reply(app: &TestApp, from: &str, message: &str) -> u16 {
    reply_with(app, Some(CALLBACK_TOKEN), from, message).await
}

async fn task_of(app: &TestApp, id: i64) -> task::Model {
    task::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

async fn escalation_of(app: &TestApp, task_id: i64) -> escalation::Model {
    escalation::Entity::find()
        .filter(escalation::Column::Subject.eq("task"))
        .filter(escalation::Column::SubjectId.eq(task_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

/// A four-digit code none of `codes` is.
fn not_any_of(codes: &[Coded]) -> String {
    let taken: HashSet<&str> = codes.iter().map(|c| c.code.as_str()).collect();
    (1000..10000)
        .map(|n| n.to_string())
        .find(|c| !taken.contains(c.as_str()))
        .unwrap()
}

/// The audit rows for text replies refused, none of which may hold a code in clear.
async fn refusals(app: &TestApp, codes: &[Coded]) -> Vec<String> {
    let rows = app.audit_rows("text_reply").await;
    for r in &rows {
        let detail = r.detail.clone().unwrap_or_default();
        for c in codes {
            assert!(!detail.contains(&c.code), "a code in the audit: {detail}");
        }
    }
    rows.into_iter()
        .filter(|r| r.outcome == "refused")
        .map(|r| r.detail.unwrap_or_default())
        .collect()
}

/// Pages `person` by text about `task_id` as an escalation to `level` does, and delivers it.
async fn page(p: &Paged, task_id: i64, person: i64, level: i32) {
    let t = task_of(&p.app, task_id).await;
    let now = p.clock.now();
    notification::ActiveModel {
        subject: Set("task".into()),
        subject_id: Set(task_id),
        incident_id: Set(t.incident_id),
        level: Set(level),
        round: Set(0),
        recipient_key: Set(format!("person:{person}")),
        person_id: Set(Some(person)),
        channel: Set("sms".into()),
        title: Set(format!("Escalated to you: “{}”", t.title)),
        body: Set(t.instructions.clone()),
        status: Set(app::domain::escalation::NotificationStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&p.app.db)
    .await
    .unwrap();
    assert!(p.engine.deliver_due().await.unwrap() >= 1);
}

#[tokio::test]
async fn a_texted_code_acknowledges_its_task_by_reply_once() {
    let p = paged().await;
    let codes = coded(&p.app, &p.fake, "+447700900111").await;
    assert!(!codes.is_empty(), "every page carries a code");
    // An escalation's text, about one task (the page at declaration names them all, and
    // acknowledges them all: `one_reply_to_the_page_about_several_new_tasks_…`).
    // About a task of his own (texts are sent several at once, so not by arrival order).
    let gareth = p.app.person_id(GARETH).await;
    let mut first = None;
    for c in codes
        .iter()
        .filter(|c| !c.text.message.contains("new tasks"))
    {
        if task_of(&p.app, c.task_id).await.assignee_id == Some(gareth) {
            first = Some(c);
            break;
        }
    }
    let first = first.expect("an escalation's text about a task of his");
    assert!(
        first.text.message.contains(&format!(
            "Reply ACK {0} to acknowledge or ESC {0} to escalate.",
            first.code
        )),
        "{}",
        first.text.message
    );
    assert_eq!(first.code.len(), 4);
    let distinct: HashSet<&str> = codes.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(distinct.len(), codes.len(), "each text its own code");
    assert_eq!(task_of(&p.app, first.task_id).await.state, TaskState::Open);

    assert_eq!(
        reply(&p.app, GARETH_FROM, &format!("ACK {}", first.code)).await,
        200
    );
    let t = task_of(&p.app, first.task_id).await;
    assert_eq!(t.state, TaskState::Acknowledged);
    assert_eq!(t.assignee_id, Some(p.app.person_id(GARETH).await));
    assert!(escalation_of(&p.app, t.id).await.acknowledged_at.is_some());
    // Through the task state machine, as if he had pressed the button.
    let lines = timeline(&p.app, &p.reference).await;
    assert!(
        lines.iter().any(|l| l
            == &format!(
                "“{}” acknowledged by text message reply (Gareth Lloyd)",
                t.title
            )),
        "{lines:?}"
    );
    assert_eq!(p.app.audit_rows("task_changed").await.len(), 1);
    let ok: Vec<_> = p
        .app
        .audit_rows("text_reply")
        .await
        .into_iter()
        .filter(|r| r.outcome == "success")
        .collect();
    assert_eq!(ok.len(), 1);
    // The other tasks' codes still work; this one's task is acknowledged. (Gareth may hold
    // more than one code for a task: the page at declaration and the escalation's.)
    for other in codes.iter().filter(|o| o.task_id != first.task_id) {
        assert_eq!(task_of(&p.app, other.task_id).await.state, TaskState::Open);
    }

    // Gareth is told by text, through the outbox.
    let before = p.fake.texts.lock().unwrap().len();
    assert!(p.engine.deliver_due().await.unwrap() >= 1);
    let told = p.fake.texts.lock().unwrap()[before..].to_vec();
    assert!(
        told.iter().any(|x| x.phone == "+447700900111"
            && x.message
                .starts_with(&format!("Acknowledged: “{}”", t.title))),
        "{told:?}"
    );

    // The same reply again (Notify retrying, or a replay) changes nothing.
    let unchanged = p.app.fingerprint().await;
    assert_eq!(
        reply(&p.app, GARETH_FROM, &format!("ACK {}", first.code)).await,
        200
    );
    assert_eq!(p.app.fingerprint().await, unchanged);
    let refused = refusals(&p.app, &codes).await;
    assert!(
        refused
            .iter()
            .any(|r| r.contains("no such code, or used or expired")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_code_alone_acknowledges() {
    let p = paged().await;
    let codes = coded(&p.app, &p.fake, "+447700900111").await;
    let c = &codes[codes.len() - 1];
    assert_eq!(
        reply(&p.app, GARETH_FROM, &format!(" {} ", c.code)).await,
        200
    );
    assert_eq!(
        task_of(&p.app, c.task_id).await.state,
        TaskState::Acknowledged
    );
}

#[tokio::test]
async fn esc_escalates_the_task_now() {
    let p = paged().await;
    let codes = coded(&p.app, &p.fake, "+447700900111").await;
    let c = &codes[0];
    let before = escalation_of(&p.app, c.task_id).await;
    assert_eq!(before.level, 1);
    assert!(
        before.fires_at.unwrap() > OffsetDateTime::now_utc() + Duration::minutes(5),
        "level 2 is not due for a while"
    );

    assert_eq!(
        reply(&p.app, GARETH_FROM, &format!("esc{}", c.code)).await,
        200
    );
    let now_due = escalation_of(&p.app, c.task_id).await;
    assert!(now_due.fires_at.unwrap() <= OffsetDateTime::now_utc());
    assert_eq!(
        task_of(&p.app, c.task_id).await.state,
        TaskState::Open,
        "escalating acknowledges nothing"
    );
    let lines = timeline(&p.app, &p.reference).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("escalated now by text message reply (Gareth Lloyd)")),
        "{lines:?}"
    );
    assert_eq!(p.app.audit_rows("task_escalated_now").await.len(), 1);

    // The engine fires the next level on its next tick; no other task moves.
    p.engine.decide_due().await.unwrap();
    let after = escalation_of(&p.app, c.task_id).await;
    assert_eq!(after.level, 2, "{after:?}");
    for other in codes[1..].iter().filter(|o| o.task_id != c.task_id) {
        assert_eq!(escalation_of(&p.app, other.task_id).await.level, 1);
    }
    // Used: the same code again does not push it on further.
    assert_eq!(
        reply(&p.app, GARETH_FROM, &format!("ESC {}", c.code)).await,
        200
    );
    p.engine.decide_due().await.unwrap();
    assert_eq!(escalation_of(&p.app, c.task_id).await.level, 2);
}

#[tokio::test]
async fn someone_an_escalation_reached_takes_the_task_by_reply() {
    let p = paged().await;
    let nadia_id = p.app.person_id(NADIA).await;
    verified(&p.app, &p.fake, &p.nadia, NADIA_MOBILE).await;
    let gareths = coded(&p.app, &p.fake, "+447700900111").await;
    let task_id = gareths[0].task_id;
    page(&p, task_id, nadia_id, 2).await;
    let codes = coded(&p.app, &p.fake, "+447700900222").await;
    let c = codes.iter().find(|c| c.task_id == task_id).unwrap();

    assert_eq!(
        reply(&p.app, NADIA_FROM, &format!("Ack {}", c.code)).await,
        200
    );
    let t = task_of(&p.app, task_id).await;
    assert_eq!(t.state, TaskState::Acknowledged);
    assert_eq!(
        t.assignee_id,
        Some(nadia_id),
        "taken on, as the email link does"
    );
    let lines = timeline(&p.app, &p.reference).await;
    assert!(
        lines.iter().any(|l| l
            == &format!(
                "“{}” acknowledged on escalation and taken by Nadia Kowalski by text message reply",
                t.title
            )),
        "{lines:?}"
    );
    assert_eq!(p.app.audit_rows("task_taken").await.len(), 1);
    // Acknowledged: Gareth's text about the same task answers nothing now.
    let his = gareths.iter().find(|c| c.task_id == task_id).unwrap();
    let unchanged = p.app.fingerprint().await;
    assert_eq!(
        reply(&p.app, GARETH_FROM, &format!("ESC {}", his.code)).await,
        200
    );
    assert_eq!(p.app.fingerprint().await, unchanged);
    assert_eq!(task_of(&p.app, task_id).await.assignee_id, Some(nadia_id));
}

#[tokio::test]
async fn replies_that_do_not_count_change_nothing_and_are_audited() {
    let p = paged().await;
    let nadia_id = p.app.person_id(NADIA).await;
    verified(&p.app, &p.fake, &p.nadia, NADIA_MOBILE).await;
    let garet_codes = coded(&p.app, &p.fake, "+447700900111").await;
    page(&p, garet_codes[1].task_id, nadia_id, 2).await;
    let nadia_codes = coded(&p.app, &p.fake, "+447700900222").await;
    let all: Vec<Coded> = garet_codes.iter().chain(&nadia_codes).cloned().collect();
    let his = &garet_codes[0];
    let her = &nadia_codes[0];
    let unchanged = p.app.fingerprint().await;

    for (from, message) in [
        // Gareth's code from a number that is not his.
        ("447700900999", format!("ACK {}", his.code)),
        // Nadia's code from Gareth's own number: never valid for another person.
        (GARETH_FROM, format!("ACK {}", her.code)),
        // A code nobody was sent.
        (GARETH_FROM, format!("ACK {}", not_any_of(&all))),
        // Not a UK mobile at all.
        ("+33612345678", format!("ACK {}", his.code)),
        // Not a reply Wardline reads.
        (GARETH_FROM, "on my way".to_owned()),
        (GARETH_FROM, format!("ACK {}", &his.code[..3])),
    ] {
        assert_eq!(reply(&p.app, from, &message).await, 200, "{message}");
    }
    assert_eq!(
        p.app.fingerprint().await,
        unchanged,
        "no refused reply changes anything"
    );
    let refused = refusals(&p.app, &all).await;
    assert_eq!(refused.len(), 6, "{refused:?}");
    assert!(
        refused
            .iter()
            .any(|r| r.contains("not the number the code was sent to")),
        "{refused:?}"
    );
    assert!(refused.iter().any(|r| r.contains("07••• •••999")));
    // The real ones still work afterwards, each from its own person's number.
    assert_eq!(
        reply(&p.app, GARETH_FROM, &format!("ACK {}", his.code)).await,
        200
    );
    assert_eq!(
        task_of(&p.app, his.task_id).await.state,
        TaskState::Acknowledged
    );
}

#[tokio::test]
async fn a_code_expires_when_its_task_is_done() {
    let p = paged().await;
    let codes = coded(&p.app, &p.fake, "+447700900111").await;
    // A task Gareth holds himself (texts for tasks escalated to him arrive in any order).
    let gareth = p.app.person_id(GARETH).await;
    let mut his = None;
    for c in &codes {
        if task_of(&p.app, c.task_id).await.assignee_id == Some(gareth) {
            his = Some(c);
            break;
        }
    }
    let c = his.expect("a text for a task of his own");
    let t = task_of(&p.app, c.task_id).await;
    // Its holder, Gareth, finishes it in Wardline.
    let id = t.id.to_string();
    let res = p
        .app
        .post_with(
            &p.gareth,
            "/api/tasks/act",
            &[
                ("id", id.as_str()),
                ("action", "complete"),
                ("note", "Isolated"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(task_of(&p.app, t.id).await.state, TaskState::Done);

    let unchanged = p.app.fingerprint().await;
    for message in [format!("ACK {}", c.code), format!("ESC {}", c.code)] {
        assert_eq!(reply(&p.app, GARETH_FROM, &message).await, 200);
    }
    assert_eq!(p.app.fingerprint().await, unchanged);
    assert_eq!(task_of(&p.app, t.id).await.state, TaskState::Done);
    assert_eq!(refusals(&p.app, &codes).await.len(), 2);
}

#[tokio::test]
async fn callbacks_without_the_token_or_well_formed_are_refused() {
    let p = paged().await;
    let codes = coded(&p.app, &p.fake, "+447700900111").await;
    let c = &codes[0];
    let right = format!("ACK {}", c.code);
    let unchanged = p.app.fingerprint().await;

    assert_eq!(
        reply_with(&p.app, Some("not-the-token"), GARETH_FROM, &right).await,
        401
    );
    assert_eq!(reply_with(&p.app, None, GARETH_FROM, &right).await, 401);
    let audited = p.app.audit_rows("notify_reply").await;
    assert_eq!(audited.len(), 2);
    assert!(audited.iter().all(|r| r.outcome == "refused"));

    let post = |body: String| {
        p.app
            .new_client()
            .post(format!("{}/notify/replies", p.app.address))
            .bearer_auth(CALLBACK_TOKEN)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    for body in [
        "{not json".to_owned(),
        "[]".to_owned(),
        serde_json::json!({ "source_number": GARETH_FROM }).to_string(),
        serde_json::json!({ "source_number": 447700900111u64, "message": right }).to_string(),
    ] {
        let status = post(body.clone()).await.unwrap().status().as_u16();
        assert!((400..500).contains(&status), "{body}: {status}");
    }
    // 200 KB of message: refused before it is read.
    let huge = format!("ACK {}{}", c.code, " ".repeat(200 * 1024));
    let status = reply(&p.app, GARETH_FROM, &huge).await;
    assert!((400..500).contains(&status), "{status}");
    assert_eq!(p.app.fingerprint().await, unchanged);
    assert_eq!(task_of(&p.app, c.task_id).await.state, TaskState::Open);

    // None of it used the code up.
    assert_eq!(reply(&p.app, GARETH_FROM, &right).await, 200);
    assert_eq!(
        task_of(&p.app, c.task_id).await.state,
        TaskState::Acknowledged
    );
}

#[tokio::test]
async fn after_a_burst_of_guesses_even_the_right_code_is_ignored_from_that_number() {
    let p = paged().await;
    let codes = coded(&p.app, &p.fake, "+447700900111").await;
    let c = &codes[0];
    let taken: HashSet<String> = codes.iter().map(|c| c.code.clone()).collect();
    let guesses: Vec<String> = (1000..10000)
        .map(|n| n.to_string())
        .filter(|g| !taken.contains(g))
        .take(5)
        .collect();
    let unchanged = p.app.fingerprint().await;
    for g in &guesses {
        assert_eq!(reply(&p.app, GARETH_FROM, &format!("ACK {g}")).await, 200);
    }
    // The right code now, from the right number: ignored for the hour.
    assert_eq!(
        reply(&p.app, GARETH_FROM, &format!("ACK {}", c.code)).await,
        200
    );
    assert_eq!(p.app.fingerprint().await, unchanged);
    assert_eq!(task_of(&p.app, c.task_id).await.state, TaskState::Open);
    let refused = refusals(&p.app, &codes).await;
    assert_eq!(refused.len(), 6, "{refused:?}");
    assert!(
        refused
            .last()
            .unwrap()
            .contains("ignored: too many bad replies from 07••• •••111"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_code_expires_when_its_incident_is_closed() {
    let p = paged().await;
    let codes = coded(&p.app, &p.fake, "+447700900111").await;
    let c = &codes[0];
    let change = [
        ("reference", p.reference.as_str()),
        ("status", "closed"),
        ("reason", "False alarm: the ransom note was a test page"),
    ];
    let res = p
        .app
        .post_with(&p.gareth, "/api/incidents/change", &change)
        .await;
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let unchanged = p.app.fingerprint().await;
    assert_eq!(
        reply(&p.app, GARETH_FROM, &format!("ACK {}", c.code)).await,
        200
    );
    assert_eq!(p.app.fingerprint().await, unchanged);
    assert_eq!(task_of(&p.app, c.task_id).await.state, TaskState::Open);
    let refused = refusals(&p.app, &codes).await;
    assert!(
        refused.iter().any(|r| r.contains("the incident is closed")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn one_reply_to_the_page_about_several_new_tasks_acknowledges_them_all() {
    let (url, fake) = fake_notify().await;
    let app = app_with_notify(&url).await;
    let gareth = app.enrolled(GARETH).await;
    verified(&app, &fake, &gareth, GARETH_MOBILE).await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let engine = engine(&app, &url, clock.clone()).await;
    assert!(engine.deliver_due().await.unwrap() >= 1);
    // The page at once: one text naming all his new tasks, with one code.
    let codes = coded(&app, &fake, "+447700900111").await;
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert!(
        codes[0].text.message.contains("new tasks"),
        "{}",
        codes[0].text.message
    );
    let id = app.incident_id(&reference).await;
    let his = || async {
        task::Entity::find()
            .filter(task::Column::IncidentId.eq(id))
            .filter(task::Column::AssigneeId.eq(app.person_id(GARETH).await))
            .all(&app.db)
            .await
            .unwrap()
    };
    let before = his().await;
    assert!(
        before.len() >= 2,
        "he holds several of the incident's tasks"
    );
    assert!(before.iter().all(|t| t.state == TaskState::Open));

    assert_eq!(
        reply(&app, GARETH_FROM, &format!("ACK {}", codes[0].code)).await,
        200
    );
    let after = his().await;
    assert!(
        after.iter().all(|t| t.state == TaskState::Acknowledged),
        "{:?}",
        after
            .iter()
            .map(|t| (&t.title, t.state))
            .collect::<Vec<_>>()
    );
    for t in &after {
        assert!(
            escalation_of(&app, t.id).await.acknowledged_at.is_some(),
            "{}",
            t.title
        );
    }
    // Nobody else's tasks moved.
    let others = task::Entity::find()
        .filter(task::Column::IncidentId.eq(id))
        .filter(task::Column::AssigneeId.ne(app.person_id(GARETH).await))
        .all(&app.db)
        .await
        .unwrap();
    assert!(others.iter().all(|t| t.state == TaskState::Open));
}

#[tokio::test]
async fn a_disabled_persons_reply_counts_for_nothing() {
    let p = paged().await;
    let codes = coded(&p.app, &p.fake, "+447700900111").await;
    let his = codes.first().expect("Gareth was texted");
    let gareth = p.app.person_id(GARETH).await;
    app::backend::people::mark_disabled(&p.app.db, None, gareth, true)
        .await
        .unwrap();
    let unchanged = p.app.fingerprint().await;
    assert_eq!(
        reply(&p.app, GARETH_FROM, &format!("ACK {}", his.code)).await,
        200
    );
    assert_eq!(task_of(&p.app, his.task_id).await.state, TaskState::Open);
    assert_eq!(
        p.app.fingerprint().await,
        unchanged,
        "a left person's reply changes nothing"
    );
    let refused = refusals(&p.app, &codes).await;
    assert!(
        refused.iter().any(|r| r.contains("the person cannot act")),
        "{refused:?}"
    );
}
