//! Declaring incidents and working their tasks over HTTP.

use crate::helpers::{DEMO_PASSWORD, TestApp, spawn_app};

const NADIA: &str = "nadia.kowalski@demo.wardline.test";
const GARETH: &str = "gareth.lloyd@demo.wardline.test";
const SAM: &str = "sam.whitfield@demo.wardline.test";

async fn declare_ransomware(app: &TestApp, client: &reqwest::Client) -> String {
    let res = app
        .post_with(
            client,
            "/api/incidents/declare",
            &[
                ("kind", "ransomware"),
                ("location", "Reception PC"),
                ("patients_affected", "unknown"),
                ("systems", "EMIS"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn incident(app: &TestApp, client: &reqwest::Client, reference: &str) -> serde_json::Value {
    let res = app
        .post_with(client, "/api/incidents/get", &[("reference", reference)])
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn declaring_gives_first_steps_and_tasks_to_named_people_with_fallbacks_recorded() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.new_client();
    app.sign_in_with(&nadia, NADIA, DEMO_PASSWORD).await;
    let reference = declare_ransomware(&app, &nadia).await;
    assert!(reference.starts_with("WL-"));
    let i = incident(&app, &nadia, &reference).await;
    assert!(
        i["first_steps"][0]
            .as_str()
            .unwrap()
            .contains("Unplug the network")
    );
    let tasks = i["tasks"].as_array().unwrap();
    let steps = app::domain::incidents::default_library()
        .into_iter()
        .find(|(k, _)| *k == app::domain::incidents::IncidentKind::Ransomware)
        .unwrap()
        .1;
    assert_eq!(tasks.len(), steps.len(), "every runbook step became a task");
    let triage = &tasks[0];
    assert_eq!(
        triage["assignee"], "Gareth Lloyd",
        "a practice has no head of cyber: the ICB's gets it"
    );
    let routing = triage["routing"].as_str().unwrap();
    assert!(
        routing.contains("no Head of Cyber Security at Stockwell Group Practice"),
        "{routing}"
    );
    assert!(
        i["told"]
            .as_array()
            .unwrap()
            .contains(&"Gareth Lloyd".into())
    );
    let clocks = i["clocks"].as_array().unwrap();
    assert_eq!(
        clocks.iter().find(|c| c["body"] == "nis").unwrap()["applies"],
        false,
        "a practice is not an operator of essential services"
    );
    assert_eq!(i["timeline"].as_array().unwrap().len(), 1);
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
    let nadia = app.new_client();
    app.sign_in_with(&nadia, NADIA, DEMO_PASSWORD).await;
    let reference = declare_ransomware(&app, &nadia).await;
    let gareth_laptop = app.enrolled(GARETH).await;
    let i = incident(&app, &gareth_laptop, &reference).await;
    let task = i["tasks"][0]["id"].to_string();
    // The lead presses acknowledge twice at the same moment (two tabs).
    let form = [("id", task.as_str()), ("action", "acknowledge")];
    let (a, b) = tokio::join!(
        app.post_with(&gareth_laptop, "/api/tasks/act", &form),
        app.post_with(&gareth_laptop, "/api/tasks/act", &form)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let i = incident(&app, &gareth_laptop, &reference).await;
    assert_eq!(i["tasks"][0]["state"], "acknowledged");
    let acks = i["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e[1].as_str().unwrap().contains("acknowledged"))
        .count();
    assert_eq!(acks, 1, "one outcome, one timeline line");

    let done = app
        .post_with(
            &gareth_laptop,
            "/api/tasks/act",
            &[
                ("id", task.as_str()),
                ("action", "complete"),
                ("note", "Isolated the reception VLAN"),
            ],
        )
        .await;
    assert_eq!(done.status(), 200);
    let again = app
        .post_with(
            &gareth_laptop,
            "/api/tasks/act",
            &[("id", task.as_str()), ("action", "acknowledge")],
        )
        .await;
    assert_eq!(again.status(), 409);
}

#[tokio::test]
async fn only_the_assignee_or_an_admin_acts_and_other_organisations_see_nothing() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.new_client();
    app.sign_in_with(&nadia, NADIA, DEMO_PASSWORD).await;
    let reference = declare_ransomware(&app, &nadia).await;
    let i = incident(&app, &nadia, &reference).await;
    let task = i["tasks"][0]["id"].to_string();
    let not_mine = app
        .post_with(
            &nadia,
            "/api/tasks/act",
            &[("id", task.as_str()), ("action", "acknowledge")],
        )
        .await;
    assert_eq!(
        not_mine.status(),
        403,
        "staff can see their incident but not take the ICB's task"
    );

    let sam = app.new_client();
    app.sign_in_with(&sam, SAM, DEMO_PASSWORD).await;
    assert_eq!(
        app.post_with(&sam, "/api/incidents/get", &[("reference", &reference)])
            .await
            .status(),
        404
    );
    assert_eq!(
        app.post_with(
            &sam,
            "/api/tasks/act",
            &[("id", task.as_str()), ("action", "acknowledge")]
        )
        .await
        .status(),
        404
    );
    let listed: serde_json::Value = app
        .post_with(&sam, "/api/incidents/list", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(listed.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn my_tasks_lists_what_a_lead_must_do() {
    let app = spawn_app().await.with_demo().await;
    let sam = app.new_client();
    app.sign_in_with(&sam, SAM, DEMO_PASSWORD).await;
    let res = app
        .post_with(
            &sam,
            "/api/incidents/declare",
            &[
                ("kind", "phishing"),
                ("location", "ED"),
                ("patients_affected", "no"),
                ("org_code", "RJZ"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let mine: serde_json::Value = app
        .post_with(&sam, "/api/tasks/mine", &[])
        .await
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"Triage and declare the incident level"),
        "{titles:?}"
    );
    assert!(mine.as_array().unwrap().iter().all(|t| t["mine"] == true));
}

#[tokio::test]
async fn a_lead_changes_the_level_with_a_reason_and_staff_cannot() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.new_client();
    app.sign_in_with(&nadia, NADIA, DEMO_PASSWORD).await;
    let reference = declare_ransomware(&app, &nadia).await;
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
    let i = incident(&app, &gareth, &reference).await;
    assert_eq!(i["level"], "critical");
    let last = i["timeline"].as_array().unwrap().last().unwrap()[1]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        last.contains("business continuity → critical")
            && last.contains("Three practices affected"),
        "{last}"
    );
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
        incident(&app, &gareth, &reference).await["status"],
        "stood_down"
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

#[tokio::test]
async fn a_change_to_who_holds_a_role_routes_the_very_next_declaration() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.new_client();
    app.sign_in_with(&nadia, NADIA, DEMO_PASSWORD).await;
    let first = declare_ransomware(&app, &nadia).await;
    assert_eq!(
        incident(&app, &nadia, &first).await["tasks"][0]["assignee"],
        "Gareth Lloyd"
    );
    // The declaration writer keeps what it read; a change made behind its back must still
    // reach the next declaration.
    seat_head_of_cyber_at_practice(&app, SAM, time::Duration::ZERO).await;
    let second = declare_ransomware(&app, &nadia).await;
    let task = &incident(&app, &nadia, &second).await["tasks"][0];
    assert_eq!(task["assignee"], "Sam Whitfield", "{task}");
}

#[tokio::test]
async fn a_holding_that_starts_later_takes_over_when_it_starts() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.new_client();
    app.sign_in_with(&nadia, NADIA, DEMO_PASSWORD).await;
    seat_head_of_cyber_at_practice(&app, SAM, time::Duration::seconds(2)).await;
    let before = declare_ransomware(&app, &nadia).await;
    assert_eq!(
        incident(&app, &nadia, &before).await["tasks"][0]["assignee"],
        "Gareth Lloyd",
        "not yet in the seat"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2_200)).await;
    let after = declare_ransomware(&app, &nadia).await;
    assert_eq!(
        incident(&app, &nadia, &after).await["tasks"][0]["assignee"],
        "Sam Whitfield",
        "in the seat from the moment the holding starts, with nothing else changed"
    );
}

#[tokio::test]
async fn each_assignee_finds_one_inbox_notice_naming_all_their_tasks() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.new_client();
    app.sign_in_with(&nadia, NADIA, DEMO_PASSWORD).await;
    let reference = declare_ransomware(&app, &nadia).await;
    let i = incident(&app, &nadia, &reference).await;
    let his: Vec<String> = i["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["assignee"] == "Gareth Lloyd")
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(his.len() > 1, "the ICB's head of cyber holds several steps");

    // Leads sign in with a second factor.
    let gareth = app.enrolled(GARETH).await;
    let inbox: serde_json::Value = app
        .post_with(&gareth, "/api/inbox/list", &[])
        .await
        .json()
        .await
        .unwrap();
    let notices: Vec<_> = inbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["incident_reference"] == reference.as_str())
        .collect();
    assert_eq!(notices.len(), 1, "one notice for the incident: {notices:?}");
    let title = notices[0]["title"].as_str().unwrap();
    assert!(
        title.starts_with(&format!("{} new tasks ({reference})", his.len())),
        "{title}"
    );
    let body = notices[0]["body"].as_str().unwrap();
    assert_eq!(body.lines().count(), his.len(), "{body}");
    for (line, task) in body.lines().zip(&his) {
        assert!(line.starts_with(&format!("• {task} (due ")), "{line}");
    }
}
