//! Declaring incidents and working their tasks over HTTP.

use app::domain::escalation::InboxItem;
use app::domain::incidents::{IncidentLevel, IncidentStatus, TaskState, TaskView};

use crate::helpers::people::{GARETH, NADIA, SAM};
use crate::helpers::{TestApp, spawn_app};

#[tokio::test]
async fn declaring_gives_first_steps_and_tasks_to_named_people_with_fallbacks_recorded() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    assert!(reference.starts_with("WL-"));
    let i = app.incident(&nadia, &reference).await;
    assert!(i.first_steps[0].contains("Unplug the network"));
    let tasks = &i.tasks;
    let steps = app::domain::incidents::default_library()
        .into_iter()
        .find(|(k, _)| *k == app::domain::incidents::IncidentKind::Ransomware)
        .unwrap()
        .1;
    assert_eq!(tasks.len(), steps.len(), "every runbook step became a task");
    let triage = &tasks[0];
    assert_eq!(
        triage.assignee.as_deref(),
        Some("Gareth Lloyd"),
        "a practice has no head of cyber: the ICB's gets it"
    );
    let routing = &triage.routing;
    assert!(
        routing.contains("no Head of Cyber Security at Stockwell Group Practice"),
        "{routing}"
    );
    assert!(i.told.contains(&"Gareth Lloyd".to_owned()));
    assert!(
        !i.clocks.iter().find(|c| c.body == "nis").unwrap().applies,
        "a practice is not an operator of essential services"
    );
    assert_eq!(i.timeline.len(), 1);
}

#[tokio::test]
async fn a_plain_form_post_declares_and_lands_on_the_incident_page() {
    let app = spawn_app().await.with_demo().await;
    app.sign_in(NADIA).await;
    let res = app
        .client
        .post(format!("{}/api/incidents/declare", app.address))
        .header("Accept", "text/html")
        .header("Referer", format!("{}/declare", app.address))
        .form(&[
            ("kind", "data_breach"),
            ("location", "Ward 7"),
            ("patients_affected", "no"),
            ("personal_data", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/incidents/WL-"), "{location}");
    let page = app.get(&location).await.text().await.unwrap();
    assert!(page.contains("Do this now") && page.contains("Personal data breach"));
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_stored() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = spawn_app().await.with_demo().await;
    app.sign_in(NADIA).await;
    for form in [
        vec![
            ("kind", "ransomware"),
            ("location", ""),
            ("patients_affected", "yes"),
        ],
        vec![
            ("kind", "aliens"),
            ("location", "x"),
            ("patients_affected", "yes"),
        ],
        vec![
            ("kind", "ransomware"),
            ("location", "x"),
            ("patients_affected", "maybe"),
        ],
    ] {
        assert_eq!(
            app.post_form("/api/incidents/declare", &form)
                .await
                .status(),
            422
        );
    }
    let long = "x".repeat(3000);
    assert_eq!(
        app.post_form(
            "/api/incidents/declare",
            &[
                ("kind", "ransomware"),
                ("location", "x"),
                ("patients_affected", "yes"),
                ("summary", &long)
            ]
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        app::backend::entity::incident::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app::backend::entity::task::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn two_people_acting_on_one_task_at_once_get_one_outcome() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let gareth_laptop = app.enrolled(GARETH).await;
    let task = app.incident(&gareth_laptop, &reference).await.tasks[0].id;
    // The lead presses acknowledge twice at the same moment (two tabs).
    let (a, b) = tokio::join!(
        app.act_on_task(&gareth_laptop, task, "acknowledge"),
        app.act_on_task(&gareth_laptop, task, "acknowledge")
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let i = app.incident(&gareth_laptop, &reference).await;
    assert_eq!(i.tasks[0].state, TaskState::Acknowledged);
    let acks = i
        .timeline
        .iter()
        .filter(|e| e.detail.contains("acknowledged"))
        .count();
    assert_eq!(acks, 1, "one outcome, one timeline line");
}

#[tokio::test]
async fn a_completed_task_cannot_be_acknowledged_again() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let gareth = app.enrolled(GARETH).await;
    let task = app.incident(&gareth, &reference).await.tasks[0].id;
    assert_eq!(
        app.act_on_task(&gareth, task, "acknowledge").await.status(),
        200
    );
    let done = app
        .post_with(
            &gareth,
            "/api/tasks/act",
            &[
                ("id", task.to_string().as_str()),
                ("action", "complete"),
                ("note", "Isolated the reception VLAN"),
            ],
        )
        .await;
    assert_eq!(done.status(), 200);
    let i = app.incident(&gareth, &reference).await;
    assert_eq!(i.tasks[0].state, TaskState::Done);
    assert_eq!(
        i.tasks[0].note.as_deref(),
        Some("Isolated the reception VLAN")
    );
    assert_eq!(
        app.act_on_task(&gareth, task, "acknowledge").await.status(),
        409
    );
}

#[tokio::test]
async fn staff_see_their_incident_but_cannot_act_on_another_persons_task() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let task = app.incident(&nadia, &reference).await.tasks[0].id;
    assert_eq!(
        app.act_on_task(&nadia, task, "acknowledge").await.status(),
        403,
        "staff can see their incident but not take the ICB's task"
    );
}

#[tokio::test]
async fn other_organisations_neither_see_an_incident_nor_act_on_its_tasks() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let task = app.incident(&nadia, &reference).await.tasks[0].id;
    let sam = app.signed_in_as(SAM).await;
    assert_eq!(
        app.post_with(&sam, "/api/incidents/get", &[("reference", &reference)])
            .await
            .status(),
        404
    );
    assert_eq!(
        app.act_on_task(&sam, task, "acknowledge").await.status(),
        404
    );
    assert!(app.incident_list(&sam).await.is_empty());
}

#[tokio::test]
async fn my_tasks_lists_what_a_lead_must_do() {
    let app = spawn_app().await.with_demo().await;
    let sam = app.signed_in_as(SAM).await;
    app.declare_at(&sam, "phishing", "RJZ").await;
    let mine: Vec<TaskView> = app.my_tasks(&sam).await;
    let titles: Vec<&str> = mine.iter().map(|t| t.title.as_str()).collect();
    assert!(
        titles.contains(&"Triage and declare the incident level"),
        "{titles:?}"
    );
    assert!(mine.iter().all(|t| t.mine));
}

#[tokio::test]
async fn a_lead_changes_the_level_with_a_reason_and_staff_cannot() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let raise = [
        ("reference", reference.as_str()),
        ("level", "critical"),
        ("reason", "Three practices affected"),
    ];
    assert_eq!(
        app.post_with(&nadia, "/api/incidents/change", &raise)
            .await
            .status(),
        403,
        "staff declare, leads decide"
    );
    let gareth = app.enrolled(GARETH).await;
    let no_reason = [
        ("reference", reference.as_str()),
        ("level", "critical"),
        ("reason", " "),
    ];
    assert_eq!(
        app.post_with(&gareth, "/api/incidents/change", &no_reason)
            .await
            .status(),
        422
    );
    assert_eq!(
        app.post_with(&gareth, "/api/incidents/change", &raise)
            .await
            .status(),
        200
    );
    let i = app.incident(&gareth, &reference).await;
    assert_eq!(i.level, IncidentLevel::Critical);
    let last = &i.timeline.last().unwrap().detail;
    assert!(
        last.contains("business continuity → critical")
            && last.contains("Three practices affected"),
        "{last}"
    );
}

#[tokio::test]
async fn a_lead_stands_an_incident_down_with_a_reason() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let gareth = app.enrolled(GARETH).await;
    let stand_down = [
        ("reference", reference.as_str()),
        ("status", "stood_down"),
        ("reason", "False alarm: a test page"),
    ];
    assert_eq!(
        app.post_with(&gareth, "/api/incidents/change", &stand_down)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.incident(&gareth, &reference).await.status,
        IncidentStatus::StoodDown
    );
}

/// Puts `email` in the practice's head-of-cyber seat from `starts_in` from now, written
/// straight to the database as any other path (an import, a fix by hand) could.
async fn seat_head_of_cyber_at_practice(app: &TestApp, email: &str, starts_in: time::Duration) {
    use app::backend::entity::assignment;
    use sea_orm::{ActiveModelTrait, Set};
    let now = time::OffsetDateTime::now_utc();
    let practice = app::backend::orgs::find_by_code(&app.db, "G85028")
        .await
        .unwrap()
        .unwrap();
    let role = app::backend::roles::find_by_key(&app.db, "head_of_cyber")
        .await
        .unwrap()
        .unwrap();
    let person = app::backend::people::find_by_email(&app.db, email)
        .await
        .unwrap()
        .unwrap();
    assignment::ActiveModel {
        org_id: Set(practice.id),
        role_id: Set(role.id),
        person_id: Set(person.id),
        starts_at: Set(now + starts_in),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
}

/// Who the first task of a fresh ransomware declaration by `client` goes to.
async fn first_task_of_a_fresh_declaration(app: &TestApp, client: &reqwest::Client) -> TaskView {
    let reference = app.declare(client, "ransomware").await;
    app.incident(client, &reference).await.tasks.remove(0)
}

#[tokio::test]
async fn a_change_to_who_holds_a_role_routes_the_very_next_declaration() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    assert_eq!(
        first_task_of_a_fresh_declaration(&app, &nadia)
            .await
            .assignee
            .as_deref(),
        Some("Gareth Lloyd")
    );
    // The declaration writer keeps what it read; a change made behind its back must still
    // reach the next declaration.
    seat_head_of_cyber_at_practice(&app, SAM, time::Duration::ZERO).await;
    let task = first_task_of_a_fresh_declaration(&app, &nadia).await;
    assert_eq!(task.assignee.as_deref(), Some("Sam Whitfield"), "{task:?}");
}

#[tokio::test]
async fn a_holding_that_starts_later_takes_over_when_it_starts() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    seat_head_of_cyber_at_practice(&app, SAM, time::Duration::seconds(2)).await;
    assert_eq!(
        first_task_of_a_fresh_declaration(&app, &nadia)
            .await
            .assignee
            .as_deref(),
        Some("Gareth Lloyd"),
        "not yet in the seat"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2_200)).await;
    assert_eq!(
        first_task_of_a_fresh_declaration(&app, &nadia)
            .await
            .assignee
            .as_deref(),
        Some("Sam Whitfield"),
        "in the seat from the moment the holding starts, with nothing else changed"
    );
}

#[tokio::test]
async fn each_assignee_finds_one_inbox_notice_naming_all_their_tasks() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let i = app.incident(&nadia, &reference).await;
    let his: Vec<String> = i
        .tasks
        .iter()
        .filter(|t| t.assignee.as_deref() == Some("Gareth Lloyd"))
        .map(|t| t.title.clone())
        .collect();
    assert!(his.len() > 1, "the ICB's head of cyber holds several steps");

    // Leads sign in with a second factor.
    let gareth = app.enrolled(GARETH).await;
    let inbox: Vec<InboxItem> = app.inbox_page(&gareth, 1).await.items;
    let notices: Vec<_> = inbox
        .iter()
        .filter(|n| n.incident_reference == reference)
        .collect();
    assert_eq!(notices.len(), 1, "one notice for the incident: {notices:?}");
    let title = &notices[0].title;
    assert!(
        title.starts_with(&format!("{} new tasks ({reference})", his.len())),
        "{title}"
    );
    let body = &notices[0].body;
    assert_eq!(body.lines().count(), his.len(), "{body}");
    for (line, task) in body.lines().zip(&his) {
        assert!(line.starts_with(&format!("• {task} (due ")), "{line}");
    }
}

/// Two instances on one database (as a national deployment runs): each keeps its own plans,
/// yet once a change to who holds a role has committed, neither routes a declaration to the
/// old holder, even with declarations arriving at both while it is made.
#[tokio::test]
async fn two_instances_route_by_a_holder_change_from_the_moment_it_commits() {
    let a = spawn_app().await.with_demo().await;
    let b = a.another_instance().await;
    let (on_a, on_b) = (a.signed_in_as(NADIA).await, b.signed_in_as(NADIA).await);
    for (app, client) in [(&a, &on_a), (&b, &on_b)] {
        let task = first_task_of_a_fresh_declaration(app, client).await;
        assert_eq!(task.assignee.as_deref(), Some("Gareth Lloyd"), "plans warm");
    }
    // Declarations keep arriving at both instances while the holding changes; each notes
    // when it was sent.
    let started = std::time::Instant::now();
    let stream = |app: &TestApp, client: &reqwest::Client| {
        let (address, client) = (app.address.clone(), client.clone());
        tokio::spawn(async move {
            let mut sent = Vec::new();
            for _ in 0..8 {
                let at = started.elapsed();
                let res = client
                    .post(format!("{address}/api/incidents/declare"))
                    .header("Accept", "application/json")
                    .form(&[
                        ("kind", "ransomware"),
                        ("location", "Reception PC"),
                        ("patients_affected", "unknown"),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
                sent.push((at, res.json::<String>().await.unwrap()));
            }
            sent
        })
    };
    let (streaming_a, streaming_b) = (stream(&a, &on_a), stream(&b, &on_b));
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    seat_head_of_cyber_at_practice(&a, SAM, time::Duration::ZERO).await;
    let committed = started.elapsed();
    let mut after = 0;
    for (at, reference) in streaming_a
        .await
        .unwrap()
        .into_iter()
        .chain(streaming_b.await.unwrap())
    {
        let first = a.incident(&on_a, &reference).await.tasks.remove(0);
        if at > committed {
            after += 1;
            assert_eq!(
                first.assignee.as_deref(),
                Some("Sam Whitfield"),
                "{reference} was sent after the change committed"
            );
        }
    }
    // And from now on at both, whichever instance the change was made through.
    for (app, client) in [(&a, &on_a), (&b, &on_b)] {
        let task = first_task_of_a_fresh_declaration(app, client).await;
        assert_eq!(task.assignee.as_deref(), Some("Sam Whitfield"));
    }
    println!("{after} of 16 declarations were sent after the change committed");
}
