//! The CSOC is an external contact, not a user: the national default's last level emails it
//! and tells the person who must call to phone it.

use std::sync::Arc;

use app::backend::entity::{external_contact, incident_event, notification, person, task};
use app::backend::escalation::{Delivery, Engine, MailSettings, ManualClock};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use time::{Duration, OffsetDateTime};

use crate::escalation::smtp_sink;
use crate::helpers::people::NADIA;
use crate::helpers::spawn_app;

/// A placeholder set for the test as a national admin would; not a real address.
const CSOC_EMAIL: &str = "csoc-reports@example.test";

#[tokio::test]
async fn the_national_defaults_last_level_emails_the_csoc_and_tells_the_assignee_to_phone_it() {
    let app = spawn_app().await.with_demo().await;
    let sink = smtp_sink().await;
    let csoc = external_contact::Entity::find()
        .filter(external_contact::Column::Key.eq("csoc"))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the CSOC is seeded at start-up");
    assert_eq!(
        (csoc.org_id, csoc.phone.as_str(), csoc.email.as_str()),
        (None, "0300 303 5222", ""),
        "seeded with its 24/7 line and no invented address"
    );
    let mut m: external_contact::ActiveModel = csoc.clone().into();
    m.email = Set(CSOC_EMAIL.into());
    m.update(&app.db).await.unwrap();

    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let incident_id = app.incident_id(&reference).await;
    let triage = task::Entity::find()
        .filter(task::Column::IncidentId.eq(incident_id))
        .order_by_asc(task::Column::Position)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let assignee = person::Entity::find_by_id(triage.assignee_id.expect("assigned"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();

    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let db = app::backend::db::connect(&app.database_url).await.unwrap();
    let delivery = Delivery::new(
        &MailSettings {
            host: Some("127.0.0.1".into()),
            port: sink.port,
            from: "wardline@nhs.test".into(),
            security: "none".into(),
            username: None,
            password: None,
        },
        &app.address,
    )
    .unwrap();
    let e = Engine::new(db, clock.clone(), delivery, false);
    // Levels 1 and 2, then the third: the CSOC.
    for _ in 0..3 {
        clock.advance(Duration::minutes(16));
        e.decide_due().await.unwrap();
    }
    let level3: Vec<notification::Model> = notification::Entity::find()
        .filter(notification::Column::Subject.eq("task"))
        .filter(notification::Column::SubjectId.eq(triage.id))
        .filter(notification::Column::Level.eq(3))
        .all(&app.db)
        .await
        .unwrap();
    let to_csoc = level3
        .iter()
        .find(|n| n.recipient_key == format!("external:{}", csoc.id))
        .expect("an email to the CSOC is queued");
    assert_eq!(
        (
            to_csoc.channel.as_str(),
            to_csoc.person_id,
            to_csoc.status.as_str()
        ),
        ("email", None, "pending")
    );
    let phone = "Phone NHS England Cyber Security Operations Centre (CSOC) on 0300 303 5222 now";
    let notice = level3
        .iter()
        .find(|n| n.channel == "inbox")
        .expect("an inbox notice to the person who must call");
    assert_eq!(notice.person_id, Some(assignee.id));
    assert!(notice.title.starts_with(phone), "{}", notice.title);

    let timeline = |app_db| async move {
        incident_event::Entity::find()
            .filter(incident_event::Column::IncidentId.eq(incident_id))
            .all(app_db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.detail)
            .collect::<Vec<String>>()
    };
    let lines = timeline(&app.db).await;
    let line = lines
        .iter()
        .find(|l| l.contains("escalated to level 3") && l.contains(&triage.title))
        .expect("the triage task's level 3 on the timeline");
    assert!(
        line.contains(&format!("{}: {phone}", assignee.display_name))
            && line.contains(&format!("email queued to {CSOC_EMAIL}")),
        "{line}"
    );

    // Delivered to the CSOC's address, and the attempt written down under its name.
    e.deliver_due().await.unwrap();
    let sent = sink.messages.lock().unwrap().clone();
    assert!(
        sent.iter()
            .any(|m| m.contains(CSOC_EMAIL) && m.contains(&reference)),
        "{sent:?}"
    );
    assert!(
        timeline(&app.db).await.iter().any(|l| l
            .starts_with("Email to NHS England Cyber Security Operations Centre (CSOC) delivered")),
        "the delivery is on the timeline"
    );
}

async fn contacts(
    app: &crate::helpers::TestApp,
    client: &reqwest::Client,
) -> Vec<app::domain::escalation::ListedContact> {
    let res = app
        .post_with(client, "/api/external_contacts/list", &[])
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn national_admins_set_the_csocs_email_and_organisation_admins_keep_their_own() {
    use crate::helpers::people::{DANA, GARETH, PRIYA, RUTH};
    let app = spawn_app().await.with_demo().await;
    let csoc = |email: &'static str| {
        vec![
            ("key", "csoc"),
            (
                "name",
                "NHS England Cyber Security Operations Centre (CSOC)",
            ),
            ("phone", "0300 303 5222"),
            ("email", email),
            (
                "reporting_route",
                "NHS England's reporting route; phone when urgent",
            ),
        ]
    };
    // An ICB admin may not change the national contact; a regulator changes nothing.
    let gareth = app.enrolled(GARETH).await;
    let res = app
        .post_with(&gareth, "/api/external_contacts/edit", &csoc(CSOC_EMAIL))
        .await;
    assert_eq!(res.status(), 403);
    let ruth = app.enrolled(RUTH).await;
    let res = app
        .post_with(&ruth, "/api/external_contacts/edit", &csoc(CSOC_EMAIL))
        .await;
    assert_eq!(res.status(), 403);
    // The national admin may.
    let dana = app.enrolled(DANA).await;
    let res = app
        .post_with(&dana, "/api/external_contacts/edit", &csoc(CSOC_EMAIL))
        .await;
    assert_eq!(res.status(), 200);
    let listed = contacts(&app, &ruth).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].org_code.as_deref(),
            listed[0].contact.email.as_str(),
            listed[0].editable
        ),
        (None, CSOC_EMAIL, false),
        "a regulator reads it and is not offered a change"
    );

    // The ICB's own on-call line, seen within the ICB, not at a trust elsewhere.
    let on_call = [
        ("org_code", "QKK"),
        ("key", "qkk-on-call"),
        ("name", "South East London ICB on-call"),
        ("phone", "020 7946 0999"),
        ("email", ""),
        ("reporting_route", "Ring the on-call line"),
    ];
    assert_eq!(
        app.post_with(&gareth, "/api/external_contacts/add", &on_call)
            .await
            .status(),
        200
    );
    let keys = |l: Vec<app::domain::escalation::ListedContact>| {
        l.into_iter()
            .map(|l| (l.org_code, l.contact.key, l.editable))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(contacts(&app, &gareth).await),
        [
            (None, "csoc".to_owned(), false),
            (Some("QKK".to_owned()), "qkk-on-call".to_owned(), true)
        ],
        "the ICB's admin changes its own contact, not the national one"
    );
    assert_eq!(
        keys(contacts(&app, &dana).await)[0],
        (None, "csoc".to_owned(), true)
    );
    let priya = app.enrolled(PRIYA).await;
    let mut elsewhere = on_call;
    elsewhere[1] = ("key", "other");
    assert_eq!(
        app.post_with(&priya, "/api/external_contacts/add", &elsewhere)
            .await
            .status(),
        404,
        "a trust's admin adding at the ICB above it: out of reach"
    );
}
