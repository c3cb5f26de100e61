//! Running an incident: command roles, reports against the clocks, more affected
//! organisations, supplier-linked incidents, edited runbooks and the hash-chained timeline.

use app::domain::incidents::{
    Command, CommandView, IncidentKind, IncidentStatus, IncidentView, RunbookView, TimelineCheck,
};
use app::domain::reviews::{ActionView, ReviewView};
use sea_orm::ConnectionTrait;

use crate::helpers::people::{CHRIS, DANA, GARETH, NADIA, OWEN, PRIYA, SAM};
use crate::helpers::{TestApp, spawn_app, typed};

fn command(i: &IncidentView, which: Command) -> &CommandView {
    i.commands.iter().find(|c| c.command == which).unwrap()
}

/// The holder of one command role, by name.
fn holder(i: &IncidentView, which: Command) -> Option<&str> {
    command(i, which).person.as_deref()
}

fn last_entry(i: &IncidentView) -> String {
    i.timeline.last().unwrap().detail.clone()
}

#[tokio::test]
async fn command_roles_start_from_the_on_call_holders_and_staff_do_not_lead() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let i = app.incident(&nadia, &reference).await;
    assert_eq!(
        holder(&i, Command::Gold),
        Some("Meera Shah"),
        "the ICB's Gold on call"
    );
    assert_eq!(holder(&i, Command::Silver), Some("Gareth Lloyd"));
    assert_eq!(holder(&i, Command::Loggist), None);
    assert!(!i.can_lead, "staff do not lead");
    assert!(i.candidates.is_empty());
    assert_eq!(
        app.post_with(
            &nadia,
            "/api/incidents/lead/command",
            &[
                ("reference", reference.as_str()),
                ("command", "gold"),
                ("person", ""),
            ],
        )
        .await
        .status(),
        403
    );
}

#[tokio::test]
async fn a_lead_gives_a_command_role_only_to_a_role_holder_around_the_incident() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let gareth = app.enrolled(GARETH).await;
    let i = app.incident(&gareth, &reference).await;
    assert!(i.can_lead);
    let owen = i
        .candidates
        .iter()
        .find(|c| c.label.starts_with("Owen Fraser"))
        .unwrap()
        .person_id;
    let give = |person: i64| {
        let reference = reference.clone();
        let app = &app;
        let gareth = &gareth;
        async move {
            app.post_with(
                gareth,
                "/api/incidents/lead/command",
                &[
                    ("reference", reference.as_str()),
                    ("command", "loggist"),
                    ("person", person.to_string().as_str()),
                ],
            )
            .await
            .status()
        }
    };
    // Sam holds roles only at another trust: not a holder around this incident.
    assert_eq!(give(app.person_id(SAM).await).await, 404);
    assert_eq!(give(owen).await, 200);
    let i = app.incident(&gareth, &reference).await;
    assert_eq!(holder(&i, Command::Loggist), Some("Owen Fraser"));
    assert!(last_entry(&i).contains("Loggist: Owen Fraser"));
}

#[tokio::test]
async fn a_report_is_recorded_with_its_reference_and_the_dspt_text_is_filled_in() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "data_breach").await;
    let gareth = app.enrolled(GARETH).await;
    let report = |at: &'static str, theirs: &'static str| {
        let reference = reference.clone();
        let app = &app;
        let gareth = &gareth;
        async move {
            app.post_with(
                gareth,
                "/api/incidents/lead/report",
                &[
                    ("reference", reference.as_str()),
                    ("body", "ico"),
                    ("reported_at", at),
                    ("their_reference", theirs),
                ],
            )
            .await
            .status()
        }
    };
    assert_eq!(report("", " ").await, 422, "a reference is required");
    assert_eq!(
        report("2999-01-01T10:00", "X").await,
        422,
        "not in the future"
    );
    assert_eq!(report("yesterday", "X").await, 422);
    let before = app.incident(&gareth, &reference).await;
    assert_eq!(before.timeline.len(), 1);
    assert_eq!(report("", "DSPT-0042").await, 200);
    let i = app.incident(&gareth, &reference).await;
    let ico = i.clocks.iter().find(|c| c.body == "ico").unwrap();
    assert_eq!(ico.report_reference.as_deref(), Some("DSPT-0042"));
    assert!(ico.reported_at.is_some());
    assert!(last_entry(&i).contains("Reported to the ICO"));
    let text = &i.dspt_text;
    assert!(text.contains("ODS code G85028"), "{text}");
    assert!(text.contains("Personal data involved: Yes"), "{text}");
    assert!(text.contains("reference DSPT-0042"), "{text}");
    assert!(text.contains("Gold (strategic): Meera Shah"), "{text}");
    // Correcting it keeps one report and says so on the timeline.
    assert_eq!(report("", "DSPT-0043").await, 200);
    let i = app.incident(&gareth, &reference).await;
    assert!(last_entry(&i).contains("Report corrected"));
}

#[tokio::test]
async fn a_csoc_report_says_whether_it_is_for_information_or_a_request_for_support() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let gareth = app.enrolled(GARETH).await;
    let report = |body: &'static str, purpose: Option<&'static str>| {
        let reference = reference.clone();
        let (app, gareth) = (&app, &gareth);
        async move {
            let mut form = vec![
                ("reference", reference.as_str()),
                ("body", body),
                ("their_reference", "CSOC-2026-0099"),
            ];
            if let Some(p) = purpose {
                form.push(("purpose", p));
            }
            app.post_with(gareth, "/api/incidents/lead/report", &form)
                .await
                .status()
        }
    };
    let unchanged = app.fingerprint().await;
    for purpose in [None, Some(""), Some("both"), Some("<b>support</b>")] {
        assert_eq!(report("csoc", purpose).await, 422, "{purpose:?}");
    }
    assert_eq!(app.fingerprint().await, unchanged, "nothing recorded");
    // The runbook's CSOC step says how the CSOC asks to be told.
    let i = app.incident(&gareth, &reference).await;
    let step = i
        .tasks
        .iter()
        .find(|t| t.title == "Report to the NHS England CSOC")
        .expect("the CSOC step");
    for words in [
        "NHS England's cyber incident reporting route",
        "0300 303 5222",
        "for information or a request for support",
    ] {
        assert!(
            step.instructions.contains(words),
            "{words}: {}",
            step.instructions
        );
    }

    assert_eq!(report("csoc", Some("support")).await, 200);
    let i = app.incident(&gareth, &reference).await;
    let csoc = i.clocks.iter().find(|c| c.body == "csoc").unwrap();
    assert_eq!(
        csoc.report_purpose.as_deref(),
        Some("a request for support")
    );
    assert!(
        last_entry(&i).contains("Reported to NHS England CSOC (a request for support)"),
        "{}",
        last_entry(&i)
    );
    assert!(
        i.dspt_text
            .contains("Reported: NHS England CSOC (a request for support) at"),
        "{}",
        i.dspt_text
    );
    // Corrected to information: recorded, and the timeline keeps both.
    assert_eq!(report("csoc", Some("information")).await, 200);
    let i = app.incident(&gareth, &reference).await;
    let csoc = i.clocks.iter().find(|c| c.body == "csoc").unwrap();
    assert_eq!(csoc.report_purpose.as_deref(), Some("for information"));
    assert!(last_entry(&i).contains("Report corrected"));
    assert!(
        i.timeline
            .iter()
            .any(|e| e.detail.contains("(a request for support)"))
    );
    // Other bodies are not asked, and a purpose sent with them is not kept.
    let breach = app.declare(&nadia, "data_breach").await;
    let res = app
        .post_with(
            &gareth,
            "/api/incidents/lead/report",
            &[
                ("reference", breach.as_str()),
                ("body", "ico"),
                ("their_reference", "DSPT-1"),
                ("purpose", "support"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let i = app.incident(&gareth, &breach).await;
    let ico = i.clocks.iter().find(|c| c.body == "ico").unwrap();
    assert_eq!(ico.report_purpose, None);
}

#[tokio::test]
async fn another_affected_organisation_sees_the_incident_and_gets_a_task() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let priya = app.enrolled(PRIYA).await;
    assert_eq!(
        app.post_with(&priya, "/api/incidents/get", &[("reference", &reference)])
            .await
            .status(),
        404,
        "not King's incident yet"
    );
    let gareth = app.enrolled(GARETH).await;
    let add = |code: &'static str| {
        let reference = reference.clone();
        let app = &app;
        let gareth = &gareth;
        async move {
            app.post_with(
                gareth,
                "/api/incidents/lead/affect",
                &[("reference", reference.as_str()), ("org_code", code)],
            )
            .await
            .status()
        }
    };
    assert_eq!(add("NOPE1").await, 404);
    assert_eq!(add("RJ1").await, 200);
    assert_eq!(add("RJ1").await, 422, "already on it");
    let i = app.incident(&priya, &reference).await;
    assert_eq!(i.affected[0].code, "RJ1");
    let task = i.tasks.last().unwrap();
    assert!(task.title.starts_with("Assess the impact at"));
    assert_eq!(task.assignee.as_deref(), Some("Priya Raman"));
    let listed = app.incident_list(&priya).await;
    assert!(listed.iter().any(|r| r.reference == reference));
    let sam = app.signed_in_as(SAM).await;
    assert_eq!(
        app.post_with(&sam, "/api/incidents/get", &[("reference", &reference)])
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_supplier_incident_opens_linked_incidents_at_every_organisation_it_serves() {
    let app = spawn_app().await.with_demo().await;
    let chris = app.signed_in_as(CHRIS).await;
    let reference = app.declare(&chris, "supplier_compromise").await;
    let i = app.incident(&chris, &reference).await;
    assert_eq!(i.unlinked_clients.len(), 2);
    let res = app
        .post_with(
            &chris,
            "/api/incidents/lead/link",
            &[("reference", &reference)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let refs: Vec<String> = res.json().await.unwrap();
    assert_eq!(refs.len(), 2);
    assert_eq!(
        app.post_with(
            &chris,
            "/api/incidents/lead/link",
            &[("reference", &reference)]
        )
        .await
        .status(),
        422,
        "nobody is left to link"
    );
    let i = app.incident(&chris, &reference).await;
    let linked = &i.linked;
    assert_eq!(linked.len(), 2);
    assert!(
        linked.iter().all(|l| l.status == IncidentStatus::Declared
            && l.tasks_total > 0
            && l.tasks_done == 0)
    );
    assert!(i.unlinked_clients.is_empty());

    // King's sees its own linked incident, with its own tasks and the supplier's as parent.
    let priya = app.enrolled(PRIYA).await;
    let kings = refs
        .iter()
        .find(|r| {
            linked.iter().any(|l| {
                l.reference == **r && l.org_name == "Guy's and St Thomas' NHS Foundation Trust"
            })
        })
        .unwrap();
    let k = app.incident(&priya, kings).await;
    assert_eq!(k.parent.as_ref().unwrap().reference, reference);
    assert_eq!(k.kind, IncidentKind::SupplierCompromise);
    assert_eq!(k.tasks[0].assignee.as_deref(), Some("Priya Raman"));
}

#[tokio::test]
async fn a_practice_incident_has_nobody_to_link() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let own = app.declare(&nadia, "ransomware").await;
    assert_eq!(
        app.post_with(&nadia, "/api/incidents/lead/link", &[("reference", &own)])
            .await
            .status(),
        422
    );
}

fn step_form<'a>(
    kind: &'a str,
    org: &'a str,
    steps: &[(&'a str, &'a str, &'a str)],
) -> Vec<(String, String)> {
    let mut form = vec![
        ("kind".to_owned(), kind.to_owned()),
        ("org_code".to_owned(), org.to_owned()),
        (
            "title".to_owned(),
            "South East London ransomware plan".to_owned(),
        ),
    ];
    for (i, (title, role, due)) in steps.iter().enumerate() {
        for (k, v) in [
            ("phase", "contain"),
            ("title", title),
            ("owner_role", role),
            ("due_minutes", due),
            ("instructions", "As agreed with the ICB."),
            ("required", "on"),
            ("depends_on", ""),
        ] {
            form.push((format!("steps[{i}][{k}]"), v.to_owned()));
        }
    }
    form
}

/// Saves a runbook as the person signed in on `client`; the answer's status.
async fn save_runbook(
    app: &TestApp,
    client: &reqwest::Client,
    form: Vec<(String, String)>,
) -> reqwest::StatusCode {
    client
        .post(format!("{}/api/runbooks/save", app.address))
        .header("Origin", app.address.clone())
        .form(&form)
        .send()
        .await
        .unwrap()
        .status()
}

fn icb_plan() -> Vec<(String, String)> {
    step_form(
        "ransomware",
        "QKK",
        &[
            ("Isolate affected machines", "head_of_cyber", "15"),
            ("Call the SIRO", "siro", "30"),
        ],
    )
}

#[tokio::test]
async fn leads_do_not_edit_runbooks_nor_see_organisations_above_their_own() {
    let app = spawn_app().await.with_demo().await;
    let owen = app.signed_in_as(OWEN).await;
    let own = step_form(
        "ransomware",
        "G85028",
        &[("Isolate", "head_of_cyber", "15")],
    );
    assert_eq!(
        save_runbook(&app, &owen, own).await,
        403,
        "leads do not edit runbooks"
    );
    assert_eq!(
        save_runbook(&app, &owen, icb_plan()).await,
        404,
        "nor see organisations above their own"
    );
}

#[tokio::test]
async fn an_edited_runbook_is_a_new_version_and_running_incidents_keep_their_tasks() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let running = app.declare(&nadia, "ransomware").await;
    let before = app.incident(&nadia, &running).await;
    assert!(before.tasks.len() > 2);

    let gareth = app.enrolled(GARETH).await;
    let bad = step_form("ransomware", "QKK", &[("Isolate", "no_such_role", "15")]);
    assert_eq!(save_runbook(&app, &gareth, bad).await, 422);
    assert_eq!(save_runbook(&app, &gareth, icb_plan()).await, 200);
    assert_eq!(save_runbook(&app, &gareth, icb_plan()).await, 200);

    let rb: RunbookView = app
        .post_with(
            &gareth,
            "/api/runbooks/get",
            &[("kind", "ransomware"), ("org_code", "G85028")],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        rb.version, 2,
        "two saves, two versions; the bad one made none"
    );
    assert_eq!(
        rb.owner_code.as_deref(),
        Some("QKK"),
        "the ICB's version is in force below it"
    );
    assert_eq!(rb.steps.len(), 2);

    let after = app.incident(&nadia, &running).await;
    assert_eq!(
        after.tasks, before.tasks,
        "the running incident is unchanged"
    );
    assert_eq!(after.runbook, before.runbook);
    let fresh = app.declare(&nadia, "ransomware").await;
    let f = app.incident(&nadia, &fresh).await;
    let titles: Vec<&str> = f.tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["Isolate affected machines", "Call the SIRO"]);
    assert!(f.runbook.contains("version 2"));
    // Other kinds still use the national library.
    let phishing = app.declare(&nadia, "phishing").await;
    let p = app.incident(&nadia, &phishing).await;
    assert!(p.runbook.contains("national default"));
}

#[tokio::test]
async fn the_timeline_is_hash_chained_and_an_altered_row_is_found() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let gareth = app.enrolled(GARETH).await;
    let reference = worked_incident(&app, &nadia, &gareth).await;
    let dana = app.enrolled(DANA).await;
    let checks = |client: reqwest::Client| {
        let app = &app;
        async move {
            let v: Vec<TimelineCheck> = app
                .post_with(&client, "/api/incidents/verify", &[])
                .await
                .json()
                .await
                .unwrap();
            v
        }
    };
    let ok = checks(dana.clone()).await;
    assert_eq!(ok[0].reference, reference);
    assert!(ok[0].whole, "{ok:?}");

    let cli = |reference: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wardline"))
            .arg("verify-timeline")
            .arg(reference)
            .env("WARDLINE_DATABASE_URL", &app.database_url)
            .env("WARDLINE_SECRET_KEY_FILE", &app.key_file)
            .output()
            .unwrap()
    };
    let out = cli(&reference);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("whole (3 entries)"));

    // Someone with database access rewrites history.
    app.db
        .execute_unprepared(
            "UPDATE incident_event SET detail = 'nothing happened' WHERE kind = 'task' \
             AND id = (SELECT MIN(id) FROM incident_event WHERE kind = 'task')",
        )
        .await
        .unwrap();
    let broken = checks(dana).await;
    assert!(!broken[0].whole);
    assert!(
        broken[0].found.contains("Entry 2 was altered"),
        "{broken:?}"
    );
    let out = cli(&reference);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("BROKEN [entry-altered]: Entry 2"));

    // Removing an entry from the middle breaks the chain too.
    app.db
        .execute_unprepared(
            "DELETE FROM incident_event WHERE id = (SELECT MIN(id) FROM incident_event WHERE kind = 'task')",
        )
        .await
        .unwrap();
    let out = cli(&reference);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Entry 2 does not follow"),
        "{out:?}"
    );
    let nadia_checks = app.post_with(&nadia, "/api/incidents/verify", &[]).await;
    assert_eq!(nadia_checks.status(), 403, "staff administer nothing");
}

#[tokio::test]
async fn an_incident_exports_as_json_with_its_chain_and_other_organisations_get_404() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let res = nadia
        .get(format!(
            "{}/export/incident.json?reference={reference}",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("wardline-incident-")
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["incident"]["reference"], reference.as_str());
    assert_eq!(body["timeline_check"]["whole"], true);
    assert_eq!(
        body["timeline"][0]["prev_hash"],
        app::backend::timeline::GENESIS
    );
    assert_eq!(body["timeline"][0]["hash"].as_str().unwrap().len(), 64);
    let sam = app.signed_in_as(SAM).await;
    let res = sam
        .get(format!(
            "{}/export/incident.json?reference={reference}",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let anon = app
        .new_client()
        .get(format!(
            "{}/export/incident.json?reference={reference}",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
}

#[tokio::test]
async fn a_review_records_lessons_and_follows_each_action_until_its_owner_closes_it() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let gareth = app.enrolled(GARETH).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let text = [
        ("reference", reference.as_str()),
        (
            "what_happened",
            "Ransom note on two reception PCs at 08:05.",
        ),
        ("went_well", "Machines were unplugged within ten minutes."),
        ("lessons", "Nobody knew the ICB's out-of-hours number."),
    ];
    assert_eq!(
        app.post_with(&nadia, "/api/incidents/lead/review", &text)
            .await
            .status(),
        403,
        "staff read the review; leads write it"
    );
    assert_eq!(
        app.post_with(&gareth, "/api/incidents/lead/review", &text)
            .await
            .status(),
        200
    );
    let review = |c: reqwest::Client| {
        let (app, reference) = (&app, reference.clone());
        async move {
            app.post_with(&c, "/api/reviews/get", &[("reference", &reference)])
                .await
                .json::<ReviewView>()
                .await
                .unwrap()
        }
    };
    let r = review(nadia.clone()).await;
    assert_eq!(r.lessons, "Nobody knew the ICB's out-of-hours number.");
    assert!(!r.can_edit);

    // Actions: an owner from the role holders, a due date; bad input refused, nothing added.
    let r = review(gareth.clone()).await;
    let gareth_id = r
        .owners
        .iter()
        .find(|o| o.label.starts_with("Gareth Lloyd"))
        .unwrap()
        .person_id
        .to_string();
    let due = (time::OffsetDateTime::now_utc().date() + time::Duration::days(30)).to_string();
    for (title, owner, due_on, why) in [
        (
            "",
            gareth_id.as_str(),
            due.as_str(),
            "Say what the action is",
        ),
        (
            "Print contact cards",
            gareth_id.as_str(),
            "30/12/2026",
            "as a date",
        ),
        (
            "Print contact cards",
            gareth_id.as_str(),
            "2020-01-01",
            "already passed",
        ),
    ] {
        let res = app
            .post_with(
                &gareth,
                "/api/incidents/lead/review_action",
                &[
                    ("reference", reference.as_str()),
                    ("title", title),
                    ("owner_id", owner),
                    ("due_on", due_on),
                ],
            )
            .await;
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains(why), "{why}");
    }
    assert!(review(gareth.clone()).await.actions.is_empty());
    // An owner the review does not offer is as if they did not exist.
    let res = app
        .post_with(
            &gareth,
            "/api/incidents/lead/review_action",
            &[
                ("reference", reference.as_str()),
                ("title", "Print contact cards"),
                ("owner_id", "999999"),
                ("due_on", due.as_str()),
            ],
        )
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .post_with(
            &gareth,
            "/api/incidents/lead/review_action",
            &[
                ("reference", reference.as_str()),
                ("title", "Print the ICB's out-of-hours contact cards"),
                ("owner_id", gareth_id.as_str()),
                ("due_on", due.as_str()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);

    // The owner sees it among their open actions, and closes it once.
    let mine: Vec<ActionView> = app
        .post_with(&gareth, "/api/reviews/mine", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    let id = mine[0].id.to_string();
    assert_eq!(
        app.post_with(&nadia, "/api/reviews/close", &[("id", id.as_str())])
            .await
            .status(),
        403,
        "not hers to close"
    );
    let close = [("id", id.as_str()), ("note", "Cards printed and laminated")];
    assert_eq!(
        app.post_with(&gareth, "/api/reviews/close", &close)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_with(&gareth, "/api/reviews/close", &close)
            .await
            .status(),
        409,
        "closed once"
    );
    let r = review(nadia.clone()).await;
    assert!(
        r.actions[0]
            .closed
            .as_deref()
            .unwrap()
            .contains("Cards printed and laminated")
    );
    let mine: Vec<ActionView> = app
        .post_with(&gareth, "/api/reviews/mine", &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(mine.is_empty());
    // Each step is on the incident's timeline.
    let i = app.incident(&nadia, &reference).await;
    assert!(
        i.timeline
            .iter()
            .any(|e| e.detail.contains("Post-incident review saved"))
    );
    assert!(i.timeline.iter().any(|e| e.detail.contains("closed")));
}

async fn finding(app: &TestApp, reference: &str) -> app::backend::timeline::Finding {
    app::backend::timeline::inspect(&app.db, app.incident_id(reference).await)
        .await
        .unwrap()
}

/// A declared incident whose first task was acknowledged and started: three entries.
async fn worked_incident(
    app: &TestApp,
    nadia: &reqwest::Client,
    gareth: &reqwest::Client,
) -> String {
    let reference = app.declare(nadia, "ransomware").await;
    let task = app.incident(gareth, &reference).await.tasks[0].id;
    for action in ["acknowledge", "start"] {
        assert_eq!(app.act_on_task(gareth, task, action).await.status(), 200);
    }
    reference
}

#[tokio::test]
async fn editing_an_incident_fact_breaks_its_chain() {
    use app::backend::timeline::Finding;
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let gareth = app.enrolled(GARETH).await;
    let reference = worked_incident(&app, &nadia, &gareth).await;
    // Changes made through Wardline are on the chain, facts and all.
    let change = [
        ("reference", reference.as_str()),
        ("level", "critical"),
        ("reason", "Three practices affected"),
    ];
    assert_eq!(
        app.post_with(&gareth, "/api/incidents/change", &change)
            .await
            .status(),
        200
    );
    let report = [
        ("reference", reference.as_str()),
        ("body", "csoc"),
        ("reported_at", ""),
        ("their_reference", "CSOC-1"),
        ("purpose", "support"),
    ];
    assert_eq!(
        app.post_with(&gareth, "/api/incidents/lead/report", &report)
            .await
            .status(),
        200
    );
    assert_eq!(
        finding(&app, &reference).await,
        Finding::Whole { entries: 5 }
    );

    // Someone with database access lowers the level so fewer obligations apply.
    let id = app.incident_id(&reference).await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE incident SET level = 'business_continuity' WHERE id = {id}"
        ))
        .await
        .unwrap();
    assert_eq!(
        finding(&app, &reference).await,
        Finding::FactsEdited {
            fields: vec!["level".into()]
        }
    );
    app.db
        .execute_unprepared(&format!(
            "UPDATE incident SET level = 'critical' WHERE id = {id}"
        ))
        .await
        .unwrap();
    assert_eq!(
        finding(&app, &reference).await,
        Finding::Whole { entries: 5 }
    );

    // Moving the awareness time or a report's time changes the clocks: found too.
    app.db
        .execute_unprepared(&format!(
            "UPDATE incident_report SET reference = 'CSOC-2' WHERE incident_id = {id}"
        ))
        .await
        .unwrap();
    assert_eq!(
        finding(&app, &reference).await,
        Finding::FactsEdited {
            fields: vec!["report.csoc".into()]
        }
    );
}

#[tokio::test]
async fn truncating_a_timeline_is_detected_by_its_signed_head() {
    use app::backend::timeline::Finding;
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let gareth = app.enrolled(GARETH).await;
    let reference = worked_incident(&app, &nadia, &gareth).await;
    let id = app.incident_id(&reference).await;
    // The last entry goes: what is left still chains, but the signed head counted three.
    app.db
        .execute_unprepared(&format!(
            "DELETE FROM incident_event WHERE id = (SELECT MAX(id) FROM incident_event \
             WHERE incident_id = {id})"
        ))
        .await
        .unwrap();
    assert_eq!(
        finding(&app, &reference).await,
        Finding::Truncated {
            signed: 3,
            found: 2
        }
    );
    // Work carrying on does not sign the cut-short chain afresh.
    let change = [
        ("reference", reference.as_str()),
        ("level", "critical"),
        ("reason", "Spreading"),
    ];
    assert_eq!(
        app.post_with(&gareth, "/api/incidents/change", &change)
            .await
            .status(),
        200
    );
    assert_ne!(
        finding(&app, &reference).await,
        Finding::Whole { entries: 3 }
    );
    assert!(!matches!(
        finding(&app, &reference).await,
        Finding::Whole { .. }
    ));
}

#[tokio::test]
async fn recomputed_hashes_fail_the_signature() {
    use app::backend::entity::incident_event;
    use app::backend::timeline::{self, Finding, GENESIS};
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let gareth = app.enrolled(GARETH).await;
    let reference = worked_incident(&app, &nadia, &gareth).await;
    let id = app.incident_id(&reference).await;
    // Rewrite an entry, then work every hash out again so the chain holds together.
    let entries = incident_event::Entity::find()
        .filter(incident_event::Column::IncidentId.eq(id))
        .order_by_asc(incident_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    let mut prev = GENESIS.to_owned();
    for (i, e) in entries.into_iter().enumerate() {
        let detail = if i == 1 {
            "Nothing happened".to_owned()
        } else {
            e.detail.clone()
        };
        let h = timeline::entry_hash(
            &prev,
            e.incident_id,
            e.at,
            e.actor_id,
            &e.kind,
            &detail,
            e.facts.as_deref(),
        );
        let mut m: incident_event::ActiveModel = e.into();
        m.detail = Set(detail);
        m.prev_hash = Set(Some(prev.clone()));
        m.hash = Set(Some(h.clone()));
        m.update(&app.db).await.unwrap();
        prev = h;
    }
    assert_eq!(finding(&app, &reference).await, Finding::Recomputed);
    // Pointing the head at the new hash does not help without the key.
    app.db
        .execute_unprepared(&format!(
            "UPDATE timeline_head SET head_hash = '{prev}' WHERE incident_id = {id}"
        ))
        .await
        .unwrap();
    assert_eq!(finding(&app, &reference).await, Finding::HeadForged);
}

#[tokio::test]
async fn nulled_hashes_are_not_resealed() {
    use app::backend::timeline::{self, Finding};
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let gareth = app.enrolled(GARETH).await;
    let reference = worked_incident(&app, &nadia, &gareth).await;
    let id = app.incident_id(&reference).await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE incident_event SET detail = 'Nothing happened', hash = NULL, \
             prev_hash = NULL WHERE incident_id = {id}"
        ))
        .await
        .unwrap();
    // Start-up's legacy sealing (even allowed to adopt) leaves a signed incident alone, and
    // so does opening the database again.
    assert_eq!(timeline::seal_legacy(&app.db, true).await.unwrap(), 0);
    let mut settings = server::config::Settings::for_tests(&app.database_url);
    settings.secret_key_file = app.key_file.clone();
    server::open_database(&settings).await.unwrap();
    assert_eq!(
        finding(&app, &reference).await,
        Finding::HashesNulled { entry: 1 }
    );

    // Removing the head as well: still not re-sealed, and said so.
    app.db
        .execute_unprepared(&format!(
            "DELETE FROM timeline_head WHERE incident_id = {id}"
        ))
        .await
        .unwrap();
    server::open_database(&settings).await.unwrap();
    assert_eq!(
        finding(&app, &reference).await,
        Finding::NoSignedHead {
            hashes_cleared: true
        }
    );
}

#[tokio::test]
async fn verify_timeline_names_what_happened() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let gareth = app.enrolled(GARETH).await;
    let mut refs = Vec::new();
    for _ in 0..4 {
        refs.push(worked_incident(&app, &nadia, &gareth).await);
    }
    let whole = worked_incident(&app, &nadia, &gareth).await;
    let mut ids = Vec::new();
    for r in &refs {
        ids.push(app.incident_id(r).await);
    }
    for sql in [
        format!(
            "UPDATE incident SET status = 'closed' WHERE id = {}",
            ids[0]
        ),
        format!(
            "DELETE FROM incident_event WHERE id = (SELECT MAX(id) FROM incident_event \
             WHERE incident_id = {})",
            ids[1]
        ),
        format!(
            "UPDATE incident_event SET hash = NULL, prev_hash = NULL WHERE incident_id = {}",
            ids[2]
        ),
        format!("DELETE FROM timeline_head WHERE incident_id = {}", ids[3]),
    ] {
        app.db.execute_unprepared(&sql).await.unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wardline"))
        .arg("verify-timeline")
        .env("WARDLINE_DATABASE_URL", &app.database_url)
        .env("WARDLINE_SECRET_KEY_FILE", &app.key_file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |r: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(r))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line(&refs[0]).contains("BROKEN [facts-edited]: The incident's status"),
        "{stdout}"
    );
    assert!(line(&refs[1]).contains("BROKEN [truncated]"), "{stdout}");
    assert!(
        line(&refs[2]).contains("BROKEN [hashes-nulled]"),
        "{stdout}"
    );
    assert!(
        line(&refs[3]).contains("BROKEN [no-signed-head]"),
        "{stdout}"
    );
    assert!(line(&whole).contains("whole (3 entries)"), "{stdout}");
    assert!(
        stdout.contains("5 timeline(s) checked, 4 broken."),
        "{stdout}"
    );
}

#[tokio::test]
async fn an_exported_incident_carries_its_signed_head() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let body: serde_json::Value = nadia
        .get(format!(
            "{}/export/incident.json?reference={reference}",
            app.address
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let head = &body["signed_head"];
    assert_eq!(head["entries"], 1, "{body}");
    assert_eq!(head["head_hash"], body["timeline"][0]["hash"]);
    assert_eq!(head["algorithm"], "HMAC-SHA256");
    assert_eq!(head["signature"].as_str().unwrap().len(), 64);
}

#[tokio::test]
async fn a_lead_sets_awareness_earlier_and_every_clock_counts_from_it() {
    use app::backend::entity::incident;
    use app::backend::timeline::Finding;
    use sea_orm::EntityTrait;
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "data_breach").await;
    let gareth = app.enrolled(GARETH).await;
    let declared = incident::Entity::find_by_id(app.incident_id(&reference).await)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .declared_at;
    let set = |client: &reqwest::Client, at: String, reason: String| {
        let (app, client, reference) = (&app, client.clone(), reference.clone());
        async move {
            app.post_with(
                &client,
                "/api/incidents/lead/awareness",
                &[
                    ("reference", reference.as_str()),
                    ("aware_at", at.as_str()),
                    ("reason", reason.as_str()),
                ],
            )
            .await
            .status()
        }
    };
    let earlier = typed(declared - time::Duration::hours(10));
    let why = || "The practice manager saw the misdirected email the evening before.".to_owned();

    // Refused, each with nothing changed: later than the declaration, no reason, no time,
    // not a time, years back, a 200 KB reason; staff and another trust's lead.
    let tom = app.signed_in_as(crate::helpers::people::TOM).await;
    let unchanged = app.fingerprint().await;
    let later = typed(declared + time::Duration::hours(2));
    for (at, reason) in [
        (later, why()),
        (earlier.clone(), " ".to_owned()),
        (String::new(), why()),
        ("yesterday".to_owned(), why()),
        ("2020-01-01T09:00".to_owned(), why()),
        (earlier.clone(), "x".repeat(200 * 1024)),
    ] {
        let status = set(&gareth, at.clone(), reason).await;
        assert!(status == 422 || status == 413, "{at}: {status}");
    }
    assert_eq!(set(&nadia, earlier.clone(), why()).await, 403);
    assert_eq!(set(&tom, earlier.clone(), why()).await, 404);
    assert_eq!(app.fingerprint().await, unchanged, "nothing was set");

    let before = app.incident(&gareth, &reference).await;
    let ico_before = before.clocks.iter().find(|c| c.body == "ico").unwrap();
    assert_eq!(set(&gareth, earlier.clone(), why()).await, 200);
    let i = app.incident(&gareth, &reference).await;
    let ico = i.clocks.iter().find(|c| c.body == "ico").unwrap();
    // Ten hours earlier (to the minute typed): ten hours less on the ICO's 72.
    let less = ico_before.minutes_left - ico.minutes_left;
    assert!((599..=601).contains(&less), "{less} minutes less");
    let csoc = i.clocks.iter().find(|c| c.body == "csoc").unwrap();
    assert!(csoc.overdue, "the CSOC's hour ran out nine hours ago");
    assert_ne!(i.aware_at, before.aware_at);
    let entry = last_entry(&i);
    assert!(entry.contains("Became aware set to"), "{entry}");
    assert!(entry.contains("misdirected email"), "{entry}");
    assert!(!app.audit_rows("incident_awareness_set").await.is_empty());
    // The new awareness is signed into the timeline: it verifies whole.
    assert_eq!(
        finding(&app, &reference).await,
        Finding::Whole { entries: 2 }
    );
    assert_eq!(
        set(&gareth, earlier, why()).await,
        422,
        "setting the same time again says so"
    );
}

#[tokio::test]
async fn a_linked_incident_counts_from_when_the_supplier_told_the_organisation() {
    let app = spawn_app().await.with_demo().await;
    let chris = app.signed_in_as(CHRIS).await;
    let reference = app.declare(&chris, "supplier_compromise").await;
    // The supplier knew a day before it declared, and says so.
    let parent = app.incident(&chris, &reference).await;
    let id = app.incident_id(&reference).await;
    use sea_orm::EntityTrait;
    let declared = {
        app::backend::entity::incident::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .declared_at
    };
    {
        use sea_orm::{ActiveModelTrait, Set};
        let mut m: app::backend::entity::incident::ActiveModel =
            app::backend::entity::incident::Entity::find_by_id(id)
                .one(&app.db)
                .await
                .unwrap()
                .unwrap()
                .into();
        m.aware_at = Set(declared - time::Duration::days(1));
        m.update(&app.db).await.unwrap();
    }
    let parent_aware = app.incident(&chris, &reference).await.aware_at;
    assert_ne!(parent_aware, parent.aware_at);
    let res = app
        .post_with(
            &chris,
            "/api/incidents/lead/link",
            &[("reference", &reference)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let refs: Vec<String> = res.json().await.unwrap();
    let priya = app.enrolled(PRIYA).await;
    let mut seen = 0;
    for r in &refs {
        let res = app
            .post_with(&priya, "/api/incidents/get", &[("reference", r.as_str())])
            .await;
        if res.status() != 200 {
            continue;
        }
        let linked: app::domain::incidents::IncidentView = res.json().await.unwrap();
        assert_eq!(
            linked.aware_at, linked.declared_at,
            "its clocks start when the supplier told it"
        );
        assert_ne!(linked.aware_at, parent_aware, "not when the supplier knew");
        seen += 1;
    }
    assert_eq!(seen, 1, "King's sees its own linked incident");
}
