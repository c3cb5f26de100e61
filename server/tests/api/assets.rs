//! The asset catalogue: CSV import with a report of every refused line, support flags, the
//! export that imports back unchanged, and who may do what.

use std::collections::HashMap;

use app::domain::assets::{AssetDetail, AssetImportReport, Catalogue, DeclareOptions, Support};
use app::domain::breakglass::BreakGlassPack;
use app::domain::caf::{Outcome, Readiness, Status};

use crate::helpers::people::{GARETH, NADIA, SAM, TOM};
use crate::helpers::{TestApp, spawn_app};

const CSV: &str = "name,kind,owner_email,supplier_code,clinical_service,patient_safety_critical,os,os_version,end_of_support,site_code,depends_on\r
Reception PC 3,hardware,nadia.kowalski@demo.wardline.test,,Appointments,no,Windows,7,2020-01-14,,EMIS Web\r
EMIS Web,software,owen.fraser@demo.wardline.test,,GP clinical record,yes,,,,,\r
Pathology link,cloud,,SUP-SYNNOVIS,Blood results,yes,,,2099-01-01,,EMIS Web; Nonexistent\r
Toaster,appliance,,,,no,,,,,\r
Server,hardware,sam.whitfield@demo.wardline.test,,,no,,,,,\r
Fridge monitor,medical_device,,RJ1,Vaccines,yes,,,,,\r
";

#[tokio::test]
async fn a_csv_import_keeps_good_rows_reports_each_bad_one_and_flags_unsupported_systems() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let nadia = app.signed_in_as(NADIA).await;
    let form = [("org_code", "G85028"), ("csv", CSV)];
    assert_eq!(
        app.post_with(&nadia, "/api/manage/assets/import", &form)
            .await
            .status(),
        403,
        "staff read the catalogue; admins keep it"
    );
    let res = app
        .post_with(&gareth, "/api/manage/assets/import", &form)
        .await;
    assert_eq!(res.status(), 200);
    let report: AssetImportReport = res.json().await.unwrap();
    assert_eq!(report.added, 3);
    let rejected = &report.rejected;
    assert!(
        rejected
            .iter()
            .any(|(l, w)| *l == 4 && w.contains("no asset called “Nonexistent”")),
        "{rejected:?}"
    );
    assert!(
        rejected
            .iter()
            .any(|(l, w)| *l == 5 && w.starts_with("kind:"))
    );
    assert!(
        rejected
            .iter()
            .any(|(l, w)| *l == 6 && w.contains("is not someone holding a role"))
    );
    assert!(
        rejected
            .iter()
            .any(|(l, w)| *l == 7 && w.contains("RJ1 is not a supplier"))
    );

    let c = catalogue(&app, &nadia, "G85028").await;
    let assets = &c.assets;
    assert_eq!(assets.len(), 3);
    let pc = assets.iter().find(|a| a.name == "Reception PC 3").unwrap();
    assert_eq!(
        pc.support,
        Support::Unsupported,
        "Windows 7 out of support since 2020"
    );
    assert_eq!(pc.depends_on[0], "EMIS Web");
    assert_eq!(pc.owner.as_deref(), Some("Nadia Kowalski"));
    let link = assets.iter().find(|a| a.name == "Pathology link").unwrap();
    assert_eq!(link.supplier.as_deref(), Some("Synnovis"));
    assert_eq!(link.depends_on.len(), 1, "the unknown one left out");

    // The export imports back with nothing to change.
    let exported = nadia
        .get(format!("{}/export/assets.csv?org=G85028", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(exported.starts_with("name,kind,owner_email"));
    let again: AssetImportReport = app
        .post_with(
            &gareth,
            "/api/manage/assets/import",
            &[("org_code", "G85028"), ("csv", exported.as_str())],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 3));
    assert!(again.rejected.is_empty());

    // A wrong header changes nothing; another organisation sees nothing.
    let bad = app
        .post_with(
            &gareth,
            "/api/manage/assets/import",
            &[("org_code", "G85028"), ("csv", "a,b\n1,2\n")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let sam = app.signed_in_as(SAM).await;
    assert_eq!(
        app.post_with(&sam, "/api/assets/catalogue", &[("org_code", "G85028")])
            .await
            .status(),
        404
    );
    assert_eq!(
        sam.get(format!("{}/export/assets.csv?org=G85028", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

const LINKED_CSV: &str = "name,kind,owner_email,supplier_code,clinical_service,patient_safety_critical,os,os_version,end_of_support,site_code,depends_on\r
EMIS Web,software,owen.fraser@demo.wardline.test,,GP clinical record,yes,,,,,\r
Reception PC 3,hardware,nadia.kowalski@demo.wardline.test,,Appointments,no,Windows,7,2020-01-14,,EMIS Web\r
Pathology link,cloud,,SUP-SYNNOVIS,Blood results,yes,,,2099-01-01,,EMIS Web\r
";

/// The catalogue of `org_code` as the person signed in on `client` sees it.
async fn catalogue(app: &TestApp, client: &reqwest::Client, org_code: &str) -> Catalogue {
    let res = app
        .post_with(client, "/api/assets/catalogue", &[("org_code", org_code)])
        .await;
    assert_eq!(res.status(), 200, "{org_code}");
    res.json().await.unwrap()
}

/// The assets the declaration form offers, by name.
async fn ids_by_name(app: &TestApp, client: &reqwest::Client) -> HashMap<String, i64> {
    let res = app
        .post_with(client, "/api/incidents/declare_options", &[])
        .await;
    assert_eq!(res.status(), 200);
    let o: DeclareOptions = res.json().await.unwrap();
    o.assets.into_iter().map(|a| (a.name, a.id)).collect()
}

async fn incident_assets(app: &TestApp, client: &reqwest::Client, reference: &str) -> Vec<String> {
    app.incident(client, reference)
        .await
        .assets
        .into_iter()
        .map(|a| a.name)
        .collect()
}

#[tokio::test]
async fn incidents_name_the_assets_they_hit_and_assets_and_suppliers_show_them() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let nadia = app.signed_in_as(NADIA).await;
    for (org, csv) in [
        ("G85028", LINKED_CSV),
        (
            "QKK",
            "name,kind,owner_email,supplier_code,clinical_service,patient_safety_critical,os,os_version,end_of_support,site_code,depends_on\r\nICB laptop 7,hardware,,,,no,,,,,\r\n",
        ),
    ] {
        let res = app
            .post_with(
                &gareth,
                "/api/manage/assets/import",
                &[("org_code", org), ("csv", csv)],
            )
            .await;
        assert_eq!(res.status(), 200, "{org}");
    }
    // The declaration form offers the practice's own catalogue, and only that.
    let ids = ids_by_name(&app, &nadia).await;
    assert_eq!(ids.len(), 3, "{ids:?}");
    let (emis, pc, pathology) = (
        ids["EMIS Web"].to_string(),
        ids["Reception PC 3"].to_string(),
        ids["Pathology link"].to_string(),
    );
    let declare = |assets: Vec<(&'static str, String)>| {
        let (app, nadia) = (&app, &nadia);
        async move {
            let mut form: Vec<(&str, &str)> = vec![
                ("kind", "ransomware"),
                ("location", "Reception"),
                ("patients_affected", "unknown"),
                ("systems", "The label printer"),
            ];
            form.extend(assets.iter().map(|(k, v)| (*k, v.as_str())));
            app.post_with(nadia, "/api/incidents/declare", &form).await
        }
    };
    // Checkboxes post only what is ticked: indices with gaps, as a browser sends them.
    let res = declare(vec![("assets[0]", pc.clone()), ("assets[2]", emis.clone())]).await;
    assert_eq!(res.status(), 200);
    let reference: String = res.json().await.unwrap();
    assert_eq!(
        incident_assets(&app, &nadia, &reference).await,
        ["EMIS Web", "Reception PC 3"]
    );

    // Someone else's asset is refused with a reason, and nothing is declared.
    let laptop = catalogue(&app, &gareth, "QKK").await.assets[0]
        .id
        .to_string();
    let before = app.incident_list(&nadia).await;
    let res = declare(vec![("assets[0]", laptop)]).await;
    // An asset of another organisation is as if it did not exist.
    assert_eq!(res.status(), 404);
    let after = app.incident_list(&nadia).await;
    assert_eq!(before.len(), after.len(), "nothing declared");

    // Leads link more as they learn; staff cannot, and a second link is refused.
    let link = [
        ("reference", reference.as_str()),
        ("asset_id", pathology.as_str()),
    ];
    assert_eq!(
        app.post_with(&nadia, "/api/incidents/lead/asset", &link)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.post_with(&gareth, "/api/incidents/lead/asset", &link)
            .await
            .status(),
        200
    );
    let again = app
        .post_with(&gareth, "/api/incidents/lead/asset", &link)
        .await;
    assert_eq!(again.status(), 422);
    assert_eq!(incident_assets(&app, &nadia, &reference).await.len(), 3);

    // The asset's page lists the incident and what needs it.
    let detail: AssetDetail = app
        .post_with(&nadia, "/api/assets/get", &[("id", emis.as_str())])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail.incidents[0].reference, reference);
    let needed_by: Vec<&str> = detail.needed_by.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(needed_by, ["Pathology link", "Reception PC 3"]);

    // The supplier's page lists every asset, and so every organisation, depending on it.
    let synnovis = catalogue(&app, &gareth, "SUP-SYNNOVIS").await;
    let supplied = &synnovis.supplied;
    assert_eq!(supplied.len(), 1, "{supplied:?}");
    assert_eq!(supplied[0].name, "Pathology link");
    assert_eq!(supplied[0].org_code, "G85028");
    let page = gareth
        .get(format!("{}/orgs/SUP-SYNNOVIS/assets", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Depending on"), "rendered on the server");
    assert!(page.contains("Pathology link"));
}

#[tokio::test]
async fn the_break_glass_pack_is_rendered_whole_for_its_organisation_and_no_one_else() {
    let app = spawn_app().await.with_demo().await;
    let nadia = app.signed_in_as(NADIA).await;
    let html = nadia
        .get(format!("{}/orgs/G85028/break-glass", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "Break-glass pack: Stockwell Group Practice",
        "Gareth Lloyd",
        "If nobody answers",
        "Ransomware",
        "Do this now",
        "/break-glass-sw.js",
    ] {
        assert!(html.contains(expected), "{expected} missing");
    }
    // The version is the data's change generation: a change makes the next pack newer.
    let pack = |c: reqwest::Client| {
        let app = &app;
        async move {
            let res = app
                .post_with(&c, "/api/breakglass/pack", &[("org_code", "G85028")])
                .await;
            (
                res.status().as_u16(),
                res.json::<BreakGlassPack>().await.ok(),
            )
        }
    };
    let (status, first) = pack(nadia.clone()).await;
    assert_eq!(status, 200);
    let first = first.unwrap();
    assert!(first.contacts.len() > 3);
    assert_eq!(
        first.runbooks.len(),
        app::domain::incidents::IncidentKind::ALL.len()
    );
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.db,
        "UPDATE person SET display_name = display_name WHERE id = 1",
    )
    .await
    .unwrap();
    let (_, second) = pack(nadia.clone()).await;
    assert!(second.unwrap().version > first.version);
    // Someone at another trust cannot read it.
    let tom = app.signed_in_as(TOM).await;
    let (status, _) = pack(tom).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn caf_readiness_is_judged_from_the_records_rolled_up_and_exported() {
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let readiness = |code: &'static str| {
        let (app, gareth) = (&app, gareth.clone());
        async move {
            let res = app
                .post_with(&gareth, "/api/caf/readiness", &[("org_code", code)])
                .await;
            assert_eq!(res.status(), 200);
            res.json::<Readiness>().await.unwrap()
        }
    };
    let outcome = |r: &Readiness, org: usize, id: &str| -> Outcome {
        r.orgs[org]
            .outcomes
            .iter()
            .find(|o| o.id == id)
            .unwrap()
            .clone()
    };
    let before = readiness("G85028").await;
    assert_eq!(before.orgs.len(), 1);
    assert_eq!(
        outcome(&before, 0, "A3.a").status,
        Status::Not,
        "no catalogue yet"
    );
    assert_eq!(
        outcome(&before, 0, "D1.c").status,
        Status::Not,
        "no exercise yet"
    );
    assert_eq!(outcome(&before, 0, "D2.a").status, Status::Not);
    assert_eq!(outcome(&before, 0, "D2.b").status, Status::Not);
    // The NHS CAF's own outcome names, in its order.
    let ids: Vec<&str> = before.orgs[0]
        .outcomes
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "A1.a", "A1.b", "A3.a", "A4.a", "D1.a", "D1.b", "D1.c", "D2.a", "D2.b"
        ]
    );
    // Nobody in the demo tree holds the IG lead role, so one breach step reaches nobody.
    let d1a = outcome(&before, 0, "D1.a");
    assert_eq!(d1a.status, Status::Partially, "{d1a:?}");
    assert!(
        d1a.evidence
            .iter()
            .any(|e| e.contains("Personal data breach")),
        "{d1a:?}"
    );

    // The catalogue, with an unsupported machine: partially.
    let res = app
        .post_with(
            &gareth,
            "/api/manage/assets/import",
            &[("org_code", "G85028"), ("csv", LINKED_CSV)],
        )
        .await;
    assert_eq!(res.status(), 200);
    // A communications test held now: in cadence for that kind, the others overdue.
    let res = app
        .post_with(
            &gareth,
            "/api/incidents/lead/exercise",
            &[
                ("org_code", "G85028"),
                ("kind", "ransomware"),
                ("exercise", "communications"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let reference: String = res.json().await.unwrap();
    let res = app
        .post_with(
            &gareth,
            "/api/incidents/lead/review",
            &[
                ("reference", reference.as_str()),
                ("what_happened", "Call tree tested."),
                ("went_well", "Everyone answered."),
                ("lessons", "One number was out of date."),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let after = readiness("G85028").await;
    let a3a = outcome(&after, 0, "A3.a");
    assert_eq!(a3a.status, Status::Partially);
    assert!(
        a3a.evidence.iter().any(|e| e.contains("Reception PC 3")),
        "{a3a:?}"
    );
    assert_eq!(outcome(&after, 0, "D1.c").status, Status::Partially);
    for id in ["D2.a", "D2.b"] {
        assert_eq!(
            outcome(&after, 0, id).status,
            Status::Achieved,
            "{:?}",
            outcome(&after, 0, id)
        );
    }

    // The ICB sees itself and the organisations below, rolled up.
    let icb = readiness("QKK").await;
    let orgs = &icb.orgs;
    assert!(orgs.len() > 1);
    let d2 = orgs[0].rollup.iter().find(|r| r.0 == "D2.a").unwrap();
    assert_eq!(
        d2.1 + d2.2 + d2.3,
        orgs.len(),
        "every organisation counted once"
    );
    assert!(d2.3 >= 1, "the practice achieves D2.a");
    assert_eq!(d2.2, 0, "D2.a is never partially achieved");

    // CSV: a line per organisation and outcome.
    let csv = gareth
        .get(format!("{}/export/caf.csv?org=QKK", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("org_code,org_name,outcome,title,status,reason,evidence,generated"));
    assert_eq!(
        csv.lines().count(),
        1 + orgs.len() * app::domain::caf::OUTCOMES.len()
    );
    assert!(
        csv.contains("G85028,Stockwell Group Practice,A3.a,Asset management,Partially achieved")
    );

    // A supplier has no board: the roles it must name stand for it (Chris is its security
    // incident contact), so A1.a is judged on those rather than failing for want of a board.
    let dana = app.enrolled(crate::helpers::people::DANA).await;
    let res = app
        .post_with(&dana, "/api/caf/readiness", &[("org_code", "SUP-SYNNOVIS")])
        .await;
    assert_eq!(res.status(), 200);
    let supplier: Readiness = res.json().await.unwrap();
    let a1a = outcome(&supplier, 0, "A1.a");
    assert_ne!(a1a.status, Status::Not, "{a1a:?}");
    assert!(
        a1a.evidence
            .iter()
            .any(|e| e.starts_with("1 of 1 accountable roles held")),
        "{a1a:?}"
    );

    // Someone at another trust cannot read the practice's readiness.
    let tom = app.signed_in_as(TOM).await;
    let res = app
        .post_with(&tom, "/api/caf/readiness", &[("org_code", "G85028")])
        .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn a_real_incident_reviewed_with_lessons_stands_in_for_the_live_exercise() {
    use app::domain::incidents::{ExerciseKind, Exercises};
    let app = spawn_app().await.with_demo().await;
    let gareth = app.enrolled(GARETH).await;
    let nadia = app.signed_in_as(NADIA).await;
    let cadence = || {
        let (app, gareth) = (&app, gareth.clone());
        async move {
            let x: Exercises = app
                .post_with(&gareth, "/api/exercises/list", &[("org_code", "G85028")])
                .await
                .json()
                .await
                .unwrap();
            x.cadence
        }
    };
    let before = cadence().await;
    let live = before
        .iter()
        .find(|c| c.kind == ExerciseKind::Live)
        .unwrap();
    assert!(live.overdue && live.last.is_none(), "{live:?}");
    let command_post = before
        .iter()
        .find(|c| c.kind == ExerciseKind::CommandPost)
        .expect("the command-post exercise is in the EPRR cadence");
    assert_eq!(command_post.every_months, 36);
    assert!(command_post.overdue, "never held");

    let real = app.declare(&nadia, "ransomware").await;
    let unreviewed = cadence().await;
    assert!(
        unreviewed
            .iter()
            .find(|c| c.kind == ExerciseKind::Live)
            .unwrap()
            .overdue,
        "a real incident without a review is not an exercise"
    );
    let res = app
        .post_with(
            &gareth,
            "/api/incidents/lead/review",
            &[
                ("reference", real.as_str()),
                (
                    "what_happened",
                    "A phishing email ran the payload on one PC.",
                ),
                ("went_well", "The PC was unplugged within minutes."),
                ("lessons", "Block macros from the internet."),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let after = cadence().await;
    let live = after.iter().find(|c| c.kind == ExerciseKind::Live).unwrap();
    assert!(!live.overdue, "{live:?}");
    assert_eq!(
        live.last.as_ref().map(|l| l.0.as_str()),
        Some(real.as_str())
    );
    // The table-top is not stood in for: only the live exercise is.
    assert!(
        after
            .iter()
            .find(|c| c.kind == ExerciseKind::Tabletop)
            .unwrap()
            .overdue
    );
}
