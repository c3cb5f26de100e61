//! The obligations ledger over HTTP: which obligations an incident carries, the decisions
//! only its leads may record (each kept, on the timeline and in the audit), NIS only for
//! operators of essential services and only once the impact is significant, and the DSPT
//! grading with what Article 33(3) asks for.

use app::domain::incidents::obligations::State;
use app::domain::incidents::{Clock, IncidentView, TimelineCheck};

use crate::helpers::people::{CHRIS, DANA, GARETH, NADIA, RUTH, TOM};
use crate::helpers::{TestApp, spawn_app, typed};

fn ob<'a>(i: &'a IncidentView, body: &str) -> &'a Clock {
    i.clocks.iter().find(|c| c.body == body).unwrap()
}

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let res = app.post_with(client, path, form).await;
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}

async fn decide(
    app: &TestApp,
    client: &reqwest::Client,
    reference: &str,
    obligation: &str,
    reason: &str,
) -> (u16, String) {
    post(
        app,
        client,
        "/api/incidents/lead/not_reportable",
        &[
            ("reference", reference),
            ("obligation", obligation),
            ("reason", reason),
        ],
    )
    .await
}

#[tokio::test]
async fn each_obligation_shows_whether_it_applies_to_the_incident() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    // A ransomware attack on a GP practice, with patient data.
    let reference = app.declare(&nadia, "ransomware").await;
    let i = app.incident(&nadia, &reference).await;
    let names: Vec<&str> = i.clocks.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(
        names,
        [
            "csoc",
            "ico",
            "nis",
            "mhra",
            "police",
            "commissioner",
            "controller"
        ]
    );
    for (body, applies) in [
        ("csoc", true),
        ("nis", false),
        ("mhra", false),
        ("police", true),
        ("commissioner", true),
        ("controller", false),
    ] {
        assert_eq!(
            ob(&i, body).applies,
            applies,
            "{body}: {}",
            ob(&i, body).why
        );
    }
    assert!(
        ob(&i, "nis")
            .why
            .contains("Not an operator of essential services")
    );
    assert_eq!(ob(&i, "police").due_at, "As soon as possible");
    assert_eq!(ob(&i, "csoc").state, State::ToAssess);
    // At a supplier, its customers (the controllers) are to be told.
    let chris = app.signed_in_as(CHRIS).await;
    let at_supplier = app.declare(&chris, "supplier_compromise").await;
    let i = app.incident(&chris, &at_supplier).await;
    assert!(ob(&i, "controller").applies);
    assert!(!ob(&i, "commissioner").applies);
    assert!(
        !ob(&i, "police").applies,
        "the supplier's own kind is not a crime"
    );
}

#[tokio::test]
async fn only_leads_of_the_incidents_organisation_decide_and_each_decision_is_kept() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    // Staff, a regulator, and a lead of another organisation may not decide.
    assert_eq!(
        decide(&app, &nadia, &reference, "police", "x").await.0,
        403,
        "staff"
    );
    let ruth = app.enrolled(RUTH).await;
    assert_eq!(
        decide(&app, &ruth, &reference, "police", "x").await.0,
        403,
        "a regulator"
    );
    let tom = app.enrolled(TOM).await;
    assert!(
        matches!(
            decide(&app, &tom, &reference, "police", "x").await.0,
            403 | 404
        ),
        "a lead at another trust"
    );
    let gareth = app.enrolled(GARETH).await;
    let before = app.incident(&gareth, &reference).await;
    // A reason is required; 200 KB of it is refused and nothing is kept.
    assert_eq!(
        decide(&app, &gareth, &reference, "police", "  ").await.0,
        422
    );
    let huge = "a".repeat(200 * 1024);
    let (status, _) = post(
        &app,
        &gareth,
        "/api/incidents/lead/not_reportable",
        &[
            ("reference", reference.as_str()),
            ("obligation", "police"),
            ("reason", huge.as_str()),
        ],
    )
    .await;
    assert!(matches!(status, 413 | 422), "{status}");
    let (status, body) = post(
        &app,
        &gareth,
        "/api/incidents/lead/not_reportable",
        &[
            ("reference", reference.as_str()),
            ("obligation", "the_moon"),
            ("reason", "x"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        app.incident(&gareth, &reference).await.timeline.len(),
        before.timeline.len(),
        "refused decisions leave nothing"
    );

    let reason = "<script>alert(1)</script> Nothing was taken: the screen was a prank pop-up.";
    assert_eq!(
        decide(&app, &gareth, &reference, "police", reason).await.0,
        200
    );
    let i = app.incident(&gareth, &reference).await;
    let police = ob(&i, "police");
    assert_eq!(police.state, State::NotReportable);
    assert_eq!(police.history.len(), 1);
    assert!(
        police.history[0].contains(reason) && police.history[0].contains("Gareth Lloyd"),
        "who decided, when and why: {:?}",
        police.history
    );
    assert!(i.timeline.last().unwrap().detail.contains(reason));
    // Reassessed later: reported after all. The earlier decision stays.
    let (status, body) = post(
        &app,
        &gareth,
        "/api/incidents/lead/report",
        &[
            ("reference", reference.as_str()),
            ("body", "police"),
            ("their_reference", "AF-2026-1234"),
            ("channel", "Action Fraud phone line"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let i = app.incident(&gareth, &reference).await;
    let police = ob(&i, "police");
    assert_eq!(police.state, State::Reported);
    assert!(police.reassessed);
    assert_eq!(police.history.len(), 2);
    assert!(police.history[0].contains("Not reportable"));
    assert!(police.history[1].contains("by Action Fraud phone line"));
    assert_eq!(police.report_reference.as_deref(), Some("AF-2026-1234"));
    // Both decisions are in the audit and on a timeline that still verifies.
    let audited = app.audit_rows("incident_obligation_decided").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(app.audit_rows("incident_reported").await.len(), 1);
    let dana = app.enrolled(DANA).await;
    let checks: Vec<TimelineCheck> = app
        .post_with(&dana, "/api/incidents/verify", &[])
        .await
        .json()
        .await
        .unwrap();
    let mine = checks.iter().find(|c| c.reference == reference).unwrap();
    assert!(mine.whole, "{}", mine.found);
    // The decision is text on the page, never markup.
    let html = gareth
        .get(format!("{}/incidents/{reference}", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Nothing was taken: the screen was a prank pop-up."));
    assert!(!html.contains("<script>alert(1)</script>"));
}

#[tokio::test]
async fn nis_applies_to_operators_of_essential_services_and_counts_once_significant() {
    let app = spawn_app().await.with_demo().await;
    let tom = app.enrolled(TOM).await;
    let reference = app.declare_at(&tom, "ransomware", "RJ1").await;
    let i = app.incident(&tom, &reference).await;
    let nis = ob(&i, "nis");
    assert!(nis.applies, "a trust is an operator of essential services");
    assert_eq!(
        nis.due_at, "",
        "no clock before the significant-impact questions"
    );
    assert!(!nis.overdue);
    let assess = |fields: Vec<(&'static str, &'static str)>| {
        let r = reference.clone();
        let (app, tom) = (&app, &tom);
        async move {
            let mut form = vec![("reference", r.as_str())];
            form.extend(fields);
            post(app, tom, "/api/incidents/lead/nis_impact", &form).await
        }
    };
    // Significant without a disrupted service, a made-up area, a wordy count: refused.
    for bad in [
        vec![("area", "organisation"), ("significant", "yes")],
        vec![
            ("service_disrupted", "on"),
            ("area", "the moon"),
            ("significant", "yes"),
        ],
        vec![
            ("service_disrupted", "on"),
            ("people_affected", "lots"),
            ("area", "site"),
            ("significant", "yes"),
        ],
        vec![
            ("service_disrupted", "on"),
            ("area", "site"),
            ("significant", "maybe"),
        ],
    ] {
        let (status, body) = assess(bad.clone()).await;
        assert_eq!(status, 422, "{bad:?}: {body}");
    }
    let (status, body) = assess(vec![
        ("service_disrupted", "on"),
        ("people_affected", "12,000"),
        ("hours", "36"),
        ("area", "organisation"),
        ("significant", "yes"),
    ])
    .await;
    assert_eq!(status, 200, "{body}");
    let i = app.incident(&tom, &reference).await;
    let nis = ob(&i, "nis");
    assert_eq!(nis.state, State::ToReport);
    assert!(!nis.due_at.is_empty());
    assert!(
        (72 * 60 - 2..=72 * 60).contains(&nis.minutes_left),
        "72 hours from the assessment: {}",
        nis.minutes_left
    );
    assert_eq!(nis.impact.as_ref().unwrap().people_affected, 12_000);
    assert!(
        i.timeline
            .last()
            .unwrap()
            .detail
            .contains("NIS impact assessed")
    );
    // Answers belong to NIS alone.
    let (status, _) = post(
        &app,
        &tom,
        "/api/incidents/lead/nis_impact",
        &[
            ("reference", reference.as_str()),
            ("service_disrupted", "on"),
            ("area", "site"),
            ("significant", "no"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let i = app.incident(&tom, &reference).await;
    assert_eq!(ob(&i, "nis").state, State::NotReportable);
    assert!(ob(&i, "nis").reassessed);
    assert_eq!(ob(&i, "nis").due_at, "");
}

#[tokio::test]
async fn a_national_admin_designates_an_independent_provider_and_nis_then_applies() {
    let app = spawn_app().await.with_demo().await;
    let designate = |client: reqwest::Client, code: &'static str, on: bool| {
        let app = &app;
        async move {
            let mut form = vec![("code", code)];
            if on {
                form.push(("designated", "on"));
            }
            post(app, &client, "/api/orgs/essential_service", &form).await
        }
    };
    let gareth = app.enrolled(GARETH).await;
    assert_eq!(designate(gareth.clone(), "G85054", true).await.0, 403);
    let ruth = app.enrolled(RUTH).await;
    assert_eq!(designate(ruth, "G85054", true).await.0, 403);
    let dana = app.enrolled(DANA).await;
    let (status, body) = designate(dana.clone(), "RJ1", false).await;
    assert_eq!(status, 422, "a trust is one by law: {body}");
    assert_eq!(designate(dana.clone(), "NOPE1", true).await.0, 404);
    let before = app.declare_at(&gareth, "system_down", "G85054").await;
    assert!(!ob(&app.incident(&gareth, &before).await, "nis").applies);
    let (status, body) = designate(dana.clone(), "G85054", true).await;
    assert_eq!(status, 200, "{body}");
    let audited = app.audit_rows("org_essential_service_set").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].subject.as_deref(), Some("G85054"));
    let after = app.declare_at(&gareth, "system_down", "G85054").await;
    assert!(ob(&app.incident(&gareth, &after).await, "nis").applies);
    // The organisation's page says so.
    let res = app
        .post_with(&dana, "/api/orgs/detail", &[("code", "G85054")])
        .await;
    let detail: app::domain::org::OrgDetail = res.json().await.unwrap();
    assert!(detail.essential_service && detail.can_designate);
}

#[tokio::test]
async fn the_dspt_grade_says_what_it_means_and_fills_the_article_33_report() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "data_breach").await;
    let gareth = app.enrolled(GARETH).await;
    let i = app.incident(&gareth, &reference).await;
    assert!(ob(&i, "ico").applies);
    assert!(i.dspt_text.contains("Not graded yet"), "{}", i.dspt_text);
    let grade = |likelihood: &'static str, severity: &'static str| {
        let r = reference.clone();
        let (app, gareth) = (&app, &gareth);
        async move {
            post(
                app,
                gareth,
                "/api/incidents/lead/dspt_grade",
                &[
                    ("reference", r.as_str()),
                    ("likelihood", likelihood),
                    ("severity", severity),
                    ("nature", "Discharge letters emailed to the wrong practice"),
                    ("categories", "Patients, including children"),
                    ("people", "120"),
                    ("records", "300"),
                    (
                        "consequences",
                        "Diagnoses seen by staff of another practice",
                    ),
                    (
                        "measures",
                        "Recall requested; email deleted at the other practice",
                    ),
                ],
            )
            .await
        }
    };
    assert_eq!(grade("9", "2").await.0, 422);
    assert_eq!(grade("three", "2").await.0, 422);
    assert_eq!(grade("3", "2").await.0, 200);
    let i = app.incident(&gareth, &reference).await;
    let ico = ob(&i, "ico");
    assert_eq!(ico.state, State::ToReport);
    assert!(ico.grade.as_deref().unwrap().contains("notify the ICO"));
    for want in [
        "Nature of the breach: Discharge letters emailed to the wrong practice",
        "People concerned: Patients, including children; about 120; records concerned: about 300",
        "Data protection officer or contact point: Meera Shah (data protection officer)",
        "Likely consequences: Diagnoses seen by staff of another practice",
        "Measures taken or proposed: Recall requested",
    ] {
        assert!(i.dspt_text.contains(want), "{want}\n{}", i.dspt_text);
    }
    // Below the threshold the ledger asks for the reason, not a report.
    assert_eq!(grade("2", "5").await.0, 200);
    let i = app.incident(&gareth, &reference).await;
    let ico = ob(&i, "ico");
    assert_eq!(ico.state, State::ToAssess);
    assert!(
        ico.grade
            .as_deref()
            .unwrap()
            .contains("Record why it is not reportable")
    );
    assert_eq!(ico.history.len(), 2, "both grades kept");
    // Grading is the DSPT's: refused on another obligation's form.
    let (status, _) = post(
        &app,
        &gareth,
        "/api/incidents/lead/not_reportable",
        &[
            ("reference", reference.as_str()),
            ("obligation", "ico"),
            (
                "reason",
                "No one outside the NHS saw it; recalled within the hour.",
            ),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        ob(&app.incident(&gareth, &reference).await, "ico").state,
        State::NotReportable
    );
}

#[tokio::test]
async fn the_regulator_overview_counts_obligations_missed_and_decided_late() {
    use app::domain::accountability::OverviewLine;
    let app = spawn_app().await.with_demo().await;
    let ruth = app.enrolled(RUTH).await;
    let overview = |client: reqwest::Client| {
        let app = &app;
        async move {
            let lines: Vec<OverviewLine> = app
                .post_with(&client, "/api/chart/overview", &[])
                .await
                .json()
                .await
                .unwrap();
            lines
                .into_iter()
                .map(|l| (l.org.code, (l.obligations_missed, l.obligations_late)))
                .collect::<std::collections::HashMap<_, _>>()
        }
    };
    let start = overview(ruth.clone()).await;
    assert_eq!(start["QKK"], (0, 0));
    // A practice knew three hours before it declared: the CSOC hour has passed.
    let nadia = app.signed_in_as(NADIA).await;
    let reference = app.declare(&nadia, "ransomware").await;
    let gareth = app.enrolled(GARETH).await;
    let earlier = typed(time::OffsetDateTime::now_utc() - time::Duration::hours(3));
    let (status, body) = post(
        &app,
        &gareth,
        "/api/incidents/lead/awareness",
        &[
            ("reference", reference.as_str()),
            ("aware_at", earlier.as_str()),
            ("reason", "Reception saw the ransom note at opening time."),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let i = app.incident(&gareth, &reference).await;
    assert!(ob(&i, "csoc").overdue);
    let now = overview(ruth.clone()).await;
    assert_eq!(now["QKK"], (1, 0), "the ICB above the practice");
    assert_eq!(now["Y56"], (1, 0), "and its region");
    // Reported now: no longer missed, but decided after the deadline.
    let (status, body) = post(
        &app,
        &gareth,
        "/api/incidents/lead/report",
        &[
            ("reference", reference.as_str()),
            ("body", "csoc"),
            ("their_reference", "CSOC-9"),
            ("purpose", "information"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(ob(&app.incident(&gareth, &reference).await, "csoc").late);
    let now = overview(ruth).await;
    assert_eq!(now["QKK"], (0, 1));
    // An incident that does not exist is not found, whoever asks.
    let (status, _) = post(
        &app,
        &gareth,
        "/api/incidents/lead/not_reportable",
        &[
            ("reference", "WL-NOPE"),
            ("obligation", "csoc"),
            ("reason", "x"),
        ],
    )
    .await;
    assert_eq!(status, 404);
}
